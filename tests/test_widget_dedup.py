"""The duplicate-review widget: decisions persist at once; record text is escaped."""

import pytest

from review import clusters
from review.widgets.dedup_review import DuplicateReview
from review.widgets.html import highlight_differences

XSS = "<img src=x onerror=alert(1)>"


def _ris(path, title, ident):
    path.write_text(f"TY  - RPRT\nAU  - Audit Commission\nTI  - {title}\nPY  - 2009\nID  - {ident}\nER  - \n")
    return path


@pytest.fixture
def review_with_pair(make_review, tmp_path):
    return make_review(files=[
        (_ris(tmp_path / "a.ris", f"Means to an end: joint financing {XSS} final report", "a1"), "HMIC"),
        (_ris(tmp_path / "b.ris", f"Means to an end: joint financing {XSS} appendices", "b1"), "Google"),
    ], dedupe=True)


def test_record_text_is_escaped(review_with_pair):
    widget = DuplicateReview(review_with_pair, who="am")
    assert len(widget.queue) == 1
    html = widget.comparison.value
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>" in html  # the differing words are highlighted


def test_buttons_persist_decisions_and_navigate(review_with_pair):
    widget = DuplicateReview(review_with_pair, who="mg")
    widget.different_button.click()
    assert widget.current is None and "No pairs left" in widget.header.value
    assert widget.progress.value == 1
    (event,) = [e for e in _events(review_with_pair) if e.kind == clusters.DECISION_EVENT]
    assert event.actor == "mg" and event.payload["decision"] == "different"
    widget.back_button.click()
    assert widget.current is not None and "you said <i>different</i>" in widget.header.value
    widget.same_button.click()  # change of mind: a new event, the old one kept
    assert len([e for e in _events(review_with_pair) if e.kind == clusters.DECISION_EVENT]) == 2
    ids = review_with_pair.cluster_ids()
    assert len(set(ids.values())) == 1


def test_highlight_escapes_both_sides():
    a, b = highlight_differences("a <b>bold</b> title", "a <i>bold</i> title")
    assert "<b>" not in a and "&lt;b&gt;bold&lt;/b&gt;" in a and "<mark>" in a and "<mark>" in b


def _events(review):
    from review import store

    with store.read_connection(review.engine) as conn:
        return store.read_events(conn)
