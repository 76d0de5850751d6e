"""8 reviewers x 100 decisions at once, with an import and a deduplication running beside
them, on each engine: nothing lost, nothing duplicated, no error reaching a reviewer.
(benchmarks/team_load.py runs the full 8 x 1,000 and prints the figures.)"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("engine", ["sqlite", "postgresql"])
def test_eight_reviewers_an_import_and_a_dedup_at_once_lose_nothing(engine, request):
    command = [sys.executable, str(REPO / "benchmarks" / "team_load.py"), "--engines", engine,
               "--reviewers", "8", "--decisions", "100", "--json"]
    if engine == "postgresql":
        command += ["--url", request.getfixturevalue("pg_server").create_database("load")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    [figures] = json.loads(done.stdout)
    assert figures["errors"] == [] and figures["lost"] == 0 and figures["duplicated"] == 0
    assert figures["all_planned"] and figures["decisions"] == 800
    assert figures["imports"] == ["Embase", "MEDLINE"] and figures["dedup_runs"] == 1
