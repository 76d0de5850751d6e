"""Issue 10: the holes a hostile or clumsy world found in the readers, each from its reproduction."""

from __future__ import annotations

import pytest

from review.io import ParseError, read_bytes
from review.io import bibtex, endnote_xml, medline, ris, tabular


# --- 1. lone CR is a line break in every reader -------------------------------------------


def test_ris_lone_cr_record_is_not_swallowed():
    data = b"TY  - JOUR\rTI  - Record A\rER  - \rTY  - JOUR\nTI  - Record B\nER  - \n"
    refs = read_bytes(data, "cr.ris").references
    assert [r.title for r in refs] == ["Record A", "Record B"]
    assert [r.line for r in refs] == [1, 4]


def test_medline_lone_cr_mixed_with_lf():
    text = "PMID- 1\rTI  - First\rSO  - J. 2000\r\rPMID- 2\nTI  - Second\nSO  - J. 2001\n"
    assert [r.title for r in medline.read(text, "cr.nbib")] == ["First", "Second"]


def test_wos_lone_cr_mixed_with_lf():
    text = "FN Clarivate\rVR 1.0\rPT J\rTI First\rER\rPT J\nTI Second\nER\nEF\n"
    assert [r.title for r in ris.read(text, "cr.txt")] == ["First", "Second"]


def test_csv_lone_cr_mixed_with_lf():
    text = "Title,Authors\rFirst,A\rSecond,B\nThird,C\n"
    refs = tabular.read(text, "cr.csv")
    assert [r.title for r in refs] == ["First", "Second", "Third"]


def test_bibtex_lone_cr_mixed_with_lf():
    text = "@article{a,\r title={First}}\r@article{b,\n title={Second}}\n"
    assert [r.title for r in bibtex.read(text, "cr.bib")] == ["First", "Second"]


def test_endnote_xml_lone_cr_is_a_line_break():
    text = ('<?xml version="1.0"?><xml><records>\r<record><titles><title>First</title></titles></record>\r'
            '<record><titles><title>Second</title></titles></record>\n</records></xml>')
    assert [r.title for r in endnote_xml.read(text, "cr.xml")] == ["First", "Second"]


# --- 3. empty or truncated records are errors with their line ----------------------------


def test_medline_empty_pmid_record_is_refused():
    with pytest.raises(ParseError, match=r"empty.nbib:1: .*no title") as err:
        read_bytes(b"PMID- \n", "empty.nbib", "medline")
    assert err.value.line == 1


def test_medline_file_cut_mid_record_is_refused():
    whole = "PMID- 1\nTI  - First\nSO  - J. 2000\n\nPMID- 2\nTI  - Second\nAB  - Cut he"
    with pytest.raises(ParseError, match="truncated") as err:
        medline.read(whole, "cut.nbib")
    assert err.value.line == 5
    # a single record cut before its SO, file ending mid-line
    with pytest.raises(ParseError, match="truncated"):
        medline.read("PMID- 2\nTI  - Second\nAB  - Cut he", "cut.nbib")
    # the same records whole read fine
    assert len(medline.read(whole + "re\nSO  - J. 2001\n", "whole.nbib")) == 2


@pytest.mark.parametrize("reader, text, line", [
    (ris, "TY  - JOUR\nTI  - A\nER  - \nTY  - JOUR\nN1  - only a note\nER  - \n", 4),
    (bibtex, "@article{a, title={A}}\n@article{b, year={2000}}\n", 2),
    (tabular, "Title,Year,Authors\nA,2000,X\n,2001,\n", 3),
    (endnote_xml, '<xml><records><record><titles><title>A</title></titles></record>\n'
                  '<record><dates><year>2000</year></dates></record></records></xml>', 2),
])
def test_record_with_nothing_to_screen_is_refused_in_every_reader(reader, text, line):
    with pytest.raises(ParseError, match="no title, no authors") as err:
        reader.read(text, "f")
    assert err.value.line == line


def test_empty_ty_block_skipped_with_a_warning():
    parsed = read_bytes(b"TY  -\nER  -\nTY  - JOUR\nTI  - A\nER  - \n", "x.ris")
    assert len(parsed.references) == 1
    assert parsed.warnings == ["x.ris:1: empty record (blank TY, no fields) skipped"]


# --- 8. NUL bytes and undefined BibTeX macros ------------------------------------------------


@pytest.mark.parametrize("name, data, line", [
    ("nul.ris", b"TY  - JOUR\nTI  - A\x00B\nER  - \n", 2),
    ("nul.csv", b"Title,Authors\nA,B\nC\x00,D\n", 3),
    ("nul.nbib", b"PMID- 1\r\rTI  - A\x00\rSO  - x\r", 3),
    ("nul.bib", b"@article{a,\n title={A\x00}}\n", 2),
])
def test_nul_bytes_are_refused_with_their_line(name, data, line):
    with pytest.raises(ParseError, match="NUL byte") as err:
        read_bytes(data, name)
    assert err.value.line == line


def test_undefined_bibtex_macro_is_warned():
    text = b"@string{nat={Nature}}\n@article{a,\n author={X},\n journal=nat,\n title=Smith2020}\n"
    parsed = read_bytes(text, "m.bib")
    assert parsed.references[0].journal == "Nature"
    assert parsed.references[0].title == "Smith2020"
    assert len(parsed.warnings) == 1
    assert "undefined macro 'Smith2020'" in parsed.warnings[0] and "[field title]" in parsed.warnings[0]
    # months are predefined, numbers are numbers: no warning
    assert read_bytes(b"@article{b, title={T}, month=jan, year=2000}\n", "ok.bib").warnings == []


# --- 5. formula guard in spreadsheet exports, exact text in machine exports ------------------


PAYLOADS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3 and more", "@SUM(A1)", "\tTabbed"]


def _ref(title, note=""):
    from review.records import Reference

    return Reference(type="article", title=title, authors=["Smith, J"], notes=[note] if note else [], line=1)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_csv_export_defuses_formulas_and_reads_back(payload):
    text = tabular.write([_ref(payload)])
    cell = text.splitlines()[1]
    assert "'" + payload.strip()[:3] in cell or "'" + payload[:3] in cell
    assert tabular.read(text, "back.csv")[0].title == payload.strip()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_ris_and_bibtex_keep_the_exact_text(payload):
    assert ris.read(ris.write([_ref(payload)]), "b.ris")[0].title == " ".join(payload.split())
    assert "'=" not in ris.write([_ref(payload)]) and "'=" not in bibtex.write([_ref(payload)])


def test_nul_never_reaches_an_export():
    ref = _ref("A\x00B", note="n\x00")
    for text in (ris.write([ref]), bibtex.write([ref]), tabular.write([ref])):
        assert "\x00" not in text and "A\ufffdB" in text
