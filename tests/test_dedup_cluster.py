"""Stage 4 of deduplication: union-find with cannot-links, primary records (review.dedup.cluster)."""

from __future__ import annotations

import numpy as np

from review.dedup.cluster import UnionFind, cluster, primary_records


def groups(root: np.ndarray) -> set[frozenset[int]]:
    found: dict[int, set[int]] = {}
    for index, r in enumerate(root.tolist()):
        found.setdefault(r, set()).add(index)
    return {frozenset(g) for g in found.values()}


def test_merge_pairs_join_transitively():
    result = cluster(5, [(0, 1), (1, 2), (3, 4)], [], np.zeros(5, dtype=np.int64))
    assert groups(result.root) == {frozenset({0, 1, 2}), frozenset({3, 4})}
    assert result.refused == []


def test_cannot_link_is_never_crossed_even_through_a_third_record():
    # 0~1 and 1~2 are merge pairs, but 0 and 2 are an article and its erratum.
    result = cluster(3, [(0, 1), (1, 2)], [(0, 2)], np.zeros(3, dtype=np.int64))
    assert not any({0, 2} <= g for g in groups(result.root))
    assert result.refused == [(1, 2)]


def test_stronger_pairs_win_because_they_come_first():
    # Given strongest first, 1 joins 2 (its better match) and the weaker 0~1 is refused.
    result = cluster(3, [(1, 2), (0, 1)], [(0, 2)], np.zeros(3, dtype=np.int64))
    assert groups(result.root) == {frozenset({1, 2}), frozenset({0})}


def test_must_link_is_joined_first_but_yields_to_cannot_link():
    result = cluster(4, [], [(0, 3)], np.zeros(4, dtype=np.int64), must_link=[(0, 1), (2, 3), (1, 2)])
    assert not any({0, 3} <= g for g in groups(result.root))
    assert (1, 2) in result.refused


def test_cannot_links_follow_a_cluster_through_later_unions():
    sets = UnionFind(6)
    sets.forbid(0, 5)
    assert sets.union(0, 1) and sets.union(1, 2)
    assert sets.union(4, 5)
    assert not sets.union(2, 4)  # would put 0 and 5 together
    assert sets.union(3, 2)


def test_primary_record_is_the_most_complete_then_the_first():
    root = np.array([0, 0, 0, 3, 3])
    completeness = np.array([2, 5, 5, 1, 1])
    assert primary_records(root, completeness).tolist() == [1, 1, 1, 3, 3]


def test_large_chain_clusters_quickly():
    n = 50_000
    pairs = [(i, i + 1) for i in range(n - 1)]
    result = cluster(n, pairs, [], np.zeros(n, dtype=np.int64))
    assert len(set(result.root.tolist())) == 1


def test_scorer_conflicts_stop_automatic_merges_but_not_a_reviewer():
    # 0~1 copies of a report, 2~3 copies of its appendix; the scorer says 1 and 2 conflict.
    merges = [(0, 1), (2, 3), (0, 3)]
    result = cluster(4, merges, [], np.zeros(4, dtype=np.int64), conflicts=[(1, 2)])
    assert groups(result.root) == {frozenset({0, 1}), frozenset({2, 3})}
    # A reviewer says 0 and 2 are the same: that outranks the scorer's conflict.
    result = cluster(4, merges, [], np.zeros(4, dtype=np.int64), must_link=[(0, 2)], conflicts=[(1, 2)])
    assert groups(result.root) == {frozenset({0, 1, 2, 3})}


def test_reviewer_same_on_the_very_pair_of_a_cannot_link_wins():
    result = cluster(2, [], [(0, 1)], np.zeros(2, dtype=np.int64), must_link=[(1, 0)])
    assert groups(result.root) == {frozenset({0, 1})}
