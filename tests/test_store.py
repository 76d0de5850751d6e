import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import DatabaseError

from review import store


pytestmark = pytest.mark.usefixtures("review_engine")


@pytest.fixture
def engine(engine_url):
    engine = store.connect(engine_url)
    store.migrate(engine)
    yield engine
    engine.dispose()


def test_migrate_is_idempotent_and_versioned(engine):
    assert store.migrate(engine) == store.SCHEMA_VERSION
    with store.read_connection(engine) as conn:
        rows = conn.execute(select(store.schema_migrations)).all()
        assert [r.version for r in rows] == [m[0] for m in store.MIGRATIONS]
        if engine.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_newer_schema_is_refused(engine):
    with store.write_transaction(engine) as conn:
        conn.execute(insert(store.schema_migrations).values(version=999, name="future", applied_at="x"))
    with pytest.raises(store.SchemaError, match="newer"):
        store.migrate(engine)


def test_event_log_appends_and_reads_back(engine):
    with store.write_transaction(engine) as conn:
        first = store.append_event(conn, "am", "note", {"text": "héllo"}, entity="record", entity_id=7)
        second = store.append_event(conn, "mg", "note", {"text": "again"})
    with store.read_connection(engine) as conn:
        events = store.read_events(conn, kind="note")
    assert [e.id for e in events] == [first, second]
    assert events[0].payload == {"text": "héllo"} and events[0].entity_id == "7"
    assert events[0].created_at.endswith("Z")


def test_event_log_is_append_only(engine):
    with store.write_transaction(engine) as conn:
        store.append_event(conn, "am", "note", {})
    for statement in (update(store.events).values(actor="x"), store.events.delete()):
        with pytest.raises(DatabaseError, match="append-only"):
            with store.write_transaction(engine) as conn:
                conn.execute(statement)


def test_failed_transaction_leaves_nothing(engine):
    with pytest.raises(RuntimeError):
        with store.write_transaction(engine) as conn:
            store.append_event(conn, "am", "note", {})
            raise RuntimeError("crash half way")
    with store.read_connection(engine) as conn:
        assert store.read_events(conn) == []


def test_foreign_keys_are_enforced(engine):
    row = dict(import_id=12345, position=1, source_id="x", line=1, type="article", title="t", authors="[]",
               journal="", volume="", issue="", pages="", doi="", pmid="", abstract="", keywords="[]", url="",
               publisher="", place="", issn="", isbn="", language="", date="", notes="[]", norm_doi="",
               norm_pmid="", norm_first_author="", norm_title="t", norm_journal="", norm_volume="",
               norm_issue="", norm_first_page="", original="{}")
    with pytest.raises(DatabaseError, match="(?i)FOREIGN KEY"):
        with store.write_transaction(engine) as conn:
            conn.execute(insert(store.records).values(**row))
