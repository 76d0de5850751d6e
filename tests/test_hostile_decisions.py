"""Issue 10: bulk decision and extraction files that used to lose rows or raise tracebacks."""

from __future__ import annotations

import pytest

from review import extraction, screening
from review.extraction import ExtractionError
from review.io.rows import RowsError, read_rows
from review.project import Review
from review.screening import ScreeningError

HEADER = "record_id,stage,reviewer,decision,reasons,note\n"


@pytest.fixture
def review(tmp_path):
    ris = tmp_path / "r.ris"
    ris.write_text("".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(1, 6)))
    review = Review.init(tmp_path / "rev", title="T")
    review.import_file(ris, source="S")
    yield review
    review.close()


def _decisions(review) -> int:
    return sum(len(v) for v in screening.ScreeningState.load(review).history["title_abstract"].values())


def test_unclosed_quote_swallowing_rows_is_refused_with_its_line(review, tmp_path):
    bad = tmp_path / "quote.csv"
    bad.write_text(HEADER
                   + '1,title_abstract,reviewer1,include,,"forgot to close\n'
                   + "2,title_abstract,reviewer1,exclude,wrong_population,\n"
                   + "3,title_abstract,reviewer1,include,,\n"
                   + '4,title_abstract,reviewer1,include,,"closed"\n')
    with pytest.raises(ScreeningError, match=r"quote.csv:2: a quoted value opened on this line runs on to line 3"):
        screening.import_decisions(review, bad, who="reviewer1")
    assert _decisions(review) == 0


def test_quote_open_at_end_of_file_is_refused(review, tmp_path):
    bad = tmp_path / "eof.csv"
    bad.write_text(HEADER + "1,title_abstract,reviewer1,include,,ok\n" + '2,title_abstract,reviewer1,include,,"open\n')
    with pytest.raises(ScreeningError, match=r"eof.csv:3: a quoted value opened on this line is never closed"):
        screening.import_decisions(review, bad, who="reviewer1")
    assert _decisions(review) == 0


def test_note_with_a_line_break_is_still_fine(review, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text(HEADER + '1,title_abstract,reviewer1,include,,"two\nlines"\n2,title_abstract,reviewer1,include,,\n')
    assert screening.import_decisions(review, good, who="reviewer1") == 2


def test_extra_cells_in_a_decisions_row_are_refused(review, tmp_path):
    bad = tmp_path / "extra.csv"
    bad.write_text(HEADER + "1,title_abstract,reviewer1,include,,note,surprise\n")
    with pytest.raises(ScreeningError, match=r"extra.csv:2: row has 7 cells but the header has 6 columns"):
        screening.import_decisions(review, bad, who="reviewer1")
    assert _decisions(review) == 0


def test_nul_in_a_decisions_note_is_refused(review, tmp_path):
    bad = tmp_path / "nul.csv"
    bad.write_bytes((HEADER + "1,title_abstract,reviewer1,include,,a\x00b\n").encode())
    with pytest.raises(ScreeningError, match=r"nul.csv:2: contains a NUL byte"):
        screening.import_decisions(review, bad, who="reviewer1")


def test_exported_decisions_read_back_exactly(review, tmp_path):
    screening.decide(review, "title_abstract", "reviewer1", 1, "include", note="=HYPERLINK(\"http://x\")")
    exported = screening.export_decisions(review)
    assert "'=HYPERLINK" in exported  # defused for spreadsheets
    _, rows = read_rows(exported, "x.csv")
    assert rows[0].cells["note"] == '=HYPERLINK("http://x")'  # and read back as written


def test_duplicate_column_is_refused():
    with pytest.raises(RowsError, match=r"d.csv:1: column 'note' appears twice"):
        read_rows("record_id,note,note\n1,a,b\n", "d.csv")


def test_deeply_nested_json_extraction_is_a_message(tmp_path):
    from review.extraction import _read_rows

    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100000 + "]" * 100000)
    with pytest.raises(ExtractionError, match="deep.json: JSON nested too deeply"):
        _read_rows(deep)
    medium = tmp_path / "medium.json"
    medium.write_text('[{"scheme_id": "s", "values": ' + '{"a": ' * 50 + "1" + "}" * 50 + "}]")
    with pytest.raises(ExtractionError, match=r"medium.json\[1\]: nested more than"):
        _read_rows(medium)


def test_extraction_csv_swallowed_rows_refused(tmp_path):
    from review.extraction import _read_rows

    bad = tmp_path / "x.csv"
    bad.write_text('scheme_id,scheme_name,country\ns1,"A,UK\ns2,B,US\ns3,C,"FR\n')
    with pytest.raises(ExtractionError, match=r"x.csv:2: a quoted value opened on this line runs on to line 3"):
        _read_rows(bad)
    assert extraction  # the module the CLI calls


def test_nul_in_a_note_given_to_the_api_is_refused(review):
    with pytest.raises(ScreeningError, match="NUL byte"):
        screening.decide(review, "title_abstract", "reviewer1", 1, "include", note="a\x00b")
    assert _decisions(review) == 0
