"""The public API: find_duplicates and DedupResult (review.dedup)."""

from __future__ import annotations

import pandas as pd

from review.dedup import (
    AUTO_MERGE,
    NEEDS_REVIEW,
    PAIR_COLUMNS,
    SIMILARITY_FIELDS,
    DedupResult,
    Thresholds,
    find_duplicates,
)

STUDY = {
    "title": "Introducing co-ordinated care (1): a randomised trial assessing client and cost outcomes",
    "authors": ["Segal, L.", "Dunt, D.", "Day, S. E.", "Day, N. A."], "year": 2004, "journal": "Health Policy",
    "volume": "69", "pages": "201-213", "type": "article",
}


def records() -> pd.DataFrame:
    rows = [
        STUDY,
        {**STUDY, "authors": ["Segal L", "Dunt D", "Day SE", "Day NA"], "journal": "Health Policy (Amsterdam)",
         "pages": "201-13", "doi": "10.1016/j.healthpol.2004.01.006"},
        {**STUDY, "title": STUDY["title"].upper(), "pmid": "15212867"},
        {"title": "Clinical and service integration: the route to improved outcomes", "authors": ["Curry N", "Ham C"],
         "year": 2010, "type": "report", "publisher": "The King's Fund"},
    ]
    return pd.DataFrame([{"record_id": f"rec-{i}", **row} for i, row in enumerate(rows)])


def test_result_shape_and_counts():
    result = find_duplicates(records(), progress=False)
    assert isinstance(result, DedupResult)
    assert list(result.pairs.columns) == list(PAIR_COLUMNS)
    assert set(result.clusters) == {"rec-0", "rec-1", "rec-2", "rec-3"}
    # The cluster id is the most complete member: rec-1 has the DOI.
    assert result.clusters["rec-0"] == result.clusters["rec-2"] == "rec-1"
    assert result.clusters["rec-3"] == "rec-3"
    assert result.counts["records"] == 4 and result.counts["clusters"] == 2 and result.counts["duplicates"] == 2
    assert result.counts["auto_merge"] == 3
    assert result.duplicate_groups() == [["rec-1", "rec-0", "rec-2"]]
    assert set(result.seconds) >= {"prepare", "block", "score", "cluster", "total"}


def test_pairs_explain_each_decision():
    result = find_duplicates(records(), progress=False)
    merges = result.merge_pairs()
    assert (merges["decision"] == AUTO_MERGE).all()
    assert merges["reason"].str.len().gt(0).all()
    assert {f"sim_{f}" for f in SIMILARITY_FIELDS} <= set(merges.columns)
    row = merges[(merges.record_id_a == "rec-0") & (merges.record_id_b == "rec-1")].iloc[0]
    assert row["sim_title"] == 1.0 and row["sim_pages"] == 1.0 and pd.isna(row["sim_doi"])
    assert row["blocking_pass"] != ""


def test_different_pairs_are_never_clustered_even_transitively():
    result = find_duplicates(records(), different_pairs=[("rec-0", "rec-2")], progress=False)
    assert result.clusters["rec-0"] != result.clusters["rec-2"]
    marked = result.pairs[(result.pairs.record_id_a == "rec-0") & (result.pairs.record_id_b == "rec-2")]
    assert marked["reason"].iloc[0] == "marked different by a reviewer"
    # rec-1 matches both; it joins one of them and the other merge is shown for review.
    assert result.counts["refused_merges"] == 1
    assert (result.pairs["reason"] == "merge refused: would join records marked different").sum() == 1


def test_same_pairs_join_records_the_engine_would_not():
    frame = records()
    result = find_duplicates(frame, same_pairs=[("rec-3", "rec-0")], progress=False)
    assert result.clusters["rec-3"] == result.clusters["rec-0"]


def test_unknown_ids_in_reviewer_pairs_are_ignored():
    result = find_duplicates(records(), different_pairs=[("rec-0", "nope")], same_pairs=[("x", "y")], progress=False)
    assert result.clusters["rec-0"] == result.clusters["rec-1"]


def test_review_pairs_sorted_by_score():
    frame = pd.DataFrame([
        {"record_id": "a", "title": "Integration and the NHS reforms", "authors": ["Wistow G"], "year": 2011,
         "journal": "Journal of Integrated Care", "volume": "19", "issue": "4", "pages": "5-13"},
        {"record_id": "b", "title": "Integration and the NHS reforms", "authors": ["Wistow G"], "year": 2011,
         "journal": "Journal of Integrated Care", "volume": "19", "issue": "4", "pages": "15-23"},
        {"record_id": "c", "title": "Integration and NHS reform", "authors": ["Wistow G"], "year": 2012},
    ])
    result = find_duplicates(frame, progress=False)
    review = result.review_pairs()
    assert len(review) >= 1 and (review["decision"] == NEEDS_REVIEW).all()
    assert review["score"].is_monotonic_decreasing


def test_include_distinct_keeps_every_compared_pair():
    frame = records()
    default = find_duplicates(frame, progress=False)
    everything = find_duplicates(frame, progress=False, include_distinct=True)
    assert len(everything.pairs) >= len(default.pairs)


def test_thresholds_are_passed_through():
    never = Thresholds(title_auto=2, title_auto_loose=2, title_with_identifier=2, title_with_locators=2,
                       title_translated=2, title_any_language=2, abstract_agree=2)
    result = find_duplicates(records(), thresholds=never, progress=False)
    assert result.counts["auto_merge"] == 0 and result.counts["clusters"] == 4


def test_progress_bar_does_not_change_the_result(capsys):
    quiet = find_duplicates(records(), progress=False)
    shown = find_duplicates(records(), progress=True)
    assert quiet.clusters == shown.clusters
    assert quiet.pairs.drop(columns=[]).equals(shown.pairs)


def test_a_reviewers_same_outranks_the_scorers_conflict():
    base = {"authors": ["RAND Europe"], "year": 2012, "type": "report"}
    frame = pd.DataFrame([
        {"record_id": "report", "title": "National evaluation of the integrated care pilots: final report", **base},
        {"record_id": "appendix", "title": "National evaluation of the integrated care pilots: appendices", **base},
    ])
    assert find_duplicates(frame, progress=False).clusters["appendix"] == "appendix"
    joined = find_duplicates(frame, same_pairs=[("report", "appendix")], progress=False)
    assert joined.clusters["appendix"] == joined.clusters["report"]
