"""Extraction per scheme: import, drafts and completes, two extractors, agreement, export, the form."""

import json
import re
from pathlib import Path

import pytest

from review import extraction, schemes, store, templates
from review.example import EXAMPLE
from review.extraction import ExtractionError
from review.widgets.extraction_form import CheckboxGroup, ComparisonView, ExtractionForm

# Every test here runs on SQLite and on PostgreSQL (conftest.review_engine).
pytestmark = pytest.mark.usefixtures("review_engine")

REPO = Path(__file__).resolve().parents[1]
SCHEMES_JSON = EXAMPLE / "irm_schemes.json"


SCREENED = {"protocol": EXAMPLE / "review.yaml", "files": [REPO / "references" / "mason2014_reference_list.ris"],
            "decisions": EXAMPLE / "screening_decisions.csv"}


@pytest.fixture
def example(worked_example):
    """The worked example with its 38 schemes extracted (read only)."""
    return worked_example


@pytest.fixture
def screened(make_review):
    return make_review(**SCREENED)


def _event_count(review) -> int:
    with store.read_connection(review.engine) as conn:
        return len(store.read_events(conn))


def test_worked_example_loads_38_schemes_with_their_reports(example):
    frame = schemes.schemes_frame(example)
    assert len(frame) == 38
    assert frame.set_index("scheme_id").loc["S01", "record_ids"] == [8, 34, 50]
    assert len(set().union(*frame["record_ids"])) == 114
    final = extraction.final_values(example, "irm_scheme")
    assert len(final) == 38 and final["S01"]["country"] == "australia"


def test_export_then_import_round_trips(example, make_review, tmp_path):
    for fmt in ("csv", "json"):
        out = tmp_path / f"irm.{fmt}"
        extraction.export_extractions(example, "irm_scheme", fmt, out)
        other = make_review(f"other-{fmt}", **SCREENED)
        # Reports are linked by the JSON of the example; the export carries values only.
        assert extraction.import_extractions(other, "irm_scheme", out, who="mg") == 38
        assert extraction.final_values(other, "irm_scheme") == extraction.final_values(example, "irm_scheme")


def test_frame_for_synthesis(example):
    frame = extraction.extraction_frame(example, "irm_scheme")
    assert len(frame) == 38
    assert {"scheme_id", "country", "irm_type", "outcomes.1.domain", "outcomes.1.direction"} <= set(frame.columns)


def test_draft_complete_and_history(screened):
    schemes.create_scheme(screened, "Darlington", who="am", scheme_id="D")
    draft = extraction.save(screened, "D", "irm_scheme", {"country": "england"}, extractor="am")
    assert draft.status == "draft"
    with pytest.raises(ExtractionError) as info:
        extraction.save(screened, "D", "irm_scheme", {"country": "england"}, extractor="am", complete=True)
    paths = [where for where, _ in info.value.problems]
    assert "scheme_name" in paths and "irm_type" in paths
    values = {"country": "england", "scheme_name": "Darlington", "irm_type": ["pooled_funds"],
              "study_designs": ["quasi_experimental"],
              "outcomes": [{"domain": "health_outcomes", "direction": "better"}]}
    complete = extraction.save(screened, "D", "irm_scheme", values, extractor="am", complete=True)
    assert complete.status == "complete"
    assert [e.status for e in extraction.history(screened, "D", "irm_scheme")] == ["draft", "complete"]


def test_two_extractors_compare_and_agree(screened):
    schemes.create_scheme(screened, "POPP", who="am", scheme_id="P")
    base = {"country": "england", "scheme_name": "POPP", "irm_type": ["pooled_funds"], "study_designs": ["mixed_methods"],
            "outcomes": [{"domain": "service_use_costs", "direction": "better"}]}
    other = json.loads(json.dumps(base))
    other["outcomes"][0]["direction"] = "mixed"
    extraction.save(screened, "P", "irm_scheme", base, extractor="am", complete=True)
    extraction.save(screened, "P", "irm_scheme", other, extractor="mg", complete=True)
    assert "P" not in extraction.final_values(screened, "irm_scheme")  # disagreement is never picked silently
    table = extraction.compare(screened, "P", "irm_scheme", "am", "mg")
    differing = table[~table["same"]]
    assert differing["field"].tolist() == ["outcomes.1.direction"]
    assert differing.iloc[0]["am"] == "better" and differing.iloc[0]["mg"] == "mixed"
    view = ComparisonView(screened, "P", "irm_scheme", "am", "mg", who="hw")
    view.choices["outcomes.1.direction"].value = "mg"
    assert view.record() is not None
    assert extraction.final_values(screened, "irm_scheme")["P"]["outcomes"][0]["direction"] == "mixed"


@pytest.mark.parametrize("row, where, words", [
    ("S99,New,atlantis,pooled_funds,,draft", "x.csv:3 [country]", "neither a code nor a label"),
    ("S99,New,england,pooled_funds,lots,draft", "x.csv:3 [n_control]", "whole number"),
    ("S99,New,england,pooled_funds,3,complete", "x.csv:3 [study_designs]", "required"),
    ("S99,New,england,pooled_funds,3,finished", "x.csv:3 [status]", "draft or complete"),
])
def test_bad_import_is_reported_per_row_and_field_and_writes_nothing(screened, tmp_path, row, where, words):
    file = tmp_path / "x.csv"
    file.write_text("scheme_id,scheme_name,country,irm_type,n_control,status\n"
                    "S98,Fine,england,pooled_funds,3,draft\n" + row + "\n")
    before = _event_count(screened)
    with pytest.raises(ExtractionError) as info:
        extraction.import_extractions(screened, "irm_scheme", file, who="am")
    assert "nothing imported" in str(info.value)
    assert any(w == where and words in m for w, m in info.value.problems), info.value.problems
    assert _event_count(screened) == before


def test_unknown_column_is_named(screened, tmp_path):
    file = tmp_path / "x.csv"
    file.write_text("scheme_id,scheme_name,country,colour,status\nS98,Fine,england,red,draft\n")
    with pytest.raises(ExtractionError, match=r"x.csv:2 \[colour\]: unknown column"):
        extraction.import_extractions(screened, "irm_scheme", file, who="am")


def test_reports_must_be_included_at_full_text(screened, tmp_path):
    file = tmp_path / "x.json"
    file.write_text(json.dumps([{"scheme_id": "S1", "scheme_name": "x", "report_source_ids": "mason2014_ref001",
                                 "status": "draft", "values": {"country": "england"}}]))
    with pytest.raises(ExtractionError, match="not included at full text"):
        extraction.import_extractions(screened, "irm_scheme", file, who="am")


def test_form_widget_controls_validation_and_specials(screened):
    schemes.create_scheme(screened, "Torbay", who="am", scheme_id="T")
    form = ExtractionForm(screened, "T", "irm_scheme", extractor="am")
    form.controls["country"].input.value = "england"
    form.controls["n_control"].input.value = "many"
    assert form.save(complete=False) is None  # unreadable input: nothing saved, message next to the field
    assert "many" in form.controls["n_control"].message.value or form.controls["n_control"].message.value
    form.controls["n_control"].special.value = "not_reported"
    form.controls["n_intervention"].special.value = "not_applicable"
    assert form.save(complete=True) is None  # required fields missing
    assert form.controls["scheme_name"].message.value
    form.controls["scheme_name"].input.value = "Torbay Care Trust"
    form.controls["irm_type"].input.value = ("structural_integration",)
    form.controls["study_designs"].input.value = ("qualitative", "uncontrolled")
    row = form.controls["outcomes"].add_row()
    row["domain"].input.value = "service_use_costs"
    row["direction"].input.value = "better"
    saved = form.save(complete=True)
    assert saved is not None and saved.status == "complete"
    assert saved.values["n_control"] == templates.NOT_REPORTED
    assert saved.values["n_intervention"] == templates.NOT_APPLICABLE
    assert "History (2 saves" not in form.history.value and "History (1 saves" in form.history.value
    again = ExtractionForm(screened, "T", "irm_scheme", extractor="am")  # reopens with the saved values
    assert again.controls["n_control"].special.value == "not_reported"
    assert again.controls["study_designs"].input.value == ("qualitative", "uncontrolled")
    assert len(again.controls["outcomes"].rows) == 1


def test_cli_extract(make_review, tmp_path, cli):
    make_review(**SCREENED).close()
    done = cli("extract", "import", tmp_path / "r", SCHEMES_JSON, "--template", "irm_scheme")
    assert done.returncode == 0, done.stderr
    assert "imported 38 extractions" in done.stdout
    out = cli("extract", "export", tmp_path / "r", "--template", "irm_scheme", "--format", "csv").stdout
    assert out.splitlines()[0].startswith("scheme_id,country,scheme_name")
    assert len(out.strip().splitlines()) == 39
    bad = cli("extract", "import", tmp_path / "r", SCHEMES_JSON, "--template", "nope")
    assert bad.returncode == 1 and "nope" in bad.stderr


def test_form_refuses_unknown_scheme_or_template_at_once(screened):
    with pytest.raises(ExtractionError, match="no scheme 'S99'"):
        ExtractionForm(screened, "S99", "irm_scheme", extractor="am")
    schemes.create_scheme(screened, "Torbay", who="am", scheme_id="T")
    with pytest.raises(ExtractionError, match="no template named 'nope'"):
        ExtractionForm(screened, "T", "nope", extractor="am")


def test_refused_save_is_summarised_at_the_top_with_field_names(screened):
    schemes.create_scheme(screened, "Torbay", who="am", scheme_id="T")
    form = ExtractionForm(screened, "T", "irm_scheme", extractor="am")
    assert form.ui.children[1] is form.summary  # right under the heading
    assert isinstance(form.controls["study_designs"].input, CheckboxGroup)  # ticks, not Ctrl-click
    form.controls["study_designs"].input.value = ("qualitative",)
    assert form.controls["study_designs"].input.boxes[0].description  # the label is on the box
    assert form.save(complete=True) is None
    assert "Not saved as complete" in form.summary.value and "<code>scheme_name</code>" in form.summary.value
    assert any(p.startswith("Scheme name (scheme_name)") or "(scheme_name)" in p for p in form.problems)
    assert form.save(complete=False).status == "draft"
    assert form.summary.value == "" and form.problems == []
    assert re.search(r"<li>\d{4}-\d\d-\d\d \d\d:\d\d · am · draft</li>", form.history.value)


def test_extraction_frame_with_labels(example):
    coded = extraction.extraction_frame(example, "irm_scheme")
    labelled = extraction.extraction_frame(example, "irm_scheme", labels=True)
    template = extraction.load_template(example, "irm_scheme")
    vocabulary = template.field("irm_type").vocabulary
    first = coded["irm_type"].iloc[0].split("; ")[0]
    assert labelled["irm_type"].iloc[0].split("; ")[0] == vocabulary.label(first) != first
    assert list(labelled["scheme_id"]) == list(coded["scheme_id"])
