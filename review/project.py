"""A review is a folder: `review.yaml` (the protocol), `review.db` and `imports/`.

`Review` is the public Python API; the command line and the notebooks call it.
"""

from __future__ import annotations

import dataclasses
import datetime
import getpass
import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, func, insert, select
from tqdm.auto import tqdm

from review import clusters, events, store
from review import io as readers
from review import protocol as protocol_mod
from review.errors import WorkbenchError
from review.io.base import ParseError
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
        if (path / protocol_mod.PROTOCOL_FILE).exists():
            raise ReviewError(f"{path} already holds a review ({protocol_mod.PROTOCOL_FILE} exists)")
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
        # Validate the text we are about to write, so init can never leave a
        # protocol that open() would then reject.
        text = protocol_mod.dump(proto)
        protocol_mod.parse(text, str(path / protocol_mod.PROTOCOL_FILE))
        path.mkdir(parents=True, exist_ok=True)
        (path / IMPORTS_DIR).mkdir(exist_ok=True)
        (path / protocol_mod.PROTOCOL_FILE).write_text(text, encoding="utf-8")
        return cls.open(path, database_url)

    @classmethod
    def open(cls, path: str | os.PathLike, database_url: str | None = None) -> "Review":
        path = Path(path)
        if not path.is_dir():
            raise ReviewError(f"{path} is not a review folder (no such directory)")
        proto = protocol_mod.load(path / protocol_mod.PROTOCOL_FILE)
        url = database_url or os.environ.get("REVIEW_DATABASE_URL") or f"sqlite:///{(path / DB_FILE).resolve()}"
        engine = store.connect(url)
        store.migrate(engine)
        return cls(path, proto, engine)

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
        """
        file = Path(file)
        if not source or not source.strip():
            raise ReviewError("name the bibliographic database searched (--source), e.g. 'MEDLINE (Ovid)'")
        if source_kind not in SOURCE_KINDS:
            raise ReviewError(f"unknown kind of source {source_kind!r} (one of {', '.join(SOURCE_KINDS)})")
        search_date = check_search_date(search_date)
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
        stored = self._keep_original(file, data, digest)
        who = who or default_actor()

        with store.write_transaction(self.engine) as conn:
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

    def _keep_original(self, file: Path, data: bytes, digest: str) -> str:
        """Keep the raw export as it came, named by content so a copy is idempotent."""
        folder = self.path / IMPORTS_DIR
        folder.mkdir(exist_ok=True)
        target = folder / f"{digest[:16]}{file.suffix.lower()}"
        if not target.exists():
            partial = target.with_name(target.name + ".partial")
            partial.write_bytes(data)
            os.replace(partial, target)
        return str(target.relative_to(self.path))

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
