"""Blind prioritisation in dual screening: a reviewer's queue order learns only from their own decisions."""

from pathlib import Path

import pytest

from review import screening
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage
from review.screening import EXCLUDE, INCLUDE
from review.screening_session import ScreeningSession

RIS = Path(__file__).resolve().parents[1] / "references" / "mason2014_reference_list.ris"  # 183 records
STAGE = "title_abstract"


@pytest.fixture
def review(tmp_path):
    proto = Protocol(title="T", stages=[Stage(STAGE, reviewers=["am", "mg"], decisions_required=2)],
                     reviewers=[Reviewer("am"), Reviewer("mg")])
    review = Review.init(tmp_path / "r", protocol=proto)
    review.import_file(RIS, source="S")
    yield review
    review.close()


def ranking(review, reviewer):
    return ScreeningSession(review, STAGE, reviewer, order="model", seed=3).upcoming()


def test_other_reviewers_decisions_never_move_my_queue(review):
    mine = {1: INCLUDE, 2: EXCLUDE, 3: EXCLUDE}
    for record, decision in mine.items():
        screening.decide(review, STAGE, "am", record, decision)
    before = ranking(review, "am")
    assert len(before) == 180

    # mg screens a lot, with judgements unlike am's (includes what the model ranks last for am).
    theirs = {record: INCLUDE for record in before[-15:]}
    theirs.update({record: EXCLUDE for record in before[:30]})
    for record, decision in theirs.items():
        screening.decide(review, STAGE, "mg", record, decision)
    assert ranking(review, "am") == before  # blind: identical order, record for record

    # Not vacuous: had am made those same decisions, am's own queue would have changed.
    for record, decision in theirs.items():
        screening.decide(review, STAGE, "am", record, decision)
    after_own = ranking(review, "am")
    remaining = [r for r in before if r not in theirs]
    assert sorted(after_own) == sorted(remaining) and after_own != remaining


def test_my_queue_follows_my_decisions_in_a_live_session(review):
    am = ScreeningSession(review, STAGE, "am", order="model", seed=3, refit_every=1)
    mg = ScreeningSession(review, STAGE, "mg", order="model", seed=3, refit_every=1)
    am.go_to(1)
    am.decide(INCLUDE)
    am.go_to(2)
    am.decide(EXCLUDE)
    mg_view = mg.upcoming()
    for _ in range(20):  # mg decides; am's queue is refitted on am's labels only
        mg.decide(INCLUDE if mg.current % 2 else EXCLUDE)
    am.go_to(3)
    am.decide(EXCLUDE)
    live = am.upcoming()
    fresh = ScreeningSession(review, STAGE, "am", order="model", seed=3).upcoming()
    # The live session skips the records it showed and jumped away from (1 of them here, and the
    # two go_to detours); otherwise it is the order a fresh session fits on am's 3 decisions alone.
    assert live == [r for r in fresh if r in set(live)] and len(fresh) - len(live) <= 3
    assert mg_view[:10] != live[:10]
