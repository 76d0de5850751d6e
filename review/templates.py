"""Extraction templates: the fields extracted per scheme, read from YAML and checked.

A template (`extraction_templates/<name>.yaml`, format in that folder's README)
names fields, their types and the vocabularies choice fields draw from. This
module reads templates, failing with file:line and a reason on anything
suspicious, and works with the values extracted through them:

- values are plain JSON-friendly data: a dict of field name -> value, a group
  being a list of row dicts; a missing key and None both mean "not answered yet";
- any field may instead hold a special answer, {"special": "not_reported"} or
  {"special": "not_applicable"}, so "the paper does not say" and "does not apply"
  stay distinct from each other and from an unfinished draft;
- `validate` lists problems (required fields only when the form is complete);
- `coerce` turns text typed in a form or a CSV cell into a value;
- `flatten`/`unflatten` convert to and from one wide CSV row
  (`outcomes.2.direction` for row 2 of group `outcomes`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import date
from pathlib import Path

import yaml

from review.errors import WorkbenchError
from review.schema_check import SchemaProblem, check_schema, suggestion
from review.yaml_lines import compose, line_of

FIELD_TYPES = ("text", "long_text", "integer", "number", "date", "boolean",
               "single_choice", "multiple_choice", "group")
TEXT_TYPES = ("text", "long_text")
NUMBER_TYPES = ("integer", "number")
CHOICE_TYPES = ("single_choice", "multiple_choice")

NOT_REPORTED = {"special": "not_reported"}
NOT_APPLICABLE = {"special": "not_applicable"}
SPECIAL_KINDS = ("not_reported", "not_applicable")
# How a special answer is written in a CSV cell (flatten writes these) ...
SPECIAL_TEXT = {"not_reported": "not reported", "not_applicable": "not applicable"}
# ... and every spelling read back as one (case and surrounding spaces ignored).
SPECIAL_SPELLINGS = {"not reported": "not_reported", "nr": "not_reported",
                     "not applicable": "not_applicable", "n/a": "not_applicable"}
BOOLEAN_SPELLINGS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NUMBER_WITH_WORDS = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)\s*[^\d\s.,]")
_DATE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_GROUP_COLUMN = re.compile(r"^([^.]+)\.(\d+)\.([^.]+)$")

_COMMON_FIELD_KEYS = ("name", "label", "help", "type", "required")
_TYPE_KEYS = {
    "integer": ("unit", "min", "max"),
    "number": ("unit", "min", "max"),
    "single_choice": ("vocabulary",),
    "multiple_choice": ("vocabulary",),
    "group": ("fields", "min_rows", "max_rows"),
}


# --- the model ---------------------------------------------------------------------------


class TemplateError(WorkbenchError, ValueError):
    """A template cannot be used. str() reads `file:line: [field] reason`."""

    def __init__(self, path: str | Path, line: int | None, message: str, field: str | None = None):
        self.path = str(path)
        super().__init__(message, file=self.path, line=line, field=field)


@dataclass
class Term:
    code: str
    label: str
    description: str = ""


@dataclass
class Vocabulary:
    name: str
    terms: list[Term]

    def codes(self) -> list[str]:
        return [t.code for t in self.terms]

    def label(self, code: str) -> str:
        return next((t.label for t in self.terms if t.code == code), code)

    def match(self, text: str) -> str | None:
        """The code whose code or label is `text`, ignoring case and surrounding spaces."""
        wanted = text.strip().casefold()
        for term in self.terms:
            if wanted in (term.code.casefold(), term.label.strip().casefold()):
                return term.code
        return None


@dataclass
class Field:
    name: str
    type: str
    label: str
    help: str = ""
    required: bool = False
    unit: str = ""
    min: int | float | None = None
    max: int | float | None = None
    # The vocabulary itself, not its name, so a field alone is enough to coerce text.
    vocabulary: Vocabulary | None = None
    fields: list[Field] = dc_field(default_factory=list)
    min_rows: int | None = None
    max_rows: int | None = None
    line: int | None = None

    @property
    def is_group(self) -> bool:
        return self.type == "group"

    def subfield(self, name: str) -> Field:
        for sub in self.fields:
            if sub.name == name:
                return sub
        raise KeyError(f"group {self.name!r} has no field {name!r}")


@dataclass
class Template:
    name: str
    title: str
    version: str  # `version: 1` in YAML reads as "1"
    fields: list[Field]
    description: str = ""
    vocabularies: dict[str, Vocabulary] = dc_field(default_factory=dict)
    path: str = ""

    def field(self, path: str) -> Field:
        """A field by name, or a group's field as `group.field` (e.g. `outcomes.direction`)."""
        top, _, sub = path.partition(".")
        for f in self.fields:
            if f.name == top:
                return f.subfield(sub) if sub else f
        raise KeyError(f"template {self.name!r} has no field {top!r}")


@dataclass(frozen=True)
class Problem:
    field_path: str  # `country`, `outcomes[2].direction` (rows counted from 0, as in the values)
    message: str

    def __str__(self) -> str:
        return f"{self.field_path}: {self.message}" if self.field_path else self.message


def special(kind: str) -> dict:
    """A fresh special answer, e.g. special("not_reported") -> {"special": "not_reported"}."""
    if kind not in SPECIAL_KINDS:
        raise ValueError(f"unknown special answer {kind!r} (known: {', '.join(SPECIAL_KINDS)})")
    return {"special": kind}


def is_special(value, kind: str | None = None) -> bool:
    """True for {"special": "not_reported"} / {"special": "not_applicable"} (or only `kind`)."""
    return (isinstance(value, dict) and len(value) == 1 and value.get("special") in SPECIAL_KINDS
            and (kind is None or value["special"] == kind))


# --- reading templates -------------------------------------------------------------------


def _suggest(word, choices) -> str:
    return suggestion(word, choices)


# --- the template's structure, checked by the protocol's schema checker ----------------------

# Keys and types are checked by review.schema_check (as the protocol is), so an unknown
# key, a missing key or a value of the wrong type reads the same in both files. What a
# schema cannot say (keys that depend on the field type, vocabularies that must exist,
# duplicates) is checked afterwards by _Reader.

_IDENTIFIER_SCHEMA = {
    "type": "string", "pattern": _IDENTIFIER.pattern,
    "x-message": {"pattern": "{value!r} is not an identifier: use lower-case letters, digits and _, "
                             "starting with a letter (e.g. 'study_design')"},
}
# Text with something in it: "  " is as empty as "".
_NONBLANK_SCHEMA = {"type": "string", "minLength": 1, "pattern": r"\S",
                    "x-message": {"pattern": "must be non-empty text"}}
_TEXT_SCHEMA = {"type": ["string", "null"]}
_ROWS_SCHEMA = {"type": ["integer", "null"], "minimum": 0, "x-message": "must be a whole number >= 0"}
_BOUND_SCHEMA = {"type": ["number", "null"]}

_TERM_SCHEMA = {
    "type": "object",
    "x-message": {"type": "must be a mapping with code and label (and optional description), not {shown}"},
    "additionalProperties": False,
    "required": ["code", "label"],
    "properties": {"code": _IDENTIFIER_SCHEMA, "label": _NONBLANK_SCHEMA, "description": _TEXT_SCHEMA},
}
_FIELD_SCHEMA: dict = {
    "type": "object",
    "x-message": {"type": "must be a mapping with at least name and type, not {shown}"},
    "additionalProperties": False,
    "required": ["name", "type"],
    "properties": {
        "name": _IDENTIFIER_SCHEMA,
        "label": _NONBLANK_SCHEMA,
        "help": _TEXT_SCHEMA,
        "type": {"enum": list(FIELD_TYPES), "x-message": "unknown type {value!r}{suggestion} (types: {choices})"},
        "required": {"type": "boolean"},
        "unit": _TEXT_SCHEMA,
        "min": _BOUND_SCHEMA,
        "max": _BOUND_SCHEMA,
        "vocabulary": {"type": "string"},
        "fields": None,  # a group's own fields: the list below (set after it exists)
        "min_rows": _ROWS_SCHEMA,
        "max_rows": _ROWS_SCHEMA,
    },
}
_FIELDS_SCHEMA = {"type": "array", "minItems": 1, "items": _FIELD_SCHEMA}
_FIELD_SCHEMA["properties"]["fields"] = _FIELDS_SCHEMA

TEMPLATE_SCHEMA = {
    "type": "object",
    "x-message": {"type": "a template must be a mapping with name, title, version, vocabularies and fields"},
    "additionalProperties": False,
    "required": ["name", "title", "version", "fields"],
    "properties": {
        "name": _IDENTIFIER_SCHEMA,
        "title": _NONBLANK_SCHEMA,
        # Compared as text; a whole number is read as its text. A decimal is refused:
        # YAML reads `1.10` as 1.1, which is not what was written.
        "version": {"type": ["string", "integer"], "pattern": r"\S",
                    "x-message": {"pattern": "must be text or a whole number"}},
        "description": _TEXT_SCHEMA,
        "vocabularies": {
            "type": ["object", "null"],
            "x-message": {"type": "must be a mapping of name: list of terms, not {shown}"},
            "propertyNames": _IDENTIFIER_SCHEMA,
            "additionalProperties": {
                "type": "array", "minItems": 1, "items": _TERM_SCHEMA,
                "x-message": {"type": "must be a non-empty list of terms (code, label)",
                              "minItems": "must be a non-empty list of terms (code, label)"},
            },
        },
        "fields": _FIELDS_SCHEMA,
    },
}


def _schema_message(data, problem: SchemaProblem) -> str:
    """The checker's message with the part of the template it is about, as people name it."""
    if problem.kind in ("unknown_key", "missing_key"):
        return f"{_noun(data, problem.path)}: {problem.message}"
    noun = _noun(data, problem.node_path, key_name=problem.kind == "key_name")
    return f"{noun} {problem.message}" if noun else problem.message


def _noun(data, path: tuple, key_name: bool = False) -> str:
    """`field 'outcomes.direction': unit`, `vocabulary 'designs': code`, ... for a path in the template."""
    if not path:
        return "template" if isinstance(data, dict) else ""  # "a template must be a mapping" says it all
    if path[0] == "vocabularies" and len(path) > 1:
        vocabulary = path[1]
        if len(path) == 2:
            return "vocabulary name" if key_name else f"vocabulary '{vocabulary}'"
        term = _at(data, path[:3])
        code = term.get("code") if isinstance(term, dict) else None
        if len(path) == 3:
            return f"vocabulary '{vocabulary}' term {path[2] + 1}"
        if path[3] == "code":
            return f"vocabulary '{vocabulary}': code"
        which = f"term '{code}'" if isinstance(code, str) else f"term {path[2] + 1}"
        return f"vocabulary '{vocabulary}' {which}: {path[3]}"
    if path[0] == "fields" and len(path) > 1:
        names, at = [], 0
        while at + 1 < len(path) and path[at] == "fields" and isinstance(path[at + 1], int):
            item = _at(data, path[:at + 2])
            names.append(item.get("name") if isinstance(item, dict) else None)
            at += 2
        rest = path[at:]
        field = (f"field '{'.'.join(names)}'" if all(isinstance(n, str) for n in names) else "field")
        if not rest:
            return field
        if rest == ("fields",):
            return f"group '{'.'.join(map(str, names))}': fields"
        if rest == ("name",):
            return "field name"
        if rest == ("type",):  # the type's own message says "unknown type ..."
            return f"{field}:"
        return f"{field}: {rest[0]}"
    return "template name" if path == ("name",) else str(path[0])


def _at(data, path: tuple):
    for step in path:
        data = data[step]
    return data


class _Reader:
    """Turns YAML that passed TEMPLATE_SCHEMA into a Template: the checks a schema cannot express."""

    def __init__(self, path: str, root: yaml.Node | None):
        self.path, self.root = path, root

    def fail(self, where: tuple, message: str, key: bool = False):
        raise TemplateError(self.path, line_of(self.root, where, key), message)

    def template(self, data: dict) -> Template:
        vocabularies = {name: Vocabulary(name, self.terms(("vocabularies", name), name, terms))
                        for name, terms in (data.get("vocabularies") or {}).items()}
        return Template(
            name=data["name"],
            title=data["title"],
            version=str(data["version"]),  # stored with every extraction, compared as text
            description=data.get("description") or "",
            vocabularies=vocabularies,
            fields=self.fields(("fields",), data["fields"], vocabularies, group=""),
            path=self.path,
        )

    def terms(self, where: tuple, vocabulary: str, items: list) -> list[Term]:
        terms: list[Term] = []
        # Text (code or label, case ignored) -> code: coerce() must map any text to one term only.
        spellings: dict[str, str] = {}
        for j, item in enumerate(items):
            at = where + (j,)
            code, label = item["code"], item["label"]
            what = f"vocabulary '{vocabulary}' term '{code}'"
            if ";" in label:
                self.fail(at + ("label",), f"{what}: label must not contain ';' (it separates the choices "
                                           "of a multiple choice answer)")
            if any(t.code == code for t in terms):
                self.fail(at + ("code",), f"vocabulary '{vocabulary}': duplicate term code '{code}'")
            for spelling in dict.fromkeys((code.casefold(), label.strip().casefold())):
                if spelling in SPECIAL_SPELLINGS:
                    self.fail(at, f"{what}: '{spelling}' reads as the special answer "
                                  f"'{SPECIAL_TEXT[SPECIAL_SPELLINGS[spelling]]}', which every field "
                                  "already accepts; drop this term")
                if spelling in spellings:
                    self.fail(at, f"{what}: '{spelling}' is also the code or label of term "
                                  f"'{spellings[spelling]}' (case is ignored when text is matched)")
                spellings[spelling] = code
            terms.append(Term(code, label, item.get("description") or ""))
        return terms

    def fields(self, where: tuple, items: list, vocabularies: dict, group: str) -> list[Field]:
        out: list[Field] = []
        for i, item in enumerate(items):
            field = self.field(where + (i,), item, vocabularies, group)
            first = next((f for f in out if f.name == field.name), None)
            if first is not None:
                self.fail(where + (i, "name"), f"duplicate field name '{_qualified(group, field.name)}' "
                                               f"(first defined at line {first.line})")
            out.append(field)
        return out

    def field(self, where: tuple, item: dict, vocabularies: dict, group: str) -> Field:
        name, kind = item["name"], item["type"]
        what = f"field '{_qualified(group, name)}'"
        if kind == "group" and group:
            self.fail(where + ("type",), f"{what}: groups cannot be nested (a group is one table; "
                                         "put the inner rows in a group of their own)")
        allowed = _COMMON_FIELD_KEYS + _TYPE_KEYS.get(kind, ())
        for key in item:
            if key not in allowed:
                self.fail(where + (key,), f"{what}: key '{key}' does not apply to type '{kind}'", key=True)
        field = Field(
            name=name, type=kind,
            label=item.get("label", name.replace("_", " ").capitalize()),
            help=item.get("help") or "",
            required=item.get("required", False),
            unit=item.get("unit") or "",
            line=line_of(self.root, where),
        )
        if kind in NUMBER_TYPES:
            for key in ("min", "max"):
                bound = item.get(key)
                if kind == "integer" and bound is not None and not isinstance(bound, int):
                    self.fail(where + (key,), f"{what}: {key} must be a whole number, not {bound!r}")
                setattr(field, key, bound)
            if field.min is not None and field.max is not None and field.min > field.max:
                self.fail(where + ("max",), f"{what}: max {field.max} is below min {field.min}")
        if kind in CHOICE_TYPES:
            if "vocabulary" not in item:
                self.fail(where, f"{what}: a {kind} field needs 'vocabulary: NAME' "
                                 f"(defined: {', '.join(vocabularies) or 'none'})")
            vocab = item["vocabulary"]
            if vocab not in vocabularies:
                self.fail(where + ("vocabulary",), f"{what}: unknown vocabulary {vocab!r}"
                                                   f"{_suggest(vocab, vocabularies)} "
                                                   f"(defined: {', '.join(vocabularies) or 'none'})")
            field.vocabulary = vocabularies[vocab]
        if kind == "group":
            if "fields" not in item:
                self.fail(where, f"{what}: a group needs its own 'fields'")
            field.fields = self.fields(where + ("fields",), item["fields"], vocabularies, group=name)
            field.min_rows, field.max_rows = item.get("min_rows"), item.get("max_rows")
            if field.min_rows is not None and field.max_rows is not None and field.min_rows > field.max_rows:
                self.fail(where + ("max_rows",), f"{what}: max_rows {field.max_rows} is below "
                                                 f"min_rows {field.min_rows}")
        return field


def _qualified(group: str, name: str) -> str:
    return f"{group}.{name}" if group else name


def _check_duplicate_keys(node: yaml.Node | None, reader: _Reader) -> None:
    """safe_load keeps the last of two equal keys silently; a template never means that."""
    if isinstance(node, yaml.MappingNode):
        seen: set = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    raise TemplateError(reader.path, key.start_mark.line + 1,
                                        f"duplicate key '{key.value}' (YAML would keep only the last one)")
                seen.add(key.value)
            _check_duplicate_keys(value, reader)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_duplicate_keys(item, reader)


def parse_template(text: str, path: str | Path = "<template>") -> Template:
    """A Template from YAML text; `path` is only used in error messages."""
    path = str(path)
    try:
        data = yaml.safe_load(text)
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start and mark and start.line != mark.line:
            reason += f" ({context} started at line {start.line + 1})"
        raise TemplateError(path, mark.line + 1 if mark else None, f"not valid YAML: {reason}") from None
    reader = _Reader(path, root)
    _check_duplicate_keys(root, reader)
    problem = check_schema(TEMPLATE_SCHEMA, data)
    if problem is not None:
        raise TemplateError(path, problem.line(root), _schema_message(data, problem))
    return reader.template(data)


def load_template(path: str | Path) -> Template:
    """Read a template file. Its `name` must be the file name without .yaml, so names find files."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(path, None, "template file not found") from None
    except UnicodeDecodeError as exc:
        raise TemplateError(path, None, f"not UTF-8 text: {exc.reason}") from None
    template = parse_template(text, path)
    if template.name != path.stem:
        line = line_of(compose(text), ("name",))
        raise TemplateError(path, line, f"template name '{template.name}' does not match the file name "
                                        f"'{path.name}' (rename one of them)")
    return template


def find_templates(folder: str | Path) -> dict[str, Template]:
    """name -> Template for every *.yaml / *.yml in `folder` (none if the folder does not exist)."""
    folder = Path(folder)
    found: dict[str, Template] = {}
    if not folder.is_dir():
        return found
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        template = load_template(path)
        if template.name in found:
            raise TemplateError(path, None, f"template '{template.name}' is also defined in "
                                            f"{found[template.name].path}")
        found[template.name] = template
    return found


def load_named(name: str, folders) -> Template:
    """The template `name` from the first folder that has it (a review's own folder shadows shipped ones)."""
    folders = [Path(f) for f in folders]
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise TemplateError(str(name), None, "a template name is an identifier such as 'irm_scheme'")
    for folder in folders:
        for suffix in (".yaml", ".yml"):
            if (folder / f"{name}{suffix}").is_file():
                return load_template(folder / f"{name}{suffix}")
    raise TemplateError(name, None, f"no template named '{name}' (looked in: "
                                    f"{', '.join(str(f) for f in folders) or 'no folders'})")


# --- checking values ---------------------------------------------------------------------


def _is_empty(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def validate(template: Template, values: dict, complete: bool = False) -> list[Problem]:
    """Problems with `values`; required fields (and min_rows) are only checked when `complete`."""
    if not isinstance(values, dict):
        return [Problem("", "values must be a mapping of field name to value")]
    problems: list[Problem] = []
    names = [f.name for f in template.fields]
    for key in values:
        if key not in names:
            problems.append(Problem(str(key), f"unknown field (not in template '{template.name}')"
                                              f"{_suggest(key, names)}"))
    for field in template.fields:
        _check(field, values.get(field.name), field.name, complete, problems)
    return problems


def _check(field: Field, value, path: str, complete: bool, problems: list[Problem]) -> None:
    def problem(message: str) -> None:
        problems.append(Problem(path, message))

    if _is_empty(value):
        if complete and (field.required or (field.is_group and (field.min_rows or 0) > 0)):
            problem("required: give a value, or answer not reported / not applicable")
        return
    if isinstance(value, dict) and "special" in value:
        if not is_special(value):
            problem(f"unknown special answer {value!r}: use {NOT_REPORTED} or {NOT_APPLICABLE}")
        return
    kind = field.type
    if kind in TEXT_TYPES:
        if not isinstance(value, str):
            problem(f"expected text, got {type(value).__name__} {value!r}")
        elif value.strip().casefold() in SPECIAL_SPELLINGS:
            # Stored as text it would be ambiguous, and read back from CSV as the special answer.
            problem(f"{value!r} is a special answer: store "
                    f"{special(SPECIAL_SPELLINGS[value.strip().casefold()])}, not text")
    elif kind in NUMBER_TYPES:
        _check_number(field, value, problem)
    elif kind == "date":
        if not isinstance(value, str) or _date_problem(value):
            problem(_date_problem(value) if isinstance(value, str) else
                    f"expected a date as text YYYY, YYYY-MM or YYYY-MM-DD, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problem(f"expected true or false, got {value!r}")
    elif kind == "single_choice":
        _check_code(field, value, problem)
    elif kind == "multiple_choice":
        if not isinstance(value, list):
            problem(f"expected a list of codes, got {value!r}")
            return
        for code in value:
            _check_code(field, code, problem)
        repeated = sorted({c for c in value if isinstance(c, str) and value.count(c) > 1})
        if repeated:
            problem(f"code(s) given more than once: {', '.join(repeated)}")
    elif kind == "group":
        _check_rows(field, value, path, complete, problems)


def _check_number(field: Field, value, problem) -> None:
    unit = f" in {field.unit}" if field.unit else ""
    if isinstance(value, str):
        # Typically "12 days": the unit belongs to the field, the value is the number alone.
        what = "a whole number" if field.type == "integer" else "a number"
        if _NUMBER.match(value.strip()):
            problem(f"expected {what}{unit}, got the text {value!r}: store it as a number")
        else:
            problem(_number_reason(value, field, what, f" {field.unit}" if field.unit else ""))
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problem(f"expected a number{unit}, got {value!r}")
        return
    if field.type == "integer" and not isinstance(value, int):
        problem(f"expected a whole number{unit}, got {value!r}")
        return
    if not math.isfinite(value):
        problem(f"expected a finite number, got {value!r}")
        return
    if field.min is not None and value < field.min:
        problem(f"{value} is below the minimum {field.min}{unit}")
    if field.max is not None and value > field.max:
        problem(f"{value} is above the maximum {field.max}{unit}")


def _check_code(field: Field, value, problem) -> None:
    vocab = field.vocabulary
    if isinstance(value, str) and value in vocab.codes():
        return
    hint = ""
    if isinstance(value, str) and vocab.match(value):
        hint = f"; values hold codes: did you mean '{vocab.match(value)}'?"
    problem(f"{value!r} is not a code of vocabulary '{vocab.name}'{hint} (codes: {', '.join(vocab.codes())})")


def _check_rows(field: Field, rows, path: str, complete: bool, problems: list[Problem]) -> None:
    if not isinstance(rows, list):
        problems.append(Problem(path, f"expected a list of rows (one mapping per row), got {rows!r}"))
        return
    names = [f.name for f in field.fields]
    for i, row in enumerate(rows):
        at = f"{path}[{i}]"
        if not isinstance(row, dict):
            problems.append(Problem(at, f"a row must be a mapping of field name to value, got {row!r}"))
            continue
        for key in row:
            if key not in names:
                problems.append(Problem(f"{at}.{key}", f"unknown field in group '{field.name}'"
                                                       f"{_suggest(key, names)}"))
        if complete and all(_is_empty(row.get(n)) for n in names):
            # A blank row left in a finished form is noise, not an answer.
            problems.append(Problem(at, "empty row: fill it in or remove it"))
            continue
        for sub in field.fields:
            _check(sub, row.get(sub.name), f"{at}.{sub.name}", complete, problems)
    if field.max_rows is not None and len(rows) > field.max_rows:
        problems.append(Problem(path, f"{len(rows)} rows, at most {field.max_rows} allowed"))
    if complete and field.min_rows is not None and len(rows) < field.min_rows:
        problems.append(Problem(path, f"{len(rows)} rows, at least {field.min_rows} needed"))


def _date_problem(text: str) -> str:
    """Empty if `text` is YYYY, YYYY-MM or YYYY-MM-DD and a real date, else the reason."""
    match = _DATE.match(text)
    if not match:
        return f"expected a date as YYYY, YYYY-MM or YYYY-MM-DD, got {text!r}"
    year, month, day = (int(g) if g else None for g in match.groups())
    try:
        date(year, month or 1, day or 1)
    except ValueError as exc:
        return f"{text!r} is not a date: {exc}"
    return ""


# --- text in, text out -------------------------------------------------------------------


def coerce(field: Field, raw: str):
    """The value for text typed in a form or CSV cell; ValueError says what is wrong.

    "" -> None; "not reported"/"NR" and "not applicable"/"N/A" -> special answers;
    booleans from yes/no/true/false/1/0; choices by code or label (any case),
    multiple choices separated by ";". Surrounding spaces are dropped.
    """
    try:
        return _coerce(field, raw)
    except ValueError as exc:
        raise ValueError(f"field '{field.name}': {exc}") from None


def _coerce(field: Field, raw):
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):  # pandas writes NaN for blanks
        return None
    if not isinstance(raw, str):
        raise ValueError(f"expected text to read, got {type(raw).__name__} {raw!r}")
    text = raw.strip()
    if not text:
        return None
    if text.casefold() in SPECIAL_SPELLINGS:
        return special(SPECIAL_SPELLINGS[text.casefold()])
    kind = field.type
    unit = f" {field.unit}" if field.unit else ""
    if kind in TEXT_TYPES:
        return text
    if kind == "integer":
        if _INTEGER.match(text):
            return int(text)
        raise ValueError(_number_reason(text, field, "a whole number", unit))
    if kind == "number":
        if _INTEGER.match(text):
            return int(text)
        if _NUMBER.match(text):
            return float(text)
        raise ValueError(_number_reason(text, field, "a number", unit))
    if kind == "date":
        reason = _date_problem(text)
        if reason:
            raise ValueError(reason)
        return text
    if kind == "boolean":
        if text.casefold() in BOOLEAN_SPELLINGS:
            return BOOLEAN_SPELLINGS[text.casefold()]
        raise ValueError(f"expected yes/no (or true/false, 1/0), got {text!r}")
    if kind == "single_choice":
        return _match(field, text)
    if kind == "multiple_choice":
        parts = [p.strip() for p in text.split(";") if p.strip()]
        return list(dict.fromkeys(_match(field, p) for p in parts))
    raise ValueError(f"'{field.name}' is a group: give its rows ({field.name}.1.{field.fields[0].name}, ...), "
                     "or 'not reported' / 'not applicable' for the whole group")


def _number_reason(text: str, field: Field, what: str, unit: str) -> str:
    if "," in text and _NUMBER.match(text.replace(",", "")):
        return (f"expected {what}, got {text!r}: write it without commas "
                "(no thousands separators; a point for decimals)")
    if _NUMBER_WITH_WORDS.match(text):
        return f"expected {what}, got {text!r}: give the number alone{' (unit:' + unit + ')' if unit else ''}"
    return f"expected {what}{' in' + unit if unit else ''}, got {text!r}"


def _match(field: Field, text: str) -> str:
    if text.casefold() in SPECIAL_SPELLINGS:
        raise ValueError(f"{text!r} cannot be one of several choices; answer it for the whole field")
    code = field.vocabulary.match(text)
    if code is None:
        raise ValueError(f"{text!r} is neither a code nor a label of vocabulary '{field.vocabulary.name}'"
                         f"{_suggest(text.casefold(), field.vocabulary.codes())} "
                         f"(codes: {', '.join(field.vocabulary.codes())})")
    return code


def _cell(value) -> str:
    """One value as CSV text: what coerce() reads back to the same value."""
    if value is None:
        return ""
    if is_special(value):
        return SPECIAL_TEXT[value["special"]]
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def flatten(template: Template, values: dict) -> dict[str, str]:
    """One wide CSV row: fields by name, group rows as `group.N.field` (N from 1).

    Every top-level field gets a column ("" when unanswered); a group gets a
    column of its own only when the whole group has a special answer.
    """
    flat: dict[str, str] = {}
    for field in template.fields:
        value = values.get(field.name)
        if not field.is_group:
            flat[field.name] = _cell(value)
            continue
        if is_special(value):
            flat[field.name] = _cell(value)
        for n, row in enumerate(value if isinstance(value, list) else [], start=1):
            row = row if isinstance(row, dict) else {}
            for sub in field.fields:
                flat[f"{field.name}.{n}.{sub.name}"] = _cell(row.get(sub.name))
    return flat


def label_cells(template: Template, flat: dict[str, str]) -> dict[str, str]:
    """A flattened row as people read it: vocabulary codes become their labels (CSV/JSON keep codes)."""
    out = {}
    for key, text in flat.items():
        parts = key.split(".")
        try:
            field = template.field(parts[0] if len(parts) != 3 else f"{parts[0]}.{parts[2]}")
        except KeyError:
            out[key] = text
            continue
        if field.vocabulary is None or not text or text in SPECIAL_TEXT.values():
            out[key] = text
        else:
            out[key] = "; ".join(field.vocabulary.label(code.strip()) for code in text.split(";"))
    return out


def csv_columns(template: Template, group_rows: int = 1) -> list[str]:
    """Column names of a blank extraction sheet with `group_rows` rows per group."""
    columns: list[str] = []
    for field in template.fields:
        if not field.is_group:
            columns.append(field.name)
        for n in range(1, group_rows + 1 if field.is_group else 1):
            columns.extend(f"{field.name}.{n}.{sub.name}" for sub in field.fields)
    return columns


def unflatten(template: Template, flat: dict[str, str]) -> dict:
    """Values from a wide CSV row (the inverse of `flatten`).

    Blank cells are left out of the result. Group rows keep their numbers (a
    blank row between two filled ones stays, as an empty row); trailing blank
    rows are padding and dropped. All bad cells are reported in one ValueError.
    """
    fields = {f.name: f for f in template.fields}
    values: dict = {}
    rows: dict[str, dict[int, dict]] = {}
    errors: list[str] = []
    for column, cell in flat.items():
        try:
            if column in fields:
                value = _coerce(fields[column], cell)
                if value is not None:
                    values[column] = value
                continue
            match = _GROUP_COLUMN.match(column)
            group = fields.get(match.group(1)) if match else None
            if group is None or not group.is_group:
                raise ValueError(f"unknown column (not a field of template '{template.name}')"
                                 f"{_suggest(column, _known_columns(template))}")
            number, name = int(match.group(2)), match.group(3)
            if number < 1:
                raise ValueError("group rows are numbered from 1")
            sub = next((f for f in group.fields if f.name == name), None)
            if sub is None:
                raise ValueError(f"group '{group.name}' has no field '{name}'"
                                 f"{_suggest(name, [f.name for f in group.fields])}")
            value = _coerce(sub, cell)
            row = rows.setdefault(group.name, {}).setdefault(number, {})
            if value is not None:
                row[name] = value
        except ValueError as exc:
            errors.append(f"{column}: {exc}")
    for name, numbered in rows.items():
        last = max((n for n, row in numbered.items() if row), default=0)
        if not last:
            continue
        if name in values:  # the whole group answered "not reported", yet rows were filled
            errors.append(f"{name}: is {_cell(values[name])!r} but also has rows")
            continue
        values[name] = [numbered.get(n, {}) for n in range(1, last + 1)]
    if errors:
        raise ValueError("; ".join(errors))
    # Keep the template's field order, so equal values compare and print alike.
    return {f.name: values[f.name] for f in template.fields if f.name in values}


def _known_columns(template: Template) -> list[str]:
    return csv_columns(template, group_rows=1)
