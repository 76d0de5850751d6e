"""DuplicateReview in real JupyterLab + headless Chromium: escaped record text, clicks persist."""

from __future__ import annotations

import nbformat
import pytest

from review import clusters, store
from review.project import Review

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect

XSS = "<img src=x onerror=alert(1)>"


def _ris(path, title, ident):
    path.write_text(f"TY  - RPRT\nAU  - Audit Commission\nTI  - {title}\nPY  - 2009\nID  - {ident}\nER  - \n",
                    encoding="utf-8")
    return path


def _decisions(review_path):
    with Review.open(review_path) as review:
        with store.read_connection(review.engine) as conn:
            events = store.read_events(conn, kind=clusters.DECISION_EVENT)
        return events, review.cluster_ids()


def _build_review(root):
    """A review with two near-duplicate grey-literature records that dedup leaves for a person."""
    path = root / "rev_dedup"
    files = root / "incoming"
    files.mkdir()
    review = Review.init(path, title="T")
    try:
        review.import_file(_ris(files / "a.ris", f"Means to an end: joint financing across health and social care "
                                                 f"{XSS} final report", "a1"), source="HMIC")
        review.import_file(_ris(files / "b.ris", f"Means to an end: joint financing across health and social care "
                                                 f"{XSS} appendices", "b1"), source="Google")
        review.dedupe(who="am", progress=False)
        assert len(clusters.review_queue(review.engine)) == 1, "the fixture pair must land in 'needs review'"
    finally:
        review.close()
    return path


def _write_notebook(root, review_path, name="dedup_widget.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\n"
        "from review.widgets.dedup_review import DuplicateReview\n"
        f"review = Review.open({str(review_path)!r})\n"
        "DuplicateReview(review, who='mg')"
    )]
    nbformat.write(nb, root / name)
    return name


def test_duplicate_review_in_jupyterlab(jupyter_server, page, run_notebook, tmp_path):
    review_path = _build_review(jupyter_server.root)
    notebook = _write_notebook(jupyter_server.root, review_path)

    run_notebook(page, jupyter_server, notebook)

    widget = page.locator(".jp-OutputArea-output .widget-vbox").first
    expect(widget).to_be_visible(timeout=20_000)
    expect(widget.locator(".widget-html", has_text="Pair 1 of 1")).to_be_visible()

    # The record text is shown literally: escaped, never turned into markup.
    table = widget.locator("table.rv-pair")
    expect(table).to_contain_text(f"joint financing across health and social care {XSS} final report")
    expect(table).to_contain_text(f"{XSS} appendices")
    assert widget.locator("img").count() == 0
    assert page.locator(".jp-OutputArea-output img").count() == 0
    assert table.locator("mark").count() > 0  # the differing words are highlighted
    page.screenshot(path=str(tmp_path / "widget_loaded.png"), full_page=True)

    # "Different": persisted at once, by the reviewer the widget was opened for.
    widget.locator('.widget-button:has-text("Different")').click()
    expect(widget.locator(".widget-html", has_text="Saved: different")).to_be_visible()
    expect(widget.locator(".widget-html", has_text="No pairs left")).to_be_visible()
    events, ids = _decisions(review_path)
    assert len(events) == 1
    assert events[0].actor == "mg" and events[0].payload["decision"] == clusters.DIFFERENT
    assert len(set(ids.values())) == 2  # kept apart

    # Change of mind: Back, then "Same" -> a second event; the latest decision wins.
    widget.locator('.widget-button:has-text("Back")').click()
    expect(widget.locator(".widget-html", has_text="you said different")).to_be_visible()
    widget.locator('.widget-button:has-text("Same")').click()
    expect(widget.locator(".widget-html", has_text="Saved: same")).to_be_visible()
    events, ids = _decisions(review_path)
    assert [(e.actor, e.payload["decision"]) for e in events] == [("mg", clusters.DIFFERENT), ("mg", clusters.SAME)]
    assert len(ids) == 2 and len(set(ids.values())) == 1  # the two records are one work now

    assert page.dialogs == []  # no alert(1) ever ran
    page.screenshot(path=str(tmp_path / "widget_after_same.png"), full_page=True)
