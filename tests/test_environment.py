"""The declared environment: pyproject.toml, environment.yml (for conda users) and what the code imports."""

import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import check_dependencies  # noqa: E402  (tools/ is not a package)


def _requirement(text: str) -> tuple[str, str]:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", text).groups()
    return check_dependencies.normalise(name), spec.replace(" ", "")


def test_environment_yml_mirrors_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    listed = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            listed.update(_requirement(d) for d in dep["pip"] if not d.startswith("-e"))
        elif dep != "pip" and not dep.startswith("python="):
            listed.update([_requirement(dep)])
    # The same packages with the same version bounds, nothing more and nothing less.
    assert listed == dict(_requirement(d) for d in project["dependencies"])
    assert any(str(d).startswith("-e") and "[dev]" in str(d) for d in env["dependencies"][-1]["pip"])


@pytest.mark.slow  # reads every installed distribution's metadata
def test_every_import_is_declared_and_every_declaration_imported():
    assert check_dependencies.problems() == []
