"""Stage 4: clusters of duplicates from merge pairs, never joining records marked different.

Union-find joins records pair by pair, strongest pair first. A pair is
skipped when joining it would put two records into one cluster that must stay
apart: pairs a reviewer marked "different" (cannot-links), and pairs the
scorer found to conflict (two DOIs, erratum vs article, part 1 vs part 2).
Without that check, A~B and B~C would merge A and C even when A and C are an
article and its erratum.

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
    members: dict[int, list[int]] = field(init=False)
    forbidden: dict[int, set[int]] = field(init=False)  # root -> records its cluster must not join

    def __post_init__(self) -> None:
        self.parent = list(range(self.size))
        self.members = {}
        self.forbidden = {}

    def find(self, item: int) -> int:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def _members(self, root: int) -> list[int]:
        return self.members.get(root, [root])

    def forbid(self, a: int, b: int) -> None:
        self.forbidden.setdefault(self.find(a), set()).add(b)
        self.forbidden.setdefault(self.find(b), set()).add(a)

    def can_union(self, a: int, b: int) -> bool:
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        # Check the smaller side's forbidden records against the other cluster.
        for source, target in ((root_a, root_b), (root_b, root_a)):
            for other in self.forbidden.get(source, ()):
                if self.find(other) == target:
                    return False
        return True

    def union(self, a: int, b: int) -> bool:
        """Join the clusters of a and b unless a cannot-link forbids it; True if joined (or already one)."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        if not self.can_union(a, b):
            return False
        if len(self._members(root_a)) < len(self._members(root_b)):
            root_a, root_b = root_b, root_a
        self.parent[root_b] = root_a
        self.members[root_a] = self._members(root_a) + self._members(root_b)
        self.members.pop(root_b, None)
        moved = self.forbidden.pop(root_b, None)
        if moved:
            self.forbidden.setdefault(root_a, set()).update(moved)
        return True


@dataclass
class Clustering:
    """Cluster of every record (by row position) and the pairs that were refused."""

    root: np.ndarray  # row position of each record's primary record
    refused: list[tuple[int, int]]  # merge pairs not applied because of a cannot-link


def cluster(n: int, merge_pairs: list[tuple[int, int]], cannot_link: list[tuple[int, int]],
            completeness: np.ndarray, must_link: list[tuple[int, int]] = ()) -> Clustering:
    """Join merge pairs in the given order (strongest first), honouring cannot-links.

    must_link pairs (a reviewer said "same") are joined first; they too yield
    to cannot-links, because a reviewer's "different" is the costlier error.
    """
    sets = UnionFind(n)
    for a, b in cannot_link:
        if a != b:
            sets.forbid(a, b)
    refused: list[tuple[int, int]] = []
    for a, b in list(must_link) + list(merge_pairs):
        if not sets.union(a, b):
            refused.append((a, b))
    root = np.fromiter((sets.find(i) for i in range(n)), dtype=np.int64, count=n)
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
