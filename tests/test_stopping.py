"""The stopping rule: its hypergeometric p-values (by hand, with math.comb, and scipy), and its events."""

import json
import math
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import hypergeom

from review import methods, screening, stopping, store
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage
from review.screening import EXCLUDE, INCLUDE, MAYBE

REPO = Path(__file__).resolve().parents[1]
RIS = REPO / "references" / "mason2014_reference_list.ris"  # 183 records


def cdf_by_hand(k: int, pool: int, relevant: int, n: int) -> Fraction:
    """P(X <= k) drawing n of `pool` records of which `relevant` are relevant, as an exact fraction."""
    return sum((Fraction(math.comb(relevant, i) * math.comb(pool - relevant, n - i), math.comb(pool, n))
                for i in range(0, k + 1)), Fraction(0))


def brute_force_p(sequence, total, recall):
    """Every sample size n = 1..s, straight from the definition (no shortcut over candidates)."""
    seq = np.array(sequence, dtype=int)
    found = int(seq.sum())
    needed = math.floor(Fraction(found) / Fraction(str(recall))) + 1
    values = []
    for n in range(1, len(seq) + 1):
        k = int(seq[-n:].sum())
        pool = total - len(seq) + n
        in_pool = needed - (found - k)
        values.append(0.0 if in_pool > pool else float(cdf_by_hand(k, pool, in_pool, n)))
    return min(values)


def test_hand_checked_value():
    # 10 records, 5 screened, the first relevant; target recall 0.5 means H0 needs >= 3 relevant.
    # Sample = last 4 (all irrelevant), drawn from the 9 records unscreened before it, 2 of them relevant
    # under H0: C(7,4)/C(9,4) = 35/126. The whole sequence as the sample gives 1/2, so 5/18 is the minimum.
    assert cdf_by_hand(0, 9, 2, 4) == Fraction(35, 126)
    assert cdf_by_hand(1, 10, 3, 5) == Fraction(1, 2)
    assert stopping.p_value([True, False, False, False, False], 10, recall=0.5) == pytest.approx(5 / 18, abs=1e-12)
    assert hypergeom.cdf(0, 9, 2, 4) == pytest.approx(35 / 126, abs=1e-12)


def test_impossible_null_gives_zero_and_small_samples_by_hand():
    # 6 records, 3 relevant found in the first 3, then 2 irrelevant: H0 (recall < 0.95) needs 4 relevant.
    # Samples: n=5: 2/3, n=4: 3/5, n=3: 1/2, n=2 (after the last relevant): 1/3.
    assert stopping.p_value([True, True, True, False, False], 6, recall=0.95) == pytest.approx(1 / 3, abs=1e-12)
    assert float(cdf_by_hand(0, 3, 1, 2)) == pytest.approx(1 / 3)
    # One more irrelevant record of 7: the last 3 from a pool of 4 holding 1 relevant: C(3,3)/C(4,3) = 1/4.
    assert stopping.p_value([True, True, True, False, False, False], 7, recall=0.95) == pytest.approx(1 / 4)
    assert stopping.p_value([True] * 4 + [False] * 3, 7) == 0.0  # everything screened


def test_exact_recall_threshold():
    # 19 of 20 is a recall of exactly 0.95: not below the target, so H0 needs 21 relevant records.
    assert stopping._minimum_relevant(19, 0.95) == 21
    assert stopping._minimum_relevant(0, 0.95) == 1
    assert stopping._minimum_relevant(95, 0.95) == 101


@pytest.mark.parametrize("seed", range(8))
def test_candidate_samples_equal_every_sample_and_scipy(seed):
    rng = np.random.default_rng(seed)
    total = int(rng.integers(30, 80))
    screened = int(rng.integers(1, total))
    sequence = (rng.random(screened) < np.linspace(0.6, 0.02, screened)).tolist()
    for recall in (0.8, 0.9, 0.95):
        assert stopping.p_value(sequence, total, recall) == pytest.approx(brute_force_p(sequence, total, recall),
                                                                          rel=1e-9, abs=1e-12)


def test_evaluate_reports_estimate_bound_and_work_left():
    sequence = [True] * 20 + [False] * 30
    result = stopping.evaluate(sequence, 1000)
    assert not result.target_met and result.p_value >= 0.05
    assert result.more_to_screen > 0
    # Screening that many more irrelevant records meets the target; one fewer does not.
    after = stopping.evaluate(sequence + [False] * result.more_to_screen, 1000)
    before = stopping.evaluate(sequence + [False] * (result.more_to_screen - 1), 1000)
    assert after.target_met and not before.target_met
    assert after.more_to_screen == 0
    assert after.recall_lower_bound >= 0.95 > before.recall_lower_bound
    assert 0 < before.recall_lower_bound <= before.recall_estimate <= 1
    # The bound is the inversion of the same test: at the bound's implied total, p >= alpha.
    implied_total = round(after.relevant / after.recall_lower_bound)
    assert stopping._p_for_total(stopping._samples(np.array(sequence + [False] * result.more_to_screen), 1000),
                                 20, implied_total) >= 0.05


@pytest.mark.parametrize("ending", ["relevant", "irrelevant"])
def test_more_to_screen_is_the_fewest_irrelevant_records_that_meet_the_target(ending):
    """Checked by screening one more irrelevant record at a time, for random sequences; a sequence
    that ends with a relevant record is the case where a new sample starts after it."""
    rng = np.random.default_rng(7 if ending == "relevant" else 8)
    for _ in range(5):
        screened, total = int(rng.integers(20, 80)), int(rng.integers(200, 400))
        sequence = (rng.random(screened) < np.linspace(0.5, 0.05, screened)).tolist()
        sequence[-1] = ending == "relevant"
        expected = next(extra for extra in range(1, total - screened + 1)
                        if stopping.p_value(sequence + [False] * extra, total, 0.9) < 0.1)
        result = stopping.evaluate(sequence, total, 0.9, 0.9)
        assert result.target_met or result.more_to_screen == expected


def test_evaluate_edges_and_bad_parameters():
    nothing = stopping.evaluate([], 100)
    assert nothing.p_value == 1.0 and not nothing.target_met and math.isnan(nothing.recall_estimate)
    done = stopping.evaluate([False] * 10, 10)
    assert done.target_met and done.recall_lower_bound == 1.0
    with pytest.raises(stopping.StoppingError, match="recall"):
        stopping.evaluate([True], 10, recall=1.0)
    with pytest.raises(stopping.StoppingError, match="confidence"):
        stopping.evaluate([True], 10, confidence=0)
    with pytest.raises(stopping.StoppingError, match="only 1"):
        stopping.evaluate([True, False], 1)
    assert json.dumps(nothing.to_dict())  # nan becomes null


# --- from the log ------------------------------------------------------------------------------------------


@pytest.fixture
def review(tmp_path):
    proto = Protocol(title="T", stages=[Stage("title_abstract", reviewers=["am", "mg"], decisions_required=2)],
                     reviewers=[Reviewer("am", name="Ann Mills"), Reviewer("mg")])
    review = Review.init(tmp_path / "r", protocol=proto)
    review.import_file(RIS, source="S")
    yield review
    review.close()


def test_sequence_is_blind_first_seen_order_and_maybe_counts_as_relevant(review):
    screening.decide(review, "title_abstract", "am", 5, INCLUDE)
    screening.decide(review, "title_abstract", "am", 2, EXCLUDE)
    screening.decide(review, "title_abstract", "am", 9, MAYBE)
    screening.decide(review, "title_abstract", "am", 5, EXCLUDE)  # changed mind: keeps its first place
    for record in range(1, 40):
        screening.decide(review, "title_abstract", "mg", record, INCLUDE)  # the other reviewer's decisions
    sequence, total = stopping.screening_sequence(review, "title_abstract", "am")
    assert sequence == [False, False, True] and total == 183


def test_rule_and_firing_are_events_and_methods_text_states_them(review):
    state = screening.ScreeningState.load(review)
    for record in range(1, 6):
        screening.decide(review, "title_abstract", "am", record, INCLUDE, state=state)
    first = stopping.check(review, "title_abstract", "am", recall=0.9, confidence=0.9)
    assert not first.target_met
    again = stopping.check(review, "title_abstract", "am")  # last-set parameters, no new event
    assert (again.recall_target, again.confidence) == (0.9, 0.9)
    for record in range(6, 6 + first.more_to_screen):
        screening.decide(review, "title_abstract", "am", record, EXCLUDE, state=state)
    fired = stopping.check(review, "title_abstract", "am")
    assert fired.target_met and fired.screened == 5 + first.more_to_screen
    stopping.check(review, "title_abstract", "am")  # fired once per setting, not once per call
    with store.read_connection(review.engine) as conn:
        rules = store.read_events(conn, kind=stopping.RULE_EVENT)
        fires = store.read_events(conn, kind=stopping.FIRED_EVENT)
    assert [e.payload["recall"] for e in rules] == [0.9] and rules[0].actor == "am"
    assert len(fires) == 1
    payload = fires[0].payload
    assert (payload["reviewer"], payload["stage"], payload["screened"], payload["relevant"], payload["total"]) == (
        "am", "title_abstract", fired.screened, 5, 183)
    assert payload["p_value"] < 0.1 and payload["rule"] == stopping.RULE
    # mg's rule is separate and has not fired.
    assert not stopping.check(review, "title_abstract", "mg").target_met

    text = methods.methods_text(review).to_text()
    assert "Callaghan & Müller-Hansen 2020" in text
    assert "Ann Mills used a statistical stopping rule" in text
    assert "90% confidence" in text and "fewer than 90% of the relevant records" in text
    assert f"target was met after {fired.screened} of 183 records" in text
    assert f"{183 - fired.screened} were not screened by this reviewer" in text


def test_changing_the_settings_is_logged_and_refires(review):
    for record in range(1, 4):
        screening.decide(review, "title_abstract", "am", record, INCLUDE)
    for record in range(4, 183):
        screening.decide(review, "title_abstract", "am", record, EXCLUDE)
    assert stopping.check(review, "title_abstract", "am").target_met
    assert stopping.check(review, "title_abstract", "am", recall=0.99).target_met
    events = stopping.rule_events(review)
    assert [e["kind"] for e in events] == [stopping.RULE_EVENT, stopping.FIRED_EVENT,
                                           stopping.RULE_EVENT, stopping.FIRED_EVENT]
    assert "earlier: 95% recall at 95% confidence" in methods.methods_text(review).to_text()


def test_cli(review):
    for record in range(1, 4):
        screening.decide(review, "title_abstract", "am", record, INCLUDE)
    path = str(review.path)
    review.close()
    done = subprocess.run([sys.executable, "-m", "review.cli", "screening", "stopping", path, "--stage",
                           "title_abstract", "--reviewer", "am", "--recall", "0.9", "--json"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["screened"], data["relevant"], data["total"], data["target_met"]) == (3, 3, 183, False)
    assert data["recall_target"] == 0.9 and data["more_to_screen"] > 0
    done = subprocess.run([sys.executable, "-m", "review.cli", "screening", "stopping", path, "--stage",
                           "title_abstract", "--reviewer", "am"], capture_output=True, text=True)
    assert done.returncode == 0 and "not yet met" in done.stdout and "90%" in done.stdout
    done = subprocess.run([sys.executable, "-m", "review.cli", "screening", "stopping", path, "--stage",
                           "title_abstract", "--reviewer", "am", "--recall", "1.5"], capture_output=True, text=True)
    assert done.returncode == 1 and "recall must be a number between 0 and 1" in done.stderr
    assert "Traceback" not in done.stderr


# --- the widget panel ---------------------------------------------------------------------------------------


def test_widget_panel_updates_live_and_logs_only_once_used(review):
    from review.widgets.screening import ScreeningWidget

    widget = ScreeningWidget(review, "title_abstract", "am", order="import")
    assert "Screened 0 of 183" in widget.stopping.html
    assert stopping.rule_events(review) == []  # opening the widget logs nothing
    for _ in range(3):
        widget.decide(INCLUDE)
    html = widget.stopping.html
    assert "Screened 3 of 183, relevant 3" in html and "Not yet" in html
    assert [e["kind"] for e in stopping.rule_events(review)] == [stopping.RULE_EVENT]
    needed = widget.stopping.result.more_to_screen
    for _ in range(needed):
        widget.decide(EXCLUDE)
    assert "Target met" in widget.stopping.html
    assert widget.stopping.result.screened == 3 + needed
    assert [e["kind"] for e in stopping.rule_events(review)] == [stopping.RULE_EVENT, stopping.FIRED_EVENT]
    widget.handle({"action": "stopping", "recall": "0.95", "confidence": "0.99"})  # as the page sends it
    assert "Not yet" in widget.stopping.html and "Not yet" in widget.view["stopping"]["html"]
    assert widget.view["stopping"]["confidence"] == 0.99
    assert stopping.current_rule(review, "title_abstract", "am") == (0.95, 0.99)
    # A target out of range is refused with a message naming the box; the rule stays as it was.
    events_before = len(stopping.rule_events(review))
    for bad in ("1.5", "", "abc", "0.2", "nan"):
        widget.handle({"action": "stopping", "recall": bad, "confidence": "0.99"})
        assert widget.view["message_kind"] == "error" and "Target recall must be a number" in widget.view["message"]
    assert len(stopping.rule_events(review)) == events_before
    assert stopping.current_rule(review, "title_abstract", "am") == (0.95, 0.99)
    # A reviewer's panel never counts the other reviewer's decisions (blind).
    other = ScreeningWidget(review, "title_abstract", "mg", order="import")
    assert "Screened 0 of 183" in other.stopping.html


def test_own_hypergeometric_cdf_equals_scipy():
    rng = np.random.default_rng(1)
    pool = rng.integers(1, 60000, 300)
    relevant = (rng.random(300) * pool).astype(int)
    n = (rng.random(300) * pool).astype(int)
    k = (rng.random(300) * np.minimum(n, relevant) * 1.2).astype(int)
    ours = stopping._cdf(k, pool, relevant, n)
    theirs = hypergeom.cdf(k, pool, relevant, n)
    assert np.allclose(ours, theirs, rtol=1e-7, atol=1e-12)
    assert float(stopping._cdf([0], [9], [2], [4])[0]) == pytest.approx(35 / 126, rel=1e-12)
    assert list(stopping._cdf([0, 5, 2], [10, 10, 10], [3, 3, 9], [5, 5, 5])) == pytest.approx([1 / 12, 1.0, 0.0])
