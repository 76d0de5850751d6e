"""One schema checker for the protocol and extraction templates: the same fault reads the same in both."""

from __future__ import annotations

import pytest

from review import protocol, templates
from review.protocol import ProtocolError
from review.schema_check import check_schema
from review.templates import TemplateError

FIELDS = "fields: [{name: a, type: text}]\n"


def _protocol_error(text: str) -> ProtocolError:
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text, "review.yaml")
    return info.value


def _template_error(text: str) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        templates.parse_template(text, "t.yaml")
    return info.value


@pytest.mark.parametrize(
    "protocol_text, protocol_line, template_text, template_line, template_prefix, message",
    [
        pytest.param("titel: T\n", 1, f"name: t\ntitel: T\nversion: 1\n{FIELDS}", 2, "template: ",
                     "unknown key 'titel'; did you mean 'title'? (allowed: ", id="unknown key"),
        pytest.param("title: T\ndescription: 5\n", 2, f"name: t\ntitle: T\ndescription: 5\nversion: 1\n{FIELDS}", 3,
                     "description ", "must be text, not 5", id="wrong type"),
        pytest.param("title: no\n", 1, f"name: t\ntitle: no\nversion: 1\n{FIELDS}", 2, "title ",
                     "must be non-empty text, not False: YAML reads unquoted yes/no/on/off/true/false as true or "
                     "false, so put it in quotes (e.g. 'no')", id="unquoted no"),
        pytest.param("title: ''\n", 1, f"name: t\ntitle: ''\nversion: 1\n{FIELDS}", 2, "title ",
                     "must be non-empty text", id="empty text"),
        pytest.param("question: Q\n", 1, f"name: t\nversion: 1\n{FIELDS}", 1, "template: ",
                     "missing required key 'title'", id="missing required"),
    ],
)
def test_the_same_fault_reads_the_same_in_protocol_and_template(protocol_text, protocol_line, template_text,
                                                              template_line, template_prefix, message):
    in_protocol, in_template = _protocol_error(protocol_text), _template_error(template_text)
    # The protocol names the place by field path, a template by what it is; the rest is one text.
    assert in_protocol.message.startswith(message), in_protocol.describe()
    assert in_template.message.startswith(template_prefix + message), in_template.describe()
    assert (in_protocol.message.partition(" (allowed: ")[0]
            == in_template.message.removeprefix(template_prefix).partition(" (allowed: ")[0])
    # Both point at the line of the fault (for a missing key, its mapping's).
    assert (in_protocol.line, in_template.line) == (protocol_line, template_line)


def test_unknown_keys_name_the_allowed_ones_and_point_at_the_key():
    in_protocol = _protocol_error("title: T\nstages:\n  - name: ta\n    reason_requried: true\n")
    assert in_protocol.line == 4 and in_protocol.field == "stages[0].reason_requried"
    assert in_protocol.message.startswith("unknown key 'reason_requried'; did you mean 'reason_required'? "
                                          "(allowed: name, label, reviewers, decisions_required,")
    in_template = _template_error(f"name: t\ntitle: T\nversion: 1\nfields:\n  - name: a\n    type: text\n"
                                  "    requried: true\n")
    assert in_template.line == 7
    assert in_template.message.startswith("field 'a': unknown key 'requried'; did you mean 'required'? "
                                          "(allowed: name, label, help, type, required,")


def test_a_typo_is_reported_before_the_key_it_misses():
    # `titel` explains the missing `title` better than "missing required key 'title'" would.
    assert _protocol_error("titel: T\n").message.startswith("unknown key 'titel'")
    assert _template_error(f"name: t\ntitel: T\nversion: 1\n{FIELDS}").message.startswith(
        "template: unknown key 'titel'")


def test_checker_keywords_and_own_messages():
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind"],
        "properties": {
            "kind": {"enum": ["alpha", "beta"], "x-message": "unknown kind {value!r}{suggestion} (kinds: {choices})"},
            "count": {"type": ["integer", "null"], "minimum": 0, "x-message": {"minimum": "must be >= {minimum}"}},
            "tags": {"type": "object", "propertyNames": {"type": "string", "pattern": "^[a-z]+$"}},
            "items": {"type": "array", "minItems": 2, "items": {"type": "number", "maximum": 1}},
        },
    }
    assert check_schema(schema, {"kind": "alpha", "count": None}) is None
    problem = check_schema(schema, {"kind": "alpah"})
    assert (problem.path, problem.message) == (("kind",), "unknown kind 'alpah'; did you mean 'alpha'? "
                                                          "(kinds: alpha, beta)")
    assert check_schema(schema, {"kind": "beta", "count": -1}).message == "must be >= 0"
    assert check_schema(schema, {"kind": "beta", "count": 1.5}).message == "must be a whole number, not 1.5"
    problem = check_schema(schema, {"kind": "beta", "tags": {"ok": 1, "Not": 2}})
    assert (problem.kind, problem.key, problem.field_path) == ("key_name", "Not", "tags.Not")
    assert "does not match" in problem.message
    assert check_schema(schema, {"kind": "beta", "items": [0]}).message == "must have at least 2 items, not 1"
    problem = check_schema(schema, {"kind": "beta", "items": [0, 2]})
    assert (problem.field_path, problem.message) == ("items[1]", "2 is above the maximum 1")
    problem = check_schema(schema, {})
    assert (problem.kind, problem.key, problem.path, problem.message) == (
        "missing_key", "kind", (), "missing required key 'kind' (one of: alpha, beta)")
    assert check_schema(schema, []).message == "must be a mapping, not a list"
