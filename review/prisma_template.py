"""The PRISMA2020 R package's data template: write our counts as the CSV its Shiny app reads.

The PRISMA2020 R package and Shiny app (Haddaway, Page, Pritchard & McGuinness 2022, Campbell
Systematic Reviews 18:e1230; https://github.com/prisma-flowdiagram/PRISMA2020, MIT licence,
copyright Neal R Haddaway) draw their flow diagram from ``inst/extdata/PRISMA.csv``: one row per
box or box line with the columns ``data,node,box,description,boxtext,tooltips,url,n``. The seven
text columns of that file are reproduced below exactly (tests/fixtures/prisma2020/ has the original,
its commit and the licence notice); only ``n`` is ours to fill.

The counts dict (from review.prisma) has one key per ``data`` value that holds a count: an int, or
None for unknown or not applicable, except the four rows whose ``n`` is a list
(``database_specific_results``, ``register_specific_results``: source -> records;
``dbr_excluded``, ``other_excluded``: reason -> reports).

How the R package reads ``n`` (R/PRISMA_data.R, R/PRISMA_format.R), which this module must fit:

* Each value is found with ``grep(key, data[, 1])``, a substring match on the first column, so the
  file must have exactly the template's rows: an extra row whose ``data`` contains a key would be
  read as a second value for it.
* A count goes through ``PRISMA_format_number_``: commas and every character other than digits and
  "." are dropped, then ``as.numeric``; so "" reads as NA, and NA makes the R diagram leave the line
  out (and the whole box or column when every count of it is NA). We write None as "".
* A list is split on ``"(;)( )?"`` (a semicolon and at most one space); in each piece the label is
  the text before the *first* comma and the number is what follows it. A label therefore cannot
  carry a comma (R would cut it there) or a semicolon (R would split it there): we replace either
  with " - " (and drop the comma of a digit group, "1,000" -> "1000"). A string of only digits
  and commas is read as one number with an empty label; we write ``{"": n}`` that way and ``{}``
  (none excluded) as "0", which R draws as "Reports excluded: (n = 0)".
* The Shiny app turns "Individual databases/registers" on when the ``*_specific_results`` cell is
  not its placeholder ("Database 1, xxx; ..."), and would then draw an empty cell as "(n = NA)".
  So a missing or empty breakdown is written as the placeholder, not as "".

Spreadsheet formula injection: source names and reason labels are user text. A cell that starts
with =, +, -, @, tab or CR gets a leading apostrophe (review.tables.safe_cell, the project's one
rule). Only the start of a cell can make it a formula, so only the first label of a list cell can
need it; the apostrophe then becomes part of that first label as R reads it (R keeps the text
before the first comma), which leaves R's splitting and numbers untouched. from_csv takes one
leading apostrophe off a list cell, as a spreadsheet does; so that this loses nothing, a first
label that itself starts with an apostrophe is written with one more.
"""

from __future__ import annotations

import csv
import io
import numbers
import re
import unicodedata
from collections.abc import Mapping

from review.tables import safe_cell

HEADER = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")

# (data, node, box, description, boxtext, tooltips, url) of every row of the package's PRISMA.csv,
# in its order. Note 'NA' (R's missing value, as the file spells it) in data/node/tooltips/url and
# the one empty node, of organisation_results: both as in the original.
TEMPLATE_ROWS: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    ('NA', 'node4', 'prevstud', 'Grey title box; Previous studies', 'Previous studies',
     'Grey title box; Previous studies', 'prevstud.html'),
    ('previous_studies', 'node5', 'box1', 'Studies included in previous version of review',
     'Studies included in previous version of review', 'Studies included in previous version of review',
     'previous_studies.html'),
    ('previous_reports', 'NA', 'box1', 'Reports of studies included in previous version of review',
     'Reports of studies included in previous version of review', 'NA', 'previous_reports.html'),
    ('NA', 'node6', 'newstud', 'Yellow title box; Identification of new studies via databases and registers',
     'Identification of new studies via databases and registers',
     'Yellow title box; Identification of new studies via databases and registers', 'newstud.html'),
    ('database_results', 'node7', 'box2', 'Records identified from: Databases', 'Databases',
     'Records identified from: Databases and Registers', 'database_results.html'),
    ('database_specific_results', 'NA', 'box2', 'Records identified from: specific databases',
     'Specific Databases', 'NA', 'database_results.html'),
    ('register_results', 'NA', 'box2', 'Records identified from: Registers', 'Registers', 'NA', 'NA'),
    ('register_specific_results', 'NA', 'box2', 'Records identified from: specific registers',
     'Specific Registers', 'NA', 'database_results.html'),
    ('NA', 'node16', 'othstud', 'Grey title box; Identification of new studies via other methods',
     'Identification of new studies via other methods',
     'Grey title box; Identification of new studies via other methods', 'othstud.html'),
    ('website_results', 'node17', 'box11', 'Records identified from: Websites', 'Websites',
     'Records identified from: Websites, Organisations and Citation Searching', 'website_results.html'),
    ('organisation_results', '', 'box11', 'Records identified from: Organisations', 'Organisations', 'NA',
     'NA'),
    ('citations_results', 'NA', 'box11', 'Records identified from: Citation searching', 'Citation searching',
     'NA', 'NA'),
    ('duplicates', 'node8', 'box3', 'Duplicate records', 'Duplicate records', 'Duplicate records',
     'duplicates.html'),
    ('excluded_automatic', 'NA', 'box3', 'Records marked as ineligible by automation tools',
     'Records marked as ineligible by automation tools', 'NA', 'NA'),
    ('excluded_other', 'NA', 'box3', 'Records removed for other reasons',
     'Records removed for other reasons', 'NA', 'NA'),
    ('records_screened', 'node9', 'box4', 'Records screened (databases and registers)', 'Records screened',
     'Records screened (databases and registers)', 'records_screened.html'),
    ('records_excluded', 'node10', 'box5', 'Records excluded (databases and registers)', 'Records excluded',
     'Records excluded (databases and registers)', 'records_excluded.html'),
    ('dbr_sought_reports', 'node11', 'box6', 'Reports sought for retrieval (databases and registers)',
     'Reports sought for retrieval', 'Reports sought for retrieval (databases and registers)',
     'dbr_sought_reports.html'),
    ('dbr_notretrieved_reports', 'node12', 'box7', 'Reports not retrieved (databases and registers)',
     'Reports not retrieved', 'Reports not retrieved (databases and registers)',
     'dbr_notretrieved_reports.html'),
    ('other_sought_reports', 'node18', 'box12', 'Reports sought for retrieval (other)',
     'Reports sought for retrieval', 'Reports sought for retrieval (other)', 'other_sought_reports.html'),
    ('other_notretrieved_reports', 'node19', 'box13', 'Reports not retrieved (other)',
     'Reports not retrieved', 'Reports not retrieved (other)', 'other_notretrieved_reports.html'),
    ('dbr_assessed', 'node13', 'box8', 'Reports assessed for eligibility (databases and registers)',
     'Reports assessed for eligibility', 'Reports assessed for eligibility (databases and registers)',
     'dbr_assessed.html'),
    ('dbr_excluded', 'node14', 'box9',
     'Reports excluded (databases and registers): [separate reasons and numbers using ; '
     'e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]',
     'Reports excluded', 'Reports excluded (databases and registers)', 'dbrexcludedrecords.html'),
    ('other_assessed', 'node20', 'box14', 'Reports assessed for eligibility (other)',
     'Reports assessed for eligibility', 'Reports assessed for eligibility (other)', 'other_assessed.html'),
    ('other_excluded', 'node21', 'box15',
     'Reports excluded (other): [separate reasons and numbers using ; '
     'e.g. Reason1, xxx; Reason2, xxx; Reason3, xxx]',
     'Reports excluded', 'Reports excluded (other)', 'other_excluded.html'),
    ('new_studies', 'node15', 'box10', 'New studies included in review', 'New studies included in review',
     'New studies included in review', 'new_studies.html'),
    ('new_reports', 'NA', 'box10', 'Reports of new included studies', 'Reports of new included studies',
     'NA', 'NA'),
    ('total_studies', 'node22', 'box16', 'Total studies included in review',
     'Total studies included in review', 'Total studies included in review', 'total_studies.html'),
    ('total_reports', 'NA', 'box16', 'Reports of total included studies',
     'Reports of total included studies', 'NA', 'NA'),
    ('identification', 'node1', 'identification', 'Blue identification box', 'Identification',
     'Blue identification box', 'identification.html'),
    ('screening', 'node2', 'screening', 'Blue screening box', 'Screening', 'Blue screening box',
     'screening.html'),
    ('included', 'node3', 'included', 'Blue included box', 'Included', 'Blue included box', 'included.html'),
    ('total_studies_ma', 'node23', 'box17', 'Total studies included in meta-analysis',
     'Total studies included in meta-analysis', 'Total studies included in meta-analysis',
     'total_studies_meta_analysis.html'),
    ('total_reports_ma', 'NA', 'box17', 'Reports of total included studies in meta-analysis',
     'Reports of total included studies in meta-analysis', 'NA', 'NA'),
)

# n of the rows that hold no count (title boxes and the blue side labels), as in the template.
_TITLE_N = "0"

LIST_KEYS = ("database_specific_results", "register_specific_results", "dbr_excluded", "other_excluded")
# Every data key that holds a count, in the template's order.
COUNT_KEYS = tuple(
    row[0] for row in TEMPLATE_ROWS
    if row[0] != "NA" and row[2] not in ("identification", "screening", "included")
)
INT_KEYS = tuple(key for key in COUNT_KEYS if key not in LIST_KEYS)

# The template's own n of the list rows: the Shiny app treats these as "not given".
PLACEHOLDERS = {
    "database_specific_results": "Database 1, xxx; Database 2, xxx; Database 3, xxx",
    "register_specific_results": "Register 1, xxx; Register 2, xxx; Register 3, xxx",
    "dbr_excluded": "Reason1, xxx; Reason2, xxx; Reason3, xxx",
    "other_excluded": "Reason1, xxx; Reason2, xxx; Reason3, xxx",
}

_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
_PIECE = re.compile(r"\s*(.*?)\s*,\s*(\d{1,3}(?:,\d{3})+|\d+)\s*", re.DOTALL)


def clean_label(label) -> str:
    """A source name or reason as the R format can carry it: one line, no comma, no semicolon.

    Control characters and runs of white space become one space; a comma inside a digit group
    goes ("1,000" -> "1000"); any other comma or semicolon becomes " - " (R would cut the label at
    a comma and split the list at a semicolon).
    """
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(label))
    text = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)
    text = re.sub(r"\s*[,;]\s*", " - ", text)
    return " ".join(text.split())


def _check_count(key: str, value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{key}: a count must be a whole number or None, not {value!r}")
    if value < 0:
        raise ValueError(f"{key}: a count cannot be negative ({value})")
    return int(value)


def _list_items(key: str, value) -> dict[str, int] | None:
    """The cleaned labels and their counts (labels that clean to the same text are added up)."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected a dict of label -> count or None, not {type(value).__name__}")
    items: dict[str, int] = {}
    for label, count in value.items():
        count = _check_count(f"{key}[{label!r}]", count)
        if count is None:
            raise ValueError(f"{key}[{label!r}]: a listed count cannot be None")
        name = clean_label(label)
        items[name] = items.get(name, 0) + count
    return items


def _list_cell(key: str, value) -> str:
    items = _list_items(key, value)
    if not items:
        if key in ("database_specific_results", "register_specific_results"):
            return PLACEHOLDERS[key]
        return "" if items is None else "0"
    if list(items) == [""]:
        return str(items[""])
    cell = "; ".join(f"{name}, {count}" for name, count in items.items())
    # safe_cell defuses a formula; a cell that already starts with an apostrophe gets one more, so
    # that from_csv, which takes one leading apostrophe off, gives the label back unchanged.
    return "'" + cell if cell.startswith("'") else safe_cell(cell)


def to_csv(counts: Mapping) -> str:
    """The PRISMA2020 template CSV (header, every row in order, CRLF) with n filled from counts.

    Keys missing from counts are written as None. A key that is not one of COUNT_KEYS is an error
    (most likely a typo that would otherwise be dropped without a word).
    """
    unknown = sorted(set(counts) - set(COUNT_KEYS))
    if unknown:
        raise ValueError(f"not PRISMA2020 template keys: {', '.join(map(str, unknown))}")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for row in TEMPLATE_ROWS:
        key = row[0]
        if key in LIST_KEYS:
            n = _list_cell(key, counts.get(key))
        elif key in INT_KEYS:
            count = _check_count(key, counts.get(key))
            n = "" if count is None else str(count)
        else:
            n = _TITLE_N
        writer.writerow((*row, n))
    return buffer.getvalue()


def _parse_int(text: str) -> int | None:
    text = text.strip()
    if text in ("", "NA"):
        return None
    if not _NUMBER.fullmatch(text):
        raise ValueError(f"n must be a whole number, not {text!r}")
    return int(text.replace(",", ""))


def _parse_list(key: str, text: str) -> dict[str, int] | None:
    text = text.strip()
    if text in ("", "NA", PLACEHOLDERS[key]):
        return None
    if text.startswith("'"):   # the formula guard (or a spreadsheet's text marker)
        text = text[1:]
    if _NUMBER.fullmatch(text):
        count = int(text.replace(",", ""))
        return {} if count == 0 else {"": count}
    items: dict[str, int] = {}
    for piece in text.split(";"):
        if not piece.strip():
            continue
        match = _PIECE.fullmatch(piece)
        if not match:
            raise ValueError(f"cannot read {piece.strip()!r} as 'Label, number' "
                             "(separate the items with '; ')")
        label, count = match.group(1), int(match.group(2).replace(",", ""))
        items[label] = items.get(label, 0) + count
    return items


def from_csv(text: str) -> dict:
    """A counts dict (every key of COUNT_KEYS) from a PRISMA2020 template CSV.

    Reads our own to_csv output and the Shiny app's export (write.csv: every field quoted, NA
    unquoted). Title rows and unknown rows are ignored; the template's placeholders and empty or NA
    cells read as None; a plain number in a list row reads as ``{"": n}`` (``{}`` for 0). Raises
    ValueError naming the line for a malformed n, a repeated key or a missing column.
    """
    if text.startswith("\ufeff"):
        text = text[1:]
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ValueError("line 1: empty CSV, expected the header " + ",".join(HEADER))
    names = [name.strip() for name in header]
    if "data" not in names or "n" not in names:
        raise ValueError(f"line 1: the header needs the columns 'data' and 'n', found {','.join(names)}")
    data_at, n_at = names.index("data"), names.index("n")
    counts: dict = {key: None for key in COUNT_KEYS}
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(data_at, n_at):
            raise ValueError(f"line {line}: {len(row)} fields, expected {len(names)}")
        key = row[data_at].strip()
        if key not in counts:
            continue
        if key in seen:
            raise ValueError(f"line {line}: {key} appears again (first on line {seen[key]})")
        seen[key] = line
        try:
            counts[key] = _parse_list(key, row[n_at]) if key in LIST_KEYS else _parse_int(row[n_at])
        except ValueError as error:
            raise ValueError(f"line {line}: {key}: {error}") from None
    return counts
