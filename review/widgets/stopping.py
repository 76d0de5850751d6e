"""The stopping-rule panel of the screening widget: may this reviewer stop yet?

A small component (review.stopping does the work): the reviewer sets the target recall
and confidence, and after every decision the panel shows the estimate of recall so far,
the p-value, whether the target is met and how many more records must be screened
before the rule can say so. Each update goes through ``stopping.check``, so a new
setting and the moment the rule first fires are written to the log as events.

The panel holds no browser widgets of its own: the screening widget's face
(static/screening.js) draws it from ``view()``, in the notebook and on the standalone
page (`review screen`) alike, and sends a new target back as a message.

    panel = StoppingPanel(session)       # a ScreeningSession
    panel.update()                       # after a decision
    panel.set_target(confidence=0.99)    # what the page's boxes send
    panel.html, panel.result             # what the reviewer sees, and the figures behind it
"""

from __future__ import annotations

import math

from review import stopping
from review.widgets.html import escape

HEADING = ("<b>When to stop</b> <small>(hypergeometric test on the records screened last, "
           "Callaghan &amp; Müller-Hansen 2020)</small>")
# The boxes accept targets in this range: below 0.5 a "guarantee" means little, and 1 cannot be tested.
LOWEST, HIGHEST = 0.5, 0.999


class StoppingPanel:
    def __init__(self, session):
        self.session = session
        self.recall, self.confidence = (stopping.current_rule(session.review, session.stage, session.reviewer)
                                        or (stopping.DEFAULT_RECALL, stopping.DEFAULT_CONFIDENCE))
        self.result: stopping.StoppingStatus | None = None
        self.html = ""
        self._last_key: tuple | None = None  # what the shown verdict was computed from
        # Opening the widget writes nothing; the first decision or change of setting logs the rule.
        self._opened = (len(stopping.screening_sequence(session.review, session.stage, session.reviewer,
                                                        session.state)[0]), self.recall, self.confidence)
        self.update()

    def set_target(self, recall: float | None = None, confidence: float | None = None) -> None:
        """A new target from the reviewer: re-tested and logged. Out of range: ValueError, nothing changed."""
        recall = self.recall if recall is None else _target("Target recall", recall)
        confidence = self.confidence if confidence is None else _target("Confidence", confidence)
        self.recall, self.confidence = recall, confidence
        self.update()

    def update(self) -> None:
        """Re-test with this reviewer's decisions so far (logs a new setting or a first firing)."""
        session = self.session
        try:
            sequence, total = stopping.screening_sequence(session.review, session.stage, session.reviewer,
                                                          session.state)
            key = (tuple(sequence), total, self.recall, self.confidence)
            if key == self._last_key:  # e.g. Back, Forward, a search: nothing the rule sees has changed
                return
            result = stopping.evaluate(sequence, total, self.recall, self.confidence)
            if (result.screened, self.recall, self.confidence) != self._opened:
                stopping.record(session.review, session.stage, session.reviewer, result)
            self.result, self._last_key = result, key
        except stopping.StoppingError as exc:
            self.html = f"<span class='rv-stopping-error' style='color:#a00'>{escape(exc)}</span>"
            return
        self.html = self.status_html(result)

    def view(self) -> dict:
        """What the face draws: the heading, the current target and the status (all HTML escaped here)."""
        return {"heading": HEADING, "recall": self.recall, "confidence": self.confidence, "html": self.html,
                "lowest": LOWEST, "highest": HIGHEST}

    @staticmethod
    def status_html(result: stopping.StoppingStatus) -> str:
        pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731 - a formatter, local to this view
        estimate = ("–" if math.isnan(result.recall_estimate) else
                    f"{pct(result.recall_estimate)} (at least {pct(result.recall_lower_bound)} with "
                    f"{pct(result.confidence)} confidence)")
        if result.target_met:
            verdict = (f"<b>Target met</b> ({escape(stopping.format_p(result.p_value))} &lt; {1 - result.confidence:.3g}): you may stop"
                       + (f"; the other {result.remaining:,} records need not be screened." if result.remaining
                          else "."))
            colour = "#e3f5e3"
        else:
            verdict = (f"<b>Not yet</b> ({escape(stopping.format_p(result.p_value))}): screen at least "
                       f"<b class='rv-more'>{result.more_to_screen:,}</b> more records (if none of them is relevant) "
                       f"before the rule can say the target is met.")
            colour = "#f6f3e3"
        return (f"<div class='rv-stopping' style='background:{colour}; padding:4px 6px'>"
                f"Screened {result.screened:,} of {result.total:,}, relevant {result.relevant:,} · "
                f"estimated recall so far: {estimate}<br>{verdict}</div>")


def _target(name: str, value) -> float:
    """A target typed by the reviewer, as a float in [LOWEST, HIGHEST], or a ValueError saying why not."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = math.nan  # not a number: refused below like one out of range
    if isinstance(value, bool) or not LOWEST <= number <= HIGHEST:  # nan is never in range
        raise ValueError(f"{name} must be a number between {LOWEST} and {HIGHEST}, not {value!r}; "
                         "the rule is unchanged.")
    return number
