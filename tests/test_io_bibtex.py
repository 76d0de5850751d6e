"""BibTeX reader and writer: real exports, LaTeX decoding, errors, encodings, round trips."""

from __future__ import annotations

import re
from pathlib import Path

import bibtexparser
import pytest

from conftest import FIXTURES, SHARED, by_size, shared_path
from review.io import ParseError, bibtex, detect_format, read_bytes, read_file
from review.records import Reference, match_keys

HANDMADE = FIXTURES / "bibtex" / "handmade.bib"
MIXED = ("datasets", "fixtures-parsers-mixed")
NON_ENTRY_BLOCKS = {"string", "comment", "preamble"}
SHARED_DATASETS = SHARED / "datasets"


def entry_start_lines(text: str) -> dict[str, int]:
    """Citation key -> 1-based line of its `@type{key,`, found without any parser."""
    lines = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = re.match(r"\s*@(\w+)\s*[{(]\s*([^,\s{}()]+)", line)
        if match and match.group(1).lower() not in NON_ENTRY_BLOCKS:
            lines[match.group(2)] = number
    return lines


def by_key(references):
    return {r.source_id: r for r in references}


# ---------------------------------------------------------------- the hand-written fixture


@pytest.fixture(scope="module")
def handmade():
    return bibtex.read(HANDMADE.read_text(encoding="utf-8"), str(HANDMADE))


def test_handmade_count_keys_and_lines(handmade):
    expected = entry_start_lines(HANDMADE.read_text(encoding="utf-8"))
    assert len(expected) == 10
    assert [r.source_id for r in handmade] == list(expected)
    assert {r.source_id: r.line for r in handmade} == expected


def test_latex_is_decoded_for_display(handmade):
    ref = by_key(handmade)["mason2014"]
    assert ref.title == "The Mason effect: études on 100% of DNA & RNA"
    assert ref.authors[0] == "Müller, Jörg"
    assert by_key(handmade)["chapter2001"].authors == ["García, María"]
    assert by_key(handmade)["biblatex2019"].journal == "Zeitschrift für Tests"


def test_names(handmade):
    ref = by_key(handmade)["mason2014"]
    # organisation kept whole; "First von Last" turned round; `and others` is not a person
    assert ref.authors == ["Müller, Jörg", "Department of Health", "van der Berg, Anna", "O'Neil, P."]
    assert by_key(handmade)["who2020"].authors == ["World Health Organization"]
    assert by_key(handmade)["smith2010"].authors == ["Smith, John", "Jones, K."]


def test_fields_of_an_article(handmade):
    ref = by_key(handmade)["mason2014"]
    assert ref.type == "article"
    assert ref.journal == "Journal of Geophysical Research"  # @string macro resolved
    assert (ref.year, ref.volume, ref.issue, ref.pages) == (2014, "12", "3", "383-398")
    assert ref.doi == "10.1000/jgr.2014_12"
    assert ref.pmid == "24681234"
    assert ref.issn == "0148-0227"
    assert ref.keywords == ["geophysics", "Diabetes Mellitus, Type 2", "modelling"]
    assert ref.url == "https://example.org/a%20b?x=1&y=2"  # no LaTeX decoding: % is not a comment here
    assert ref.notes == ["Epub ahead of print"]
    assert ref.abstract.startswith("First paragraph about")
    assert "\n\nSecond paragraph, with a wrapped line." in ref.abstract


def test_original_keeps_raw_values(handmade):
    ref = by_key(handmade)["mason2014"]
    assert ref.original["ENTRYTYPE"] == ["article"]
    assert ref.original["ID"] == ["mason2014"]
    assert ref.original["title"] == [r"The {M}ason effect: {\'e}tudes on 100\% of {DNA} \& {RNA}"]
    assert ref.original["pages"] == ["383--398"]
    assert ref.original["month"] == ["jan"]
    assert "{{Department of Health}}" in ref.original["author"][0]


@pytest.mark.parametrize("key, ref_type", [
    ("mason2014", "article"), ("smith2010", "book"), ("chapter2001", "chapter"), ("paper1999", "conference"),
    ("proc1999", "conference"), ("who2020", "report"), ("doe2018", "thesis"), ("site2021", "web"),
    ("nourl2000", "other"), ("biblatex2019", "article"),
])
def test_entry_types(handmade, key, ref_type):
    assert by_key(handmade)[key].type == ref_type


def test_publisher_place_and_containers(handmade):
    refs = by_key(handmade)
    assert (refs["smith2010"].publisher, refs["smith2010"].place) == ("Oxford University Press", "Oxford")
    assert refs["smith2010"].isbn == "978-0-19-852663-6"
    assert refs["chapter2001"].journal == "Collected Chapters"  # booktitle of a chapter
    assert refs["who2020"].publisher == "WHO"  # institution
    assert refs["doe2018"].publisher == "University of Oxford"  # school


def test_crossref_fills_missing_fields(handmade):
    paper = by_key(handmade)["paper1999"]
    assert paper.journal == "Proceedings of the Annual Meeting"
    assert (paper.year, paper.publisher, paper.pages) == (1999, "ACM", "5-9")
    assert "year" not in paper.original  # original is the entry's own fields only


def test_biblatex_fields(handmade):
    ref = by_key(handmade)["biblatex2019"]
    assert (ref.year, ref.date, ref.place, ref.language, ref.pmid) == (2019, "2019-05", "Berlin", "german", "31012345")
    web = by_key(handmade)["site2021"]
    assert (web.url, web.date, web.year) == ("https://example.org/page", "2021-02-15", 2021)


# ---------------------------------------------------------------- real exports (GPL/LGPL, read in place)


def test_zotero_export():
    path = shared_path(*MIXED, "asysd_tests", "zotero_export.bib")
    text = path.read_text(encoding="utf-8")
    refs = bibtex.read(text, str(path))
    expected = entry_start_lines(text)
    assert len(refs) == len(expected) == 1000
    assert {r.source_id: r.line for r in refs} == expected
    assert sum(r.type == "conference" for r in refs) == len(re.findall(r"^@inproceedings\{", text, re.M)) == 3

    first = by_key(refs)["larsen_microangiography_1999"]
    assert first.title == "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker Spaniel dogs"
    assert first.authors == ["Larsen, LJ", "Roush, JK", "McLaughlin, RM", "Cash, WC"]
    assert (first.year, first.volume, first.issue, first.pages) == (1999, "12", "3", "134-137")
    assert first.journal == "VETERINARY AND COMPARATIVE ORTHOPAEDICS AND TRAUMATOLOGY"
    assert (first.issn, first.language) == ("0932-0814", "English")
    assert first.keywords[:2] == ["blood supply", "Cocker Spaniels"]
    assert first.notes[0].startswith("Times Cited in Web of Science")

    kaimio = by_key(refs)["kaimio_survey_2017"]
    assert kaimio.doi == "10.1186/s13028-017-0282-3"
    assert "(149 out of 468, 31.8%, [95% confidence interval" in kaimio.abstract
    assert "early onset (< 1 year)" in kaimio.abstract

    hardy = by_key(refs)["hardy_chronic_1993"]
    assert hardy.title == "CHRONIC HEPATITIS IN COCKER-SPANIELS - ANOTHER SYNDROME"
    assert hardy.journal == "University of Minnesota System"
    assert by_key(refs)["karydas_proximal_2023"].title.startswith("Proximal Ulnar Osteotomy as a Treatment")


def test_scopus_export_with_repeated_fields():
    # Scopus repeats `funding_details` within an entry; every value is kept
    path = shared_path(*MIXED, "synthesisr", "Scopus_bib_example.bib")
    text = path.read_text(encoding="utf-8")
    refs = bibtex.read(text, str(path))
    assert [r.source_id for r in refs] == list(entry_start_lines(text)) == ["Li2020", "Cao2020", "Tang2020"]
    li = refs[0]
    assert len(li.original["funding_details"]) == 2
    assert li.authors[:2] == ["Li, W.", "Dou, Z."]
    assert li.keywords[:2] == ["Environmental factors", "Lake Taihu"]
    assert (li.doi, li.year, li.volume, li.issue) == ("10.1080/20964129.2020.1722034", 2020, "6", "1")
    assert li.journal == "Ecosystem Health and Sustainability"
    assert li.notes == ["cited By 0"]


def bibtexparser_v1_files():
    folder = SHARED_DATASETS / "fixtures-parsers-mixed" / "bibtexparser_v1"
    return sorted(p.name for p in folder.glob("*.bib")) or ["<absent>"]


@pytest.mark.parametrize("name", bibtexparser_v1_files())
def test_bibtexparser_edge_cases(name):
    path = shared_path(*MIXED, "bibtexparser_v1", name)
    text = path.read_text(encoding="utf-8-sig")
    if name == "biber-examples.bib":
        # a real duplicate key: the second @UNPUBLISHED{tmn4 is reported
        second = [n for n, line in enumerate(text.splitlines(), 1) if "{tmn4," in line][1]
        with pytest.raises(ParseError) as err:
            bibtex.read(text, str(path))
        assert err.value.line == second
        assert f"biber-examples.bib:{second}: duplicate entry key 'tmn4'" in str(err.value)
        return
    refs = bibtex.read(text, str(path))
    assert [r.source_id for r in refs] == list(entry_start_lines(text))


def test_traps_and_capital_and():
    traps = bibtex.read(shared_path(*MIXED, "bibtexparser_v1", "traps.bib").read_text(), "traps.bib")[0]
    assert traps.title == "An amazing title"
    assert traps.volume == "n.s. 2"
    assert "french érudit word" in traps.abstract
    book = bibtex.read(shared_path(*MIXED, "bibtexparser_v1", "book_capital_AND.bib").read_text(), "b.bib")[0]
    assert book.authors == ["Bird, R.B.", "Armstrong, R.C.", "Hassager, O."]  # "and" or "AND"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("text, line, words", [
    ("@article{ok,\n title={A}\n}\n\n@article{bad\n  title = {x},\n}\n", 5, "comma after entry key"),
    ("@article{ok,\n title={A}\n}\n@article{b2,\n  title = {Unbalanced {brace},\n  year = {2000}\n}\n"
     "@article{c3, title={C}}\n", 4, "closing"),
    ("@article{ok,\n title={A}\n}\n@article{t,\n  title = {Trunc", 4, "end of file"),
    ("@article{a,\n title={A}\n}\n\n@book{a,\n title={B}\n}\n", 5, "duplicate entry key 'a' (first used on line 1)"),
    ("@article{a,\n  title={A}\n  year={2000}\n}\n", 3, "missing comma before field 'year'"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "broken.bib"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert err.value.line == line
    assert f"broken.bib:{line}:" in str(err.value)
    assert words in str(err.value)


def test_truncated_real_file(tmp_path):
    text = HANDMADE.read_text(encoding="utf-8")
    cut = text.index("@techreport{who2020") + 60
    path = tmp_path / "cut.bib"
    path.write_text(text[:cut], encoding="utf-8")
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert err.value.line == entry_start_lines(text)["who2020"]


def test_comments_preamble_and_empty_files():
    assert bibtex.read("", "empty.bib") == []
    assert bibtex.read("% only a comment\n@comment{x}\n@preamble{\"y\"}\n", "c.bib") == []


# ---------------------------------------------------------------- encodings and detection

ACCENTED = (
    "@article{k1,\n  author = {Müller, Jörg and Šťastný, Čeněk},\n"
    "  title = {Étude über Qualität},\n  year = {2001}\n}\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(encoding):
    text = ACCENTED if encoding != "cp1252" else ACCENTED.replace("Šťastný, Čeněk", "Ståhl, Åsa")
    parsed = read_bytes(text.encode(encoding), "refs.bib")
    assert parsed.format == "bibtex"
    ref = parsed.references[0]
    assert ref.title == "Étude über Qualität"
    assert ref.authors[0] == "Müller, Jörg"
    assert ref.authors[1] in ("Šťastný, Čeněk", "Ståhl, Åsa")


def test_sniff_and_detect_format():
    text = HANDMADE.read_text(encoding="utf-8")
    assert bibtex.sniff(text)
    assert not bibtex.sniff("TY  - JOUR\nTI  - x\nER  - \n")
    assert not bibtex.sniff("title,authors\nA paper about @things{x},Smith\n")
    assert detect_format(text, "export.txt") == "bibtex"
    assert detect_format("  @Article (key,\n title = {x})\n", "x") == "bibtex"


# ---------------------------------------------------------------- writing


def test_write_escapes_what_would_break_the_file():
    title = "Braces {unbalanced and 100% of $5 & #1 under_score ~tilde ^caret \\back -- ``q'' ?` end"
    abstract = "First.\n\n@article{fake, title = {injected}}\n\nLast } paragraph %"
    ref = Reference(type="article", title=title, abstract=abstract, authors=["Smith, J."], year=2001, source_id="k")
    text = bibtex.write([ref])
    library = bibtexparser.parse_string(text)
    assert not library.failed_blocks
    assert len(library.entries) == 1
    back = bibtex.read(text, "w.bib")[0]
    assert back.title == title
    assert back.abstract == abstract


def test_write_authors_and_keys():
    refs = [
        Reference(
            title="A", authors=["Department of Health", "Smith JA", "John Smith", "Smith and Sons"], source_id="a b,c"
        ),
        Reference(title="B", authors=["Müller, J."], year=2010, source_id="A B,C"),
        Reference(title="C", authors=["Müller, J."], year=2010),
        Reference(title="D", authors=[], source_id="{x}"),
    ]
    text = bibtex.write(refs)
    assert "author = {{Department of Health} and Smith, JA and Smith, John and {Smith and Sons}}" in text
    keys = [e.key for e in bibtexparser.parse_string(text).entries]
    assert keys == ["a_b_c", "A_B_C-2", "Muller2010", "x"]
    back = bibtex.read(text, "w.bib")
    assert back[0].authors == ["Department of Health", "Smith, JA", "Smith, John", "Smith and Sons"]
    assert [match_keys(r) for r in refs] == [match_keys(r) for r in back]


def test_write_types_and_containers():
    refs = [
        Reference(type="chapter", title="Ch", journal="The Book", pages="1-20"),
        Reference(type="conference", title="P", journal="Proc"),
        Reference(type="report", title="R", publisher="WHO"),
        Reference(type="web", title="W", url="https://x.org/{a}"),
    ]
    text = bibtex.write(refs)
    assert "@incollection{" in text and "booktitle = {The Book}" in text and "pages = {1--20}" in text
    assert "institution = {WHO}" in text
    assert "url = {https://x.org/%7Ba%7D}" in text
    back = bibtex.read(text, "w.bib")
    assert [r.type for r in back] == ["chapter", "conference", "report", "web"]
    assert [r.journal for r in back] == ["The Book", "Proc", "", ""]


def real_fixture_files() -> list[Path]:
    """Every real export the readers are tested on, local and (when present) shared,
    including the RIS and MEDLINE fixtures, whose name styles differ again."""
    local_exports = [
        p for p in sorted((FIXTURES / "ris").rglob("*")) + sorted((FIXTURES / "medline").rglob("*"))
        if p.suffix in (".ris", ".txt", ".nbib") and not p.name.startswith("LICENSE")
    ]
    files = [HANDMADE, *sorted((FIXTURES / "csv").glob("*.csv")), *sorted((FIXTURES / "csv").glob("*.tab")),
             *sorted((FIXTURES / "endnote_xml").glob("*.xml")), *local_exports]
    shared = SHARED_DATASETS
    asysd = shared / "fixtures-parsers-mixed" / "asysd_tests"
    files += [asysd / n for n in ("zotero_export.bib", "zotero_export.csv", "zotero_export.xml", "mendeley_export.xml")]
    files += [shared / "fixtures-parsers-mixed" / "synthesisr" / "Scopus_bib_example.bib"]
    files += sorted((shared / "fixtures-citation-file-formatting" / "CSV").glob("*.csv"))
    files += sorted((shared / "fixtures-citation-file-formatting" / "TSV").glob("*.tsv"))
    files += sorted((shared / "dedup-sra-endnote-xml").glob("*.xml"))
    return [f for f in files if f.exists()]


def read_or_skip(path: Path) -> list[Reference]:
    try:
        return read_file(path).references
    except ParseError as exc:  # some fixtures exist to test a reader's errors
        pytest.skip(f"{path.name} does not read, so there is nothing to round-trip: {exc}")


@pytest.mark.parametrize("path", by_size(real_fixture_files()), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_round_trip_keeps_match_keys(path):
    refs = read_or_skip(path)
    back = bibtex.read(bibtex.write(refs), "round-trip.bib")
    assert len(back) == len(refs)
    for before, after in zip(refs, back):
        assert match_keys(after) == match_keys(before), before.source_id
