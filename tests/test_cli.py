"""The `review` command, run as a user would run it."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_RIS = REPO / "references" / "mason2014_reference_list.ris"


def review(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "review.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120)


def test_init_import_status_export(tmp_path):
    folder = tmp_path / "rev"
    done = review("init", folder, "--title", "Integrated funds")
    assert done.returncode == 0, done.stderr
    assert "created review 'Integrated funds'" in done.stdout

    done = review("import", folder, EXAMPLE_RIS, "--source", "MEDLINE (Ovid)", "--search-date", "2013-02-01",
                  "--quiet")
    assert done.returncode == 0, done.stderr
    assert "imported 183 records (ris, utf-8) as import 1" in done.stdout

    again = review("import", folder, EXAMPLE_RIS, "--source", "MEDLINE (Ovid)", "--quiet")
    assert again.returncode == 0 and "already imported" in again.stdout

    status = review("status", folder, "--json")
    data = json.loads(status.stdout)
    assert data["records"] == 183
    assert data["imports"][0]["source_name"] == "MEDLINE (Ovid)"
    assert data["imports"][0]["records"] == 183

    text = review("status", folder).stdout
    assert "import 1: mason2014_reference_list.ris  [MEDLINE (Ovid), searched 2013-02-01]  ris  183 records" in text

    exported = review("export", folder, "--format", "csv")
    assert exported.returncode == 0
    assert exported.stdout.splitlines()[0].startswith("record_id,import_file,source_id,cluster_id")
    assert len(exported.stdout.strip().splitlines()) >= 184

    out = tmp_path / "all.ris"
    assert review("export", folder, "--format", "ris", "--out", out).returncode == 0
    assert out.read_text().count("ER  -") == 183


def test_malformed_import_fails_with_file_line_and_nonzero_status(tmp_path):
    folder = tmp_path / "rev"
    review("init", folder, "--title", "T")
    bad = tmp_path / "broken.ris"
    bad.write_text("TY  - JOUR\nTI  - One\nER  - \nAU  - Stray, Tag\n")
    done = review("import", folder, bad, "--source", "X", "--quiet")
    assert done.returncode == 1
    assert "broken.ris:4" in done.stderr
    assert "nothing imported" in done.stderr
    assert json.loads(review("status", folder, "--json").stdout)["records"] == 0


def test_errors_are_clear(tmp_path):
    done = review("status", tmp_path / "nowhere")
    assert done.returncode == 1 and "not a review folder" in done.stderr
    folder = tmp_path / "rev"
    review("init", folder, "--title", "T")
    (folder / "review.yaml").write_text("title: T\nreviewrs: []\n")
    done = review("status", folder)
    assert done.returncode == 1 and "unknown key 'reviewrs'; did you mean 'reviewers'?" in done.stderr
    done = review("import", folder, tmp_path / "missing.ris", "--source", "X")
    assert done.returncode != 0


def test_demo_builds_the_example(tmp_path):
    done = review("demo", tmp_path / "example")
    assert done.returncode == 0, done.stderr
    assert "records: 183 in 1 imports" in done.stdout
