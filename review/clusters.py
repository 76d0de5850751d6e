"""Deduplicated groups of records, kept in the event log.

A deduplication run (review.dedup, pure functions) finds pairs; this module
stores them with the run's event and derives the current clusters from:

    the latest run's auto-merge pairs              (joined, strongest first)
  + reviewers' "same" decisions                    (always joined)
  - reviewers' "different" decisions and splits    (never in one cluster)
  - the run's conflict pairs (two DOIs, erratum vs article, part 1 vs 2, ...)

Nothing is deleted: a split or a reversed decision is one more event, the
latest decision on a pair wins, and a manual "different" is never merged again
automatically, by this run or any later one.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sqlalchemy import func, insert, select

from review import store
from review.dedup import AUTO_MERGE, NEEDS_REVIEW, Thresholds, find_duplicates
from review.dedup.cluster import cluster

if TYPE_CHECKING:
    from review.project import Review

SAME, DIFFERENT, SKIP = "same", "different", "skip"
PAIR_DECISIONS = (SAME, DIFFERENT, SKIP)
RUN_EVENT, DECISION_EVENT, SPLIT_EVENT = "dedup.run", "dedup.decision", "dedup.split"
_COMPLETENESS = ("title", "journal", "volume", "issue", "pages", "doi", "pmid", "abstract", "url")
_INSERT_CHUNK = 5000


class DedupError(ValueError):
    pass


@dataclass
class DedupSummary:
    """Counts after a run or at any time since: what `review dedupe` prints."""

    records: int
    clusters: int
    duplicates: int
    auto_merged: int
    needs_review: int
    pending_review: int
    decided_same: int
    decided_different: int
    unchecked_records: int  # imported after the latest run
    run_id: int | None

    def to_dict(self) -> dict:
        return asdict(self)


def thresholds_from_protocol(settings: dict) -> Thresholds:
    # Names were checked when the protocol was opened (review.protocol).
    return Thresholds(**settings)


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


# --- running -----------------------------------------------------------------------


def run(review: "Review", who: str, thresholds: Thresholds | None = None, progress: bool = True) -> DedupSummary:
    """Deduplicate every record; store the run's pairs and return the counts."""
    thresholds = thresholds or thresholds_from_protocol(review.protocol.dedup)
    records = review.records_frame()
    decisions = _manual_decisions(review.engine)
    frame = records.assign(record_id=records["record_id"].astype(str)) if not records.empty else records
    result = find_duplicates(
        frame, thresholds, progress=progress,
        different_pairs=[(str(a), str(b)) for (a, b), d in decisions.items() if d == DIFFERENT],
        same_pairs=[(str(a), str(b)) for (a, b), d in decisions.items() if d == SAME],
    )
    pairs = result.pairs
    keep = pairs["decision"].isin([AUTO_MERGE, NEEDS_REVIEW])
    if "conflict" in pairs.columns:
        keep |= pairs["conflict"].astype(bool)
    pairs = pairs[keep]
    sim_columns = [c for c in pairs.columns if c.startswith("sim_")]
    found = {
        (int(row["record_id_a"]), int(row["record_id_b"])): {
            "score": float(row["score"]),
            "decision": row["decision"],
            "conflict": int(bool(row.get("conflict", False))),
            "reason": str(row["reason"]),
            "similarities": json.dumps(
                {c[4:]: (None if _missing(row[c]) else float(row[c])) for c in sim_columns}),
        }
        for row in pairs.to_dict("records")
    }
    with store.write_transaction(review.engine) as conn:
        # Only what changed since the run before is stored (a new or changed pair,
        # or a GONE row for a pair no longer found), so re-running on unchanged
        # records adds no rows; run_pairs rebuilds a run's full set from the chain.
        before = _pair_rows(conn, _latest_run(conn))
        run_id = store.append_event(
            conn, who, RUN_EVENT,
            {"thresholds": thresholds.to_dict(), "counts": result.counts, "pairs_stored": DELTA,
             "seconds": {k: round(v, 3) for k, v in result.seconds.items()}},
            entity="dedup",
        )
        rows = [{"run_event_id": run_id, "record_a": a, "record_b": b, **values}
                for (a, b), values in found.items() if before.get((a, b)) != values]
        rows += [{"run_event_id": run_id, "record_a": a, "record_b": b, "score": 0.0, "decision": GONE,
                  "conflict": 0, "reason": "", "similarities": "{}"}
                 for (a, b) in before if (a, b) not in found]
        for start in range(0, len(rows), _INSERT_CHUNK):
            conn.execute(insert(store.dedup_pairs), rows[start:start + _INSERT_CHUNK])
    return summary(review)


# How a run's pairs are stored: runs before this existed stored every pair; a
# DELTA run stores the changes from the run before, with GONE for a pair that
# disappeared.
DELTA, GONE = "delta", "gone"
_PAIR_VALUES = ("score", "decision", "conflict", "reason", "similarities")


def _pair_rows(conn, run_id: int | None) -> dict[tuple[int, int], dict]:
    """(a, b) -> stored values, for every pair of run `run_id` (delta runs resolved)."""
    if run_id is None:
        return {}
    runs = conn.execute(select(store.events.c.id, store.events.c.payload)
                        .where(store.events.c.kind == RUN_EVENT, store.events.c.id <= run_id)
                        .order_by(store.events.c.id.desc())).all()
    base = run_id
    for rid, payload in runs:  # back to the last run that stored all its pairs
        base = rid
        if json.loads(payload).get("pairs_stored") != DELTA:
            break
    query = (select(store.dedup_pairs)
             .where(store.dedup_pairs.c.run_event_id >= base, store.dedup_pairs.c.run_event_id <= run_id)
             .order_by(store.dedup_pairs.c.id))
    latest: dict[tuple[int, int], dict] = {}
    for row in conn.execute(query).mappings():
        latest[(row["record_a"], row["record_b"])] = dict(row)
    return {pair: {k: row[k] for k in _PAIR_VALUES} for pair, row in latest.items() if row["decision"] != GONE}


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- reviewers' decisions -------------------------------------------------------------


def decide(review: "Review", a: int, b: int, decision: str, who: str, note: str = "") -> int:
    """Record a reviewer's decision on a pair; takes effect at once. Returns the event id."""
    if decision not in PAIR_DECISIONS:
        raise DedupError(f"decision must be one of {', '.join(PAIR_DECISIONS)}, not {decision!r}")
    a, b = _pair(int(a), int(b))
    if a == b:
        raise DedupError("a record cannot be paired with itself")
    with store.write_transaction(review.engine) as conn:
        known = conn.execute(select(func.count()).select_from(store.records)
                             .where(store.records.c.id.in_([a, b]))).scalar_one()
        if known != 2:
            raise DedupError(f"no such record: {a if known == 0 else 'one of ' + str((a, b))}")
        return store.append_event(conn, who, DECISION_EVENT, {"a": a, "b": b, "decision": decision, "note": note},
                                  entity="pair", entity_id=f"{a}-{b}")


def split(review: "Review", record_id: int, who: str, note: str = "") -> list[int]:
    """Undo a merge: take a record out of its cluster for good.

    Marks the record different from every other member, so neither this run
    nor a later one joins them again; returns the members it was split from.
    """
    record_id = int(record_id)
    clusters = current_clusters(review.engine)
    home = clusters.get(record_id)
    if home is None:
        raise DedupError(f"no such record: {record_id}")
    others = sorted(r for r, c in clusters.items() if c == home and r != record_id)
    if not others:
        return []
    with store.write_transaction(review.engine) as conn:
        store.append_event(conn, who, SPLIT_EVENT,
                           {"record_id": record_id, "from": others, "note": note},
                           entity="record", entity_id=record_id)
    return others


def _manual_decisions(engine) -> dict[tuple[int, int], str]:
    """Latest reviewer decision per pair (splits count as "different")."""
    latest: dict[tuple[int, int], str] = {}
    with store.read_connection(engine) as conn:
        query = (select(store.events.c.kind, store.events.c.payload)
                 .where(store.events.c.kind.in_([DECISION_EVENT, SPLIT_EVENT])).order_by(store.events.c.id))
        for kind, payload in conn.execute(query):
            data = json.loads(payload)
            if kind == DECISION_EVENT:
                latest[_pair(data["a"], data["b"])] = data["decision"]
            else:
                for other in data["from"]:
                    latest[_pair(data["record_id"], other)] = DIFFERENT
    return {pair: d for pair, d in latest.items() if d != SKIP}


# --- deriving the current state -----------------------------------------------------------


def _latest_run(conn) -> int | None:
    return conn.execute(select(func.max(store.events.c.id)).where(store.events.c.kind == RUN_EVENT)).scalar()


def run_pairs(engine, run_id: int | None = None) -> pd.DataFrame:
    """The pairs a run stored (the latest run by default)."""
    with store.read_connection(engine) as conn:
        run_id = run_id or _latest_run(conn)
        if run_id is None:
            return pd.DataFrame(columns=["record_a", "record_b", "score", "decision", "conflict", "reason",
                                         "similarities"])
        pairs = _pair_rows(conn, run_id)
    frame = pd.DataFrame([{"run_event_id": run_id, "record_a": a, "record_b": b, **values}
                          for (a, b), values in pairs.items()],
                         columns=["run_event_id", "record_a", "record_b", "score", "decision", "conflict",
                                  "reason", "similarities"])
    frame["similarities"] = frame["similarities"].map(json.loads)
    return frame


def current_clusters(engine) -> dict[int, int]:
    """record id -> cluster id (the id of the cluster's primary, most complete record)."""
    with store.read_connection(engine) as conn:
        recs = conn.execute(select(store.records.c.id, store.records.c.authors,
                                   *[store.records.c[c] for c in _COMPLETENESS], store.records.c.year)
                            .order_by(store.records.c.id)).all()
    if not recs:
        return {}
    ids = [r.id for r in recs]
    position = {rid: i for i, rid in enumerate(ids)}
    completeness = np.array(
        [sum(1 for c in _COMPLETENESS if getattr(r, c)) + (r.year is not None) + (r.authors != "[]") for r in recs],
        dtype=np.int64)
    pairs = run_pairs(engine)
    manual = _manual_decisions(engine)
    merges = pairs[(pairs["decision"] == AUTO_MERGE)].sort_values("score", ascending=False, kind="stable")
    merge_list = [(position[a], position[b]) for a, b in zip(merges["record_a"], merges["record_b"])
                  if a in position and b in position and manual.get(_pair(a, b)) != DIFFERENT]
    conflicting = pairs[pairs["conflict"].astype(bool)]
    # The scorer's conflicts stop automatic merges; a reviewer's "same" may still join them.
    conflicts = [(position[a], position[b]) for a, b in zip(conflicting["record_a"], conflicting["record_b"])
                 if a in position and b in position]
    cannot = [(position[a], position[b]) for (a, b), d in manual.items()
              if d == DIFFERENT and a in position and b in position]
    must = [(position[a], position[b]) for (a, b), d in manual.items()
            if d == SAME and a in position and b in position]
    result = cluster(len(ids), merge_list, cannot, completeness, must_link=must, conflicts=conflicts)
    return {rid: ids[int(primary)] for rid, primary in zip(ids, result.root)}


def review_queue(engine, pending_only: bool = True) -> pd.DataFrame:
    """Needs-review pairs of the latest run, most similar first, with the latest decision."""
    pairs = run_pairs(engine)
    pairs = pairs[pairs["decision"] == NEEDS_REVIEW].copy()
    manual = _manual_decisions(engine)
    pairs["reviewer_decision"] = [manual.get(_pair(a, b), "") for a, b in zip(pairs["record_a"], pairs["record_b"])]
    if pending_only:
        pairs = pairs[pairs["reviewer_decision"] == ""]
    return pairs.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def queue_frame(review: "Review", pending_only: bool = True) -> pd.DataFrame:
    """The review queue as a table a person can read: both titles, years, score and reason."""
    queue = review_queue(review.engine, pending_only=pending_only)
    records = review.records_frame().set_index("record_id")
    columns = ["record_a", "record_b", "score", "reason", "title_a", "title_b", "year_a", "year_b",
               "reviewer_decision"]
    if queue.empty:
        return pd.DataFrame(columns=columns)
    for side in ("a", "b"):
        picked = records.loc[queue[f"record_{side}"]]
        queue[f"title_{side}"] = picked["title"].to_numpy()
        queue[f"year_{side}"] = picked["year"].to_numpy()
    return queue[columns]


def summary(review: "Review") -> DedupSummary:
    engine = review.engine
    clusters = current_clusters(engine)
    pairs = run_pairs(engine)
    manual = _manual_decisions(engine)
    with store.read_connection(engine) as conn:
        run_id = _latest_run(conn)
        unchecked = 0
        if run_id is not None:
            counts = json.loads(conn.execute(select(store.events.c.payload)
                                             .where(store.events.c.id == run_id)).scalar_one())["counts"]
            unchecked = len(clusters) - counts.get("records", 0)
    n_clusters = len(set(clusters.values()))
    needs = pairs[pairs["decision"] == NEEDS_REVIEW]
    pending = sum(1 for a, b in zip(needs["record_a"], needs["record_b"]) if _pair(a, b) not in manual)
    return DedupSummary(
        records=len(clusters), clusters=n_clusters, duplicates=len(clusters) - n_clusters,
        auto_merged=int((pairs["decision"] == AUTO_MERGE).sum()), needs_review=len(needs),
        pending_review=pending,
        decided_same=sum(1 for d in manual.values() if d == SAME),
        decided_different=sum(1 for d in manual.values() if d == DIFFERENT),
        unchecked_records=max(unchecked, 0), run_id=run_id,
    )
