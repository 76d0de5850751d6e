"""ConflictsWidget in real JupyterLab + headless Chromium: both reviewers side by side, a refused
consensus without a note keeps what was chosen, then the resolution is saved (checked in the log)."""

from __future__ import annotations

import nbformat
import pytest

from review import screening
from review.project import Review
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect


def _build(root):
    proto = Protocol(
        title="T", exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                                      ExclusionReason("children_services", "Children's services")],
        stages=[Stage("title_abstract", "Title and abstract", reviewers=["am", "mg"]),
                Stage("full_text", reviewers=["am", "mg"], reason_required=True)],
        reviewers=[Reviewer("am", "Alison Mason"), Reviewer("mg", "Mark Gale")],
    )
    path = root / "rev_conflicts"
    lines = []
    titles = ["<img src=x onerror=alert(1)>", "Pooled budgets in Scotland", "Agreed record"]
    for i, title in enumerate(titles, start=1):
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - Author{i}, A", "PY  - 2010", f"ID  - r{i}", "ER  - ", ""]
    (root / "conflicts.ris").write_text("\n".join(lines), encoding="utf-8")
    with Review.init(path, protocol=proto) as review:
        review.import_file(root / "conflicts.ris", source="S")
        screening.decide(review, "title_abstract", "am", 1, "include", note="looks relevant")
        screening.decide(review, "title_abstract", "mg", 1, "exclude", ["health_care_only"], "NHS only")
        screening.decide(review, "title_abstract", "am", 2, "exclude", ["children_services"])
        screening.decide(review, "title_abstract", "mg", 2, "maybe")
        screening.decide(review, "title_abstract", "am", 3, "include")
        screening.decide(review, "title_abstract", "mg", 3, "include")
    return path


def test_conflicts_widget_in_jupyterlab(jupyter_server, page, run_notebook):
    path = _build(jupyter_server.root)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\nfrom review.widgets.conflicts import ConflictsWidget\n"
        f"ConflictsWidget(Review.open({str(path)!r}), 'title_abstract', 'am')")]
    nbformat.write(nb, jupyter_server.root / "conflicts.ipynb")
    run_notebook(page, jupyter_server, "conflicts.ipynb")

    widget = page.locator(".rv-conflicts").first
    expect(widget).to_be_visible(timeout=20_000)
    expect(widget.locator(".rv-progress-text")).to_have_text("0 of 2 conflicts resolved")
    expect(widget.locator("tr.rv-list-row")).to_have_count(2)  # the agreed record is not a conflict
    expect(widget).to_have_attribute("data-record", "1")
    expect(widget.locator(".rv-card h3")).to_have_text("<img src=x onerror=alert(1)>")
    assert widget.locator("img").count() == 0
    sides = widget.locator(".rv-reviewer")
    expect(sides).to_have_count(2)
    expect(sides.nth(0)).to_contain_text("Alison Mason (am)IncludeNote: looks relevant")
    expect(sides.nth(1)).to_contain_text("Mark Gale (mg)ExcludeReasons: Health care onlyNote: NHS only")

    # Consensus without a note is refused, and the chosen reason stays chosen.
    widget.locator("button.rv-reason", has_text="Health care only").click()
    widget.locator("button", has_text="Resolve as Exclude").click()
    expect(widget.locator(".rv-message")).to_contain_text("needs a note")
    expect(widget.locator(".rv-chosen")).to_have_text("Reasons: 1st (primary) Health care only")
    widget.locator("textarea.rv-note").fill("agreed on the call: NHS services only")
    widget.locator("button", has_text="Resolve as Exclude").click()
    expect(widget.locator(".rv-message")).to_have_text("Resolved record 1 as Exclude.")
    expect(widget.locator(".rv-progress-text")).to_have_text("1 of 2 conflicts resolved")
    expect(widget).to_have_attribute("data-record", "2")
    with Review.open(path) as review:
        resolution = screening.ScreeningState.load(review).resolutions["title_abstract"][1]
    assert (resolution.decision, resolution.reasons, resolution.method, resolution.note) == (
        "exclude", ("health_care_only",), "consensus", "agreed on the call: NHS services only")

    # Filter and search the list; open a resolved record from it.
    widget.locator("select.rv-filter-status").select_option("resolved")
    rows = widget.locator("tr.rv-list-row")
    expect(rows).to_have_count(1)
    rows.first.click()
    expect(widget).to_have_attribute("data-record", "1")
    expect(widget.locator(".rv-current")).to_contain_text("Resolved as Exclude (Health care only) by Alison Mason")
    widget.locator("select.rv-filter-status").select_option("")
    widget.locator("input.rv-search").fill("scotland")
    expect(rows).to_have_count(1)
    assert page.dialogs == []
