"""The record's fields are declared once (review.records.RECORD_FIELDS); everything else derives from them."""

import dataclasses

from review import store
from review.io import tabular
from review.project import Review, _record_row
from review.records import CSV_FIELDS, DISPLAY_FIELDS, RECORD_FIELDS, MatchKeys, Reference, normalise_year


def test_reference_and_table_follow_the_declaration():
    names = [spec.name for spec in RECORD_FIELDS]
    assert sorted(f.name for f in dataclasses.fields(Reference)) == sorted(names)
    columns = [c.name for c in store.records.columns]
    keys = [f"norm_{f.name}" for f in dataclasses.fields(MatchKeys)]
    # The table the first migration created, column for column: no migration needed.
    assert columns == ["id", "import_id", "position", *names[:-1], *keys, "original"]
    assert DISPLAY_FIELDS == ("type", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
                              "pmid", "abstract", "keywords", "url", "publisher", "place", "issn", "isbn",
                              "language", "date", "notes")
    assert tabular.WRITE_COLUMNS == CSV_FIELDS == DISPLAY_FIELDS[:-2]


def test_row_mapping_covers_every_column():
    ref = Reference(title="T", authors=["Smith, J"], year=2014, doi="https://doi.org/10.1000/X", source_id="k")
    row = _record_row(1, 3, ref)
    assert set(row) == {c.name for c in store.records.columns} - {"id"}
    assert (row["authors"], row["norm_doi"], row["year"], row["type"]) == ('["Smith, J"]', "10.1000/x", 2014, "other")
    assert _record_row(1, 3, Reference())["source_id"] == "3"


def test_references_read_back_what_was_imported(tmp_path, example_ris):
    from review.io import read_file

    review = Review.init(tmp_path / "r", title="T")
    try:
        review.import_file(example_ris, source="S")
        parsed = read_file(example_ris).references
        stored = [ref for _, ref in review.references()]
        assert len(stored) == len(parsed)
        for before, after in zip(parsed, stored):
            for name in DISPLAY_FIELDS:
                if name == "type":
                    assert after.type == (before.type or "other")
                elif name == "year":
                    assert after.year == normalise_year(before.year)  # stored as matching reads it
                else:
                    assert getattr(after, name) == getattr(before, name), name
            assert after.line == before.line
    finally:
        review.close()
