"""`review status` shows the whole pipeline; `review export --stage --decision` exports a subset."""

import csv
import io
import json

import pytest

from review import cli, screening
from review import resources
from review.example import EXAMPLE, build_example
from review.pipeline import pipeline_status
from review.project import Review


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo") / "mason"
    build_example(folder, quiet=True, through="extract").close()
    return folder


def test_status_from_identified_to_extracted(demo, capsys):
    assert cli.main(["status", str(demo)]) == 0
    text = capsys.readouterr().out
    for line in ("Records identified: 183", "Title and abstract: 183 records enter this stage",
                 "decided by every reviewer needed: 183 of 183 (included 152, excluded 31, conflicts to resolve 0)",
                 "Anne Mason (am): 183 decided, 0 to do", "Full text: 152 records enter this stage",
                 "Schemes (studies): 38", "extracted with irm_scheme: 38 final"):
        assert line in text, line
    assert cli.main(["status", str(demo), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    pipeline = data["pipeline"]
    assert pipeline["records_identified"] == 183 and data["records"] == 183
    assert [(s["stage"], s["included"], s["excluded"]) for s in pipeline["stages"]] == [
        ("title_abstract", 152, 31), ("full_text", 114, 38)]
    assert pipeline["extraction"] == [{"template": "irm_scheme", "schemes_extracted": 38, "schemes_in_progress": 0}]


def test_status_words_never_contradict_a_reviewer_in_progress(tmp_path):
    with Review.init(tmp_path / "r", protocol=EXAMPLE / "review.yaml") as review:
        review.import_file(resources.bundled("references/mason2014_reference_list.ris"), source="S")
        for record in range(1, 23):
            screening.decide(review, "title_abstract", "am", record, "include")
        status = pipeline_status(review)
    first = status.stages[0]
    assert (first.decided, first.waiting, first.to_screen) == (0, 183, 183)
    assert [(r.reviewer, r.decided, r.to_do) for r in first.reviewers] == [("am", 22, 161), ("mg", 0, 183)]
    text = "\n".join(status.lines())
    assert "Duplicates: not checked yet (run: review dedupe DIR)" in text
    assert "decided by every reviewer needed: 0 of 183" in text and "waiting for a reviewer: 183" in text
    assert "Anne Mason (am): 22 decided, 161 to do" in text


@pytest.mark.parametrize("fmt", ["csv", "ris", "bibtex"])
def test_export_a_stage_subset_in_every_format(demo, fmt, capsys):
    assert cli.main(["export", str(demo), "--format", fmt, "--stage", "full_text", "--decision", "exclude"]) == 0
    text = capsys.readouterr().out
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 38 and {r["decision"] for r in rows} == {"exclude"}
        assert all(r["reasons"] and r["stage"] == "full_text" for r in rows)
    elif fmt == "ris":
        assert text.count("ER  - ") == 38 and text.count("N1  - full_text: exclude (") == 38
    else:
        assert text.count("@") == 38 and text.count("full\\_text: exclude (") == 38
    assert cli.main(["export", str(demo), "--format", fmt, "--stage", "full_text", "--decision", "include"]) == 0
    assert capsys.readouterr().out.count("full_text" if fmt != "bibtex" else "full\\_text") >= 114


def test_export_subset_errors_are_clear(demo, capsys):
    assert cli.main(["export", str(demo), "--format", "csv", "--stage", "nope"]) == 1
    assert "no stage 'nope' in the protocol (stages: title_abstract, full_text)" in capsys.readouterr().err
    assert cli.main(["export", str(demo), "--format", "csv", "--decision", "include"]) == 1
    assert "--decision needs --stage" in capsys.readouterr().err
