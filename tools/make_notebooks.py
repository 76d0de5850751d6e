"""Write the notebooks from their cell sources (kept here so diffs stay readable).

Run: .venv/bin/python tools/make_notebooks.py   (outputs are left empty; nbval executes them)
"""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_01():
    return [
        new_markdown_cell(
            "# 1 · Import the searches (and, next, deduplicate)\n\n"
            "A review is a folder: the protocol `review.yaml`, the database `review.db` and the raw exports "
            "kept as they came in `imports/`. This notebook creates the worked example review "
            "(Mason, Goddard & Weatherly 2014, *Financial mechanisms for integrating funds for health and social "
            "care*) and imports its search exports from `references/`.\n\n"
            "Every step here is one call into the `review` package; the command line does the same "
            "(`review init`, `review import`, `review status`)."
        ),
        new_code_cell(
            "import shutil\n"
            "\n"
            "import pandas as pd\n"
            "\n"
            "from review.example import EXAMPLE, REPO, example_sources\n"
            "from review.project import Review\n"
            "\n"
            "folder = REPO / \"build\" / \"notebook-01\"\n"
            "if folder.exists():\n"
            "    shutil.rmtree(folder)  # start from scratch each run, so counts are reproducible\n"
            "review = Review.init(folder, protocol=EXAMPLE / \"review.yaml\")\n"
            "print(review.protocol.title)"
        ),
        new_markdown_cell("The protocol holds the eligibility criteria (Table 2 of the paper) and the exclusion reasons "
                          "with their short codes:"),
        new_code_cell(
            "pd.DataFrame([(r.code, r.label) for r in review.protocol.exclusion_reasons], columns=[\"code\", \"label\"])"
        ),
        new_markdown_cell("## Import each search export\n\nEach import records the file, its sha256, the database "
                          "searched and the search date; importing the same file twice does nothing."),
        new_code_cell(
            "for source in example_sources():\n"
            "    result = review.import_file(REPO / source[\"file\"], source=source[\"source\"],\n"
            "                                search_date=source.get(\"search_date\"), who=\"am\")\n"
            "    print(f\"{source['file']}: {result.records} records ({result.format}, {result.encoding})\")\n"
            "review.imports_frame()"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "status = review.status()\n"
            "print(\"records:\", status.records)\n"
            "print(\"imports:\", len(status.imports))\n"
            "print(\"per source:\", status.records_per_source)"
        ),
        new_code_cell(
            "again = review.import_file(REPO / example_sources()[0][\"file\"], source=\"again\")\n"
            "print(again.message)"
        ),
        new_markdown_cell("## The records\n\nDisplay fields as the source printed them, normalised keys for matching, "
                          "and provenance (import file and the record's own ID in it)."),
        new_code_cell(
            "records = review.records_frame()\n"
            "records[[\"record_id\", \"source_id\", \"type\", \"title\", \"year\", \"journal\", \"norm_first_author\", "
            "\"norm_title\"]].head(10)"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(records[\"type\"].value_counts().sort_index().to_string())"
        ),
        new_markdown_cell(
            "## Deduplicate\n\n"
            "Stage 1 joins records with the same DOI or PMID (when their titles agree); stage 2 finds candidate "
            "pairs by several blocking passes and compares title, authors, year, journal, volume, issue, pages, "
            "DOI and URL with rapidfuzz. Each pair is **auto-merge**, **needs review** or **distinct**; errata, "
            "replies, part 1 / part 2, appendices and the same report in another year are never merged "
            "automatically. The run and every decision are events in the log."
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "summary = review.dedupe(who=\"am\", progress=False)\n"
            "print(f\"unique records: {summary.clusters}, duplicates removed: {summary.duplicates}\")\n"
            "print(f\"auto-merged pairs: {summary.auto_merged}, pairs to review: {summary.needs_review}\")"
        ),
        new_markdown_cell("The reference list of a published review has no true duplicates, but it has near "
                          "neighbours a careless merge would lose: a final report and its appendices, two "
                          "reports of one evaluation, a programme's papers from different years."),
        new_code_cell(
            "from review import clusters\n"
            "\n"
            "clusters.queue_frame(review)"
        ),
        new_markdown_cell("## Review the uncertain pairs\n\nBoth records side by side, the differing words "
                          "highlighted, each field's similarity. Every click is saved at once."),
        new_code_cell(
            "from review.widgets.dedup_review import DuplicateReview\n"
            "\n"
            "widget = DuplicateReview(review, who=\"am\")\n"
            "widget"
        ),
        new_markdown_cell("In this worked example every uncertain pair is two different works. The cell below "
                          "decides them through the same call the **Different** button makes (so the notebook "
                          "runs unattended, as in CI)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "while widget.current is not None:\n"
            "    widget.different_button.click()\n"
            "summary = review.dedup_summary()\n"
            "print(f\"decided different: {summary.decided_different}, still to review: {summary.pending_review}\")\n"
            "print(f\"unique records: {summary.clusters}\")"
        ),
        new_code_cell(
            "review.records_frame()[[\"record_id\", \"cluster_id\", \"source\", \"title\"]].head()"
        ),
    ]


def write(name: str, cells) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, NOTEBOOKS / name)


if __name__ == "__main__":
    write("01_import_and_deduplicate.ipynb", notebook_01())
