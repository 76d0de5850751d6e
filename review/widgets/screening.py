"""The screening widget: one record at a time, Include / Exclude (+ reasons) / Maybe.

All screening logic lives in ScreeningSession (review.screening_session); this class turns
requests from the page into its calls and describes what the page should show next.

The face in the browser is one anywidget (static/screening.js). It sends each decision as a
single message carrying the decision, the chosen reasons (protocol codes, first = primary),
the note and the record it was made on. So nothing typed or chosen can be lost between
widgets, and a decision meant for one record is refused (with a message) if another record
is on screen by the time it arrives. The same file runs in the standalone page
(`review screen`, review.widgets.serve), which sends the same messages over HTTP.

Keys work whenever focus is inside the widget (also right after clicking one of its buttons):
i include, e exclude, m maybe, 1-9 toggle a reason, 0 clear reasons, u undo, ← → back and
forward. A decision key is ignored until the record has been on screen for `min_shown_ms`
and auto-repeat never decides.
"""

from __future__ import annotations

import math
from pathlib import Path

import anywidget
import ipywidgets as widgets
import pandas as pd
import traitlets

from review import screening
from review.screening_session import ScreeningSession
from review.widgets.html import escape, highlight_terms, local_minute, term_pattern
from review.widgets.stopping import StoppingPanel

STATIC = Path(__file__).parent / "static"
DECISION_LABELS = {screening.INCLUDE: "Include", screening.EXCLUDE: "Exclude", screening.MAYBE: "Maybe"}
MIN_SHOWN_MS = 300  # a decision key pressed sooner is ignored: the record must have been seen
LIST_LIMIT = 200  # rows of "my decisions" sent to the page at once (the count says how many match)


class ScreeningFace(anywidget.AnyWidget):
    """The browser side: `view` is what to show now, `listing` the "my decisions" rows."""

    _esm = STATIC / "screening.js"
    _css = STATIC / "screening.css"
    reasons = traitlets.List().tag(sync=True)
    view = traitlets.Dict().tag(sync=True)
    listing = traitlets.Dict().tag(sync=True)
    min_shown_ms = traitlets.Int(MIN_SHOWN_MS).tag(sync=True)


class ScreeningWidget:
    def __init__(self, review, stage: str, reviewer: str, order: str = "model", seed: int = 0,
                 min_shown_ms: int = MIN_SHOWN_MS, sentence_model: bool | None = None):
        self.session = ScreeningSession(review, stage, reviewer, order=order, seed=seed, background=True,
                                        sentence_model=sentence_model)
        protocol = review.protocol
        self.stage = stage
        self._include = term_pattern(protocol.include_terms)
        self._exclude = term_pattern(protocol.exclude_terms)
        stage_def = protocol.stage(stage)
        self._stage_label = stage_def.label or stage.replace("_", " ").capitalize()
        self._full_text_stage = protocol.stages[0].name != stage
        usable = [r for r in protocol.exclusion_reasons if not r.stages or stage in r.stages]
        self.reason_labels = {r.code: r.label or r.code for r in protocol.exclusion_reasons}
        self.face = ScreeningFace(
            reasons=[{"code": r.code, "label": r.label or r.code, "key": str(i) if i <= 9 else ""}
                     for i, r in enumerate(usable, start=1)],
            min_shown_ms=min_shown_ms)
        self.face.on_msg(lambda _widget, content, _buffers: self.handle(content))
        # May this reviewer stop yet? (review.stopping) The face draws the panel, so it is on the
        # standalone page too; a target typed there arrives as a "stopping" message.
        self.stopping = StoppingPanel(self.session)
        # Components from other modules are added to this box, below the widget; it stays empty until one is.
        self.extras = widgets.VBox([])
        self.ui = widgets.VBox([self.face, self.extras])
        self._listing_request: dict = {}
        self.show()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.ui)

    # --- requests from the page -----------------------------------------------------------

    def handle(self, content: dict) -> None:
        """One message from the page (see static/screening.js); every outcome is shown in `view`."""
        action = content.get("action")
        try:
            if action == "decide":
                self.decide(content.get("decision", ""), content.get("reasons") or [], content.get("note") or "",
                            record=content.get("record"))
            elif action == "undo":
                self.undo()
            elif action == "back":
                self.back()
            elif action == "forward":
                self.forward()
            elif action == "go":
                self.go_to(content.get("record"))
            elif action == "attach":
                self.attach(content.get("location") or "", record=content.get("record"))
            elif action == "not_retrieved":
                self.not_retrieved(record=content.get("record"))
            elif action == "stopping":
                self.set_stopping_target(content.get("recall"), content.get("confidence"))
            elif action == "list":
                self.list_decisions(content.get("query") or "", content.get("decision") or "",
                                    content.get("reason") or "")
            else:
                self.show(f"Unknown request {action!r} from the page; nothing changed.", error=True)
        except (screening.ScreeningError, ValueError, TypeError) as exc:
            self.show(str(exc), error=True)

    # --- actions (the same calls a script or test makes) ----------------------------------------

    def _check_record(self, record) -> None:
        """A request names the record it was made on; refuse it if another is on screen now."""
        if record is not None and self.session.current is not None and int(record) != self.session.current:
            raise screening.ScreeningError(
                f"That request was for record {record}, but record {self.session.current} is on screen now: "
                "nothing saved. Look at this record and decide again.")

    def decide(self, decision: str, reasons=(), note: str = "", record: int | None = None) -> screening.Decision | None:
        """Save a decision on the record on screen; a refusal is shown (and returned as None), never silent."""
        self._check_record(record)
        try:
            made = self.session.decide(decision, list(reasons), note.strip())
        except screening.ScreeningError as exc:
            self.show(f"Not saved: {self._readable(exc)}", error=True)
            return None
        reasons_text = f" ({'; '.join(self.reason_labels.get(r, r) for r in made.reasons)})" if made.reasons else ""
        note_text = ", with your note" if made.note else ""
        self.show(f"Saved: {DECISION_LABELS[made.decision]}{reasons_text} for record {made.record_id}{note_text}.")
        return made

    def set_stopping_target(self, recall=None, confidence=None) -> None:
        """A new target recall and/or confidence for the stopping rule (logged); a refusal is shown."""
        try:
            self.stopping.set_target(recall, confidence)
        except ValueError as exc:
            self.show(str(exc), error=True)
            return
        self.show(f"Stopping rule: {100 * self.stopping.recall:g}% recall at {100 * self.stopping.confidence:g}% "
                  "confidence.")

    def _readable(self, exc: Exception) -> str:
        text = str(exc)
        for code, label in self.reason_labels.items():
            text = text.replace(f"'{code}'", f"'{label}'")
        return text

    def undo(self) -> screening.Decision | None:
        undone = self.session.undo()
        self.show("Nothing to undo." if undone is None else
                  f"Undone: {DECISION_LABELS[undone.decision]} for record {undone.record_id}.")
        return undone

    def back(self) -> None:
        self.session.back()
        self.show()

    def forward(self) -> None:
        self.session.forward()
        self.show()

    def go_to(self, record_id) -> None:
        try:
            self.session.go_to(int(record_id))
        except (screening.ScreeningError, TypeError, ValueError) as exc:
            self.show(str(exc), error=True)
            return
        self.show()

    def attach(self, location: str, record: int | None = None) -> None:
        self._check_record(record)
        cluster = self.session.current
        if cluster is None:
            return
        screening.attach_full_text(self.session.review, cluster, location, who=self.session.reviewer)
        self.session.state.full_texts[cluster] = location.strip()
        self.show(f"Full text attached to record {cluster}.")

    def not_retrieved(self, record: int | None = None) -> None:
        """The full text could not be obtained: the record leaves this stage's queue (PRISMA counts it)."""
        self._check_record(record)
        cluster = self.session.current
        if cluster is None:
            return
        screening.mark_not_retrieved(self.session.review, cluster, who=self.session.reviewer)
        self.session.state.not_retrieved[cluster] = ""
        self.session.forward()
        self.show(f"Record {cluster} marked as not retrieved.")

    # --- "my decisions" -------------------------------------------------------------------------

    def my_decisions(self, query: str = "", decision: str = "", reason: str = "") -> pd.DataFrame:
        """This reviewer's standing decisions at this stage (every session), newest first, with labels.

        `query` matches the title, the note or the record id; `decision` and `reason` are codes.
        """
        state, stage, who = self.session.state, self.stage, self.session.reviewer
        query = query.strip().casefold()
        rows = []
        for cluster, decided in state.decisions[stage].items():
            mine = decided.get(who)
            if mine is None or (decision and mine.decision != decision) or (reason and reason not in mine.reasons):
                continue
            title = _text(self.session.records.at[cluster, "title"]) if cluster in self.session.records.index else ""
            if query and query not in title.casefold() and query not in mine.note.casefold() \
                    and query != str(cluster):
                continue
            rows.append({"record": cluster, "title": title, "decision": DECISION_LABELS[mine.decision],
                         "reasons": "; ".join(self.reason_labels.get(r, r) for r in mine.reasons),
                         "note": mine.note, "when": local_minute(mine.decided_at), "_at": mine.event_id})
        frame = pd.DataFrame(rows, columns=["record", "title", "decision", "reasons", "note", "when", "_at"])
        return frame.sort_values("_at", ascending=False).drop(columns="_at").reset_index(drop=True)

    def list_decisions(self, query: str = "", decision: str = "", reason: str = "") -> None:
        self._listing_request = {"query": query, "decision": decision, "reason": reason}
        frame = self.my_decisions(query, decision, reason)
        self.face.listing = {"total": len(frame), "rows": frame.head(LIST_LIMIT).to_dict("records")}

    # --- what the page shows ------------------------------------------------------------------

    @property
    def view(self) -> dict:
        return self.face.view

    def show(self, message: str = "", error: bool = False) -> None:
        progress = self.session.progress()
        self.stopping.update()
        cluster = self.session.current
        mine = self.session.my_decision() if cluster is not None else None
        self.face.view = {
            "record": cluster,
            "card": self.card_html(cluster) if cluster is not None else
            "<div class='rv-card'><h3>All records at this stage are screened.</h3></div>",
            "header": (f"<b>{escape(self._stage_label)}</b> · reviewer <b>{escape(self.session.reviewer)}</b>"
                       f" · order: {escape(self.session.order)}"
                       + (f" · {escape(self.session.vectors_status)}" if self.session.vectors_status else "")),
            "mine": None if mine is None else {"decision": mine.decision, "reasons": list(mine.reasons),
                                               "note": mine.note},
            "decided": progress.decided, "total": progress.total,
            "progress_text": (f"{progress.decided} of {progress.total} decided · include {progress.included}"
                              f" · exclude {progress.excluded} · maybe {progress.maybe}"),
            "can_back": self.session.position > 0,
            "full_text_stage": self._full_text_stage,
            "message": message + (f" ({self.session.model_error})" if self.session.model_error and not error else ""),
            "message_kind": "error" if error else "ok",
            "stopping": self.stopping.view(),
        }
        if self._listing_request:  # an open "my decisions" list follows every change
            self.list_decisions(**self._listing_request)

    def card_html(self, cluster: int) -> str:
        mine = self.session.my_decision(cluster)
        mine_html = ""
        if mine is not None:
            reasons = (f" ({escape('; '.join(self.reason_labels.get(r, r) for r in mine.reasons))})"
                       if mine.reasons else "")
            note = f" · note: {escape(mine.note)}" if mine.note else ""
            mine_html = (f"<div class='rv-mine'>Your decision: {DECISION_LABELS[mine.decision]}{reasons}{note}"
                         f" <small>({escape(local_minute(mine.decided_at))})</small></div>")
        full_text = self.session.state.full_texts.get(cluster)
        if full_text:
            mine_html += f"<div>Full text: <code>{escape(full_text)}</code></div>"
        return record_card(cluster, self.session.record(cluster), self._include, self._exclude, mine_html)


def record_card(cluster: int, record, include, exclude, extra_html: str = "") -> str:
    """A record as the reviewer reads it: escaped text, protocol terms marked; `extra_html` is trusted."""
    authors = list(record["authors"])
    shown = "; ".join(authors[:8]) + (f"; … ({len(authors)} authors)" if len(authors) > 8 else "")
    year = "" if record["year"] is None or (isinstance(record["year"], float) and math.isnan(record["year"])) \
        else str(int(record["year"]))
    meta = " · ".join(escape(x) for x in (shown, year, _text(record["journal"])) if x)
    keywords = "; ".join(record["keywords"])
    abstract = _text(record["abstract"]) or "(no abstract)"
    return (
        "<div class='rv-card'>"
        f"<div class='rv-meta'>record {cluster}</div>"
        f"<h3>{highlight_terms(_text(record['title']), include, exclude)}</h3>"
        f"<div class='rv-meta'>{meta}</div>{extra_html}"
        f"<div class='rv-abstract'>{highlight_terms(abstract, include, exclude)}</div>"
        + (f"<div class='rv-meta'>Keywords: {highlight_terms(keywords, include, exclude)}</div>" if keywords else "")
        + "</div>"
    )


def _text(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)
