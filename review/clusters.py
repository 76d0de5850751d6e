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

import pandas as pd
from sqlalchemy import func, insert, select

from review import events, store
from review.dedup import AUTO_MERGE, NEEDS_REVIEW, Thresholds, find_duplicates
from review.errors import WorkbenchError
from review.readmodel import COMPLETENESS, ReadModel

if TYPE_CHECKING:
    from review.project import Review

SAME, DIFFERENT, SKIP = "same", "different", "skip"
PAIR_DECISIONS = (SAME, DIFFERENT, SKIP)
RUN_EVENT, DECISION_EVENT, SPLIT_EVENT = events.DedupRun.kind, events.PairDecision.kind, events.ClusterSplit.kind
_COMPLETENESS = COMPLETENESS
_INSERT_CHUNK = 5000


class DedupError(WorkbenchError, ValueError):
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


def _model(source) -> ReadModel:
    """The read model of a Review (cached), or a fresh one for a bare engine."""
    if hasattr(source, "read_model"):
        return source.read_model()
    return ReadModel(source).refresh()


def _engine(source):
    return getattr(source, "engine", source)


# --- running -----------------------------------------------------------------------


def run(review: "Review", who: str, thresholds: Thresholds | None = None, progress: bool = True) -> DedupSummary:
    """Deduplicate every record; store the run's pairs and return the counts."""
    thresholds = thresholds or thresholds_from_protocol(review.protocol.dedup)
    records = review.records_frame()
    decisions = _manual_decisions(review)
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
    with store.write_transaction(review.engine) as conn:
        run_id = events.append(conn, who, events.DedupRun(
            thresholds=thresholds.to_dict(), counts=result.counts,
            seconds={k: round(v, 3) for k, v in result.seconds.items()}))
        rows = [
            {
                "run_event_id": run_id,
                "record_a": int(row["record_id_a"]),
                "record_b": int(row["record_id_b"]),
                "score": float(row["score"]),
                "decision": row["decision"],
                "conflict": int(bool(row.get("conflict", False))),
                "reason": str(row["reason"]),
                "similarities": json.dumps(
                    {c[4:]: (None if _missing(row[c]) else float(row[c])) for c in sim_columns}),
            }
            for row in pairs.to_dict("records")
        ]
        for start in range(0, len(rows), _INSERT_CHUNK):
            conn.execute(insert(store.dedup_pairs), rows[start:start + _INSERT_CHUNK])
    return summary(review)


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
        return events.append(conn, who, events.PairDecision(a, b, decision, note))


def split(review: "Review", record_id: int, who: str, note: str = "") -> list[int]:
    """Undo a merge: take a record out of its cluster for good.

    Marks the record different from every other member, so neither this run
    nor a later one joins them again; returns the members it was split from.
    """
    record_id = int(record_id)
    clusters = current_clusters(review)
    home = clusters.get(record_id)
    if home is None:
        raise DedupError(f"no such record: {record_id}")
    others = sorted(r for r, c in clusters.items() if c == home and r != record_id)
    if not others:
        return []
    with store.write_transaction(review.engine) as conn:
        events.append(conn, who, events.ClusterSplit(record_id, tuple(others), note))
    return others


def _manual_decisions(source) -> dict[tuple[int, int], str]:
    """Latest reviewer decision per pair (splits count as "different"), from the read model."""
    return _model(source).manual_decisions()


# --- deriving the current state -----------------------------------------------------------


def run_pairs(source, run_id: int | None = None) -> pd.DataFrame:
    """The pairs a run stored (the latest run by default); `source` is a Review or an engine."""
    run_id = run_id or _model(source).latest_run
    with store.read_connection(_engine(source)) as conn:
        if run_id is None:
            return pd.DataFrame(columns=["record_a", "record_b", "score", "decision", "conflict", "reason",
                                         "similarities"])
        rows = conn.execute(select(store.dedup_pairs).where(store.dedup_pairs.c.run_event_id == run_id)
                            .order_by(store.dedup_pairs.c.id)).mappings().all()
    frame = pd.DataFrame([dict(r) for r in rows],
                         columns=["id", "run_event_id", "record_a", "record_b", "score", "decision", "conflict",
                                  "reason", "similarities"])
    frame["similarities"] = frame["similarities"].map(json.loads)
    return frame


def current_clusters(source) -> dict[int, int]:
    """record id -> cluster id (the id of the cluster's primary, most complete record).

    `source` is a Review (its read model keeps the answer until the clusters change)
    or an engine.
    """
    return dict(_model(source).clusters())


def review_queue(source, pending_only: bool = True) -> pd.DataFrame:
    """Needs-review pairs of the latest run, most similar first, with the latest decision."""
    pairs = run_pairs(source)
    pairs = pairs[pairs["decision"] == NEEDS_REVIEW].copy()
    manual = _manual_decisions(source)
    pairs["reviewer_decision"] = [manual.get(_pair(a, b), "") for a, b in zip(pairs["record_a"], pairs["record_b"])]
    if pending_only:
        pairs = pairs[pairs["reviewer_decision"] == ""]
    return pairs.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)


def queue_frame(review: "Review", pending_only: bool = True) -> pd.DataFrame:
    """The review queue as a table a person can read: both titles, years, score and reason."""
    queue = review_queue(review, pending_only=pending_only)
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
    model = review.read_model()
    clusters = model.clusters()
    pairs = run_pairs(review)
    manual = model.manual_decisions()
    run_id = model.latest_run
    unchecked = 0
    if run_id is not None:
        unchecked = len(clusters) - model.run_counts.get("records", 0)
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
