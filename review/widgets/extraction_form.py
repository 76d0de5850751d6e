"""A data-extraction form generated from any template.

One control per field type (multiple choice as a list of checkboxes); each field also
offers "not reported" and "not applicable", which stay distinct from an empty draft.
A refused save lists every problem at the top of the form, by field label and name, and
marks each field too. Saving calls review.extraction.save (draft, or complete only if
valid); the history of saves (local time, to the minute) is shown below the form.
An unknown scheme or template is an error when the form is made, never a blank form.
"""

from __future__ import annotations

import ipywidgets as widgets

from review import extraction, schemes, templates
from review.widgets.html import escape, local_minute

_SPECIAL_OPTIONS = [("answered", ""), ("not reported", "not_reported"), ("not applicable", "not_applicable")]


# Labels and buttons wrap rather than being cut off ("Save as compl…").
_WRAP = "white-space: normal; overflow-wrap: anywhere; line-height: 1.3"


class CheckboxGroup:
    """Multiple choice as one checkbox per term: the value is the tuple of ticked codes, in term order."""

    def __init__(self, terms):
        self.codes = [t.code for t in terms]
        self.boxes = [widgets.Checkbox(value=False, description=t.label, indent=False,
                                       layout=widgets.Layout(width="auto")) for t in terms]
        self.box = widgets.VBox(self.boxes, layout=widgets.Layout(width="28em"))

    @property
    def value(self) -> tuple[str, ...]:
        return tuple(code for code, box in zip(self.codes, self.boxes) if box.value)

    @value.setter
    def value(self, codes) -> None:
        unknown = [c for c in codes if c not in self.codes]
        if unknown:
            raise ValueError(f"not a term of this field: {', '.join(unknown)}")
        for code, box in zip(self.codes, self.boxes):
            box.value = code in codes

    @property
    def disabled(self) -> bool:
        return all(box.disabled for box in self.boxes)

    @disabled.setter
    def disabled(self, flag: bool) -> None:
        for box in self.boxes:
            box.disabled = flag


class FieldControl:
    """The input for one (non-group) field, with its special-answer switch and message."""

    def __init__(self, field: templates.Field):
        self.field = field
        self.input = self._make_input(field)
        self.special = widgets.Dropdown(options=_SPECIAL_OPTIONS, value="", layout=widgets.Layout(width="10em"))
        self.message = widgets.HTML()
        star = " <b style='color:#a00'>*</b>" if field.required else ""
        unit = f" <small>({escape(field.unit)})</small>" if field.unit else ""
        label = widgets.HTML(f"<div style='{_WRAP}'><b>{escape(field.label or field.name)}</b>{star}{unit}</div>",
                             layout=widgets.Layout(width="16em", min_width="16em"))
        label.tooltip = field.help
        help_html = (widgets.HTML(f"<small style='color:#555; {_WRAP}'>{escape(field.help)}</small>")
                     if field.help else None)
        if field.type == "multiple_choice":
            hint = "<small style='color:#555'>tick every one that applies</small>"
            help_html = widgets.HTML(hint + (f"<br><small style='color:#555'>{escape(field.help)}</small>"
                                             if field.help else ""))
        self.message.layout = widgets.Layout(width="auto", max_width="24em")
        row = widgets.HBox([label, getattr(self.input, "box", self.input), self.special, self.message],
                           layout=widgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        self.box = widgets.VBox([row] + ([help_html] if help_html else []))
        self.special.observe(self._on_special, names="value")

    @staticmethod
    def _make_input(field: templates.Field):
        terms = field.vocabulary.terms if field.vocabulary else []
        if field.type == "long_text":
            return widgets.Textarea(layout=widgets.Layout(width="36em", height="5em"))
        if field.type == "boolean":
            return widgets.Dropdown(options=[("", ""), ("yes", "yes"), ("no", "no")])
        if field.type == "single_choice":
            return widgets.Dropdown(options=[("", "")] + [(t.label, t.code) for t in terms])
        if field.type == "multiple_choice":
            return CheckboxGroup(terms)
        placeholder = {"date": "YYYY, YYYY-MM or YYYY-MM-DD", "integer": "whole number",
                       "number": "number"}.get(field.type, "")
        return widgets.Text(placeholder=placeholder, layout=widgets.Layout(width="28em"))

    def _on_special(self, change) -> None:
        self.input.disabled = bool(change["new"])

    def raw(self) -> str:
        """The input as text, the way a CSV cell would hold it (coerce reads both)."""
        if self.special.value:
            return templates.SPECIAL_TEXT[self.special.value]
        value = self.input.value
        if isinstance(value, tuple):
            return "; ".join(value)
        return "" if value is None else str(value)

    def value(self):
        return templates.coerce(self.field, self.raw())

    def set(self, value) -> None:
        if templates.is_special(value):
            self.special.value = value["special"]
            return
        self.special.value = ""
        if value is None:
            value = () if self.field.type == "multiple_choice" else ""
        elif self.field.type == "boolean":
            value = "yes" if value else "no"
        elif self.field.type == "multiple_choice":
            value = tuple(value)
        elif self.field.type not in ("single_choice",):
            value = str(value)
        self.input.value = value


class GroupControl:
    """A repeating group: a table of rows, each a set of field controls, with add and remove."""

    def __init__(self, field: templates.Field):
        self.field = field
        self.rows: list[dict[str, FieldControl]] = []
        self.special = widgets.Dropdown(options=_SPECIAL_OPTIONS, value="", layout=widgets.Layout(width="10em"))
        self.message = widgets.HTML()
        self.rows_box = widgets.VBox()
        self.add_button = widgets.Button(description=f"Add {field.label or field.name} row", icon="plus")
        self.add_button.on_click(lambda _: self.add_row())
        star = " <b style='color:#a00'>*</b>" if field.required else ""
        title = widgets.HTML(f"<b>{escape(field.label or field.name)}</b>{star} "
                             f"<small style='color:#555'>{escape(field.help)}</small>")
        self.box = widgets.VBox([widgets.HBox([title, self.special, self.message]), self.rows_box, self.add_button],
                                layout=widgets.Layout(border="1px solid #ddd", padding="4px", margin="4px 0"))

    def add_row(self, values: dict | None = None) -> dict[str, FieldControl]:
        controls = {f.name: FieldControl(f) for f in self.field.fields}
        for name, control in controls.items():
            if values and name in values:
                control.set(values[name])
        remove = widgets.Button(description="Remove row", icon="trash", button_style="warning")
        row_box = widgets.VBox([c.box for c in controls.values()] + [remove],
                               layout=widgets.Layout(border_bottom="1px dashed #ccc", margin="2px 0"))
        self.rows.append(controls)

        def _remove(_):
            index = self.rows.index(controls)
            self.rows.pop(index)
            self.rows_box.children = tuple(b for i, b in enumerate(self.rows_box.children) if i != index)

        remove.on_click(_remove)
        self.rows_box.children = (*self.rows_box.children, row_box)
        return controls

    def value(self):
        if self.special.value:
            return templates.special(self.special.value)
        return [{name: control.value() for name, control in row.items()} for row in self.rows]

    def set(self, value) -> None:
        self.rows, self.rows_box.children = [], ()
        if templates.is_special(value):
            self.special.value = value["special"]
            return
        self.special.value = ""
        for row in value or []:
            self.add_row(row)


class ExtractionForm:
    """The form for one scheme, one template and one extractor."""

    def __init__(self, review, scheme_id: str, template_name: str, extractor: str):
        self.review, self.scheme_id, self.extractor = review, scheme_id, extractor
        _check_scheme(review, scheme_id)
        self.template = _load_template(review, template_name)
        self.controls: dict[str, FieldControl | GroupControl] = {
            f.name: GroupControl(f) if f.type == "group" else FieldControl(f) for f in self.template.fields}
        self.draft_button = widgets.Button(description="Save draft", icon="save", layout=widgets.Layout(width="auto"))
        self.complete_button = widgets.Button(description="Save as complete", button_style="success", icon="check",
                                              layout=widgets.Layout(width="auto"))
        self.message = widgets.HTML()
        self.summary = widgets.HTML()  # every problem of a refused save, at the top where it is seen
        self.problems: list[str] = []  # the same, as plain text (for scripts and notebooks)
        self.history = widgets.HTML()
        self.draft_button.on_click(lambda _: self.save(complete=False))
        self.complete_button.on_click(lambda _: self.save(complete=True))
        header = widgets.HTML(f"<h3>{escape(self.template.title)} · scheme {escape(scheme_id)} · "
                              f"extractor {escape(extractor)}</h3><small>template {escape(self.template.name)} "
                              f"v{escape(self.template.version)}</small>")
        self.ui = widgets.VBox([header, self.summary, *[c.box for c in self.controls.values()],
                                widgets.HBox([self.draft_button, self.complete_button]), self.message, self.history])
        latest = extraction.latest_by_extractor(review, scheme_id, self.template.name).get(extractor)
        if latest is not None:
            self.set_values(latest.values)
        self._show_history()

    def _ipython_display_(self):
        from IPython.display import display

        display(self.ui)

    def set_values(self, values: dict) -> None:
        for name, control in self.controls.items():
            control.set(values.get(name))

    def values(self) -> tuple[dict, list[tuple[str, str]]]:
        """The form's values, and the inputs that could not be read (field path, message)."""
        values, problems = {}, []
        for name, control in self.controls.items():
            control.message.value = ""
            if isinstance(control, GroupControl):
                rows = []
                if control.special.value:
                    values[name] = control.value()
                    continue
                for i, row in enumerate(control.rows):
                    out = {}
                    for sub, c in row.items():
                        c.message.value = ""
                        try:
                            out[sub] = c.value()
                        except ValueError as exc:
                            problems.append((f"{name}[{i}].{sub}", str(exc)))
                    rows.append(out)
                values[name] = rows
            else:
                try:
                    value = control.value()
                except ValueError as exc:
                    problems.append((name, str(exc)))
                    continue
                if value is not None:
                    values[name] = value
        return values, problems

    def _label_of(self, path: str) -> str:
        """The label a person reads for a field path such as outcomes[0].domain."""
        name, _, rest = path.partition("[")
        try:
            field = self.template.field(name.split(".")[0])
        except (KeyError, ValueError):
            return path
        label = field.label or field.name
        if rest:
            index_text, _, sub = rest.partition("].")
            try:
                sub_label = field.subfield(sub).label or sub
            except (KeyError, ValueError):
                sub_label = sub
            label = f"{label}, row {int(index_text) + 1 if index_text.isdigit() else index_text}: {sub_label}"
        return label

    def _summarise(self, problems, headline: str) -> None:
        self.problems = [f"{self._label_of(path)} ({path}): {message}" for path, message in problems]
        items = "".join(f"<li><b>{escape(self._label_of(path))}</b> <code>{escape(path)}</code>: {escape(message)}</li>"
                        for path, message in problems)
        self.summary.value = (f"<div style='border:1px solid #c33; background:#fff4f4; padding:4px 8px'>"
                              f"<b style='color:#a00'>{escape(headline)}</b><ul style='margin:4px 0'>{items}</ul></div>")

    def _show_problems(self, problems) -> None:
        for path, message in problems:
            control = self._control_at(path)
            if control is not None:
                control.message.value = f"<span style='color:#a00'>{escape(message)}</span>"

    def _control_at(self, path: str):
        name, _, rest = path.partition("[")
        control = self.controls.get(name.split(".")[0])
        if isinstance(control, GroupControl) and rest:
            index_text, _, sub = rest.partition("].")
            if index_text.isdigit() and int(index_text) < len(control.rows) and sub in control.rows[int(index_text)]:
                return control.rows[int(index_text)][sub]
        return control

    def save(self, complete: bool):
        values, problems = self.values()
        self.summary.value, self.problems = "", []
        if problems:
            self._show_problems(problems)
            self._summarise(problems, f"Nothing saved: {len(problems)} input(s) cannot be read.")
            self.message.value = "<span style='color:#a00'>Some inputs cannot be read; nothing saved (see the top).</span>"
            return None
        try:
            saved = extraction.save(self.review, self.scheme_id, self.template.name, values, self.extractor,
                                    complete=complete)
        except extraction.ExtractionError as exc:
            self._show_problems(exc.problems)
            self._summarise(exc.problems, f"Not saved as complete: {len(exc.problems)} problem(s). "
                                          "Fix them, or save as draft to keep the work.")
            self.message.value = (f"<span style='color:#a00'>Not complete: {len(exc.problems)} problem(s), "
                                  f"listed at the top of the form and next to the fields.</span>")
            return None
        draft_problems = templates.validate(self.template, values, complete=True)
        self._show_problems([(p.field_path, p.message) for p in draft_problems] if not complete else [])
        self.message.value = f"Saved as {escape(saved.status)}."
        self._show_history()
        return saved

    def _show_history(self) -> None:
        saves = extraction.history(self.review, self.scheme_id, self.template.name)
        if not saves:
            self.history.value = "<small>No saves yet.</small>"
            return
        items = "".join(f"<li>{escape(local_minute(s.saved_at))} · {escape(s.extractor)} · {escape(s.status)}</li>"
                        for s in saves[-10:])
        self.history.value = f"<small>History ({len(saves)} saves, latest last):<ul>{items}</ul></small>"


def _check_scheme(review, scheme_id: str) -> None:
    try:
        schemes.SchemeState.load(review).get(scheme_id)
    except schemes.SchemeError as exc:
        known = ", ".join(s.scheme_id for s in schemes.SchemeState.load(review).active()[:20]) or "none yet"
        raise extraction.ExtractionError(f"{exc} in this review (schemes: {known}); create it first with "
                                         "review.schemes.create_scheme(review, name, who)") from None


def _load_template(review, name: str):
    try:
        return extraction.load_template(review, name)
    except (templates.TemplateError, FileNotFoundError, KeyError) as exc:
        raise extraction.ExtractionError(f"extraction template {name!r}: {exc}") from None


class ComparisonView:
    """Two extractors' versions side by side; pick a side per differing field, record the agreed version."""

    def __init__(self, review, scheme_id: str, template_name: str, first: str, second: str, who: str):
        self.review, self.scheme_id, self.template_name, self.who = review, scheme_id, template_name, who
        self.template = extraction.load_template(review, template_name)
        latest = extraction.latest_by_extractor(review, scheme_id, template_name)
        self.first, self.second = latest[first], latest[second]
        self.table = extraction.compare(review, scheme_id, template_name, first, second)
        self.choices: dict[str, widgets.RadioButtons] = {}
        rows = [widgets.HTML(f"<b>{escape(scheme_id)}</b>: {int((~self.table['same']).sum())} of "
                             f"{len(self.table)} fields differ. Each value is shown in full; choose whose "
                             "to keep, then record the agreed version.")]
        cell = "border:1px solid #ddd; padding:4px 6px; vertical-align:top; " + _WRAP
        for _, row in self.table[~self.table["same"]].iterrows():
            label = self._label_of(row["field"])
            shown = templates.label_cells(self.template, {row["field"]: row[first]}), \
                templates.label_cells(self.template, {row["field"]: row[second]})
            row = {**row, first: shown[0][row["field"]], second: shown[1][row["field"]]}
            values = (f"<table style='border-collapse:collapse; width:100%; table-layout:fixed'><tr>"
                      f"<th style='{cell}; width:50%'>{escape(first)}</th><th style='{cell}'>{escape(second)}</th></tr>"
                      f"<tr><td style='{cell}'>{escape(row[first]) or '<i>(empty)</i>'}</td>"
                      f"<td style='{cell}'>{escape(row[second]) or '<i>(empty)</i>'}</td></tr></table>")
            choice = widgets.RadioButtons(options=[(f"keep {first}'s", first), (f"keep {second}'s", second)],
                                          layout=widgets.Layout(width="auto"))
            self.choices[row["field"]] = choice
            rows.append(widgets.VBox([
                widgets.HTML(f"<div style='{_WRAP}'><b>{escape(label)}</b> <code>{escape(row['field'])}</code></div>"),
                widgets.HTML(values, layout=widgets.Layout(width="100%")), choice],
                layout=widgets.Layout(border_bottom="1px solid #eee", padding="4px 0")))
        self.agree_button = widgets.Button(description="Record agreed version", button_style="success",
                                           layout=widgets.Layout(width="auto"))
        self.message = widgets.HTML()
        self.agree_button.on_click(lambda _: self.record())
        self.ui = widgets.VBox(rows + [self.agree_button, self.message], layout=widgets.Layout(max_width="60em"))

    def _label_of(self, path: str) -> str:
        """`outcomes.2.direction` reads as "Outcomes, row 2: Direction"."""
        parts = path.split(".")
        try:
            field = self.template.field(parts[0])
            if len(parts) == 3:
                sub = field.subfield(parts[2])
                return f"{field.label or field.name}, row {parts[1]}: {sub.label or sub.name}"
        except (KeyError, ValueError):
            return path
        return field.label or field.name

    def _ipython_display_(self):
        from IPython.display import display

        display(self.ui)

    def agreed_values(self) -> dict:
        a = templates.flatten(self.template, self.first.values)
        b = templates.flatten(self.template, self.second.values)
        merged = dict(a)
        for key, toggle in self.choices.items():
            source = a if toggle.value == self.first.extractor else b
            if key in source:
                merged[key] = source[key]
            else:
                merged.pop(key, None)
        return templates.unflatten(self.template, merged)

    def record(self) -> int | None:
        try:
            event_id = extraction.agree(self.review, self.scheme_id, self.template_name, self.agreed_values(), self.who)
        except (extraction.ExtractionError, ValueError) as exc:
            self.message.value = f"<span style='color:#a00'>{escape(exc)}</span>"
            return None
        self.message.value = "Agreed version recorded."
        return event_id
