from pathlib import Path

import pytest

from review import protocol
from review.protocol import ProtocolError

REPO = Path(__file__).resolve().parents[1]


def test_default_protocol_round_trips():
    proto = protocol.default_protocol("A review")
    again = protocol.parse(protocol.dump(proto))
    assert again == proto
    assert [s.name for s in again.stages] == ["title_abstract", "full_text"]
    assert again.stage("full_text").reason_required


def test_example_protocol_is_valid():
    proto = protocol.load(REPO / "examples" / "mason2014" / "review.yaml")
    assert len(proto.exclusion) == 8  # Table 2 of the paper
    codes = [r.code for r in proto.exclusion_reasons]
    assert {"health_care_only", "social_care_only", "no_financial_integration"} <= set(codes)
    assert proto.stage("title_abstract").reviewers == ["am", "mg"]


@pytest.mark.parametrize(
    "text, field_path, line, words",
    [
        ("title: T\nstagez: []\n", "stagez", 2, "unknown key 'stagez'; did you mean 'stages'?"),
        ("title: T\nstages:\n  - name: ta\n    decisions_required: 0\n", "stages[0].decisions_required", 4, "minimum"),
        ("title: T\nstages:\n  - name: Title Abstract\n", "stages[0].name", 3, "does not match"),
        ("title: T\nreviewers:\n  - id: a\n  - id: a\n", "reviewers[1].id", 4, "duplicate reviewer"),
        ("title: T\nreviewers: [{id: a}]\nstages:\n  - name: ta\n    reviewers: [a, b]\n",
         "stages[0].reviewers[1]", 5, "'b' is not in the reviewers list"),
        ("title: T\nexclusion_reasons:\n  - {code: x, label: X}\n  - {code: x, label: Y}\n",
         "exclusion_reasons[1].code", 4, "duplicate exclusion reason"),
        ("title: T\nstages:\n  - name: ta\n    resolution: third_reviewer\n", "stages[0].resolver", 3, "needs a resolver"),
        ("question: no title\n", "(top level)", 1, "missing required key 'title'"),
        ("title: T\ndedup: {score_auto: 0.8, review_score: 0.9}\n", "dedup.review_score", 2, "must not exceed"),
        ("title: T\ndedup:\n  title_auto: 0.9\n  titel_auto: 0.9\n", "dedup.titel_auto", 4, "unknown threshold"),
    ],
)
def test_bad_protocol_names_field_line_and_problem(text, field_path, line, words):
    with pytest.raises(ProtocolError) as info:
        protocol.parse(text, "review.yaml")
    message = str(info.value)
    assert message.startswith(f"review.yaml:{line}: {field_path}:"), message
    assert words in message


def test_invalid_yaml_and_non_mapping():
    with pytest.raises(ProtocolError, match=r"review.yaml:2: .*not valid YAML"):
        protocol.parse("title: T\n  bad: [\n", "review.yaml")
    with pytest.raises(ProtocolError, match="must be a mapping"):
        protocol.parse("- just\n- a list\n", "review.yaml")


def test_yaml_is_loaded_safely():
    # A python object tag must not be constructed (safe_load refuses it).
    with pytest.raises(ProtocolError, match="not valid YAML"):
        protocol.parse("title: !!python/object/apply:os.system ['echo hacked']\n")


def test_missing_protocol_file(tmp_path):
    with pytest.raises(ProtocolError, match="protocol file not found"):
        protocol.load(tmp_path / "review.yaml")
