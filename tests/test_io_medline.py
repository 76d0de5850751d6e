"""The PubMed MEDLINE (nbib) reader on real exports, malformed files and encodings."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest
from conftest import shared_path

from review.io import ParseError, detect_format, medline, read_bytes, read_file, ris
from review.io.base import decode
from review.records import match_keys

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "medline"
DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
BASELINE = FIXTURES / "citation-file-formatting" / "_baseline_pubmed.ris"

# GPL exports in ../shared: path under datasets -> record count
SHARED_FILES = {
    "fixtures-parsers-mixed/revtools/restoration_pubmed.nbib": 104,
    "fixtures-parsers-mixed/synthesisr/PubMed_example.txt": 3,
    "fixtures-parsers-mixed/synthesisr/res_synth_methods.txt": 2,
}

_PMID_LINE = re.compile(r"^PMID- ", re.MULTILINE)


def shared(relative: str) -> Path:
    """A GPL dataset kept in ../shared (never copied here); the test skips if it is absent."""
    return shared_path("datasets", relative)


def text_of(path: Path) -> str:
    return decode(path.read_bytes(), str(path))[0]


# --- Real exports -------------------------------------------------------------------


def test_baseline_export_misnamed_as_ris():
    text = text_of(BASELINE)
    assert detect_format(text, BASELINE) == "medline"  # content wins over the .ris ending
    parsed = read_file(BASELINE)
    assert parsed.format == "medline"
    assert len(parsed.references) == len(_PMID_LINE.findall(text)) == 50
    lines = text.split("\n")
    for ref in parsed.references:
        assert lines[ref.line - 1] == f"PMID- {ref.pmid}"
        assert ref.source_id == ref.pmid
        assert ref.title and ref.authors and ref.year and ref.journal


def test_baseline_first_record():
    ref = read_file(BASELINE).references[0]
    assert ref.pmid == "30922926"
    assert ref.title == "Time lapse: A glimpse into prehistoric genomics."
    assert ref.authors == ["Griffin, Darren K", "Larkin, Denis M", "O'Connor, Rebecca E"]  # FAU, not AU
    assert ref.year == 2020
    assert ref.date == "2020 Feb"
    assert ref.journal == "European journal of medical genetics"  # JT, not TA
    assert (ref.volume, ref.issue, ref.pages) == ("63", "2", "103640")
    assert ref.doi == "10.1016/j.ejmg.2019.03.004"
    assert ref.issn == "1878-0849"
    assert ref.language == "eng"
    assert ref.type == "article"
    assert "Dinosaurs/genetics" in ref.keywords  # MH
    assert ref.abstract.startswith("Abstract removed: publisher text.")  # scrubbed fixture (see README)
    assert "\n" not in ref.abstract  # wrapped lines joined
    assert "\n" in ref.original["AB"][0]  # but kept as written in original
    assert ref.original["AU"] == ["Griffin DK", "Larkin DM", "O'Connor RE"]


def test_baseline_last_record():
    ref = read_file(BASELINE).references[-1]
    assert ref.pmid == "26605799"
    assert ref.title.startswith("Eggshell Porosity Provides Insight on Evolution of")
    assert ref.authors[0] == "Tanaka, Kohei"
    assert ref.year == 2015
    assert ref.doi == "10.1371/journal.pone.0142829"
    assert ref.journal == "PloS one"


@pytest.mark.parametrize("relative, expected", sorted(SHARED_FILES.items()))
def test_shared_exports(relative, expected):
    path = shared(relative)
    text = text_of(path)
    assert len(_PMID_LINE.findall(text)) == expected
    parsed = read_file(path)
    assert parsed.format == "medline"
    assert len(parsed.references) == expected
    assert all(r.pmid and r.title and r.year for r in parsed.references)


def test_shared_restoration_first_record():
    ref = read_file(shared("fixtures-parsers-mixed/revtools/restoration_pubmed.nbib")).references[0]
    assert ref.pmid == "30689646"
    assert ref.title == ("Ecosystem services changes between 2000 and 2015 in the Loess Plateau, China: "
                         "A response to ecological restoration.")
    assert ref.authors[0] == "Wu, Dan"
    assert ref.doi == "10.1371/journal.pone.0209483"
    assert ref.pages == "e0209483"
    assert ref.line == 2  # the file starts with a blank line


def test_synthesisr_example_keywords():
    ref = read_file(shared("fixtures-parsers-mixed/synthesisr/PubMed_example.txt")).references[0]
    assert ref.pmid == "28441597"
    assert ref.keywords[:3] == ["Buffer strips", "Landsat", "Leaching"]  # OT
    assert ref.pages == "188-197"


@pytest.mark.parametrize("relative", [str(BASELINE.relative_to(FIXTURES)), *SHARED_FILES])
def test_round_trip_through_ris_keeps_match_keys(relative):
    path = FIXTURES / relative if not relative.startswith("fixtures-") else shared(relative)
    refs = read_file(path).references
    back = ris.read(ris.write(refs), "back.ris")
    assert [match_keys(r) for r in back] == [match_keys(r) for r in refs]


# --- Record structure -----------------------------------------------------------------

BOOK_AND_GROUP = """PMID- 111
TI  - A chapter title
BTI - The Book
FAU - Smith, John
AU  - Smith J
CN  - The Writing Group
AU  - Doe J
PT  - Review
DP  - 2010 Jan
PG  - 383-98
LID - S0000 [pii]
AID - 10.1000/XYZ [doi]
ISBN- 978-0-12-345678-9
PMID- 222
TI  - A preprint with a title that wraps
      onto a second line
PT  - Preprint
DP  - 2023
IS  - 1234-5678 (Linking)

PMID- 333
BTI - Only a book
DP  - 1999
"""


def test_structure_and_mapping():
    refs = medline.read(BOOK_AND_GROUP, "book.nbib")
    assert [r.pmid for r in refs] == ["111", "222", "333"]  # PMID starts a record even without a blank line
    assert [r.line for r in refs] == [1, 14, 21]
    chapter, preprint, book = refs
    assert chapter.type == "chapter"
    assert chapter.title == "A chapter title"
    assert chapter.journal == "The Book"
    assert chapter.authors == ["Smith, John", "The Writing Group", "Doe J"]  # CN in place; AU alone
    assert chapter.doi == "10.1000/XYZ"  # AID [doi], not LID [pii]
    assert chapter.pages == "383-98"
    assert chapter.isbn == "978-0-12-345678-9"
    assert preprint.type == "preprint"
    assert preprint.title == "A preprint with a title that wraps onto a second line"
    assert preprint.issn == "1234-5678"
    assert book.type == "book" and book.title == "Only a book" and book.year == 1999


# --- Malformed files ------------------------------------------------------------------------


def assert_parse_error(path: Path, line: int | None, *words: str) -> None:
    with pytest.raises(ParseError) as caught:
        read_file(path, format="medline")
    message = str(caught.value)
    assert path.name in message
    if line is not None:
        assert f"{path.name}:{line}:" in message
    for word in words:
        assert word in message


def test_continuation_before_any_tag(tmp_path):
    path = tmp_path / "cont.nbib"
    path.write_text("\n      stray continuation\nPMID- 1\nTI  - x\n")
    assert_parse_error(path, 2, "continuation")


def test_line_that_is_neither_tag_nor_continuation(tmp_path):
    path = tmp_path / "bad_line.nbib"
    path.write_text("PMID- 1\nTI  - x\nnot a tag line\nAB  - y\n")
    assert_parse_error(path, 3, "neither")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.nbib"
    path.write_bytes(b"")
    assert_parse_error(path, None, "no MEDLINE records")


def test_junk_only(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(32, 127)) * 3 + b"\n\xff\xfe\x00")
    assert_parse_error(path, None)


def test_ris_given_to_medline_says_so(tmp_path):
    path = tmp_path / "refs.txt"
    path.write_text("1.\nTY  - JOUR\nTI  - x\nER  - \n")
    assert_parse_error(path, 2, "RIS")


# --- Encodings and detection -------------------------------------------------------------------

ACCENTED = "PMID- 42\nTI  - Évaluation des réseaux intégrés.\nFAU - Müller, Jürgen\nAU  - Müller J\nDP  - 2019\n"


@pytest.mark.parametrize("encoding, data", [
    ("utf-8", ACCENTED.encode("utf-8")),
    ("utf-8-sig", codecs.BOM_UTF8 + ACCENTED.encode("utf-8")),
    ("utf-16", codecs.BOM_UTF16_LE + ACCENTED.encode("utf-16-le")),
    ("utf-16", codecs.BOM_UTF16_BE + ACCENTED.encode("utf-16-be")),
    ("cp1252", ACCENTED.replace("\n", "\r\n").encode("cp1252")),
])
def test_encodings(encoding, data):
    parsed = read_bytes(data, "pubmed.txt")
    assert parsed.format == "medline"
    assert parsed.encoding == encoding
    ref = parsed.references[0]
    assert ref.authors == ["Müller, Jürgen"]
    assert ref.title == "Évaluation des réseaux intégrés."
    assert ref.pmid == "42"


def test_sniff():
    assert medline.sniff("\n\nPMID- 123\nTI  - x\n")
    assert medline.sniff("\ufeffPMID- 123\n")
    assert not medline.sniff("TY  - JOUR\nER  - \n")
    assert not medline.sniff("OWN - NLM\nPMID- 1\n")
    assert detect_format("PMID- 1\nTI  - x\n", "export.nbib") == "medline"
    assert detect_format("PMID- 1\nTI  - x\n", "export.ris") == "medline"
    assert medline.EXTENSIONS[0] == ".nbib"
