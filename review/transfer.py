"""Moving a review between a local SQLite folder and a PostgreSQL server.

  push   a local review (protocol, imports with their raw files, records, every event
         in order) into an empty server database;
  clone  a folder whose review.yaml points at a server review (nothing copied: the
         protocol and data stay on the server);
  pull   a server review into a new local SQLite folder.

Every copy runs in one transaction on the target and is checked before it commits:
the row count of every table and a checksum of the log must equal the source's. A
failed or mismatched copy rolls back, so the target is left as empty as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, insert, inspect, select
from sqlalchemy.engine import Connection

from review import protocol as protocol_mod
from review import store, team_mode
from review.project import DB_FILE, IMPORTS_DIR, Review, ReviewError

# In dependency order; ids are copied as they are, so references between tables hold.
COPIED_TABLES = ("imports", "records", "events", "dedup_pairs", "team_members")
CHUNK = 2000
DATABASE_PREFIX = "database:"


class TransferError(ReviewError):
    pass


@dataclass
class CopyReport:
    source: str
    target: str
    counts: dict[str, int] = field(default_factory=dict)
    raw_files: int = 0
    log_checksum: str = ""
    note: str = ""

    def __str__(self) -> str:
        counts = ", ".join(f"{n} {t}" for t, n in self.counts.items())
        text = (f"copied {self.source} -> {self.target}: {counts}, {self.raw_files} raw files; "
                f"log sha256 {self.log_checksum[:16]}")
        return f"{text}\nnote: {self.note}" if self.note else text


def log_checksum(conn: Connection) -> str:
    """sha256 over every event (id, time, actor, kind, entity, payload) in log order."""
    digest = hashlib.sha256()
    e = store.events.c
    query = select(e.id, e.created_at, e.actor, e.kind, e.entity, e.entity_id, e.payload).order_by(e.id)
    for row in conn.execute(query):
        digest.update(("\x1f".join("" if v is None else str(v) for v in row) + "\x1e").encode("utf-8"))
    return digest.hexdigest()


def table_counts(conn: Connection) -> dict[str, int]:
    return {name: conn.execute(select(func.count()).select_from(store.metadata.tables[name])).scalar_one()
            for name in COPIED_TABLES}


def _columns(conn: Connection, name: str) -> list[str]:
    present = {c["name"] for c in inspect(conn).get_columns(name)}
    return [c.name for c in store.metadata.tables[name].columns if c.name in present]


def _rows(conn: Connection, name: str, columns: list[str]):
    table = store.metadata.tables[name]
    query = select(*[table.c[c] for c in columns]).order_by(*table.primary_key.columns)
    batch = []
    for row in conn.execute(query).mappings():
        batch.append(dict(row))
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_empty(conn: Connection, where: str) -> None:
    counts = table_counts(conn)
    held = conn.execute(select(func.count()).select_from(store.protocol_versions)).scalar_one()
    if any(counts.values()) or held:
        busy = ", ".join(f"{n} {t}" for t, n in counts.items() if n) or f"{held} protocol versions"
        raise TransferError(f"{where} is not empty ({busy}); copy only into an empty database")


def _reset_sequences(conn: Connection) -> None:
    """After rows arrive with their ids, new rows must continue after them (PostgreSQL)."""
    if conn.dialect.name != "postgresql":
        return
    for name in (*COPIED_TABLES, "protocol_versions"):
        table = store.metadata.tables[name]
        if "id" in table.c:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), COALESCE(MAX(id), 1), MAX(id) IS NOT NULL) "
                f"FROM {name}")


def _copy_tables(source: Connection, target: Connection, rewrite_import) -> None:
    for name in COPIED_TABLES:
        columns = _columns(source, name)
        table = store.metadata.tables[name]
        for batch in _rows(source, name, columns):
            if name == "imports":
                batch = [rewrite_import(row) for row in batch]
            target.execute(insert(table), batch)


def _verify(source_counts: dict, source_sum: str, target: Connection, where: str) -> None:
    counts, checksum = table_counts(target), log_checksum(target)
    if counts != source_counts or checksum != source_sum:
        raise TransferError(f"copy to {where} does not match its source (counts {counts} vs {source_counts}, "
                            f"log checksum {checksum[:16]} vs {source_sum[:16]}); nothing was kept")


def push(folder: str | os.PathLike, url: str) -> CopyReport:
    """Copy a local SQLite review into an empty database on a server, in one transaction."""
    team_mode.url_to_keep(url)
    where = team_mode.where(url)
    with Review.open(folder) as review:
        if review.team_mode:
            raise TransferError(f"{folder} already lives on a server ({team_mode.where(review.protocol.database_url)})")
        target_engine = team_mode.open_engine(url)
        try:
            with store.read_connection(review.engine) as src, store.write_transaction(target_engine) as dst:
                store.lock_for_writers(dst, "review.protocol")
                _check_empty(dst, where)
                counts, checksum = table_counts(src), log_checksum(src)
                raw = 0
                for row in src.execute(select(store.imports.c.sha256, store.imports.c.file_name,
                                              store.imports.c.stored_path)):
                    data = _local_raw_file(review.path, row.stored_path, row.file_name)
                    team_mode.keep_raw_file(dst, row.file_name, data, row.sha256)
                    raw += 1

                def to_server(row: dict) -> dict:
                    return {**row, "stored_path": DATABASE_PREFIX + row["sha256"]}

                _copy_tables(src, dst, to_server)
                who = dst.exec_driver_sql("SELECT session_user").scalar_one()
                team_mode.save_protocol(dst, review.protocol, who)
                _reset_sequences(dst)
                _verify(counts, checksum, dst, where)
        finally:
            target_engine.dispose()
    return CopyReport(str(folder), where, counts, raw, checksum)


def _local_raw_file(folder: Path, stored_path: str | None, file_name: str) -> bytes:
    if not stored_path:
        raise TransferError(f"import {file_name!r} has no raw file kept in {folder / IMPORTS_DIR}")
    path = folder / stored_path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise TransferError(f"{path}: cannot read the raw file of import {file_name!r} ({exc.strerror}); "
                            f"nothing was copied") from None


def clone(url: str, folder: str | os.PathLike) -> Review:
    """A new folder whose review.yaml points at a review on a server (which must hold one)."""
    team_mode.url_to_keep(url)
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise TransferError(f"{folder} exists and is not empty; clone into a new folder")
    engine = team_mode.open_engine(url)
    try:
        with store.read_connection(engine) as conn:
            held = conn.execute(select(store.protocol_versions.c.text)
                                .order_by(store.protocol_versions.c.id.desc()).limit(1)).scalar()
    finally:
        engine.dispose()
    if held is None:
        raise TransferError(f"{team_mode.where(url)} holds no review yet (push one there first)")
    proto = protocol_mod.parse(held, f"protocol in {team_mode.where(url)}")
    proto.database_url = url
    folder.mkdir(parents=True, exist_ok=True)
    (folder / protocol_mod.PROTOCOL_FILE).write_text(protocol_mod.dump(proto), encoding="utf-8")
    return Review.open(folder)


def pull(source: str | os.PathLike, folder: str | os.PathLike) -> CopyReport:
    """Copy a server review (a URL, or a team folder pointing at one) into a new local SQLite folder.

    The copy is built beside the target and renamed into place only once verified, so a
    failure leaves no folder behind.
    """
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise TransferError(f"{folder} exists and is not empty; pull into a new folder")
    source = str(source)
    if Path(source).is_dir():
        url = protocol_mod.load(Path(source) / protocol_mod.PROTOCOL_FILE).database_url
        if not url:
            raise TransferError(f"{source} is a local review, not one on a server")
    else:
        url = team_mode.url_to_keep(source)
    where = team_mode.where(url)
    engine = team_mode.open_engine(url)
    folder.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        # One snapshot of the server for the whole copy, while others go on writing.
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as src, src.begin():
            held = src.execute(select(store.protocol_versions.c.text)
                               .order_by(store.protocol_versions.c.id.desc()).limit(1)).scalar()
            if held is None:
                raise TransferError(f"{where} holds no review")
            proto = protocol_mod.parse(held, f"protocol in {where}")
            (building / protocol_mod.PROTOCOL_FILE).write_text(protocol_mod.dump(proto), encoding="utf-8")
            (building / IMPORTS_DIR).mkdir()
            counts, checksum = table_counts(src), log_checksum(src)
            note = ""
            if src.exec_driver_sql("SELECT review_team_role(session_user::text)").scalar() == "screener":
                note = ("you pulled as a screener: the copy holds only the screening decisions the server "
                        "lets you read (a lead's or the owner's pull holds them all)")
            files = {}
            for row in src.execute(select(store.import_files.c.sha256, store.import_files.c.data)):
                files[row.sha256] = bytes(row.data)
            target_engine = store.connect(f"sqlite:///{(building / DB_FILE).resolve()}")
            try:
                store.migrate(target_engine)
                with store.write_transaction(target_engine) as dst:

                    def to_folder(row: dict) -> dict:
                        data = files.get(row["sha256"])
                        if data is None:
                            raise TransferError(f"{where}: the raw file of import {row['file_name']!r} is missing")
                        name = f"{row['sha256'][:16]}{Path(row['file_name']).suffix.lower()}"
                        (building / IMPORTS_DIR / name).write_bytes(data)
                        return {**row, "stored_path": f"{IMPORTS_DIR}/{name}"}

                    _copy_tables(src, dst, to_folder)
                    _verify(counts, checksum, dst, str(folder))
                store.checkpoint(target_engine)
            finally:
                target_engine.dispose()
        if folder.exists():
            folder.rmdir()  # empty, checked above
        os.replace(building, folder)
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    finally:
        engine.dispose()
    return CopyReport(where, str(folder), counts, len(files), checksum, note)
