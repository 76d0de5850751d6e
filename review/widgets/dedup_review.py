"""Review the uncertain duplicate pairs: both records side by side, Same / Different / Skip.

Every click is persisted at once (review.clusters.decide), so closing the
notebook loses nothing; the widget only shows and forwards.
"""

from __future__ import annotations

import math

import ipywidgets as widgets
import pandas as pd

from review import clusters
from review.widgets.html import escape, highlight_differences

FIELDS = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "url", "type",
          "source", "import_file", "source_id")
_SIM_FOR = {"title": "title", "authors": "authors", "year": "year", "journal": "journal", "volume": "volume",
            "issue": "issue", "pages": "pages", "doi": "doi", "pmid": "pmid", "url": "url"}

_STYLE = """<style>
.rv-pair {border-collapse: collapse; width: 100%; font-size: 13px}
.rv-pair th, .rv-pair td {border-bottom: 1px solid #ddd; padding: 4px 6px; text-align: left; vertical-align: top}
.rv-pair td.sim {color: #555; white-space: nowrap}
.rv-pair mark {background: #ffe08a}
</style>"""


class DuplicateReview:
    """A queue of needs-review pairs for one reviewer."""

    def __init__(self, review, who: str, pending_only: bool = True):
        self.review = review
        self.who = who
        self.queue = clusters.review_queue(review, pending_only=pending_only)
        self.records = review.records_frame().set_index("record_id")
        self.position = 0
        self.decided: dict[int, str] = {}

        self.header = widgets.HTML()
        self.comparison = widgets.HTML()
        self.same_button = widgets.Button(description="Same", button_style="success", tooltip="Duplicates: merge")
        self.different_button = widgets.Button(description="Different", button_style="danger",
                                               tooltip="Different works: never merge")
        self.skip_button = widgets.Button(description="Skip", tooltip="Decide later")
        self.back_button = widgets.Button(description="Back", icon="arrow-left")
        self.progress = widgets.IntProgress(min=0, max=max(len(self.queue), 1), description="Decided")
        self.message = widgets.HTML()
        self.same_button.on_click(lambda _: self.decide(clusters.SAME))
        self.different_button.on_click(lambda _: self.decide(clusters.DIFFERENT))
        self.skip_button.on_click(lambda _: self.decide(clusters.SKIP))
        self.back_button.on_click(lambda _: self.go(self.position - 1))
        buttons = widgets.HBox([self.same_button, self.different_button, self.skip_button, self.back_button])
        self.ui = widgets.VBox([self.header, self.comparison, buttons, self.progress, self.message])
        self.show()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.ui)

    @property
    def current(self) -> pd.Series | None:
        if 0 <= self.position < len(self.queue):
            return self.queue.iloc[self.position]
        return None

    def go(self, position: int) -> None:
        self.position = min(max(position, 0), len(self.queue))
        self.show()

    def decide(self, decision: str) -> None:
        pair = self.current
        if pair is None:
            return
        clusters.decide(self.review, int(pair.record_a), int(pair.record_b), decision, self.who)
        self.decided[self.position] = decision
        self.message.value = f"Saved: {escape(decision)} for records {int(pair.record_a)} and {int(pair.record_b)}."
        self.go(self.position + 1)

    def show(self) -> None:
        done = sum(1 for d in self.decided.values() if d != clusters.SKIP)
        self.progress.value = done
        self.progress.description = f"{done}/{len(self.queue)}"
        pair = self.current
        enabled = pair is not None
        for button in (self.same_button, self.different_button, self.skip_button):
            button.disabled = not enabled
        self.back_button.disabled = self.position == 0
        if pair is None:
            self.header.value = f"<b>No pairs left to review</b> ({len(self.queue)} in this queue)."
            self.comparison.value = ""
            return
        self.header.value = (
            f"<b>Pair {self.position + 1} of {len(self.queue)}</b> · score {pair.score:.2f} · "
            f"{escape(pair.reason)}" + (f" · you said <i>{escape(self.decided[self.position])}</i>"
                                        if self.position in self.decided else "")
        )
        self.comparison.value = _STYLE + self.table_html(int(pair.record_a), int(pair.record_b), pair.similarities)

    def table_html(self, a: int, b: int, similarities: dict) -> str:
        left, right = self.records.loc[a], self.records.loc[b]
        rows = [f"<tr><th>field</th><th>record {a}</th><th>record {b}</th><th>similarity</th></tr>"]
        for field in FIELDS:
            va, vb = _text(left.get(field)), _text(right.get(field))
            if not va and not vb:
                continue
            ha, hb = highlight_differences(va, vb)
            sim = similarities.get(_SIM_FOR.get(field, ""), None) if field in _SIM_FOR else None
            sim_text = "" if sim is None or (isinstance(sim, float) and math.isnan(sim)) else f"{sim:.2f}"
            rows.append(f"<tr><th>{escape(field)}</th><td>{ha}</td><td>{hb}</td><td class='sim'>{sim_text}</td></tr>")
        return "<table class='rv-pair'>" + "".join(rows) + "</table>"


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float) and math.isnan(value):
        return ""
    return str(value)
