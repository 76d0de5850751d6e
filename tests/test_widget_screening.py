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
    html = widget.card.value
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img" not in html and "<script>" not in html
    assert "&lt;script&gt;" in html


def test_terms_are_highlighted(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    widget.go_to(2)
    assert "<mark class='rv-inc'>Pooled budgets</mark>" in widget.card.value
    assert "<mark class='rv-inc'>health and social care</mark>" in widget.card.value
    widget.go_to(3)
    assert "<mark class='rv-exc'>children</mark>" in widget.card.value


def test_buttons_decide_undo_and_go_back(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    assert widget.session.current == 1
    widget.include_button.click()
    widget.reasons.value = ["health_care_only"]
    widget.exclude_button.click()
    widget.maybe_button.click()
    assert widget.session.current == 4
    assert "3 of 5 decided" in widget.progress_text.value
    widget.undo_button.click()  # withdraws the maybe on record 3
    assert widget.session.current == 3 and "Undone: maybe" in widget.message.value
    widget.back_button.click()
    assert widget.session.current == 2 and "Your decision: exclude (health_care_only)" in widget.card.value
    widget.include_button.click()  # change the earlier decision: a new event
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 2, "am").decision == "include"
    assert [d.decision for d in state.history["title_abstract"]["am"]] == ["include", "exclude", "include"]


def test_keyboard_shortcuts_call_the_same_actions(review):
    widget = ScreeningWidget(review, "title_abstract", "mg", order="import")
    widget.on_key({"key": "i"})
    widget.on_key({"key": "e"})
    widget.on_key({"key": "ArrowLeft"})
    assert widget.session.current == 2
    widget.on_key({"key": "u"})
    state = screening.ScreeningState.load(review)
    assert [d.decision for d in state.history["title_abstract"]["mg"]] == ["include"]


def test_reason_required_is_shown_not_raised(review):
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 1, "include")
    widget = ScreeningWidget(review, "full_text", "am", order="import")
    widget.exclude_button.click()
    assert "needs a reason" in widget.message.value
    widget.reasons.value = ["children_services", "health_care_only"]
    widget.exclude_button.click()
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("full_text", 1, "am").reasons == ("children_services", "health_care_only")
    assert "All records at this stage are screened" in widget.card.value


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
    assert widget.full_text_row.layout.display == "flex"
    widget.full_text.value = str(tmp_path / "missing.pdf")
    widget.attach_button.click()
    assert "not found" in widget.message.value
    pdf = tmp_path / "one.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    widget.full_text.value = str(pdf)
    widget.attach_button.click()
    assert "Full text: <code>" in widget.card.value
    widget.forward_button.click()
    assert widget.session.current == 2
    widget.not_retrieved_button.click()
    state = screening.ScreeningState.load(review)
    assert state.full_texts == {1: str(pdf)} and 2 in state.not_retrieved
    assert ScreeningWidget(review, "title_abstract", "am", order="import").full_text_row.layout.display == "none"


def test_inputs_never_carry_over_to_another_record(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    widget.reasons.value = ["children_services"]
    widget.note.value = "kids only"
    widget.exclude_button.click()  # record 1
    widget.back_button.click()
    assert widget.reasons.value == ["children_services"] and widget.note.value == "kids only"
    widget.forward_button.click()  # record 2: nothing decided yet, so empty inputs
    assert widget.session.current == 2 and widget.reasons.value == [] and widget.note.value == ""
    widget.exclude_button.click()
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 2, "am").reasons == ()


def test_one_click_exclusion_with_a_reason_and_modifier_keys(review):
    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    widget.reasons.value = ["children_services"]
    widget.reason_buttons[0].click()  # "Exclude: health_care_only"
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 1, "am").reasons == ("health_care_only", "children_services")
    assert "Saved: exclude (health_care_only, children_services)" in widget.message.value
    widget.on_key({"key": "e", "ctrlKey": True})
    widget.on_key({"key": "e", "repeat": True})
    assert widget.session.current == 2
    widget.on_key({"key": "I"})  # capital letters work too
    assert screening.ScreeningState.load(review).reviewer_decision("title_abstract", 2, "am").decision == "include"


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
