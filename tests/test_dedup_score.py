"""Stage 3 of deduplication: field similarities and pair decisions (review.dedup.score)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from review.dedup.prepare import author_keys, journal_tokens, prepare_records
from review.dedup.score import (
    AUTO_MERGE,
    DISTINCT,
    NEEDS_REVIEW,
    SIMILARITY_FIELDS,
    Thresholds,
    author_similarity,
    journal_similarity,
    page_similarity,
    score_pairs,
    weighted_score,
)


def authors(*names: str) -> tuple:
    keys, words, _ = author_keys(list(names))
    return keys, words


def score_two(a: dict, b: dict, thresholds: Thresholds = Thresholds()):
    records = pd.DataFrame([{"record_id": "a", **a}, {"record_id": "b", **b}])
    scored = score_pairs(prepare_records(records), np.array([0]), np.array([1]), thresholds)
    return scored


ARTICLE = {
    "title": "Scheduled telephone intervention for traumatic brain injury: a multicenter randomized controlled trial",
    "authors": ["Bell, Kathleen R.", "Brockway, Jo Ann", "Hart, Tessa"], "year": 2011,
    "journal": "Archives of Physical Medicine and Rehabilitation", "volume": "92", "issue": "10",
    "pages": "1552-1560",
}


@pytest.mark.parametrize("a, b, low, high", [
    (authors("Smith, J", "Jones, K"), authors("Smith J", "Jones K"), 1.0, 1.0),
    (authors("Altenried, Moritz"), authors("Moritz, Altenried"), 1.0, 1.0),  # name order swapped
    (authors("Zuber, J", "Le Quintrec, M", "Sberro-Soussan, R"), authors("Zuber J"), 1.0, 1.0),  # et al.
    (authors("Smith, J", "Jones, K"), authors("Brown, A", "Green, B"), 0.0, 0.3),
    (authors("National Audit Office"), authors("NAO"), 1.0, 1.0),  # acronym
])
def test_author_similarity(a, b, low, high):
    assert low <= author_similarity(a, b) <= high


def test_author_similarity_is_nan_when_either_list_is_empty():
    assert math.isnan(author_similarity(authors(), authors("Smith, J")))


@pytest.mark.parametrize("a, b, least", [
    ("Orphanet Journal of Rare Diseases", "Orphanet J Rare Dis.", 0.95),
    ("New England Journal of Medicine", "N Engl J Med", 0.95),
    ("Journal of the American Medical Association", "JAMA", 0.9),
    ("International Conference on Information Systems", "ICIS: Transforming Society with Digital Innovation", 0.9),
])
def test_journal_similarity_understands_abbreviations(a, b, least):
    assert journal_similarity(journal_tokens(a), journal_tokens(b)) >= least


def test_journal_similarity_does_not_confuse_related_journals():
    assert journal_similarity(journal_tokens("Nature"), journal_tokens("Nature Medicine")) < 0.8
    assert journal_similarity(journal_tokens("Stroke"), journal_tokens("Canadian Journal of Neurological Sciences")) < 0.5


@pytest.mark.parametrize("a, b, expected", [
    (("1552", "1560"), ("1552", "1560"), 1.0),
    (("943", "945"), ("943", "944"), 0.9),
    (("2297", "2108"), ("2097", "2108"), 0.8),  # typo in the first page
    (("569", "569"), ("567", "569"), 0.8),  # only the last page kept
    (("a1754", "a1754"), ("969", "972"), math.nan),  # article number against printed pages
    (("616", "616"), ("1223", "1229"), 0.0),
])
def test_page_similarity(a, b, expected):
    value = page_similarity(*a, *b)
    assert (math.isnan(value) and math.isnan(expected)) or value == expected


def test_missing_fields_leave_the_weighted_score():
    sims = {f: np.array([np.nan]) for f in SIMILARITY_FIELDS}
    sims["title"] = np.array([1.0])
    sims["year"] = np.array([1.0])
    assert weighted_score(sims)[0] == 1.0


def test_reformatted_article_is_merged_with_the_rule_and_fields_explained():
    other = {**ARTICLE, "title": ARTICLE["title"].upper(), "authors": ["Bell KR", "Brockway JA", "Hart T"],
             "journal": "Arch Phys Med Rehabil", "pages": "1552-60"}
    scored = score_two(ARTICLE, other)
    assert scored.decision[0] == AUTO_MERGE
    assert scored.reason[0] == "title and other fields agree"
    assert scored.similarities["pages"][0] == 1.0 and scored.similarities["journal"][0] >= 0.95
    assert not scored.hard_conflict[0]


def test_one_side_without_doi_is_still_a_duplicate():
    scored = score_two({**ARTICLE, "doi": "10.1016/j.apmr.2011.05.018"}, ARTICLE)
    assert scored.decision[0] == AUTO_MERGE
    assert math.isnan(scored.similarities["doi"][0])


def test_same_doi_with_agreeing_title_is_stage_one():
    doi = "10.1016/j.apmr.2011.05.018"
    scored = score_two({**ARTICLE, "doi": doi}, {"title": ARTICLE["title"], "doi": f"https://doi.org/{doi}"})
    assert scored.decision[0] == AUTO_MERGE and scored.reason[0] == "same DOI"


def test_same_doi_on_different_titles_is_only_reviewed():
    # A supplement DOI shared by every abstract of a meeting.
    doi = "10.2337/db12-836-1328"
    scored = score_two({"title": "Linagliptin improves endothelial function in db/db mice", "doi": doi},
                       {"title": "Exenatide and renal outcomes in type 2 diabetes: a cohort", "doi": doi})
    assert scored.decision[0] != AUTO_MERGE


def test_thresholds_change_the_decision():
    other = {**ARTICLE, "title": ARTICLE["title"].replace("telephone", "phone")}
    assert score_two(ARTICLE, other).decision[0] == AUTO_MERGE
    strict = Thresholds(title_auto=0.99, title_auto_loose=0.99, title_with_locators=0.99, title_translated=0.99,
                        title_any_language=0.99)
    assert score_two(ARTICLE, other, strict).decision[0] == NEEDS_REVIEW


def test_dissimilar_records_are_dropped_before_the_costly_fields():
    scored = score_two(ARTICLE, {"title": "Pooled budgets and the integration agenda", "authors": ["HFMA"],
                                 "year": 2016})
    assert len(scored) == 0


def test_somewhat_similar_records_with_nothing_else_in_common_are_distinct():
    scored = score_two({"title": "Integrated care for older people in England", "year": 2010},
                       {"title": "Integrated care for children in Wales", "year": 2010})
    assert scored.decision[0] == DISTINCT and scored.reason[0] == "not similar enough"


def test_thresholds_round_trip_as_a_dict():
    thresholds = Thresholds(title_auto=0.97)
    assert Thresholds(**thresholds.to_dict()) == thresholds
