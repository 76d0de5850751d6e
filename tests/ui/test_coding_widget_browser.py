"""CodingWidget in real JupyterLab + headless Chromium: select a passage, tick a code, add one, save."""

from __future__ import annotations

import nbformat
import pytest

from review import coding
from review.project import Review

import qualitative_fixtures as qf

expect = pytest.importorskip("playwright.sync_api", reason="browser UI tests need playwright for Python",
                             exc_type=ImportError).expect

XSS = "<img src=x onerror=alert(1)>"


def _build_review(root):
    path = root / "rev_coding"
    review = qf.build(path)
    review.close()
    # The page text itself carries markup that must be shown, never run.
    (path / "fulltext.txt").write_text(
        "Introduction\nPooled budgets are hard to agree.\n\f"
        f"Results {XSS}\nThe money became about how much money is mine and how much is yours.\n", encoding="utf-8")
    return path


def _write_notebook(root, review_path, name="coding_widget.ipynb"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\n"
        "from review.widgets.coding import CodingWidget\n"
        f"review = Review.open({str(review_path)!r})\n"
        "CodingWidget(review, coder='jh')"
    )]
    nbformat.write(nb, root / name)
    return name


def test_codes_a_passage_in_jupyterlab(jupyter_server, page, run_notebook, tmp_path):
    review_path = _build_review(jupyter_server.root)
    notebook = _write_notebook(jupyter_server.root, review_path)
    run_notebook(page, jupyter_server, notebook)

    widget = page.locator(".jp-OutputArea-output .rv-coding").first
    expect(widget).to_be_visible(timeout=20_000)
    message = widget.locator(".widget-html").last
    # Labels, not code ids, and sub-codes under their parents.
    expect(widget.locator(".rv-code", has_text="Managing pooled budgets (barrier, local)")).to_be_visible()
    expect(widget.locator(".rv-code", has_text="pool")).to_have_count(1)

    widget.locator(".widget-dropdown select").first.select_option(label="record 1 · page 2")
    text = widget.locator(".rv-text")
    expect(text).to_contain_text(f"Results {XSS}")
    assert page.locator(".jp-OutputArea-output img").count() == 0

    widget.locator("input[placeholder^='type or paste']").fill("how much money   is mine")
    widget.locator(".widget-button", has_text="Select passage").click()
    expect(text.locator("mark.rv-selected")).to_have_text("how much money is mine")

    widget.locator(".rv-code", has_text="Managing pooled budgets").locator("input[type=checkbox]").check()
    # A new code on the fly, under "Organisational issues"; it arrives ticked.
    widget.locator("input[placeholder^='new code id']").fill("mine_yours")
    widget.locator("input[placeholder='label']").fill("Whose money it is")
    widget.locator(".widget-dropdown select").nth(1).select_option(label="Organisational issues")
    widget.locator(".widget-button", has_text="Add code").click()
    expect(message).to_contain_text("Added code Whose money it is")
    expect(widget.locator(".rv-code", has_text="Whose money it is").locator("input[type=checkbox]")).to_be_checked()

    widget.locator(".widget-button", has_text="Save coding").click()
    expect(message).to_contain_text("Saved: Managing pooled budgets, Whose money it is")
    page.screenshot(path=str(tmp_path / "coding_saved.png"), full_page=True)

    with Review.open(review_path) as review:
        [saved] = coding.current_codings(review)
    assert saved.coder == "jh" and saved.codes == ["pool", "mine_yours"]
    assert (saved.unit.kind, saved.unit.record_id, saved.unit.page) == ("passage", 1, 2)
    assert saved.quote == "how much money is mine"
    assert page.dialogs == []
