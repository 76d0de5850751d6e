"""The RIS reader and writer on real exports, malformed files and every encoding.

Permissively licensed exports live in tests/fixtures/ris (see the README there);
GPL ones are read from ../shared/datasets and skipped when that folder is absent.
"""

from __future__ import annotations

import codecs
import re
import time
from pathlib import Path

import pytest
from conftest import shared_path

from review.io import ParseError, detect_format, read_bytes, read_file, ris
from review.io.base import decode
from review.records import REFERENCE_TYPES, Reference, match_keys

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "ris"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
DATASETS = SHARED / "datasets"

LOCAL_FILES = sorted(
    p for p in FIXTURES.glob("*/*") if p.suffix in (".ris", ".txt") and not p.name.startswith("LICENSE")
)
# Files that are not a plain count of `ER  -` lines, and why.
NOT_READABLE = {
    # ASReview's tag-definition file: `ER  - End of Reference` closes the record,
    # then a stray `UK  - Unknown Tag` follows outside any record.
    "baseline_tag_and_field_definitions.ris": 65,
}
EMPTY_RECORDS = {"baseline_reference_types.ris": 1}  # a bare `TY  -` / `ER  -` pair at the top

# GPL exports in ../shared: path under datasets -> record count (from the file names
# and SOURCE.md, which were checked by counting ER tags).
SHARED_FILES = {
    "fixtures-multidb-exports/new_stage_data/Dimensions_246.ris": 246,
    "fixtures-multidb-exports/new_stage_data/econlit_3.ris": 3,
    "fixtures-multidb-exports/new_stage_data/envindex_100.ris": 100,
    "fixtures-multidb-exports/new_stage_data/final_24.ris": 24,
    "fixtures-multidb-exports/new_stage_data/lens_343.ris": 343,
    "fixtures-multidb-exports/new_stage_data/medline_84.ris": 84,
    "fixtures-multidb-exports/new_stage_data/screened_128.ris": 128,
    "fixtures-multidb-exports/new_stage_data/wos_278.ris": 278,
    "fixtures-multidb-exports/topic_data/20221207_gambling-harms_crimjust_41.ris": 41,
    "fixtures-multidb-exports/topic_data/20221207_gambling-harms_lens_49.ris": 49,
    "fixtures-multidb-exports/topic_data/20221207_gambling-harms_psycinfo_124.ris": 124,
    "fixtures-multidb-exports/topic_data/20221207_gambling-harms_pubmed_176.ris": 176,
    "fixtures-multidb-exports/topic_data/20221207_gambling-harms_scopus_255.ris": 255,
    "fixtures-multidb-exports/valid_data/WoS_79.ris": 79,
    "fixtures-multidb-exports/valid_data/benchmark.ris": 13,
    "fixtures-multidb-exports/valid_data/psycinfo_64.ris": 64,
    "fixtures-multidb-exports/valid_data/pubmed_46.ris": 46,
    "fixtures-parsers-mixed/asysd_tests/ris_export.txt": 69,
    "fixtures-parsers-mixed/asysd_tests/scopus.ris": 10,
    "fixtures-parsers-mixed/asysd_tests/wos_test.ris": 50,
    "fixtures-parsers-mixed/asysd_tests/zotero_export.ris": 1000,
    "fixtures-parsers-mixed/asysd_tests/test_export.ris": 3,
    "fixtures-parsers-mixed/revtools/restoration_scopus.ris": 286,
    "fixtures-parsers-mixed/revtools/extdata/avian_ecology_bibliography.ris": 20,
    "fixtures-parsers-mixed/synthesisr/ASP_ris_example.ris": 4,
    "fixtures-parsers-mixed/synthesisr/Ovid_ris_example.ris": 4,
    "fixtures-parsers-mixed/synthesisr/Scopus_ris_example.ris": 3,
    "fixtures-parsers-mixed/synthesisr/citesource_issue_24.ris": 17,
    "fixtures-parsers-mixed/synthesisr/extdata/scopus.ris": 92,
    # Web of Science tagged text (PT ... ER), read by the same reader
    "fixtures-parsers-mixed/revtools/restoration_WoS.ciw": 247,
    "fixtures-parsers-mixed/synthesisr/WoS_ciw_example.ciw": 5,
    "fixtures-parsers-mixed/synthesisr/WoS_txt_example.txt": 4,
    "fixtures-parsers-mixed/synthesisr/extdata/zoorec.txt": 134,
}

_ER_LINE = re.compile(r"^ER  -", re.MULTILINE)
_WOS_ER_LINE = re.compile(r"^ER\s*$", re.MULTILINE)


def shared(relative: str) -> Path:
    """A GPL dataset kept in ../shared (never copied here); the test skips if it is absent."""
    return shared_path("datasets", relative)


def text_of(path: Path) -> str:
    return decode(path.read_bytes(), str(path))[0]


def count_records(text: str) -> int:
    """Records counted independently of the reader: ER tags (WoS: bare ER lines)."""
    if text.lstrip().startswith(("FN ", "PT ")):
        return len(_WOS_ER_LINE.findall(text))
    return len(_ER_LINE.findall(text))


def readable_local_files() -> list[Path]:
    return [p for p in LOCAL_FILES if p.name not in NOT_READABLE]


# --- Real exports -----------------------------------------------------------------


def test_fixtures_are_present():
    assert len(LOCAL_FILES) >= 40
    assert (FIXTURES / "README.md").exists()


@pytest.mark.parametrize("path", readable_local_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_local_export_reads_every_record(path):
    text = text_of(path)
    parsed = read_file(path)
    assert parsed.format == "ris"
    expected = count_records(text) - EMPTY_RECORDS.get(path.name, 0)
    assert len(parsed.references) == expected
    lines = text.split("\n")
    for ref in parsed.references:
        assert isinstance(ref, Reference)
        assert ref.type in REFERENCE_TYPES
        assert ref.original.get("TY") or ref.original.get("PT")
        # `line` points at the record's first line (TY, or PT for Web of Science)
        assert lines[ref.line - 1].lstrip("\ufeff")[:2] in ("TY", "PT")


@pytest.mark.parametrize("relative, expected", sorted(SHARED_FILES.items()))
def test_shared_export_reads_every_record(relative, expected):
    path = shared(relative)
    text = text_of(path)
    assert count_records(text) == expected  # the count in the file name is right
    parsed = read_file(path)
    assert parsed.format == "ris"
    assert len(parsed.references) == expected
    titled = sum(1 for r in parsed.references if r.title)
    assert titled >= expected - 1  # one Lens record really has no title
    assert all(r.type in REFERENCE_TYPES for r in parsed.references)


def test_field_definitions_file_is_refused_at_the_stray_tag():
    path = FIXTURES / "asreview" / "baseline_tag_and_field_definitions.ris"
    with pytest.raises(ParseError) as caught:
        read_file(path)
    assert f"{path.name}:{NOT_READABLE[path.name]}:" in str(caught.value)
    assert "UK" in str(caught.value)


# (file, record index, expected field values) checked against the raw file by eye.
SPOT_CHECKS = [
    ("citation-file-formatting/_baseline_scopus.ris", 0, {  # Scopus: PubMed ID in C2
        "title": "Global latitudinal gradients and the evolution of body size in dinosaurs and mammals",
        "first_author": "Wilson, L.N.", "year": 2024, "doi": "10.1038/s41467-024-46843-2",
        "journal": "Nature Communications", "volume": "15", "issue": "1", "pmid": "38580657", "type": "article",
    }),
    ("citation-file-formatting/_baseline_webofscience.ris", 0, {  # WoS RIS export
        "title": "New Horned Dinosaurs from Utah Provide Evidence for Intracontinental Dinosaur Endemism",
        "first_author": "Sampson, SD", "year": 2010, "doi": "10.1371/journal.pone.0012292",
        "journal": "PLOS ONE", "source_id": "WOS:000282053100002",
    }),
    ("citation-file-formatting/_baseline_zotero.ris", 0, {
        "first_author": "Yang, Z.", "year": 2024, "doi": "10.1038/s41467-024-48400-3",
        "journal": "Nature Communications",
    }),
    ("citation-file-formatting/_baseline_endnote.ris", 0, {
        "title": "Description of a new specimen of Haplocanthosaurus from the Dry Mesa Dinosaur Quarry",
        "first_author": "Boisvert, C.", "year": 2024, "doi": "10.1002/ar.25520", "source_id": "889",
    }),
    ("citation-file-formatting/_baseline_cinahl.ris", 0, {  # EBSCO: T1, JO and JF, Y1 with slashes
        "title": "Osteohistological insight into the growth dynamics of early dinosaurs and their contemporaries.",
        "first_author": "Curry Rogers, Kristina", "year": 2024, "journal": "PLoS ONE",
        "pages": "1-60", "date": "2024/04/03",
    }),
    ("citation-file-formatting/_baseline_mendeley.ris", 0, {
        "first_author": "Boisvert, C", "year": 2024, "doi": "10.1002/ar.25520", "journal": "Anatomical Record",
    }),
    ("citation-file-formatting/_baseline_rayyan.ris", 0, {  # DO line with an LK glued on
        "first_author": "Yang, Z.", "year": 2024, "doi": "10.1038/s41467-024-48400-3",
        "source_id": "rayyan-42924189",
    }),
    ("citation-file-formatting/_baseline_eppireviewer.ris", 0, {
        "first_author": "Brownstein C D", "year": 2024, "doi": "10.1186/s12862-024-02210-9",
        "journal": "BMC ecology and evolution", "volume": "24", "issue": "1",
    }),
    ("citation-file-formatting/_baseline_openalex.ris", 0, {
        "title": "A bioprovince for the Barremian–Aptian charophytes of the Central Tethyan Archipelago",
        "first_author": "Vicente, Alba", "year": 2024, "doi": "10.1016/j.cretres.2023.105752",
        "pages": "105752",
    }),
    ("citation-file-formatting/_baseline_googlescholar.ris", 0, {
        "title": "Did dinosaurs invent flowers? Dinosaur–angiosperm coevolution revisited",
        "first_author": "Barrett, Paul M", "year": 2001, "journal": "Biological Reviews", "pages": "411-447",
        "issn": "1469-185X", "publisher": "Cambridge University Press",
    }),
    ("citation-file-formatting/_baseline_covidence_endnote.ris", 0, {  # empty SP/EP/AN
        "first_author": "Yang, Z.", "year": 2024, "doi": "10.1038/s41467-024-48400-3", "pages": "",
        "source_id": "",
    }),
    ("citation-file-formatting/_baseline_eric_ovid.ris", 0, {  # Ovid ERIC, starts with "6. "
        "title": "Creationism and the Dinosaur Boom.", "first_author": "Stokes, William Lee", "year": 1989,
        "journal": "Journal of Geological Education", "pages": "24-26", "source_id": "EJ389705",
    }),
    ("citation-file-formatting/_baseline_embase.ris", 0, {  # Embase: JF over JO, PubMed ID in C5
        "first_author": "Yang, Z.", "year": 2024, "journal": "Nature Communications", "pmid": "38773066",
        "doi": "10.1038/s41467-024-48400-3", "issn": "2041-1723", "language": "English",
    }),
    ("citation-file-formatting/_baseline_cochrane_refman.ris", 0, {  # `TY  -  JOUR`, header junk
        "first_author": "Bywater, T", "year": 2011, "doi": "10.1186/1745-6215-12-39", "pages": "39",
        "source_id": "CN-00778158", "type": "article",
    }),
    ("citation-file-formatting/_baseline_mdpi.ris", 0, {  # EJOUR, trailing space in AU
        "title": "Oil and the Best Brain of the 20th Century", "first_author": "Banks, Ferdinand E.",
        "year": 2010, "journal": "Energies", "pages": "940-942", "doi": "10.3390/en3050940", "type": "article",
    }),
    ("citation-file-formatting/_baseline_refworks.ris", 0, {
        "first_author": "Boisvert, C.", "year": 2024, "journal": "Anatomical Record",
        "source_id": "RefID:888-boisvert2024description",
    }),
    ("asreview/ovid_psycinfo.ris", 0, {  # Ovid: doi as URL, SP "No" / EP "Specified", NL after ER
        "first_author": "Trindade, Ines A", "year": 2019, "doi": "10.1002/cpp.2398", "pages": "",
        "journal": "Clinical Psychology & Psychotherapy", "publisher": "John Wiley & Sons",
        "source_id": "2019-65183-001",
    }),
    ("asreview/pubmed_endnote.txt", 0, {  # PubMed via EndNote: AN is the PMID when DP is NLM
        "title": "Boswellia serrata: an overall assessment of in vitro, preclinical, pharmacokinetic and "
                 "clinical data",
        "first_author": "Abdel-Tawab, M.", "year": 2011, "pmid": "21553931", "pages": "349-69",
        "journal": "Clin Pharmacokinet", "volume": "50", "issue": "6", "source_id": "369",
    }),
    ("asreview/proquest.ris", 0, {
        "first_author": "Jones, Hannah", "year": 2019, "doi": "10.1002/jts.22387",
        "journal": "Journal of Traumatic Stress",
    }),
    ("asreview/web_of_science.txt", 0, {
        "title": "Holding Yourself Captive: Perceptions of Custody During Interviews and Interrogations",
        "first_author": "Alceste, F", "year": 2018, "pages": "387-397", "doi": "10.1016/j.jarmac.2018.03.001",
        "publisher": "ELSEVIER SCIENCE INC", "place": "NEW YORK", "issn": "2211-3681",
    }),
    ("asreview/pubmed_zotero.ris", 0, {
        "first_author": "Rudnik, Agata", "year": 2019, "doi": "10.5114/pg.2018.81081",
        "journal": "Przeglad gastroenterologiczny", "pages": "121-128", "language": "eng",
    }),
    ("rispy/example_full.ris", 0, {  # A1 authors, Y1, N2 abstract, JF over JA
        "title": "Title of reference", "first_author": "Marx, Karl", "year": 2014, "journal": "Lorem",
        "pages": "e0815", "issn": "1932-6208", "url": "http://example_url.com", "source_id": "12345",
        "place": "United States", "publisher": "Fun Factory",
    }),
    ("rispy/example_utf_chars.ris", 0, {  # "Journal Article" instead of a code; ST as the title
        "type": "article", "first_author": "Dobrokhotova, Yu E.", "volume": "8",
        "title": "Состояние рецепторного аппарата эндометрия и метаболизм эстрогенов при гиперплазиях "
                 "эндометрия в позднем репродуктивном периоде",
    }),
    ("rispy/example_empty_tag.ris", 0, {  # `SP  -` without a value, doi as dx.doi.org URL
        "first_author": "Fanning E.", "year": 2020, "doi": "10.1177/2325967120950040", "issn": "2325-9671",
        "journal": "Orthopaedic Journal of Sports Medicine",
    }),
]


def field_value(ref: Reference, name: str):
    if name == "first_author":
        return ref.authors[0] if ref.authors else None
    return getattr(ref, name)


@pytest.mark.parametrize("relative, index, expected", SPOT_CHECKS, ids=[c[0] for c in SPOT_CHECKS])
def test_spot_check_fields(relative, index, expected):
    ref = read_file(FIXTURES / relative).references[index]
    for name, value in expected.items():
        assert field_value(ref, name) == value, name


def test_title_of_a_long_record_is_complete():
    ref = read_file(FIXTURES / "citation-file-formatting" / "_baseline_zotero.ris").references[0]
    assert ref.title == ("Cellular structure of dinosaur scales reveals retention of reptile-type skin "
                         "during the evolutionary transition to feathers")


def test_ovid_trailer_tag_belongs_to_the_record_before():
    refs = read_file(FIXTURES / "asreview" / "ovid_psycinfo.ris").references
    assert refs[0].original["NL"] == ["Clin Psychol Psychother"]
    assert refs[1].original["NL"] == ["J Health Psychol"]
    assert refs[0].original["PB"] == ["John Wiley & Sons", "US"]  # every value kept, in order


def test_a2_editors_stay_out_of_authors():
    ref = read_file(FIXTURES / "rispy" / "example_full.ris").references[0]
    assert ref.authors == ["Marx, Karl", "Lindgren, Astrid"]
    assert ref.original["A2"] == ["Glattauer, Daniel"]


def test_multiline_fields_and_er_inside_text():
    refs = read_file(FIXTURES / "rispy" / "example_multiline.ris").references
    assert len(refs) == 3
    assert refs[0].abstract == "first line, ER then second line and at the end the last line"
    # "ER then ..." at the start of a line is text, not the end of the record
    assert refs[2].abstract == "first line,\nER then second line and at the end\nthe last line"
    assert refs[1].notes == ["first line\n* second line\n* last line"]


def test_extraneous_data_between_records_is_skipped():
    refs = read_file(FIXTURES / "rispy" / "example_extraneous_data.ris").references
    assert [r.title for r in refs] == ["Title of reference", "The title of the reference"]
    assert [r.line for r in refs] == [5, 33]


def test_urls_take_the_first_of_several():
    refs = read_file(FIXTURES / "rispy" / "example_urls.ris").references
    assert [r.url for r in refs] == ["http://example.com"] * 4
    assert refs[1].original["UR"] == ["http://example.com", "http://www.example.com"]


def test_bom_file():
    parsed = read_file(FIXTURES / "rispy" / "example_bom.ris")
    assert parsed.encoding == "utf-8-sig"
    assert parsed.references[0].doi == "10.1186/s40981-020-0316-0"
    assert parsed.references[0].line == 1


def test_reference_type_codes():
    refs = read_file(FIXTURES / "asreview" / "baseline_reference_types.ris").references
    by_code = {r.original["TY"][0]: r.type for r in refs}
    assert by_code["JOUR"] == "article"
    assert by_code["JFULL"] == "article"
    assert by_code["ABST"] == "article"
    assert by_code["BOOK"] == "book"
    assert by_code["CHAP"] == "chapter"
    assert by_code["CONF"] == by_code["CPAPER"] == "conference"
    assert by_code["RPRT"] == by_code["GOVDOC"] == "report"
    assert by_code["THES"] == "thesis"
    assert by_code["WEB"] == by_code["BLOG"] == by_code["ICOMM"] == "web"
    assert by_code["DATA"] == "dataset"
    assert by_code["GEN"] == by_code["PAT"] == by_code["POD"] == "other"  # unknown codes too


def test_windows_line_endings():
    path = FIXTURES / "citation-file-formatting" / "_baseline_zotero.ris"
    assert b"\r\n" in path.read_bytes()
    refs = read_file(path).references
    assert all("\r" not in v for r in refs for values in r.original.values() for v in values)


# --- PubMed IDs from other databases (GPL data) ---------------------------------------


def test_dimensions_pmid_from_u1():
    ref = read_file(shared("fixtures-multidb-exports/new_stage_data/Dimensions_246.ris")).references[0]
    assert ref.original["U1"][0].endswith("[PMID]")
    assert ref.pmid == ref.original["U1"][0].split()[0]
    assert ref.source_id.startswith("pub.")


def test_ovid_medline_pmid_from_link():
    ref = read_file(shared("fixtures-multidb-exports/new_stage_data/medline_84.ris")).references[0]
    assert ref.pmid == "39012781"
    assert ref.title.startswith("Short-Term Exposure to Wildfire-Specific PM2.5")
    assert ref.journal == "Diabetes care"  # T2 (full) over J2 (abbreviation)


def test_endnote_keywords_on_continuation_lines_are_split():
    refs = read_file(shared("fixtures-parsers-mixed/asysd_tests/ris_export.txt")).references
    ref = next(r for r in refs if "Access" in r.keywords)
    assert {"Cancer", "Telemedicine"} <= set(ref.keywords)


# --- Web of Science tagged text --------------------------------------------------------


def test_web_of_science_tagged_text_saved_as_ris():
    path = FIXTURES / "rispy" / "example_wos.ris"
    text = text_of(path)
    assert detect_format(text, path) == "ris"
    refs = read_file(path).references
    assert len(refs) == len(_WOS_ER_LINE.findall(text)) == 2
    first = refs[0]
    assert first.title == ("Interactions stabilizing the structure of the core light-harvesting complex (LHl) "
                           "of photosynthetic bacteria and its subunit (B820)")
    assert first.authors[:2] == ["Parkes-Loach, PS", "Majeed, AP"]
    assert first.journal == "BIOCHEMISTRY"
    assert first.type == "article"
    assert first.line == 3
    second = refs[1]
    assert second.pmid == "15170339"
    assert second.doi == "10.1021/bi0497291"
    assert second.source_id == "WOS:000221807500020"
    assert second.year == 2004


def test_web_of_science_ciw_prefers_full_author_names():
    refs = read_file(shared("fixtures-parsers-mixed/revtools/restoration_WoS.ciw")).references
    first = refs[0]
    assert first.authors[0] == "Alvarez-Manzaneda, I."  # AF, not AU "Alvarez-Manzaneda, I"
    assert first.pmid == "30529964"
    assert first.doi == "10.1016/j.scitotenv.2018.11.375"
    assert first.pages == "598-607"
    assert first.keywords[:2] == ["Magnetic particles", "Toxicity"]
    assert first.title == "Do magnetic phosphorus adsorbents used for lake restoration impact on zooplankton community?"


# --- Malformed files --------------------------------------------------------------------

RECORD = "TY  - JOUR\nTI  - A title\nAU  - Smith, J\nPY  - 2020\nER  - \n"


def assert_parse_error(path: Path, line: int | None, *words: str) -> ParseError:
    with pytest.raises(ParseError) as caught:
        read_file(path, format="ris")
    message = str(caught.value)
    assert path.name in message
    if line is not None:
        assert f"{path.name}:{line}:" in message
        assert caught.value.line == line
    for word in words:
        assert word in message
    return caught.value


def test_stray_tag_before_first_record(tmp_path):
    path = tmp_path / "stray_before.ris"
    path.write_text("Provider: a database\n\nAU  - Stray, A\n" + RECORD)
    assert_parse_error(path, 3, "AU", "before the first record")


def test_stray_tag_after_er(tmp_path):
    path = tmp_path / "stray_after.ris"
    path.write_text(RECORD + "\nAU  - x\n" + RECORD)
    error = assert_parse_error(path, 7, "outside a record", "line 1")
    assert error.field == "AU"


def test_new_record_before_er_names_both_lines(tmp_path):
    path = tmp_path / "no_er.ris"
    path.write_text("TY  - JOUR\nTI  - First\n\nTY  - JOUR\nTI  - Second\nER  - \n")
    assert_parse_error(path, 4, "line 1", "ER")


def test_last_record_without_er(tmp_path):
    path = tmp_path / "truncated.ris"
    path.write_text(RECORD + "\nTY  - JOUR\nTI  - Cut off\n")
    assert_parse_error(path, 7, "no ER")


def test_real_file_truncated_mid_record(tmp_path):
    source = FIXTURES / "citation-file-formatting" / "_baseline_scopus.ris"
    text = text_of(source)
    cut = text.index("AB  - ", text.index("TY  - JOUR", 100))  # inside the second record
    path = tmp_path / "scopus_cut.ris"
    path.write_text(text[: cut + 40], encoding="utf-8")
    second_ty = text[:cut].count("\n", 0, text.index("TY  - JOUR", 100)) + 1
    assert_parse_error(path, second_ty, "no ER")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.ris"
    path.write_bytes(b"")
    assert_parse_error(path, None, "no RIS records")


def test_blank_and_junk_only(tmp_path):
    path = tmp_path / "junk.ris"
    path.write_text("\n\n1.\nRecord #1 of 0\n   \n")
    assert_parse_error(path, None, "no RIS records")


def test_binary_junk(tmp_path):
    path = tmp_path / "junk.ris"
    path.write_bytes(bytes(range(256)) * 4 + b"\x89PNG\r\n\x1a\n\x00\x00")
    assert_parse_error(path, None)


def test_record_without_type(tmp_path):
    path = tmp_path / "untyped.ris"
    path.write_text(RECORD + "\nTY  - \nTI  - Untyped\nER  - \n")
    assert_parse_error(path, 7, "no type")


def test_empty_record_is_skipped(tmp_path):
    path = tmp_path / "empty_record.ris"
    path.write_text("TY  -\nER  -\n\n" + RECORD)
    refs = read_file(path).references
    assert len(refs) == 1 and refs[0].line == 4


def test_wos_errors(tmp_path):
    path = tmp_path / "wos_cut.txt"
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Smith, J\nTI A title\n")
    assert_parse_error(path, 3, "no ER")
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A\nER\n\nAU Stray, A\nEF\n")
    assert_parse_error(path, 7, "outside a record")
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nTI A\nPT J\nTI B\nER\nEF\n")
    assert_parse_error(path, 5, "line 3")
    path.write_text("FN Clarivate Analytics Web of Science\nVR 1.0\nEF\n")
    assert_parse_error(path, None, "no Web of Science records")


def test_medline_given_to_ris_says_so(tmp_path):
    path = tmp_path / "pubmed.txt"
    path.write_text("PMID- 123\nTI  - A title\n")
    assert_parse_error(path, 1, "MEDLINE")


# --- Tag-shape variants -------------------------------------------------------------------


def test_loose_tag_shapes(tmp_path):
    text = (
        "TY - JOUR\n"            # one space
        "A1\t- Tab, Author\n"    # a tab
        "TI  -  Title with two spaces after the dash  \n"
        "KW  -\n"                # empty value, no space
        "N2 - Abstract line one\n"
        "XY - not a tag, so text\n"  # unknown tag in the loose shape: a continuation
        "CT - scans showed\n"    # known tag in the loose shape: a tag
        "ER -\n"
    )
    ref = ris.read(text, "loose.ris")[0]
    assert ref.type == "article"
    assert ref.authors == ["Tab, Author"]
    assert ref.title == "Title with two spaces after the dash"
    assert ref.original["KW"] == [""]
    assert ref.original["CT"] == ["scans showed"]
    assert ref.abstract == "Abstract line one\nXY - not a tag, so text"


def test_er_with_text_in_the_loose_shape_is_text():
    text = "TY  - JOUR\nAB  - Tumours were\nER - positive in most cases\nER  - \n"
    ref = ris.read(text, "x.ris")[0]
    assert ref.abstract == "Tumours were\nER - positive in most cases"


def test_serial_numbers_by_shape():
    text = "TY  - BOOK\nSN  - 978-0-12-345678-9\nSN  - 0048-9697 (Print)\nER  - \n"
    ref = ris.read(text, "x.ris")[0]
    assert ref.isbn == "978-0-12-345678-9"
    assert ref.issn == "0048-9697"
    assert ris.read("TY  - JOUR\nSN  - 1895-5770 1895-5770\nER  - \n")[0].issn == "1895-5770"


def test_doi_only_from_unambiguous_places():
    base = "TY  - JOUR\n{}\nER  - \n"
    assert ris.read(base.format("UR  - https://doi.org/10.1000/ABC.1"))[0].doi == "10.1000/ABC.1"
    assert ris.read(base.format("L3  - 10.1007/s10899-016-9616-8"))[0].doi == "10.1007/s10899-016-9616-8"
    assert ris.read(base.format("UR  - https://example.org/10.1000/abc"))[0].doi == ""
    assert ris.read(base.format("N1  - see 10.1000/abc"))[0].doi == ""
    assert ris.read(base.format("DO  - doi:10.1000/xyz."))[0].doi == "10.1000/xyz"


def test_pmid_needs_a_clear_label():
    base = "TY  - JOUR\n{}\nER  - \n"
    assert ris.read(base.format("N1  - PMID: 12345"))[0].pmid == "12345"
    assert ris.read(base.format("AN  - 12345\nDB  - PubMed"))[0].pmid == "12345"
    assert ris.read(base.format("AN  - 12345\nDB  - Scopus"))[0].pmid == ""
    assert ris.read(base.format("M1  - Smith (2001) Cognition 3:1. PMID: 999"))[0].pmid == ""


def test_source_id_and_pages():
    text = "TY  - JOUR\nAN  - acc-1\nSP  - 383-98\nEP  - 98\nER  - \n"
    ref = ris.read(text)[0]
    assert ref.source_id == "acc-1"
    assert ref.pages == "383-98"
    assert ris.read("TY  - JOUR\nID  - id-1\nAN  - acc-1\nSP  - 383\nEP  - 398\nER  - \n")[0].pages == "383-398"
    assert ris.read("TY  - JOUR\nID  - id-1\nAN  - acc-1\nER  - \n")[0].source_id == "id-1"


def test_old_mac_line_endings():
    refs = ris.read(RECORD.replace("\n", "\r") * 2, "mac.ris")
    assert [r.line for r in refs] == [1, 6]


# --- Encodings and detection --------------------------------------------------------------

ACCENTED = (
    "TY  - JOUR\nAU  - Müller, Jürgen\nAU  - Ñúñez, José\n"
    "TI  - Évaluation des réseaux intégrés de santé\nPY  - 2019\nER  - \n"
)


@pytest.mark.parametrize("encoding, data", [
    ("utf-8", ACCENTED.encode("utf-8")),
    ("utf-8-sig", codecs.BOM_UTF8 + ACCENTED.encode("utf-8")),
    ("utf-16", codecs.BOM_UTF16_LE + ACCENTED.encode("utf-16-le")),
    ("utf-16", codecs.BOM_UTF16_BE + ACCENTED.encode("utf-16-be")),
    ("utf-16-le", ACCENTED.encode("utf-16-le")),
    ("cp1252", ACCENTED.replace("\n", "\r\n").encode("cp1252")),
    ("cp1252", ACCENTED.encode("latin-1")),
])
def test_encodings(encoding, data):
    parsed = read_bytes(data, "accented.ris")
    assert parsed.format == "ris"
    assert parsed.encoding == encoding
    ref = parsed.references[0]
    assert ref.authors == ["Müller, Jürgen", "Ñúñez, José"]
    assert ref.title == "Évaluation des réseaux intégrés de santé"
    assert ref.line == 1


def test_cp1252_punctuation():
    text = ACCENTED.replace("PY  - 2019", "PY  - 2019\nSP  - 12–19\nN1  - “quoted” €5")
    ref = read_bytes(text.encode("cp1252"), "smart.ris").references[0]
    assert ref.pages == "12–19"
    assert ref.notes == ["“quoted” €5"]


@pytest.mark.parametrize("name", ["export.ris", "export.txt", "export.dat", "export"])
def test_detect_format_by_content(name):
    assert detect_format(RECORD, name) == "ris"
    assert detect_format("1.\nTY  - JOUR\nER  - \n", name) == "ris"  # Ovid numbering first
    assert detect_format("TY - JOUR\nER -\n", name) == "ris"


def test_detect_web_of_science_and_not_medline():
    assert detect_format("FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nER\nEF\n", "x.txt") == "ris"
    assert ris.sniff("\ufeffFN Thomson Reuters Web of Science\n")
    assert not ris.sniff("PMID- 123\nTI  - x\n")
    assert not ris.sniff("@article{x, title={y}}")


# --- Writing --------------------------------------------------------------------------------


def all_readable_files() -> list[Path]:
    files = readable_local_files()
    files += [DATASETS / rel for rel in SHARED_FILES if (DATASETS / rel).exists()]
    return files


@pytest.mark.parametrize("path", all_readable_files(), ids=lambda p: p.name)
def test_write_read_round_trip_keeps_match_keys(path):
    refs = read_file(path).references
    for ref in refs:
        back = ris.read(ris.write([ref]), "back.ris")
        assert len(back) == 1
        assert match_keys(back[0]) == match_keys(ref), ref.line
    # the whole file at once as well, and the display fields survive exactly
    back = ris.read(ris.write(refs), "back.ris")
    assert [match_keys(r) for r in back] == [match_keys(r) for r in refs]
    for before, after in zip(refs, back):
        for name in ("type", "title", "authors", "year", "journal", "doi", "pmid", "abstract", "keywords",
                     "issn", "isbn", "url", "language", "notes"):
            assert getattr(after, name) == getattr(before, name), (before.line, name)


def test_write_layout():
    ref = Reference(
        type="chapter", title="A title", authors=["Smith, John", "Doe, J"], year=2001, journal="A Book",
        volume="3", issue="2", pages="383-98", doi="10.1000/xyz", pmid="12345", keywords=["one", "two"],
        abstract="Line one\nER  - positive\n\nLine three", source_id="rec-7", issn="1234-5678",
        isbn="978-0-12-345678-9", notes=["a note"], url="https://example.org", language="eng",
    )
    text = ris.write([ref])
    lines = text.split("\n")
    assert lines[0] == "TY  - CHAP"
    assert lines.count("AU  - Smith, John") == 1 and "AU  - Doe, J" in lines
    assert "KW  - one" in lines and "KW  - two" in lines
    assert "SP  - 383" in lines and "EP  - 98" in lines
    assert "AN  - 12345" in lines and "DP  - NLM" in lines and "ID  - rec-7" in lines
    assert "SN  - 1234-5678" in lines and "SN  - 978-0-12-345678-9" in lines
    assert text.endswith("ER  - \n\n")
    back = ris.read(text, "w.ris")[0]
    assert back.abstract == "Line one\nER  - positive\nLine three"  # the tag-shaped line stays text
    assert back.pmid == "12345" and back.source_id == "rec-7" and back.type == "chapter"
    assert back.isbn == "978-0-12-345678-9" and back.issn == "1234-5678"


def test_write_types_round_trip():
    for kind in REFERENCE_TYPES:
        assert ris.read(ris.write([Reference(type=kind, title="t")]))[0].type == kind


# --- Speed ------------------------------------------------------------------------------------


@pytest.mark.slow  # 10,000 records
def test_ten_thousand_records_parse_quickly():
    block = "".join(text_of(p).lstrip("\ufeff") + "\n" for p in (
        FIXTURES / "citation-file-formatting" / "_baseline_scopus.ris",
        FIXTURES / "citation-file-formatting" / "_baseline_embase.ris",
        FIXTURES / "asreview" / "web_of_science.txt",
    ))
    text = block * 350  # 30 records a block
    start = time.perf_counter()
    refs = ris.read(text, "big.ris")
    elapsed = time.perf_counter() - start
    assert len(refs) == 10_500
    assert elapsed < 15, f"{elapsed:.1f} s"  # under 1 s on a 2-core machine
