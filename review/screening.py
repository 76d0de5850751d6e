"""Dual, blind screening: decisions, conflicts, resolutions, agreement, full texts.

The unit screened is a deduplicated record (a cluster): a decision on any of its
records counts for the cluster. Every decision, undo, resolution and full-text
note is an event (review.events); the state below is derived from the log by the
review's read model (review.readmodel, kept up to date incrementally), and nothing
is ever overwritten:

  - a reviewer's current decision on a cluster is their latest one not undone;
  - a stage's final decision is a resolution if there is one, else the agreed
    decision once `decisions_required` reviewers have decided the same way;
  - reviewers who disagree (or who both say "maybe") make a conflict, which a
    third reviewer or the team by consensus resolves, as the protocol says;
  - the records that enter a stage are those included at the stage before.

Blindness: queues and a reviewer's own view never show another reviewer's
decision; conflicts show all decisions, but only once every required reviewer
has decided.
"""

from __future__ import annotations

import csv
import io
import math
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import events, store
from review.errors import WorkbenchError
from review.io.base import without_nul
from review.io.rows import RowsError, read_rows, spreadsheet_cell
from review.readmodel import Decision, Removal, Resolution

if TYPE_CHECKING:
    from review.project import Review

INCLUDE, EXCLUDE, MAYBE = "include", "exclude", "maybe"
DECISIONS = (INCLUDE, EXCLUDE, MAYBE)
DECISION_EVENT, UNDO_EVENT, RESOLUTION_EVENT = (
    events.ScreenDecision.kind, events.ScreenUndo.kind, events.ScreenResolution.kind)
FULLTEXT_EVENT, NOT_RETRIEVED_EVENT = events.FullTextAttached.kind, events.FullTextNotRetrieved.kind
# PRISMA 2020's "records removed before screening" other than duplicates: marked
# ineligible by an automation tool, or removed for another reason (e.g. retracted).
REMOVED_EVENT, RESTORED_EVENT = events.RemovedBeforeScreening.kind, events.RestoredToScreening.kind
SCREENING_EVENTS = (DECISION_EVENT, UNDO_EVENT, RESOLUTION_EVENT, FULLTEXT_EVENT, NOT_RETRIEVED_EVENT,
                    REMOVED_EVENT, RESTORED_EVENT)

# Words people and other tools use for the three decisions.
_SYNONYMS = {
    INCLUDE: {"include", "included", "yes", "y", "1", "in", "relevant"},
    EXCLUDE: {"exclude", "excluded", "no", "n", "0", "out", "irrelevant"},
    MAYBE: {"maybe", "unsure", "undecided", "?", "conflict"},
}


class ScreeningError(WorkbenchError, ValueError):
    """A decision the protocol does not allow; `field` names the part at fault.

    str() is the message alone unless a file is named (a bulk import), so an API
    caller reads the sentence and a CSV importer reads `file:line: [field] message`.
    """

    def __init__(self, message: str, field: str | None = None, file: str | None = None, line: int | None = None):
        super().__init__(message, file=file, line=line, field=field)

    def __str__(self) -> str:
        return self.message if self.file is None else super().__str__()


@dataclass
class StageStatus:
    stage: str
    eligible: int
    screened: int
    included: int
    excluded: int
    conflicts: int
    pending: int
    not_retrieved: int = 0
    per_reviewer: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def normalise_decision(value: str) -> str:
    text = (value or "").strip().casefold()
    for decision, words in _SYNONYMS.items():
        if text in words:
            return decision
    raise ScreeningError(f"unknown decision {value!r}: use include, exclude or maybe")


# --- validation against the protocol -----------------------------------------------


def _check(review: "Review", stage: str, reviewer: str, decision: str, reasons: Iterable[str],
           resolving: bool = False) -> tuple[str, tuple[str, ...]]:
    protocol = review.protocol
    try:
        stage_def = protocol.stage(stage)
    except KeyError as exc:
        raise ScreeningError(str(exc.args[0]), "stage") from None
    allowed = stage_def.reviewers or [r.id for r in protocol.reviewers]
    if not resolving and allowed and reviewer not in allowed:
        raise ScreeningError(f"reviewer {reviewer!r} does not screen stage {stage!r} "
                             f"(its reviewers: {', '.join(allowed)})", "reviewer")
    try:
        decision = normalise_decision(decision)
    except ScreeningError as exc:
        raise ScreeningError(str(exc), "decision") from None
    reasons = tuple(r.strip() for r in reasons if r and r.strip())
    codes = {r.code: r for r in protocol.exclusion_reasons}
    for reason in reasons:
        if reason not in codes:
            raise ScreeningError(f"unknown exclusion reason {reason!r} (protocol codes: {', '.join(codes)})",
                                 "reasons")
        if codes[reason].stages and stage not in codes[reason].stages:
            raise ScreeningError(f"exclusion reason {reason!r} is not used at stage {stage!r}", "reasons")
    if reasons and decision != EXCLUDE:
        raise ScreeningError(f"reasons go with an exclusion, not with {decision!r}", "reasons")
    if decision == EXCLUDE and stage_def.reason_required and not reasons:
        raise ScreeningError(f"an exclusion at stage {stage!r} needs a reason from the protocol "
                             f"({', '.join(codes)})", "reasons")
    if len(set(reasons)) != len(reasons):
        raise ScreeningError("the same reason is given twice", "reasons")
    return decision, reasons


# --- the derived state -----------------------------------------------------------------


@dataclass
class ScreeningState:
    """Everything screening knows, derived from the records, clusters and the log."""

    stages: list[str]
    required: dict[str, int]
    clusters: dict[int, int]  # record id -> cluster id
    cluster_order: list[int]  # cluster ids in import order
    decisions: dict[str, dict[int, dict[str, Decision]]]  # stage -> cluster -> reviewer -> current decision
    history: dict[str, dict[str, list[Decision]]]  # stage -> reviewer -> decisions in order (not undone)
    resolutions: dict[str, dict[int, Resolution]]  # stage -> cluster -> latest resolution
    full_texts: dict[int, str]  # cluster -> location of its full text
    not_retrieved: dict[int, str]  # cluster -> note
    removed: dict[int, "Removal"] = field(default_factory=dict)  # cluster -> why it never enters screening

    @classmethod
    def load(cls, review: "Review") -> "ScreeningState":
        """The current state, as a copy the caller may change (e.g. a session that decides as it goes)."""
        return cls._from_model(review, copy=True)

    @classmethod
    def current(cls, review: "Review") -> "ScreeningState":
        """The current state, shared with the read model: read it, never change it."""
        return cls._from_model(review, copy=False)

    @classmethod
    def _from_model(cls, review: "Review", copy: bool) -> "ScreeningState":
        model = review.read_model()
        clusters = model.clusters()
        screened = model.screening()
        stages = [s.name for s in review.protocol.stages]
        required = {s.name: s.decisions_required for s in review.protocol.stages}
        order = model.memo("cluster_order", model.clusters_version,
                           lambda: list(dict.fromkeys(clusters[r] for r in sorted(clusters))))
        if not copy:
            return cls(stages, required, clusters, order, {s: screened.decisions[s] for s in stages},
                       {s: screened.history[s] for s in stages}, {s: screened.resolutions[s] for s in stages},
                       screened.full_texts, screened.not_retrieved, screened.removed)
        return cls(
            stages, required, dict(clusters), list(order),
            {s: defaultdict(dict, {c: dict(r) for c, r in screened.decisions[s].items()}) for s in stages},
            {s: defaultdict(list, {r: list(h) for r, h in screened.history[s].items()}) for s in stages},
            {s: dict(screened.resolutions[s]) for s in stages},
            dict(screened.full_texts), dict(screened.not_retrieved), dict(screened.removed))

    def cluster_of(self, record_id: int) -> int:
        if record_id not in self.clusters:
            raise ScreeningError(f"no such record: {record_id}")
        return self.clusters[record_id]

    def outcome(self, stage: str, cluster: int) -> str | None:
        """include / exclude once final, "conflict", or None while pending."""
        resolution = self.resolutions[stage].get(cluster)
        if resolution is not None:
            return resolution.decision
        decided = self.decisions[stage].get(cluster, {})
        if len(decided) < self.required[stage]:
            return None
        kinds = {d.decision for d in decided.values()}
        if len(kinds) == 1 and kinds != {MAYBE}:
            return kinds.pop()
        return "conflict"

    def final_reasons(self, stage: str, cluster: int) -> tuple[str, ...]:
        resolution = self.resolutions[stage].get(cluster)
        if resolution is not None:
            return resolution.reasons
        decided = sorted(self.decisions[stage].get(cluster, {}).values(), key=lambda d: d.event_id)
        return decided[0].reasons if decided else ()

    def eligible(self, stage: str) -> list[int]:
        """Clusters that enter `stage`: all at the first, those included at the one before after that."""
        index = self.stages.index(stage)
        if index == 0:
            return [c for c in self.cluster_order if c not in self.removed]
        before = self.stages[index - 1]
        return [c for c in self.eligible(before) if self.outcome(before, c) == INCLUDE]

    def can_screen(self, stage: str, cluster: int) -> bool:
        """Whether a cluster is in a stage's pool (without listing the whole pool)."""
        index = self.stages.index(stage)
        if index == 0:
            return cluster not in self.removed
        before = self.stages[index - 1]
        return (cluster not in self.not_retrieved and self.outcome(before, cluster) == INCLUDE
                and self.can_screen(before, cluster))

    def screenable(self, stage: str) -> list[int]:
        """Eligible clusters that can be screened (full text found, at later stages)."""
        clusters = self.eligible(stage)
        if self.stages.index(stage) == 0:
            return clusters
        return [c for c in clusters if c not in self.not_retrieved]

    def reviewer_decision(self, stage: str, cluster: int, reviewer: str) -> Decision | None:
        return self.decisions[stage].get(cluster, {}).get(reviewer)


# --- writing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRequest:
    """One decision to record, as a person or a file gives it (before any check)."""

    stage: str
    reviewer: str
    record_id: int
    decision: str
    reasons: tuple[str, ...] = ()
    note: str = ""
    decided_at: str | None = None
    order: str | None = None
    imported_from: str | None = None
    imported_by: str | None = None


def plan_decisions(review: "Review", state: ScreeningState, requests: Iterable[DecisionRequest],
                   on_error=None, apply: bool = False) -> list[events.ScreenDecision]:
    """Check decisions against the protocol and the current state; the events to append, in order.

    The one planner behind `decide` (one request) and `import_decisions` (a file of
    them), so both refuse the same things: an unknown stage, reviewer or reason, a
    record removed before screening, or one not included at the stage before.
    With `apply`, each accepted decision is applied to `state` (a copy from
    `ScreeningState.load`) as it is planned, so a later row sees an earlier one (two
    reviewers' title/abstract inclusions, then a full-text decision). `on_error(index, ScreeningError)` may raise a richer error (a file's
    line); by default the error is raised as it is.
    """
    planned = []
    for index, request in enumerate(requests):
        try:
            event = _plan_one(review, state, request)
        except ScreeningError as exc:
            if on_error is None:
                raise
            on_error(index, exc)
            raise
        planned.append(event)
        if apply:
            _record(state, -1 - index, event)  # not yet in the log: a provisional id
    return planned


def _plan_one(review: "Review", state: ScreeningState, request: DecisionRequest) -> events.ScreenDecision:
    decision, reasons = _check(review, request.stage, request.reviewer, request.decision, request.reasons)
    if "\x00" in (request.note or ""):
        raise ScreeningError("the note contains a NUL byte", "note")  # single and bulk paths alike
    cluster = state.cluster_of(int(request.record_id))
    stage = request.stage
    if not state.can_screen(stage, cluster):
        if cluster in state.removed:
            why = f"it was removed before screening ({state.removed[cluster].reason})"
        elif cluster in state.not_retrieved:
            why = "its full text was not retrieved"
        else:
            why = f"it was not included at the stage before {stage!r}"
        raise ScreeningError(f"record {request.record_id} cannot be screened at stage {stage!r}: {why}",
                             "record_id")
    return events.ScreenDecision(stage=stage, reviewer=request.reviewer, record_id=cluster, decision=decision,
                                 reasons=reasons, note=request.note, decided_at=request.decided_at,
                                 order=request.order, imported_from=request.imported_from,
                                 imported_by=request.imported_by)


def _record(state: ScreeningState, event_id: int, event: events.ScreenDecision) -> Decision:
    """Apply an appended decision to a caller's state, as the read model will on its next refresh."""
    made = Decision(event_id, event.record_id, event.stage, event.reviewer, event.decision, tuple(event.reasons),
                    event.note, event.decided_at or store.utc_now())
    state.decisions[made.stage][made.record_id][made.reviewer] = made
    state.history[made.stage][made.reviewer].append(made)
    return made


def decide(review: "Review", stage: str, reviewer: str, record_id: int, decision: str,
           reasons: Iterable[str] = (), note: str = "", decided_at: str | None = None,
           state: ScreeningState | None = None, order: str | None = None) -> Decision:
    """Record one reviewer's decision on a record (its cluster) at a stage.

    A one-row bulk import: the same planner as `import_decisions` checks it.
    `order` names how the record came to be shown (a session's "model", "random" or
    "import" order); it is kept with the decision so the methods text can say which
    prioritisation was used (PRISMA 2020 item 8). A `state` passed in is updated.
    """
    request = DecisionRequest(stage, reviewer, int(record_id), decision, tuple(reasons), note, decided_at, order)
    (event,) = plan_decisions(review, state or ScreeningState.current(review), [request])
    with store.write_transaction(review.engine) as conn:
        event_id = events.append(conn, reviewer, event)
    if state is not None:
        return _record(state, event_id, event)
    return Decision(event_id, event.record_id, stage, reviewer, event.decision, tuple(event.reasons), note,
                    decided_at or store.utc_now())


def undo_last(review: "Review", stage: str, reviewer: str, state: ScreeningState | None = None) -> Decision | None:
    """Withdraw the reviewer's latest decision at a stage (one more event); returns what was undone."""
    state = state or ScreeningState.load(review)
    history = state.history[stage][reviewer]
    if not history:
        return None
    last = history.pop()
    with store.write_transaction(review.engine) as conn:
        events.append(conn, reviewer, events.ScreenUndo(stage=stage, undoes=last.event_id, record_id=last.record_id))
    cluster = state.clusters.get(last.record_id, last.record_id)
    earlier = [d for d in history if state.clusters.get(d.record_id, d.record_id) == cluster]
    if earlier:
        state.decisions[stage][cluster][reviewer] = earlier[-1]
    else:
        state.decisions[stage][cluster].pop(reviewer, None)
    return last


def resolve(review: "Review", stage: str, record_id: int, decision: str, who: str,
            reasons: Iterable[str] = (), note: str = "") -> Resolution:
    """Settle a conflict as the protocol says: by its named third reviewer, or by consensus."""
    decision, reasons = _check(review, stage, who, decision, reasons, resolving=True)
    if decision == MAYBE:
        raise ScreeningError("a resolution must include or exclude")
    stage_def = review.protocol.stage(stage)
    state = ScreeningState.current(review)
    cluster = state.cluster_of(int(record_id))
    if state.outcome(stage, cluster) != "conflict" and cluster not in state.resolutions[stage]:
        raise ScreeningError(f"record {record_id} has no conflict at stage {stage!r} to resolve")
    if stage_def.resolution == "third_reviewer":
        if who != stage_def.resolver:
            raise ScreeningError(f"conflicts at stage {stage!r} are resolved by {stage_def.resolver!r}, not {who!r}")
        method = "third_reviewer"
    else:
        method = "consensus"
    event = events.ScreenResolution(stage=stage, record_id=cluster, decision=decision, resolved_by=who,
                                    method=method, reasons=reasons, note=note)
    with store.write_transaction(review.engine) as conn:
        event_id = events.append(conn, who, event)
    return Resolution(event_id, cluster, stage, decision, reasons, who, method, note)


def attach_full_text(review: "Review", record_id: int, location: str, who: str) -> None:
    """Attach a full text (file path or URL, PDF or text) to a record."""
    location = (location or "").strip()
    if not location:
        raise ScreeningError("give a file path or URL for the full text")
    if not location.lower().startswith(("http://", "https://")):
        path = Path(location)
        if not path.is_absolute():
            path = (review.path / path)
        if not path.exists():
            raise ScreeningError(f"full text file not found: {location}")
    cluster = ScreeningState.current(review).cluster_of(int(record_id))
    with store.write_transaction(review.engine) as conn:
        events.append(conn, who, events.FullTextAttached(record_id=cluster, location=location))


def mark_not_retrieved(review: "Review", record_id: int, who: str, note: str = "") -> None:
    """The full text could not be obtained (PRISMA: reports not retrieved)."""
    cluster = ScreeningState.current(review).cluster_of(int(record_id))
    with store.write_transaction(review.engine) as conn:
        events.append(conn, who, events.FullTextNotRetrieved(record_id=cluster, note=note))


def remove_before_screening(review: "Review", record_ids: Iterable[int], reason: str, who: str,
                            automated: bool = False) -> list[int]:
    """Take records out before screening (PRISMA: "records removed before screening").

    `automated=True` for records an automation tool marked ineligible, otherwise
    "removed for other reasons" (say which in `reason`). A record someone has already
    screened must be excluded by screening instead. Returns the clusters removed.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ScreeningError("say why the records are removed (e.g. 'retracted', 'published before 1999')",
                             "reason")
    state = ScreeningState.current(review)
    first = state.stages[0]
    clusters = []
    for record_id in record_ids:
        cluster = state.cluster_of(int(record_id))
        if state.decisions[first].get(cluster):
            raise ScreeningError(f"record {record_id} has screening decisions at {first!r}: exclude it there "
                                 f"instead of removing it", "record_id")
        if cluster not in state.removed and cluster not in clusters:
            clusters.append(cluster)
    with store.write_transaction(review.engine) as conn:
        for cluster in clusters:
            events.append(conn, who, events.RemovedBeforeScreening(record_id=cluster, reason=reason,
                                                                   automated=bool(automated), removed_by=who))
    return clusters


def restore_removed(review: "Review", record_ids: Iterable[int], who: str) -> list[int]:
    """Bring records removed before screening back into the first stage's pool."""
    state = ScreeningState.current(review)
    clusters = [c for c in dict.fromkeys(state.cluster_of(int(r)) for r in record_ids) if c in state.removed]
    with store.write_transaction(review.engine) as conn:
        for cluster in clusters:
            events.append(conn, who, events.RestoredToScreening(record_id=cluster))
    return clusters


# --- reading ---------------------------------------------------------------------------


def queue(review: "Review", stage: str, reviewer: str, state: ScreeningState | None = None) -> list[int]:
    """The clusters a reviewer has still to screen at a stage, in import order.

    Blind by construction: it depends only on this reviewer's own decisions.
    """
    state = state or ScreeningState.current(review)
    return [c for c in state.screenable(stage) if state.reviewer_decision(stage, c, reviewer) is None]


def stage_status(review: "Review", state: ScreeningState | None = None) -> list[StageStatus]:
    state = state or ScreeningState.current(review)
    result = []
    for stage in state.stages:
        eligible = state.eligible(stage)
        outcomes = Counter(state.outcome(stage, c) for c in eligible if c not in state.not_retrieved
                           or state.stages.index(stage) == 0)
        not_retrieved = sum(1 for c in eligible if c in state.not_retrieved) if state.stages.index(stage) else 0
        per_reviewer = Counter(r for c in eligible for r in state.decisions[stage].get(c, {}))
        result.append(StageStatus(
            stage=stage, eligible=len(eligible),
            screened=outcomes[INCLUDE] + outcomes[EXCLUDE],
            included=outcomes[INCLUDE], excluded=outcomes[EXCLUDE], conflicts=outcomes["conflict"],
            pending=outcomes[None], not_retrieved=not_retrieved, per_reviewer=dict(sorted(per_reviewer.items())),
        ))
    return result


def status_frame(review: "Review") -> pd.DataFrame:
    rows = [s.to_dict() for s in stage_status(review)]
    for row in rows:
        row.pop("per_reviewer")
    return pd.DataFrame(rows).set_index("stage")


def conflicts(review: "Review", stage: str, state: ScreeningState | None = None,
              labels: bool = False) -> pd.DataFrame:
    """Unresolved conflicts, with every reviewer's decision (all of them have decided).

    `labels`: exclusion reasons by the protocol's labels, for people to read; codes otherwise
    (exports and JSON keep codes)."""
    state = state or ScreeningState.current(review)
    names = {r.code: r.label or r.code for r in review.protocol.exclusion_reasons} if labels else {}
    records = review.records_frame().set_index("record_id")
    rows = []
    for cluster in state.screenable(stage):
        if state.outcome(stage, cluster) != "conflict":
            continue
        decided = state.decisions[stage][cluster]
        row = {"record_id": cluster, "title": records.at[cluster, "title"], "year": records.at[cluster, "year"]}
        for reviewer, d in sorted(decided.items()):
            reasons = [names.get(code, code) for code in d.reasons]
            row[reviewer] = d.decision + (f" ({', '.join(reasons)})" if reasons else "")
            if d.note:
                row[f"{reviewer} note"] = d.note
        rows.append(row)
    return pd.DataFrame(rows)


def cohen_kappa(first: list[str], second: list[str]) -> float:
    """Cohen's kappa of two raters over the same items (NaN when undefined)."""
    n = len(first)
    if n == 0:
        return math.nan
    observed = sum(a == b for a, b in zip(first, second)) / n
    count_a, count_b = Counter(first), Counter(second)
    expected = sum(count_a[k] * count_b[k] for k in set(count_a) | set(count_b)) / (n * n)
    if expected == 1:
        return 1.0 if observed == 1 else math.nan
    return (observed - expected) / (1 - expected)


def agreement(review: "Review", state: ScreeningState | None = None) -> pd.DataFrame:
    """Per stage and reviewer pair: records both screened, % agreement, Cohen's kappa."""
    state = state or ScreeningState.current(review)
    rows = []
    for stage in state.stages:
        by_reviewer: dict[str, dict[int, str]] = defaultdict(dict)
        for cluster, decided in state.decisions[stage].items():
            for reviewer, d in decided.items():
                by_reviewer[reviewer][cluster] = d.decision
        for a, b in combinations(sorted(by_reviewer), 2):
            common = sorted(set(by_reviewer[a]) & set(by_reviewer[b]))
            first = [by_reviewer[a][c] for c in common]
            second = [by_reviewer[b][c] for c in common]
            agree = sum(x == y for x, y in zip(first, second))
            rows.append({"stage": stage, "reviewer_a": a, "reviewer_b": b, "records": len(common),
                         "agreements": agree,
                         "percent_agreement": round(100 * agree / len(common), 1) if common else math.nan,
                         "kappa": round(cohen_kappa(first, second), 3) if common else math.nan})
    return pd.DataFrame(rows, columns=["stage", "reviewer_a", "reviewer_b", "records", "agreements",
                                       "percent_agreement", "kappa"])


def exclusion_reasons(review: "Review", stage: str, state: ScreeningState | None = None) -> pd.DataFrame:
    """Final exclusions at a stage counted by primary reason (the first given), as PRISMA reports them."""
    state = state or ScreeningState.current(review)
    labels = {r.code: r.label for r in review.protocol.exclusion_reasons}
    counts = Counter()
    for cluster in state.screenable(stage):
        if state.outcome(stage, cluster) == EXCLUDE:
            reasons = state.final_reasons(stage, cluster)
            counts[reasons[0] if reasons else "(no reason given)"] += 1
    rows = [{"reason": code, "label": labels.get(code, ""), "records": n} for code, n in counts.most_common()]
    return pd.DataFrame(rows, columns=["reason", "label", "records"])


# --- bulk decisions in and out ----------------------------------------------------------

IMPORT_COLUMNS = ("record_id", "source_id", "import_file", "stage", "reviewer", "decision", "reasons", "note", "time")


def import_decisions(review: "Review", file: str | Path, who: str) -> int:
    """Import decisions from a CSV (e.g. brought over from Rayyan or Covidence).

    Columns: record_id or source_id (+ import_file when a source id repeats across
    files), stage, reviewer, decision, reasons (";"-separated codes), note, time.
    Every row is checked first; one bad row fails the whole file, naming its line
    and field, and nothing is written.
    """
    file = Path(file)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScreeningError(f"cannot read: {exc}", file=str(file)) from None
    try:
        header, rows = read_rows(text, str(file))
    except RowsError as exc:
        raise ScreeningError(exc.message, file=exc.path, line=exc.line) from None
    unknown = [h for h in header if h not in IMPORT_COLUMNS]
    if unknown:
        raise ScreeningError(f"unknown column {unknown[0]!r} (columns: {', '.join(IMPORT_COLUMNS)})",
                             file=str(file), line=1)
    for needed in ("stage", "reviewer", "decision"):
        if needed not in header:
            raise ScreeningError(f"missing column {needed!r}", file=str(file), line=1)
    if "record_id" not in header and "source_id" not in header:
        raise ScreeningError("needs a record_id or a source_id column", file=str(file), line=1)

    records = review.records_frame()
    by_id = set(records["record_id"].astype(int)) if not records.empty else set()
    by_source: dict[tuple[str, str], list[int]] = defaultdict(list)
    for rid, sid, imp in zip(records.get("record_id", []), records.get("source_id", []),
                             records.get("import_file", [])):
        by_source[(str(sid), "")].append(int(rid))
        by_source[(str(sid), str(imp))].append(int(rid))
    requests: list[tuple[int, DecisionRequest]] = []
    for parsed in rows:
        line, row = parsed.line, parsed.cells

        def fail(column: str, message: str):
            raise ScreeningError(message, field=column, file=str(file), line=line)

        if row.get("record_id"):
            try:
                record_id = int(row["record_id"])
            except ValueError:
                fail("record_id", f"not a record id: {row['record_id']!r}")
            if record_id not in by_id:
                fail("record_id", f"no record {record_id} in this review")
        elif row.get("source_id"):
            matches = by_source.get((row["source_id"], row.get("import_file", "")), [])
            if not matches:
                fail("source_id", f"no record with source id {row['source_id']!r}")
            if len(set(matches)) > 1:
                fail("source_id", f"source id {row['source_id']!r} is in several imports: add import_file")
            record_id = matches[0]
        else:
            fail("record_id", "empty: give record_id or source_id")
        try:
            _check(review, row["stage"], row["reviewer"], row["decision"], row.get("reasons", "").split(";"))
        except ScreeningError as exc:
            fail(exc.field or "decision", exc.message)
        when = row.get("time", "")
        if when:
            try:
                datetime.fromisoformat(when.replace("Z", "+00:00"))
            except ValueError:
                fail("time", f"not an ISO 8601 time: {when!r}")
        requests.append((line, DecisionRequest(row["stage"], row["reviewer"], record_id, row["decision"],
                                                tuple(row.get("reasons", "").split(";")), row.get("note", ""),
                                                when or None, imported_from=file.name, imported_by=who)))

    # Then the planner `decide` uses, stage by stage (file order within a stage), applied
    # as it goes on a copy of the state: a file may list a reviewer's full-text decision
    # before the other reviewer's title/abstract one that makes the record eligible.
    state = ScreeningState.load(review)
    stages = {name: i for i, name in enumerate(state.stages)}
    planned: list[events.ScreenDecision] = []
    for line, request in sorted(requests, key=lambda item: stages[item[1].stage]):
        try:
            (event,) = plan_decisions(review, state, [request], apply=True)
        except ScreeningError as exc:
            raise ScreeningError(exc.message, field=exc.field or "decision", file=str(file), line=line) from None
        planned.append(event)
    with store.write_transaction(review.engine) as conn:
        for event in planned:
            events.append(conn, event.reviewer, event)
    return len(planned)


def export_decisions(review: "Review", out: str | Path | None = None) -> str:
    """Every reviewer's current decision as CSV (the columns import_decisions reads)."""
    state = ScreeningState.current(review)
    records = review.records_frame().set_index("record_id")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["record_id", "source_id", "import_file", "stage", "reviewer", "decision", "reasons", "note",
                     "time"])
    for stage in state.stages:
        for cluster in state.eligible(stage):
            for reviewer, d in sorted(state.decisions[stage].get(cluster, {}).items()):
                writer.writerow([spreadsheet_cell(c) for c in (
                    cluster, records.at[cluster, "source_id"], records.at[cluster, "import_file"],
                    stage, reviewer, d.decision, ";".join(d.reasons), d.note, d.decided_at)])
    text = without_nul(buffer.getvalue())
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text
