"""The conflicts widget: only finished disagreements are listed; resolution as the protocol says."""

import pytest

from review import screening
from review.project import Review
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage
from review.widgets.conflicts import ConflictsWidget


def _review(tmp_path, resolution="consensus", resolver=""):
    proto = Protocol(
        title="T", exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                                      ExclusionReason("children_services", "Children's services")],
        stages=[Stage("title_abstract", "Title and abstract", reviewers=["am", "mg"], resolution=resolution,
                      resolver=resolver),
                Stage("full_text", reviewers=["am", "mg"], reason_required=True)],
        reviewers=[Reviewer("am", "Alison Mason"), Reviewer("mg", "Mark Gale"), Reviewer("jb", "Jo Bloggs")],
    )
    review = Review.init(tmp_path / "r", protocol=proto)
    lines = []
    for i in range(1, 5):
        lines += ["TY  - JOUR", f"TI  - Record <b>{i}</b>", f"AU  - Author{i}, A", "PY  - 2010", f"ID  - r{i}",
                  "ER  - ", ""]
    (tmp_path / "x.ris").write_text("\n".join(lines))
    review.import_file(tmp_path / "x.ris", source="S")
    screening.decide(review, "title_abstract", "am", 1, "include")
    screening.decide(review, "title_abstract", "mg", 1, "exclude", ["children_services"], "only children")
    screening.decide(review, "title_abstract", "am", 2, "include")
    screening.decide(review, "title_abstract", "mg", 2, "include")  # agreement: no conflict
    screening.decide(review, "title_abstract", "am", 3, "exclude")  # mg has not decided: not shown
    screening.decide(review, "title_abstract", "am", 4, "maybe")
    screening.decide(review, "title_abstract", "mg", 4, "include")
    return review


def test_conflicts_side_by_side_and_consensus_needs_a_note(tmp_path):
    review = _review(tmp_path)
    try:
        widget = ConflictsWidget(review, "title_abstract", "am")
        view = widget.face.view
        assert [i["record"] for i in view["items"]] == [1, 4] and view["record"] == 1
        assert view["reviewers"] == [
            {"who": "Alison Mason (am)", "decision": "Include", "reasons": "", "note": "",
             "when": view["reviewers"][0]["when"]},
            {"who": "Mark Gale (mg)", "decision": "Exclude", "reasons": "Children's services",
             "note": "only children", "when": view["reviewers"][1]["when"]}]
        assert "&lt;b&gt;1&lt;/b&gt;" in view["card"] and "<b>1</b>" not in view["card"]
        widget.handle({"action": "resolve", "decision": "exclude", "reasons": ["children_services"], "note": "",
                       "record": 1})
        assert widget.face.view["message_kind"] == "error" and "needs a note" in widget.face.view["message"]
        assert screening.ScreeningState.load(review).outcome("title_abstract", 1) == "conflict"
        widget.handle({"action": "resolve", "decision": "include", "reasons": ["children_services"],
                       "note": "agreed at meeting", "record": 1})
        assert "Not saved" in widget.face.view["message"] and "reasons go with an exclusion" in widget.face.view["message"]
        widget.handle({"action": "resolve", "decision": "exclude", "reasons": ["children_services"],
                       "note": "agreed at meeting", "record": 1})
        view = widget.face.view
        assert view["message"] == "Resolved record 1 as Exclude." and view["record"] == 4 and view["resolved"] == 1
        state = screening.ScreeningState.load(review)
        assert state.outcome("title_abstract", 1) == "exclude"
        assert state.resolutions["title_abstract"][1].method == "consensus"
        assert list(widget.frame()["resolved as"]) == ["Exclude", ""]
    finally:
        review.close()


def test_third_reviewer_only_the_resolver_resolves(tmp_path):
    review = _review(tmp_path, resolution="third_reviewer", resolver="jb")
    try:
        reader = ConflictsWidget(review, "title_abstract", "am")
        assert reader.face.view["can_resolve"] is False and "Jo Bloggs (jb)" in reader.face.view["method"]
        reader.handle({"action": "resolve", "decision": "include", "note": "x", "record": 1})
        assert reader.face.view["message_kind"] == "error"
        resolver = ConflictsWidget(review, "title_abstract", "jb")
        resolver.handle({"action": "open", "record": 4})
        resolver.handle({"action": "resolve", "decision": "include", "record": 4})
        assert screening.ScreeningState.load(review).outcome("title_abstract", 4) == "include"
        assert resolver.face.view["record"] == 1
    finally:
        review.close()
