"""A review is a folder: `review.yaml` (the protocol), `review.db` and `imports/`.

`Review` is the public Python API; the command line and the notebooks call it.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import errno
import getpass
import hashlib
import json
import os
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import OperationalError
from tqdm.auto import tqdm

from review import clusters, events, store
from review import io as readers
from review import protocol as protocol_mod
from review.errors import WorkbenchError
from review.io import ris as ris_reader
from review.io.base import ParseError, without_gc
from review.protocol import Protocol
from review.readmodel import ReadModel
from review.records import RECORD_FIELDS, Reference, match_keys

DB_FILE = "review.db"
IMPORTS_DIR = "imports"
INSERT_CHUNK = 5000
# PRISMA 2020's kinds of source. Databases and registers are screened in the flow
# diagram's main column; the others ("other methods") have a column of their own.
SOURCE_KINDS = ("database", "register", "website", "organisation", "citation")


class ReviewError(WorkbenchError, RuntimeError):
    pass


def default_actor() -> str:
    """Who is acting: $REVIEW_USER, else the login name."""
    return os.environ.get("REVIEW_USER") or getpass.getuser()


@dataclass
class ImportResult:
    file: str
    import_id: int | None
    records: int
    format: str
    encoding: str
    skipped: bool = False
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportSummary:
    import_id: int
    file_name: str
    source_name: str
    format: str
    encoding: str
    search_date: str | None
    records: int
    imported_by: str
    imported_at: str
    sha256: str
    source_kind: str = "database"


@dataclass
class Status:
    title: str
    path: str
    schema_version: int
    records: int
    imports: list[ImportSummary] = field(default_factory=list)
    records_per_source: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. events of kinds this version does not know

    def to_dict(self) -> dict:
        return asdict(self)


class Review:
    """An open review folder."""

    def __init__(self, path: Path, protocol: Protocol, engine: Engine):
        self.path = path
        self.protocol = protocol
        self.engine = engine
        self._read_model: ReadModel | None = None

    def read_model(self) -> ReadModel:
        """The review's state replayed from the log, brought up to date (one query for new events)."""
        if self._read_model is None:
            self._read_model = ReadModel(self.engine)
        return self._read_model.refresh()

    # --- opening -------------------------------------------------------------

    @classmethod
    def init(
        cls,
        path: str | os.PathLike,
        title: str | None = None,
        protocol: Protocol | str | os.PathLike | None = None,
        database_url: str | None = None,
        reviewers: list | None = None,
    ) -> "Review":
        """Create a review folder with a protocol and an empty database.

        `protocol` may be a Protocol, or a path to a review.yaml to start from
        (the title argument, if given, replaces its title). `reviewers` (Reviewer, or
        text such as 'am="Alison Mason"') become the protocol's reviewers at every stage.
        """
        path = Path(path)
        target = path / protocol_mod.PROTOCOL_FILE
        if target.exists() or target.is_symlink():
            raise ReviewError(f"{path} already holds a review ({protocol_mod.PROTOCOL_FILE} exists)")
        if database_url is None and (path / DB_FILE).exists():
            raise ReviewError(
                f"{path} holds a {DB_FILE} but no {protocol_mod.PROTOCOL_FILE}: refusing to put its records "
                f"under a new protocol; restore the review's {protocol_mod.PROTOCOL_FILE}, or init elsewhere"
            )
        if protocol is None:
            if not title:
                raise ReviewError("a new review needs a title")
            proto = protocol_mod.default_protocol(title)
        elif isinstance(protocol, Protocol):
            proto = protocol
        else:
            proto = protocol_mod.load(protocol)
        if title:
            proto.title = title
        if reviewers:
            try:
                proto = protocol_mod.with_reviewers(proto, [
                    r if isinstance(r, protocol_mod.Reviewer) else protocol_mod.parse_reviewer(r) for r in reviewers])
            except ValueError as exc:
                raise ReviewError(str(exc)) from None
        database_url = database_url or proto.database_url or None  # review.yaml `database: {url: ...}`
        if database_url:
            from review import team_mode

            # Connect, check and migrate the server before writing anything here, so a
            # wrong URL, a dead server or a database holding something else leaves no folder.
            proto.database_url = team_mode.url_to_keep(database_url)
            engine = team_mode.open_engine(database_url)
            try:
                team_mode.claim_empty(engine, proto)
            except Exception:
                engine.dispose()
                raise
            engine.dispose()
        # Validate the text we are about to write, so init can never leave a
        # protocol that open() would then reject.
        text = protocol_mod.dump(proto)
        protocol_mod.parse(text, str(path / protocol_mod.PROTOCOL_FILE))
        path.mkdir(parents=True, exist_ok=True)
        if not database_url:
            (path / IMPORTS_DIR).mkdir(exist_ok=True)
        # Claim the folder atomically: the protocol is written under a private
        # name, then hard-linked into place, which fails if the name exists. Of
        # two `init`s at once exactly one wins; the other changes nothing.
        private = path / f".{protocol_mod.PROTOCOL_FILE}.{os.getpid()}.init"
        private.write_text(text, encoding="utf-8")
        try:
            os.link(private, target)
        except FileExistsError:
            raise ReviewError(f"{path} already holds a review ({protocol_mod.PROTOCOL_FILE} exists)") from None
        finally:
            private.unlink()
        if not database_url and (path / DB_FILE).exists():
            # a review.db appeared between the check above and the claim: not ours
            target.unlink()
            raise ReviewError(f"{path} holds a {DB_FILE} made by another process; nothing created")
        try:
            return cls.open(path, database_url)
        except BaseException:
            target.unlink(missing_ok=True)  # init is all or nothing
            raise

    @classmethod
    def open(cls, path: str | os.PathLike, database_url: str | None = None) -> "Review":
        path = Path(path)
        if not path.is_dir():
            raise ReviewError(f"{path} is not a review folder (no such directory)")
        proto = protocol_mod.load(path / protocol_mod.PROTOCOL_FILE)
        url = database_url or os.environ.get("REVIEW_DATABASE_URL") or proto.database_url
        if url and not url.startswith("sqlite"):
            from review import team_mode

            engine = team_mode.open_engine(url)
            # Everyone works to the protocol kept in the database.
            proto = team_mode.server_protocol(engine, proto)
            return cls(path, proto, engine)
        read_only = False
        if not url:
            db = (path / DB_FILE).resolve()
            # A file (or folder) we may not write is opened read-only, so reading
            # works without write access; writing then fails with a plain message.
            read_only = db.exists() and not (os.access(db, os.W_OK) and os.access(db.parent, os.W_OK))
            url = f"sqlite:///file:{db}?mode=ro&uri=true" if read_only else f"sqlite:///{db}"
        read_only = read_only or "mode=ro" in url
        engine = store.connect(url)
        try:
            store.migrate(engine, read_only=read_only)
        except OperationalError as exc:
            engine.dispose()
            raise ReviewError(database_problem(exc, path / DB_FILE)) from None
        except BaseException:
            engine.dispose()
            raise
        review = cls(path, proto, engine)
        review.read_only = read_only
        if not read_only:
            review._remove_stale_copies()
        return review

    read_only = False

    @property
    def team_mode(self) -> bool:
        """True when the review lives on a PostgreSQL server (raw files and protocol in the database)."""
        return self.engine.dialect.name == "postgresql"

    def add_reviewer(self, reviewer, stages: list[str] | None = None) -> None:
        """Add a reviewer (Reviewer or 'mg="Mark Gale"') to review.yaml and to its stages."""
        try:
            if not isinstance(reviewer, protocol_mod.Reviewer):
                reviewer = protocol_mod.parse_reviewer(reviewer)
            proto = protocol_mod.add_reviewer(protocol_mod.load(self.path / protocol_mod.PROTOCOL_FILE),
                                              reviewer, stages)
        except ValueError as exc:
            raise ReviewError(str(exc)) from None
        text = protocol_mod.dump(proto)
        protocol_mod.parse(text, str(self.path / protocol_mod.PROTOCOL_FILE))  # never write what open() refuses
        (self.path / protocol_mod.PROTOCOL_FILE).write_text(text, encoding="utf-8")
        self.protocol = proto

    def close(self) -> None:
        if not self.read_only:
            store.checkpoint(self.engine)
        self.engine.dispose()

    def __enter__(self) -> "Review":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- importing -------------------------------------------------------------

    def import_file(
        self,
        file: str | os.PathLike,
        source: str,
        format: str = "auto",
        search_date: str | None = None,
        who: str | None = None,
        force: bool = False,
        progress: bool = False,
        source_kind: str = "database",
        **reader_options,
    ) -> ImportResult:
        """Import one export file in one transaction.

        The file is parsed completely before the database is touched, so a
        malformed file raises ParseError (file:line and field) and changes
        nothing. A file already imported (same sha256) is skipped unless `force`.
        `source_kind` is PRISMA 2020's kind of source (one of SOURCE_KINDS).

        A UTF-8 RIS file of STREAM_BYTES or more is read as a stream instead:
        records are parsed and stored a batch at a time inside the one
        transaction, which a parse error rolls back, so memory stays flat at
        any file size and the promise above still holds.
        """
        file = Path(file)
        if not source or not source.strip():
            raise ReviewError("name the bibliographic database searched (--source), e.g. 'MEDLINE (Ovid)'")
        if source_kind not in SOURCE_KINDS:
            raise ReviewError(f"unknown kind of source {source_kind!r} (one of {', '.join(SOURCE_KINDS)})")
        search_date = check_search_date(search_date)
        streamed = self._import_streamed(file, source, format, search_date, who, force, progress, source_kind,
                                         reader_options)
        if streamed is not None:
            return streamed
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ParseError(str(file), None, f"cannot read file: {exc.strerror}") from None
        digest = hashlib.sha256(data).hexdigest()
        if not force:
            earlier = self._import_with_sha(digest)
            if earlier is not None:
                return self._already_imported(file, earlier)

        parsed = readers.read_bytes(data, file, format, **reader_options)
        if not parsed.references:
            raise ParseError(str(file), None, "the file holds no records")
        if self.read_only:
            raise ReviewError(f"{self.path / DB_FILE} is read-only: nothing imported")
        who = who or default_actor()
        # The stored copy goes under a private name first and gets its real name
        # only once the import has committed: a failed or killed import leaves no
        # copy of an import that never happened (a leftover is removed at the next open).
        if self.team_mode:  # the raw file goes into the database, in the import's transaction
            stored, pending = f"database:{digest}", None
        else:
            stored, pending = self._stage_original(file, data, digest)
        try:
            result = self._insert_import(file, parsed, digest, stored, source, source_kind, search_date, who,
                                         force, progress, data)
        except OperationalError as exc:
            _discard(pending)
            if self.team_mode:
                raise  # the server's own words: the CLI names it
            raise ReviewError(f"{file}: nothing imported: {database_problem(exc, self.path / DB_FILE)}") from None
        except BaseException:
            _discard(pending)
            raise
        if pending is not None:
            if result.skipped:
                _discard(pending)
            else:
                os.replace(pending, self.path / stored)
        result.warnings = list(parsed.warnings)
        return result

    def _import_streamed(self, file: Path, source, format, search_date, who, force, progress, source_kind,
                         reader_options) -> "ImportResult | None":
        """The streaming import of a large UTF-8 RIS file; None when the file is not one
        (then the in-memory path reads it, with its exact errors for odd encodings)."""
        if format not in ("auto", "ris") or reader_options or self.engine.dialect.name != "sqlite":
            return None
        try:
            if file.stat().st_size < STREAM_BYTES:
                return None
            scan = _scan(file)
        except OSError:
            return None  # the in-memory path reports it
        if scan is None:
            return None
        digest, encoding, head = scan
        if readers.detect_format(head, file) != "ris" or ris_reader.not_plain_ris(head):
            return None
        if not force:
            earlier = self._import_with_sha(digest)
            if earlier is not None:
                return self._already_imported(file, earlier)
        if self.read_only:
            raise ReviewError(f"{self.path / DB_FILE} is read-only: nothing imported")
        who = who or default_actor()
        stored, pending = self._stage_original(file, None, digest)
        warnings: list[str] = []
        try:
            result = self._insert_streamed(file, encoding, digest, stored, source, source_kind, search_date, who,
                                           force, progress, warnings)
        except OperationalError as exc:
            _discard(pending)
            if self.team_mode:
                raise  # the server's own words: the CLI names it
            raise ReviewError(f"{file}: nothing imported: {database_problem(exc, self.path / DB_FILE)}") from None
        except BaseException:
            _discard(pending)
            raise
        if pending is not None:
            if result.skipped:
                _discard(pending)
            else:
                os.replace(pending, self.path / stored)
        result.warnings = warnings
        return result

    def _insert_streamed(self, file, encoding, digest, stored, source, source_kind, search_date, who, force,
                         progress, warnings) -> "ImportResult":
        with store.write_transaction(self.engine) as conn:
            if not force:
                earlier = self._import_with_sha(digest, conn)
                if earlier is not None:
                    return self._already_imported(file, earlier)
            # The import row is written last, once its record count is known (imports
            # is append-only: no row is ever updated), so the records' foreign key
            # is checked at commit. The write lock is held: the next id is ours.
            conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
            import_id = (conn.execute(select(func.max(store.imports.c.id))).scalar() or 0) + 1
            count = 0
            with open(file, encoding=encoding, newline=None) as text, without_gc(), \
                    tqdm(desc=f"import {file.name}", unit="rec", disable=not progress) as bar:
                lines = (line[:-1] if line.endswith("\n") else line for line in text)
                batch = []
                for ref in ris_reader.iter_read(lines, str(file), warnings):
                    count += 1
                    batch.append(_record_row(import_id, count, ref))
                    if len(batch) == INSERT_CHUNK:
                        conn.execute(insert(store.records), batch)
                        bar.update(len(batch))
                        batch = []
                if batch:
                    conn.execute(insert(store.records), batch)
                    bar.update(len(batch))
            conn.execute(insert(store.imports).values(
                id=import_id, file_name=file.name, sha256=digest, format="ris", encoding=encoding,
                source_name=source.strip(), source_kind=source_kind, search_date=search_date, record_count=count,
                stored_path=stored, imported_by=who, imported_at=store.utc_now(),
            ))
            events.append(conn, who, events.ImportDone(
                import_id=import_id, file=file.name, sha256=digest, format="ris", source=source.strip(),
                source_kind=source_kind, search_date=search_date, records=count, forced=force))
        return ImportResult(str(file), import_id, count, "ris", encoding)

    def _insert_import(self, file, parsed, digest, stored, source, source_kind, search_date, who, force,
                       progress, data: bytes = b"") -> "ImportResult":
        with store.write_transaction(self.engine) as conn:
            # Two processes importing the same file at once: one waits for the other.
            store.lock_for_writers(conn, "review.import")
            if self.team_mode:
                # In the same transaction as the records: a dropped connection leaves neither.
                from review import team_mode

                team_mode.keep_raw_file(conn, file.name, data, digest)
            if not force:
                # Checked again under the write lock: another process may have
                # imported the same file since the check above.
                earlier = self._import_with_sha(digest, conn)
                if earlier is not None:
                    return self._already_imported(file, earlier)
            import_id = conn.execute(
                insert(store.imports).values(
                    file_name=file.name,
                    sha256=digest,
                    format=parsed.format,
                    encoding=parsed.encoding,
                    source_name=source.strip(),
                    source_kind=source_kind,
                    search_date=search_date,
                    record_count=len(parsed.references),
                    stored_path=stored,
                    imported_by=who,
                    imported_at=store.utc_now(),
                )
            ).inserted_primary_key[0]
            rows = [_record_row(import_id, i, ref) for i, ref in enumerate(parsed.references, start=1)]
            with tqdm(total=len(rows), desc=f"import {file.name}", unit="rec", disable=not progress) as bar:
                for start in range(0, len(rows), INSERT_CHUNK):
                    chunk = rows[start : start + INSERT_CHUNK]
                    conn.execute(insert(store.records), chunk)
                    bar.update(len(chunk))
            events.append(conn, who, events.ImportDone(
                import_id=import_id, file=file.name, sha256=digest, format=parsed.format, source=source.strip(),
                source_kind=source_kind, search_date=search_date, records=len(rows), forced=force))
        return ImportResult(str(file), import_id, len(rows), parsed.format, parsed.encoding)


    def _import_with_sha(self, digest: str, conn=None):
        query = select(store.imports.c.id, store.imports.c.file_name).where(store.imports.c.sha256 == digest)
        if conn is not None:
            return conn.execute(query).first()
        with store.read_connection(self.engine) as c:
            return c.execute(query).first()

    @staticmethod
    def _already_imported(file: Path, earlier) -> ImportResult:
        return ImportResult(
            str(file), earlier.id, 0, "", "", skipped=True,
            message=f"{file}: already imported as import {earlier.id} ({earlier.file_name}); "
                    f"nothing done (use --force to import it again)",
        )

    def _stage_original(self, file: Path, data: bytes | None, digest: str) -> tuple[str, Path | None]:
        """Write the raw export under a private name; returns (stored path, private file or None).

        The stored name is by content, so a copy is idempotent: when it exists
        already, nothing is written. A full disk is said plainly.
        """
        folder = self.path / IMPORTS_DIR
        folder.mkdir(exist_ok=True)
        target = folder / f"{digest[:16]}{file.suffix.lower()}"
        stored = str(target.relative_to(self.path))
        if target.exists():
            return stored, None
        pending = folder / f".{target.name}.{os.getpid()}{PENDING_SUFFIX}"
        try:
            with open(pending, "wb") as out:
                if data is None:  # a large file: copied in blocks, never held whole
                    with open(file, "rb") as source:
                        shutil.copyfileobj(source, out, 1 << 20)
                else:
                    out.write(data)
                out.flush()
                os.fsync(out.fileno())
        except OSError as exc:
            _discard(pending)
            if exc.errno == errno.ENOSPC:
                raise ReviewError(f"{file}: nothing imported: disk full (no room for the copy in "
                                  f"{folder}); free some space and import again") from None
            raise ReviewError(f"{file}: nothing imported: cannot keep a copy in {folder}: {exc.strerror}") from None
        return stored, pending

    def _remove_stale_copies(self) -> None:
        """Remove private copies left by imports that were killed before they committed."""
        folder = self.path / IMPORTS_DIR
        if not folder.is_dir():
            return
        for leftover in folder.glob(f".*{PENDING_SUFFIX}"):
            name, pid = leftover.name[1 : -len(PENDING_SUFFIX)].rsplit(".", 1)
            if pid.isdigit() and _alive(int(pid)):
                continue  # an import in progress in another process
            target = folder / name
            if not target.exists() and self._stored_path_known(str(target.relative_to(self.path))):
                os.replace(leftover, target)  # killed between commit and rename: finish the job
            else:
                _discard(leftover)
        for leftover in folder.glob("*.partial"):  # what earlier versions could leave
            _discard(leftover)

    def _stored_path_known(self, stored: str) -> bool:
        with store.read_connection(self.engine) as conn:
            query = select(store.imports.c.id).where(store.imports.c.stored_path == stored).limit(1)
            return conn.execute(query).first() is not None

    def raw_file(self, import_id: int) -> bytes:
        """The search export of an import exactly as it came (from imports/, or the database in team mode)."""
        with store.read_connection(self.engine) as conn:
            row = conn.execute(select(store.imports.c.sha256, store.imports.c.stored_path, store.imports.c.file_name)
                               .where(store.imports.c.id == import_id)).first()
        if row is None:
            raise ReviewError(f"no import {import_id}")
        if self.team_mode:
            from review import team_mode

            data = team_mode.raw_file(self.engine, row.sha256)
            if data is None:
                raise ReviewError(f"import {import_id} ({row.file_name}): its raw file is not in the database")
            return bytes(data)
        try:
            return (self.path / row.stored_path).read_bytes()
        except (OSError, TypeError):
            raise ReviewError(f"import {import_id} ({row.file_name}): its raw file is missing from "
                              f"{self.path / IMPORTS_DIR}") from None

    # --- reading ---------------------------------------------------------------

    def status(self) -> Status:
        with store.read_connection(self.engine) as conn:
            rows = conn.execute(select(store.imports).order_by(store.imports.c.id)).all()
            total = conn.execute(select(func.count()).select_from(store.records)).scalar_one()
            version = store.current_version(conn)
        summaries = [
            ImportSummary(r.id, r.file_name, r.source_name, r.format, r.encoding, r.search_date,
                          r.record_count, r.imported_by, r.imported_at, r.sha256, r.source_kind)
            for r in rows
        ]
        per_source: dict[str, int] = {}
        for s in summaries:
            per_source[s.source_name] = per_source.get(s.source_name, 0) + s.records
        return Status(self.protocol.title, str(self.path), version, total, summaries, per_source,
                      self.read_model().warnings)

    def imports_frame(self) -> pd.DataFrame:
        """One row per import: what a reviewer checks after loading the searches."""
        status = self.status()
        frame = pd.DataFrame(
            [
                {"import": s.import_id, "file": s.file_name, "source": s.source_name, "kind": s.source_kind,
                 "format": s.format, "search date": s.search_date or "", "records": s.records}
                for s in status.imports
            ],
            columns=["import", "file", "source", "kind", "format", "search date", "records"],
        )
        return frame.set_index("import")

    def records_frame(self, original: bool = False) -> pd.DataFrame:
        """Every imported record, one row each, with its provenance and cluster.

        The table is read once per import (kept by the read model); each call gets its own copy.
        """
        clusters = self.cluster_ids()
        if original:
            frame = self._read_records(original=True)
        else:
            model = self.read_model()
            frame = model.memo("records_frame", model.records_version, self._read_records).copy()
        if frame.empty:
            return pd.DataFrame(columns=["record_id", "import_file", "source", "source_id", "cluster_id", "title"])
        frame["cluster_id"] = frame["record_id"].map(lambda rid: clusters.get(rid, rid))
        return frame

    def _read_records(self, original: bool = False) -> pd.DataFrame:
        with store.read_connection(self.engine) as conn:
            query = (
                select(store.records, store.imports.c.file_name, store.imports.c.source_name)
                .join(store.imports, store.records.c.import_id == store.imports.c.id)
                .order_by(store.records.c.id)
            )
            rows = conn.execute(query).mappings().all()
        frame = pd.DataFrame([dict(r) for r in rows])
        if frame.empty:
            return frame
        frame = frame.rename(columns={"id": "record_id", "file_name": "import_file", "source_name": "source"})
        for spec in RECORD_FIELDS:
            if spec.kind == "list" or (spec.kind == "json" and original):
                frame[spec.name] = frame[spec.name].map(json.loads)
            elif spec.kind == "json":
                frame = frame.drop(columns=[spec.name])
        return frame

    def references(self) -> list[tuple[dict, Reference]]:
        """(provenance, Reference) per stored record, in import order."""
        out = []
        for row in self.records_frame().to_dict("records"):
            values = {}
            for spec in RECORD_FIELDS:
                if spec.kind == "json":
                    continue  # the file's own fields: records_frame(original=True) has them
                value = row[spec.name]
                if spec.kind == "list":
                    value = list(value)
                elif spec.kind == "year":
                    value = None if pd.isna(value) else int(value)
                values[spec.name] = value
            provenance = {"record_id": int(row["record_id"]), "import_file": row["import_file"],
                          "source_id": row["source_id"], "cluster_id": int(row["cluster_id"])}
            out.append((provenance, Reference(**values)))
        return out

    def cluster_ids(self) -> dict[int, int]:
        """record id -> cluster id; every record is its own cluster until deduplication joins it."""
        return dict(self.read_model().clusters())

    # --- deduplication -----------------------------------------------------------

    def dedupe(self, who: str | None = None, progress: bool = True):
        """Run deduplication (exact identifiers, then blocking and fuzzy matching)."""
        return clusters.run(self, who or default_actor(), progress=progress)

    def dedup_summary(self):
        return clusters.summary(self)

    # --- exporting -------------------------------------------------------------

    def export(self, format: str, out: str | os.PathLike | None = None, stage: str | None = None,
               decision: str | None = None) -> str:
        """Write records as RIS, BibTeX or CSV; returns the text (and writes `out` if given).

        With `stage` (and optionally `decision`: include, exclude, conflict or pending), only the
        deduplicated records with that outcome at that stage, each with its decision and reasons
        (CSV columns; a note in RIS and BibTeX). Reasons stay codes, as in every export.
        """
        if format not in readers.WRITERS:
            raise ReviewError(f"cannot export as {format!r}; choose one of {', '.join(readers.WRITERS)}")
        pairs = self.references()
        if stage is not None or decision is not None:
            pairs = _outcome_subset(self, pairs, stage, decision)
        refs = [ref for _, ref in pairs]
        writer = readers.WRITERS[format]
        if format == "csv":
            text = writer.write(refs, extra=[prov for prov, _ in pairs])
        else:
            text = writer.write(refs)
        if out is not None:
            Path(out).write_text(text, encoding="utf-8", newline="")
        return text


OUTCOMES = ("include", "exclude", "conflict", "pending")


def _outcome_subset(review: Review, pairs, stage, decision):
    """The representative record of each cluster with `decision` at `stage`, its outcome attached."""
    from review import screening

    if stage is None:
        raise ReviewError("--decision needs --stage (which screening stage's decision?)")
    stages = [s.name for s in review.protocol.stages]
    if stage not in stages:
        raise ReviewError(f"no stage {stage!r} in the protocol (stages: {', '.join(stages)})")
    if decision is not None and decision not in OUTCOMES:
        raise ReviewError(f"--decision must be one of {', '.join(OUTCOMES)}, not {decision!r}")
    state = screening.ScreeningState.load(review)
    pool = set(state.screenable(stage))
    out = []
    for provenance, ref in pairs:
        cluster = provenance["cluster_id"]
        if provenance["record_id"] != cluster or cluster not in pool:
            continue  # one row per deduplicated record, and only those the stage screens
        outcome = state.outcome(stage, cluster) or "pending"
        if decision is not None and outcome != decision:
            continue
        reasons = state.final_reasons(stage, cluster) if outcome == "exclude" else ()
        provenance = {**provenance, "stage": stage, "decision": outcome, "reasons": "; ".join(reasons)}
        ref = dataclasses.replace(ref, notes=[*ref.notes, f"{stage}: {outcome}"
                                              + (f" ({'; '.join(reasons)})" if reasons else "")])
        out.append((provenance, ref))
    return out


_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def check_search_date(text: str | None) -> str | None:
    """A search date as YYYY-MM-DD, or partial (YYYY-MM, YYYY); anything else is refused."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    match = _DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) if g else None for g in match.groups())
        try:
            datetime.date(year, month or 1, day or 1)
            if year >= 1900:
                return text
        except ValueError:
            pass
    raise ReviewError(f"search date {text!r} is not a real date: use YYYY-MM-DD, or YYYY-MM or YYYY when "
                      "only part is known (e.g. 2013-02)")


def _record_row(import_id: int, position: int, ref: Reference) -> dict:
    """The `records` row of one Reference: every field of RECORD_FIELDS, then the match keys."""
    keys = match_keys(ref)
    row = {"import_id": import_id, "position": position}
    for spec in RECORD_FIELDS:
        value = getattr(ref, spec.name)
        if spec.kind in ("list", "json"):
            value = json.dumps(value, ensure_ascii=False)
        elif spec.kind == "text":
            value = value or ""
        row[spec.name] = value
    # What a file may leave out, and the year as matching reads it ("2014 Mar" -> 2014).
    row["source_id"] = ref.source_id or str(position)
    row["type"] = ref.type or "other"
    row["year"] = keys.year
    row.update({f"norm_{name}": value for name, value in asdict(keys).items()})
    return row


PENDING_SUFFIX = ".pending"
# RIS files this large are imported as a stream (see Review.import_file).
STREAM_BYTES = 64 * 2**20
_SCAN_BLOCK = 1 << 20


def _scan(file: Path) -> tuple[str, str, str] | None:
    """(sha256, Python encoding, decoded head) of a file read in blocks; None unless
    it is UTF-8 without NUL bytes (other files take the in-memory path)."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    head_bytes = b""
    with open(file, "rb") as f:
        for block in iter(lambda: f.read(_SCAN_BLOCK), b""):
            if not head_bytes:
                head_bytes = block[:65536]
            digest.update(block)
            if b"\x00" in block:
                return None
            try:
                decoder.decode(block)
            except UnicodeDecodeError:
                return None
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return None
    encoding = "utf-8-sig" if head_bytes.startswith(codecs.BOM_UTF8) else "utf-8"
    head = head_bytes.decode("utf-8", errors="ignore").lstrip("\ufeff")
    return digest.hexdigest(), encoding, head


def _discard(path: Path | None) -> None:
    if path is not None:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def database_problem(exc: OperationalError, db: Path) -> str:
    """A database error in words a reviewer can act on (no SQL, no traceback)."""
    text = str(getattr(exc, "orig", exc)).lower()
    if "full" in text:
        return f"disk full: {db} could not grow; free some space and try again (nothing was changed)"
    if "readonly" in text or "read-only" in text:
        return f"{db} is read-only; nothing was changed"
    if "locked" in text or "busy" in text:
        return f"{db} is busy: another process held it too long; try again"
    if "unable to open" in text:
        return f"cannot open {db} (missing, or its folder is not writable for the -wal/-shm files)"
    return f"database error on {db}: {getattr(exc, 'orig', exc)}"
