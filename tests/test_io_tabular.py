"""CSV/TSV reader and writer: real exports of many tools, column mapping, errors, encodings, round trips."""

from __future__ import annotations

import csv
import io
import time

import pytest

from conftest import FIXTURES, shared_path
from conftest import by_size
from test_io_bibtex import read_or_skip, real_fixture_files
from review.io import ParseError, detect_format, read_bytes, read_file, tabular
from review.io.base import decode
from review.records import Reference, match_keys

LOCAL = FIXTURES / "csv"
CFF = ("datasets", "fixtures-citation-file-formatting")
MIXED = ("datasets", "fixtures-parsers-mixed")


def independent_count(path, delimiter: str, header_row: int, title_column: str) -> int:
    """Rows with a title, counted with the csv module alone from a known header row."""
    text, _ = decode(path.read_bytes())
    rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    header = [c.strip() for c in rows[header_row]]
    column = header.index(title_column)
    return sum(1 for row in rows[header_row + 1:] if len(row) > column and row[column].strip())


# ---------------------------------------------------------------- local fixtures (CC0 / Apache-2.0)

LOCAL_FILES = [
    # name, delimiter, header row (0-based), title column, first data line
    ("_baseline_scopus.csv", ",", 0, "Title", 2),
    ("_baseline_rayyan.csv", ",", 0, "title", 2),
    ("_baseline_excel.csv", ";", 3, "Title", 5),
    ("_baseline_abstrackr.csv", ",", 0, "title", 2),
    ("_baseline_cinahl.csv", ",", 0, "Article Title", 2),
    ("_baseline_pubmed.csv", ",", 0, "Title", 2),
    ("generic_semicolon.csv", ";", 0, "title", 2),
    ("generic_tab.tab", "\t", 0, "title", 2),
]


@pytest.mark.parametrize("name, delimiter, header_row, title_column, first_line", LOCAL_FILES)
def test_local_exports_count_and_lines(name, delimiter, header_row, title_column, first_line):
    path = LOCAL / name
    parsed = read_file(path)
    assert parsed.format == "csv"
    assert len(parsed.references) == independent_count(path, delimiter, header_row, title_column)
    assert parsed.references[0].line == first_line
    assert all(r.title for r in parsed.references)


def test_scopus():
    refs = read_file(LOCAL / "_baseline_scopus.csv").references
    first, second = refs[0], refs[1]
    assert first.source_id == "2-s2.0-85189760133"  # EID
    assert first.title.startswith("Global latitudinal gradients and the evolution of")
    assert first.authors[:2] == ["Wilson L.N.", "Gardner J.D."]
    assert (first.year, first.journal, first.volume, first.issue) == (2024, "Nature Communications", "15", "1")
    assert (first.doi, first.pmid, first.issn) == ("10.1038/s41467-024-46843-2", "38580657", "20411723")
    assert first.type == "article" and first.language == "English"
    assert second.pages == "1084-1092"  # Page start + Page end
    assert second.keywords[:2] == ["bone histology", "ornithodira"]  # Author Keywords
    assert len(first.original) == 46 and first.original["Source"] == ["Scopus"]


def test_pubmed_authors_separated_by_commas():
    ref = read_file(LOCAL / "_baseline_pubmed.csv").references[0]
    assert ref.authors == ["Griffin DK", "Larkin DM", "O'Connor RE."]
    assert (ref.pmid, ref.journal, ref.year, ref.source_id) == ("30922926", "Eur J Med Genet", 2020, "30922926")


def test_rayyan():
    ref = read_file(LOCAL / "_baseline_rayyan.csv").references[0]
    assert ref.source_id == "rayyan-42924189"
    assert ref.authors[:2] == ["Yang, Z.", "Jiang, B."]  # "Yang, Z. and Jiang, B. and ..."
    assert ref.doi == "10.1038/s41467-024-48400-3"  # Rayyan appends RIS lines to the DOI cell
    assert ref.keywords[:2] == ["keratin", "melanin"]
    assert ref.place == ""  # Rayyan's "location" is an address, not a place of publication


def test_excel_semicolons_with_preamble():
    refs = read_file(LOCAL / "_baseline_excel.csv").references
    first = refs[0]
    assert first.line == 5  # three preamble lines and the header come first
    assert first.authors[:3] == ["Yang Z.", "Jiang B.", "Xu J."]
    assert (first.year, first.journal, first.date) == (2024, "Nature Communications", "1 Dec 2024")
    assert refs[1].pages == "14316"


def test_abstrackr_caption_row_and_multiline_cells():
    text = (LOCAL / "_baseline_abstrackr.csv").read_text(encoding="utf-8")
    refs = read_file(LOCAL / "_baseline_abstrackr.csv").references
    assert "citations that are not yet labeled by anyone" in text
    assert all("not yet labeled" not in r.source_id for r in refs)
    assert refs[0].authors == ["Longrich, N.R.", "Pereda-Suberbiola, X.", "Bardet, N.", "Jalil, N.-E."]
    assert refs[0].keywords[:3] == ["phosphate", "Africa", "animal"]
    assert refs[0].pmid == ""  # Abstrackr writes 0 for no PMID
    # physical start lines, with quoted line breaks inside rows
    lines = text.splitlines()
    for ref in refs:
        assert lines[ref.line - 1].startswith(ref.source_id + ",")


def test_cinahl_excel_text_cells():
    ref = read_file(LOCAL / "_baseline_cinahl.csv").references[0]
    assert ref.issn == "19326203"  # ="19326203"
    assert (ref.date, ref.year, ref.pages) == ("4/3/2024", 2024, "1")
    assert ref.authors[:2] == ["Curry Rogers, Kristina", "Martínez, Ricardo N."]
    assert ref.source_id == "176404503"  # Accession Number
    assert ref.original["ISSN"] == ['="19326203"']


@pytest.mark.parametrize("name", ["generic_semicolon.csv", "generic_tab.tab"])
def test_asreview_generic_list_literals(name):
    ref = read_file(LOCAL / name).references[0]
    assert ref.authors == ["Marx, Karl", "Lindgren, Astrid"]
    assert ref.keywords == ["Pippi", "Nordwind", "Piraten"]
    assert (ref.year, ref.pages, ref.volume, ref.issue, ref.type) == (2014, "e0815", "9", "3", "article")
    assert (ref.publisher, ref.place, ref.source_id) == ("Fun Factory", "United States", "12345")


# ---------------------------------------------------------------- full exports in ../shared

SHARED_FILES = [
    # path parts, delimiter, header row, title column, records (SOURCE.md)
    (CFF + ("CSV", "_baseline.csv"), ",", 0, "Title", 100),
    (CFF + ("CSV", "_baseline_cinahl.csv"), ",", 0, "Article Title", 10),
    (CFF + ("CSV", "_baseline_cochrane.csv"), ",", 0, "Title", 3),
    (CFF + ("CSV", "_baseline_covidence.csv"), ",", 0, "Title", 10),
    (CFF + ("CSV", "_baseline_embase.csv"), ",", 3, "Title", 10),
    (CFF + ("CSV", "_baseline_excel.csv"), ";", 3, "Title", 10),
    (CFF + ("CSV", "_baseline_googlescholar.csv"), ",", 0, "Title", 10),
    (CFF + ("CSV", "_baseline_openalex.csv"), ",", 0, "title", 9),
    (CFF + ("CSV", "_baseline_pubmed.csv"), ",", 0, "Title", 10),
    (CFF + ("CSV", "_baseline_rayyan.csv"), ",", 0, "title", 10),
    (CFF + ("CSV", "_baseline_scopus.csv"), ",", 0, "Title", 10),
    (CFF + ("CSV", "_baseline_zotero.csv"), ",", 0, "Title", 10),
    (CFF + ("CSV", "_baseline_abstrackr.csv"), ",", 0, "title", 10),
    (CFF + ("TSV", "_baseline.tsv"), "\t", 0, "Title", 100),
    (CFF + ("TSV", "_baseline_refworks.tsv"), "\t", 0, "Title Primary", 100),
    (MIXED + ("asysd_tests", "zotero_export.csv"), ",", 0, "Title", 1233),
    (MIXED + ("asreview_demo_data", "embase.csv"), ",", 0, "Title", 6),
    (MIXED + ("synthesisr", "eviatlas.csv"), ",", 0, "TI", 1),
    (MIXED + ("synthesisr", "eviatlas.tsv"), "\t", 0, "TI", 1),
]


@pytest.mark.parametrize(
    "parts, delimiter, header_row, title_column, count", SHARED_FILES, ids=[f[0][-1] for f in SHARED_FILES]
)
def test_shared_exports_count(parts, delimiter, header_row, title_column, count):
    path = shared_path(*parts)
    refs = read_file(path).references
    assert len(refs) == independent_count(path, delimiter, header_row, title_column) == count
    assert all(r.title for r in refs)


def test_lens_export():
    refs = read_file(shared_path(*CFF, "CSV", "_baseline.csv")).references
    ref = refs[0]
    assert ref.source_id == "000-463-679-101-319"  # Lens ID
    assert ref.authors[:2] == ["Björn A. Blomberg", "Mateen Moghbel"]
    assert (ref.pages, ref.pmid, ref.doi, ref.year) == ("97-105", "22752652", "10.1007/s11307-012-0572-0", 2012)
    assert ref.journal == "Molecular imaging and biology"
    assert ref.url == "http://dx.doi.org/10.1007/s11307-012-0572-0"
    tsv = read_file(shared_path(*CFF, "TSV", "_baseline.tsv")).references
    assert [match_keys(r) for r in tsv] == [match_keys(r) for r in refs]


def test_cochrane_covidence_googlescholar_openalex_refworks_zotero():
    cochrane = read_file(shared_path(*CFF, "CSV", "_baseline_cochrane.csv")).references[0]
    assert (cochrane.pmid, cochrane.source_id) == ("21314913", "CN-00778158")  # from "PUBMED 21314913"
    assert (cochrane.journal, cochrane.pages) == ("Trials", "39")
    assert cochrane.authors[:2] == ["Bywater, T", "Hutchings, J"]

    covidence = read_file(shared_path(*CFF, "CSV", "_baseline_covidence.csv")).references
    assert [r.source_id for r in covidence[:2]] == ["#1", "#2"]  # Accession Number is empty, Covidence # is not

    scholar = read_file(shared_path(*CFF, "CSV", "_baseline_googlescholar.csv")).references[0]
    assert scholar.authors == ["Barrett, Paul M", "Willis, Katherine J"]  # trailing "; " dropped
    assert (scholar.pages, scholar.year, scholar.volume, scholar.issue) == ("411-447", 2001, "76", "3")

    openalex = read_file(shared_path(*CFF, "CSV", "_baseline_openalex.csv")).references[0]
    assert openalex.authors[:2] == ["Alba Vicente", "Josep Sanjuan"]  # "|"-separated
    assert (openalex.journal, openalex.pages, openalex.language) == ("Cretaceous Research", "105752", "en")
    assert openalex.source_id == "https://openalex.org/W4387881419"

    refworks = read_file(shared_path(*CFF, "TSV", "_baseline_refworks.tsv")).references[0]
    assert refworks.authors[:2] == ["van den Hoven,null", "Smits,Maarten L. J."]  # kept as exported
    assert (refworks.pages, refworks.issn) == ("S105", "1051-0443")  # ISSN/ISBN column by shape

    zotero = read_file(shared_path(*MIXED, "asysd_tests", "zotero_export.csv")).references[0]
    assert (zotero.source_id, zotero.pmid) == ("ACSRAG7N", "35319117")  # PMID from Zotero's Extra column
    assert zotero.keywords[:2] == ["*Dog Diseases/diagnostic imaging", "*Myoclonus/veterinary"]


def test_embase_keywords_keep_parenthesised_commas():
    ref = read_file(shared_path(*MIXED, "asreview_demo_data", "embase.csv")).references[0]
    assert ref.authors == ["Liu R.", "Adler D.G."]
    assert "bronchogenic duplication cyst (diagnosis, surgery)" in ref.keywords


# ---------------------------------------------------------------- author splitting rule


@pytest.mark.parametrize("cell, names", [
    ("Yang, Z.; Jiang, B.; Xu, J.", ["Yang, Z.", "Jiang, B.", "Xu, J."]),
    ("Barrett, Paul M; Willis, Katherine J; ", ["Barrett, Paul M", "Willis, Katherine J"]),
    ("Alba Vicente|Josep Sanjuan", ["Alba Vicente", "Josep Sanjuan"]),
    ("Smith, J. and Jones, K.", ["Smith, J.", "Jones, K."]),
    ("Longrich, N.R.\n and Bardet, N.\n", ["Longrich, N.R.", "Bardet, N."]),
    ("Department of Health and Social Care", ["Department of Health and Social Care"]),
    ("Yang Z., Jiang B., McNamara M.E., Jalil N.-E.", ["Yang Z.", "Jiang B.", "McNamara M.E.", "Jalil N.-E."]),
    ("Griffin DK, Larkin DM, O'Connor RE.", ["Griffin DK", "Larkin DM", "O'Connor RE."]),
    ("Longrich, N.R., Pereda-Suberbiola, X., Bardet, N.", ["Longrich, N.R.", "Pereda-Suberbiola, X.", "Bardet, N."]),
    ("Curry Rogers, Kristina", ["Curry Rogers, Kristina"]),
    ("Department of Health, Victoria", ["Department of Health, Victoria"]),
    ("['Marx, Karl', 'Lindgren, Astrid']", ["Marx, Karl", "Lindgren, Astrid"]),
    ("van den Hoven,null;Smits,Maarten", ["van den Hoven,null", "Smits,Maarten"]),
    ("World Health Organization", ["World Health Organization"]),
    ("", []),
])
def test_split_authors(cell, names):
    assert tabular.split_authors(cell) == names


# ---------------------------------------------------------------- mapping


def test_mapping_overrides_automatic_columns():
    text = "Name of paper,Writers,Title,When\nReal title,Smith J; Jones K,Not this one,1999\n"
    ref = tabular.read(text, "m.csv", mapping={"title": "name of  PAPER", "authors": "Writers", "year": "When"})[0]
    assert (ref.title, ref.authors, ref.year) == ("Real title", ["Smith J", "Jones K"], 1999)


def test_mapping_without_title_column():
    ref = tabular.read("DOI,Label\n10.1/x,1\n", "m.csv", mapping={"doi": "DOI"})[0]
    assert (ref.doi, ref.title, ref.source_id) == ("10.1/x", "", "1")


def test_mapping_errors():
    with pytest.raises(ParseError) as err:
        tabular.read("Title\nA\n", "m.csv", mapping={"titel": "Title"})
    assert err.value.field == "titel" and "unknown reference field 'titel'" in str(err.value)
    with pytest.raises(ParseError) as err:
        tabular.read("Title,Year\nA,2000\n", "m.csv", mapping={"year": "Publication Year"})
    assert err.value.field == "year" and "'Publication Year'" in str(err.value) and err.value.line == 1


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("text, line, words", [
    ("title,year\nA,2000\nB,2001,extra\n", 3, "3 cells but the header has 2"),
    ('title,abstract\n"A","one\ntwo\nthree"\nB,x,y\n', 5, "3 cells but the header has 2"),
    ("name,year\nA,2000\n", 1, "no recognisable title column"),
    ('title,year\nA,2000\n"B unterminated,2001\nC,2002\n', 3, "unterminated quoted value"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "broken.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert err.value.line == line
    assert f"broken.csv:{line}:" in str(err.value)
    assert words in str(err.value)


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff  \n"])
def test_empty_file(tmp_path, text):
    path = tmp_path / "empty.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert "empty.csv" in str(err.value) and "empty" in str(err.value)


def test_truncated_real_file(tmp_path):
    text = (LOCAL / "_baseline_abstrackr.csv").read_text(encoding="utf-8")
    start = next(n for n, line in enumerate(text.splitlines(), 1) if line.startswith("41893422,"))
    cut = text.index('"Cellular structure of dinosaur scales') + 20  # inside a quoted cell of that row
    path = tmp_path / "cut.csv"
    path.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert err.value.line == start
    assert f"cut.csv:{start}:" in str(err.value) and "unterminated" in str(err.value)


def test_stray_quotes_are_read_leniently():
    refs = tabular.read('TI\tPY\n"Sweet" taste receptors\t2001\nOther\t2002\n', "wos.txt")
    assert [(r.title, r.year, r.line) for r in refs] == [("Sweet taste receptors", 2001, 2), ("Other", 2002, 3)]


def test_extra_empty_cells_and_short_rows_are_fine():
    refs = tabular.read("title,year,doi\nA,2000,10.1/a,,\nB,2001\n", "x.csv")
    assert [(r.title, r.year, r.doi) for r in refs] == [("A", 2000, "10.1/a"), ("B", 2001, "")]
    assert refs[1].original == {"title": ["B"], "year": ["2001"], "doi": [""]}


def test_source_id_falls_back_to_row_number_and_skips_record_id():
    refs = tabular.read("record_id,title\n77,A\n78,B\n", "x.csv")
    assert [r.source_id for r in refs] == ["1", "2"]


# ---------------------------------------------------------------- encodings and detection

ACCENTED = "Title,Authors,Year\nÉtude über Qualität,Müller J; Ståhl Å,2001\n"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(encoding):
    parsed = read_bytes(ACCENTED.encode(encoding), "refs.csv")
    assert parsed.format == "csv"
    ref = parsed.references[0]
    assert (ref.title, ref.authors, ref.year) == ("Étude über Qualität", ["Müller J", "Ståhl Å"], 2001)


def test_sniff_and_detect_format():
    assert tabular.sniff("Title,Authors\nA,B\n")
    assert tabular.sniff("x\ty\nAuthors\tTitle Primary\n")
    assert not tabular.sniff("TY  - JOUR\nTI  - A title\nER  - \n")
    assert not tabular.sniff("")
    assert detect_format("Title;Year\nA;2000\n", "x.txt") == "csv"
    assert detect_format("Name,Year\nA,2000\n", "x.tsv") == "csv"  # by ending
    assert tabular.sniff_delimiter((LOCAL / "_baseline_rayyan.csv").read_text(encoding="utf-8")) == ","
    assert tabular.sniff_delimiter((LOCAL / "_baseline_excel.csv").read_text(encoding="utf-8-sig")) == ";"


@pytest.mark.parametrize("value, ref_type", [
    ("Journal Article", "article"), ("JOUR", "article"), ("journalArticle", "article"), ("Article", "article"),
    ("Review", "article"), ("Book Chapter", "chapter"), ("bookSection", "chapter"), ("Book", "book"),
    ("Conference Paper", "conference"), ("conferencePaper", "conference"), ("Dissertation", "thesis"),
    ("RPRT", "report"), ("posted-content", "preprint"), ("dataset", "dataset"), ("Web Page", "web"),
    ("Patent", "other"), ("other", "other"),
])
def test_reference_types(value, ref_type):
    assert tabular.reference_type(value) == ref_type


# ---------------------------------------------------------------- writing


def test_write_columns_and_values():
    refs = [Reference(type="article", title='A "quoted", title', authors=["Smith, J", "Jones, K"], year=2001,
                      keywords=["a", "b"], pages="1-9", abstract="line one\nline two", source_id="s1")]
    text = tabular.write(refs, extra=[{"record_id": 7, "import_file": "x.ris", "source_id": "s1", "cluster_id": None}])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["record_id", "import_file", "source_id", "cluster_id", *tabular.WRITE_COLUMNS]
    row = dict(zip(rows[0], rows[1]))
    assert row["authors"] == "Smith, J; Jones, K" and row["keywords"] == "a; b"
    assert (row["record_id"], row["cluster_id"], row["year"], row["title"]) == ("7", "", "2001", 'A "quoted", title')
    assert tabular.write([]) == ",".join(tabular.WRITE_COLUMNS) + "\n"
    with pytest.raises(ValueError):
        tabular.write(refs, extra=[])


@pytest.mark.parametrize("path", by_size(real_fixture_files()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip(path):
    refs = read_or_skip(path)
    extra = [{"record_id": i, "source_id": r.source_id} for i, r in enumerate(refs, 1)]
    back = tabular.read(tabular.write(refs, extra), "round-trip.csv")
    assert [match_keys(r) for r in back] == [match_keys(r) for r in refs]
    if all(r.source_id for r in refs):  # an id column with gaps is no id column; rows are numbered instead
        assert [r.source_id for r in back] == [r.source_id for r in refs]
    assert [r.original["record_id"] for r in back] == [[str(i)] for i in range(1, len(refs) + 1)]


@pytest.mark.slow  # 100,000 rows
def test_hundred_thousand_rows_read_quickly():
    header = "ID,Title,Authors,Year,Journal,Volume,Issue,Pages,DOI,Abstract\n"
    row = (
        '{i},"A title about trial number {i}","Smith, J.; Jones, K.",2001,Journal of Tests,12,3,100-109,'
        '10.1000/{i},"An abstract of some length, with commas, and ""quotes""."\n'
    )
    text = header + "".join(row.format(i=i) for i in range(100_000))
    start = time.perf_counter()
    refs = tabular.read(text, "big.csv")
    elapsed = time.perf_counter() - start
    assert len(refs) == 100_000
    assert refs[-1].doi == "10.1000/99999" and refs[-1].line == 100_001
    assert elapsed < 20, f"100,000 rows took {elapsed:.1f} s"
