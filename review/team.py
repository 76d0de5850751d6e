"""Team mode: one review on a PostgreSQL server, each reviewer their own role.

What the server enforces (installed by migration 5 from review/server_rules.py):

  - identity: for a member, the actor of every event and the `imported_by` of every
    import is the connected role (`session_user`), whatever the client sent; a
    screening decision or undo naming another reviewer, or an undo of another
    reviewer's decision, is refused;
  - blinding: a screener cannot read another reviewer's screening decisions on a
    record until every required reviewer has decided it at that stage (row-level
    security on `events`, through a security-definer function); resolvers and
    leads read everything;
  - the log is append-only: members hold SELECT and INSERT only, and triggers
    refuse UPDATE and DELETE for everyone, the owner included.

What it does not enforce: which records a reviewer chooses to screen; who records a
resolution (a consensus is recorded by one of the screeners); or that the
owner (who created the database and runs migrations, push and add-reviewer) plays
fair: the owner is trusted, as the administrator of any server is.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, insert, select

from review import events, store
from review.errors import WorkbenchError

TEAM_ROLES = ("screener", "resolver", "lead")
# Tables members write to (append only); every other table they may only read.
MEMBER_INSERT_TABLES = ("imports", "records", "events", "dedup_pairs", "import_files")
BLIND_KINDS = ("screen.decision", "screen.undo")


class TeamError(WorkbenchError, RuntimeError):
    pass


@dataclass(frozen=True)
class Member:
    role_name: str
    team_role: str
    added_by: str
    added_at: str


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- members ---------------------------------------------------------------------


def _require_postgresql(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        raise TeamError("team members need a review on a PostgreSQL server "
                        "(review push DIR postgresql://HOST/DB moves a review there)")


def add_reviewer(engine: Engine, role_name: str, team_role: str = "screener", who: str | None = None) -> Member:
    """Create (if needed) a login role for a reviewer, grant what a member may do, record the member.

    Run by the database owner (who needs CREATEROLE). The role gets no password here:
    the administrator sets one (ALTER ROLE ... PASSWORD) or uses the server's own
    authentication; review.yaml never holds one.
    """
    _require_postgresql(engine)
    if team_role not in TEAM_ROLES:
        raise TeamError(f"unknown team role {team_role!r} (one of {', '.join(TEAM_ROLES)})")
    if not role_name or not role_name.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise TeamError(f"reviewer name {role_name!r}: use letters, digits, '_', '-' or '.'")
    role = quote_ident(role_name)

    def run() -> Member:
        with store.write_transaction(engine) as conn:
            # Roles are the server's, not the database's: serialise their creation.
            store.lock_for_writers(conn, "review.team.roles")
            exists = conn.exec_driver_sql("SELECT 1 FROM pg_roles WHERE rolname = %(n)s", {"n": role_name}).first()
            if not exists:
                conn.exec_driver_sql(f"CREATE ROLE {role} LOGIN")
            database = quote_ident(conn.exec_driver_sql("SELECT current_database()").scalar_one())
            conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {database} TO {role}")
            conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA public TO {role}")
            conn.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
            conn.exec_driver_sql(f"GRANT INSERT ON {', '.join(MEMBER_INSERT_TABLES)} TO {role}")
            conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {role}")
            conn.exec_driver_sql(f"REVOKE UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA public FROM {role}")
            actor = who or conn.exec_driver_sql("SELECT session_user").scalar_one()
            member = Member(role_name, team_role, actor, store.utc_now())
            conn.execute(insert(store.team_members).values(
                role_name=member.role_name, team_role=member.team_role, added_by=member.added_by,
                added_at=member.added_at))
            events.append(conn, actor, events.TeamMember(role=role_name, team_role=team_role))
            return member

    try:
        return run()
    except Exception as exc:  # noqa: BLE001 - a privilege problem becomes a message
        if getattr(getattr(exc, "orig", None), "sqlstate", "") == "42501":
            raise TeamError(f"not allowed to add reviewer {role_name!r}: {exc.orig}; "
                            f"connect as the database owner with CREATEROLE") from None
        raise


def members(engine: Engine) -> list[Member]:
    """The current members, one per role (its latest team role)."""
    with store.read_connection(engine) as conn:
        rows = conn.execute(select(store.team_members).order_by(store.team_members.c.id)).all()
    latest = {r.role_name: Member(r.role_name, r.team_role, r.added_by, r.added_at) for r in rows}
    return sorted(latest.values(), key=lambda m: m.role_name)


def connected_role(engine: Engine) -> str | None:
    """The role this engine connects as on a server (None for SQLite)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT session_user").scalar_one()


def reads_filtered(engine: Engine) -> bool:
    """Whether the server hides some of the log from this connection (a screener's blinding).

    Hidden decisions become readable later, once the record is fully decided, under ids
    older than what the reader has already read: a read model must keep asking for them.
    """
    if engine.dialect.name != "postgresql":
        return False
    with engine.connect() as conn:
        return conn.exec_driver_sql("SELECT review_team_role(session_user::text)").scalar() == "screener"
