"""Compare what the code imports with what pyproject.toml declares.

Run: .venv/bin/python tools/check_dependencies.py   (exit status 1 and a list when they disagree)

The package (review/) must declare every third-party module it imports in
[project].dependencies and declare nothing it does not import, except the few
listed in NOT_IMPORTED with the reason they are needed anyway. Tests and tools
may also use the `dev` extra. Module names are mapped to distributions with
importlib.metadata, so run it in the project's environment.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Declared although no module of review/ imports them.
NOT_IMPORTED = {
    "jupyterlab": "the front end the widgets and notebooks run in",
}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(requirement: str) -> str:
    return normalise(re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0])


def imported_modules(folder: Path) -> dict[str, set[str]]:
    """Top-level modules imported (absolutely) by the .py files under `folder` -> files importing them."""
    found: dict[str, set[str]] = {}
    for file in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"), filename=str(file))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(file.relative_to(REPO)))
    return found


def third_party(modules: dict[str, set[str]], own: set[str]) -> dict[str, set[str]]:
    """Distribution name -> files, for modules that are neither the standard library nor our own."""
    owners = packages_distributions()
    result: dict[str, set[str]] = {}
    for module, files in modules.items():
        if module in sys.stdlib_module_names or module in own:
            continue
        dists = owners.get(module) or [module]  # not installed: report it under its module name
        result.setdefault(normalise(dists[0]), set()).update(files)
    return result


def problems(repo: Path = REPO) -> list[str]:
    project = tomllib.loads((repo / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = {requirement_name(r) for r in project["dependencies"]}
    dev = {requirement_name(r) for r in project.get("optional-dependencies", {}).get("dev", [])}
    own = {"review"}
    out = []
    used = third_party(imported_modules(repo / "review"), own)
    for dist, files in sorted(used.items()):
        if dist not in runtime:
            out.append(f"review/ imports {dist} (in {', '.join(sorted(files)[:3])}) but pyproject.toml does not "
                       f"declare it in [project].dependencies")
    for dist in sorted(runtime - set(used) - {normalise(n) for n in NOT_IMPORTED}):
        out.append(f"pyproject.toml declares {dist}, which review/ never imports (remove it, move it to the dev "
                   f"extra, or list it in tools/check_dependencies.py NOT_IMPORTED with the reason)")
    # Tests and tools may use the dev extra as well; local helper modules (conftest, tools/*) are ours.
    local = {p.stem for folder in ("tests", "tools") for p in (repo / folder).rglob("*.py")}
    for folder in ("tests", "tools"):
        for dist, files in sorted(third_party(imported_modules(repo / folder), own | local).items()):
            if dist not in runtime | dev and not _installed_with(dist, runtime | dev):
                out.append(f"{folder}/ imports {dist} (in {', '.join(sorted(files)[:3])}) but neither "
                           f"[project].dependencies nor the dev extra declares it or brings it in")
    return out


def _installed_with(dist: str, declared: set[str]) -> bool:
    """Whether a declared distribution requires `dist` (e.g. nbformat comes with nbclient)."""
    from importlib.metadata import PackageNotFoundError, requires

    for name in declared:
        try:
            needs = requires(name) or []
        except PackageNotFoundError:
            continue
        if any(requirement_name(r) == dist and "extra ==" not in r for r in needs):
            return True
    return False


if __name__ == "__main__":
    found = problems()
    for line in found:
        print(line)
    print("dependencies agree with the imports" if not found else f"{len(found)} problems", file=sys.stderr)
    sys.exit(1 if found else 0)
