"""The package as a user installs it: a wheel in a fresh venv, away from the checkout.

Slow (it builds a wheel and runs the worked example), so marked `slow`; `make test` runs it.
To stay fast and offline the fresh venv installs the wheel with --no-deps and reuses
the current environment's third-party packages through a .pth file. The editable
install of `review` there is not picked up: a .pth adds that folder to sys.path but
does not run the .pth files inside it, and the editable finder lives in one of those.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _run(command: list, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=timeout,
                          env=env)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """bin/ of a fresh venv holding the wheel built from this checkout."""
    root = tmp_path_factory.mktemp("installed")
    source = root / "source"
    # Build from a copy of the tracked files, so nothing untracked (build/, .venv) leaks into the wheel.
    files = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    for name in filter(None, files.split("\0")):
        if (REPO / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", root / "dist", source], cwd=root)
    wheel = next((root / "dist").glob("review-*.whl"))
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=root)
    python = venv / "bin" / "python"
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                        cwd=root).stdout.strip())
    ours = {sysconfig.get_paths()["purelib"], *site.getsitepackages()}
    (purelib / "reuse_test_environment.pth").write_text("\n".join(sorted(ours)) + "\n")
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--quiet", wheel], cwd=root)
    return venv / "bin"


def test_wheel_holds_the_templates_and_the_example(installed, tmp_path):
    where = _run([installed / "python", "-c",
                  "import review.resources as r, review.extraction as e; "
                  "print(r.__file__); print(e.REPO_TEMPLATES); print(r.example_folder())"], cwd=tmp_path).stdout
    module, templates, example = where.split()
    venv = str(installed.parent)
    assert module.startswith(venv) and templates.startswith(venv) and example.startswith(venv)
    assert (Path(templates) / "irm_scheme.yaml").is_file()
    assert (Path(example) / "review.yaml").is_file()


def test_demo_runs_outside_the_checkout(installed, tmp_path):
    done = _run([installed / "review", "demo", tmp_path / "mason2014"], cwd=tmp_path)
    assert "records: 183 in 1 imports" in done.stdout
    assert (tmp_path / "mason2014" / "report" / "index.html").is_file()


def test_init_and_import_outside_the_checkout(installed, tmp_path):
    ris = tmp_path / "list.ris"
    shutil.copy(REPO / "references" / "mason2014_reference_list.ris", ris)
    _run([installed / "review", "init", tmp_path / "rev", "--title", "Installed"], cwd=tmp_path)
    done = _run([installed / "review", "import", tmp_path / "rev", ris, "--source", "MEDLINE", "--quiet"],
                cwd=tmp_path)
    assert "imported 183 records" in done.stdout
    done = _run([installed / "review", "--version"], cwd=tmp_path)
    assert done.stdout.strip() == "review 0.1.0"
