"""The stopping-rule panel of the screening widget in real JupyterLab + headless Chromium: it updates
after each click, a target typed into its box is used and logged. Effects are checked through the API."""

from __future__ import annotations


import nbformat
import pytest

from review import screening, stopping
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect

STAGE, WHO, N = "title_abstract", "am", 60
DONE = 50  # decided through the API before the widget opens: 1 include, then exclusions


def _build_review(root):
    proto = Protocol(title="T", stages=[Stage(STAGE, reviewers=["am", "mg"])], reviewers=[Reviewer("am"),
                                                                                           Reviewer("mg")])
    lines = []
    for i in range(1, N + 1):
        lines += ["TY  - JOUR", f"TI  - Record {i} <b>bold</b>", f"AU  - Author{i}, A", "PY  - 2010",
                  f"AB  - Abstract {i}.", f"ID  - r{i}", "ER  - ", ""]
    ris = root / "stopping_records.ris"
    ris.write_text("\n".join(lines), encoding="utf-8")
    path = root / "rev_stopping"
    review = Review.init(path, protocol=proto)
    try:
        review.import_file(ris, source="S")
        for record in range(1, DONE + 1):
            screening.decide(review, STAGE, WHO, record, "include" if record == 1 else "exclude")
    finally:
        review.close()
    return path


def test_stopping_panel_in_jupyterlab(jupyter_server, page, run_notebook):
    review_path = _build_review(jupyter_server.root)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\nfrom review.widgets.screening import ScreeningWidget\n"
        f"ScreeningWidget(Review.open({str(review_path)!r}), {STAGE!r}, {WHO!r}, order='import')")]
    nbformat.write(nb, jupyter_server.root / "stopping_panel.ipynb")
    run_notebook(page, jupyter_server, "stopping_panel.ipynb")

    widget = page.locator(".jp-OutputArea-output .widget-vbox").first
    panel = widget.locator(".rv-stopping")
    expect(panel).to_contain_text(f"Screened {DONE} of {N}, relevant 1", timeout=20_000)

    exclude = widget.locator("button.rv-exclude")  # the screening widget's own Exclude button

    exclude.click()
    expect(panel).to_contain_text(f"Screened {DONE + 1} of {N}, relevant 1")
    expect(panel).to_contain_text("Not yet")
    more = int(panel.locator(".rv-more").inner_text())
    assert 0 < more < N - DONE - 1
    for i in range(more):
        exclude.click()
        # one decision at a time: a click on a record no longer shown is refused, not counted
        expect(panel).to_contain_text(f"Screened {DONE + 2 + i} of {N}")
    expect(panel).to_contain_text("Target met")
    expect(panel).to_contain_text(f"Screened {DONE + 1 + more} of {N}")

    # A stricter confidence typed into the panel: the rule is re-tested and the setting logged.
    confidence = widget.locator("input.rv-stopping-confidence")
    confidence.fill("0.99")
    confidence.press("Tab")
    expect(panel).to_contain_text("Not yet")
    with Review.open(review_path) as review:
        kinds = [e["kind"] for e in stopping.rule_events(review)]
        assert stopping.current_rule(review, STAGE, WHO) == (0.95, 0.99)
    assert kinds == [stopping.RULE_EVENT, stopping.FIRED_EVENT, stopping.RULE_EVENT]
    assert page.dialogs == []
