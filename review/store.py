"""The review database: schema, connections, migrations and the append-only log.

SQLAlchemy Core with portable SQL, so the same code runs on the embedded SQLite
file and, for teams, on PostgreSQL. Nothing here updates or deletes a row of
`imports`, `records` or `events`: current state is derived from the log.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import Connection

from review.errors import WorkbenchError
from review.records import FIELDS_BY_NAME, RECORD_FIELDS, FieldSpec

metadata = MetaData()

schema_migrations = Table(
    "schema_migrations",
    metadata,
    Column("version", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("applied_at", String(40), nullable=False),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("file_name", String(1000), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(40), nullable=False),
    Column("encoding", String(40), nullable=False),
    Column("source_name", String(400), nullable=False),
    Column("search_date", String(40)),
    Column("record_count", Integer, nullable=False),
    Column("stored_path", String(1000)),
    Column("imported_by", String(200), nullable=False),
    Column("imported_at", String(40), nullable=False),
    Column("note", Text),
    # PRISMA 2020's kinds of source: database, register, website, organisation, citation (migration 3).
    Column("source_kind", String(40), nullable=False, server_default="database"),
)


def _record_column(spec: FieldSpec) -> Column:
    """The column of one record field (review.records.RECORD_FIELDS)."""
    if spec.kind == "year":
        return Column(spec.name, Integer)
    if spec.kind == "int":
        return Column(spec.name, Integer, nullable=False)
    # text; lists and mappings are stored as JSON text
    return Column(spec.name, String(spec.size) if spec.size else Text, nullable=False)


records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("imports.id"), nullable=False),
    Column("position", Integer, nullable=False),  # order inside its file, from 1
    *[_record_column(spec) for spec in RECORD_FIELDS if spec.name != "original"],  # declared in review.records
    # normalised keys for matching
    Column("norm_doi", String(400), nullable=False),
    Column("norm_pmid", String(40), nullable=False),
    Column("norm_first_author", String(400), nullable=False),
    Column("norm_year", Integer),
    Column("norm_title", Text, nullable=False),
    Column("norm_journal", Text, nullable=False),
    Column("norm_volume", String(100), nullable=False),
    Column("norm_issue", String(100), nullable=False),
    Column("norm_first_page", String(100), nullable=False),
    _record_column(FIELDS_BY_NAME["original"]),  # JSON: every field as the file had it
    UniqueConstraint("import_id", "position", name="uq_records_import_position"),
)
Index("ix_records_norm_doi", records.c.norm_doi)
Index("ix_records_norm_pmid", records.c.norm_pmid)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", String(40), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("kind", String(100), nullable=False),
    Column("entity", String(100)),  # e.g. "record", "import", "cluster"
    Column("entity_id", String(200)),
    Column("payload", Text, nullable=False),  # JSON
)
Index("ix_events_kind", events.c.kind)
Index("ix_events_entity", events.c.entity, events.c.entity_id)

# One row per pair a deduplication run found worth keeping (merge, review, or a
# conflict that must keep two records apart), tied to the run's event.
dedup_pairs = Table(
    "dedup_pairs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_event_id", Integer, ForeignKey("events.id"), nullable=False),
    Column("record_a", Integer, ForeignKey("records.id"), nullable=False),
    Column("record_b", Integer, ForeignKey("records.id"), nullable=False),
    Column("score", Float, nullable=False),
    Column("decision", String(20), nullable=False),
    Column("conflict", Integer, nullable=False),  # 1: must never share a cluster
    Column("reason", Text, nullable=False),
    Column("similarities", Text, nullable=False),  # JSON: field -> similarity or null
)
Index("ix_dedup_pairs_run", dedup_pairs.c.run_event_id)

APPEND_ONLY_TABLES = ("imports", "records", "events")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- migrations -----------------------------------------------------------------
# Each migration is (version, name, function(conn)). Applied in order, each in the
# same transaction as its row in schema_migrations, so a half-applied migration
# cannot exist. New features add a migration; old ones are never edited.


def _append_only_sqlite(conn: Connection, names) -> None:
    for name in names:
        for action in ("UPDATE", "DELETE"):
            conn.exec_driver_sql(
                f"CREATE TRIGGER {name}_no_{action.lower()} BEFORE {action} ON {name} "
                f"BEGIN SELECT RAISE(ABORT, '{name} is append-only'); END"
            )


def _append_only_postgresql(conn: Connection, names) -> None:
    for name in names:
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name}_append_only BEFORE UPDATE OR DELETE ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION review_append_only()"
        )


def _make_append_only(conn: Connection, names) -> None:
    if conn.dialect.name == "sqlite":
        _append_only_sqlite(conn, names)
    elif conn.dialect.name == "postgresql":
        _append_only_postgresql(conn, names)


def _m1_initial(conn: Connection) -> None:
    for table in (imports, records, events):
        table.create(conn)
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(
            "CREATE FUNCTION review_append_only() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END; $$ LANGUAGE plpgsql"
        )
    _make_append_only(conn, APPEND_ONLY_TABLES)


def _m2_dedup_pairs(conn: Connection) -> None:
    dedup_pairs.create(conn)
    _make_append_only(conn, ("dedup_pairs",))


def _m3_source_kind(conn: Connection) -> None:
    # Adding a column rewrites no row, so the append-only triggers are not involved;
    # every earlier import was a database search, which is what the default says.
    # A new database already has the column: migration 1 creates `imports` from the
    # table definition above.
    if "source_kind" in {c["name"] for c in inspect(conn).get_columns("imports")}:
        return
    conn.exec_driver_sql("ALTER TABLE imports ADD COLUMN source_kind VARCHAR(40) NOT NULL DEFAULT 'database'")


MIGRATIONS: list[tuple[int, str, Any]] = [
    (1, "imports, records and the event log", _m1_initial),
    (2, "pairs found by deduplication runs", _m2_dedup_pairs),
    (3, "the kind of source of each import (PRISMA 2020)", _m3_source_kind),
]

SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaError(WorkbenchError, RuntimeError):
    """The database cannot be used by this version of the workbench."""


# --- connections ----------------------------------------------------------------


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin, so that
        # writers can take the write lock up front (BEGIN IMMEDIATE) and two
        # processes queue on busy_timeout instead of failing with "locked".
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def connect(url: str) -> Engine:
    """An engine for a review database URL (sqlite:///path or postgresql+psycopg://...)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement.

    Everything in it commits together or not at all.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(write=True)
        with conn.begin():
            yield conn


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "schema_migrations"):
        return 0
    return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0


def migrate(engine: Engine) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version now in force."""
    with write_transaction(engine) as conn:
        if not conn.dialect.has_table(conn, "schema_migrations"):
            schema_migrations.create(conn)
        version = current_version(conn)
        if version > SCHEMA_VERSION:
            raise SchemaError(
                f"database schema version {version} is newer than this workbench "
                f"understands ({SCHEMA_VERSION}); upgrade the review package"
            )
        for number, name, apply in MIGRATIONS:
            if number > version:
                apply(conn)
                conn.execute(insert(schema_migrations).values(version=number, name=name, applied_at=utc_now()))
                version = number
    return version


# --- the event log --------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    id: int
    created_at: str
    actor: str
    kind: str
    entity: str | None
    entity_id: str | None
    payload: dict


def append_event(
    conn: Connection,
    actor: str,
    kind: str,
    payload: dict | None = None,
    entity: str | None = None,
    entity_id: str | int | None = None,
) -> int:
    """Append one event inside the caller's transaction; returns its id."""
    result = conn.execute(
        insert(events).values(
            created_at=utc_now(),
            actor=actor,
            kind=kind,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True),
        )
    )
    return result.inserted_primary_key[0]


def read_events(conn: Connection, kind: str | None = None, entity: str | None = None) -> list[Event]:
    query = select(events).order_by(events.c.id)
    if kind is not None:
        query = query.where(events.c.kind == kind)
    if entity is not None:
        query = query.where(events.c.entity == entity)
    return [
        Event(r.id, r.created_at, r.actor, r.kind, r.entity, r.entity_id, json.loads(r.payload))
        for r in conn.execute(query)
    ]


def checkpoint(engine: Engine) -> None:
    """Fold the SQLite write-ahead log into the main file (no-op elsewhere)."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


__all__ = [
    "metadata", "imports", "records", "events", "dedup_pairs", "schema_migrations",
    "connect", "migrate", "write_transaction", "read_connection",
    "append_event", "read_events", "Event", "SCHEMA_VERSION", "SchemaError", "utc_now", "checkpoint",
]
