"""The current state of a review, replayed from the event log once and kept up to date.

Every reader of the log asks this module instead of selecting and replaying
events itself: deduplication (reviewers' pair decisions and splits, the latest
run), screening (decisions, undos, resolutions, full texts, removals), schemes
and extractions. A `ReadModel` belongs to one open `Review` (`review.read_model()`);
the first read replays the whole log, and each later read asks the database for
the events after the last id it has seen (one query) and applies only those.

What depends on more than the log is derived lazily and kept until an event
that changes it arrives: the clusters (records, the latest run's pairs and the
reviewers' decisions: invalidated by "import" and "dedup.*" events) and the
screening state mapped onto clusters (rebuilt from the decoded events, in
memory, when the clusters change).

The state objects handed out are the model's own: treat them as read-only.
`ScreeningState.load` and `SchemeState.load` return copies a caller may change.

Kinds of events this version does not know (written by a newer workbench) are
not skipped in silence: they are counted in `warnings`, which `review status` shows.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
from sqlalchemy import select

from review import events as ev
from review import store
from review.dedup import AUTO_MERGE
from review.dedup.cluster import cluster

SAME, DIFFERENT, SKIP = "same", "different", "skip"
# Fields whose presence makes a record the better primary of its cluster.
COMPLETENESS = ("title", "journal", "volume", "issue", "pages", "doi", "pmid", "abstract", "url")
# Kinds after which the clusters (and so everything mapped onto them) must be derived again.
CLUSTER_KINDS = frozenset({ev.ImportDone.kind, ev.DedupRun.kind, ev.PairDecision.kind, ev.ClusterSplit.kind})
# In PostgreSQL an event id can become visible after a higher one (sequences are not
# transactional); ids skipped in a batch are asked for again for this many seconds.
GAP_SECONDS = 120.0


def pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


# --- state objects -------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    event_id: int
    record_id: int
    stage: str
    reviewer: str
    decision: str
    reasons: tuple[str, ...]
    note: str
    decided_at: str


@dataclass(frozen=True)
class Resolution:
    event_id: int
    record_id: int
    stage: str
    decision: str
    reasons: tuple[str, ...]
    resolved_by: str
    method: str
    note: str


@dataclass(frozen=True)
class Removal:
    record_id: int
    reason: str
    automated: bool
    removed_by: str


@dataclass
class Scheme:
    scheme_id: str
    name: str
    merged_into: str | None = None
    reports: set[int] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return self.merged_into is None


@dataclass(frozen=True)
class Logged:
    """A decoded event with its id and time."""

    event_id: int
    created_at: str
    event: Any


@dataclass
class Screening:
    """Screening mapped onto the current clusters, every stage found in the log."""

    decisions: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(dict)))
    history: dict = field(default_factory=lambda: defaultdict(lambda: defaultdict(list)))
    resolutions: dict = field(default_factory=lambda: defaultdict(dict))
    full_texts: dict[int, str] = field(default_factory=dict)
    not_retrieved: dict[int, str] = field(default_factory=dict)
    removed: dict[int, Removal] = field(default_factory=dict)
    by_event: dict[int, Decision] = field(default_factory=dict)  # decisions in force, by event id


class ReadModel:
    """One review's log, replayed once; `refresh()` applies only the events since."""

    def __init__(self, engine):
        self.engine = engine
        self.events_read = 0  # rows decoded since this model was made (a second read adds only new ones)
        self.queries = 0  # queries of the events table
        self._reset()

    def _reset(self) -> None:
        self.last_id = 0
        self._gaps: dict[int, float] = {}
        self.unknown_kinds: Counter = Counter()
        self.malformed: list[str] = []
        self.latest_run: int | None = None
        self.dedup_runs: list[Logged] = []
        self.run_counts: dict = {}
        self.pair_decisions: dict[tuple[int, int], str] = {}  # latest per pair, "skip" included
        self.screen_log: list[Logged] = []
        self.undone: set[int] = set()
        self.schemes: dict[str, Scheme] = {}
        self.saves: list[Logged] = []
        self.agreements: list[Logged] = []
        self.records_version = 0  # import events seen
        self.clusters_version = 0  # events that change clusters seen
        self._clusters: dict[int, int] | None = None
        self._screening: Screening | None = None
        self._memo: dict[str, tuple[Any, Any]] = {}

    # --- reading the log ---------------------------------------------------------------

    def refresh(self) -> "ReadModel":
        """Apply the events written since the last refresh (one query)."""
        query = select(store.events.c.id, store.events.c.created_at, store.events.c.kind,
                       store.events.c.entity_id, store.events.c.payload)
        late = self._open_gaps()
        if late:
            query = query.where((store.events.c.id > self.last_id) | store.events.c.id.in_(late))
        else:
            query = query.where(store.events.c.id > self.last_id)
        with store.read_connection(self.engine) as conn:
            rows = conn.execute(query.order_by(store.events.c.id)).all()
        self.queries += 1
        if late and any(r.id in self._gaps for r in rows):
            # An event committed out of order: replay everything rather than apply it late.
            self._reset()
            return self.refresh()
        for row in rows:
            if self.engine.dialect.name != "sqlite" and row.id > self.last_id + 1:
                now = time.monotonic()
                self._gaps.update((i, now) for i in range(self.last_id + 1, min(row.id, self.last_id + 1001)))
            self._read(row)
            self.last_id = max(self.last_id, row.id)
        return self

    def _open_gaps(self) -> list[int]:
        now = time.monotonic()
        self._gaps = {i: t for i, t in self._gaps.items() if now - t < GAP_SECONDS}
        return sorted(self._gaps)

    def _read(self, row) -> None:
        self.events_read += 1
        try:
            event = ev.decode(row.kind, json.loads(row.payload))
        except (ValueError, TypeError) as exc:
            self.malformed.append(f"event {row.id} ({row.kind}): {exc}")
            return
        if event is None:
            self.unknown_kinds[row.kind] += 1
            return
        try:
            self._apply(Logged(row.id, row.created_at, event))
        except KeyError as exc:
            self.malformed.append(f"event {row.id} ({row.kind}): refers to unknown {exc.args[0]!r}")

    @property
    def warnings(self) -> list[str]:
        """What the log holds that this version cannot use: shown by `review status`."""
        out = [f"{n} event(s) of unknown kind {kind!r} (written by a newer version of the workbench?) "
               f"were not applied" for kind, n in sorted(self.unknown_kinds.items())]
        return out + self.malformed

    def _apply(self, logged: Logged) -> None:
        event = logged.event
        if event.kind in CLUSTER_KINDS:
            self.clusters_version += 1
            self._clusters = None
            self._screening = None
        if isinstance(event, ev.ImportDone):
            self.records_version += 1
        elif isinstance(event, ev.DedupRun):
            self.latest_run, self.run_counts = logged.event_id, dict(event.counts)
            self.dedup_runs.append(logged)
        elif isinstance(event, ev.PairDecision):
            self.pair_decisions[pair(event.a, event.b)] = event.decision
        elif isinstance(event, ev.ClusterSplit):
            for other in event.others:
                self.pair_decisions[pair(event.record_id, other)] = DIFFERENT
        elif isinstance(event, (ev.ScreenDecision, ev.ScreenUndo, ev.ScreenResolution, ev.FullTextAttached,
                                ev.FullTextNotRetrieved, ev.RemovedBeforeScreening, ev.RestoredToScreening)):
            self.screen_log.append(logged)
            if isinstance(event, ev.ScreenUndo):
                self.undone.add(event.undoes)
            if self._screening is not None:
                self._screen(self._screening, self._clusters, logged, incremental=True)
        elif isinstance(event, ev.SchemeCreated):
            self.schemes[event.scheme_id] = Scheme(event.scheme_id, event.name)
        elif isinstance(event, ev.SchemeRenamed):
            self.schemes[event.scheme_id].name = event.name
        elif isinstance(event, ev.ReportLinked):
            self.schemes[event.scheme_id].reports.add(event.record_id)
        elif isinstance(event, ev.ReportUnlinked):
            self.schemes[event.scheme_id].reports.discard(event.record_id)
        elif isinstance(event, ev.SchemesMerged):
            keep, absorb = self.schemes[event.keep], self.schemes[event.absorb]
            keep.reports |= absorb.reports
            absorb.reports = set()
            absorb.merged_into = keep.scheme_id
        elif isinstance(event, ev.SchemeSplit):
            source = self.schemes[event.scheme_id]
            moved = set(event.records)
            source.reports -= moved
            self.schemes[event.new_id] = Scheme(event.new_id, event.name, reports=moved)
        elif isinstance(event, ev.ExtractionSaved):
            self.saves.append(logged)
        elif isinstance(event, ev.ExtractionAgreed):
            self.agreements.append(logged)

    def logged(self, kind: str) -> list[Logged]:
        """The events of one kind the model keeps (dedup runs, screening, extraction), oldest first."""
        pool = {ev.DedupRun.kind: self.dedup_runs, ev.ExtractionSaved.kind: self.saves,
                ev.ExtractionAgreed.kind: self.agreements}.get(kind, self.screen_log)
        return [entry for entry in pool if entry.event.kind == kind]

    # --- deduplication -------------------------------------------------------------------

    def manual_decisions(self) -> dict[tuple[int, int], str]:
        """Latest reviewer decision per pair (splits count as "different"), skips left out."""
        return {p: d for p, d in self.pair_decisions.items() if d != SKIP}

    def clusters(self) -> dict[int, int]:
        """record id -> cluster id (the id of the cluster's primary, most complete record)."""
        if self._clusters is None:
            self._clusters = self._derive_clusters()
        return self._clusters

    def _derive_clusters(self) -> dict[int, int]:
        records = store.records.c
        pairs = store.dedup_pairs.c
        with store.read_connection(self.engine) as conn:
            recs = conn.execute(select(records.id, records.authors, *[records[c] for c in COMPLETENESS],
                                       records.year).order_by(records.id)).all()
            run = []
            if self.latest_run is not None:
                run = conn.execute(select(pairs.record_a, pairs.record_b, pairs.score, pairs.decision, pairs.conflict)
                                   .where(pairs.run_event_id == self.latest_run,
                                          (pairs.decision == AUTO_MERGE) | (pairs.conflict == 1))
                                   .order_by(pairs.id)).all()
        if not recs:
            return {}
        ids = [r.id for r in recs]
        position = {rid: i for i, rid in enumerate(ids)}
        completeness = np.array(
            [sum(1 for c in COMPLETENESS if getattr(r, c)) + (r.year is not None) + (r.authors != "[]")
             for r in recs], dtype=np.int64)
        manual = self.manual_decisions()
        merges = sorted((p for p in run if p.decision == AUTO_MERGE), key=lambda p: -p.score)  # stable
        merge_list = [(position[p.record_a], position[p.record_b]) for p in merges
                      if p.record_a in position and p.record_b in position
                      and manual.get(pair(p.record_a, p.record_b)) != DIFFERENT]
        # The scorer's conflicts stop automatic merges; a reviewer's "same" may still join them.
        conflicts = [(position[p.record_a], position[p.record_b]) for p in run
                     if p.conflict and p.record_a in position and p.record_b in position]
        cannot = [(position[a], position[b]) for (a, b), d in manual.items()
                  if d == DIFFERENT and a in position and b in position]
        must = [(position[a], position[b]) for (a, b), d in manual.items()
                if d == SAME and a in position and b in position]
        result = cluster(len(ids), merge_list, cannot, completeness, must_link=must, conflicts=conflicts)
        return {rid: ids[int(primary)] for rid, primary in zip(ids, result.root)}

    # --- screening -----------------------------------------------------------------------

    def screening(self) -> Screening:
        """Every stage's decisions, resolutions, full texts and removals, on the current clusters."""
        clusters = self.clusters()
        if self._screening is None:
            state = Screening()
            for logged in self.screen_log:
                self._screen(state, clusters, logged, incremental=False)
            self._screening = state
        return self._screening

    def _screen(self, state: Screening, clusters: dict[int, int], logged: Logged, incremental: bool) -> None:
        event = logged.event
        if isinstance(event, ev.ScreenDecision):
            if logged.event_id in self.undone:
                return
            made = Decision(logged.event_id, event.record_id, event.stage, event.reviewer, event.decision,
                            tuple(event.reasons), event.note, event.decided_at or logged.created_at)
            home = clusters.get(made.record_id, made.record_id)
            state.decisions[made.stage][home][made.reviewer] = made
            state.history[made.stage][made.reviewer].append(made)
            state.by_event[made.event_id] = made
        elif isinstance(event, ev.ScreenUndo):
            if incremental:
                self._withdraw(state, clusters, event.undoes)
        elif isinstance(event, ev.ScreenResolution):
            home = clusters.get(event.record_id, event.record_id)
            state.resolutions[event.stage][home] = Resolution(
                logged.event_id, event.record_id, event.stage, event.decision, tuple(event.reasons),
                event.resolved_by, event.method, event.note)
        elif isinstance(event, ev.FullTextAttached):
            home = clusters.get(event.record_id, event.record_id)
            state.full_texts[home] = event.location
            state.not_retrieved.pop(home, None)
        elif isinstance(event, ev.FullTextNotRetrieved):
            home = clusters.get(event.record_id, event.record_id)
            state.not_retrieved[home] = event.note
            state.full_texts.pop(home, None)
        elif isinstance(event, ev.RemovedBeforeScreening):
            home = clusters.get(event.record_id, event.record_id)
            state.removed[home] = Removal(home, event.reason, bool(event.automated), event.removed_by)
        elif isinstance(event, ev.RestoredToScreening):
            state.removed.pop(clusters.get(event.record_id, event.record_id), None)

    @staticmethod
    def _withdraw(state: Screening, clusters: dict[int, int], event_id: int) -> None:
        """An undo arriving after its decision was applied: as if the decision had never been made."""
        undone = state.by_event.pop(event_id, None)
        if undone is None:
            return
        decided = state.history[undone.stage][undone.reviewer]
        for i in range(len(decided) - 1, -1, -1):  # usually the latest
            if decided[i].event_id == event_id:
                del decided[i]
                break
        home = clusters.get(undone.record_id, undone.record_id)
        earlier = [x for x in decided if clusters.get(x.record_id, x.record_id) == home]
        if earlier:
            state.decisions[undone.stage][home][undone.reviewer] = earlier[-1]
        else:
            state.decisions[undone.stage][home].pop(undone.reviewer, None)

    # --- anything else derived from the log --------------------------------------------------

    def memo(self, name: str, version, compute: Callable[[], Any]) -> Any:
        """`compute()` once per `version` (e.g. `records_version`): for tables derived from the database."""
        held = self._memo.get(name)
        if held is None or held[0] != version:
            held = (version, compute())
            self._memo[name] = held
        return held[1]
