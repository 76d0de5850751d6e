"""ScreeningWidget in real JupyterLab + headless Chromium: escaped record text, buttons, keyboard
shortcuts after a click, the minimum on-screen time, auto-repeat, reasons by number key in the
order chosen, a note saved with its decision, and the "my decisions" list. Every effect is
checked through the Python API, in this process.
"""

from __future__ import annotations

import re

import time

import nbformat
import pytest

from review import screening
from review.project import Review
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect

XSS = "<img src=x onerror=alert(1)>"
SCRIPT = "<script>alert('x')</script>"
STAGE, WHO = "title_abstract", "am"

RECORDS = [  # (title, abstract), imported in this order: record ids 1..5
    (XSS, "Pooled budgets across health and social care in England."),
    ("Pooled budgets across health and social care", f"Abstract 2 about joint finance {SCRIPT} in practice."),
    ("Integrated services for children", "Abstract 3 about children's services."),
    ("A fourth record", "Abstract 4 about pooled budgets."),
    ("A fifth record", "Abstract 5."),
]


def _build_review(root):
    proto = Protocol(
        title="T", include_terms=["pooled budget*", "health and social care"], exclude_terms=["child*"],
        exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                           ExclusionReason("children_services", "Children's services")],
        stages=[Stage("title_abstract", reviewers=["am", "mg"]),
                Stage("full_text", reviewers=["am", "mg"], reason_required=True)],
        reviewers=[Reviewer("am"), Reviewer("mg")],
    )
    path = root / "rev_screen"
    lines = []
    for i, (title, abstract) in enumerate(RECORDS, start=1):
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - Author{i}, A", "PY  - 2010", f"AB  - {abstract}",
                  f"ID  - r{i}", "ER  - ", ""]
    ris = root / "screen_records.ris"
    ris.write_text("\n".join(lines), encoding="utf-8")
    review = Review.init(path, protocol=proto)
    try:
        review.import_file(ris, source="S")
    finally:
        review.close()
    return path


def _write_notebook(root, review_path, name="screening_widget.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\n"
        "from review.widgets.screening import ScreeningWidget\n"
        f"review = Review.open({str(review_path)!r})\n"
        f"ScreeningWidget(review, {STAGE!r}, {WHO!r}, order='import')"
    )]
    nbformat.write(nb, root / name)
    return name


def _history(review_path):
    """(record, decision, reasons) of am's standing decisions at title_abstract, in order."""
    with Review.open(review_path) as review:
        state = screening.ScreeningState.load(review)
    return [(d.record_id, d.decision, d.reasons) for d in state.history[STAGE][WHO]]


def _decision(review_path, record):
    with Review.open(review_path) as review:
        return screening.ScreeningState.load(review).reviewer_decision(STAGE, record, WHO)


def _wait_on_screen(page, widget, record, ms=350):
    """Wait until `record` is shown, then past the widget's minimum on-screen time."""
    expect(widget).to_have_attribute("data-record", str(record))
    page.wait_for_timeout(ms)


def test_screening_widget_in_jupyterlab(jupyter_server, page, run_notebook, tmp_path):
    started = time.monotonic()
    review_path = _build_review(jupyter_server.root)
    notebook = _write_notebook(jupyter_server.root, review_path)

    run_notebook(page, jupyter_server, notebook)

    widget = page.locator(".rv-screen").first
    expect(widget).to_be_visible(timeout=20_000)
    card = widget.locator(".rv-card")
    message = widget.locator(".rv-message")
    progress = widget.locator(".rv-progress-text")

    def button(name):
        return widget.locator("button.rv-button").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))

    # 1. Record 1: the untrusted title is literal text; the inclusion terms are marked; reasons are labels.
    expect(card).to_contain_text("record 1")
    expect(card.locator("h3")).to_have_text(XSS)
    assert widget.locator("img").count() == 0 and widget.locator("script").count() == 0
    assert page.locator(".jp-OutputArea-output img, .jp-OutputArea-output script").count() == 0
    expect(card.locator("mark.rv-inc")).to_have_text(["Pooled budgets", "health and social care"])
    expect(widget.locator("button.rv-reason")).to_have_text(["1 Health care only", "2 Children's services"])
    expect(progress).to_contain_text("0 of 5 decided")
    page.screenshot(path=str(tmp_path / "screening_loaded.png"), full_page=True)

    # 2. Include by button -> saved at once, by the reviewer the widget was opened for.
    button("Include").click()
    expect(message).to_have_text("Saved: Include for record 1.")
    assert _decision(review_path, 1).decision == "include"
    expect(card.locator(".rv-abstract")).to_contain_text(f"joint finance {SCRIPT} in practice")
    assert widget.locator("script").count() == 0 and widget.locator("img").count() == 0

    # 3. Right after that click the focus is still in the widget: a key decides, no hovering needed.
    _wait_on_screen(page, widget, 2)
    page.mouse.move(0, 0)
    page.keyboard.press("e")  # title_abstract needs no reason
    expect(message).to_have_text("Saved: Exclude for record 2.")

    # 4. Keys pressed before the record has been on screen 300 ms decide nothing.
    expect(widget).to_have_attribute("data-record", "3")
    for _ in range(3):
        page.keyboard.press("i")
    expect(message).to_contain_text("Key ignored: record 3 has been on screen only")
    assert _history(review_path) == [(1, "include", ()), (2, "exclude", ())]
    page.wait_for_timeout(350)
    page.keyboard.press("m")
    expect(message).to_have_text("Saved: Maybe for record 3.")

    # 5. A held-down key decides once: the auto-repeated keydowns are ignored.
    _wait_on_screen(page, widget, 4)
    page.keyboard.down("i")
    page.keyboard.down("i")  # repeat=true
    page.keyboard.down("i")
    page.keyboard.up("i")
    expect(message).to_have_text("Saved: Include for record 4.")
    page.wait_for_timeout(400)
    assert _history(review_path) == [(1, "include", ()), (2, "exclude", ()), (3, "maybe", ()), (4, "include", ())]

    # 6. u undoes the last decision and shows that record again; <- and -> move.
    page.keyboard.press("u")
    expect(message).to_have_text("Undone: Include for record 4.")
    expect(widget).to_have_attribute("data-record", "4")
    page.keyboard.press("ArrowLeft")
    expect(card.locator(".rv-mine")).to_contain_text("Your decision: Maybe")
    page.keyboard.press("ArrowRight")
    expect(widget).to_have_attribute("data-record", "4")
    expect(progress).to_contain_text("3 of 5 decided")
    # The keys went to the widget only: JupyterLab's command mode did not act on them
    # (`m` would have turned the cell into Markdown).
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                         ".map((cell) => cell.model.type)") == ["code"]

    # 7. Reasons by number key, in the order chosen (first = primary), and a typed note: both are saved
    # with the decision, in the same message.
    page.keyboard.press("2")
    page.keyboard.press("1")
    expect(widget.locator(".rv-chosen")).to_have_text(
        "Reasons: 1st (primary) Children's services · 2nd Health care only")
    note = widget.locator("textarea.rv-note")
    note.click()
    note.type("about children, i e m")  # letters typed in the note are text, not shortcuts
    note.press("Escape")  # back to the widget: shortcuts work again
    page.wait_for_timeout(350)
    page.keyboard.press("e")
    expect(message).to_have_text("Saved: Exclude (Children's services; Health care only) for record 4, with your note.")
    made = _decision(review_path, 4)
    assert made.reasons == ("children_services", "health_care_only") and made.note == "about children, i e m"
    expect(widget.locator(".rv-chosen")).to_have_text("Reasons: none chosen")  # cleared for the next record
    expect(note).to_have_value("")
    expect(progress).to_contain_text("4 of 5 decided · include 1 · exclude 2 · maybe 1")

    # 8. My decisions: search, filter, and open an earlier record from the list.
    widget.locator("button", has_text="My decisions").click()
    rows = widget.locator("tr.rv-list-row")
    expect(rows).to_have_count(4)
    widget.locator("input.rv-search").fill("about children")  # the note of record 4
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Children's services; Health care only")
    widget.locator("input.rv-search").fill("")
    widget.locator("select.rv-filter-decision").select_option("exclude")
    expect(rows).to_have_count(2)
    widget.locator("select.rv-filter-reason").select_option("children_services")
    expect(rows).to_have_count(1)
    widget.locator("select.rv-filter-decision").select_option("")
    widget.locator("select.rv-filter-reason").select_option("")
    rows.filter(has_text="Pooled budgets across").click()
    expect(widget).to_have_attribute("data-record", "2")
    expect(card.locator(".rv-mine")).to_contain_text("Your decision: Exclude")

    assert page.dialogs == []  # neither alert() ever ran
    print(f"screening widget test body took {time.monotonic() - started:.1f} s; screenshots in {tmp_path}")
