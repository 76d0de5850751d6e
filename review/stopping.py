"""When may a reviewer stop screening? A stopping rule with a stated guarantee.

Prioritised screening shows likely inclusions first, so most of them are found early,
but the saving is only real if the reviewer can stop before the end. This module
implements the statistical stopping criterion of Callaghan & Müller-Hansen (2020,
"Statistical stopping criteria for automated screening in systematic reviews",
Systematic Reviews 9:273):

    H0: "recall so far is below the target" (fewer than ``recall`` of all relevant
    records have been found). Stop when H0 is rejected at ``confidence``, i.e. when
    the p-value below is under ``1 - confidence``.

The test. A reviewer has screened ``s`` of the ``N`` records of a stage, in order, and
found ``r`` relevant ones. If recall were below the target τ, the stage would hold at
least ``R = floor(r / τ) + 1`` relevant records. Take the last ``n`` screened records as a
sample drawn from the records that were still unscreened when the sample began
(``M = N - s + n`` of them), which under H0 held at least ``K = R - (r - k)`` relevant
records, where ``k`` is the number of relevant records in the sample. Drawing ``n``
records at random from ``M`` with ``K`` relevant gives ``k`` or fewer relevant with
probability ``hypergeom.cdf(k, M, K, n)``: that is the p-value for this sample. As in
the paper, every sample size ``n = 1 .. s`` is tried and the smallest p-value is used
(``K > M`` means H0 is impossible: p = 0).

Which records are the sample, and why the most recent ones. The rule tests the records
the reviewer screened last rather than asking them to screen an extra random sample of
the remaining records: it costs no extra work, the reviewer can keep screening in the
model's order, and the guarantee still holds because a relevance ranking shows records
it thinks *more* likely relevant first. The last ``n`` records were ranked above every
record still unscreened, so if anything they hold more relevant records than a random
sample of the same pool would; seeing few relevant ones among them is then even less
likely under H0 than the hypergeometric probability says, so the p-value is
conservative. It would not be for an order that puts likely relevant records *last*
(e.g. an import sorted by irrelevance); with random order the sample is random and the
test is exact. ``benchmarks/screening_sim.py`` checks the guarantee empirically: over
26 labelled reviews and several seeds, the share of runs in which recall at the moment
of stopping reached the target (see ``benchmarks/README_screening.md``).

What a reviewer sees (``StoppingStatus``): the p-value, whether the target is met, an
estimate of recall so far with a lower confidence bound (both from inverting the same
test: the largest total number of relevant records the test cannot reject at p = 0.5
and at p = 1 - confidence), and how many more records must be screened before the
rule can say the target is met, if none of them is relevant (a relevant record resets
the count upward).

"Relevant" means included or "maybe" (the same as the relevance model's labels), and
each reviewer's rule uses only that reviewer's own decisions, in the order they were
first made (blind dual screening: one reviewer's rule never sees the other's).

Events (PRISMA 2020 item 8 asks which automation was used and how): ``RULE_EVENT``
when a reviewer sets or changes the target recall or confidence at a stage, and
``FIRED_EVENT`` the first time the rule says the target is met under those settings,
with the counts at that moment. ``methods_paragraph`` turns them into methods text.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Sequence

import numpy as np
from sqlalchemy import select

from review import events, screening, store
from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review

__all__ = ["RULE", "RULE_EVENT", "FIRED_EVENT", "StoppingError", "StoppingStatus", "p_value", "evaluate",
           "screening_sequence", "status", "set_rule", "current_rule", "check", "rule_events",
           "methods_paragraph"]

RULE = "hypergeometric_last_screened"
RULE_TEXT = ("a hypergeometric test on the most recently screened records (Callaghan & Müller-Hansen 2020, "
             "Systematic Reviews 9:273)")
RULE_EVENT, FIRED_EVENT = "screen.stopping_rule", "screen.stopping_fired"  # review.events has their classes
DEFAULT_RECALL = DEFAULT_CONFIDENCE = 0.95


class StoppingError(WorkbenchError, ValueError):
    """Parameters the rule cannot use (recall or confidence outside (0, 1), bad sequence)."""


@dataclass(frozen=True)
class StoppingStatus:
    """The rule's verdict for one reviewer's screening so far."""

    recall_target: float
    confidence: float
    total: int            # records at the stage (N)
    screened: int         # records this reviewer has screened (s)
    relevant: int         # relevant among them (r)
    p_value: float        # for H0 "recall < recall_target"; the target is met when p < 1 - confidence
    target_met: bool
    recall_estimate: float     # nan before any relevant record has been found
    recall_lower_bound: float  # recall is at least this, with `confidence`
    more_to_screen: int        # irrelevant records still to screen before the target can be met (0 when met)
    sample_size: int           # n of the most recent records giving the smallest p-value

    @property
    def remaining(self) -> int:
        return self.total - self.screened

    def to_dict(self) -> dict:
        out = asdict(self)
        out["remaining"] = self.remaining
        out["rule"] = RULE
        for key in ("p_value", "recall_estimate", "recall_lower_bound"):
            if isinstance(out[key], float) and math.isnan(out[key]):
                out[key] = None
        return out


def _cdf(k, pool, relevant, n) -> np.ndarray:
    """P(X <= k) for X ~ hypergeometric(pool, relevant, n), elementwise (arrays of equal length).

    scipy.stats.hypergeom.cdf gives the same values (the tests compare them) but took
    several milliseconds per value at 50,000 records, and the rule needs hundreds of
    values per decision. Here: the log-probability of one term from log-gamma, then the
    tail on the short side of the mode summed by the ratio of neighbouring terms,
    vectorised over all samples; a tail's terms shrink at least geometrically, so the
    loop stops after a few dozen steps once they no longer change the sum.
    """
    from scipy.special import gammaln

    k, pool, relevant, n = (np.asarray(a, dtype=np.float64) for a in (k, pool, relevant, n))
    other = pool - relevant
    low = np.maximum(0.0, n - other)           # support of X: low .. high
    high = np.minimum(n, relevant)
    out = np.where(k >= high, 1.0, 0.0)
    inside = (k >= low) & (k < high)
    if not inside.any():
        return out
    k, pool, relevant, n, other, low, high = (a[inside] for a in (k, pool, relevant, n, other, low, high))
    mode = np.floor((n + 1) * (relevant + 1) / (pool + 2))
    lower_tail = k < mode  # sum P(X <= k) directly; otherwise 1 - P(X > k)
    start = np.where(lower_tail, k, k + 1)

    def log_term(x):
        return (gammaln(relevant + 1) - gammaln(x + 1) - gammaln(relevant - x + 1)
                + gammaln(other + 1) - gammaln(n - x + 1) - gammaln(other - n + x + 1)
                - gammaln(pool + 1) + gammaln(n + 1) + gammaln(pool - n + 1))

    term = np.exp(log_term(start))
    total = term.copy()
    x = start.copy()
    while True:
        # Next term away from the mode: down for the lower tail, up for the upper tail.
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 at the ends of the support
            down = x * (other - n + x) / ((relevant - x + 1) * (n - x + 1))
            up = (relevant - x) * (n - x) / ((x + 1) * (other - n + x + 1))
            ratio = np.where(lower_tail, down, up)
        ratio = np.where(np.isfinite(ratio) & (ratio > 0), ratio, 0.0)
        x = np.where(lower_tail, x - 1, x + 1)
        ratio = np.where(lower_tail & (x < low) | ~lower_tail & (x > high), 0.0, ratio)
        term = term * ratio
        total += term
        if not (term > total * 1e-17).any():
            break
    out[inside] = np.clip(np.where(lower_tail, total, 1.0 - total), 0.0, 1.0)
    return out


def _check_parameters(recall: float, confidence: float) -> None:
    for name, value in (("recall", recall), ("confidence", confidence)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < float(value) < 1:
            raise StoppingError(f"{name} must be a number between 0 and 1 (exclusive), not {value!r}")


def _as_array(sequence: Sequence[bool], total: int) -> np.ndarray:
    seq = np.asarray(list(sequence), dtype=np.int64)
    if seq.ndim != 1 or ((seq != 0) & (seq != 1)).any():
        raise StoppingError("the screening sequence must be a list of True/False (relevant or not)")
    if total < len(seq):
        raise StoppingError(f"{len(seq)} records screened but only {total} at the stage")
    return seq


def _minimum_relevant(found: int, recall: float) -> int:
    """Smallest number of relevant records for which `found` of them is a recall below `recall`.

    Exact rational arithmetic: 19 / 0.95 must be 20, not 20.000000000000004.
    """
    return math.floor(Fraction(found) / Fraction(str(recall))) + 1


def _samples(seq: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample sizes n worth testing, with k (relevant in the sample) and M (pool when it began).

    For a fixed k, lengthening the sample backwards over an irrelevant record only lowers
    the p-value (one more draw from a pool with one more irrelevant record), so the
    smallest p-value is always at a sample that starts just after a relevant record or
    at the very first record: r + 1 candidates instead of s (checked against every n in
    the tests).
    """
    starts, k, pool = _sample_starts(seq, total)
    keep = starts < len(seq)
    return len(seq) - starts[keep], k[keep], pool[keep]


def _sample_starts(seq: np.ndarray, total: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where the samples of `_samples` may start (0 and just after each relevant record, up to and
    including len(seq)), with k and M for each. The sample sizes follow from how many records
    have been screened, so _more_to_screen can try longer runs without rebuilding anything."""
    relevant_positions = np.flatnonzero(seq)  # 0-based positions in screening order
    starts = np.unique(np.concatenate([[0], relevant_positions + 1]))
    found_before = np.searchsorted(relevant_positions, starts)  # relevant before each sample
    k = len(relevant_positions) - found_before
    return starts, k, total - starts


def _p_for_total(seq_stats: tuple[np.ndarray, np.ndarray, np.ndarray], found: int, relevant_total: int) -> float:
    """Smallest p over the samples, for H0 "the stage holds `relevant_total` relevant records"."""
    n, k, pool = seq_stats
    in_pool = relevant_total - (found - k)  # relevant records in each sample's pool under H0
    return float(_min_p(n[None, :], k[None, :], pool[None, :], in_pool[None, :])[0])


def p_value(sequence: Sequence[bool], total: int, recall: float = DEFAULT_RECALL) -> float:
    """p-value for "recall is below `recall`", after screening `sequence` (True = relevant) of `total`."""
    _check_parameters(recall, 0.5)
    seq = _as_array(sequence, total)
    found = int(seq.sum())
    if len(seq) == total:
        return 0.0  # everything screened: recall is 1
    return _p_for_total(_samples(seq, total), found, _minimum_relevant(found, recall))


def _largest_total_not_rejected(seq: np.ndarray, total: int, alpha: float) -> int:
    """Largest total number of relevant records R (>= found) with p(R) >= alpha.

    p(R) falls as R grows (more relevant records left unseen make few in the sample less
    likely), so a search over R in [found, found + unscreened] finds it.
    """
    found = int(seq.sum())
    n, k, pool = _samples(seq, total)

    def not_rejected(totals: np.ndarray) -> np.ndarray:
        in_pool = totals[:, None] - (found - k)[None, :]
        return _min_p(n[None, :], k[None, :], pool[None, :], in_pool) >= alpha

    return _last_holding(not_rejected, found, found + (total - len(seq)), len(n))  # p(found) = 1 >= alpha


def _min_p(n, k, pool, in_pool) -> np.ndarray:
    """`_p_for_total` for many hypotheses at once: the arrays broadcast to (hypotheses, samples)
    and each row gets its smallest p (0 where a row's H0 is impossible, 1 with no samples)."""
    n, k, pool, in_pool = np.broadcast_arrays(n, k, pool, in_pool)
    out = np.ones(n.shape[0])
    if n.shape[1] == 0:
        return out
    possible = (in_pool <= pool).all(axis=1)
    out[~possible] = 0.0
    if possible.any():
        values = _cdf(k[possible].ravel(), pool[possible].ravel(), in_pool[possible].ravel(), n[possible].ravel())
        out[possible] = values.reshape(-1, n.shape[1]).min(axis=1)
    return out


# Values tried at once in each round of _last_holding: up to 32 while that keeps a round's
# (values x samples) below _SEARCH_CELLS. A bisection makes one small _cdf call per step (about 17
# at 50,000 records, three searches per decision); 32 at once need 3-4 rounds, which matters when
# a background refit competes for the interpreter after every decision. With hundreds of samples
# the arrays are large enough that fewer values per round is faster.
_SEARCH_WIDTH, _SEARCH_CELLS = 32, 4096


def _last_holding(holds, low: int, high: int, samples: int = 1) -> int:
    """Largest x in [low, high] with holds(x), for a condition true up to some x and false after
    it, true at low; `holds` takes an int array and returns a bool array. `samples`: columns per
    value in holds' arrays (sets how many values a round tries)."""
    width = max(3, min(_SEARCH_WIDTH, _SEARCH_CELLS // max(samples, 1)))  # 3: low, middle, high
    while low < high:
        points = np.unique(np.linspace(low, high, min(width, high - low + 1)).round().astype(np.int64))
        ok = holds(points)
        last = int(np.flatnonzero(ok).max()) if ok.any() else 0  # points[0] is low, which holds
        if last == len(points) - 1:
            return int(points[-1])
        low, high = int(points[last]), int(points[last + 1]) - 1
    return low


def evaluate(sequence: Sequence[bool], total: int, recall: float = DEFAULT_RECALL,
             confidence: float = DEFAULT_CONFIDENCE) -> StoppingStatus:
    """The rule's verdict after screening `sequence` (True = relevant, in screening order) of `total`."""
    _check_parameters(recall, confidence)
    seq = _as_array(sequence, total)
    alpha = 1 - confidence
    found, screened = int(seq.sum()), len(seq)
    stats = _samples(seq, total)
    if screened == total:
        p, sample = 0.0, screened
    else:
        needed = _minimum_relevant(found, recall)
        n, k, pool = stats
        in_pool = needed - (found - k)
        if len(n) == 0:
            p, sample = 1.0, 0
        elif (in_pool > pool).any():
            p, sample = 0.0, int(n[np.argmax(in_pool > pool)])
        else:
            values = _cdf(k, pool, in_pool, n)
            best = int(np.argmin(values))
            p, sample = float(values[best]), int(n[best])
    met = p < alpha
    if found == 0:
        estimate = float("nan")
        lower = 1.0 if screened == total else 0.0
    else:
        estimate = found / _largest_total_not_rejected(seq, total, 0.5)
        lower = found / _largest_total_not_rejected(seq, total, alpha)
    return StoppingStatus(float(recall), float(confidence), int(total), screened, found, p, bool(met),
                          estimate, lower, 0 if met else _more_to_screen(seq, total, recall, alpha), sample)


def _more_to_screen(seq: np.ndarray, total: int, recall: float, alpha: float) -> int:
    """Fewest further records, none of them relevant, after which p < alpha.

    Appending irrelevant records only lowers the p-value (each sample gets longer with
    the same k; screening everything gives p = 0), so search over the count.
    """
    found = int(seq.sum())
    needed = _minimum_relevant(found, recall)
    # `extra` irrelevant records appended leave every start, k and M as they are and lengthen
    # each sample by `extra` (a start just after a last relevant record becomes a sample of its own).
    starts, k, pool = _sample_starts(seq, total)

    def not_met_after(extras: np.ndarray) -> np.ndarray:
        n = (len(seq) + extras)[:, None] - starts[None, :]
        in_pool = needed - (found - k)
        p = _min_p(n, k[None, :], pool[None, :], in_pool[None, :])
        return (p >= alpha) & (len(seq) + extras < total)  # everything screened: p = 0

    # Not met after 0 more (this is only asked then); met once everything is screened.
    return _last_holding(not_met_after, 0, total - len(seq), len(starts)) + 1


# --- one reviewer's screening, from the log --------------------------------------------------


def screening_sequence(review: "Review", stage: str, reviewer: str,
                       state: screening.ScreeningState | None = None) -> tuple[list[bool], int]:
    """This reviewer's decisions at `stage` in the order first made (True = include or maybe), and N.

    A record decided again later keeps its first place (when the reviewer first saw it) and
    takes the current decision. Only records still in the stage's pool count.
    """
    review.protocol.stage(stage)  # unknown stage: a clear ProtocolError
    state = state or screening.ScreeningState.load(review)
    pool = state.screenable(stage)
    in_pool = set(pool)
    order: dict[int, None] = {}
    for decision in state.history[stage].get(reviewer, []):
        cluster = state.clusters.get(decision.record_id, decision.record_id)
        if cluster in in_pool:
            order.setdefault(cluster, None)
    sequence = []
    for cluster in order:
        current = state.reviewer_decision(stage, cluster, reviewer)
        if current is not None:
            sequence.append(current.decision != screening.EXCLUDE)
    return sequence, len(pool)


def _events(review: "Review", stage: str | None = None, reviewer: str | None = None) -> list[tuple[int, str, str, dict]]:
    with store.read_connection(review.engine) as conn:
        rows = conn.execute(select(store.events.c.id, store.events.c.kind, store.events.c.created_at,
                                   store.events.c.payload)
                            .where(store.events.c.kind.in_((RULE_EVENT, FIRED_EVENT)))
                            .order_by(store.events.c.id)).all()
    out = []
    for event_id, kind, created, payload in rows:
        data = json.loads(payload)
        if (stage is None or data.get("stage") == stage) and (reviewer is None or data.get("reviewer") == reviewer):
            out.append((event_id, kind, created, data))
    return out


def current_rule(review: "Review", stage: str, reviewer: str) -> tuple[float, float] | None:
    """(recall, confidence) this reviewer last set at this stage, or None."""
    rules = [data for _, kind, _, data in _events(review, stage, reviewer) if kind == RULE_EVENT]
    return (rules[-1]["recall"], rules[-1]["confidence"]) if rules else None


def set_rule(review: "Review", stage: str, reviewer: str, recall: float = DEFAULT_RECALL,
             confidence: float = DEFAULT_CONFIDENCE, who: str | None = None) -> bool:
    """Record the rule and its parameters for this reviewer and stage; False when already so set."""
    _check_parameters(recall, confidence)
    review.protocol.stage(stage)
    if current_rule(review, stage, reviewer) == (float(recall), float(confidence)):
        return False
    with store.write_transaction(review.engine) as conn:
        events.append(conn, who or reviewer, events.StoppingRuleSet(stage, reviewer, RULE, float(recall),
                                                                     float(confidence)))
    return True


def status(review: "Review", stage: str, reviewer: str, recall: float | None = None,
           confidence: float | None = None, state: screening.ScreeningState | None = None) -> StoppingStatus:
    """The rule's verdict for this reviewer now (parameters: given, else last set, else 0.95/0.95)."""
    if recall is None or confidence is None:
        recall_set, confidence_set = current_rule(review, stage, reviewer) or (DEFAULT_RECALL, DEFAULT_CONFIDENCE)
        recall = recall_set if recall is None else recall
        confidence = confidence_set if confidence is None else confidence
    sequence, total = screening_sequence(review, stage, reviewer, state)
    return evaluate(sequence, total, recall, confidence)


def check(review: "Review", stage: str, reviewer: str, recall: float | None = None,
          confidence: float | None = None, who: str | None = None,
          state: screening.ScreeningState | None = None) -> StoppingStatus:
    """`status`, logging the rule (if these parameters are new) and the moment it first fires.

    The widget calls this after every decision and the CLI on each run, so the log holds
    the parameters in force and when the target was first met under them.
    """
    result = status(review, stage, reviewer, recall, confidence, state)
    record(review, stage, reviewer, result, who)
    return result


def record(review: "Review", stage: str, reviewer: str, result: StoppingStatus, who: str | None = None) -> None:
    """Log a verdict `status` gave: the rule (if its parameters are new) and, if the target is met,
    the moment it first fired under them. (`check` is `status` then `record`; the widget, which
    already has the verdict, calls this alone.)"""
    set_rule(review, stage, reviewer, result.recall_target, result.confidence, who)
    if result.target_met:
        logged = _events(review, stage, reviewer)
        rule_set_at = max(event_id for event_id, kind, _, _ in logged if kind == RULE_EVENT)
        # Once per setting: the moment the rule first fired under the parameters in force.
        if not any(kind == FIRED_EVENT and event_id > rule_set_at for event_id, kind, _, _ in logged):
            payload = {"stage": stage, "reviewer": reviewer, "rule": RULE, "recall": result.recall_target,
                       "confidence": result.confidence, "total": result.total, "screened": result.screened,
                       "relevant": result.relevant, "p_value": result.p_value,
                       "recall_estimate": _json_number(result.recall_estimate),
                       "recall_lower_bound": result.recall_lower_bound, "sample_size": result.sample_size}
            with store.write_transaction(review.engine) as conn:
                events.append(conn, who or reviewer, events.StoppingRuleFired(**payload))


def describe(result: StoppingStatus) -> str:
    """One paragraph for a person: where the rule stands and what to do next."""
    target = f"{_percent(result.recall_target)} recall at {_percent(result.confidence)} confidence"
    estimate = ("no relevant record found yet" if math.isnan(result.recall_estimate) else
                f"estimated recall so far {_percent(result.recall_estimate)} (at least "
                f"{_percent(result.recall_lower_bound)} with {_percent(result.confidence)} confidence)")
    head = (f"Stopping rule ({target}): {result.screened:,} of {result.total:,} records screened, "
            f"{result.relevant:,} relevant; {estimate}; {format_p(result.p_value)} for 'recall below "
            f"{_percent(result.recall_target)}'.")
    if result.target_met:
        return head + (f" Target met: you may stop; the other {result.remaining:,} records need not be screened."
                       if result.remaining else " Target met: every record has been screened.")
    return head + (f" Target not yet met: screen at least {result.more_to_screen:,} more records (if none of them "
                   f"is relevant) before the rule can say so.")


def format_p(p: float) -> str:
    """"p = 0.0499" (4 decimals: it must not read as 0.05), or "p < 0.0001"."""
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def _json_number(value: float) -> float | None:
    return None if math.isnan(value) else value


def rule_events(review: "Review") -> list[dict]:
    """Every rule setting and firing in the log, oldest first (kind, time, actor-free payload)."""
    return [{"kind": kind, "at": created, **data} for _, kind, created, data in _events(review)]


def _percent(value: float) -> str:
    text = f"{100 * value:.1f}".rstrip("0").rstrip(".")
    return f"{text}%"


def methods_paragraph(review: "Review", state: screening.ScreeningState | None = None,
                      person=lambda reviewer_id: reviewer_id) -> str | None:
    """Methods text on the stopping rule (PRISMA 2020 item 8), or None if no reviewer used one."""
    events = _events(review)
    if not events:
        return None
    state = state or screening.ScreeningState.load(review)
    parts = []
    keys = list(dict.fromkeys((data["stage"], data["reviewer"]) for _, _, _, data in events))
    for stage, reviewer in keys:
        mine = [(kind, data) for _, kind, _, data in events if (data["stage"], data["reviewer"]) == (stage, reviewer)]
        rules = [data for kind, data in mine if kind == RULE_EVENT]
        fired = [data for kind, data in mine if kind == FIRED_EVENT]
        label = (review.protocol.stage(stage).label or stage).lower()
        last = rules[-1]
        text = (f"At {label} screening, {person(reviewer)} used a statistical stopping rule, {RULE_TEXT}: "
                f"screening could stop once the test rejected, at {_percent(last['confidence'])} confidence, the "
                f"hypothesis that fewer than {_percent(last['recall'])} of the relevant records had been found")
        if len(rules) > 1:
            earlier = "; ".join(f"{_percent(r['recall'])} recall at {_percent(r['confidence'])} confidence"
                                for r in rules[:-1])
            text += f" (settings changed during screening; earlier: {earlier})"
        text += "."
        sequence, total = screening_sequence(review, stage, reviewer, state)
        if fired:
            first = fired[0]
            text += (f" The rule indicated that the target was met after {first['screened']:,} of {first['total']:,} "
                     f"records had been screened ({first['relevant']:,} relevant; {format_p(first['p_value'])}; "
                     + (f"estimated recall {_percent(first['recall_estimate'])}, " if first["recall_estimate"] is not None
                        else "") + f"recall at least {_percent(first['recall_lower_bound'])} with {_percent(first['confidence'])} confidence).")
            text += (f" {person(reviewer)} screened {len(sequence):,} of {total:,} records in all"
                     + (f"; {total - len(sequence):,} were not screened by this reviewer." if len(sequence) < total
                        else "."))
        else:
            text += (f" The rule has not indicated that the target was met ({len(sequence):,} of {total:,} records "
                     f"screened by {person(reviewer)}).")
        parts.append(text)
    return " ".join(parts)
