"""The read model: one replay of the log, then only the new events; typed events in and out."""

import csv
import dataclasses
import json

import pytest
from sqlalchemy import insert

from review import clusters, events, schemes, screening, store
from review.errors import WorkbenchError
from review.project import Review
from review.readmodel import ReadModel
from review.screening import EXCLUDE, INCLUDE, ScreeningError

from test_screening import RIS, protocol


@pytest.fixture
def review(make_review):
    return make_review(protocol=protocol(), files=[RIS])


def _snapshot(state: screening.ScreeningState) -> dict:
    """What a ScreeningState says, as plain data (defaultdicts and empty entries left out)."""
    return {
        "decisions": {s: {c: dict(r) for c, r in d.items() if r} for s, d in state.decisions.items()},
        "history": {s: {r: list(h) for r, h in d.items() if h} for s, d in state.history.items()},
        "resolutions": {s: dict(d) for s, d in state.resolutions.items()},
        "full_texts": dict(state.full_texts), "not_retrieved": dict(state.not_retrieved),
        "removed": dict(state.removed), "clusters": dict(state.clusters), "order": list(state.cluster_order),
    }


def test_a_second_read_asks_only_for_new_events(review):
    for who in ("am", "mg"):
        for record in (1, 2, 3):
            screening.decide(review, "title_abstract", who, record, INCLUDE)
    screening.stage_status(review)
    model = review.read_model()
    read, queries = model.events_read, model.queries
    assert read == 7  # the import and six decisions, each read once
    screening.stage_status(review)
    review.records_frame()
    assert model.events_read == read  # nothing new: nothing replayed
    screening.decide(review, "full_text", "am", 1, INCLUDE)
    screening.stage_status(review)
    assert model.events_read == read + 1
    assert model.queries > queries  # one query per read, for the events after the last id


def test_incremental_state_equals_a_fresh_replay(review, tmp_path):
    """Undo, resolution, removal, full texts and a dedup decision applied one by one == replayed at once."""
    screening.stage_status(review)  # the model exists before the events below arrive
    for who, decision in (("am", INCLUDE), ("mg", EXCLUDE)):
        screening.decide(review, "title_abstract", who, 1, decision)
    screening.resolve(review, "title_abstract", 1, INCLUDE, who="am")
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 2, INCLUDE)
        screening.decide(review, "title_abstract", who, 4, EXCLUDE)
    screening.undo_last(review, "title_abstract", "mg")  # withdraws mg's exclusion of 4
    screening.mark_not_retrieved(review, 2, who="am", note="library")
    screening.remove_before_screening(review, [5, 6], reason="retracted", who="am")
    screening.restore_removed(review, [6], who="am")
    text = tmp_path / "ft.txt"
    text.write_text("full text")
    screening.attach_full_text(review, 1, str(text), who="am")
    incremental = _snapshot(screening.ScreeningState.load(review))
    assert incremental["decisions"]["title_abstract"][4] == {
        "am": incremental["decisions"]["title_abstract"][4]["am"]}
    again = Review.open(review.path)
    try:
        assert _snapshot(screening.ScreeningState.load(again)) == incremental
    finally:
        again.close()


def test_cluster_changes_remap_screening(review):
    screening.decide(review, "title_abstract", "am", 7, INCLUDE)
    assert screening.ScreeningState.current(review).reviewer_decision("title_abstract", 7, "am") is not None
    clusters.decide(review, 7, 8, "same", who="am")
    state = screening.ScreeningState.current(review)
    home = state.cluster_of(8)
    assert state.cluster_of(7) == home
    assert state.reviewer_decision("title_abstract", home, "am").record_id == 7


def test_load_gives_a_copy_current_the_shared_state(review):
    copy = screening.ScreeningState.load(review)
    copy.decisions["title_abstract"][1]["am"] = "scribble"
    assert screening.ScreeningState.current(review).reviewer_decision("title_abstract", 1, "am") is None
    shared = screening.ScreeningState.current(review)
    screening.decide(review, "title_abstract", "am", 1, INCLUDE)
    screening.ScreeningState.current(review)  # refreshes the model, and so what `shared` shows
    assert shared.reviewer_decision("title_abstract", 1, "am").decision == INCLUDE


def test_unknown_kinds_are_reported_not_skipped_in_silence(review):
    with store.write_transaction(review.engine) as conn:
        store.append_event(conn, "future", "codebook.code", {"code": "x"}, entity="record", entity_id=1)
        store.append_event(conn, "future", "codebook.code", {"code": "y"}, entity="record", entity_id=2)
        store.append_event(conn, "old", "screen.decision", {"stage": "title_abstract"})  # keys missing
    warnings = review.status().warnings
    assert any("2 event(s) of unknown kind 'codebook.code'" in w for w in warnings)
    assert any("screen.decision" in w and "'reviewer'" in w for w in warnings)
    assert screening.stage_status(review)[0].screened == 0  # the rest of the log still reads


def test_review_status_shows_the_warnings(review, capsys):
    from review.cli import main

    with store.write_transaction(review.engine) as conn:
        store.append_event(conn, "future", "stopping.rule", {})
    assert main(["status", str(review.path)]) == 0
    assert "unknown kind 'stopping.rule'" in capsys.readouterr().out


def test_a_bare_engine_still_reads(review):
    clusters.decide(review, 3, 9, "different", who="am")
    assert ReadModel(review.engine).refresh().manual_decisions() == {(3, 9): "different"}
    assert clusters.current_clusters(review.engine) == review.cluster_ids()


# --- typed events -------------------------------------------------------------------------------


def test_every_kind_is_defined_once_and_round_trips():
    assert len(events.KINDS) == len({cls.__name__ for cls in events.KINDS.values()})
    samples = {
        events.ScreenDecision: events.ScreenDecision("ta", "am", 3, "exclude", ("x",), "n", None, "model"),
        events.ClusterSplit: events.ClusterSplit(3, (1, 2), "n"),
        events.ExtractionAgreed: events.ExtractionAgreed("S1", "t", "1", {"a": 1}, "am", (4, 5)),
    }
    for event in samples.values():
        payload = json.loads(json.dumps(event.payload()))
        assert events.decode(event.kind, payload) == event
    assert samples[events.ClusterSplit].payload()["from"] == [1, 2]  # the stored key, not the field name
    assert "order" not in events.ScreenDecision("ta", "am", 3, "include").payload()
    with pytest.raises(TypeError, match="defined twice"):
        @events.register
        @dataclasses.dataclass(frozen=True)
        class Again(events.Event):
            kind = "screen.decision"


def test_append_checks_and_writes_through_store_append_event(review, monkeypatch):
    written = []
    real = store.append_event
    monkeypatch.setattr(store, "append_event", lambda conn, *a, **k: written.append(a) or real(conn, *a, **k))
    with store.write_transaction(review.engine) as conn:
        with pytest.raises(events.EventError, match=r"\[decision\]"):
            events.append(conn, "am", events.ScreenDecision("title_abstract", "am", 1, "perhaps"))
        with pytest.raises(WorkbenchError):
            events.append(conn, "am", events.PairDecision(5, 2, "same"))  # smaller id first
        events.append(conn, "am", events.PairDecision(2, 5, "same"))
    assert written == [("am", "dedup.decision", {"a": 2, "b": 5, "decision": "same", "note": ""})]


# --- one planner for one decision and many ----------------------------------------------------------


def _write(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "stage", "reviewer", "decision", "reasons"])
        writer.writerows(rows)
    return path


def test_imported_full_text_decision_on_a_record_excluded_at_title_abstract_is_refused(review, tmp_path):
    """Issue 10's gap: the API refused it, a CSV import accepted it."""
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 1, EXCLUDE)
    with pytest.raises(ScreeningError, match="not included at the stage before"):
        screening.decide(review, "full_text", "am", 1, INCLUDE)
    bad = _write(tmp_path / "d.csv", [[2, "title_abstract", "am", "include", ""],
                                      [1, "full_text", "am", "include", ""]])
    with pytest.raises(ScreeningError) as info:
        screening.import_decisions(review, bad, who="am")
    assert info.value.line == 3 and info.value.field == "record_id"
    assert "d.csv:3: [record_id] record 1 cannot be screened at stage 'full_text'" in info.value.describe()
    assert screening.ScreeningState.current(review).reviewer_decision("title_abstract", 2, "am") is None


def test_a_file_may_list_full_text_before_the_title_abstract_decisions_it_needs(review, tmp_path):
    rows = [[3, "title_abstract", "am", "include", ""], [3, "full_text", "am", "include", ""],
            [3, "title_abstract", "mg", "include", ""], [3, "full_text", "mg", "include", ""]]
    assert screening.import_decisions(review, _write(tmp_path / "d.csv", rows), who="am") == 4
    assert screening.ScreeningState.current(review).outcome("full_text", 3) == INCLUDE


def test_extraction_import_creates_and_links_through_schemes(make_review, monkeypatch):
    from review import extraction

    from test_extraction import SCHEMES_JSON, SCREENED

    calls = []
    for name in ("plan_create", "plan_links"):
        real = getattr(schemes, name)
        monkeypatch.setattr(schemes, name,
                            lambda *a, _real=real, _name=name, **k: calls.append(_name) or _real(*a, **k))
    review = make_review(**SCREENED)
    assert extraction.import_extractions(review, "irm_scheme", SCHEMES_JSON, who="am") == 38
    assert calls.count("plan_create") == 38 and calls.count("plan_links") == 38
    state = schemes.SchemeState.load(review)
    assert len(state.active()) == 38 and state.get("S01").reports == {8, 34, 50}


def test_status_warnings_survive_a_reopen(review):
    with store.write_transaction(review.engine) as conn:
        conn.execute(insert(store.events).values(created_at=store.utc_now(), actor="x", kind="newer.kind",
                                                 payload="{}"))
    again = Review.open(review.path)
    try:
        assert again.status().warnings == ["1 event(s) of unknown kind 'newer.kind' (written by a newer version "
                                           "of the workbench?) were not applied"]
    finally:
        again.close()
