"""The coding widget driven from Python: select a passage, tick codes, add a code, save."""

from __future__ import annotations

import pytest

from review import codebook, coding

import qualitative_fixtures as qf


@pytest.fixture
def review(tmp_path):
    review = qf.build(tmp_path / "rev")
    yield review
    review.close()


def _choose(widget, label_start):
    index = next(i for i, (label, _) in enumerate(widget.sources) if label.startswith(label_start))
    widget.source.value = index


def test_codes_a_passage_with_a_new_code(review):
    from review.widgets.coding import CodingWidget

    widget = CodingWidget(review, coder="jh")
    assert [b.description for b in widget.boxes.values()][:2] == ["Organisational issues",
                                                                   "Managing pooled budgets (barrier, local)"]
    _choose(widget, "record 1 · page 2")
    widget.passage.value = "how much   money is mine"
    widget.select()
    assert "<mark class='rv-selected'>how much money is mine</mark>" in widget.text.value
    widget.boxes["pool"].value = True
    widget.new_code.value, widget.new_label.value, widget.new_parent.value = "mine", "Mine and yours", "org"
    widget.add_code()
    assert widget.boxes["mine"].value and widget.boxes["pool"].value
    widget.save()
    assert "Saved: Managing pooled budgets, Mine and yours" in widget.message.value
    [saved] = coding.current_codings(review)
    assert saved.unit.kind == "passage" and saved.unit.page == 2 and saved.quote == "how much money is mine"
    assert codebook.current(review).codes["mine"].parent == "org"


def test_finding_whole_text_and_escaping(review):
    from review.widgets.coding import CodingWidget

    widget = CodingWidget(review, coder="jc")
    _choose(widget, "A · finding 1")
    assert widget.speaker.value == "LA manager"
    widget.boxes["geo"].value = True
    widget.save()
    [saved] = coding.current_codings(review)
    assert saved.quote == "Disaggregating spending was difficult." and saved.speaker == "LA manager"
    widget.passage.value = "<b>not there</b>"
    widget.select()
    assert "&lt;b&gt;not there" in widget.message.value
    _choose(widget, "record 1 · page 1")
    widget.save()
    assert "select the passage" in widget.message.value
    widget.new_code.value, widget.new_label.value = "geo", "Again"
    widget.add_code()
    assert "already exists" in widget.message.value
