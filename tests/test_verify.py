"""Issue 10, hole 4: history cannot be replaced, and tampering with it is found by `review verify`."""

from __future__ import annotations

import sqlite3

import pytest

from review import store
from review.cli import main
from review.project import Review
from review.verify import verify


@pytest.fixture
def folder(tmp_path):
    ris = tmp_path / "r.ris"
    ris.write_text("".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(1, 4)))
    review = Review.init(tmp_path / "rev", title="T")
    review.import_file(ris, source="S")
    from review import screening

    screening.decide(review, "title_abstract", "reviewer1", 1, "include")
    screening.decide(review, "title_abstract", "reviewer2", 1, "exclude", reasons=["wrong_population"])
    review.close()
    return tmp_path / "rev"


def _raw(folder):
    # a plain sqlite3 connection, as an attacker would use: no pragmas of ours
    return sqlite3.connect(folder / "review.db", isolation_level=None)


def test_a_fresh_review_verifies(folder, capsys):
    result = verify(folder)
    assert result.ok, result.problems
    assert result.events == 3 and len(result.head_hash) == 64 and result.schema_version == store.SCHEMA_VERSION
    assert main(["verify", str(folder)]) == 0
    assert "3 events checked, ok" in capsys.readouterr().out


@pytest.mark.parametrize("statement", [
    "INSERT OR REPLACE INTO events SELECT id, created_at, 'MALLORY', kind, entity, entity_id, payload, hash "
    "FROM events WHERE id=2",
    "REPLACE INTO records SELECT * FROM records WHERE id=1",
    "INSERT OR REPLACE INTO imports SELECT * FROM imports WHERE id=1",
    "INSERT INTO records (import_id, position, source_id, line, type, title, authors, journal, volume, issue, "
    "pages, doi, pmid, abstract, keywords, url, publisher, place, issn, isbn, language, date, notes, norm_doi, "
    "norm_pmid, norm_first_author, norm_title, norm_journal, norm_volume, norm_issue, norm_first_page, original) "
    "SELECT import_id, position, source_id, line, type, 'FORGED', authors, journal, volume, issue, pages, doi, "
    "pmid, abstract, keywords, url, publisher, place, issn, isbn, language, date, notes, norm_doi, norm_pmid, "
    "norm_first_author, norm_title, norm_journal, norm_volume, norm_issue, norm_first_page, original "
    "FROM records WHERE id=1 ON CONFLICT DO NOTHING",
])
def test_insert_or_replace_cannot_rewrite_history(folder, statement):
    before = (folder / "review.db").read_bytes()
    conn = _raw(folder)
    if "ON CONFLICT DO NOTHING" in statement:
        statement = statement.replace(" ON CONFLICT DO NOTHING", "").replace("INSERT INTO", "INSERT OR REPLACE INTO")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute(statement)
    assert conn.execute("SELECT actor FROM events WHERE id=2").fetchone()[0] == "reviewer1"
    conn.close()
    assert verify(folder).ok


def test_tampering_is_found_at_the_first_changed_event(folder, capsys):
    conn = _raw(folder)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET actor='MALLORY' WHERE id=2")
    conn.close()
    result = verify(folder)
    assert result.first_bad_event == 2
    assert any("trigger events_no_update is missing" in p for p in result.problems)
    assert any(p.startswith("event 2 (decision by MALLORY") or p.startswith("event 2 (") for p in result.problems)
    assert main(["verify", str(folder)]) == 1
    assert "event 2" in capsys.readouterr().out


def test_removed_event_and_forged_payload_are_found(folder):
    conn = _raw(folder)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE id=2")
    conn.execute("CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'x'); END")
    conn.close()
    assert verify(folder).first_bad_event == 3


def test_missing_orphaned_and_altered_stored_files(folder):
    stored = next((folder / "imports").iterdir())
    stored.write_bytes(stored.read_bytes() + b"\n")
    (folder / "imports" / ".leftover.ris.99999999.pending").write_bytes(b"x")
    problems = verify(folder).problems
    assert any("differs from the file imported" in p for p in problems)
    assert any("orphaned stored file" in p and ".leftover" in p for p in problems)
    stored.unlink()
    assert any("is missing" in p for p in verify(folder).problems)


def test_integrity_check_failure_is_reported(folder):
    db = folder / "review.db"
    data = bytearray(db.read_bytes())
    page = 4096
    for i in range(page * 2, min(len(data), page * 3)):  # scramble one page
        data[i] = (data[i] * 7 + 13) % 256
    db.write_bytes(bytes(data))
    result = verify(folder)
    assert not result.ok


def _decide_many(folder, reviewer):
    from review import screening

    with Review.open(folder) as review:
        state = screening.ScreeningState.load(review)
        for record in (1, 2, 3) * 5:
            screening.decide(review, "title_abstract", reviewer, record, "include", state=state)


def test_concurrent_writers_never_fork_the_chain(folder):
    import multiprocessing

    context = multiprocessing.get_context("fork")
    processes = [context.Process(target=_decide_many, args=(folder, r)) for r in ("reviewer1", "reviewer2") * 2]
    for p in processes:
        p.start()
    for p in processes:
        p.join()
    assert all(p.exitcode == 0 for p in processes)
    result = verify(folder)
    assert result.ok, result.problems
    assert result.events == 3 + 4 * 15
