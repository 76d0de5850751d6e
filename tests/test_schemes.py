"""Schemes: create, rename, merge, split, link reports; every change an event."""

from pathlib import Path

import pytest

from review import schemes, store
from review.example import EXAMPLE
from review.schemes import SchemeError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def review(make_review):
    return make_review(protocol=EXAMPLE / "review.yaml", files=[REPO / "references" / "mason2014_reference_list.ris"],
                       decisions=EXAMPLE / "screening_decisions.csv")


def test_create_link_and_read_back(review):
    cct = schemes.create_scheme(review, "CareNet (CCT1)", who="am", scheme_id="S01")
    assert cct.scheme_id == "S01"
    assert schemes.link_reports(review, "S01", [8, 34, 50], who="am") == [8, 34, 50]
    assert schemes.link_reports(review, "S01", [8], who="am") == []  # already linked: nothing new
    other = schemes.create_scheme(review, "North Eastern Health Care Network", who="am")
    assert other.scheme_id == "S002"
    schemes.link_reports(review, other.scheme_id, [8], who="am")  # one report, two schemes
    state = schemes.SchemeState.load(review)
    assert state.schemes_of(8) == ["S002", "S01"]
    frame = schemes.schemes_frame(review)
    assert frame.set_index("scheme_id").loc["S01", "reports"] == 3


def test_only_reports_included_at_full_text_can_be_linked(review):
    schemes.create_scheme(review, "X", who="am", scheme_id="X")
    with pytest.raises(SchemeError, match="record 1 was not included at full text"):
        schemes.link_reports(review, "X", [1], who="am")  # ref 1 is background literature
    with pytest.raises(SchemeError, match="no such record"):
        schemes.link_reports(review, "X", [9999], who="am")


def test_rename_merge_split_unlink(review):
    schemes.create_scheme(review, "PACE", who="am", scheme_id="A")
    schemes.create_scheme(review, "On Lok", who="am", scheme_id="B")
    schemes.link_reports(review, "A", [3, 11], who="am")
    schemes.link_reports(review, "B", [12], who="am")
    schemes.rename_scheme(review, "A", "PACE (Program of All-inclusive Care for the Elderly)", who="mg")
    schemes.merge_schemes(review, "A", "B", who="mg")
    state = schemes.SchemeState.load(review)
    assert state.get("A").reports == {3, 11, 12} and state.get("A").name.startswith("PACE (")
    with pytest.raises(SchemeError, match="merged into 'A'"):
        state.get("B")
    new = schemes.split_scheme(review, "A", [12], "On Lok", who="mg", new_id="B2")
    state = schemes.SchemeState.load(review)
    assert state.get("A").reports == {3, 11} and state.get("B2").reports == {12} and new.name == "On Lok"
    schemes.unlink_report(review, "A", 11, who="mg")
    assert schemes.SchemeState.load(review).get("A").reports == {3}
    with store.read_connection(review.engine) as conn:
        kinds = [e.kind for e in store.read_events(conn) if e.kind.startswith("scheme.")]
    assert kinds == ["scheme.create", "scheme.create", "scheme.link", "scheme.link", "scheme.link",
                     "scheme.rename", "scheme.merge", "scheme.split", "scheme.unlink"]


def test_bad_requests(review):
    schemes.create_scheme(review, "A scheme", who="am", scheme_id="A")
    with pytest.raises(SchemeError, match="already exists"):
        schemes.create_scheme(review, "Again", who="am", scheme_id="A")
    with pytest.raises(SchemeError, match="needs a name"):
        schemes.create_scheme(review, "  ", who="am")
    with pytest.raises(SchemeError, match="scheme id 'a b'"):
        schemes.create_scheme(review, "x", who="am", scheme_id="a b")
    with pytest.raises(SchemeError, match="no scheme 'Z'"):
        schemes.link_reports(review, "Z", [3], who="am")
    with pytest.raises(SchemeError, match="itself"):
        schemes.merge_schemes(review, "A", "A", who="am")
    with pytest.raises(SchemeError, match="not reports of scheme"):
        schemes.split_scheme(review, "A", [3], "New", who="am")
