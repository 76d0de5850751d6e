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
    ]


def write(name: str, cells) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, NOTEBOOKS / name)


if __name__ == "__main__":
    write("01_import_and_deduplicate.ipynb", notebook_01())
