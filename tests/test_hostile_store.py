"""Issue 10, holes 6, 7 and 9: read-only and full disks, two inits at once, a damaged schema record."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3

import pytest
from sqlalchemy import event, insert

from review import store
from review.cli import main
from review.project import Review, ReviewError
from review.protocol import ProtocolError
from review.verify import verify

RIS = "".join(f"TY  - JOUR\nTI  - Record {i}\nER  - \n" for i in range(1, 4))


@pytest.fixture
def folder(tmp_path):
    (tmp_path / "r.ris").write_text(RIS)
    with Review.init(tmp_path / "rev", title="T") as review:
        review.import_file(tmp_path / "r.ris", source="S")
    return tmp_path / "rev"


# --- 4: migration 4 gives existing events their hashes ------------------------------------------


def test_migration_4_chains_the_events_of_an_older_database(tmp_path):
    engine = store.connect(f"sqlite:///{tmp_path / 'old.db'}")
    with store.write_transaction(engine) as conn:
        store.schema_migrations.create(conn)
        for number, name, apply in store.MIGRATIONS[:3]:
            apply(conn)
            conn.execute(insert(store.schema_migrations).values(version=number, name=name, applied_at="t"))
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_replace")
        for i in range(3):  # events as version 3 wrote them: no hash
            conn.execute(insert(store.events).values(created_at=f"2020-01-0{i + 1}", actor="a", kind="k",
                                                     payload="{}"))
    assert store.migrate(engine) == store.SCHEMA_VERSION
    with store.read_connection(engine) as conn:
        hashes = [r.hash for r in conn.execute(store.events.select().order_by(store.events.c.id))]
        assert all(len(h) == 64 for h in hashes) and len(set(hashes)) == 3
        with pytest.raises(Exception, match="append-only"):
            conn.exec_driver_sql("UPDATE events SET actor='x' WHERE id=1")
    engine.dispose()


# --- 6: read-only reviews are readable; writing says why not -------------------------------------


def test_status_on_a_read_only_database_needs_no_write(folder, capsys):
    url = f"sqlite:///file:{(folder / 'review.db').resolve()}?mode=ro&uri=true"
    with Review.open(folder, database_url=url) as review:
        assert review.read_only
        assert review.status().records == 3
        with pytest.raises(ReviewError, match="read-only: nothing imported"):
            review.import_file(folder.parent / "r.ris", source="S", force=True)


def test_read_only_database_that_needs_migrating_is_a_message(folder):
    conn = sqlite3.connect(folder / "review.db")
    conn.execute("INSERT INTO schema_migrations VALUES (99, 'future', 't')")
    conn.execute("DELETE FROM schema_migrations WHERE version = 99")  # not append-only
    conn.execute("DELETE FROM schema_migrations WHERE version >= 4")
    conn.commit()
    conn.close()
    url = f"sqlite:///file:{(folder / 'review.db').resolve()}?mode=ro&uri=true"
    with pytest.raises(store.SchemaError, match=f"needs migrating to {store.SCHEMA_VERSION}, but it is read-only"):
        Review.open(folder, database_url=url)


def test_a_database_file_we_may_not_write_is_opened_read_only(folder, monkeypatch, capsys):
    """The reproduction, `review status` on a read-only review (simulated: tests run as root,
    which may write anything, so os.access is told the file is not writable)."""
    before = (folder / "review.db").read_bytes()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **k: False if mode == os.W_OK else real_access(p, mode))
    assert main(["status", str(folder)]) == 0
    assert "records: 3 in 1 imports" in capsys.readouterr().out
    assert main(["import", str(folder), str(folder.parent / "r.ris"), "--source", "S", "--force"]) == 1
    assert "read-only" in capsys.readouterr().err
    assert (folder / "review.db").read_bytes() == before


def test_disk_full_in_sqlite_is_said_plainly_and_leaves_nothing(folder, tmp_path):
    big = tmp_path / "big.ris"
    big.write_text("".join(f"TY  - JOUR\nTI  - Record number {i} {'x' * 200}\nER  - \n" for i in range(3000)))
    with Review.open(folder) as review:
        review.engine.dispose()

        @event.listens_for(review.engine, "connect")
        def _small_disk(dbapi_conn, _):
            pages = dbapi_conn.execute("PRAGMA page_count").fetchone()[0]
            dbapi_conn.execute(f"PRAGMA max_page_count={pages + 20}")

        with pytest.raises(ReviewError, match="disk full"):
            review.import_file(big, source="S")
        assert review.status().records == 3
    assert sorted(p.name for p in (folder / "imports").iterdir()) == [
        p.name for p in (folder / "imports").iterdir() if not p.name.startswith(".")]
    assert len(list((folder / "imports").iterdir())) == 1
    assert verify(folder).ok


def test_disk_full_while_keeping_the_copy(folder, tmp_path, monkeypatch):
    import builtins
    import errno

    real_open = builtins.open

    class Full:
        def __init__(self, f):
            self.f = f

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.f.close()

        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

    def fake_open(file, mode="r", *a, **k):
        f = real_open(file, mode, *a, **k)
        return Full(f) if str(file).endswith(".pending") else f

    other = tmp_path / "other.ris"
    other.write_text(RIS.replace("Record", "Other"))
    with Review.open(folder) as review:
        monkeypatch.setattr(builtins, "open", fake_open)
        with pytest.raises(ReviewError, match="disk full"):
            review.import_file(other, source="S")
        monkeypatch.undo()
        assert review.status().records == 3
    assert len(list((folder / "imports").iterdir())) == 1


def _kill_during_import(folder, ris):
    from review import project

    def die(*args, **kwargs):
        os._exit(9)  # as kill -9: no clean-up runs

    project.Review._insert_import = die
    with Review.open(folder) as review:
        review.import_file(ris, source="S")


def test_killed_import_leaves_no_stored_copy(folder, tmp_path):
    other = tmp_path / "other.ris"
    other.write_text(RIS.replace("Record", "Other"))
    process = multiprocessing.get_context("fork").Process(target=_kill_during_import, args=(folder, other))
    process.start()
    process.join()
    assert process.exitcode == 9
    leftovers = [p.name for p in (folder / "imports").iterdir() if p.name.endswith(".pending")]
    assert len(leftovers) == 1  # what the kill left
    assert not verify(folder).ok  # reported as an orphan
    with Review.open(folder) as review:  # the next open removes it
        assert review.status().records == 3
    assert [p for p in (folder / "imports").iterdir() if p.name.endswith(".pending")] == []
    assert verify(folder).ok


# --- 7: init is atomic and refuses an orphan database ---------------------------------------------


def test_init_refuses_a_folder_with_a_database_but_no_protocol(folder):
    (folder / "review.yaml").unlink()
    with pytest.raises(ReviewError, match="holds a review.db but no review.yaml"):
        Review.init(folder, title="New")
    assert not (folder / "review.yaml").exists()


def _init(path, title, results):
    try:
        Review.init(path, title=title).close()
        results.put(title)
    except ReviewError:
        results.put(None)


def test_concurrent_inits_exactly_one_wins(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_ in range(4):
        target = tmp_path / f"r{round_}"
        results = context.Queue()
        processes = [context.Process(target=_init, args=(target, f"T{i}", results)) for i in range(6)]
        for p in processes:
            p.start()
        for p in processes:
            p.join()
        winners = [t for t in (results.get() for _ in processes) if t]
        assert len(winners) == 1, winners
        with Review.open(target) as review:
            assert review.protocol.title == winners[0]
        assert [p.name for p in target.iterdir() if p.name.startswith(".")] == []


# --- 9: tracebacks that became messages -------------------------------------------------------------


def test_review_yaml_as_a_directory(tmp_path, capsys):
    (tmp_path / "r" / "review.yaml").mkdir(parents=True)
    with pytest.raises(ProtocolError, match="is a directory"):
        Review.open(tmp_path / "r")
    assert main(["status", str(tmp_path / "r")]) == 1
    assert "is a directory" in capsys.readouterr().err


def test_duplicate_key_in_review_yaml(folder, capsys):
    text = (folder / "review.yaml").read_text()
    (folder / "review.yaml").write_text(text + "title: Second title\n")
    with pytest.raises(ProtocolError, match=r"key 'title' appears twice \(first on line 1\)") as err:
        Review.open(folder)
    assert err.value.line == len(text.splitlines()) + 1


def test_emptied_schema_migrations_is_a_message(folder, capsys):
    conn = sqlite3.connect(folder / "review.db")
    conn.execute("DELETE FROM schema_migrations")
    conn.commit()
    conn.close()
    before = (folder / "review.db").read_bytes()
    assert main(["status", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "no record of their schema version" in err and "Traceback" not in err
    assert (folder / "review.db").read_bytes() == before
