"""EndNote XML reader: EndNote, Zotero and Mendeley exports, line numbers, unsafe and broken XML, encodings."""

from __future__ import annotations

import re

import pytest

from conftest import FIXTURES, shared_path
from review.io import ParseError, detect_format, endnote_xml, read_bytes, read_file
from review.records import match_keys

FIRST5 = FIXTURES / "endnote_xml" / "tafenoquine_first5.xml"
SRA = ("datasets", "dedup-sra-endnote-xml")
ASYSD = ("datasets", "fixtures-parsers-mixed", "asysd_tests")

STYLE = '<style face="normal" font="default" size="100%">'
MULTILINE = f"""<?xml version="1.0" encoding="UTF-8" ?>
<xml>
<records>
<record>
<rec-number>7</rec-number>
<ref-type name="Book Section">5</ref-type>
<contributors><authors><author>{STYLE}Müller, J.</style></author><author>Department of Health,</author></authors>
<secondary-authors><author>Editor, E.</author></secondary-authors></contributors>
<titles><title>{STYLE}Effects of </style><style face="italic" font="default" size="100%">Plasmodium vivax</style>\
{STYLE} on sleep</style></title>
<secondary-title>{STYLE}A Book of Chapters</style></secondary-title></titles>
<pages>{STYLE}11-19</style></pages>
<dates><year>{STYLE}2003</style></year></dates>
<isbn>{STYLE}978-0-19-852663-6</style></isbn>
<publisher>Oxford University Press</publisher><pub-location>Oxford</pub-location>
<abstract>{STYLE}First line.&#xD;Second line.</style></abstract>
<urls><related-urls><url>{STYLE}https://example.org/x</style></url></related-urls></urls>
<accession-num>WOS:000123456700001</accession-num>
</record>
<record>
<ref-type name="Thesis">32</ref-type>
<titles><title>A Thesis</title></titles>
<dates><pub-dates><date>2011 May</date></pub-dates></dates>
</record>
</records>
</xml>
"""


def record_count(text: str) -> int:
    return len(re.findall(r"<record>", text))


# ---------------------------------------------------------------- the local fixture (MIT)


@pytest.fixture(scope="module")
def first5():
    return read_file(FIRST5).references


def test_fixture_count_and_ids(first5):
    text = FIRST5.read_text(encoding="utf-8")
    assert len(first5) == record_count(text) == 5
    assert [r.source_id for r in first5] == re.findall(r"<rec-number>(\d+)</rec-number>", text)
    assert all(r.line == 1 for r in first5)  # EndNote writes the whole file on one line


def test_fixture_fields(first5):
    baird = first5[0]
    assert baird.type == "article"
    assert baird.title == "8-Aminoquinoline Therapy for Latent Malaria"
    assert baird.authors == ["Baird, J. K."]
    assert (baird.year, baird.journal, baird.volume, baird.issue) == (2019, "Clin Microbiol Rev", "32", "4")
    assert (baird.doi, baird.pmid, baird.language) == ("10.1128/cmr.00011-19", "31366609", "eng")
    assert baird.issn.startswith("0893-8512 (Print)")
    assert baird.keywords[:2] == ["Aminoquinolines/*therapeutic use", "Antimalarials/therapeutic use"]
    assert baird.date == "Sep 18"
    assert baird.abstract == "Abstract removed: publisher text."

    tekwani = first5[1]
    assert tekwani.authors == ["Tekwani, B. L.", "Walker, L. A."]
    assert tekwani.pages == "623-31"

    generic = first5[2]
    assert generic.type == "other"  # ref-type "Generic"
    assert generic.isbn == "9783034604796" and generic.issn == ""

    assert first5[3].title.startswith("62<sup>ND</sup> Annual meeting")  # escaped markup is text


def test_original_is_flattened(first5):
    original = first5[0].original
    assert original["ref-type@name"] == ["Journal Article"]
    assert original["ref-type"] == ["17"]
    assert original["titles/title"] == ["8-Aminoquinoline Therapy for Latent Malaria"]
    assert original["contributors/authors/author"] == ["Baird, J. K."]
    assert original["rec-number"] == ["19"]
    assert original["source-app@name"] == ["EndNote"]


# ---------------------------------------------------------------- a multi-line document


def test_styles_joined_lines_and_types():
    refs = endnote_xml.read(MULTILINE, "multi.xml")
    chapter, thesis = refs
    assert chapter.title == "Effects of Plasmodium vivax on sleep"
    assert chapter.authors == ["Müller, J.", "Department of Health"]  # editors are not authors
    assert (chapter.type, chapter.journal, chapter.pages, chapter.year) == ("chapter", "A Book of Chapters", "11-19", 2003)
    assert (chapter.isbn, chapter.issn) == ("978-0-19-852663-6", "")
    assert (chapter.publisher, chapter.place) == ("Oxford University Press", "Oxford")
    assert chapter.abstract == "First line.\nSecond line."
    assert chapter.url == "https://example.org/x"
    assert chapter.pmid == ""  # a WoS accession number is no PMID
    assert (chapter.source_id, chapter.line) == ("7", 4)
    assert (thesis.type, thesis.year, thesis.date, thesis.source_id, thesis.line) == ("thesis", 2011, "2011 May", "2", 19)
    assert chapter.original["contributors/secondary-authors/author"] == ["Editor, E."]


# ---------------------------------------------------------------- real exports in ../shared


@pytest.mark.parametrize("name, records, with_abstract, with_doi", [
    ("tafenoquine.xml", 179, 170, 156),
    ("copper.xml", 505, 498, 379),
    ("respiratory_rathbone2015.xml", 1988, 0, 0),
])
def test_sra_exports(name, records, with_abstract, with_doi):
    path = shared_path(*SRA, name)
    text = path.read_text(encoding="utf-8")
    refs = read_file(path).references
    assert len(refs) == record_count(text) == records
    assert sum(bool(r.abstract) for r in refs) == with_abstract
    assert sum(bool(r.doi) for r in refs) == with_doi
    assert [r.source_id for r in refs] == re.findall(r"<rec-number>(\d+)</rec-number>", text)
    duplicates = len(re.findall(r"<caption>" + re.escape(STYLE) + "Duplicate</style></caption>", text))
    assert sum(r.original.get("caption") == ["Duplicate"] for r in refs) == duplicates


def test_copper_record():
    refs = read_file(shared_path(*SRA, "copper.xml")).references
    first = refs[0]
    assert first.title.startswith("Zinc, copper, CD4 T-cell count and some hematologi")
    assert first.authors[:3] == ["Asemota, E. A.", "Okafor, I. M.", "Okoroiwu, H. U."]
    assert (first.year, first.volume, first.issue, first.pages) == (2018, "7", "1", "53-60")
    assert first.journal == "Integrative Medicine Research"
    assert first.doi == "10.1016/j.imr.2018.01.008"
    # the same paper exported from PubMed, later in the file
    assert match_keys(refs[1]).doi == match_keys(first).doi


@pytest.mark.parametrize("name", ["zotero_export.xml", "mendeley_export.xml"])
def test_zotero_and_mendeley_exports(name):
    path = shared_path(*ASYSD, name)
    refs = read_file(path).references
    assert len(refs) == record_count(path.read_text(encoding="utf-8")) == 1233
    first = refs[0]
    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors == ["Rotter, Carina", "Whittaker, Danielle", "Rusbridge, Clare"]
    assert (first.year, first.volume, first.issue, first.pages) == (2022, "36", "3", "1032-1038")
    assert first.doi == "10.1111/jvim.16404"
    assert first.source_id == "1"  # no rec-number: numbered in file order
    if name == "mendeley_export.xml":
        assert first.pmid == "35319117"
    else:
        assert first.issn == "1939-1676 0891-6640"


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize("text, line, words", [
    (MULTILINE.replace("<pages>", "<pages", 1), 11, "malformed XML"),
    (MULTILINE.replace("</titles>\n<pages>", "</title>\n<pages>", 1), 10, "mismatched tag"),
    (MULTILINE.replace("Oxford</pub-location>", "Oxford & Co</pub-location>"), 14, "malformed XML"),
    ('<?xml version="1.0"?>\n<library>\n<item/>\n</library>\n', None, "no <records> element"),
])
def test_malformed_files_name_file_and_line(tmp_path, text, line, words):
    path = tmp_path / "broken.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ParseError) as err:
        endnote_xml.read(path.read_text(encoding="utf-8"), str(path))
    assert err.value.line == line
    assert ("broken.xml:" + (f"{line}:" if line else "")) in str(err.value)
    assert words in str(err.value)


def test_truncated_files(tmp_path):
    for cut in (len(MULTILINE) // 2, len(MULTILINE) - 20):
        path = tmp_path / "cut.xml"
        path.write_text(MULTILINE[:cut], encoding="utf-8")
        with pytest.raises(ParseError) as err:
            read_file(path, format="endnote-xml")
        assert err.value.line == MULTILINE[:cut].count("\n") + 1
        assert "cut.xml" in str(err.value)


def test_truncated_real_file(tmp_path):
    data = FIRST5.read_bytes()
    path = tmp_path / "cut.xml"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ParseError) as err:
        read_file(path)
    assert err.value.line == 1 and "malformed XML" in str(err.value)


def test_entity_expansion_is_refused():
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n'
            "<xml><records><record><titles><title>&b;</title></titles></record></records></xml>\n")
    with pytest.raises(ParseError) as err:
        endnote_xml.read(bomb, "bomb.xml")
    assert "unsafe XML" in str(err.value) and "bomb.xml" in str(err.value)
    external = ('<?xml version="1.0"?>\n<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
                "<xml><records><record><titles><title>&e;</title></titles></record></records></xml>\n")
    with pytest.raises(ParseError):
        endnote_xml.read(external, "external.xml")


# ---------------------------------------------------------------- encodings and detection


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "utf-16", "cp1252"])
def test_encodings(encoding):
    text = MULTILINE.replace("Department of Health", "Ståhl, Åsa")
    if encoding == "cp1252":
        text = text.replace('encoding="UTF-8"', 'encoding="windows-1252"')
    parsed = read_bytes(text.encode(encoding), "library.xml")
    assert parsed.format == "endnote-xml"
    assert parsed.references[0].authors == ["Müller, J.", "Ståhl, Åsa"]
    assert parsed.references[1].line == 19


def test_sniff_and_detect_format():
    text = FIRST5.read_text(encoding="utf-8")
    assert endnote_xml.sniff(text)
    assert endnote_xml.sniff(MULTILINE)
    assert not endnote_xml.sniff('<?xml version="1.0"?><rss><channel/></rss>')
    assert not endnote_xml.sniff("TY  - JOUR\nER  - \n")
    assert detect_format(text, "export.txt") == "endnote-xml"
