"""The screening widget: one record at a time, Include / Exclude (+ reasons) / Maybe.

All logic lives in ScreeningSession (review.screening_session); each button
calls one of its methods. Keyboard: i include, e exclude, m maybe, u undo,
left/right arrows back and forward, while the mouse is over the record (ipyevents
listens only there, and takes every key while it does).

One "Exclude: <reason>" button per protocol reason excludes with that primary
reason in a single click. It is also the safe way: with JupyterLab's default
of sending widget messages over kernel subshells, a reason typed into the tags
box just before clicking Exclude can arrive after the click (`make setup`
turns that setting off in the project's own JupyterLab).
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from review import screening
from review.screening_session import ScreeningSession
from review.widgets.html import escape, highlight_terms, term_pattern
from review.widgets.stopping import StoppingPanel

_STYLE = """<style>
.rv-card {font-size: 14px; line-height: 1.45; max-width: 60em}
.rv-card h3 {margin: 4px 0 6px 0; font-size: 17px}
.rv-card .rv-meta {color: #444; margin-bottom: 8px}
.rv-card .rv-abstract {white-space: pre-wrap}
.rv-card mark.rv-inc {background: #c8f0c8}
.rv-card mark.rv-exc {background: #f7c6c6}
.rv-card .rv-mine {color: #225; background: #eef; padding: 2px 6px; border-radius: 3px}
</style>"""

KEYS = {"i": "include", "e": "exclude", "m": "maybe", "u": "undo", "ArrowLeft": "back", "ArrowRight": "forward"}


class ScreeningWidget:
    def __init__(self, review, stage: str, reviewer: str, order: str = "model", seed: int = 0):
        self.session = ScreeningSession(review, stage, reviewer, order=order, seed=seed, background=True)
        protocol = review.protocol
        self._include = term_pattern(protocol.include_terms)
        self._exclude = term_pattern(protocol.exclude_terms)
        stage_def = protocol.stage(stage)
        self._stage_label = stage_def.label or stage

        self.header = widgets.HTML()
        self.card = widgets.HTML()
        self.reasons = widgets.TagsInput(
            value=[], allowed_tags=[r.code for r in protocol.exclusion_reasons], allow_duplicates=False,
            placeholder="exclusion reasons (first = primary)")
        self.reason_buttons = []
        for reason in protocol.exclusion_reasons:
            button = widgets.Button(description=f"Exclude: {reason.code}", tooltip=reason.label,
                                    layout=widgets.Layout(width="auto"))
            button.on_click(lambda _, code=reason.code: self.decide(screening.EXCLUDE, primary=code))
            self.reason_buttons.append(button)
        self.reason_help = widgets.HTML(
            "<small>Type reason codes in the box and press <b>Tab</b> to add each (the first is the primary "
            "reason), or click an <b>Exclude: reason</b> button. Keys i / e / m / u and ← → work while the "
            "mouse is over the record.<br>" + " · ".join(f"<b>{escape(r.code)}</b>: {escape(r.label)}"
                                                         for r in protocol.exclusion_reasons) + "</small>")
        self.note = widgets.Text(placeholder="note (optional)", layout=widgets.Layout(width="40em"))
        self.include_button = widgets.Button(description="Include", button_style="success", tooltip="i")
        self.exclude_button = widgets.Button(description="Exclude", button_style="danger", tooltip="e")
        self.maybe_button = widgets.Button(description="Maybe", button_style="warning", tooltip="m")
        self.undo_button = widgets.Button(description="Undo last", icon="undo", tooltip="u")
        self.back_button = widgets.Button(description="Back", icon="arrow-left", tooltip="←")
        self.forward_button = widgets.Button(description="Forward", icon="arrow-right", tooltip="→")
        self.jump = widgets.IntText(description="Record", layout=widgets.Layout(width="14em"))
        self.jump_button = widgets.Button(description="Go")
        # Full texts are fetched at the later stages: attach a file or URL, or record it could not be had.
        self.full_text = widgets.Text(placeholder="full text: file path or URL", layout=widgets.Layout(width="30em"))
        self.attach_button = widgets.Button(description="Attach full text", icon="paperclip")
        self.not_retrieved_button = widgets.Button(description="Not retrieved", icon="ban")
        self.attach_button.on_click(lambda _: self.attach())
        self.not_retrieved_button.on_click(lambda _: self.not_retrieved())
        first_stage = protocol.stages[0].name == stage
        self.full_text_row = widgets.HBox([self.full_text, self.attach_button, self.not_retrieved_button],
                                          layout=widgets.Layout(display="none" if first_stage else "flex"))
        self.progress = widgets.IntProgress(min=0, max=max(len(self.session.pool), 1))
        self.progress_text = widgets.HTML()
        self.message = widgets.HTML()

        self.include_button.on_click(lambda _: self.decide(screening.INCLUDE))
        self.exclude_button.on_click(lambda _: self.decide(screening.EXCLUDE))
        self.maybe_button.on_click(lambda _: self.decide(screening.MAYBE))
        self.undo_button.on_click(lambda _: self.undo())
        self.back_button.on_click(lambda _: self._move(self.session.back))
        self.forward_button.on_click(lambda _: self._move(self.session.forward))
        self.jump_button.on_click(lambda _: self.go_to(self.jump.value))

        self.stopping = StoppingPanel(self.session)  # may this reviewer stop yet? (review.stopping)
        self.card_box = widgets.Box([self.card], layout=widgets.Layout(border="1px solid #ddd", padding="6px"))
        self.ui = widgets.VBox([
            self.header, self.card_box,
            widgets.HBox([self.include_button, self.exclude_button, self.maybe_button]),
            widgets.HBox(self.reason_buttons, layout=widgets.Layout(flex_flow="row wrap")),
            self.reasons, self.reason_help, self.note, self.full_text_row,
            widgets.HBox([self.undo_button, self.back_button, self.forward_button, self.jump, self.jump_button]),
            widgets.HBox([self.progress, self.progress_text]), self.stopping.ui, self.message,
        ])
        self._keyboard = self._listen_to_keys()
        self.show()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.ui)

    def _listen_to_keys(self):
        try:
            from ipyevents import Event
        except ImportError:  # shortcuts are a convenience; buttons still work
            return None
        event = Event(source=self.card_box, watched_events=["keydown"], prevent_default_action=True)
        event.on_dom_event(self.on_key)
        return event

    def on_key(self, event: dict) -> None:
        if event.get("ctrlKey") or event.get("metaKey") or event.get("altKey") or event.get("repeat"):
            return  # Ctrl+E and a held-down key must not decide anything
        key = event.get("key", "")
        action = KEYS.get(key if key.startswith("Arrow") else key.lower())
        if action in ("include", "exclude", "maybe"):
            self.decide(action)
        elif action == "undo":
            self.undo()
        elif action == "back":
            self._move(self.session.back)
        elif action == "forward":
            self._move(self.session.forward)

    # --- actions ----------------------------------------------------------------------

    def decide(self, decision: str, primary: str | None = None) -> None:
        reasons = list(self.reasons.value) if decision == screening.EXCLUDE else []
        if primary is not None:
            reasons = [primary] + [r for r in reasons if r != primary]
        try:
            made = self.session.decide(decision, reasons, self.note.value)
        except screening.ScreeningError as exc:
            self.message.value = f"<span style='color:#a00'>{escape(exc)}</span>"
            return
        reasons = f" ({escape(', '.join(made.reasons))})" if made.reasons else ""
        self.message.value = f"Saved: {escape(made.decision)}{reasons} for record {made.record_id}."
        self.reasons.value, self.note.value = [], ""
        self.show()

    def undo(self) -> None:
        undone = self.session.undo()
        self.message.value = ("Nothing to undo." if undone is None else
                              f"Undone: {escape(undone.decision)} for record {undone.record_id}.")
        self.show()

    def attach(self) -> None:
        cluster = self.session.current
        if cluster is None:
            return
        try:
            screening.attach_full_text(self.session.review, cluster, self.full_text.value, who=self.session.reviewer)
        except screening.ScreeningError as exc:
            self.message.value = f"<span style='color:#a00'>{escape(exc)}</span>"
            return
        self.session.state.full_texts[cluster] = self.full_text.value.strip()
        self.message.value = f"Full text attached to record {cluster}."
        self.full_text.value = ""
        self.show()

    def not_retrieved(self) -> None:
        """The full text could not be obtained: the record leaves this stage's queue (PRISMA counts it)."""
        cluster = self.session.current
        if cluster is None:
            return
        screening.mark_not_retrieved(self.session.review, cluster, who=self.session.reviewer)
        self.session.state.not_retrieved[cluster] = ""
        self.message.value = f"Record {cluster} marked as not retrieved."
        self.session.forward()
        self.show()

    def go_to(self, record_id: int) -> None:
        try:
            self.session.go_to(record_id)
        except screening.ScreeningError as exc:
            self.message.value = f"<span style='color:#a00'>{escape(exc)}</span>"
            return
        self.message.value = ""
        self.show()

    def _move(self, step) -> None:
        step()
        self.message.value = ""
        self.show()

    # --- display ------------------------------------------------------------------------

    def show(self) -> None:
        progress = self.session.progress()
        self.stopping.update()
        self.progress.value = progress.decided
        self.progress_text.value = (f"{progress.decided} of {progress.total} decided · include {progress.included}"
                                    f" · exclude {progress.excluded} · maybe {progress.maybe}")
        self.header.value = (f"<b>{escape(self._stage_label)}</b> · reviewer <b>{escape(self.session.reviewer)}</b>"
                             f" · order: {escape(self.session.order)}")
        cluster = self.session.current
        for button in (self.include_button, self.exclude_button, self.maybe_button, *self.reason_buttons):
            button.disabled = cluster is None
        self.back_button.disabled = self.session.position == 0
        if cluster is None:
            self.card.value = _STYLE + "<div class='rv-card'><h3>All records at this stage are screened.</h3></div>"
            return
        self.card.value = _STYLE + self.card_html(cluster)
        # The inputs show this record's own reasons and note, never the previous record's.
        mine = self.session.my_decision()
        self.reasons.value = list(mine.reasons) if mine else []
        self.note.value = mine.note if mine else ""
        self.jump.value = cluster

    def card_html(self, cluster: int) -> str:
        record = self.session.record(cluster)
        authors = list(record["authors"])
        shown = "; ".join(authors[:8]) + (f"; … ({len(authors)} authors)" if len(authors) > 8 else "")
        year = "" if record["year"] is None or (isinstance(record["year"], float) and math.isnan(record["year"])) \
            else str(int(record["year"]))
        meta = " · ".join(escape(x) for x in (shown, year, record["journal"]) if x)
        mine = self.session.my_decision(cluster)
        mine_html = ""
        if mine is not None:
            reasons = f" ({escape(', '.join(mine.reasons))})" if mine.reasons else ""
            mine_html = f"<div class='rv-mine' style='margin: 6px 0'>Your decision: {escape(mine.decision)}{reasons}</div>"
        full_text = self.session.state.full_texts.get(cluster)
        full_html = f"<div>Full text: <code>{escape(full_text)}</code></div>" if full_text else ""
        keywords = "; ".join(record["keywords"])
        return (
            "<div class='rv-card'>"
            f"<div class='rv-meta'>record {cluster}</div>"
            f"<h3>{highlight_terms(record['title'], self._include, self._exclude)}</h3>"
            f"<div class='rv-meta'>{meta}</div>{mine_html}{full_html}"
            f"<div class='rv-abstract'>{highlight_terms(record['abstract'] or '(no abstract)', self._include, self._exclude)}</div>"
            + (f"<div class='rv-meta'>Keywords: {highlight_terms(keywords, self._include, self._exclude)}</div>"
               if keywords else "")
            + "</div>"
        )
