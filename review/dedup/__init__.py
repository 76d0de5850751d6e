"""Deduplication of bibliographic records: pure functions, no database.

    result = find_duplicates(records)           # records: one row per record
    result.clusters["rec-17"]  -> "rec-4"       # cluster id = primary record's id
    result.pairs                                # one row per compared pair worth showing
    result.review_pairs()                       # what a person should look at

The pipeline has one module per stage:

    prepare.py  per-field keys and trap flags (erratum, part 2, appendix, ...)
    block.py    candidate pairs from several independent blocking passes
    score.py    field similarities, a score, and a decision with its reason
    cluster.py  union-find over auto-merge pairs, honouring cannot-links

Stage 1 (same DOI or PMID, title agreeing) and stage 2 (blocking and fuzzy
fields) both run inside `find_duplicates`; the `reason` column says which
rule decided each pair.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
import pandas as pd

from review.dedup.block import PASS_COUNT, BlockingOptions, candidate_pairs
from review.dedup.cluster import cluster
from review.dedup.prepare import flag_names, prepare_records
from review.dedup.score import (
    AUTO_MERGE,
    DECISIONS,
    DISTINCT,
    NEEDS_REVIEW,
    SIMILARITY_FIELDS,
    Thresholds,
    score_pairs,
)

__all__ = [
    "find_duplicates", "DedupResult", "Thresholds", "BlockingOptions", "prepare_records",
    "AUTO_MERGE", "NEEDS_REVIEW", "DISTINCT", "DECISIONS", "SIMILARITY_FIELDS", "PAIR_COLUMNS",
]

PAIR_COLUMNS = (
    ("record_id_a", "record_id_b", "score", "decision", "reason", "conflict", "blocking_pass")
    + tuple(f"sim_{f}" for f in SIMILARITY_FIELDS)
)


@dataclass
class DedupResult:
    """What `find_duplicates` found.

    pairs     one row per compared pair that is a merge, worth reviewing, or a
              conflict (all compared pairs with include_distinct=True):
              PAIR_COLUMNS, similarities in [0, 1] or NaN when a field is
              missing on a side. `conflict` marks pairs that are different
              works (two DOIs, erratum vs article, part 1 vs 2, years apart):
              they were kept apart in clustering and should stay apart in any
              later re-clustering (cannot-links).
    clusters  record_id -> cluster_id for every record; cluster_id is the
              record_id of the cluster's primary (most complete) record.
    counts    numbers for a log or PRISMA: records, candidate_pairs,
              compared_pairs, auto_merge, needs_review, clusters,
              duplicates (records that are not primary), refused_merges.
    flags     record_id -> trap flags found (e.g. ["erratum"]), only records with any.
    seconds   wall time per stage.
    """

    pairs: pd.DataFrame
    clusters: dict[str, str]
    counts: dict[str, int]
    flags: dict[str, list[str]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def review_pairs(self) -> pd.DataFrame:
        """Pairs for a person to decide, most similar first."""
        review = self.pairs[self.pairs["decision"] == NEEDS_REVIEW]
        return review.sort_values("score", ascending=False, kind="stable").reset_index(drop=True)

    def merge_pairs(self) -> pd.DataFrame:
        return self.pairs[self.pairs["decision"] == AUTO_MERGE].reset_index(drop=True)

    def duplicate_groups(self) -> list[list[str]]:
        """Clusters with more than one record, primary record first."""
        groups: dict[str, list[str]] = {}
        for record_id, cluster_id in self.clusters.items():
            groups.setdefault(cluster_id, []).append(record_id)
        result = []
        for cluster_id, members in groups.items():
            if len(members) > 1:
                result.append([cluster_id] + [m for m in members if m != cluster_id])
        return result


def _pair_positions(pairs: Iterable[tuple], position: dict[str, int]) -> list[tuple[int, int]]:
    """Row positions of (record_id, record_id) pairs; pairs naming unknown records are ignored."""
    result = []
    for pair in pairs:
        a, b = (str(x) for x in tuple(pair)[:2])
        if a in position and b in position and a != b:
            result.append((position[a], position[b]))
    return result


def _progress_bar(enabled: bool, total: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="deduplicating", unit="step", leave=False)


def find_duplicates(
    records: pd.DataFrame,
    thresholds: Thresholds = Thresholds(),
    different_pairs: Iterable[tuple[str, str]] = (),
    progress: bool = True,
    *,
    same_pairs: Iterable[tuple[str, str]] = (),
    blocking: BlockingOptions = BlockingOptions(),
    include_distinct: bool = False,
) -> DedupResult:
    """Find duplicate records and group them into clusters.

    records          DataFrame, one row per record: `record_id` (unique) and any of
                     the Reference display fields (title, authors as list[str],
                     year, journal, volume, issue, pages, doi, pmid, url, type,
                     publisher, abstract, notes). Missing columns count as empty.
    thresholds       decision cut-offs; the defaults are tuned for no false merges.
    different_pairs  (record_id, record_id) pairs a reviewer marked different:
                     never in one cluster, directly or through other records.
    same_pairs       pairs a reviewer confirmed as duplicates: always joined
                     (unless that would join a different_pair).
    progress         show a tqdm progress bar.
    include_distinct keep compared pairs decided "distinct" in `pairs` too.
    """
    started = time.perf_counter()
    seconds: dict[str, float] = {}
    records = records if records is not None else pd.DataFrame({"record_id": []})
    n = len(records)
    bar = _progress_bar(progress and n > 0, PASS_COUNT + 4)

    prepared = prepare_records(records)
    record_ids = prepared["record_id"].tolist()
    position = {rid: i for i, rid in enumerate(record_ids)}
    seconds["prepare"] = time.perf_counter() - started
    if bar is not None:
        bar.update(1)

    mark = time.perf_counter()
    candidates = candidate_pairs(prepared, blocking, progress=bar)
    left, right, passes = candidates.left, candidates.right, candidates.passes
    # Reviewer decisions are compared too, so the pairs table shows them.
    extra = _pair_positions(different_pairs, position) + _pair_positions(same_pairs, position)
    if extra:
        extra_arr = np.array([(min(a, b), max(a, b)) for a, b in extra], dtype=np.int64)
        left = np.concatenate((left, extra_arr[:, 0]))
        right = np.concatenate((right, extra_arr[:, 1]))
        passes = np.concatenate((passes, np.full(len(extra_arr), -1, dtype=passes.dtype)))
        code = left * max(n, 1) + right
        _, first = np.unique(code, return_index=True)
        left, right, passes = left[first], right[first], passes[first]
    seconds["block"] = time.perf_counter() - mark

    mark = time.perf_counter()
    different_positions = {(min(a, b), max(a, b)) for a, b in _pair_positions(different_pairs, position)}
    different_mask = None
    if different_positions:
        different_mask = np.fromiter(((a, b) in different_positions for a, b in zip(left.tolist(), right.tolist())),
                                     dtype=bool, count=len(left))
    scored = score_pairs(prepared, left, right, thresholds, different=different_mask)
    kept_passes = _kept(passes, left, right, scored.left, scored.right, n)
    seconds["score"] = time.perf_counter() - mark
    if bar is not None:
        bar.update(2)

    mark = time.perf_counter()
    merge_mask = scored.decision == AUTO_MERGE
    order = np.argsort(-scored.score[merge_mask], kind="stable")
    merge_pairs = list(zip(scored.left[merge_mask][order].tolist(), scored.right[merge_mask][order].tolist()))
    conflicts = list(zip(scored.left[scored.hard_conflict].tolist(), scored.right[scored.hard_conflict].tolist()))
    clustering = cluster(n, merge_pairs, list(different_positions), prepared["completeness"].to_numpy(np.int64),
                         must_link=_pair_positions(same_pairs, position), conflicts=conflicts)
    clusters = {record_ids[i]: record_ids[int(root)] for i, root in enumerate(clustering.root)}
    seconds["cluster"] = time.perf_counter() - mark

    decision = scored.decision.copy()
    reason = scored.reason.copy()
    # A merge pair that a cannot-link kept apart is shown for review, not silently dropped.
    if clustering.refused:
        refused = set(clustering.refused)
        for k, (a, b) in enumerate(zip(scored.left.tolist(), scored.right.tolist())):
            if decision[k] == AUTO_MERGE and ((a, b) in refused or (b, a) in refused):
                decision[k] = NEEDS_REVIEW
                reason[k] = "merge refused: would join records marked different"

    pass_names = candidates.pass_names
    pairs = pd.DataFrame({
        "record_id_a": [record_ids[i] for i in scored.left],
        "record_id_b": [record_ids[i] for i in scored.right],
        "score": np.round(scored.score, 4),
        "decision": decision,
        "reason": reason,
        "conflict": scored.hard_conflict,
        "blocking_pass": [pass_names[p] if p >= 0 else "reviewer" for p in kept_passes],
        **{f"sim_{f}": np.round(scored.similarities[f], 4) for f in SIMILARITY_FIELDS},
    }, columns=list(PAIR_COLUMNS))
    if not include_distinct:
        pairs = pairs[(pairs["decision"] != DISTINCT) | pairs["conflict"]].reset_index(drop=True)
    if bar is not None:
        bar.update(1)
        bar.close()

    n_clusters = len(set(clusters.values()))
    counts = {
        "records": n,
        "candidate_pairs": int(len(left)),
        "compared_pairs": int(len(scored)),
        "auto_merge": int((decision == AUTO_MERGE).sum()),
        "needs_review": int((decision == NEEDS_REVIEW).sum()),
        "conflicts": int(scored.hard_conflict.sum()),
        "clusters": n_clusters,
        "duplicates": n - n_clusters,
        "refused_merges": len(clustering.refused),
    }
    flags = {record_ids[i]: flag_names(int(f)) for i, f in enumerate(prepared["flags"].tolist()) if f}
    seconds["total"] = time.perf_counter() - started
    return DedupResult(pairs=pairs, clusters=clusters, counts=counts, flags=flags, seconds=seconds)


def _kept(passes: np.ndarray, left: np.ndarray, right: np.ndarray, kept_left: np.ndarray,
          kept_right: np.ndarray, n: int) -> np.ndarray:
    """The blocking pass of each pair that survived scoring's early filter."""
    if len(kept_left) == 0:
        return np.empty(0, dtype=np.int64)
    width = max(n, 1)
    lookup = pd.Series(passes, index=left * width + right)
    return lookup.loc[kept_left * width + kept_right].to_numpy()
