"""The stopping-rule panel of the screening widget: may this reviewer stop yet?

A small component (review.stopping does the work): the reviewer sets the target recall
and confidence, and after every decision the panel shows the estimate of recall so far,
the p-value, whether the target is met and how many more records must be screened
before the rule can say so. Each update goes through ``stopping.check``, so a new
setting and the moment the rule first fires are written to the log as events.

    panel = StoppingPanel(session)   # a ScreeningSession
    panel.ui                         # put it in a layout; call panel.update() after a decision
"""

from __future__ import annotations

import math

import ipywidgets as widgets

from review import stopping
from review.widgets.html import escape


class StoppingPanel:
    def __init__(self, session):
        self.session = session
        recall, confidence = (stopping.current_rule(session.review, session.stage, session.reviewer)
                              or (stopping.DEFAULT_RECALL, stopping.DEFAULT_CONFIDENCE))
        style = {"description_width": "initial"}
        layout = widgets.Layout(width="13em")
        self.recall = widgets.BoundedFloatText(value=recall, min=0.5, max=0.999, step=0.01,
                                               description="Target recall", style=style, layout=layout)
        self.confidence = widgets.BoundedFloatText(value=confidence, min=0.5, max=0.999, step=0.01,
                                                   description="Confidence", style=style, layout=layout)
        self.status = widgets.HTML()
        self.result: stopping.StoppingStatus | None = None
        # Opening the widget writes nothing; the first decision or change of setting logs the rule.
        self._opened = (len(stopping.screening_sequence(session.review, session.stage, session.reviewer,
                                                        session.state)[0]), recall, confidence)
        self.recall.observe(lambda _: self.update(), names="value")
        self.confidence.observe(lambda _: self.update(), names="value")
        self.ui = widgets.VBox([
            widgets.HTML("<b>When to stop</b> <small>(hypergeometric test on the records screened last, "
                         "Callaghan &amp; Müller-Hansen 2020)</small>"),
            widgets.HBox([self.recall, self.confidence]), self.status,
        ], layout=widgets.Layout(border="1px solid #ddd", padding="4px", margin="6px 0"))
        self.update()

    def update(self) -> None:
        """Re-test with this reviewer's decisions so far (logs a new setting or a first firing)."""
        session = self.session
        recall, confidence = float(self.recall.value), float(self.confidence.value)
        try:
            result = stopping.status(session.review, session.stage, session.reviewer, recall, confidence,
                                     state=session.state)
            if (result.screened, recall, confidence) != self._opened:
                result = stopping.check(session.review, session.stage, session.reviewer, recall, confidence,
                                        state=session.state)
            self.result = result
        except stopping.StoppingError as exc:
            self.status.value = f"<span style='color:#a00'>{escape(exc)}</span>"
            return
        self.status.value = self.html(self.result)

    @staticmethod
    def html(result: stopping.StoppingStatus) -> str:
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
