"""The review folder end to end: init, import, status, export, round trips, failures."""

import hashlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from review import store
from review.io.base import ParseError
from review.project import Review, ReviewError

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_RIS = REPO / "references" / "mason2014_reference_list.ris"
NORM_COLUMNS = ["norm_doi", "norm_pmid", "norm_first_author", "norm_year", "norm_title", "norm_journal",
                "norm_volume", "norm_issue", "norm_first_page"]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_init_writes_protocol_and_database(tmp_path):
    review = Review.init(tmp_path / "r", title="Integrated funds")
    review.close()
    assert (tmp_path / "r" / "review.yaml").read_text().startswith("title: Integrated funds")
    assert (tmp_path / "r" / "review.db").exists()
    with pytest.raises(ReviewError, match="already holds a review"):
        Review.init(tmp_path / "r", title="again")


def test_open_rejects_bad_protocol(tmp_path):
    Review.init(tmp_path / "r", title="T").close()
    (tmp_path / "r" / "review.yaml").write_text("title: T\nstages:\n  - name: ta\n    decisions_required: x\n")
    with pytest.raises(Exception, match=r"review.yaml:4: stages\[0\].decisions_required: 'x' is not of type"):
        Review.open(tmp_path / "r")


def test_import_counts_provenance_and_status(new_review):
    result = new_review.import_file(EXAMPLE_RIS, source="Mason 2014 reference list", search_date="2013-02-01",
                                    who="am")
    assert (result.records, result.format, result.skipped) == (183, "ris", False)
    status = new_review.status()
    assert status.records == 183
    assert status.records_per_source == {"Mason 2014 reference list": 183}
    (imp,) = status.imports
    assert (imp.file_name, imp.source_name, imp.search_date, imp.imported_by, imp.sha256) == (
        EXAMPLE_RIS.name, "Mason 2014 reference list", "2013-02-01", "am", sha(EXAMPLE_RIS))
    # The raw export is kept as it came.
    kept = list((new_review.path / "imports").iterdir())
    assert len(kept) == 1 and kept[0].read_bytes() == EXAMPLE_RIS.read_bytes()
    frame = new_review.records_frame(original=True)
    first = frame.iloc[0]
    assert first.source_id == "mason2014_ref001"
    assert first.original["N1"][0] == "Mason2014 ref 1"
    assert first.authors == ["Dorizzi, RM"]
    assert (frame.cluster_id == frame.record_id).all()
    with store.read_connection(new_review.engine) as conn:
        (event,) = store.read_events(conn, kind="import")
    assert event.actor == "am" and event.payload["records"] == 183


def test_reimport_is_a_no_op_unless_forced(new_review):
    new_review.import_file(EXAMPLE_RIS, source="S")
    again = new_review.import_file(EXAMPLE_RIS, source="S")
    assert again.skipped and "already imported" in again.message and "--force" in again.message
    assert new_review.status().records == 183
    forced = new_review.import_file(EXAMPLE_RIS, source="S", force=True)
    assert not forced.skipped and new_review.status().records == 366


def test_malformed_file_changes_nothing_byte_for_byte(tmp_path):
    review = Review.init(tmp_path / "r", title="T")
    review.import_file(EXAMPLE_RIS, source="S")
    review.close()
    db = tmp_path / "r" / "review.db"
    before = sha(db)
    bad = tmp_path / "bad.ris"
    bad.write_text("TY  - JOUR\nTI  - fine\nER  - \n\nTY  - JOUR\nTI  - truncated here\nAU  - Smith, J\n")
    review = Review.open(tmp_path / "r")
    with pytest.raises(ParseError) as info:
        review.import_file(bad, source="S")
    assert "bad.ris:5" in str(info.value)
    review.close()
    assert sha(db) == before
    assert not (tmp_path / "r" / "review.db-wal").exists() or (tmp_path / "r" / "review.db-wal").stat().st_size == 0


def test_crash_half_way_leaves_database_as_it_was(tmp_path, monkeypatch):
    review = Review.init(tmp_path / "r", title="T")
    review.close()
    before = sha(tmp_path / "r" / "review.db")
    review = Review.open(tmp_path / "r")

    def boom(*args, **kwargs):
        raise RuntimeError("power cut")

    # The records are inserted, then the event append fails: the transaction must roll back.
    monkeypatch.setattr(store, "append_event", boom)
    with pytest.raises(RuntimeError, match="power cut"):
        review.import_file(EXAMPLE_RIS, source="S")
    assert review.status().records == 0 and review.status().imports == []
    review.close()
    assert sha(tmp_path / "r" / "review.db") == before


@pytest.mark.parametrize("fmt", ["ris", "bibtex", "csv"])
def test_export_then_reimport_gives_same_normalised_records(tmp_path, new_review, fmt):
    new_review.import_file(EXAMPLE_RIS, source="S")
    out = tmp_path / f"export.{ 'bib' if fmt == 'bibtex' else fmt}"
    new_review.export(fmt, out)
    other = Review.init(tmp_path / "other", title="T")
    result = other.import_file(out, source="re-import")
    assert result.format == fmt and result.records == 183
    first = new_review.records_frame()[NORM_COLUMNS + ["title", "year", "doi"]]
    second = other.records_frame()[NORM_COLUMNS + ["title", "year", "doi"]]
    assert first.astype(str).to_dict("records") == second.astype(str).to_dict("records")
    other.close()


def test_csv_export_columns(new_review, tmp_path):
    new_review.import_file(EXAMPLE_RIS, source="S")
    import csv

    text = new_review.export("csv")
    rows = list(csv.DictReader(text.splitlines()))
    assert len(rows) == 183
    for column in ("record_id", "import_file", "source_id", "title", "authors", "year", "journal", "doi", "pmid",
                   "cluster_id"):
        assert column in rows[0], column
    assert rows[0]["source_id"] == "mason2014_ref001"
    assert rows[0]["cluster_id"] == rows[0]["record_id"]
    assert rows[1]["authors"] == "PricewaterhouseCoopers; Australian Government Department of Health and Ageing"


def _ris_file(path: Path, n: int, tag: str) -> Path:
    lines = []
    for i in range(n):
        lines += ["TY  - JOUR", f"AU  - Author{i}, {tag}", f"TI  - Record {i} of {tag}", "PY  - 2001",
                  f"ID  - {tag}{i}", "ER  - ", ""]
    path.write_text("\n".join(lines))
    return path


@pytest.mark.slow  # several Python processes
def test_two_processes_importing_at_once_both_succeed(tmp_path):
    Review.init(tmp_path / "r", title="T").close()
    files = [_ris_file(tmp_path / f"{tag}.ris", 3000, tag) for tag in ("a", "b")]
    script = textwrap.dedent("""
        import sys
        from review.project import Review
        with Review.open(sys.argv[1]) as review:
            print(review.import_file(sys.argv[2], source=sys.argv[3]).records)
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "r"), str(f), f.stem],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for f in files]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert out.strip() == "3000"
    with Review.open(tmp_path / "r") as review:
        status = review.status()
        assert status.records == 6000
        assert status.records_per_source == {"a": 3000, "b": 3000}
