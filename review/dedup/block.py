"""Stage 2: candidate pairs, from several independent blocking passes.

Comparing all pairs is quadratic (100,000 records = 5e9 pairs), so only pairs
that share something are compared. Each pass uses a different field, so one
bad field (a missing DOI, a misspelt first author, an abbreviated journal, a
translated title) cannot hide a duplicate pair from every pass.

Blocks that are too large to compare in full ("Editorial" x 10,000, a
conference supplement DOI shared by 800 abstracts) are not dropped: their
members are sorted on a secondary key and only neighbours in that order are
paired. That keeps the pair count linear in the block size.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class BlockingOptions:
    """How hard to look. The defaults keep 100,000 records near a million pairs."""

    max_block: int = 60  # blocks up to this size are compared in full
    window: int = 8  # neighbours paired inside an oversized block
    title_window: int = 6  # neighbours paired in the sorted-title passes


@dataclass(frozen=True)
class BlockPass:
    name: str
    keys: tuple[str, ...]  # prepared columns that must all be non-empty and equal


# The passes. Identifier passes first (stage 1 of the pipeline); then passes
# that each rest on a different field, so they fail independently.
PASSES = (
    BlockPass("doi", ("doi",)),
    BlockPass("pmid", ("pmid",)),
    BlockPass("url", ("url",)),
    BlockPass("title", ("title_compact",)),
    BlockPass("title-head+year", ("title_head", "year_key")),
    BlockPass("title-tail+year", ("title_tail", "year_key")),
    BlockPass("title-head+author", ("title_head", "first_author")),
    BlockPass("author+year", ("first_author", "year_key")),
    BlockPass("journal+volume+page", ("journal_initials", "volume", "first_page")),
    BlockPass("year+volume+page", ("year_key", "volume", "first_page")),
    BlockPass("year+page+author-initial", ("year_key", "first_page", "author_initial")),
)


def blocking_keys(prepared: pd.DataFrame) -> pd.DataFrame:
    """The key columns the passes use, derived from prepared records."""
    words = prepared["title_block"].str.split()
    keys = pd.DataFrame(index=prepared.index)
    keys["doi"] = prepared["doi"]
    keys["pmid"] = prepared["pmid"]
    keys["url"] = prepared["url"]
    keys["title_compact"] = prepared["title_compact"]
    # Head and tail of the title: a prefix ("Erratum:", "[Translation]") or a
    # suffix ("[Review] [53 refs]", a subtitle one database drops) changes only one.
    keys["title_head"] = words.map(lambda w: " ".join(w[:4]) if len(w) >= 3 else "")
    keys["title_tail"] = words.map(lambda w: " ".join(w[-4:]) if len(w) >= 5 else "")
    keys["year_key"] = prepared["year"].map(lambda y: str(y) if y and y > 0 else "")
    keys["first_author"] = prepared["first_author"]
    keys["author_initial"] = prepared["first_author"].str[:1]
    keys["journal_initials"] = prepared["journal_initials"]
    keys["volume"] = prepared["volume"]
    keys["first_page"] = prepared["first_page"]
    keys["title_block"] = prepared["title_block"]
    keys["secondary"] = (
        prepared["year"].astype(str) + "|" + prepared["first_author"] + "|" + prepared["journal_initials"]
        + "|" + prepared["volume"] + "|" + prepared["first_page"] + "|" + prepared["title_block"]
    )
    return keys


def _group_pairs(codes: np.ndarray, secondary_rank: np.ndarray, options: BlockingOptions) -> np.ndarray:
    """Pairs (i, j), i < j, of rows sharing a code (codes < 0 are left out)."""
    valid = np.flatnonzero(codes >= 0)
    if valid.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    # Sort by block, then by the secondary key inside each block.
    order = valid[np.lexsort((secondary_rank[valid], codes[valid]))]
    sorted_codes = codes[order]
    boundaries = np.flatnonzero(np.diff(sorted_codes)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [order.size]))
    sizes = ends - starts
    chunks = []
    # Blocks small enough to compare in full, grouped by size so each size is
    # one vectorised step.
    small = (sizes >= 2) & (sizes <= options.max_block)
    for size in np.unique(sizes[small]):
        block_starts = starts[small & (sizes == size)]
        left, right = np.triu_indices(size, k=1)
        members = order[block_starts[:, None] + np.arange(size)[None, :]]
        chunks.append(np.stack((members[:, left].ravel(), members[:, right].ravel()), axis=1))
    # Oversized blocks: neighbours in secondary-key order only.
    for start, end in zip(starts[sizes > options.max_block], ends[sizes > options.max_block]):
        members = order[start:end]
        for offset in range(1, options.window + 1):
            chunks.append(np.stack((members[:-offset], members[offset:]), axis=1))
    if not chunks:
        return np.empty((0, 2), dtype=np.int64)
    return np.concatenate(chunks).astype(np.int64)


def _codes(frame: pd.DataFrame, columns: tuple[str, ...]) -> np.ndarray:
    """One integer per row for the combination of key columns; -1 where any is empty."""
    present = np.ones(len(frame), dtype=bool)
    combined = np.zeros(len(frame), dtype=np.int64)
    for column in columns:
        values = frame[column].to_numpy(object)
        present &= values != ""
        codes, uniques = pd.factorize(values)
        # Re-factorise after each column so the combined code stays small.
        combined = pd.factorize(combined * (len(uniques) + 1) + codes)[0].astype(np.int64)
    combined[~present] = -1
    return combined


def _sorted_neighbourhood(sort_key: pd.Series, window: int) -> np.ndarray:
    """Pairs of rows within `window` of each other when sorted on sort_key (empty keys skipped)."""
    present = np.flatnonzero(sort_key.to_numpy() != "")
    if present.size < 2:
        return np.empty((0, 2), dtype=np.int64)
    order = present[np.argsort(sort_key.to_numpy()[present], kind="stable")]
    chunks = [np.stack((order[:-k], order[k:]), axis=1) for k in range(1, min(window, order.size - 1) + 1)]
    return np.concatenate(chunks).astype(np.int64)


@dataclass
class CandidatePairs:
    """Candidate pairs as row positions (left < right) and the first pass that found each."""

    left: np.ndarray
    right: np.ndarray
    passes: np.ndarray  # index into pass_names
    pass_names: tuple[str, ...]

    def __len__(self) -> int:
        return int(self.left.size)


def candidate_pairs(prepared: pd.DataFrame, options: BlockingOptions = BlockingOptions(),
                    progress=None) -> CandidatePairs:
    """All candidate pairs from every pass, each pair once."""
    n = len(prepared)
    names = tuple(p.name for p in PASSES) + ("sorted-title", "sorted-title-reversed")
    if n < 2:
        empty = np.empty(0, dtype=np.int64)
        return CandidatePairs(empty, empty, empty, names)
    keys = blocking_keys(prepared)
    secondary_rank = pd.factorize(keys["secondary"], sort=True)[0].astype(np.int64)
    found: list[np.ndarray] = []
    found_pass: list[np.ndarray] = []
    for index, block_pass in enumerate(PASSES):
        pairs = _group_pairs(_codes(keys, block_pass.keys), secondary_rank, options)
        found.append(pairs)
        found_pass.append(np.full(len(pairs), index, dtype=np.int16))
        if progress is not None:
            progress.update(1)
    # Sorted neighbourhood on the title, forwards and on the reversed title,
    # catches titles that differ by a typo anywhere but at both ends.
    for offset, key in enumerate((keys["title_block"], keys["title_block"].map(lambda t: t[::-1]))):
        pairs = _sorted_neighbourhood(key, options.title_window)
        found.append(pairs)
        found_pass.append(np.full(len(pairs), len(PASSES) + offset, dtype=np.int16))
        if progress is not None:
            progress.update(1)
    pairs = np.concatenate(found)
    which = np.concatenate(found_pass)
    left = np.minimum(pairs[:, 0], pairs[:, 1])
    right = np.maximum(pairs[:, 0], pairs[:, 1])
    keep = left != right
    left, right, which = left[keep], right[keep], which[keep]
    code = left * n + right
    _, first = np.unique(code, return_index=True)
    return CandidatePairs(left[first], right[first], which[first], names)


PASS_COUNT = len(PASSES) + 2
