"""Extraction templates: the shipped ones load, broken ones fail at the right line,
values validate, text coerces, wide CSV rows round-trip, and the 38 schemes of
Mason et al. (2014) fit the irm_scheme template."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review import templates
from review.templates import (NOT_APPLICABLE, NOT_REPORTED, TemplateError, coerce, flatten, is_special,
                              unflatten, validate)

REPO = Path(__file__).resolve().parents[1]
SHIPPED = REPO / "extraction_templates"
BAD = REPO / "tests" / "fixtures" / "templates"
MASON_JSON = REPO / "examples" / "mason2014" / "irm_schemes.json"
MASON_DOMAINS = ("health_outcomes", "service_use_costs", "institutional_care", "satisfaction_quality")


@pytest.fixture(scope="module")
def irm():
    return templates.load_named("irm_scheme", [SHIPPED])


@pytest.fixture(scope="module")
def qual():
    return templates.load_named("qualitative_study", [SHIPPED])


# Every type, bounds, a group with limits: small enough to read, wide enough to test.
ALL_TYPES = """
name: all_types
title: All types
version: "0.1"
vocabularies:
  colours:
    - {code: red, label: Red}
    - {code: dark_blue, label: Dark blue}
  directions:
    - {code: better, label: Better}
    - {code: no_difference, label: No difference}
fields:
  - {name: title, type: text, required: true}
  - {name: abstract, type: long_text}
  - {name: n, type: integer, unit: participants, min: 0, max: 100000}
  - {name: cost, type: number, unit: GBP}
  - {name: published, type: date}
  - {name: pooled, type: boolean}
  - {name: colour, type: single_choice, vocabulary: colours}
  - {name: colours, type: multiple_choice, vocabulary: colours, required: true}
  - name: outcomes
    type: group
    max_rows: 3
    fields:
      - {name: measure, type: text}
      - {name: direction, type: single_choice, vocabulary: directions, required: true}
      - {name: n, type: integer}
"""


@pytest.fixture(scope="module")
def all_types():
    return templates.parse_template(ALL_TYPES, "all_types.yaml")


# --- loading -----------------------------------------------------------------------------


def test_shipped_templates_load(irm, qual):
    found = templates.find_templates(SHIPPED)
    assert set(found) == {"irm_scheme", "qualitative_study"}
    assert found["irm_scheme"] == irm
    assert irm.version == "1"  # read as text, whatever YAML made of it
    assert irm.field("outcomes").required and irm.field("outcomes").is_group
    assert irm.field("irm_type").type == "multiple_choice"
    assert irm.field("study_designs").type == "multiple_choice"
    assert irm.field("outcomes.domain").vocabulary.codes() == [
        "health_outcomes", "service_use_costs", "institutional_care", "satisfaction_quality"]
    assert irm.field("outcomes.direction").vocabulary.codes() == [
        "better", "no_difference", "mixed", "worse", "unclear"]
    assert len(irm.vocabularies["irm_types"].terms) == 8  # Table 4
    assert all(t.description for t in irm.vocabularies["irm_types"].terms)
    assert len(irm.vocabularies["study_designs"].terms) == 6  # Table 3
    required = {f.name for f in irm.fields if f.required}
    assert required == {"country", "scheme_name", "irm_type", "study_designs", "outcomes"}
    assert qual.field("findings").min_rows == 1
    assert {f.name for f in qual.field("findings").fields} >= {"quote", "location"}


def test_every_field_has_a_label_and_choice_fields_a_vocabulary(irm, qual):
    for template in (irm, qual):
        for field in template.fields + [s for f in template.fields for s in f.fields]:
            assert field.label and field.line
            assert (field.vocabulary is not None) == (field.type in templates.CHOICE_TYPES)


def _expected(path: Path) -> tuple[int, str]:
    match = re.match(r"# expect (\d+): (.*)", path.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{path.name}: first line must be '# expect LINE: words'"
    return int(match.group(1)), match.group(2).strip()


@pytest.mark.parametrize("path", sorted(BAD.glob("*.yaml")), ids=lambda p: p.stem)
def test_bad_template_names_file_line_and_reason(path):
    line, words = _expected(path)
    with pytest.raises(TemplateError) as info:
        templates.load_template(path)
    assert info.value.line == line, str(info.value)
    assert str(info.value).startswith(f"{path}:{line}: "), str(info.value)
    assert words in info.value.message, str(info.value)


def test_bad_fixtures_cover_the_required_reasons():
    reasons = " ".join(_expected(p)[1] for p in BAD.glob("*.yaml"))
    for words in ("unknown type", "duplicate field name", "duplicate field name 'outcomes.", "unknown vocabulary",
                  "unknown key", "not an identifier", "needs 'vocabulary: NAME'", "duplicate term code",
                  "cannot be nested", "not valid YAML"):
        assert words in reasons, words


@pytest.mark.parametrize(
    "text, line, words",
    [
        ("- a\n- list\n", 1, "a template must be a mapping"),
        ("name: t\ntitle: T\nversion: yes\nfields: [{name: a, type: text}]\n", 3, "version must be text"),
        ("name: t\ntitle: T\nversion: 1\nfields: []\n", 4, "fields must be a non-empty list"),
        ("name: t\ntitle: T\nversion: 1\nfields:\n  - {name: a, type: text, required: maybe}\n", 5,
         "required must be true or false"),
        ("name: t\ntitle: T\nversion: 1\nvocabularies:\n  v: []\nfields: [{name: a, type: text}]\n", 5,
         "must be a non-empty list of terms"),
        ("name: t\ntitle: T\nversion: 1\nvocabularies:\n  v:\n    - {code: a}\nfields: [{name: a, type: text}]\n",
         6, "missing 'label'"),
        ("name: t\ntitle: T\nversion: 1\nvocabularies:\n  v:\n    - {code: a, label: 'A; B'}\n"
         "fields: [{name: a, type: text}]\n", 6, "must not contain ';'"),
        ("name: t\ntitle: T\nversion: 1\nfields:\n  - {name: n, type: integer, min: 0.5}\n", 5,
         "min must be a whole number"),
        ("name: t\ntitle: T\nversion: 1\nfields:\n  - name: g\n    type: group\n    max_rows: -1\n"
         "    fields: [{name: a, type: text}]\n", 7, "max_rows must be a whole number >= 0"),
        ("name: t\ntitle: T\nversion: 1\nfields:\n  - {name: a}\n", 5, "missing 'type'"),
        ("name: t\ntitle: T\nversion: 1\nfields:\n  - {type: text}\n", 5, "field without a name"),
        ("name: Bad Name\ntitle: T\nversion: 1\nfields: [{name: a, type: text}]\n", 1, "template name"),
        ("name: t\ntitle: ''\nversion: 1\nfields: [{name: a, type: text}]\n", 2, "title must be non-empty text"),
    ],
)
def test_more_bad_templates(text, line, words):
    with pytest.raises(TemplateError) as info:
        templates.parse_template(text, "t.yaml")
    assert str(info.value).startswith(f"t.yaml:{line}: "), str(info.value)
    assert words in str(info.value)


def test_yaml_is_loaded_safely():
    text = "name: t\ntitle: !!python/object/apply:os.system ['echo hacked']\nversion: 1\nfields: []\n"
    with pytest.raises(TemplateError, match="not valid YAML"):
        templates.parse_template(text, "t.yaml")


def test_load_named_prefers_the_first_folder_and_reports_missing(tmp_path, irm):
    own = tmp_path / "extraction_templates"
    own.mkdir()
    text = (SHIPPED / "irm_scheme.yaml").read_text(encoding="utf-8")
    # A review extends the country list in its own copy (the documented way to add terms).
    text = text.replace("    - {code: wales, label: Wales}\n",
                        "    - {code: wales, label: Wales}\n    - {code: germany, label: Germany}\n")
    (own / "irm_scheme.yaml").write_text(text.replace("version: 1", "version: 1-local"), encoding="utf-8")
    local = templates.load_named("irm_scheme", [own, SHIPPED])
    assert local.version == "1-local"
    assert "germany" in local.field("country").vocabulary.codes()
    assert templates.load_named("qualitative_study", [own, SHIPPED]).name == "qualitative_study"
    with pytest.raises(TemplateError, match="no template named 'nope'"):
        templates.load_named("nope", [own, SHIPPED])
    with pytest.raises(TemplateError, match="identifier"):
        templates.load_named("../irm_scheme", [own])
    assert templates.find_templates(tmp_path / "missing") == {}
    with pytest.raises(TemplateError, match="file not found"):
        templates.load_template(tmp_path / "missing.yaml")


# --- validate ----------------------------------------------------------------------------


def _paths(problems) -> list[str]:
    return [p.field_path for p in problems]


def test_empty_draft_is_fine_until_complete(irm):
    assert validate(irm, {}, complete=False) == []
    assert validate(irm, {"country": None, "barriers": "", "irm_type": []}, complete=False) == []
    problems = validate(irm, {}, complete=True)
    assert _paths(problems) == ["country", "scheme_name", "irm_type", "study_designs", "outcomes"]
    assert all("required" in p.message for p in problems)


def test_special_answers_satisfy_required_and_stay_distinct(irm):
    values = {"country": "england", "scheme_name": "Care Trusts", "irm_type": NOT_REPORTED,
              "study_designs": NOT_APPLICABLE, "outcomes": NOT_REPORTED}
    assert validate(irm, values, complete=True) == []
    assert is_special(values["irm_type"], "not_reported") and not is_special(values["irm_type"], "not_applicable")
    assert is_special(NOT_APPLICABLE) and not is_special(None) and not is_special({"special": "maybe"})
    assert not is_special({"special": "not_reported", "extra": 1})
    flat = flatten(irm, values)
    assert (flat["irm_type"], flat["study_designs"], flat["outcomes"], flat["barriers"]) == (
        "not reported", "not applicable", "not reported", "")
    assert validate(irm, {"country": {"special": "unknown"}})[0].message.startswith("unknown special answer")


def test_validate_types_codes_and_paths(all_types):
    values = {
        "title": 12,
        "n": "120 participants",
        "cost": True,
        "published": "2013-13",
        "pooled": "yes",
        "colour": "Dark blue",
        "colours": ["red", "red", "green"],
        "outcomes": [{"direction": "better"}, {"direction": "worse", "size": 3}, "not a row"],
        "extra": 1,
    }
    problems = {p.field_path: p.message for p in validate(all_types, values)}
    assert problems["extra"].startswith("unknown field")
    assert "expected text" in problems["title"]
    assert "give the number alone (unit: participants)" in problems["n"]
    assert "expected a number" in problems["cost"]
    assert "month must be in 1..12" in problems["published"]
    assert "expected true or false" in problems["pooled"]
    assert "did you mean 'dark_blue'" in problems["colour"]
    assert "'green' is not a code" in [p.message for p in validate(all_types, {"colours": ["green"]})][0]
    assert "more than once" in problems["colours"]
    assert "'worse' is not a code of vocabulary 'directions'" in problems["outcomes[1].direction"]
    assert problems["outcomes[1].size"].startswith("unknown field in group")
    assert "a row must be a mapping" in problems["outcomes[2]"]


@pytest.mark.parametrize(
    "field, value, ok",
    [
        ("n", 12, True), ("n", 0, True), ("n", -1, False), ("n", 100001, False), ("n", 12.0, False),
        ("n", 12.5, False), ("n", True, False), ("cost", 12.5, True), ("cost", -3, True),
        ("cost", float("nan"), False), ("published", "2013", True), ("published", "2013-05", True),
        ("published", "2013-05-06", True), ("published", "2013-02-30", False), ("published", "05/2013", False),
        ("published", "2013-5", False), ("published", date(2013, 5, 6), False), ("pooled", False, True),
        ("colour", "dark_blue", True), ("colours", ["red", "dark_blue"], True), ("colours", "red", False),
        ("title", "not reported", False), ("title", "N/A", False), ("title", "No", True),
        ("title", "In discussion", True), ("abstract", "Not reported.", True), ("outcomes", {"a": 1}, False),
    ],
)
def test_validate_single_values(all_types, field, value, ok):
    problems = validate(all_types, {field: value})
    assert (problems == []) == ok, problems


def test_group_rows_required_parts_only_when_complete(all_types):
    values = {"title": "T", "colours": ["red"], "outcomes": [{"measure": "SF-36"}, {}]}
    assert validate(all_types, values, complete=False) == []
    problems = validate(all_types, values, complete=True)
    assert [(p.field_path, p.message.split(":")[0]) for p in problems] == [
        ("outcomes[0].direction", "required"), ("outcomes[1]", "empty row")]
    values["outcomes"] = [{"direction": "better"}] * 4
    assert "at most 3" in validate(all_types, values)[0].message
    values["outcomes"] = [{"direction": NOT_REPORTED, "measure": NOT_APPLICABLE}]
    assert validate(all_types, values, complete=True) == []


def test_min_rows_applies_to_complete_forms(qual):
    values = {"aim": "A", "setting": "S", "sample": "P", "data_collection": ["interviews"],
              "analysis_approach": "thematic", "findings": []}
    assert validate(qual, values, complete=False) == []
    assert _paths(validate(qual, values, complete=True)) == ["findings"]
    values["findings"] = [{"quote": "We never met.", "location": "p. 4", "kind": "participant"}]
    assert validate(qual, values, complete=True) == []


def test_validate_rejects_non_mapping(irm):
    assert validate(irm, ["england"])[0].message.startswith("values must be a mapping")


# --- coerce ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, raw, value",
    [
        ("title", "", None), ("title", "   ", None), ("title", "  Care Trusts ", "Care Trusts"),
        ("title", "NR", NOT_REPORTED), ("title", "Not Reported", NOT_REPORTED), ("title", "n/a", NOT_APPLICABLE),
        ("title", "not applicable", NOT_APPLICABLE), ("title", "No", "No"), ("title", "In discussion", "In discussion"),
        ("pooled", "yes", True), ("pooled", "No", False), ("pooled", "TRUE", True), ("pooled", "0", False),
        ("pooled", "N/A", NOT_APPLICABLE), ("n", "1310", 1310), ("n", "+7", 7), ("cost", "12", 12),
        ("cost", "12.50", 12.5), ("cost", "1e3", 1000.0), ("published", "2014", "2014"),
        ("published", "2014-02", "2014-02"), ("colour", "Dark Blue", "dark_blue"), ("colour", "RED", "red"),
        ("colours", "red; Dark blue", ["red", "dark_blue"]), ("colours", "red;red;", ["red"]),
        ("colours", "not reported", NOT_REPORTED), ("outcomes", "not reported", NOT_REPORTED), ("outcomes", "", None),
    ],
)
def test_coerce(all_types, field, raw, value):
    assert coerce(all_types.field(field), raw) == value


@pytest.mark.parametrize(
    "field, raw, words",
    [
        ("n", "12 participants", "give the number alone (unit: participants)"),
        ("n", "12.5", "expected a whole number"), ("n", "1,310", "no thousands separators"),
        ("cost", "twelve", "expected a number in GBP"), ("published", "May 2014", "YYYY, YYYY-MM or YYYY-MM-DD"),
        ("published", "2014-02-30", "not a date"), ("pooled", "maybe", "expected yes/no"),
        ("colour", "green", "neither a code nor a label of vocabulary 'colours'"),
        ("colours", "red; NR", "answer it for the whole field"), ("outcomes", "better", "is a group"),
    ],
)
def test_coerce_errors_name_the_field_and_reason(all_types, field, raw, words):
    with pytest.raises(ValueError) as info:
        coerce(all_types.field(field), raw)
    assert str(info.value).startswith(f"field '{all_types.field(field).name}': ")
    assert words in str(info.value)


def test_coerce_accepts_codes_and_labels_of_shipped_vocabularies(irm):
    assert coerce(irm.field("study_designs"), "Analysis of routine data; RCT") == ["routine_data", "rct"]
    assert coerce(irm.field("irm_type"), "Pooled funds; lead_commissioning") == ["pooled_funds",
                                                                                  "lead_commissioning"]
    assert coerce(irm.field("outcomes.direction"), "No difference") == "no_difference"
    assert coerce(irm.field("country"), "Northern Ireland") == "northern_ireland"


# --- flatten / unflatten -----------------------------------------------------------------


def test_flatten_layout_and_round_trip(all_types):
    values = {
        "title": "Care Trusts", "abstract": "Line one\nline two", "n": 1310, "cost": 2.5, "published": "2013",
        "pooled": False, "colour": NOT_APPLICABLE, "colours": ["dark_blue", "red"],
        "outcomes": [{"measure": "SF-36", "direction": "better", "n": 3}, {}, {"direction": NOT_REPORTED}],
    }
    flat = flatten(all_types, values)
    assert flat == {
        "title": "Care Trusts", "abstract": "Line one\nline two", "n": "1310", "cost": "2.5", "published": "2013",
        "pooled": "no", "colour": "not applicable", "colours": "dark_blue; red",
        "outcomes.1.measure": "SF-36", "outcomes.1.direction": "better", "outcomes.1.n": "3",
        "outcomes.2.measure": "", "outcomes.2.direction": "", "outcomes.2.n": "",
        "outcomes.3.measure": "", "outcomes.3.direction": "not reported", "outcomes.3.n": "",
    }
    assert unflatten(all_types, flat) == values
    assert templates.csv_columns(all_types, 2)[-6:] == [
        "outcomes.1.measure", "outcomes.1.direction", "outcomes.1.n",
        "outcomes.2.measure", "outcomes.2.direction", "outcomes.2.n"]


def test_unflatten_drops_blank_padding_and_reads_labels(all_types):
    flat = {"title": "T", "colours": "Red; Dark blue", "outcomes.1.direction": "Better",
            "outcomes.2.direction": "", "outcomes.2.measure": "  ", "outcomes.3.n": ""}
    assert unflatten(all_types, flat) == {"title": "T", "colours": ["red", "dark_blue"],
                                          "outcomes": [{"direction": "better"}]}
    assert unflatten(all_types, {"outcomes": "N/A"}) == {"outcomes": NOT_APPLICABLE}
    assert unflatten(all_types, {"title": None, "n": float("nan")}) == {}


def test_unflatten_reports_every_bad_cell(all_types):
    flat = {"titel": "x", "n": "many", "outcomes.0.direction": "better", "outcomes.1.effect": "x",
            "colours.1.code": "red", "outcomes.2.direction": "worse"}
    with pytest.raises(ValueError) as info:
        unflatten(all_types, flat)
    message = str(info.value)
    for words in ("titel: unknown column", "did you mean 'title'", "n: expected a whole number",
                  "outcomes.0.direction: group rows are numbered from 1",
                  "outcomes.1.effect: group 'outcomes' has no field 'effect'", "colours.1.code: unknown column",
                  "outcomes.2.direction: 'worse' is neither a code nor a label"):
        assert words in message
    with pytest.raises(ValueError, match="outcomes: is 'not reported' but also has rows"):
        unflatten(all_types, {"outcomes": "NR", "outcomes.1.direction": "better"})


def _texts():
    return st.text(min_size=1, max_size=20).filter(
        lambda s: s == s.strip() and s.casefold() not in templates.SPECIAL_SPELLINGS)


def _value_strategy(field):
    specials = st.sampled_from([NOT_REPORTED, NOT_APPLICABLE])
    if field.type in templates.TEXT_TYPES:
        plain = _texts()
    elif field.type == "integer":
        plain = st.integers(min_value=field.min, max_value=field.max)
    elif field.type == "number":
        plain = st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    elif field.type == "date":
        plain = st.tuples(st.dates(), st.integers(4, 10)).map(lambda d: d[0].isoformat()[:d[1]]).filter(
            lambda s: len(s) in (4, 7, 10))
    elif field.type == "boolean":
        plain = st.booleans()
    elif field.type == "single_choice":
        plain = st.sampled_from(field.vocabulary.codes())
    elif field.type == "multiple_choice":
        plain = st.lists(st.sampled_from(field.vocabulary.codes()), min_size=1, unique=True)
    else:
        row = st.fixed_dictionaries({}, optional={s.name: _value_strategy(s) for s in field.fields}).filter(bool)
        plain = st.lists(row, min_size=1, max_size=field.max_rows or 4)
    return plain | specials


def _values_strategy(template):
    return st.fixed_dictionaries({}, optional={f.name: _value_strategy(f) for f in template.fields})


@pytest.mark.slow  # a property test (hypothesis)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_property(all_types, irm, data):
    for template in (all_types, irm):
        values = data.draw(_values_strategy(template))
        assert validate(template, values) == []
        assert unflatten(template, flatten(template, values)) == values


# --- the 38 schemes of Mason et al. 2014 -------------------------------------------------

@pytest.fixture(scope="module")
def mason_schemes():
    """The worked example's 38 schemes as irm_scheme values (tools/make_example_extractions.py)."""
    return json.loads(MASON_JSON.read_text(encoding="utf-8"))


def test_the_38_mason_schemes_validate_as_complete(irm, mason_schemes):
    assert len(mason_schemes) == 38
    for scheme in mason_schemes:
        assert validate(irm, scheme["values"], complete=True) == [], scheme["scheme_id"]


def test_mason_schemes_round_trip_through_a_wide_csv(irm, mason_schemes):
    values = [scheme["values"] for scheme in mason_schemes]
    flats = [flatten(irm, v) for v in values]
    columns = list(dict.fromkeys(c for flat in flats for c in flat))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(flats)
    back = [unflatten(irm, row) for row in csv.DictReader(io.StringIO(buffer.getvalue()))]
    assert back == values
    assert "outcomes.4.direction" in columns and "outcomes.5.direction" not in columns


def test_mason_codes_survive_conversion(irm, mason_schemes):
    """The converted values reproduce the transcription's own tallies (its README §6, 'All 38')."""
    values = [scheme["values"] for scheme in mason_schemes]
    tallies = {domain: Counter() for domain in MASON_DOMAINS}
    for v in values:
        for outcome in v["outcomes"]:
            direction = outcome["direction"]
            tallies[outcome["domain"]]["not_reported" if is_special(direction) else direction] += 1
    order = ("better", "no_difference", "mixed", "worse", "unclear", "not_reported")
    assert [tallies["health_outcomes"][c] for c in order] == [4, 13, 5, 2, 0, 14]
    assert [tallies["service_use_costs"][c] for c in order] == [6, 9, 14, 1, 4, 4]
    assert [tallies["institutional_care"][c] for c in order] == [3, 4, 4, 1, 1, 25]
    assert [tallies["satisfaction_quality"][c] for c in order] == [11, 4, 4, 1, 2, 16]
    types = Counter(code for v in values for code in v["irm_type"])
    assert types == {"integrated_with_pooled": 21, "structural_integration": 9, "pooled_funds": 6,
                     "aligned_budgets": 3, "lead_commissioning": 3, "cross_charging": 1}
    assert sum(isinstance(v.get("n_intervention"), int) for v in values) == 10


def test_readme_example_template_loads():
    readme = (SHIPPED / "README.md").read_text(encoding="utf-8")
    example = readme.split("## A short example")[1].split("```yaml\n")[1].split("```")[0]
    template = templates.parse_template(example, "cost_study.yaml")
    assert template.name == "cost_study"
    assert template.field("outcomes.direction").vocabulary.name == "directions"
