"""ScreeningWidget in real JupyterLab + headless Chromium: escaped record text, buttons, the
ipyevents keyboard shortcuts (only a real browser can deliver them), and exclusion reasons
typed into the TagsInput. Every effect is checked through the Python API, in this process.

ipyevents (v2) listens for keydown on `document` only while the mouse is over the watched
Box (mouseenter adds the listener and focuses the box, mouseleave removes it); the mouse
stays where Playwright last clicked, so the test clicks the record card before pressing keys.
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


# True once no widget model of the open notebook has a state update in flight or buffered
# (null when the ipywidgets manager cannot be found). A state update counts as answered only
# after the kernel has handled it, so afterwards a click is sure to see the new value. This
# matters here: with ipykernel 7.4 and JupyterLab 4.6 (comms over subshells, the default),
# the TagsInput's updates are handled on a subshell thread while the Exclude button's click is
# handled on the main thread, so a click sent right after an update can overtake it.
_WIDGETS_SYNCED_JS = """async () => {
  const find = (w) => {
    if (w._manager && w._manager.promise) return w;
    for (const child of w.children()) { const found = find(child); if (found) return found; }
    return null;
  };
  const renderer = find(window.jupyterapp.shell.currentWidget.content);
  if (!renderer) return null;
  const manager = await renderer._manager.promise;
  if (!manager || !manager._models) return null;
  const models = await Promise.all(Object.values(manager._models));
  return models.every((m) => !m._pending_msgs && !m._msg_buffer);
}"""


def _wait_widgets_synced(page, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        synced = page.evaluate(_WIDGETS_SYNCED_JS)
        if synced is None:  # ipywidgets internals moved: fall back to a pause
            print("widget manager internals not found; pausing 1 s instead")
            page.wait_for_timeout(1000)
            return
        if synced:
            return
        assert time.monotonic() < deadline, f"widget state still unsynced after {timeout} s"
        page.wait_for_timeout(50)


def _history(review_path):
    """(record, decision, reasons) of am's standing decisions at title_abstract, in order."""
    with Review.open(review_path) as review:
        state = screening.ScreeningState.load(review)
    return [(d.record_id, d.decision, d.reasons) for d in state.history[STAGE][WHO]]


def _decision(review_path, record):
    with Review.open(review_path) as review:
        return screening.ScreeningState.load(review).reviewer_decision(STAGE, record, WHO)


def test_screening_widget_in_jupyterlab(jupyter_server, page, run_notebook, tmp_path):
    started = time.monotonic()
    review_path = _build_review(jupyter_server.root)
    notebook = _write_notebook(jupyter_server.root, review_path)

    run_notebook(page, jupyter_server, notebook)

    widget = page.locator(".jp-OutputArea-output .widget-vbox").first
    expect(widget).to_be_visible(timeout=20_000)
    card = widget.locator(".rv-card")
    message = widget.locator(".widget-html").last  # the widget's message line
    progress = widget.locator(".widget-html", has_text="decided ·")

    def button(name):
        # Exact name: "Exclude" must not match the "Exclude: <reason>" buttons.
        return widget.locator(".widget-button").filter(has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))

    # 1. Record 1: the untrusted title is literal text; the inclusion terms are marked.
    expect(card).to_contain_text("record 1")
    expect(card.locator("h3")).to_have_text(XSS)
    assert widget.locator("img").count() == 0 and widget.locator("script").count() == 0
    assert page.locator(".jp-OutputArea-output img, .jp-OutputArea-output script").count() == 0
    expect(card.locator("mark.rv-inc")).to_have_text(["Pooled budgets", "health and social care"])
    expect(progress).to_contain_text("0 of 5 decided")
    page.screenshot(path=str(tmp_path / "screening_loaded.png"), full_page=True)

    # 2. Include by button -> saved at once, by the reviewer the widget was opened for.
    button("Include").click()
    expect(message).to_have_text("Saved: include for record 1.")
    assert _decision(review_path, 1).decision == "include"
    expect(card).to_contain_text("record 2")
    expect(card.locator(".rv-abstract")).to_contain_text(f"joint finance {SCRIPT} in practice")
    assert widget.locator("script").count() == 0 and widget.locator("img").count() == 0

    # 3. Keyboard shortcuts, through ipyevents: hover/click the record card, then press keys.
    card.click()
    expect(widget.locator(".ipyevents-watched")).to_have_count(1)
    page.keyboard.press("e")  # title_abstract needs no reason
    expect(message).to_have_text("Saved: exclude for record 2.")
    expect(card).to_contain_text("record 3")
    page.keyboard.press("m")
    expect(message).to_have_text("Saved: maybe for record 3.")
    expect(card).to_contain_text("record 4")
    assert _history(review_path) == [(1, "include", ()), (2, "exclude", ()), (3, "maybe", ())]
    page.keyboard.press("u")  # withdraws the maybe and shows record 3 again
    expect(message).to_have_text("Undone: maybe for record 3.")
    expect(card).to_contain_text("record 3")
    assert _history(review_path) == [(1, "include", ()), (2, "exclude", ())]
    assert _decision(review_path, 3) is None
    page.keyboard.press("ArrowLeft")
    expect(card).to_contain_text("record 2")
    expect(card.locator(".rv-mine")).to_have_text("Your decision: exclude")
    page.keyboard.press("ArrowRight")
    expect(card).to_contain_text("record 3")
    expect(progress).to_contain_text("2 of 5 decided")
    # The keys went to the widget only: JupyterLab's command mode did not act on them
    # (`m` would have turned the cell into Markdown).
    assert page.evaluate("() => window.jupyterapp.shell.currentWidget.content.widgets"
                         ".map((cell) => cell.model.type)") == ["code"]

    # 4. Exclusion reasons typed into the TagsInput, then Exclude: saved, in the order typed.
    # In JupyterLab >= 4.2 Enter alone does not commit a TagsInput entry: the lab's keydown
    # guard (evtKeydown) cancels the `beforeinput` insertLineBreak of any input inside a
    # .jp-Cell, so Chromium never fires the `change` event TagsInput listens to. Leaving the
    # field (Tab, or a click elsewhere) does fire it; the test relies on that, as users must.
    tags = widget.locator(".jupyter-widget-tagsinput")
    tag_input = tags.locator("input.jupyter-widget-taginput")
    tag = tags.locator("div.jupyter-widget-tag")
    tags.click()  # moves the mouse off the card: ipyevents stops taking the keys
    expect(widget.locator(".ipyevents-watched")).to_have_count(0)
    tag_input.fill("children_services")
    tag_input.press("Enter")
    if tag.count() == 0:
        print("TagsInput: Enter did not add the tag (JupyterLab's beforeinput guard); Tab does")
    tag_input.press("Tab")
    expect(tag).to_have_text(["children_services"])
    tags.click()
    tag_input.fill("not_a_protocol_code")  # not in allowed_tags: refused
    tag_input.press("Tab")
    expect(tag).to_have_text(["children_services"])
    tags.click()
    tag_input.fill("health_care_only")
    tag_input.press("Tab")
    expect(tag).to_have_text(["children_services", "health_care_only"])
    _wait_widgets_synced(page)  # the kernel has both reasons before the click (see _WIDGETS_SYNCED_JS)
    button("Exclude").click()
    expect(message).to_have_text("Saved: exclude (children_services, health_care_only) for record 3.")
    expect(card).to_contain_text("record 4")
    assert _decision(review_path, 3).reasons == ("children_services", "health_care_only")
    assert _history(review_path) == [(1, "include", ()), (2, "exclude", ()),
                                     (3, "exclude", ("children_services", "health_care_only"))]
    expect(tag).to_have_count(0)  # cleared for the next record
    expect(progress).to_contain_text("3 of 5 decided · include 1 · exclude 2 · maybe 0")
    button("Back").click()
    expect(card.locator(".rv-mine")).to_have_text("Your decision: exclude (children_services, health_care_only)")

    assert page.dialogs == []  # neither alert() ever ran
    print(f"screening widget test body took {time.monotonic() - started:.1f} s; screenshots in {tmp_path}")
