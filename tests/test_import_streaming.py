"""Issue 10, item 11: a large RIS file is imported as a stream, with the same result and the same promises."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from review import project, store
from review.io import ParseError
from review.project import Review
from review.verify import verify

REPO = Path(__file__).resolve().parents[1]
FILES = [REPO / "references" / "mason2014_reference_list.ris",
         *sorted((REPO / "tests" / "fixtures" / "ris").rglob("*.ris"))[:12]]


def _rows(review) -> list[tuple]:
    with store.read_connection(review.engine) as conn:
        rows = conn.execute(select(store.records).order_by(store.records.c.id)).mappings().all()
        imports = conn.execute(select(store.imports)).mappings().all()
    keep = [c for c in store.records.c.keys() if c not in ("id", "import_id")]
    return [tuple(r[c] for c in keep) for r in rows], [(i["record_count"], i["format"], i["encoding"]) for i in imports]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_streamed_import_stores_exactly_what_the_in_memory_import_does(path, tmp_path, monkeypatch):
    outcomes = []
    for threshold in (10**12, 0):  # in memory, then streamed
        monkeypatch.setattr(project, "STREAM_BYTES", threshold)
        with Review.init(tmp_path / f"r{threshold}", title="T") as review:
            try:
                result = review.import_file(path, source="S")
                outcomes.append((_rows(review), result.records, result.warnings))
            except ParseError as exc:
                outcomes.append(("error", str(exc)))
    assert outcomes[0] == outcomes[1]


def test_a_bad_record_late_in_a_streamed_file_changes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "STREAM_BYTES", 0)
    monkeypatch.setattr(project, "INSERT_CHUNK", 10)  # several batches are written before the error
    good = "".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(50))
    bad = tmp_path / "bad.ris"
    bad.write_text(good + "TY  - JOUR\nTI  - no end\n")
    with Review.init(tmp_path / "r", title="T") as review:
        with pytest.raises(ParseError, match=r"bad.ris:151: .*no ER"):
            review.import_file(bad, source="S")
        assert review.status().records == 0 and review.status().imports == []
    assert list((tmp_path / "r" / "imports").iterdir()) == []
    assert verify(tmp_path / "r").ok


def test_streamed_import_lone_cr_and_bom(tmp_path, monkeypatch):
    monkeypatch.setattr(project, "STREAM_BYTES", 0)
    data = b"\xef\xbb\xbfTY  - JOUR\rTI  - Record A\rER  - \rTY  - JOUR\nTI  - Record B\nER  - \n"
    (tmp_path / "cr.ris").write_bytes(data)
    with Review.init(tmp_path / "r", title="T") as review:
        result = review.import_file(tmp_path / "cr.ris", source="S")
        assert (result.records, result.encoding) == (2, "utf-8-sig")
        assert review.records_frame()["title"].tolist() == ["Record A", "Record B"]
        again = review.import_file(tmp_path / "cr.ris", source="S")
        assert again.skipped
    assert verify(tmp_path / "r").ok
