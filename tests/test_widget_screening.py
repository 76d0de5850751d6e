"""The screening widget and its session, driven through the same calls the buttons make."""

import pytest

from review import screening
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage
from review.screening_session import ScreeningSession
from review.widgets.screening import ScreeningWidget

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture
def review(make_review, tmp_path):
    proto = Protocol(
        title="T", include_terms=["pooled budget*", "health and social care"], exclude_terms=["child*"],
        exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                           ExclusionReason("children_services", "Children's services")],
        stages=[Stage("title_abstract", reviewers=["am", "mg"]),
                Stage("full_text", reviewers=["am", "mg"], reason_required=True)],
        reviewers=[Reviewer("am"), Reviewer("mg")],
    )
    lines = []
    titles = [XSS, "Pooled budgets across health and social care", "Integrated services for children",
              "A fourth record", "A fifth record"]
    for i, title in enumerate(titles, start=1):
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - Author{i}, A", "PY  - 2010",
                  f"AB  - Abstract {i} about pooled budgets <script>alert('x')</script>", f"ID  - r{i}", "ER  - ", ""]
    (tmp_path / "x.ris").write_text("\n".join(lines))
    return make_review(protocol=proto, files=[tmp_path / "x.ris"])


def test_untrusted_text_renders_as_text(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    html = widget.view["card"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script>" not in html
    assert "&lt;script&gt;" in html


def test_terms_are_highlighted(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    widget.go_to(2)
    assert "<mark class='rv-inc'>Pooled budgets</mark>" in widget.view["card"]
    assert "<mark class='rv-inc'>health and social care</mark>" in widget.view["card"]
    widget.go_to(3)
    assert "<mark class='rv-exc'>children</mark>" in widget.view["card"]


def test_page_messages_decide_undo_and_go_back(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    assert widget.view["record"] == 1
    assert widget.face.reasons == [{"code": "health_care_only", "label": "Health care only", "key": "1"},
                                   {"code": "children_services", "label": "Children's services", "key": "2"}]
    widget.handle({"action": "decide", "decision": "include", "record": 1})
    widget.handle({"action": "decide", "decision": "exclude", "reasons": ["health_care_only"], "record": 2})
    widget.handle({"action": "decide", "decision": "maybe", "record": 3})
    assert widget.view["record"] == 4 and "3 of 5 decided" in widget.view["progress_text"]
    widget.handle({"action": "undo"})  # withdraws the maybe on record 3
    assert widget.view["record"] == 3 and "Undone: Maybe" in widget.view["message"]
    widget.handle({"action": "back"})
    assert widget.view["record"] == 2 and "Your decision: Exclude (Health care only)" in widget.view["card"]
    assert widget.view["mine"] == {"decision": "exclude", "reasons": ["health_care_only"], "note": ""}
    widget.handle({"action": "decide", "decision": "include", "record": 2})  # a changed decision: a new event
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 2, "am").decision == "include"
    assert [d.decision for d in state.history["title_abstract"]["am"]] == ["include", "exclude", "include"]


def test_a_decision_for_a_record_no_longer_on_screen_is_refused(review):
    """Three quick presses sent for record 1 decide record 1 once, never records 2 and 3 unseen."""
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    for _ in range(3):
        widget.handle({"action": "decide", "decision": "include", "record": 1})
    assert widget.view["message_kind"] == "error" and "record 2 is on screen now" in widget.view["message"]
    state = screening.ScreeningState.load(review)
    assert [(d.record_id, d.decision) for d in state.history["title_abstract"]["am"]] == [(1, "include")]


def test_reasons_and_notes_are_saved_or_refused_visibly(review):
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 1, "include")
    widget = ScreeningWidget(review, "full_text", "am", order="import")
    widget.handle({"action": "decide", "decision": "exclude", "note": "typed", "record": 1})
    assert widget.view["message_kind"] == "error" and "Not saved" in widget.view["message"]
    assert "needs a reason" in widget.view["message"] and widget.view["record"] == 1
    widget.handle({"action": "decide", "decision": "include", "reasons": ["children_services"], "record": 1})
    assert "Not saved" in widget.view["message"] and "reasons go with an exclusion" in widget.view["message"]
    widget.handle({"action": "decide", "decision": "exclude", "reasons": ["children_services", "health_care_only"],
                   "note": "kids only", "record": 1})
    assert widget.view["message"] == ("Saved: Exclude (Children's services; Health care only) for record 1, "
                                      "with your note.")
    state = screening.ScreeningState.load(review)
    made = state.reviewer_decision("full_text", 1, "am")
    assert made.reasons == ("children_services", "health_care_only") and made.note == "kids only"
    assert "All records at this stage are screened" in widget.view["card"]


def test_blind_session_ignores_other_reviewers(review):
    screening.decide(review, "title_abstract", "mg", 1, "exclude")
    session = ScreeningSession(review, "title_abstract", "am", order="import")
    assert session.current == 1 and session.my_decision() is None
    assert session.progress().decided == 0


def test_random_order_is_reproducible(review):
    first = ScreeningSession(review, "title_abstract", "am", order="random", seed=3)._rank
    again = ScreeningSession(review, "title_abstract", "am", order="random", seed=3)._rank
    assert first == again and sorted(first) == [1, 2, 3, 4, 5]


def test_full_text_attach_and_not_retrieved(review, tmp_path):
    for record in (1, 2):
        for who in ("am", "mg"):
            screening.decide(review, "title_abstract", who, record, "include")
    widget = ScreeningWidget(review, "full_text", "am", order="import")
    assert widget.view["full_text_stage"] is True
    widget.handle({"action": "attach", "location": str(tmp_path / "missing.pdf"), "record": 1})
    assert "not found" in widget.view["message"] and widget.view["message_kind"] == "error"
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    widget.handle({"action": "attach", "location": str(pdf), "record": 1})
    assert "Full text: <code>" in widget.view["card"]
    widget.handle({"action": "forward"})
    assert widget.view["record"] == 2
    widget.handle({"action": "not_retrieved", "record": 2})
    state = screening.ScreeningState.load(review)
    assert state.full_texts == {1: str(pdf)} and 2 in state.not_retrieved
    assert ScreeningWidget(review, "title_abstract", "am", order="import").view["full_text_stage"] is False


def test_my_decisions_search_filter_and_back_across_sessions(review):
    first = ScreeningWidget(review, "title_abstract", "am", order="import")
    first.decide("include", record=1)
    first.decide("exclude", ["children_services"], "kids only", record=2)
    first.decide("maybe", record=3)
    again = ScreeningWidget(review, "title_abstract", "am", order="import")  # a new session
    assert again.view["record"] == 4 and again.view["can_back"] is True
    again.back()
    assert again.view["record"] == 3 and "Your decision: Maybe" in again.view["card"]
    listed = again.my_decisions()
    assert list(listed["record"]) == [3, 2, 1] and list(listed["decision"]) == ["Maybe", "Exclude", "Include"]
    assert list(again.my_decisions(decision="exclude")["reasons"]) == ["Children's services"]
    assert list(again.my_decisions(reason="children_services")["record"]) == [2]
    assert list(again.my_decisions(query="KIDS")["record"]) == [2]
    assert list(again.my_decisions(query="pooled budgets across")["record"]) == [2]
    again.handle({"action": "list", "query": "", "decision": "include", "reason": ""})
    assert again.face.listing["total"] == 1 and again.face.listing["rows"][0]["record"] == 1
    again.handle({"action": "go", "record": 1})
    assert again.view["record"] == 1
    again.decide("exclude", ["health_care_only"], record=1)  # change it; the open list follows
    assert again.face.listing["total"] == 0
    assert screening.ScreeningState.load(review).reviewer_decision("title_abstract", 1, "am").decision == "exclude"


def test_background_refits_never_block_and_take_effect(review):
    session = ScreeningSession(review, "title_abstract", "am", order="model", refit_every=2, background=True)
    session.wait_for_model(timeout=60)
    assert sorted(session._rank) == [1, 2, 3, 4, 5] and session.model_error == ""
    session.decide("include")
    session.decide("exclude")  # a refit is due: it runs on the worker thread
    session.wait_for_model(timeout=60)
    decided = {d.record_id for d in session.state.history["title_abstract"]["am"]}
    assert session.model_error == "" and set(session._rank) == {1, 2, 3, 4, 5} - decided  # the undecided, ranked
    assert session.current not in {d.record_id for d in session.state.history["title_abstract"]["am"]}
