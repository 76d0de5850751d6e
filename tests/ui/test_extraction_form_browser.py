"""ExtractionForm in real JupyterLab + headless Chromium: a refused "Save as complete" lists every
problem at the top, multiple choice is ticked, labels and buttons are not cut off, and a filled form
is saved as complete (checked through the Python API)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from review import extraction, schemes, screening
from review.example import EXAMPLE
from review.project import Review

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect

REPO = Path(__file__).resolve().parents[2]


def test_fill_and_save_an_extraction_form(jupyter_server, page, run_notebook):
    path = jupyter_server.root / "rev_extract"
    with Review.init(path, protocol=EXAMPLE / "review.yaml") as review:
        review.import_file(REPO / "references" / "mason2014_reference_list.ris", source="S")
        screening.import_decisions(review, EXAMPLE / "screening_decisions.csv", who="am")
        schemes.create_scheme(review, "Torbay", who="am", scheme_id="T")
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\nfrom review.widgets.extraction_form import ExtractionForm\n"
        f"ExtractionForm(Review.open({str(path)!r}), 'T', 'irm_scheme', extractor='mg')")]
    nbformat.write(nb, jupyter_server.root / "extract.ipynb")
    run_notebook(page, jupyter_server, "extract.ipynb")

    form = page.locator(".jp-OutputArea-output .widget-vbox").first
    expect(form).to_contain_text("scheme T", timeout=20_000)
    complete = form.locator(".widget-button", has_text="Save as complete")
    expect(complete).to_be_visible()
    # The button's whole label is shown (it used to read "Save as compl…").
    assert complete.evaluate("(b) => b.scrollWidth <= b.clientWidth + 1")
    complete.click()
    summary = form.locator("text=Not saved as complete")
    expect(summary).to_be_visible()
    for field in ("country", "scheme_name", "irm_type", "study_designs", "outcomes"):
        expect(form.locator("code", has_text=field).first).to_be_visible()
    # The summary is above the first field, where it is seen without scrolling.
    assert summary.bounding_box()["y"] < form.locator("text=Country").first.bounding_box()["y"]

    def row(label):
        return form.locator(".widget-hbox").filter(has=page.locator(".widget-html", has_text=label)).first

    row("Country").locator("select").first.select_option(label="England")
    row("Scheme name").locator("input[type=text]").fill("Torbay Care Trust")
    form.locator(".widget-checkbox", has_text="Structural integration").locator("input").check()
    form.locator(".widget-checkbox", has_text="Qualitative").first.locator("input").check()
    form.locator(".widget-checkbox", has_text="Uncontrolled").first.locator("input").check()
    row("N control").locator("select").last.select_option(label="not reported")
    form.locator(".widget-button", has_text="Add Outcome findings row").click()
    outcome = form.locator(".widget-vbox").filter(has=page.locator(".widget-button", has_text="Remove row")).last
    row_domain = outcome.locator(".widget-hbox").filter(has=page.locator(".widget-html", has_text="Domain")).first
    row_domain.locator("select").first.select_option(index=1)
    row_direction = outcome.locator(".widget-hbox").filter(
        has=page.locator(".widget-html", has_text="Direction")).first
    row_direction.locator("select").first.select_option(index=1)
    page.wait_for_timeout(500)  # the last change reaches the kernel before the click
    complete.click()
    expect(form.locator(".widget-html", has_text="Saved as complete.")).to_be_visible()
    expect(summary).to_have_count(0)
    expect(form).to_contain_text("mg · complete")

    with Review.open(path) as review:
        saved = extraction.latest_by_extractor(review, "T", "irm_scheme")["mg"]
    assert saved.status == "complete"
    assert saved.values["country"] == "england" and saved.values["scheme_name"] == "Torbay Care Trust"
    assert saved.values["irm_type"] == ["structural_integration"]
    assert saved.values["study_designs"] == ["qualitative", "uncontrolled"]
    assert saved.values["n_control"] == {"special": "not_reported"}
    assert len(saved.values["outcomes"]) == 1
