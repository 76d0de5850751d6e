"""The review database: schema, connections, migrations and the append-only log.

SQLAlchemy Core with portable SQL, so the same code runs on the embedded SQLite
file and, for teams, on PostgreSQL. Nothing here updates or deletes a row of
`imports`, `records` or `events`: current state is derived from the log.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Column,
    LargeBinary,
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
    # sha256 chaining this event to the one before (migration 4); see event_hash.
    Column("hash", String(64)),
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

# Team mode (migration 5). The protocol every member works to, one row per saved version
# (the latest wins), and the raw search exports, so every member sees the same files.
protocol_versions = Table(
    "protocol_versions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("text", Text, nullable=False),  # review.yaml as written, without the database URL
    Column("data", Text, nullable=False),  # JSON of the same protocol, for the server's own checks
    Column("saved_by", String(200), nullable=False),
    Column("saved_at", String(40), nullable=False),
)

import_files = Table(
    "import_files",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("file_name", String(1000), nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
)

# Who may do what on a server (PostgreSQL roles); one row per change, the latest per role wins.
team_members = Table(
    "team_members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("role_name", String(200), nullable=False),
    Column("team_role", String(40), nullable=False),  # screener, resolver or lead
    Column("added_by", String(200), nullable=False),
    Column("added_at", String(40), nullable=False),
)
Index("ix_team_members_role", team_members.c.role_name)

APPEND_ONLY_TABLES = ("imports", "records", "events")


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


# --- migrations -----------------------------------------------------------------
# Each migration is (version, name, function(conn)). Applied in order, each in the
# same transaction as its row in schema_migrations, so a half-applied migration
# cannot exist. New features add a migration; old ones are never edited.


def ddl(conn: Connection, statement: str) -> None:
    """Run one DDL statement as written: psycopg would read a '%' (as in RAISE) as a placeholder."""
    if conn.dialect.name == "postgresql":
        statement = statement.replace("%", "%%")
    conn.exec_driver_sql(statement)


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
        ddl(
            conn,
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


def _no_replace_sqlite(conn: Connection, names) -> None:
    """SQLite runs no DELETE trigger for the row INSERT OR REPLACE throws away
    (unless recursive_triggers is on), so `INSERT OR REPLACE INTO events ...` with
    an existing id would rewrite history. Refuse any insert that would collide."""
    for name in names:
        collide = f"id = NEW.id"
        if name == "records":  # its other unique key could be replaced as well
            collide += " OR (import_id = NEW.import_id AND position = NEW.position)"
        conn.exec_driver_sql(
            f"CREATE TRIGGER {name}_no_replace BEFORE INSERT ON {name} "
            f"WHEN EXISTS (SELECT 1 FROM {name} WHERE {collide}) "
            f"BEGIN SELECT RAISE(ABORT, '{name} is append-only: that row exists already'); END"
        )


def _m4_hash_chain(conn: Connection) -> None:
    # The one time existing events are written to: each gains its link in the chain.
    # The update trigger is lifted for this transaction only; a failure rolls it all back.
    columns = {c["name"] for c in inspect(conn).get_columns("events")}
    if "hash" not in columns:
        conn.exec_driver_sql("ALTER TABLE events ADD COLUMN hash VARCHAR(64)")
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS events_no_update")
        _no_replace_sqlite(conn, ("imports", "records", "events", "dedup_pairs"))
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE events DISABLE TRIGGER events_append_only")
    previous = ""
    for row in conn.execute(select(events).order_by(events.c.id)).all():
        previous = event_hash(previous, row)
        conn.execute(events.update().where(events.c.id == row.id).values(hash=previous))
    if sqlite:
        conn.exec_driver_sql(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events is append-only'); END"
        )
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("ALTER TABLE events ENABLE TRIGGER events_append_only")
        ddl(conn, _CHAIN_SQL)
        # Named to fire after events_00_actor (PostgreSQL fires BEFORE triggers by name),
        # so the hash covers the actor the server set.
        conn.exec_driver_sql("CREATE TRIGGER events_01_chain BEFORE INSERT ON events "
                             "FOR EACH ROW EXECUTE FUNCTION review_chain_event()")


def _m5_team(conn: Connection) -> None:
    # Tables on both engines, so a review moves between them unchanged; the server's own
    # rules (actor, blinding, roles) exist on PostgreSQL only: review/team.py.
    for table in (protocol_versions, import_files, team_members):
        table.create(conn)
    _make_append_only(conn, ("protocol_versions", "import_files", "team_members"))
    if conn.dialect.name == "sqlite":
        _no_replace_sqlite(conn, ("protocol_versions", "team_members"))
    if conn.dialect.name == "postgresql":
        from review import server_rules

        server_rules.install(conn)


MIGRATIONS: list[tuple[int, str, Any]] = [
    (1, "imports, records and the event log", _m1_initial),
    (2, "pairs found by deduplication runs", _m2_dedup_pairs),
    (3, "the kind of source of each import (PRISMA 2020)", _m3_source_kind),
    (4, "no INSERT OR REPLACE over history; events chained by hash", _m4_hash_chain),
    (5, "team mode: protocol and raw files in the database, members, server-enforced identity and blinding",
     _m5_team),
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
        # Also makes INSERT OR REPLACE run the DELETE triggers on the row it replaces.
        cur.execute("PRAGMA recursive_triggers=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get("write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def driver_url(url: str) -> str:
    """The SQLAlchemy URL for a review database URL: postgresql://... uses psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def connect(url: str) -> Engine:
    """An engine for a review database URL (sqlite:///path or postgresql://...)."""
    url = driver_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 60})
        _configure_sqlite(engine)
    else:
        # A password comes from the environment, ~/.pgpass or a service file (libpq reads
        # them), never from review.yaml; the connect timeout keeps a dead server from hanging.
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    return engine


def lock_for_writers(conn: Connection, name: str) -> None:
    """Serialise writers of one kind (e.g. imports) for the rest of the transaction.

    SQLite already holds the database's write lock (BEGIN IMMEDIATE); PostgreSQL lets
    writers run side by side, so check-then-insert steps take an advisory lock.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(func.hashtext(name))))


# Errors the engine asks us to retry: SQLite's busy database and PostgreSQL's
# serialisation failure and deadlock (SQLSTATE 40001, 40P01).
_RETRY_STATES = {"40001", "40P01"}


def is_retryable(exc: BaseException) -> bool:
    orig = getattr(exc, "orig", exc)
    if getattr(orig, "sqlstate", None) in _RETRY_STATES:
        return True
    return "database is locked" in str(orig) or "database is busy" in str(orig)


def retrying(fn, attempts: int = 8, first_wait: float = 0.05):
    """Call fn() again, with exponential backoff and jitter, while the engine asks for a retry."""
    import random
    import time

    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - re-raised unless the engine asked for a retry
            if attempt == attempts - 1 or not is_retryable(exc):
                raise
            time.sleep(first_wait * (2 ** attempt) * (0.5 + random.random()))


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the write lock from its first statement.

    Everything in it commits together or not at all.
    """
    def open_transaction():
        # Taking the write lock is where another writer makes us wait; if the engine gives
        # up waiting (SQLite busy past its timeout) we try again with backoff, so the
        # user never sees "database is locked".
        conn = engine.connect().execution_options(write=True)
        try:
            return conn, conn.begin()
        except BaseException:
            conn.close()
            raise

    conn, transaction = retrying(open_transaction)
    try:
        with transaction:
            yield conn
    finally:
        conn.close()


@contextmanager
def read_connection(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        with conn.begin():
            yield conn


def _checked_version(conn: Connection) -> int:
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise SchemaError(
            f"database schema version {version} is newer than this workbench "
            f"understands ({SCHEMA_VERSION}); upgrade the review package"
        )
    if version == 0 and conn.dialect.has_table(conn, "imports"):
        raise SchemaError(
            "the database has its tables but no record of their schema version (schema_migrations is "
            "empty or missing); it was damaged or edited by hand. Nothing was changed; restore it from a "
            "copy, or run `review verify` to see what else is wrong"
        )
    return version


def current_version(conn: Connection) -> int:
    if not conn.dialect.has_table(conn, "schema_migrations"):
        return 0
    return conn.execute(select(func.max(schema_migrations.c.version))).scalar() or 0


def migrate(engine: Engine, read_only: bool = False) -> int:
    """Bring the schema to SCHEMA_VERSION; returns the version now in force.

    Looks first in a read transaction, so that opening an up-to-date database
    never needs write access; a database that needs migrating but may not be
    written (`read_only`) is a SchemaError saying so.
    """
    with read_connection(engine) as conn:
        version = _checked_version(conn)
    if version == SCHEMA_VERSION:
        return version
    if read_only:
        raise SchemaError(
            f"the database is at schema version {version} and needs migrating to {SCHEMA_VERSION}, "
            f"but it is read-only; open it once with write access (or copy it somewhere writable)"
        )
    with write_transaction(engine) as conn:
        if not conn.dialect.has_table(conn, "schema_migrations"):
            # A database that holds something else is not ours to add tables to.
            others = sorted(inspect(conn).get_table_names())
            if others:
                raise SchemaError(
                    f"the database holds other tables ({', '.join(others[:5])}{', ...' if len(others) > 5 else ''}) "
                    f"and no review; use an empty database")
            schema_migrations.create(conn)
        version = _checked_version(conn)
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
    """Append one event inside the caller's transaction; returns its id.

    The event's hash chains it to the last event: reading the tail and inserting
    happen in the same transaction, and SQLite lets only one writer commit at a
    time, so two writers can never chain to the same event (the second one's
    write fails rather than forks the chain).
    """
    values = dict(
        created_at=utc_now(),
        actor=actor,
        kind=kind,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        payload=json.dumps(payload or {}, ensure_ascii=False, sort_keys=True),
    )
    # On a server the chain is computed by a trigger (review_chain_event), which sees
    # every event and the actor the server sets; a screener's own view of the log is
    # blinded (row-level security), so the client could not know the true tail.
    if conn.dialect.name != "postgresql":
        previous = conn.execute(select(events.c.hash).order_by(events.c.id.desc()).limit(1)).scalar() or ""
        values["hash"] = event_hash(previous, values)
    result = conn.execute(insert(events).values(**values))
    return result.inserted_primary_key[0]


def event_hash(previous: str, event) -> str:
    """sha256 over the previous event's hash and this event's stored columns.

    `event` is a row or a dict with created_at, actor, kind, entity, entity_id
    and payload (the JSON text as stored). The id is left out: it is the
    position in the chain already.
    """
    get = event.get if isinstance(event, dict) else lambda name: getattr(event, name)
    fields = [previous or "", get("created_at"), get("actor"), get("kind"), get("entity"), get("entity_id"),
              get("payload")]
    # Fields joined by a unit separator, NULL written as a record separator: simple enough
    # for PostgreSQL's trigger (_CHAIN_SQL) to compute exactly the same digest.
    text = HASH_SEPARATOR.join(HASH_NULL if value is None else str(value) for value in fields)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


HASH_SEPARATOR, HASH_NULL = "\x1f", "\x1e"

# The same digest as event_hash, computed by the server for every inserted event.
_CHAIN_SQL = r"""
CREATE FUNCTION review_chain_event() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  previous text;
BEGIN
  -- One writer at a time chains (held to commit). An id drawn before the lock may be
  -- below one committed meanwhile: draw again, so ids follow the chain and no event
  -- becomes visible after a higher one. (A copy's explicit, increasing ids are kept.)
  PERFORM pg_advisory_xact_lock(hashtext('review.events.chain'));
  IF NEW.id <= (SELECT max(id) FROM events) THEN
    NEW.id := nextval(pg_get_serial_sequence('events', 'id'));
  END IF;
  SELECT hash INTO previous FROM events ORDER BY id DESC LIMIT 1;
  NEW.hash := encode(sha256(convert_to(concat_ws(E'', coalesce(previous, ''),
      coalesce(NEW.created_at, E''), coalesce(NEW.actor, E''), coalesce(NEW.kind, E''),
      coalesce(NEW.entity, E''), coalesce(NEW.entity_id, E''), coalesce(NEW.payload, E'')),
      'UTF8')), 'hex');
  RETURN NEW;
END $$
"""


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
    "append_event", "event_hash", "read_events", "Event", "SCHEMA_VERSION", "SchemaError", "utc_now", "checkpoint",
]
