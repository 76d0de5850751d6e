"""`review verify DIR`: is the review folder what its own log says it is?

Checks, without writing anything (the SQLite file is opened read-only):

* the event log's hash chain: each event's hash must be sha256 of the previous
  event's hash and its own stored columns (store.event_hash); the first event
  that does not match is reported, since everything after it is suspect;
* SQLite's own `integrity_check` and `foreign_key_check`;
* the append-only triggers are all still there (dropping one is the first step
  of rewriting history by hand);
* each import holds as many records as it says, its stored copy exists and has
  the sha256 the import recorded; files in imports/ that no import refers to
  (orphans, or leftovers of a killed import) are listed.

What it cannot see: someone who rewrites the log and recomputes every hash after
it. Write down the head hash it prints (or keep it elsewhere) to catch that.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import DatabaseError

from review import store

DB_FILE = "review.db"
IMPORTS_DIR = "imports"

# Triggers migrations 1, 2 and 4 create on SQLite; all must be present.
EXPECTED_TRIGGERS = tuple(
    f"{table}_{action}"
    for table in ("imports", "records", "events", "dedup_pairs")
    for action in ("no_update", "no_delete", "no_replace")
)


@dataclass
class Verification:
    path: str
    schema_version: int = 0
    events: int = 0
    head_hash: str = ""
    first_bad_event: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict:
        return {**asdict(self), "ok": self.ok}


def verify(path: str | os.PathLike, database_url: str | None = None) -> Verification:
    """Check a review folder; the result lists every problem found (none: ok)."""
    folder = Path(path)
    result = Verification(str(folder))
    url = database_url or os.environ.get("REVIEW_DATABASE_URL")
    if url is None:
        db = (folder / DB_FILE).resolve()
        if not db.is_file():
            result.problems.append(f"{db}: no database file")
            return result
        url = f"sqlite:///file:{db}?mode=ro&uri=true"
    engine = store.connect(url)
    try:
        with store.read_connection(engine) as conn:
            _check(conn, folder, result)
    except DatabaseError as exc:
        result.problems.append(f"the database cannot be read: {getattr(exc, 'orig', exc)}")
    finally:
        engine.dispose()
    return result


def _check(conn, folder: Path, result: Verification) -> None:
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        for (message,) in conn.exec_driver_sql("PRAGMA integrity_check").all():
            if message != "ok":
                result.problems.append(f"integrity_check: {message}")
        for row in conn.exec_driver_sql("PRAGMA foreign_key_check").all():
            result.problems.append(f"foreign_key_check: row {row[1]} of {row[0]} points to a missing {row[2]}")
    if not conn.dialect.has_table(conn, "events"):
        result.problems.append("no event log (events table missing)")
        return
    result.schema_version = store.current_version(conn)
    if result.schema_version == 0:
        result.problems.append("schema_migrations is empty or missing: the schema version is unknown")
    if sqlite:
        present = {name for (name,) in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")}
        expected = [t for t in EXPECTED_TRIGGERS if result.schema_version >= 4 or not t.endswith("no_replace")]
        for name in expected:
            if name not in present:
                result.problems.append(f"trigger {name} is missing: the append-only guard was removed")
    _check_chain(conn, result)
    _check_imports(conn, folder, result)


def _check_chain(conn, result: Verification) -> None:
    columns = {c.name for c in store.events.c}
    has_hash = "hash" in {c["name"] for c in _columns(conn, "events")}
    if not has_hash:
        result.problems.append("events carry no hashes (schema before version 4): open the review once to add them")
        return
    previous = ""
    query = select(*[store.events.c[name] for name in sorted(columns)]).order_by(store.events.c.id)
    for row in conn.execute(query):
        result.events += 1
        expected = store.event_hash(previous, row)
        if row.hash != expected:
            result.first_bad_event = row.id
            stored = row.hash or "none"
            result.problems.append(
                f"event {row.id} ({row.kind} by {row.actor}, {row.created_at}) does not match the chain: "
                f"stored hash {stored[:16]}..., expected {expected[:16]}...; it or an event before it was "
                f"changed, inserted or removed by hand"
            )
            return
        previous = row.hash
    result.head_hash = previous


def _columns(conn, table: str) -> list[dict]:
    from sqlalchemy import inspect

    return inspect(conn).get_columns(table)


def _check_imports(conn, folder: Path, result: Verification) -> None:
    counts = dict(conn.execute(
        select(store.records.c.import_id, func.count()).group_by(store.records.c.import_id)
    ).all())
    referenced = set()
    for row in conn.execute(select(store.imports).order_by(store.imports.c.id)):
        held = counts.get(row.id, 0)
        if held != row.record_count:
            result.problems.append(f"import {row.id} ({row.file_name}) says {row.record_count} records "
                                   f"but holds {held}")
        if not row.stored_path:
            continue
        referenced.add(Path(row.stored_path).name)
        stored = folder / row.stored_path
        if not stored.is_file():
            result.problems.append(f"import {row.id} ({row.file_name}): stored copy {row.stored_path} is missing")
        elif _sha256(stored) != row.sha256:
            result.problems.append(f"import {row.id} ({row.file_name}): stored copy {row.stored_path} "
                                   f"differs from the file imported (sha256)")
    imports_dir = folder / IMPORTS_DIR
    if imports_dir.is_dir():
        for file in sorted(imports_dir.iterdir()):
            if file.is_file() and file.name not in referenced:
                result.problems.append(f"{IMPORTS_DIR}/{file.name}: orphaned stored file (no import refers to it)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
