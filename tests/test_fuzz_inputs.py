"""Issue 10: one promise for every reader and importer, fuzzed.

Records, or a clear error naming the file and the line; never a traceback; never
a silent loss: for readers, the record starts seen (TY, @entry, PMID-, <record>,
CSV rows) equal records returned plus records refused (reported as warnings).
"""

from __future__ import annotations

import csv
import io
import json
import re
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.io import ParseError, bibtex, endnote_xml, medline, read_bytes, ris, tabular
from review.io.rows import RowsError, read_rows, unguard

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a hostile or clumsy world puts in values: quotes, separators, formula starts,
# lone CR and CRLF, tabs, non-ASCII, RIS-looking text.


def _pieces(pieces: list[str], max_size: int = 12):
    return st.lists(st.sampled_from(pieces), max_size=max_size).map("".join)


HOSTILE = _pieces(list("abcXYZ 019,;\"'=+-@{}<>&%#\\\t\r\né漢\u2028") + ["ER  - ", "TY  - ", "PMID- "])
ONE_LINE = _pieces(list("abcXYZ 019,;\"'=+-@%#\t") + ["é", "漢", "ER - x"])
ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])
_TY_LINE = re.compile(r"TY[ \t]{1,4}-(?:[ \t]|$)")


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _check_error(error: ParseError, name: str) -> None:
    assert error.path == name and str(error).startswith(name)
    assert error.line is None or error.line >= 1


# --- RIS -------------------------------------------------------------------------------------

ris_record = st.builds(
    lambda code, fields, ending: ending.join([f"TY  - {code}", *(f"{t}  - {v}" for t, v in fields), "ER  - ", ""]),
    st.sampled_from(["JOUR", "BOOK", "", "GEN"]),
    st.lists(st.tuples(st.sampled_from(["TI", "AU", "PY", "AB", "DO", "N1", "KW", "XY"]), HOSTILE), max_size=6),
    ENDINGS,
)


@FAST
@given(st.lists(ris_record, min_size=1, max_size=6))
def test_ris_records_or_error_never_loss(records):
    text = "".join(records)
    seen = sum(1 for line in _lines(text) if _TY_LINE.match(line))
    warnings: list[str] = []
    try:
        refs = ris.read(text, "fuzz.ris", warnings=warnings)
    except ParseError as error:
        _check_error(error, "fuzz.ris")
        return
    assert len(refs) + len(warnings) == seen


# --- Web of Science tagged text (read by the RIS reader) ------------------------------------------

wos_record = st.builds(
    lambda fields: ["PT J", *(f"{t} {v}" for t, v in fields), "ER"],
    st.lists(st.tuples(st.sampled_from(["TI", "AU", "AF", "PY", "SO", "DI", "AB", "UT"]), ONE_LINE), max_size=6),
)


@FAST
@given(st.lists(wos_record, min_size=1, max_size=5), ENDINGS)
def test_web_of_science_records_or_error_never_loss(records, ending):
    lines = ["FN Clarivate Analytics Web of Science", "VR 1.0", *(line for r in records for line in r), "EF"]
    text = ending.join(lines) + ending
    seen = sum(1 for line in _lines(text) if line == "PT J")
    try:
        refs = ris.read(text, "fuzz.txt")
    except ParseError as error:
        _check_error(error, "fuzz.txt")
        return
    assert len(refs) == seen


# --- MEDLINE -----------------------------------------------------------------------------------

medline_record = st.builds(
    lambda pmid, fields: [f"PMID- {pmid}", *(f"{t:<4}- {v}" for t, v in fields), "SO  - J. 2000"],
    st.integers(min_value=1, max_value=10**8),
    st.lists(st.tuples(st.sampled_from(["TI", "AB", "FAU", "AU", "DP", "LID", "MH"]), ONE_LINE), max_size=6),
)


@FAST
@given(st.lists(medline_record, min_size=1, max_size=5), ENDINGS)
def test_medline_records_or_error_never_loss(records, ending):
    text = ending.join(ending.join(r) + ending for r in records)
    seen = sum(1 for line in _lines(text) if line.startswith("PMID-"))
    try:
        refs = medline.read(text, "fuzz.nbib")
    except ParseError as error:
        _check_error(error, "fuzz.nbib")
        return
    assert len(refs) == seen
    assert [r.pmid for r in refs] == [line.split("- ", 1)[1] for line in _lines(text) if line.startswith("PMID-")]


@FAST
@given(st.text(max_size=200))
def test_medline_any_text_never_a_traceback(text):
    try:
        medline.read(text, "any.nbib")
    except ParseError as error:
        _check_error(error, "any.nbib")


# --- BibTeX ------------------------------------------------------------------------------------

bib_value = _pieces(list("abcXYZ 019,;\"'=+-@%#&é漢") + ["\\&", "--"])
bib_entry = st.builds(
    lambda kind, key, fields, delim: "@" + kind + "{" + key + ",\n" + "".join(
        f"  {name} = {delim[0]}{value.replace(delim[1], '')}{delim[1]},\n" for name, value in fields) + "}\n",
    st.sampled_from(["article", "book", "misc", "inproceedings"]),
    st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True),
    st.lists(st.tuples(st.sampled_from(["title", "author", "year", "journal", "doi", "note"]), bib_value),
             max_size=5, unique_by=lambda f: f[0]),
    st.sampled_from([("{", "}"), ('"', '"')]),
)


@FAST
@given(st.lists(bib_entry, min_size=1, max_size=5))
def test_bibtex_entries_or_error_never_loss(entries):
    text = "".join(entries)
    seen = len(re.findall(r"^@(?!string|comment|preamble)\w+\{", text, flags=re.MULTILINE | re.IGNORECASE))
    try:
        refs = bibtex.read(text, "fuzz.bib")
    except ParseError as error:
        _check_error(error, "fuzz.bib")
        return
    assert len(refs) == seen


# --- EndNote XML ---------------------------------------------------------------------------------

xml_record = st.builds(
    lambda title, authors, year: "<record>" + (f"<titles><title>{escape(title)}</title></titles>" if title else "")
    + "".join(f"<contributors><authors><author>{escape(a)}</author></authors></contributors>" for a in authors)
    + f"<dates><year>{year}</year></dates></record>",
    ONE_LINE, st.lists(ONE_LINE, max_size=2), st.integers(1900, 2030),
)


@FAST
@given(st.lists(xml_record, min_size=1, max_size=5), ENDINGS)
def test_endnote_xml_records_or_error_never_loss(records, ending):
    text = '<?xml version="1.0" encoding="UTF-8"?>' + ending + "<xml><records>" + ending.join(records) \
        + "</records></xml>"
    try:
        refs = endnote_xml.read(text, "fuzz.xml")
    except ParseError as error:
        _check_error(error, "fuzz.xml")
        return
    assert len(refs) == len(records)


# --- CSV references ------------------------------------------------------------------------------


def _csv(rows: list[list[str]], ending: str) -> str:
    buffer = io.StringIO()
    # quote every cell, as spreadsheets do for a lone CR (Python's csv does not with an LF terminator)
    csv.writer(buffer, lineterminator=ending, quoting=csv.QUOTE_ALL).writerows(rows)
    return buffer.getvalue()


@FAST
@given(st.lists(st.tuples(HOSTILE, HOSTILE, st.integers(1900, 2030)), min_size=1, max_size=6), ENDINGS)
def test_csv_rows_or_error_never_loss(rows, ending):
    text = _csv([["Title", "Authors", "Year"], *[[t, a, str(y)] for t, a, y in rows]], ending)
    try:
        refs = read_bytes(text.encode(), "fuzz.csv", "csv").references
    except ParseError as error:
        _check_error(error, "fuzz.csv")
        return
    assert len(refs) == len(rows)


# --- bulk decisions and extractions: the strict CSV reader and the JSON reader -------------------


@FAST
@given(st.lists(st.tuples(st.integers(1, 50), st.sampled_from(["include", "exclude", "maybe"]), HOSTILE),
                min_size=1, max_size=6), ENDINGS)
def test_decision_rows_or_error_never_loss(rows, ending):
    text = _csv([["record_id", "stage", "reviewer", "decision", "note"],
                 *[[str(r), "title_abstract", "a", d, n] for r, d, n in rows]], ending)
    try:
        header, parsed = read_rows(text, "fuzz.csv")
    except RowsError as error:
        assert str(error).startswith("fuzz.csv:") and error.line >= 1
        return
    assert len(parsed) == len(rows)
    # the documented rule: an apostrophe before a formula character is the export's guard, taken off
    assert [p.cells["note"] for p in parsed] == [unguard(n.strip()) for _, _, n in rows]


@FAST
@given(st.text(alphabet=st.sampled_from(list('ab,"\r\n =\x00')), max_size=80))
def test_any_csv_text_never_a_traceback(text):
    try:
        read_rows(text, "any.csv")
    except RowsError as error:
        assert str(error).startswith("any.csv")


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), ONE_LINE),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(ONE_LINE, children, max_size=3),
                    max_leaves=20))
def test_extraction_json_any_shape_is_rows_or_a_message(tmp_path, value):
    from review.extraction import ExtractionError, _read_rows

    file = tmp_path / "fuzz.json"
    file.write_text(json.dumps(value))
    try:
        rows = _read_rows(file)
    except ExtractionError as error:
        assert "fuzz.json" in str(error)
        return
    assert isinstance(value, list) and len(rows) == len(value)


@pytest.fixture(scope="module")
def screened_review(tmp_path_factory):
    from review.project import Review

    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "r.ris").write_text("".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(1, 21)))
    review = Review.init(folder / "rev", title="T")
    review.import_file(folder / "r.ris", source="S")
    yield review
    review.close()


@pytest.mark.slow
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(1, 25), st.sampled_from(["include", "exclude", "maybe", "yes"]), HOSTILE),
                min_size=1, max_size=5), ENDINGS)
def test_decisions_import_all_or_nothing_with_file_and_line(screened_review, tmp_path_factory, rows, ending):
    from review import screening
    from review.screening import ScreeningError

    file = tmp_path_factory.mktemp("d") / "fuzz.csv"
    file.write_bytes(_csv([["record_id", "stage", "reviewer", "decision", "reasons", "note"],
                           *[[str(r), "title_abstract", "reviewer1", d, "wrong_population" if d == "exclude" else "",
                              n] for r, d, n in rows]], ending).encode())
    def decisions() -> int:
        history = screening.ScreeningState.load(screened_review).history["title_abstract"]
        return sum(len(v) for v in history.values())

    before = decisions()
    try:
        count = screening.import_decisions(screened_review, file, who="reviewer1")
    except ScreeningError as error:
        assert re.match(r".*fuzz\.csv:\d+: ", str(error)), str(error)
        assert decisions() == before
        return
    assert count == len(rows) and decisions() == before + len(rows)
