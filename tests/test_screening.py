"""Dual, blind screening through the public API."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from review import screening, store
from review.project import Review
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage
from review.screening import EXCLUDE, INCLUDE, MAYBE, ScreeningError

REPO = Path(__file__).resolve().parents[1]
RIS = REPO / "references" / "mason2014_reference_list.ris"


def protocol() -> Protocol:
    return Protocol(
        title="T",
        exclusion_reasons=[ExclusionReason("health_care_only", "Health care only"),
                           ExclusionReason("no_financial_integration", "No financial integration")],
        stages=[Stage("title_abstract", reviewers=["am", "mg"], decisions_required=2),
                Stage("full_text", reviewers=["am", "mg"], decisions_required=2, resolution="third_reviewer",
                      resolver="hw", reason_required=True)],
        reviewers=[Reviewer("am"), Reviewer("mg"), Reviewer("hw")],
    )


@pytest.fixture
def review(make_review):
    return make_review(protocol=protocol(), files=[RIS])


def test_queues_are_blind(review):
    screening.decide(review, "title_abstract", "mg", 1, EXCLUDE, note="not integration")
    queue_am = screening.queue(review, "title_abstract", "am")
    assert queue_am[0] == 1 and len(queue_am) == 183  # mg's decision changes nothing for am
    assert screening.queue(review, "title_abstract", "mg")[0] == 2
    assert screening.conflicts(review, "title_abstract").empty  # nothing shown until both decided
    screening.decide(review, "title_abstract", "am", 1, INCLUDE)
    table = screening.conflicts(review, "title_abstract")
    assert table.loc[0, "record_id"] == 1
    assert (table.loc[0, "am"], table.loc[0, "mg"], table.loc[0, "mg note"]) == ("include", "exclude",
                                                                                  "not integration")


def test_agreement_makes_a_final_decision_and_maybe_pairs_conflict(review):
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 1, INCLUDE)
        screening.decide(review, "title_abstract", who, 2, EXCLUDE)
        screening.decide(review, "title_abstract", who, 3, MAYBE)
    state = screening.ScreeningState.load(review)
    assert [state.outcome("title_abstract", c) for c in (1, 2, 3, 4)] == [INCLUDE, EXCLUDE, "conflict", None]
    assert state.eligible("full_text") == [1]


def test_consensus_and_third_reviewer_resolution(review):
    screening.decide(review, "title_abstract", "am", 5, INCLUDE)
    screening.decide(review, "title_abstract", "mg", 5, EXCLUDE)
    resolution = screening.resolve(review, "title_abstract", 5, INCLUDE, who="mg", note="discussed")
    assert resolution.method == "consensus"
    assert screening.ScreeningState.load(review).outcome("title_abstract", 5) == INCLUDE
    with pytest.raises(ScreeningError, match="no conflict"):
        screening.resolve(review, "title_abstract", 6, INCLUDE, who="am")

    screening.decide(review, "full_text", "am", 5, INCLUDE)
    screening.decide(review, "full_text", "mg", 5, EXCLUDE, reasons=["health_care_only"])
    with pytest.raises(ScreeningError, match="resolved by 'hw'"):
        screening.resolve(review, "full_text", 5, INCLUDE, who="am")
    resolution = screening.resolve(review, "full_text", 5, EXCLUDE, who="hw",
                                   reasons=["health_care_only", "no_financial_integration"])
    assert resolution.method == "third_reviewer"
    state = screening.ScreeningState.load(review)
    assert state.outcome("full_text", 5) == EXCLUDE
    assert state.final_reasons("full_text", 5)[0] == "health_care_only"  # the primary reason PRISMA counts


def test_protocol_rules_are_enforced(review):
    with pytest.raises(ScreeningError, match="needs a reason"):
        _include_at_ta(review, 7)
        screening.decide(review, "full_text", "am", 7, EXCLUDE)
    with pytest.raises(ScreeningError, match="unknown exclusion reason 'wrong'"):
        screening.decide(review, "full_text", "am", 7, EXCLUDE, reasons=["wrong"])
    with pytest.raises(ScreeningError, match="reasons go with an exclusion"):
        screening.decide(review, "full_text", "am", 7, INCLUDE, reasons=["health_care_only"])
    with pytest.raises(ScreeningError, match="does not screen stage"):
        screening.decide(review, "title_abstract", "hw", 7, INCLUDE)
    with pytest.raises(ScreeningError, match="no stage 'scoping'"):
        screening.decide(review, "scoping", "am", 7, INCLUDE)
    with pytest.raises(ScreeningError, match="unknown decision 'perhaps'"):
        screening.decide(review, "title_abstract", "am", 7, "perhaps")
    with pytest.raises(ScreeningError, match="not included at the stage before"):
        screening.decide(review, "full_text", "am", 8, INCLUDE)
    with pytest.raises(ScreeningError, match="no such record"):
        screening.decide(review, "title_abstract", "am", 99999, INCLUDE)
    # Several reasons are allowed at full text; the first is the primary one.
    made = screening.decide(review, "full_text", "am", 7, EXCLUDE,
                            reasons=["no_financial_integration", "health_care_only"])
    assert made.reasons == ("no_financial_integration", "health_care_only")


def _include_at_ta(review, record_id):
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, record_id, INCLUDE)


def test_changing_and_undoing_keep_every_event(review):
    screening.decide(review, "title_abstract", "am", 1, INCLUDE)
    screening.decide(review, "title_abstract", "am", 1, EXCLUDE)  # changed her mind
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 1, "am").decision == EXCLUDE
    undone = screening.undo_last(review, "title_abstract", "am")
    assert undone.decision == EXCLUDE
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 1, "am").decision == INCLUDE
    screening.undo_last(review, "title_abstract", "am")
    assert screening.ScreeningState.load(review).reviewer_decision("title_abstract", 1, "am") is None
    with store.read_connection(review.engine) as conn:
        kinds = [e.kind for e in store.read_events(conn) if e.kind.startswith("screen.")]
    assert kinds == ["screen.decision", "screen.decision", "screen.undo", "screen.undo"]


def test_full_text_retrieval_and_status(review, tmp_path):
    for record in (1, 2, 3):
        _include_at_ta(review, record)
    for who in ("am", "mg"):
        screening.decide(review, "title_abstract", who, 4, EXCLUDE)
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    screening.attach_full_text(review, 1, str(pdf), who="am")
    screening.attach_full_text(review, 2, "https://eprints.whiterose.ac.uk/78222/", who="am")
    screening.mark_not_retrieved(review, 3, who="am", note="library could not supply")
    with pytest.raises(ScreeningError, match="full text file not found"):
        screening.attach_full_text(review, 1, str(tmp_path / "missing.pdf"), who="am")
    with pytest.raises(ScreeningError, match="was not retrieved"):
        screening.decide(review, "full_text", "am", 3, INCLUDE)
    screening.decide(review, "full_text", "am", 1, INCLUDE)
    screening.decide(review, "full_text", "mg", 1, INCLUDE)
    ta, ft = screening.stage_status(review)
    assert (ta.eligible, ta.screened, ta.included, ta.excluded, ta.conflicts, ta.pending) == (183, 4, 3, 1, 0, 179)
    assert (ft.eligible, ft.screened, ft.included, ft.not_retrieved, ft.pending) == (3, 1, 1, 1, 1)
    assert ft.per_reviewer == {"am": 1, "mg": 1}
    state = screening.ScreeningState.load(review)
    assert state.full_texts == {1: str(pdf), 2: "https://eprints.whiterose.ac.uk/78222/"}


def test_agreement_statistics(review):
    am = [INCLUDE, INCLUDE, EXCLUDE, EXCLUDE, EXCLUDE, MAYBE, EXCLUDE, INCLUDE]
    mg = [INCLUDE, EXCLUDE, EXCLUDE, EXCLUDE, INCLUDE, MAYBE, EXCLUDE, INCLUDE]
    for record, (a, b) in enumerate(zip(am, mg), start=1):
        screening.decide(review, "title_abstract", "am", record, a)
        screening.decide(review, "title_abstract", "mg", record, b)
    table = screening.agreement(review)
    row = table.iloc[0]
    assert (row.stage, row.reviewer_a, row.reviewer_b, row.records, row.agreements) == (
        "title_abstract", "am", "mg", 8, 6)
    assert row.percent_agreement == 75.0
    from sklearn.metrics import cohen_kappa_score

    assert row.kappa == round(cohen_kappa_score(am, mg), 3)


def test_bulk_import_and_export(review, tmp_path):
    good = tmp_path / "rayyan.csv"
    good.write_text("source_id,stage,reviewer,decision,reasons,note,time\n"
                    "mason2014_ref001,title_abstract,am,Included,,,2013-03-01T10:00:00Z\n"
                    "mason2014_ref001,title_abstract,mg,excluded,health_care_only,acute only,2013-03-02T10:00:00Z\n"
                    "mason2014_ref002,title_abstract,am,maybe,,,\n")
    assert screening.import_decisions(review, good, who="am") == 3
    state = screening.ScreeningState.load(review)
    assert state.reviewer_decision("title_abstract", 1, "mg").reasons == ("health_care_only",)
    assert state.reviewer_decision("title_abstract", 1, "am").decided_at == "2013-03-01T10:00:00Z"
    exported = screening.export_decisions(review)
    assert exported.splitlines()[0] == "record_id,source_id,import_file,stage,reviewer,decision,reasons,note,time"
    assert len(exported.splitlines()) == 4


@pytest.mark.parametrize("row, where", [
    ("mason2014_ref003,title_abstract,zz,include,,,", "bad.csv:3: [reviewer]"),
    ("mason2014_ref003,title_abstract,am,yes please,,,", "bad.csv:3: [decision]"),
    ("mason2014_ref003,title_abstract,am,exclude,nonsense,,", "bad.csv:3: [reasons]"),
    ("nope,title_abstract,am,include,,,", "bad.csv:3: [source_id]"),
    ("mason2014_ref003,title_abstract,am,include,,,yesterday", "bad.csv:3: [time]"),
    ("mason2014_ref003,tiab,am,include,,,", "bad.csv:3: [stage]"),
])
def test_bad_bulk_import_writes_nothing(review, tmp_path, row, where):
    bad = tmp_path / "bad.csv"
    bad.write_text("source_id,stage,reviewer,decision,reasons,note,time\n"
                   "mason2014_ref001,title_abstract,am,include,,,\n" + row + "\n")
    with pytest.raises(ScreeningError) as info:
        screening.import_decisions(review, bad, who="am")
    assert str(info.value).startswith(str(bad).replace("bad.csv", "") + where.split(":")[0]), str(info.value)
    assert where in str(info.value)
    assert screening.ScreeningState.load(review).history["title_abstract"] == {}


def test_unknown_column_is_refused(review, tmp_path):
    bad = tmp_path / "cols.csv"
    bad.write_text("record_id,stage,reviewer,decision,verdict\n1,title_abstract,am,include,x\n")
    with pytest.raises(ScreeningError, match=r"cols.csv:1: unknown column 'verdict'"):
        screening.import_decisions(review, bad, who="am")


@pytest.mark.slow  # two Python processes
def test_two_reviewers_screening_at_once_lose_nothing(review):
    review.close()
    script = textwrap.dedent("""
        import sys
        from review import screening
        from review.project import Review
        reviewer, folder = sys.argv[1], sys.argv[2]
        with Review.open(folder) as review:
            state = screening.ScreeningState.load(review)
            for round_ in range(8):
                for record in range(1, 184):
                    decision = "include" if (record + round_) % 3 else "exclude"
                    screening.decide(review, "title_abstract", reviewer, record, decision, state=state)
        print("ok")
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script, who, str(review.path)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for who in ("am", "mg")]
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    with Review.open(review.path) as again:
        with store.read_connection(again.engine) as conn:
            events = store.read_events(conn, kind=screening.DECISION_EVENT)
        assert len(events) == 2 * 8 * 183  # 2,928 decisions, none lost
        state = screening.ScreeningState.load(again)
        assert len(state.history["title_abstract"]["am"]) == 8 * 183
        assert state.reviewer_decision("title_abstract", 1, "mg").decision == ("include" if (1 + 7) % 3 else "exclude")
