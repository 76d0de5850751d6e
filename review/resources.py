"""Files that ship with the workbench: extraction templates, the worked example, its search exports.

In the repository they sit at the top level (extraction_templates/, examples/,
references/); the build maps each folder into the package as review.data.<folder>
(see setup.py), so a wheel install and an editable install find them the same
way, through importlib.resources, and nothing needs the repository path.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

FOLDERS = ("extraction_templates", "examples", "references")


def folder(name: str) -> Path:
    """The installed copy of one of FOLDERS, as a path on disk."""
    if name not in FOLDERS:
        raise ValueError(f"no bundled folder {name!r} (bundled: {', '.join(FOLDERS)})")
    return Path(str(files(f"review.data.{name}")))


def bundled(relative: str | Path) -> Path:
    """A bundled file named as in the repository, e.g. "references/mason2014_reference_list.ris"."""
    top, *rest = Path(relative).parts
    return folder(top).joinpath(*rest)


def templates_folder() -> Path:
    return folder("extraction_templates")


def example_folder(name: str = "mason2014") -> Path:
    path = folder("examples") / name
    if not path.is_dir():
        raise ValueError(f"no bundled example {name!r}")
    return path
