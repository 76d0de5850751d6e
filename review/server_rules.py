"""The rules a PostgreSQL server enforces for a team (migration 5): identity, blinding.

SQL only, run by store's migration 5; review/team.py explains them and manages members.
Kept apart from team.py so the store can install them without importing team code.
"""

from __future__ import annotations

_SERVER_RULES = [
    # Who is this role in the team (NULL for the owner and anyone not added).
    """
    CREATE FUNCTION review_team_role(who text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      SELECT team_role FROM team_members WHERE role_name = who ORDER BY id DESC LIMIT 1
    $$
    """,
    # How many reviewers must decide a record at a stage: the protocol stored in the database.
    """
    CREATE FUNCTION review_required(stage_name text) RETURNS integer
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
      SELECT COALESCE((
        SELECT (s->>'decisions_required')::integer
        FROM jsonb_array_elements(
               (SELECT data::jsonb FROM protocol_versions ORDER BY id DESC LIMIT 1)->'stages') AS s
        WHERE s->>'name' = stage_name LIMIT 1), 2)
    $$
    """,
    # Identity: the server, not the client, says who acted.
    """
    CREATE FUNCTION review_set_actor() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      named text;
    BEGIN
      IF review_team_role(session_user::text) IS NULL THEN
        RETURN NEW;
      END IF;
      IF TG_TABLE_NAME = 'imports' THEN
        NEW.imported_by := session_user;
        RETURN NEW;
      END IF;
      NEW.actor := session_user;
      IF NEW.kind IN ('screen.decision', 'screen.undo') THEN
        named := NEW.payload::jsonb->>'reviewer';
        IF named IS NOT NULL AND named <> session_user::text THEN
          RAISE EXCEPTION 'role % cannot record a screening decision as reviewer %', session_user, named
            USING ERRCODE = 'insufficient_privilege';
        END IF;
      END IF;
      -- An undo names the decision it withdraws: only one's own.
      IF NEW.kind = 'screen.undo' AND NOT EXISTS (
          SELECT 1 FROM events WHERE id = (NEW.payload::jsonb->>'undoes')::bigint AND actor = session_user::text) THEN
        RAISE EXCEPTION 'role % can only undo its own screening decisions', session_user
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      RETURN NEW;
    END $$
    """,
    # Named to run before any other BEFORE INSERT trigger (PostgreSQL fires them by name),
    # so what later triggers see (e.g. a hash of the row) already has the server's actor.
    "CREATE TRIGGER events_00_actor BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION review_set_actor()",
    "CREATE TRIGGER imports_00_actor BEFORE INSERT ON imports FOR EACH ROW EXECUTE FUNCTION review_set_actor()",
    # Blinding: may the connected role read this event?
    """
    CREATE FUNCTION review_event_visible(e_kind text, e_entity_id text, e_actor text, e_payload text)
    RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DECLARE
      member_role text;
      stage_name text;
    BEGIN
      IF e_kind NOT IN ('screen.decision', 'screen.undo') OR e_actor = session_user::text THEN
        RETURN true;
      END IF;
      member_role := review_team_role(session_user::text);
      IF member_role IS NULL OR member_role IN ('resolver', 'lead') THEN
        RETURN true;
      END IF;
      stage_name := e_payload::jsonb->>'stage';
      RETURN (SELECT count(DISTINCT actor) FROM events
              WHERE entity = 'record' AND entity_id = e_entity_id AND kind = 'screen.decision'
                AND payload::jsonb->>'stage' = stage_name) >= review_required(stage_name);
    END $$
    """,
    "ALTER TABLE events ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY events_insert ON events FOR INSERT WITH CHECK (true)",
    "CREATE POLICY events_read ON events FOR SELECT "
    "USING (review_event_visible(kind, entity_id, actor, payload))",
]


def install(conn) -> None:
    """Functions, triggers and policies of team mode (PostgreSQL; migration 5)."""
    for statement in _SERVER_RULES:
        # psycopg would read the '%' of RAISE as a placeholder.
        conn.exec_driver_sql(statement.replace("%", "%%"))
