"""The `review` command, run in-process through review.cli.main(argv) (the `cli` fixture in conftest.py).

tests/test_installed.py runs the installed console script in a separate process.
"""

import argparse
import json
from pathlib import Path

import pytest

from review.cli import build_parser
from review.protocol import ExclusionReason, Protocol, Reviewer, Stage

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_RIS = REPO / "references" / "mason2014_reference_list.ris"


def test_init_import_status_export(tmp_path, cli):
    folder = tmp_path / "rev"
    done = cli("init", folder, "--title", "Integrated funds")
    assert done.returncode == 0, done.stderr
    assert "created review 'Integrated funds'" in done.stdout

    done = cli("import", folder, EXAMPLE_RIS, "--source", "MEDLINE (Ovid)", "--search-date", "2013-02-01",
               "--quiet")
    assert done.returncode == 0, done.stderr
    assert "imported 183 records (ris, utf-8) as import 1" in done.stdout

    again = cli("import", folder, EXAMPLE_RIS, "--source", "MEDLINE (Ovid)", "--quiet")
    assert again.returncode == 0 and "already imported" in again.stdout

    status = cli("status", folder, "--json")
    data = json.loads(status.stdout)
    assert data["records"] == 183
    assert data["imports"][0]["source_name"] == "MEDLINE (Ovid)"
    assert data["imports"][0]["records"] == 183

    text = cli("status", folder).stdout
    assert "import 1: mason2014_reference_list.ris  [MEDLINE (Ovid), searched 2013-02-01]  ris  183 records" in text

    exported = cli("export", folder, "--format", "csv")
    assert exported.returncode == 0
    assert exported.stdout.splitlines()[0].startswith("record_id,import_file,source_id,cluster_id")
    assert len(exported.stdout.strip().splitlines()) >= 184

    out = tmp_path / "all.ris"
    assert cli("export", folder, "--format", "ris", "--out", out).returncode == 0
    assert out.read_text().count("ER  -") == 183

    records = json.loads(cli("export", folder, "--json").stdout)
    assert len(records) == 183 and records[0]["record_id"] == 1
    assert cli("export", folder).returncode == 1


def test_malformed_import_fails_with_file_line_and_nonzero_status(tmp_path, cli):
    folder = tmp_path / "rev"
    cli("init", folder, "--title", "T")
    bad = tmp_path / "broken.ris"
    bad.write_text("TY  - JOUR\nTI  - One\nER  - \nAU  - Stray, Tag\n")
    done = cli("import", folder, bad, "--source", "X", "--quiet")
    assert done.returncode == 1
    assert "broken.ris:4" in done.stderr
    assert "nothing imported" in done.stderr
    assert json.loads(cli("status", folder, "--json").stdout)["records"] == 0


def test_errors_are_clear(tmp_path, cli):
    done = cli("status", tmp_path / "nowhere")
    assert done.returncode == 1 and "not a review folder" in done.stderr
    folder = tmp_path / "rev"
    cli("init", folder, "--title", "T")
    (folder / "review.yaml").write_text("title: T\nreviewrs: []\n")
    done = cli("status", folder)
    assert done.returncode == 1 and "unknown key 'reviewrs'; did you mean 'reviewers'?" in done.stderr
    done = cli("import", folder, tmp_path / "missing.ris", "--source", "X")
    assert done.returncode != 0


def test_version(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.startswith("review ")


# --- what only Python could do before: single decisions, undo, conflicts, pairs, splits ---------------


def _protocol() -> Protocol:
    return Protocol(
        title="CLI review",
        exclusion_reasons=[ExclusionReason("health_care_only", "Health care only")],
        stages=[Stage("title_abstract", reviewers=["am", "mg"], decisions_required=2),
                Stage("full_text", reviewers=["am", "mg"], decisions_required=2, resolution="third_reviewer",
                      resolver="hw", reason_required=True)],
        reviewers=[Reviewer("am"), Reviewer("mg"), Reviewer("hw")],
    )


@pytest.fixture
def screened_by_cli(make_review, cli):
    review = make_review(protocol=_protocol(), files=[EXAMPLE_RIS])
    return review.path


def test_screening_decide_conflicts_resolve_and_undo(screened_by_cli, cli):
    folder = screened_by_cli
    stage = ("--stage", "title_abstract")
    done = cli("screening", "decide", folder, 1, *stage, "--reviewer", "am", "--decision", "include")
    assert done.returncode == 0, done.stderr
    assert "am decided include at title_abstract" in done.stdout
    done = cli("screening", "decide", folder, 1, *stage, "--reviewer", "mg", "--decision", "exclude",
               "--reason", "health_care_only", "--note", "acute care only", "--json")
    made = json.loads(done.stdout)
    assert (made["reviewer"], made["decision"], made["reasons"], made["note"]) == (
        "mg", "exclude", ["health_care_only"], "acute care only")

    conflicts = json.loads(cli("screening", "conflicts", folder, "--json").stdout)
    assert [(c["stage"], c["record_id"], c["am"], c["mg"]) for c in conflicts] == [
        ("title_abstract", 1, "include", "exclude (health_care_only)")]
    table = cli("screening", "conflicts", folder).stdout
    assert "title_abstract" in table
    # People read the reason's label; the JSON above keeps the code.
    label = next(r.label for r in _protocol().exclusion_reasons if r.code == "health_care_only")
    assert label in table and "(health_care_only)" not in table

    done = cli("screening", "resolve", folder, 1, *stage, "--decision", "include", "--who", "hw", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["method"] == "consensus"
    assert json.loads(cli("screening", "conflicts", folder, "--json").stdout) == []
    assert cli("screening", "conflicts", folder).stdout.strip() == "no conflicts"

    cli("screening", "decide", folder, 2, *stage, "--reviewer", "am", "--decision", "maybe")
    done = cli("screening", "undo", folder, *stage, "--reviewer", "am")
    assert "undid am's maybe on record 2" in done.stdout
    done = cli("screening", "undo", folder, *stage, "--reviewer", "mg", "--json")
    assert json.loads(done.stdout)["record_id"] == 1
    assert "has no decision" in cli("screening", "undo", folder, *stage, "--reviewer", "mg").stdout

    status = json.loads(cli("screening", "status", folder, "--json").stdout)["stages"][0]
    assert status["per_reviewer"] == {"am": 1}
    agreement = json.loads(cli("screening", "agreement", folder, "--json").stdout)
    assert agreement == []


def test_screening_decide_refuses_what_the_protocol_does_not_allow(screened_by_cli, cli):
    folder = screened_by_cli
    done = cli("screening", "decide", folder, 1, "--stage", "title_abstract", "--reviewer", "xx",
               "--decision", "include")
    assert done.returncode == 1 and "does not screen stage" in done.stderr and "Traceback" not in done.stderr
    done = cli("screening", "decide", folder, 1, "--stage", "full_text", "--reviewer", "am", "--decision",
               "include")
    assert done.returncode == 1 and "not included at the stage before" in done.stderr
    done = cli("screening", "decide", folder, 1, "--stage", "title_abstract", "--reviewer", "am",
               "--decision", "perhaps")
    assert done.returncode == 2 and "invalid choice" in done.stderr
    done = cli("screening", "resolve", folder, 3, "--stage", "title_abstract", "--decision", "include")
    assert done.returncode == 1 and "no conflict" in done.stderr
    for command in (["undo", folder, "--reviewer", "am"], ["conflicts", folder]):
        done = cli("screening", *command, "--stage", "abstracts")
        assert done.returncode == 1 and "no stage 'abstracts'" in done.stderr and "Traceback" not in done.stderr


def test_dedupe_decide_split_and_queue(screened_by_cli, cli):
    folder = screened_by_cli
    done = cli("dedupe", folder, "--json")  # the short form of `dedupe run`
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["clusters"] == 183
    queue = json.loads(cli("dedupe", "queue", folder, "--json").stdout)
    assert len(queue) == 5 and {"record_a", "record_b", "score", "title_a", "title_b"} <= set(queue[0])
    a, b = queue[0]["record_a"], queue[0]["record_b"]
    assert str(a) in cli("dedupe", "queue", folder).stdout

    done = cli("dedupe", "decide", folder, a, b, "same", "--who", "am", "--json")
    assert json.loads(done.stdout)["same_cluster"] is True
    assert len(json.loads(cli("dedupe", "queue", folder, "--json").stdout)) == 4
    assert len(json.loads(cli("dedupe", "queue", folder, "--all", "--json").stdout)) == 5
    assert json.loads(cli("dedupe", "run", folder, "--json").stdout)["clusters"] == 182
    done = cli("dedupe", "split", folder, b, "--who", "am", "--note", "appendix, not the report")
    assert done.stdout.strip() == f"record {b} split from {a}"
    assert json.loads(cli("dedupe", "split", folder, b, "--json").stdout)["split_from"] == []
    done = cli("dedupe", "decide", folder, a, b, "different")
    assert "different clusters" in done.stdout
    done = cli("dedupe", "decide", folder, 5, 5, "same")
    assert done.returncode == 1 and "itself" in done.stderr
    done = cli("dedupe", "decide", folder, 5, 9999, "same")
    assert done.returncode == 1 and "no such record" in done.stderr


def test_every_read_command_prints_json(worked_example, cli, tmp_path):
    folder = worked_example.path
    outputs = {
        "status": cli("status", folder, "--json"),
        "export": cli("export", folder, "--json"),
        "dedupe queue": cli("dedupe", "queue", folder, "--all", "--json"),
        "decisions export": cli("decisions", "export", folder, "--json"),
        "screening status": cli("screening", "status", folder, "--json"),
        "screening conflicts": cli("screening", "conflicts", folder, "--json"),
        "screening agreement": cli("screening", "agreement", folder, "--json"),
        "extract export": cli("extract", "export", folder, "--template", "irm_scheme", "--json"),
        "schemes list": cli("schemes", "list", folder, "--json"),
        "tabulate": cli("tabulate", folder, "--rows", "irm_type", "--cols", "direction", "--domain",
                        "health_outcomes", "--json"),
        "votes": cli("votes", folder, "--domain", "health_outcomes", "--json"),
        "prisma": cli("prisma", folder, "--json"),
        "prisma --box": cli("prisma", folder, "--box", "dbr_excluded", "--json"),
        "methods": cli("methods", folder, "--json"),
    }
    for name, done in outputs.items():
        assert done.returncode == 0, (name, done.stderr)
        json.loads(done.stdout)  # every one is JSON
    parsed = {name: json.loads(done.stdout) for name, done in outputs.items()}
    assert len(parsed["export"]) == 183
    assert len(parsed["schemes list"]) == 38 and len(parsed["extract export"]) == 38
    assert parsed["prisma"]["new_studies"] == 38
    assert len(parsed["prisma --box"]) == parsed["prisma"]["dbr_assessed"] - parsed["prisma"]["new_reports"]
    assert {row["irm_type"] for row in parsed["tabulate"]} >= {"total"}
    assert [s["item"] for s in parsed["methods"]][:1] == ["8"]
    assert {"stage", "reviewer", "decision"} <= set(parsed["decisions export"][0])


# --- help and documentation -------------------------------------------------------------------------


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """(command path, its parser, the help its parent gives it) for every command and subcommand."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                yield (*path, name), child, helps.get(name)
                yield from _commands(child, (*path, name))


def test_every_command_and_argument_has_help():
    parser = build_parser()
    missing = [" ".join(("review", *path)) for path, _, help in _commands(parser) if not help]
    for path, child, _ in [((), parser, None), *_commands(parser)]:
        for action in child._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help:
                missing.append(f"review {' '.join(path)} {action.option_strings or action.dest}")
    assert missing == []


def test_every_command_is_in_the_readme():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    absent = [" ".join(("review", *path)) for path, child, _ in _commands(build_parser())
              if " ".join(("review", *path)) not in readme]
    assert absent == []
