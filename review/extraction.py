"""Data extraction per scheme through templates: drafts, completes, comparison, agreement.

Each save is an event holding the whole form (values as JSON) for one scheme,
one template and one extractor, marked draft or complete; a complete save must
validate against the template. Two extractors can extract the same scheme
independently; `compare` shows their differences field by field and `agree`
records the version the team settled on. Nothing is overwritten: the history
of every form is the list of its save events.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from review import events, resources, schemes, store, templates
from review.errors import WorkbenchError
from review.io.base import without_nul
from review.io.rows import RowsError, read_rows, spreadsheet_cell

if TYPE_CHECKING:
    from review.project import Review

SAVE_EVENT, AGREE_EVENT = events.ExtractionSaved.kind, events.ExtractionAgreed.kind
DRAFT, COMPLETE = "draft", "complete"
REPO_TEMPLATES = resources.templates_folder()  # extraction_templates/, as installed
# Columns of an import file that are not template fields.
META_COLUMNS = ("scheme_id", "scheme_name", "extractor", "status", "report_source_ids", "record_ids")


class ExtractionError(WorkbenchError, ValueError):
    """Invalid extraction data; `problems` lists (where, message) pairs, each naming the field."""

    def __init__(self, message: str, problems: list[tuple[str, str]] | None = None):
        self.problems = problems or []
        detail = "".join(f"\n  {where}: {what}" for where, what in self.problems[:50])
        more = f"\n  ... and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(message + detail + more)


@dataclass(frozen=True)
class Extraction:
    event_id: int
    scheme_id: str
    template: str
    template_version: str
    extractor: str
    status: str
    values: dict
    saved_at: str


def template_folders(review: "Review") -> list[Path]:
    """A review's own templates first, then the ones shipped with the workbench."""
    return [review.path / "extraction_templates", REPO_TEMPLATES]


def load_template(review: "Review", name: str):
    return templates.load_named(name, template_folders(review))


# --- writing ---------------------------------------------------------------------------


def save(review: "Review", scheme_id: str, template_name: str, values: dict, extractor: str,
         complete: bool = False) -> Extraction:
    """Save one extractor's form for a scheme. Complete only if it validates; a draft may be unfinished."""
    template = load_template(review, template_name)
    schemes.SchemeState.load(review).get(scheme_id)
    problems = templates.validate(template, values, complete=complete)
    if complete and problems:
        raise ExtractionError(f"scheme {scheme_id}: cannot mark complete",
                              [(p.field_path, p.message) for p in problems])
    event = _saved(scheme_id, template, values, extractor, COMPLETE if complete else DRAFT)
    with store.write_transaction(review.engine) as conn:
        event_id = events.append(conn, extractor, event)
    return Extraction(event_id, scheme_id, template.name, str(template.version), extractor, event.status,
                      values, store.utc_now())


def _saved(scheme_id: str, template, values: dict, extractor: str, status: str) -> events.ExtractionSaved:
    return events.ExtractionSaved(scheme_id=scheme_id, template=template.name,
                                  template_version=str(template.version), extractor=extractor, status=status,
                                  values=values)


def agree(review: "Review", scheme_id: str, template_name: str, values: dict, who: str, note: str = "") -> int:
    """Record the agreed version of a scheme's extraction (after comparing two extractors)."""
    template = load_template(review, template_name)
    schemes.SchemeState.load(review).get(scheme_id)
    problems = templates.validate(template, values, complete=True)
    if problems:
        raise ExtractionError(f"scheme {scheme_id}: the agreed version does not validate",
                              [(p.field_path, p.message) for p in problems])
    based_on = [e.event_id for e in latest_by_extractor(review, scheme_id, template_name).values()]
    event = events.ExtractionAgreed(scheme_id=scheme_id, template=template.name,
                                    template_version=str(template.version), values=values, agreed_by=who,
                                    based_on=tuple(based_on), note=note)
    with store.write_transaction(review.engine) as conn:
        return events.append(conn, who, event)


# --- reading ---------------------------------------------------------------------------


def _events(review: "Review", kind: str, template_name: str, scheme_id: str | None = None):
    """(event id, time, event) of saves or agreements with a template, oldest first, from the read model."""
    model = review.read_model()
    logged = model.saves if kind == SAVE_EVENT else model.agreements
    for entry in logged:
        event = entry.event
        if event.template == template_name and (scheme_id is None or event.scheme_id == scheme_id):
            yield entry.event_id, entry.created_at, event


def history(review: "Review", scheme_id: str, template_name: str) -> list[Extraction]:
    return [Extraction(i, e.scheme_id, e.template, e.template_version, e.extractor, e.status, e.values, created)
            for i, created, e in _events(review, SAVE_EVENT, template_name, scheme_id)]


def schemes_with_saves(review: "Review", template_name: str) -> set[str]:
    """Schemes anyone has saved an extraction for with this template (draft or complete)."""
    return {e.scheme_id for _, _, e in _events(review, SAVE_EVENT, template_name)}


def latest_by_extractor(review: "Review", scheme_id: str, template_name: str) -> dict[str, Extraction]:
    latest: dict[str, Extraction] = {}
    for extraction in history(review, scheme_id, template_name):
        latest[extraction.extractor] = extraction
    return latest


def agreed(review: "Review", template_name: str) -> dict[str, dict]:
    """scheme id -> the latest agreed values."""
    return {e.scheme_id: e.values for _, _, e in _events(review, AGREE_EVENT, template_name)}


def final_values(review: "Review", template_name: str) -> dict[str, dict]:
    """What synthesis uses per scheme: the agreed version, else the only complete extraction.

    A scheme whose extractors' complete versions differ and were never agreed is
    left out (it shows in `compare`), so no table silently picks one side.
    """
    result = agreed(review, template_name)
    latest: dict[str, dict[str, events.ExtractionSaved]] = {}
    for _, _, e in _events(review, SAVE_EVENT, template_name):
        latest.setdefault(e.scheme_id, {})[e.extractor] = e
    for scheme_id, by_extractor in latest.items():
        if scheme_id in result:
            continue
        complete = [e.values for e in by_extractor.values() if e.status == COMPLETE]
        if complete and all(v == complete[0] for v in complete):
            result[scheme_id] = complete[0]
    return result


def compare(review: "Review", scheme_id: str, template_name: str, first: str, second: str) -> pd.DataFrame:
    """Field-by-field comparison of two extractors' latest versions (flattened, groups row by row)."""
    template = load_template(review, template_name)
    latest = latest_by_extractor(review, scheme_id, template_name)
    for who in (first, second):
        if who not in latest:
            raise ExtractionError(f"{who!r} has not extracted scheme {scheme_id} with {template_name!r}")
    a = templates.flatten(template, latest[first].values)
    b = templates.flatten(template, latest[second].values)
    rows = [{"field": key, first: a.get(key, ""), second: b.get(key, ""), "same": a.get(key, "") == b.get(key, "")}
            for key in list(dict.fromkeys([*a, *b]))]
    return pd.DataFrame(rows, columns=["field", first, second, "same"])


# --- import and export -----------------------------------------------------------------


def _read_rows(file: Path) -> list[tuple[int, dict]]:
    """(line, row) pairs from a CSV (wide: one row per scheme) or a JSON list of objects."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExtractionError(f"{file}: cannot read: {exc}") from None
    if file.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ExtractionError(f"{file}:{exc.lineno}: not valid JSON: {exc.msg}") from None
        except RecursionError:
            raise ExtractionError(f"{file}: JSON nested too deeply to be an extraction file") from None
        if not isinstance(data, list) or not all(isinstance(x, dict) for x in data):
            raise ExtractionError(f"{file}: expected a JSON list of objects, one per scheme")
        for i, row in enumerate(data, start=1):
            where = _nesting_problem(row)
            if where:
                raise ExtractionError(f"{file}[{i}]: {where}")
        return [(i, row) for i, row in enumerate(data, start=1)]
    try:
        _, rows = read_rows(text, str(file))
    except RowsError as exc:
        raise ExtractionError(str(exc)) from None
    return [(row.line, row.cells) for row in rows]


# An extraction is a map of fields, with groups one level down; far deeper nesting
# is not an extraction, and checking it recursively would exhaust the stack.
_MAX_JSON_DEPTH = 20


def _nesting_problem(value, depth: int = 0) -> str:
    """What is wrong with a JSON row's shape ('' when nothing): too deep, or a NUL in a string."""
    stack = [(value, depth)]
    while stack:
        item, level = stack.pop()
        if level > _MAX_JSON_DEPTH:
            return f"nested more than {_MAX_JSON_DEPTH} levels deep"
        if isinstance(item, dict):
            stack.extend((k, level + 1) for k in item)
            stack.extend((v, level + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, level + 1) for v in item)
        elif isinstance(item, str) and "\x00" in item:
            return "a value contains a NUL byte"
    return ""


def _cell_problems(template, flat: dict[str, str]) -> list[tuple[str, str]]:
    """(column, message) for every cell that cannot be read as its field's type."""
    problems = []
    for column, raw in flat.items():
        parts = column.split(".")
        path = f"{parts[0]}.{parts[2]}" if len(parts) == 3 else parts[0]
        try:
            field = template.field(path)
        except KeyError as exc:
            problems.append((column, str(exc.args[0])))
            continue
        if field.type == "group":
            problems.append((column, f"group {field.name!r} is given as {field.name}.1.<field> columns"))
            continue
        try:
            templates.coerce(field, raw)
        except ValueError as exc:
            problems.append((column, str(exc)))
    return problems


def import_extractions(review: "Review", template_name: str, file: str | Path, who: str,
                       create_schemes: bool = True) -> int:
    """Import extractions (CSV: one wide row per scheme; JSON: objects with a `values` map).

    Each row names `scheme_id` (created, with `scheme_name`, if new), optionally
    `extractor` (default: who), `status` (draft or complete; default complete) and
    the reports informing it (`report_source_ids` or `record_ids`, ";"-separated).
    Every row is checked first; problems are reported per row and field and
    nothing from a failing file is written.
    """
    file = Path(file)
    template = load_template(review, template_name)
    field_names = {f.name for f in template.fields}
    rows = _read_rows(file)
    state = schemes.SchemeState.load(review)
    records = review.records_frame()
    by_source = dict(zip(records["source_id"].astype(str), records["record_id"].astype(int))) \
        if not records.empty else {}
    clusters = review.cluster_ids()
    included, _ = schemes.included_reports(review)  # the same rule as linking by hand
    problems: list[tuple[str, str]] = []
    plans = []
    for where, row in rows:
        at = f"{file.name}:{where}" if file.suffix.lower() != ".json" else f"{file.name}[{where}]"
        scheme_id = str(row.get("scheme_id", "")).strip()
        if not scheme_id:
            problems.append((f"{at} [scheme_id]", "missing"))
            continue
        if scheme_id not in state.schemes and not create_schemes:
            problems.append((f"{at} [scheme_id]", f"no scheme {scheme_id!r}"))
        name = str(row.get("scheme_name", "") or "").strip()
        status = str(row.get("status", "") or COMPLETE).strip().lower()
        if status not in (DRAFT, COMPLETE):
            problems.append((f"{at} [status]", f"must be draft or complete, not {status!r}"))
        if "values" in row and isinstance(row["values"], dict):
            values = row["values"]
            unknown = [k for k in row if k not in (*META_COLUMNS, "values")]
        else:
            # A column named like a template field is that field (scheme_name often is).
            meta = set(META_COLUMNS) - field_names
            flat = {k: str(v) for k, v in row.items() if k not in meta}
            unknown = [k for k in flat if k.split(".")[0] not in field_names]
            for column in unknown:
                problems.append((f"{at} [{column}]", f"unknown column: not a field of template {template.name!r}"))
            known = {k: v for k, v in flat.items() if k not in unknown}
            cell_problems = _cell_problems(template, known)
            if cell_problems:
                problems += [(f"{at} [{column}]", message) for column, message in cell_problems]
                continue
            try:
                values = templates.unflatten(template, known)
            except ValueError as exc:
                problems.append((f"{at}", str(exc)))
                continue
            unknown = []
        for column in unknown:
            problems.append((f"{at} [{column}]", "unknown key: not a column of an extraction import"))
        for problem in templates.validate(template, values, complete=status == COMPLETE):
            problems.append((f"{at} [{problem.field_path}]", problem.message))
        if not name and isinstance(values.get("scheme_name"), str):
            name = values["scheme_name"]
        if scheme_id not in state.schemes and not name:
            problems.append((f"{at} [scheme_name]", f"new scheme {scheme_id!r} needs a name"))
        if scheme_id not in state.schemes and not schemes.valid_id(scheme_id):
            problems.append((f"{at} [scheme_id]", f"{scheme_id!r}: use letters, digits, '_', '-' or '.' (at most 40)"))
        reports = []
        for column in ("report_source_ids", "record_ids"):
            for item in str(row.get(column, "") or "").split(";"):
                item = item.strip()
                if not item:
                    continue
                record = by_source.get(item) if column == "report_source_ids" else (int(item) if item.isdigit()
                                                                                      else None)
                if record is None or record not in clusters:
                    problems.append((f"{at} [{column}]", f"no record {item!r}"))
                elif clusters[record] not in included:
                    problems.append((f"{at} [{column}]", f"record {item!r} was not included at full text"))
                else:
                    reports.append(clusters[record])
        plans.append((scheme_id, name, str(row.get("extractor", "") or who),
                      status, values, reports))
    if problems:
        raise ExtractionError(f"{file}: nothing imported; {len(problems)} problem(s)", problems)

    # Schemes and links are planned by review.schemes, on a copy of its state, with the
    # checks a person creating and linking by hand goes through; then everything is
    # appended in one transaction.
    planned: list[tuple[str, events.Event]] = []
    for scheme_id, name, extractor, status, values, reports in plans:
        if scheme_id not in state.schemes:
            planned.append((who, schemes.plan_create(state, name, scheme_id)))
        planned += [(who, link) for link in schemes.plan_links(state, scheme_id, reports, included, clusters)]
        planned.append((extractor, _saved(scheme_id, template, values, extractor, status)))
    with store.write_transaction(review.engine) as conn:
        for actor, event in planned:
            events.append(conn, actor, event)
    return len(plans)


def export_extractions(review: "Review", template_name: str, format: str = "csv",
                       out: str | Path | None = None) -> str:
    """The final values per scheme (agreed, else the only complete version) as CSV or JSON."""
    if format not in ("csv", "json"):
        raise ExtractionError(f"export format must be csv or json, not {format!r}")
    template = load_template(review, template_name)
    state = schemes.SchemeState.load(review)
    final = final_values(review, template_name)
    ordered = [s for s in state.active() if s.scheme_id in final]
    if format == "json":
        data = [{"scheme_id": s.scheme_id, "scheme_name": s.name, "values": final[s.scheme_id]} for s in ordered]
        text = without_nul(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        flats = [templates.flatten(template, final[s.scheme_id]) for s in ordered]
        columns = list(dict.fromkeys(k for flat in flats for k in flat))
        # The scheme's own name goes in scheme_name unless the template has a field of that name.
        with_name = "scheme_name" not in {f.name for f in template.fields}
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        header = ["scheme_id", *(["scheme_name"] if with_name else []), *columns]
        writer.writerow([spreadsheet_cell(c) for c in header])
        for scheme, flat in zip(ordered, flats):
            writer.writerow([spreadsheet_cell(c) for c in [scheme.scheme_id, *([scheme.name] if with_name else []),
                                                    *(flat.get(c, "") for c in columns)]])
        text = without_nul(buffer.getvalue())
    if out is not None:
        Path(out).write_text(text, encoding="utf-8")
    return text


def extraction_frame(review: "Review", template_name: str, labels: bool = False) -> pd.DataFrame:
    """One row per scheme with its final values flattened: the table synthesis starts from.

    `labels=True` shows vocabulary labels instead of codes (for people; exports keep codes)."""
    template = load_template(review, template_name)
    state = schemes.SchemeState.load(review)
    final = final_values(review, template_name)
    rows = []
    for scheme in state.active():
        if scheme.scheme_id in final:
            flat = templates.flatten(template, final[scheme.scheme_id])
            rows.append({"scheme_id": scheme.scheme_id, "scheme_name": scheme.name,
                         **(templates.label_cells(template, flat) if labels else flat)})
    return pd.DataFrame(rows)
