"""A review kept on a PostgreSQL server: connecting, the shared protocol, raw files.

review.yaml of a team member's folder holds `database: {url: postgresql://HOST/DB}`;
the password is never written there (libpq reads PGPASSWORD, ~/.pgpass or a service
file: `postgresql:///?service=NAME`). The protocol and the raw search exports live in
the database, so every member works to the same protocol and sees the same files.
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from review import protocol as protocol_mod
from review import store
from review.errors import WorkbenchError
from review.protocol import Protocol


class ServerError(WorkbenchError, RuntimeError):
    """The server cannot be used for this review; says which server and why."""


def where(url: str) -> str:
    """HOST:PORT/DB of a URL, for messages (never the password)."""
    try:
        parsed = make_url(store.driver_url(url))
    except (ArgumentError, ValueError):
        return repr(url)
    host = parsed.host or parsed.query.get("host") or "local socket"
    port = f":{parsed.port}" if parsed.port else ""
    service = parsed.query.get("service")
    if service and not parsed.host:
        return f"service {service!r}"
    return f"{host}{port}/{parsed.database or ''}"


def url_to_keep(url: str) -> str:
    """Check a server URL is fit to be written into review.yaml; returns it unchanged."""
    try:
        parsed = make_url(store.driver_url(url))
    except (ArgumentError, ValueError):
        raise ServerError(f"not a database URL: {url!r} (expected postgresql://HOST/DB)") from None
    if parsed.get_backend_name() != "postgresql":
        raise ServerError(f"not a PostgreSQL URL: {url!r} (expected postgresql://HOST/DB)")
    if parsed.password is not None:
        raise ServerError(
            f"the URL for {where(url)} holds a password, which would be written into review.yaml; "
            f"leave it out and give it in PGPASSWORD, ~/.pgpass or a service file")
    if not parsed.database and not parsed.query.get("service"):
        raise ServerError(f"the URL {url!r} names no database (postgresql://HOST/DB)")
    return url


def explain(url: str, exc: BaseException) -> str:
    """A one-line reason from a driver error, prefixed by the server it concerns."""
    orig = getattr(exc, "orig", exc)
    text = " ".join(str(orig).split()).split("(Background on this error")[0].strip()
    text = text.removeprefix("connection failed: ")
    if "password authentication failed" in text:
        reason = text[text.index("password authentication failed"):]
    elif "Connection refused" in text or "could not connect" in text or "timeout expired" in text:
        reason = f"the server is not reachable ({text})"
    elif "does not exist" in text:
        reason = text[text.rindex("FATAL:") + 7:] if "FATAL:" in text else text
    else:
        reason = text
    return f"cannot use the review database {where(url)}: {reason.strip()}"


def open_engine(url: str) -> Engine:
    """Connect to a server, check what the database holds and migrate it; clear errors otherwise."""
    try:
        engine = store.connect(url)
    except (ArgumentError, ValueError):
        raise ServerError(f"not a database URL: {url!r} (expected postgresql://HOST/DB)") from None
    except ImportError:
        raise ServerError("team mode needs the PostgreSQL driver: pip install 'review[team]'") from None
    try:
        store.migrate(engine)
    except store.SchemaError as exc:
        engine.dispose()
        raise ServerError(f"cannot use the review database {where(url)}: {exc}") from None
    except (OperationalError, DBAPIError) as exc:
        engine.dispose()
        raise ServerError(explain(url, exc)) from None
    return engine


def _stored_protocol(conn: Connection):
    return conn.execute(
        select(store.protocol_versions.c.text).order_by(store.protocol_versions.c.id.desc()).limit(1)
    ).scalar()


def save_protocol(conn: Connection, proto: Protocol, who: str) -> None:
    """Keep a version of the protocol in the database (without where the database is)."""
    kept = Protocol(**{**proto.__dict__, "database_url": ""})
    conn.execute(insert(store.protocol_versions).values(
        text=protocol_mod.dump(kept), data=json.dumps(kept.to_dict(), ensure_ascii=False, sort_keys=True),
        saved_by=who, saved_at=store.utc_now()))


def claim_empty(engine: Engine, proto: Protocol) -> None:
    """Start a new review in an empty server database: refuse one that already holds a review."""
    with store.write_transaction(engine) as conn:
        store.lock_for_writers(conn, "review.protocol")
        held = _stored_protocol(conn)
        records = conn.execute(select(func.count()).select_from(store.records)).scalar_one()
        events = conn.execute(select(func.count()).select_from(store.events)).scalar_one()
        if held is not None or records or events:
            title = protocol_mod.parse(held).title if held else "(no protocol)"
            raise ServerError(f"the database {where(proto.database_url)} already holds a review ({title!r}); "
                              f"use `review clone` to work on it")
        save_protocol(conn, proto, conn.exec_driver_sql("SELECT session_user").scalar_one())


def server_protocol(engine: Engine, local: Protocol) -> Protocol:
    """The protocol kept in the database (saving the local one if the database has none yet)."""
    with store.read_connection(engine) as conn:
        held = _stored_protocol(conn)
    if held is None:
        with store.write_transaction(engine) as conn:
            store.lock_for_writers(conn, "review.protocol")
            if _stored_protocol(conn) is None:
                save_protocol(conn, local, conn.exec_driver_sql("SELECT session_user").scalar_one())
        return local
    proto = protocol_mod.parse(held, f"protocol in {where(local.database_url or '')}")
    proto.database_url = local.database_url
    return proto


def keep_raw_file(conn: Connection, file_name: str, data: bytes, digest: str) -> None:
    """Store a search export's bytes once (by content) in the caller's transaction."""
    present = conn.execute(select(store.import_files.c.sha256).where(store.import_files.c.sha256 == digest)).first()
    if present is None:
        conn.execute(insert(store.import_files).values(sha256=digest, file_name=file_name, size=len(data),
                                                       data=data))


def raw_file(engine: Engine, digest: str) -> bytes | None:
    with store.read_connection(engine) as conn:
        return conn.execute(select(store.import_files.c.data).where(store.import_files.c.sha256 == digest)).scalar()
