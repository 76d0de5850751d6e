"""The schema checker shared by the protocol (`review.yaml`) and extraction templates.

Both are YAML files people edit by hand, so both get the same wording for the
same fault: an unknown key (with a "did you mean" and the allowed keys), a
missing required key, a value of the wrong type (in words: "a whole number",
"true or false", with a hint when YAML turned unquoted text into a boolean or
a number). Each file type then adds where the problem is in its own terms: the
protocol a field path (`stages[0].name`), a template a description
(`field 'country'`).

The schema language is a JSON-Schema subset: type (a name or a list of names),
enum, required, properties, additionalProperties, propertyNames, items,
minLength, minItems, minimum, maximum, pattern; plus `x-message`, a message of
our own for a node (a format string, or a dict of keyword -> format string),
which may use {value!r}, {shown} (the value, short), {suggestion} and {choices}
(for enum) and the keyword's own value.
Written here rather than taken from jsonschema, whose import costs seconds on
every `review` command.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from review.yaml_lines import line_of

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
# How a type reads in a message ("must be a whole number, not 'x'").
_TYPE_WORDS = {"string": "text", "integer": "a whole number", "number": "a number", "boolean": "true or false",
               "object": "a mapping", "array": "a list", "null": "empty"}


@dataclass(frozen=True)
class SchemaProblem:
    """The first problem found: where it is, what it is.

    `path` is the node's path (keys and list indexes). For a problem with a key
    of a mapping (unknown, missing, a bad name) `key` is that key and `path` the
    mapping's path; when the key itself is at fault (`at_key`) its line is the one
    shown, a missing key has none, so the mapping's is.
    """

    path: tuple
    message: str
    # "value" (the node at `path` is wrong), "unknown_key", "missing_key" or "key_name"
    # (a key fails `propertyNames`): callers phrase where it is accordingly.
    kind: str = "value"
    key: object = None

    @property
    def at_key(self) -> bool:
        return self.kind in ("unknown_key", "key_name")

    @property
    def node_path(self) -> tuple:
        """The path of the node (or key) at fault: what a field path and a line are taken from."""
        return self.path + (self.key,) if self.at_key else self.path

    @property
    def field_path(self) -> str:
        return format_path(self.node_path)

    def line(self, root) -> int | None:
        """1-based line in the YAML node tree `root` (review.yaml_lines.compose)."""
        return line_of(root, self.node_path, key=self.at_key)


def suggestion(word, choices) -> str:
    """`; did you mean 'x'?` for the closest of `choices`, or "" when none is close."""
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def format_path(path) -> str:
    """`stages[0].name` for ("stages", 0, "name")."""
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out


def is_type(value, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[name])


def check_schema(schema: dict, value, where: tuple = ()) -> SchemaProblem | None:
    """The first problem of `value` against `schema` (document order), or None.

    Within a mapping, unknown keys are reported before missing ones: a misspelt
    key explains the missing one better than "missing" does.
    """
    where = tuple(where)

    def fail(keyword: str, message: str, **extra) -> SchemaProblem:
        return SchemaProblem(where, _custom(schema, keyword, value, extra) or message)

    if "enum" in schema and value not in schema["enum"]:
        choices = schema["enum"]
        return fail("enum", f"must be one of {', '.join(map(str, choices))}, not {_show(value)}"
                            f"{suggestion(value, choices) if isinstance(value, str) else ''}",
                    choices=", ".join(map(str, choices)),
                    suggestion=suggestion(value, choices) if isinstance(value, str) else "")
    kinds = _kinds(schema)
    if kinds and not any(is_type(value, k) for k in kinds):
        return fail("type", f"must be {_expected(schema, kinds)}, not {_show(value)}{_yaml_hint(value, kinds)}")
    if isinstance(value, dict):
        problem = _check_mapping(schema, value, where)
        if problem is not None:
            return problem
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            minimum = schema["minItems"]
            return fail("minItems", "must be a non-empty list" if minimum == 1 else
                                    f"must have at least {minimum} items, not {len(value)}")
        for i, item in enumerate(value):
            problem = check_schema(schema.get("items", {}), item, (*where, i))
            if problem is not None:
                return problem
    if isinstance(value, str):
        if len(value) < schema.get("minLength", 0):
            return fail("minLength", "must be non-empty text")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return fail("pattern", f"{value!r} does not match {schema['pattern']!r}")
    if is_type(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            return fail("minimum", f"{value} is below the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            return fail("maximum", f"{value} is above the maximum {schema['maximum']}")
    return None


def _check_mapping(schema: dict, value: dict, where: tuple) -> SchemaProblem | None:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    if extra is False:
        for name in value:
            if name not in properties:
                return SchemaProblem(where, f"unknown key '{name}'{suggestion(name, properties)} "
                                            f"(allowed: {', '.join(properties)})", "unknown_key", name)
    for name in schema.get("required", ()):
        if name not in value:
            choices = properties.get(name, {}).get("enum")
            hint = f" (one of: {', '.join(map(str, choices))})" if choices else ""
            return SchemaProblem(where, f"missing required key '{name}'{hint}", "missing_key", name)
    names = schema.get("propertyNames")
    for name, item in value.items():
        if names is not None:
            problem = check_schema(names, name, where)
            if problem is not None:
                return SchemaProblem(where, problem.message, "key_name", name)
        if name in properties:
            problem = check_schema(properties[name], item, (*where, name))
        elif isinstance(extra, dict):
            problem = check_schema(extra, item, (*where, name))
        else:
            problem = None
        if problem is not None:
            return problem
    return None


def _kinds(schema: dict) -> list[str]:
    kind = schema.get("type")
    return [] if kind is None else [kind] if isinstance(kind, str) else list(kind)


def _expected(schema: dict, kinds: list[str]) -> str:
    words = []
    for kind in kinds:
        if kind == "null":  # "or empty" adds nothing a person needs to read
            continue
        if kind == "string" and schema.get("minLength", 0) >= 1:
            words.append("non-empty text")
        elif kind == "array" and schema.get("minItems", 0) >= 1:
            words.append("a non-empty list")
        else:
            words.append(_TYPE_WORDS[kind])
    return " or ".join(words) or "empty"


def _show(value) -> str:
    """A value as a message shows it: short, and a whole mapping or list by its kind."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _yaml_hint(value, kinds: list[str]) -> str:
    """Why a value people typed as text arrived as something else: YAML read it unquoted."""
    if "string" not in kinds:
        return ""
    if isinstance(value, bool):
        return (": YAML reads unquoted yes/no/on/off/true/false as true or false, "
                "so put it in quotes (e.g. 'no')")
    if isinstance(value, float):
        return f": YAML reads it as a decimal number, so write it in quotes (e.g. '{value}')"
    return ""


def _custom(schema: dict, keyword: str, value, extra: dict) -> str | None:
    """The node's own message (`x-message`) for a failed `keyword`, formatted, or None."""
    custom = schema.get("x-message")
    if isinstance(custom, dict):
        custom = custom.get(keyword)
    if custom is None:
        return None
    return custom.format(value=value, shown=_show(value), **{keyword: schema.get(keyword), **extra})
