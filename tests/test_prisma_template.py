"""The PRISMA2020 template CSV: our rows are the package's own, counts go in and come back out,
lists read the way the R package reads them, and user text cannot become a spreadsheet formula."""

from __future__ import annotations

import csv
import io
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from review import prisma_template as pt
from review.prisma_template import COUNT_KEYS, HEADER, TEMPLATE_ROWS, clean_label, from_csv, to_csv

from conftest import FIXTURES, PRISMA_EXAMPLE

TEMPLATE_CSV = FIXTURES / "prisma2020" / "PRISMA.csv"

EXAMPLE = PRISMA_EXAMPLE


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _n_cells(text: str) -> dict[str, str]:
    return {row[0]: row[7] for row in _rows(text)[1:] if row[0] != "NA"}


def _r_parse_reasons(n: str) -> list[tuple[str, str]]:
    """What R/PRISMA_format.R's PRISMA_parse_reasons_ makes of an n cell: split on "(;)( )?",
    the label is the text before the first comma, the number the digits and commas after it."""
    if not re.search(r"[^0-9,]", n):
        return [("", n.replace(",", ""))]
    out = []
    for piece in re.split(r"; ?", n):
        label = re.sub(r",.*$", "", piece, flags=re.DOTALL)
        match = re.match(r".*?,([ 0-9,]*)", piece, flags=re.DOTALL)
        number = re.sub(r"[^0-9.]", "", match.group(1)) if match else ""
        out.append((label, number))
    return out


# ------------------------------------------------------------------------ the package's template

def test_fixture_is_the_package_template():
    raw = TEMPLATE_CSV.read_bytes()
    assert raw.startswith(b"data,node,box,description,boxtext,tooltips,url,n\r\n")
    assert len(_rows(raw.decode("utf-8"))) == 35


def test_template_rows_are_the_fixture_rows_in_order():
    fixture = _rows(TEMPLATE_CSV.read_text(encoding="utf-8"))
    assert tuple(fixture[0]) == HEADER
    assert [tuple(row[:7]) for row in fixture[1:]] == list(TEMPLATE_ROWS)


def test_every_fixture_row_is_in_our_csv_field_by_field():
    fixture = _rows(TEMPLATE_CSV.read_text(encoding="utf-8"))
    ours = _rows(to_csv(EXAMPLE))
    assert ours[0] == fixture[0]
    assert len(ours) == len(fixture)
    for line, (theirs, mine) in enumerate(zip(fixture[1:], ours[1:]), start=2):
        for column in ("data", "node", "box", "description", "boxtext", "tooltips", "url"):
            at = HEADER.index(column)
            assert mine[at] == theirs[at], f"line {line}, column {column}"


def test_same_bytes_as_the_template_apart_from_n():
    """Quoting, line ends and row order as the package's file: put its n back and the text is its."""
    fixture_text = TEMPLATE_CSV.read_bytes().decode("utf-8")   # read_text would turn CRLF into LF
    fixture_n = [row[7] for row in _rows(fixture_text)[1:]]
    ours = _rows(to_csv(EXAMPLE))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(ours[0])
    for row, n in zip(ours[1:], fixture_n):
        writer.writerow(row[:7] + [n])
    assert buffer.getvalue() == fixture_text + "\r\n"


def test_reads_the_package_template():
    counts = from_csv(TEMPLATE_CSV.read_text(encoding="utf-8"))
    assert set(counts) == set(COUNT_KEYS)
    for key in pt.INT_KEYS:
        assert counts[key] == 0, key
    for key in pt.LIST_KEYS:
        assert counts[key] is None, key   # the "Reason1, xxx; ..." placeholders


# ------------------------------------------------------------------------------------ writing

def test_counts_fill_n():
    n = _n_cells(to_csv(EXAMPLE))
    assert n["database_results"] == "3543"   # digits only: R drops commas anyway
    assert n["database_specific_results"] == "MEDLINE, 1204; Embase, 1876; HMIC, 312; Social Care Online, 151"
    assert n["dbr_excluded"] == ("Financial integration across health care settings only, 21; "
                                 "No financial integration, 9; Other reason, 8")
    assert n["register_results"] == ""       # None: R reads NA and leaves the line out
    assert n["previous_studies"] == ""       # missing key = None
    assert n["identification"] == n["screening"] == n["included"] == "0"   # title rows as the template
    titles = [row[7] for row in _rows(to_csv(EXAMPLE))[1:] if row[0] == "NA"]
    assert titles == ["0", "0", "0"]


def test_lists_read_back_as_r_reads_them():
    n = _n_cells(to_csv(EXAMPLE))
    assert _r_parse_reasons(n["dbr_excluded"]) == [
        ("Financial integration across health care settings only", "21"),
        ("No financial integration", "9"), ("Other reason", "8")]
    assert _r_parse_reasons(n["database_specific_results"])[3] == ("Social Care Online", "151")


def test_missing_breakdown_is_the_placeholder_and_empty_exclusions_are_zero():
    n = _n_cells(to_csv({"database_specific_results": None, "register_specific_results": {},
                         "dbr_excluded": {}, "other_excluded": None}))
    assert n["database_specific_results"] == pt.PLACEHOLDERS["database_specific_results"]
    assert n["register_specific_results"] == pt.PLACEHOLDERS["register_specific_results"]
    assert n["dbr_excluded"] == "0"          # R: "Reports excluded: (n = 0)"
    assert n["other_excluded"] == ""
    assert _n_cells(to_csv({"dbr_excluded": {"": 12}}))["dbr_excluded"] == "12"


def test_formula_guard_on_the_cell_start_keeps_r_parsing():
    for label in ("=HYPERLINK(\"http://x\")", "+1", "-wrong design", "@SUM(A1)"):
        cell = _n_cells(to_csv({"dbr_excluded": {label: 3, "Other": 2}}))["dbr_excluded"]
        assert cell.startswith("'" + clean_label(label)), cell
        # R keeps the apostrophe as part of the first label; the numbers and the split are intact.
        assert _r_parse_reasons(cell) == [("'" + clean_label(label), "3"), ("Other", "2")]
        assert from_csv(to_csv({"dbr_excluded": {label: 3, "Other": 2}}))["dbr_excluded"] == {
            clean_label(label): 3, "Other": 2}
    # Later labels cannot start the cell, so they need nothing.
    cell = _n_cells(to_csv({"dbr_excluded": {"Other": 2, "=1+1": 3}}))["dbr_excluded"]
    assert cell == "Other, 2; =1+1, 3"
    # Tab and CR at the start are white space: cleaned away, never written.
    cell = _n_cells(to_csv({"other_excluded": {"\t=cmd": 1}}))["other_excluded"]
    assert cell == "'=cmd, 1"


def test_a_leading_apostrophe_survives_the_round_trip():
    counts = {"dbr_excluded": {"'Grey' literature": 4, "B": 1}, "other_excluded": {"'=x": 2}}
    text = to_csv(counts)
    assert _n_cells(text)["dbr_excluded"] == "''Grey' literature, 4; B, 1"
    back = from_csv(text)
    assert back["dbr_excluded"] == counts["dbr_excluded"]
    assert back["other_excluded"] == counts["other_excluded"]


def test_commas_and_semicolons_in_labels_are_replaced():
    counts = {"dbr_excluded": {"Wrong population, adults only": 3, "Setting; country": 2,
                               "Sample of 1,000 or more": 1, "Line\nbreak": 4}}
    cell = _n_cells(to_csv(counts))["dbr_excluded"]
    assert cell == ("Wrong population - adults only, 3; Setting - country, 2; "
                    "Sample of 1000 or more, 1; Line break, 4")
    assert _r_parse_reasons(cell) == [("Wrong population - adults only", "3"), ("Setting - country", "2"),
                                      ("Sample of 1000 or more", "1"), ("Line break", "4")]
    assert from_csv(to_csv(counts))["dbr_excluded"] == {
        "Wrong population - adults only": 3, "Setting - country": 2, "Sample of 1000 or more": 1,
        "Line break": 4}


def test_labels_that_clean_to_the_same_text_are_added_up():
    cell = _n_cells(to_csv({"dbr_excluded": {"a, b": 2, "a; b": 3}}))["dbr_excluded"]
    assert cell == "a - b, 5"


@pytest.mark.parametrize("counts, message", [
    ({"database_result": 3}, "not PRISMA2020 template keys: database_result"),
    ({"records_screened": -1}, "cannot be negative"),
    ({"records_screened": 2.5}, "whole number"),
    ({"records_screened": True}, "whole number"),
    ({"records_screened": "12"}, "whole number"),
    ({"dbr_excluded": ["a", 1]}, "expected a dict"),
    ({"dbr_excluded": {"a": None}}, "cannot be None"),
    ({"dbr_excluded": {"a": -2}}, "cannot be negative"),
])
def test_bad_counts_are_refused(counts, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        to_csv(counts)


# ------------------------------------------------------------------------------------ reading

def test_round_trip():
    full = dict(EXAMPLE, previous_studies=12, previous_reports=20, register_results=45,
                register_specific_results={"ClinicalTrials.gov": 30, "ICTRP": 15},
                website_results=20, organisation_results=5, citations_results=31,
                other_sought_reports=12, other_notretrieved_reports=2, other_assessed=10,
                other_excluded={"Not an IRM": 6}, total_studies=50, total_reports=134)
    back = from_csv(to_csv(full))
    assert set(back) == set(COUNT_KEYS)
    assert back == {key: full.get(key) for key in COUNT_KEYS}
    assert from_csv(to_csv(back)) == back


def test_reads_a_shiny_export():
    """The Shiny app saves with write.csv: every field quoted, NA bare, LF line ends."""
    rows = _rows(to_csv(EXAMPLE))
    lines = []
    for row in rows:
        fields = []
        for value in row:
            fields.append("NA" if value == "NA" else '"' + value.replace('"', '""') + '"')
        lines.append(",".join(fields))
    lines[[r[0] for r in rows].index("records_screened")] = (
        '"records_screened","node9","box4","x","x","x","x","3,129"')
    lines[[r[0] for r in rows].index("dbr_excluded")] = (
        '"dbr_excluded","node14","box9","x","x","x","x","A, 1,021;B, 2; "')
    back = from_csv("\ufeff" + "\n".join(lines) + "\n")
    assert back["records_screened"] == 3129
    assert back["dbr_excluded"] == {"A": 1021, "B": 2}
    assert back["database_specific_results"] == EXAMPLE["database_specific_results"]
    assert back["register_results"] is None


def test_a_plain_number_in_a_list_row():
    text = to_csv({})
    text = text.replace("dbrexcludedrecords.html,\r\n", "dbrexcludedrecords.html,17\r\n")
    assert from_csv(text)["dbr_excluded"] == {"": 17}
    assert from_csv(to_csv({"dbr_excluded": {"": 17}}))["dbr_excluded"] == {"": 17}
    assert from_csv(to_csv({"dbr_excluded": {}}))["dbr_excluded"] == {}


def _with_n(key: str, n: str) -> str:
    rows = _rows(to_csv({}))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow(row[:7] + [n] if row[0] == key else row)
    return buffer.getvalue()


def _line_of(key: str) -> int:
    return [row[0] for row in _rows(to_csv({}))].index(key) + 1


@pytest.mark.parametrize("key, n", [
    ("records_screened", "12a"),
    ("records_screened", "1.5"),
    ("duplicates", "-3"),
    ("dbr_excluded", "Reason1 xxx"),
    ("dbr_excluded", "Reason1, xxx; Reason2, 4"),
    ("other_excluded", "A, 1; B"),
])
def test_malformed_n_names_the_line(key, n):
    with pytest.raises(ValueError, match=rf"^line {_line_of(key)}: {key}: "):
        from_csv(_with_n(key, n))


def test_repeated_key_and_missing_columns():
    text = to_csv({"duplicates": 1})
    duplicate_row = next(line for line in text.split("\r\n") if line.startswith("duplicates,"))
    with pytest.raises(ValueError, match=r"line 36: duplicates appears again \(first on line 14\)"):
        from_csv(text + duplicate_row + "\r\n")
    with pytest.raises(ValueError, match="line 1: the header needs the columns 'data' and 'n'"):
        from_csv("data,node,count\r\nduplicates,node8,3\r\n")
    with pytest.raises(ValueError, match="line 1: empty CSV"):
        from_csv("")


# ------------------------------------------------------------------------------- property test

_labels = st.text(min_size=0, max_size=30)


@pytest.mark.slow  # a property test (hypothesis)
@settings(max_examples=300, deadline=None)
@given(st.dictionaries(_labels, st.integers(min_value=0, max_value=10**7), max_size=6))
def test_any_labels_round_trip_and_parse_in_r(reasons):
    expected: dict[str, int] = {}
    for label, n in reasons.items():
        expected[clean_label(label)] = expected.get(clean_label(label), 0) + n
    if expected == {"": 0}:
        expected = {}   # "0": none excluded, however it was said
    text = to_csv({"dbr_excluded": reasons})
    assert from_csv(text)["dbr_excluded"] == expected
    cell = _n_cells(text)["dbr_excluded"]
    assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))
    if expected and list(expected) != [""]:
        parsed = _r_parse_reasons(cell)
        labels = [label for label, _ in parsed]
        if labels[0].startswith("'"):
            labels[0] = labels[0][1:]   # the guard, shown by R as part of the first label
        assert labels == list(expected)
        assert [int(number) for _, number in parsed] == list(expected.values())
