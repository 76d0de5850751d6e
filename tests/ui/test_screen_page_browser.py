"""`review screen` and `review conflicts` as pages of their own (no Jupyter) in headless Chromium:
ten records screened by clicks and keys, each decision checked in the review's log."""

from __future__ import annotations

import re
import subprocess
import sys
import time

import pytest

from review import screening, stopping
from review.project import Review
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect


def _build(root):
    proto = Protocol(
        title="Page test", include_terms=["pooled budget*"],
        exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                           ExclusionReason("children_services", "Children's services")],
        stages=[Stage("title_abstract", "Title and abstract", reviewers=["am", "mg"]),
                Stage("full_text", "Full text", reviewers=["am", "mg"], reason_required=True)],
        reviewers=[Reviewer("am", "Alison Mason"), Reviewer("mg", "Mark Gale")],
    )
    lines = []
    for i in range(1, 13):
        lines += ["TY  - JOUR", f"TI  - Record {i} on pooled budgets <b>bold?</b>", f"AU  - Author{i}, A",
                  "PY  - 2010", f"AB  - Abstract {i}.", f"ID  - r{i}", "ER  - ", ""]
    (root / "page.ris").write_text("\n".join(lines), encoding="utf-8")
    with Review.init(root / "rev_page", protocol=proto) as review:
        review.import_file(root / "page.ris", source="S")
    return root / "rev_page"


def _serve(*args):
    """Start `review <args> --port 0 --no-browser`; return (process, url)."""
    proc = subprocess.Popen([sys.executable, "-m", "review.cli", *map(str, args), "--no-browser"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    line = proc.stdout.readline()
    match = re.search(r"serving on (http://127\.0\.0\.1:\d+/)", line)
    if not match:
        proc.kill()
        raise AssertionError(f"no address printed: {line!r} {proc.stdout.read()}")
    return proc, match.group(1)


def _stop(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _history(path, who="am"):
    with Review.open(path) as review:
        state = screening.ScreeningState.load(review)
    return [(d.record_id, d.decision, d.reasons, d.note) for d in state.history["title_abstract"][who]]


def test_screen_ten_records_on_the_standalone_page(tmp_path, page):
    path = _build(tmp_path)
    proc, url = _serve("screen", path, "--stage", "title_abstract", "--reviewer", "am", "--order", "import")
    try:
        page.goto(url)
        widget = page.locator(".rv-screen")
        expect(widget).to_have_attribute("data-record", "1")
        assert page.locator("code, .jp-Cell, .CodeMirror, .cm-editor").count() == 0  # no notebook code
        expect(widget.locator(".rv-card h3")).to_have_text("Record 1 on pooled budgets <b>bold?</b>")
        assert widget.locator(".rv-card b").count() == 0  # the title is text, not markup
        expect(widget.locator(".rv-header")).to_contain_text("reviewer am")

        expected = []
        for record in range(1, 11):
            expect(widget).to_have_attribute("data-record", str(record))
            if record % 3 == 1:
                widget.locator("button.rv-include").click()
                expected.append((record, "include", (), ""))
            elif record % 3 == 2:
                page.wait_for_timeout(350)  # a key counts once the record has been seen for 300 ms
                page.keyboard.press("2")
                page.keyboard.press("e")
                expected.append((record, "exclude", ("children_services",), ""))
            else:
                widget.locator("textarea.rv-note").fill(f"unsure about {record}")
                widget.locator("button.rv-maybe").click()
                expected.append((record, "maybe", (), f"unsure about {record}"))
            expect(widget.locator(".rv-message")).to_contain_text(f"for record {record}")
        expect(widget).to_have_attribute("data-record", "11")
        expect(widget.locator(".rv-progress-text")).to_contain_text("10 of 12 decided")
        assert _history(path) == expected
        widget.locator("button", has_text="My decisions").click()
        expect(widget.locator("tr.rv-list-row")).to_have_count(10)
    finally:
        _stop(proc)


def test_stopping_panel_on_the_standalone_page(tmp_path, page):
    """The stopping rule is on the page, not only in the notebook: it follows each decision, and a
    target typed into its boxes is used and logged; one out of range is refused with a message."""
    path = _build(tmp_path)
    proc, url = _serve("screen", path, "--stage", "title_abstract", "--reviewer", "am", "--order", "import")
    try:
        page.goto(url)
        widget = page.locator(".rv-screen")
        panel = widget.locator(".rv-stopping-status")
        expect(panel).to_contain_text("Screened 0 of 12, relevant 0")
        widget.locator("button.rv-include").click()
        expect(panel).to_contain_text("Screened 1 of 12, relevant 1")
        expect(panel).to_contain_text("Not yet")
        widget.locator("button.rv-exclude").click()
        expect(panel).to_contain_text("Screened 2 of 12, relevant 1")

        confidence = widget.locator("input.rv-stopping-confidence")
        expect(confidence).to_have_value("0.95")
        confidence.fill("0.99")
        confidence.press("Enter")
        expect(widget.locator(".rv-message")).to_have_text("Stopping rule: 95% recall at 99% confidence.")
        expect(panel).to_contain_text("99.0% confidence")
        with Review.open(path) as review:
            assert stopping.current_rule(review, "title_abstract", "am") == (0.95, 0.99)

        recall = widget.locator("input.rv-stopping-recall")
        recall.fill("1.5")
        recall.press("Tab")
        expect(widget.locator(".rv-message")).to_contain_text("Target recall must be a number between 0.5 and 0.999")
        expect(recall).to_have_value("0.95")  # the box shows the target in force again
        with Review.open(path) as review:
            assert stopping.current_rule(review, "title_abstract", "am") == (0.95, 0.99)
    finally:
        _stop(proc)


def test_resolve_a_conflict_on_the_standalone_page(tmp_path, page):
    path = _build(tmp_path)
    with Review.open(path) as review:
        screening.decide(review, "title_abstract", "am", 1, "include")
        screening.decide(review, "title_abstract", "mg", 1, "exclude", ["health_care_only"], "NHS only")
    proc, url = _serve("conflicts", path, "--stage", "title_abstract", "--reviewer", "am")
    try:
        page.goto(url)
        widget = page.locator(".rv-conflicts")
        expect(widget).to_have_attribute("data-record", "1")
        expect(widget.locator(".rv-reviewer").nth(1)).to_contain_text("Mark Gale (mg)")
        widget.locator("textarea.rv-note").fill("agreed: pooled budget described")
        widget.locator("button", has_text="Resolve as Include").click()
        expect(widget.locator(".rv-message")).to_have_text("Resolved record 1 as Include.")
        with Review.open(path) as review:
            assert screening.ScreeningState.load(review).outcome("title_abstract", 1) == "include"
    finally:
        _stop(proc)


def test_page_refuses_other_hosts(tmp_path):
    import urllib.error
    import urllib.request

    path = _build(tmp_path)
    proc, url = _serve("screen", path, "--stage", "title_abstract", "--reviewer", "am")
    try:
        request = urllib.request.Request(url + "state", headers={"Host": "evil.example"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
        with urllib.request.urlopen(url + "state", timeout=10) as answer:
            assert answer.status == 200
    finally:
        _stop(proc)
