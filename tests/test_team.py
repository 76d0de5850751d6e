"""Team mode on a real PostgreSQL server: init, bad input, push/clone/pull, and the rules
the server enforces, each tried by a role that should not get through."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError, ProgrammingError

from review import screening, store, team, transfer
from review.cli import main
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage
from review.team_mode import ServerError

REPO = Path(__file__).resolve().parents[1]
RIS = REPO / "references" / "mason2014_reference_list.ris"
BIB = REPO / "tests" / "fixtures" / "mason2014_references.bib"


def protocol() -> Protocol:
    return Protocol(
        title="Team review",
        stages=[Stage("title_abstract", reviewers=["am", "mg"], decisions_required=2),
                Stage("full_text", reviewers=["am", "mg"], decisions_required=2, resolution="third_reviewer",
                      resolver="hw")],
        reviewers=[Reviewer("am"), Reviewer("mg"), Reviewer("hw")],
    )


def as_role(url: str, role: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://{role}@", 1)


@pytest.fixture
def team_review(pg_server, tmp_path):
    """A review on the server with three members: am and mg screen, hw resolves."""
    url = pg_server.create_database()
    review = Review.init(tmp_path / "lead", protocol=protocol(), database_url=url)
    review.import_file(RIS, source="MEDLINE")
    for name, role in (("am", "screener"), ("mg", "screener"), ("hw", "resolver")):
        team.add_reviewer(review.engine, name, role)
    yield review, url
    review.close()


def _open_as(review: Review, url: str, role: str) -> Review:
    return Review.open(review.path, database_url=as_role(url, role))


# --- a review on a server ------------------------------------------------------------


def test_init_on_server_keeps_protocol_and_raw_files_in_the_database(pg_server, tmp_path, capsys):
    url = pg_server.create_database()
    assert main(["init", str(tmp_path / "r"), "--title", "On a server", "--database", url]) == 0
    text = (tmp_path / "r" / "review.yaml").read_text()
    assert f"url: {url}" in text
    assert main(["import", str(tmp_path / "r"), str(RIS), "--source", "MEDLINE", "--quiet"]) == 0
    assert not (tmp_path / "r" / "imports").exists()  # the raw file is in the database
    with Review.open(tmp_path / "r") as review:
        assert review.team_mode and review.protocol.title == "On a server"
        with store.read_connection(review.engine) as conn:
            stored = conn.execute(select(store.import_files)).one()
            kept = conn.execute(select(store.protocol_versions.c.text)).scalar_one()
        assert bytes(stored.data) == RIS.read_bytes() and stored.file_name == RIS.name
        assert review.raw_file(1) == RIS.read_bytes()
        assert "On a server" in kept and "url:" not in kept
        assert review.status().records > 0
    # A teammate's folder with an older protocol still works to the one in the database.
    (tmp_path / "r" / "review.yaml").write_text(f"title: Stale copy\ndatabase:\n  url: {url}\n")
    with Review.open(tmp_path / "r") as review:
        assert review.protocol.title == "On a server"


def test_init_from_a_protocol_naming_the_server(pg_server, tmp_path, capsys):
    url = pg_server.create_database()
    (tmp_path / "start.yaml").write_text(f"title: From a file\ndatabase:\n  url: {url}\n")
    assert main(["init", str(tmp_path / "r"), "--protocol", str(tmp_path / "start.yaml")]) == 0
    with Review.open(tmp_path / "r") as review:
        assert review.team_mode and review.protocol.title == "From a file"
    # The same file again: that database already holds a review.
    assert main(["init", str(tmp_path / "again"), "--protocol", str(tmp_path / "start.yaml")]) == 1
    assert "already holds a review" in capsys.readouterr().err and not (tmp_path / "again").exists()


@pytest.mark.parametrize("case", ["password in URL", "not a URL", "server down", "no such database",
                                  "bad password", "other schema", "newer schema", "already a review"])
def test_bad_server_input_is_named_and_writes_nothing(pg_server, tmp_path, capsys, monkeypatch, case):
    target = tmp_path / "new"
    url = pg_server.create_database()
    expect = {"password in URL": "holds a password", "not a URL": "not a", "server down": "not reachable",
              "no such database": "does not exist", "bad password": "password authentication failed",
              "other schema": "other tables", "newer schema": "newer", "already a review": "already holds"}[case]
    if case == "password in URL":
        url = url.replace("postgres@", "postgres:secret@")
    elif case == "not a URL":
        url = "postgresql://host:notaport/db"
    elif case == "server down":
        from pg import free_port

        url = f"postgresql://postgres@127.0.0.1:{free_port()}/review"
    elif case == "no such database":
        url = pg_server.url("no_such_db")
    elif case == "bad password":
        with pg_server.admin() as conn:
            conn.execute("DROP ROLE IF EXISTS pw_reviewer")
            conn.execute("CREATE ROLE pw_reviewer LOGIN PASSWORD 'right'")
        monkeypatch.setenv("PGPASSWORD", "wrong")
        url = as_role(url, "pw_reviewer")
    elif case == "other schema":
        with psycopg.connect(url.replace("postgresql://", "postgresql://", 1), autocommit=True) as conn:
            conn.execute("CREATE TABLE invoices (id integer)")
    elif case == "newer schema":
        engine = store.connect(url)
        store.migrate(engine)
        with store.write_transaction(engine) as conn:
            conn.execute(store.schema_migrations.insert().values(version=999, name="future", applied_at="x"))
        engine.dispose()
    elif case == "already a review":
        Review.init(tmp_path / "first", title="First", database_url=url).close()
    before = _server_rows(url) if case in ("other schema", "newer schema", "already a review") else None
    assert main(["init", str(target), "--title", "T", "--database", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and expect in err and "Traceback" not in err
    if case in ("server down", "no such database", "bad password", "other schema", "newer schema"):
        assert url.split("@")[-1].split("/")[0] in err  # names the server
    assert "secret" not in err
    assert not target.exists()
    if before is not None:
        assert _server_rows(url) == before


def _server_rows(url: str) -> dict:
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}


def test_a_connection_dropped_half_way_through_an_import_leaves_the_server_as_it_was(team_review, pg_server,
                                                                                      monkeypatch, capsys):
    review, url = team_review
    before = _server_rows(url)
    original = store.append_event

    def drop_then_append(conn, *args, **kwargs):
        # Every record row has been sent; now the server loses this connection.
        pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with pg_server.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        return original(conn, *args, **kwargs)

    monkeypatch.setattr(store, "append_event", drop_then_append)
    assert main(["import", str(review.path), str(BIB), "--source", "Embase", "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "error: database:" in err and "nothing was written" in err and "Traceback" not in err
    monkeypatch.setattr(store, "append_event", original)
    assert _server_rows(url) == before


# --- moving a review -----------------------------------------------------------------


def _local_review(path: Path) -> Review:
    review = Review.init(path, protocol=protocol())
    review.import_file(RIS, source="MEDLINE")
    review.import_file(BIB, source="Embase")
    review.dedupe(who="am", progress=False)
    for reviewer in ("am", "mg"):
        for record in (1, 2, 3):
            screening.decide(review, "title_abstract", reviewer, record, "include" if record < 3 else "exclude")
    return review


def _status_json(capsys, folder) -> dict:
    assert main(["status", str(folder), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    status.pop("path")
    status.get("pipeline", {}).pop("path", None)  # the folder differs by design; everything else must not
    return status


def test_push_clone_pull_round_trip_keeps_every_count_and_the_log(pg_server, tmp_path, capsys):
    local = _local_review(tmp_path / "local")
    with store.read_connection(local.engine) as conn:
        counts, checksum = transfer.table_counts(conn), transfer.log_checksum(conn)
    local_screening = screening.status_frame(local).to_dict()
    local.close()
    original = _status_json(capsys, tmp_path / "local")

    url = pg_server.create_database()
    assert main(["push", str(tmp_path / "local"), url]) == 0
    assert "log sha256" in capsys.readouterr().out
    assert main(["clone", url, str(tmp_path / "clone")]) == 0
    capsys.readouterr()
    assert _status_json(capsys, tmp_path / "clone") == original
    with Review.open(tmp_path / "clone") as clone:
        assert clone.team_mode and clone.protocol.title == "Team review"
        assert clone.raw_file(2) == BIB.read_bytes()
        assert screening.status_frame(clone).to_dict() == local_screening
        with store.read_connection(clone.engine) as conn:
            assert transfer.table_counts(conn) == counts and transfer.log_checksum(conn) == checksum
        # New events continue after the copied ids.
        screening.decide(clone, "title_abstract", "am", 4, "exclude")
    clone_now = _status_json(capsys, tmp_path / "clone")
    assert clone_now != original  # the status sees the new decision

    assert main(["pull", str(tmp_path / "clone"), str(tmp_path / "back")]) == 0
    capsys.readouterr()
    back = _status_json(capsys, tmp_path / "back")
    assert back == clone_now
    with Review.open(tmp_path / "back") as pulled:
        assert not pulled.team_mode and "database" not in (tmp_path / "back" / "review.yaml").read_text()
        with store.read_connection(pulled.engine) as conn:
            assert transfer.table_counts(conn)["events"] == counts["events"] + 1
        assert [pulled.raw_file(i.import_id) for i in pulled.status().imports] == [RIS.read_bytes(),
                                                                                    BIB.read_bytes()]


def test_push_refuses_a_database_in_use_and_a_failed_push_leaves_the_target_empty(pg_server, tmp_path, capsys):
    local = _local_review(tmp_path / "local")
    local.close()
    busy = pg_server.create_database()
    Review.init(tmp_path / "other", title="Other", database_url=busy).close()
    before = _server_rows(busy)
    assert main(["push", str(tmp_path / "local"), busy]) == 1
    assert "is not empty" in capsys.readouterr().err
    assert _server_rows(busy) == before

    # A raw file gone missing half way through: nothing of the copy stays on the server.
    for kept in (tmp_path / "local" / "imports").iterdir():
        if kept.suffix == ".bib":
            kept.unlink()
    empty = pg_server.create_database()
    assert main(["push", str(tmp_path / "local"), empty]) == 1
    err = capsys.readouterr().err
    assert "cannot read the raw file" in err and "nothing was copied" in err
    rows = _server_rows(empty)
    assert all(n == 0 for t, n in rows.items() if t != "schema_migrations")

    assert main(["pull", empty, str(tmp_path / "nothing")]) == 1
    assert "holds no review" in capsys.readouterr().err
    assert not (tmp_path / "nothing").exists()


# --- identity, blinding and the append-only log, enforced by the server ---------------


def test_the_actor_is_the_connected_role_whatever_the_client_says(team_review):
    review, url = team_review
    with _open_as(review, url, "am") as am:
        with store.write_transaction(am.engine) as conn:
            event_id = store.append_event(conn, "mg", "note", {"text": "I am mg, honest"})
        with pytest.raises(DBAPIError, match="cannot record a screening decision as reviewer mg"):
            screening.decide(am, "title_abstract", "mg", 1, "include")
        with _open_as(review, url, "mg") as mg:
            theirs = screening.decide(mg, "title_abstract", "mg", 2, "include")
        with pytest.raises(DBAPIError, match="can only undo its own"):
            with store.write_transaction(am.engine) as conn:
                store.append_event(conn, "am", screening.UNDO_EVENT,
                                   {"stage": "title_abstract", "reviewer": "am", "undoes": theirs.event_id},
                                   entity="record", entity_id=2)
        mine = screening.decide(am, "title_abstract", "am", 3, "include")
        assert screening.undo_last(am, "title_abstract", "am").event_id == mine.event_id
        am.import_file(BIB, source="Embase", who="hw")
    with store.read_connection(review.engine) as conn:
        assert conn.execute(select(store.events.c.actor).where(store.events.c.id == event_id)).scalar_one() == "am"
        assert conn.execute(select(store.imports.c.imported_by).order_by(store.imports.c.id.desc())).first()[0] == "am"
        decisions = store.read_events(conn, kind=screening.DECISION_EVENT)
    assert [(e.actor, e.payload["record_id"]) for e in decisions] == [("mg", 2), ("am", 3)]


def test_a_screener_cannot_read_another_decision_until_every_required_reviewer_decided(team_review):
    review, url = team_review
    with _open_as(review, url, "am") as am, _open_as(review, url, "mg") as mg, _open_as(review, url, "hw") as hw:
        screening.decide(am, "title_abstract", "am", 1, "include", note="looks relevant")

        def seen(who: Review) -> list:
            with store.read_connection(who.engine) as conn:
                return [(e.actor, e.entity_id) for e in store.read_events(conn, kind=screening.DECISION_EVENT)]

        assert seen(mg) == []  # blind, even reading the table directly
        assert seen(am) == [("am", "1")]
        assert seen(hw) == [("am", "1")]  # the resolver sees everything
        with mg.engine.connect() as conn:  # raw SQL gets no further
            assert conn.exec_driver_sql("SELECT count(*) FROM events WHERE kind = 'screen.decision'").scalar() == 0
        assert 1 in screening.queue(mg, "title_abstract", "mg")
        screening.decide(mg, "title_abstract", "mg", 1, "exclude")
        assert sorted(seen(mg)) == [("am", "1"), ("mg", "1")]  # both decided: the conflict is visible
        assert len(screening.conflicts(mg, "title_abstract")) == 1
        screening.decide(mg, "title_abstract", "mg", 2, "include")
        assert ("mg", "2") not in seen(am)
    # A screener's pull holds what the screener may read, and says so.
    report = transfer.pull(as_role(url, "am"), review.path.parent / "am-copy")
    assert "only the screening decisions" in str(report)
    with Review.open(review.path.parent / "am-copy") as copy, store.read_connection(copy.engine) as conn:
        assert {(e.actor, e.entity_id) for e in store.read_events(conn, kind=screening.DECISION_EVENT)} == {
            ("am", "1"), ("mg", "1")}


def test_nobody_updates_or_deletes_the_log(team_review):
    review, url = team_review
    with _open_as(review, url, "hw") as hw:
        for statement in (update(store.events).values(actor="x"), store.events.delete(),
                          update(store.records).values(title="x"), store.imports.delete()):
            with pytest.raises(ProgrammingError, match="permission denied"):
                with store.write_transaction(hw.engine) as conn:
                    conn.execute(statement)
        with pytest.raises(ProgrammingError, match="permission denied"):
            with store.write_transaction(hw.engine) as conn:
                conn.execute(store.team_members.insert().values(role_name="hw", team_role="lead",
                                                                added_by="hw", added_at="now"))
    # Not even the owner: the triggers refuse.
    for statement in (update(store.events).values(actor="x"), store.events.delete()):
        with pytest.raises(DBAPIError, match="append-only"):
            with store.write_transaction(review.engine) as conn:
                conn.execute(statement)


def test_only_the_owner_adds_reviewers(team_review, capsys):
    review, url = team_review
    with _open_as(review, url, "am") as am:
        with pytest.raises(team.TeamError, match="not allowed"):
            team.add_reviewer(am.engine, "mallory", "lead")
    assert main(["team", "add-reviewer", str(review.path), "rb", "--role", "lead"]) == 0
    capsys.readouterr()
    assert main(["team", "list", str(review.path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {m["role_name"]: m["team_role"] for m in listed} == {"am": "screener", "mg": "screener",
                                                                "hw": "resolver", "rb": "lead"}
    with pytest.raises(SystemExit):
        main(["team", "add-reviewer", str(review.path), "x", "--role", "boss"])


def test_team_commands_need_a_server(new_review, capsys):
    assert main(["team", "add-reviewer", str(new_review.path), "am"]) == 1
    assert "PostgreSQL server" in capsys.readouterr().err


def test_the_worked_example_runs_through_its_report_on_a_server_and_matches_sqlite(pg_server, tmp_path,
                                                                                  monkeypatch):
    """Every step the notebooks take (import, dedupe, screening, extraction, synthesis, PRISMA,
    report), unchanged, against PostgreSQL: the same PRISMA counts as on SQLite."""
    from review import prisma
    from review.example import build_example

    on_sqlite = build_example(tmp_path / "sqlite", quiet=True)
    original = Review.init.__func__
    monkeypatch.setattr(Review, "init", classmethod(
        lambda cls, path, *a, database_url=None, **k:
        original(cls, path, *a, database_url=database_url or pg_server.create_database(), **k)))
    on_server = build_example(tmp_path / "server", quiet=True)
    try:
        assert on_server.team_mode
        assert prisma.counts_json(on_server) == prisma.counts_json(on_sqlite)
        assert (tmp_path / "server" / "report" / "index.html").exists()
    finally:
        on_server.close()
        on_sqlite.close()


def test_a_screeners_open_session_sees_the_other_decision_once_it_may(team_review, monkeypatch):
    """The read model waits GAP_SECONDS for ids it has not seen; for a screener, hidden decisions
    are such ids for as long as the record is undecided, so they must be asked for until they show."""
    from review import readmodel

    review, url = team_review
    monkeypatch.setattr(readmodel, "GAP_SECONDS", 0.0)  # as if the other reviewer took a long time
    with _open_as(review, url, "am") as am, _open_as(review, url, "mg") as mg:
        screening.decide(am, "title_abstract", "am", 1, "include")
        screening.decide(mg, "title_abstract", "mg", 2, "include")  # mg's session has read past am's event
        assert len(screening.conflicts(mg, "title_abstract")) == 0
        screening.decide(mg, "title_abstract", "mg", 1, "exclude")
        assert len(screening.conflicts(mg, "title_abstract")) == 1
