"""Stage 4: clusters of duplicates from merge pairs, never joining records marked different.

Union-find joins records pair by pair, strongest pair first. A pair is
skipped when joining it would put two records into one cluster that must stay
apart: pairs a reviewer marked "different" (cannot-links), and pairs the
scorer found to conflict (two DOIs, erratum vs article, part 1 vs part 2).
Without that check, A~B and B~C would merge A and C even when A and C are an
article and its erratum. A reviewer's "same" outranks the scorer's conflicts.

The primary record of each cluster is the most complete one (most filled
fields), ties going to the record that came first.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class UnionFind:
    """Disjoint sets over 0..n-1 with cannot-link sets kept per root."""

    size: int
    parent: list[int] = field(init=False)
    count: dict[int, int] = field(init=False)  # root -> number of records, for union by size
    forbidden: dict[int, set[int]] = field(init=False)  # root -> records its cluster must not join

    def __post_init__(self) -> None:
        self.parent = list(range(self.size))
        self.count = {}
        self.forbidden = {}

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def forbid(self, a: int, b: int) -> None:
        self.forbidden.setdefault(self.find(a), set()).add(b)
        self.forbidden.setdefault(self.find(b), set()).add(a)

    def can_union(self, a: int, b: int) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        # Cannot-links are stored on both sides, so checking the smaller set is enough.
        forbidden_a, forbidden_b = self.forbidden.get(root_a, ()), self.forbidden.get(root_b, ())
        if len(forbidden_a) > len(forbidden_b):
            forbidden_a, root_b = forbidden_b, root_a
        return all(self.find(other) != root_b for other in forbidden_a)

    def union(self, a: int, b: int) -> bool:
        """Join the clusters of a and b unless a cannot-link forbids it; True if joined (or already one)."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if not self.can_union(a, b):
            return False
        size_a, size_b = self.count.get(root_a, 1), self.count.get(root_b, 1)
        if size_a < size_b:
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.count[root_a] = size_a + size_b
        self.count.pop(root_b, None)
        moved = self.forbidden.pop(root_b, None)
        if moved:
            # Merge the smaller forbidden set into the larger one.
            kept = self.forbidden.get(root_a)
            if kept is None or len(kept) < len(moved):
                kept, moved = moved, kept or set()
            kept.update(moved)
            self.forbidden[root_a] = kept
        return True


@dataclass
class Clustering:
    """Cluster of every record (by row position) and the pairs that were refused."""

    root: np.ndarray  # row position of each record's primary record
    refused: list[tuple[int, int]]  # merge pairs not applied because of a cannot-link


def cluster(n: int, merge_pairs: list[tuple[int, int]], cannot_link: list[tuple[int, int]],
            completeness: np.ndarray, must_link: list[tuple[int, int]] = (),
            conflicts: list[tuple[int, int]] = ()) -> Clustering:
    """Join merge pairs in the given order (strongest first), keeping cannot-links apart.

    cannot_link  pairs a reviewer marked different: never in one cluster.
    must_link    pairs a reviewer confirmed: always joined unless a cannot-link
                 forbids it. A must-link on the very pair of a cannot-link wins,
                 as the later, explicit word on that pair.
    conflicts    pairs the scorer found to be different works: they stop
                 automatic merges, but not a reviewer's must-link.

    Two passes: automatic merges under every constraint; then the reviewer's
    must-links, and the automatic clusters on top of them, under the
    reviewer's cannot-links only.
    """
    confirmed = {(min(a, b), max(a, b)) for a, b in must_link}
    absolute = [(a, b) for a, b in cannot_link if a != b and (min(a, b), max(a, b)) not in confirmed]
    automatic = UnionFind(n)
    for a, b in list(absolute) + [(a, b) for a, b in conflicts if a != b]:
        automatic.forbid(a, b)
    refused: list[tuple[int, int]] = []
    for a, b in merge_pairs:
        if not automatic.union(a, b):
            refused.append((a, b))
    final = UnionFind(n)
    for a, b in absolute:
        final.forbid(a, b)
    for a, b in must_link:
        if not final.union(a, b):
            refused.append((a, b))
    # The automatic clusters join in, record by record, where the reviewer's
    # cannot-links still allow it.
    for i in range(n):
        if not final.union(i, automatic.find(i)):
            refused.append((i, automatic.find(i)))
    root = np.fromiter((final.find(i) for i in range(n)), dtype=np.int64, count=n)
    return Clustering(primary_records(root, completeness), refused)


def primary_records(root: np.ndarray, completeness: np.ndarray) -> np.ndarray:
    """Map each record to its cluster's most complete record (first one on ties)."""
    n = root.size
    if n == 0:
        return root
    # Sort by cluster, then completeness descending, then position ascending.
    order = np.lexsort((np.arange(n), -completeness, root))
    sorted_roots = root[order]
    starts = np.concatenate(([True], sorted_roots[1:] != sorted_roots[:-1]))
    best_of_cluster = dict(zip(sorted_roots[starts].tolist(), order[starts].tolist()))
    return np.fromiter((best_of_cluster[r] for r in root.tolist()), dtype=np.int64, count=n)
