"""Code findings and full-text passages in a notebook: read, select a passage, tick codes, save.

The source list holds every finding extracted with the qualitative_study template
and every page of every attached full text. A passage of a page is selected by
typing (or pasting) its words: the widget finds them on the page, whitespace
aside, and highlights them, so what is saved is exactly the page's text. A finding
is coded whole unless a passage of it is selected. Codes are ticked in the
codebook tree (labels shown, sub-codes indented); a new code can be added on the
fly and is ticked at once. Saving calls review.coding.code, the same function
the tests and the example use.
"""

from __future__ import annotations

import ipywidgets as widgets

from review import codebook, coding, extraction, passages, screening
from review.widgets.html import escape

_TEXT_STYLE = ("max-height:22em;overflow-y:auto;border:1px solid #ccc;padding:6px 10px;white-space:pre-wrap;"
               "font-family:Georgia,serif;font-size:13px;line-height:1.45;background:#fcfcfc")


class CodingWidget(widgets.VBox):
    def __init__(self, review, coder: str, template: str = coding.QUALITATIVE_TEMPLATE):
        self.review = review
        self.template = template
        self.sources = self._sources()
        self.source = widgets.Dropdown(options=[(label, i) for i, (label, _) in enumerate(self.sources)],
                                       description="Read", layout=widgets.Layout(width="46em"))
        self.text = widgets.HTML()
        self.passage = widgets.Text(placeholder="type or paste the words of the passage to code",
                                    description="Passage", layout=widgets.Layout(width="46em"))
        self.find_button = widgets.Button(description="Select passage", icon="search")
        self.clear_button = widgets.Button(description="Whole text")
        self.coder = widgets.Text(value=coder, description="Coder", layout=widgets.Layout(width="20em"))
        self.speaker = widgets.Text(description="Speaker", placeholder="optional: role of who is quoted",
                                    layout=widgets.Layout(width="26em"))
        self.tree = widgets.VBox(layout=widgets.Layout(max_height="24em", overflow="auto",
                                                       border="1px solid #ddd", padding="4px"))
        self.boxes: dict[str, widgets.Checkbox] = {}
        self.new_code = widgets.Text(placeholder="new code id, e.g. austerity", layout=widgets.Layout(width="14em"))
        self.new_label = widgets.Text(placeholder="label", layout=widgets.Layout(width="18em"))
        self.new_parent = widgets.Dropdown(layout=widgets.Layout(width="18em"))
        self.new_polarity = widgets.Dropdown(options=[("no polarity", ""), ("barrier", "barrier"),
                                                      ("facilitator", "facilitator")],
                                             layout=widgets.Layout(width="10em"))
        self.add_button = widgets.Button(description="Add code", icon="plus")
        self.save_button = widgets.Button(description="Save coding", button_style="primary", icon="check")
        self.message = widgets.HTML()
        self.span: tuple[int, int] | None = None

        self.source.observe(lambda _: self.show(), names="value")
        self.find_button.on_click(lambda _: self.select())
        self.clear_button.on_click(lambda _: self.select(clear=True))
        self.add_button.on_click(lambda _: self.add_code())
        self.save_button.on_click(lambda _: self.save())
        super().__init__([
            self.source, self.text, widgets.HBox([self.passage, self.find_button, self.clear_button]),
            widgets.HBox([self.coder, self.speaker]),
            widgets.HTML("<b>Codes</b> <small>(tick every code that applies)</small>"), self.tree,
            widgets.HBox([widgets.HTML("<b style='white-space:nowrap'>New code</b>&nbsp;"), self.new_code,
                          self.new_label, widgets.HTML("&nbsp;under&nbsp;"), self.new_parent, self.new_polarity,
                          self.add_button]),
            widgets.HBox([self.save_button]), self.message,
        ])
        self.add_class("rv-coding")
        self.refresh_codes()
        if self.sources:
            self.show()
        else:
            self.message.value = "Nothing to code yet: extract findings or attach a full text first."

    # --- what can be coded ---------------------------------------------------------------

    def _sources(self) -> list[tuple[str, dict]]:
        out = []
        for scheme_id, values in sorted(extraction.final_values(self.review, self.template).items()):
            for row, finding in enumerate(values.get("findings") or [], start=1):
                if not isinstance(finding, dict):
                    continue
                out.append((f"{scheme_id} · finding {row} · {finding.get('location', '')}"[:110],
                            {"kind": "finding", "scheme_id": scheme_id, "row": row,
                             "text": str(finding.get("quote", "")), "speaker": finding.get("speaker") or ""}))
        state = screening.ScreeningState.load(self.review)
        for record_id in sorted(state.full_texts):
            try:
                document = passages.for_record(self.review, record_id)
            except passages.PassageError:
                continue  # a URL or a missing file: nothing to read here
            for page in document.pages:
                out.append((f"record {record_id} · page {page.number}",
                            {"kind": "passage", "record_id": record_id, "page": page.number, "text": page.text,
                             "speaker": ""}))
        return out

    @property
    def current(self) -> dict:
        return self.sources[self.source.value][1]

    def unit(self) -> coding.Unit:
        item = self.current
        start, end = self.span if self.span else (None, None)
        if item["kind"] == "finding":
            return coding.finding(item["scheme_id"], item["row"], template=self.template, start=start, end=end)
        if self.span is None:
            raise coding.CodingError("select the passage to code first (type its words, then Select passage)")
        return coding.passage(item["record_id"], item["page"], start, end)

    # --- showing -------------------------------------------------------------------------

    def show(self) -> None:
        self.span = None
        self.passage.value = ""
        self.speaker.value = self.current["speaker"]
        self._render()
        self._tick_existing()
        self.message.value = ""

    def _render(self) -> None:
        text = self.current["text"]
        if self.span:
            a, b = self.span
            body = escape(text[:a]) + f"<mark class='rv-selected'>{escape(text[a:b])}</mark>" + escape(text[b:])
        else:
            body = escape(text)
        self.text.value = f"<div class='rv-text' style='{_TEXT_STYLE}'>{body}</div>"

    def select(self, clear: bool = False) -> None:
        if clear:
            self.span = None
            self.passage.value = ""
            self._render()
            self.message.value = "Coding the whole text." if self.current["kind"] == "finding" else ""
            return
        words = self.passage.value.strip()
        if not words:
            self.message.value = "Type or paste the words of the passage first."
            return
        document = passages.Document("", [passages.Page(1, self.current["text"])])
        try:
            _, start, end = document.find(words)
        except passages.PassageError:
            self.span = None
            self._render()
            self.message.value = f"<span style='color:#a00'>Not found in this text: {escape(words[:80])}</span>"
            return
        self.span = (start, end)
        self._render()
        self.message.value = f"Selected characters {start}–{end}."
        self._tick_existing()

    def _tick_existing(self) -> None:
        try:
            key = self.unit().key
        except coding.CodingError:
            key = None
        existing = {c.key: c for c in coding.current_codings(self.review) if c.coder == self.coder.value.strip()}
        ticked = set(existing[key].codes) if key in existing else set()
        for code_id, box in self.boxes.items():
            box.value = code_id in ticked

    def refresh_codes(self, tick: set[str] | None = None) -> None:
        ticked = {c for c, box in self.boxes.items() if box.value} | (tick or set())
        book = codebook.current(self.review)
        self.boxes = {}
        rows = []
        for code in book.walk():
            extra = ", ".join(x for x in (code.polarity, code.level) if x)
            box = widgets.Checkbox(value=code.code in ticked, indent=False,
                                   description=code.label + (f" ({extra})" if extra else ""),
                                   layout=widgets.Layout(margin=f"0 0 0 {1.6 * book.depth(code.code)}em",
                                                         width="auto"))
            box.tooltip = code.definition or code.label
            box.add_class("rv-code")
            self.boxes[code.code] = box
            rows.append(box)
        self.tree.children = rows or [widgets.HTML("<i>The codebook is empty: add a code below.</i>")]
        self.new_parent.options = [("(top level)", "")] + [("  " * book.depth(c.code) + c.label, c.code)
                                                          for c in book.walk()]

    # --- acting --------------------------------------------------------------------------

    def add_code(self) -> None:
        try:
            code = codebook.add_code(self.review, self.new_code.value, self.new_label.value,
                                     who=self.coder.value.strip() or "unknown",
                                     parent=self.new_parent.value or None, polarity=self.new_polarity.value or None)
        except codebook.CodebookError as exc:
            self.message.value = f"<span style='color:#a00'>{escape(str(exc))}</span>"
            return
        self.new_code.value = self.new_label.value = ""
        self.refresh_codes(tick={code.code})
        self.message.value = f"Added code {escape(code.label)} (ticked)."

    def save(self) -> None:
        codes = [c for c, box in self.boxes.items() if box.value]
        try:
            saved = coding.code(self.review, self.unit(), codes, coder=self.coder.value,
                                speaker=self.speaker.value.strip())
        except (coding.CodingError, passages.PassageError) as exc:
            self.message.value = f"<span style='color:#a00'>{escape(str(exc))}</span>"
            return
        book = codebook.current(self.review)
        labels = ", ".join(book.codes[c].label for c in saved.codes) or "no codes (cleared)"
        self.message.value = (f"Saved: {escape(labels)} on “{escape(saved.quote[:80])}” "
                              f"({escape(saved.location)}), coding #{saved.coding_id}.")
