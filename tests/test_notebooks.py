"""The notebooks are generated from tools/make_notebooks.py: what is stored must not drift from it."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_notebook

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

import make_notebooks  # noqa: E402  (tools/ is not a package)


@pytest.mark.parametrize("key", sorted(make_notebooks.NOTEBOOK_SOURCES))
def test_stored_notebook_matches_its_source(key, tmp_path):
    name, cells = make_notebooks.NOTEBOOK_SOURCES[key]
    # Regenerate (without running it) in tmp, read both back the same way, compare cell kinds and sources.
    nbformat.write(new_notebook(cells=cells()), tmp_path / name)
    fresh = nbformat.read(tmp_path / name, as_version=4)
    stored = nbformat.read(REPO / "notebooks" / name, as_version=4)
    expected = [(c.cell_type, c.source) for c in fresh.cells]
    found = [(c.cell_type, c.source) for c in stored.cells]
    assert found == expected, (f"notebooks/{name} differs from tools/make_notebooks.py: edit the source there and "
                               f"run `.venv/bin/python tools/make_notebooks.py {key}`")


def test_every_notebook_has_a_source():
    names = {name for name, _ in make_notebooks.NOTEBOOK_SOURCES.values()}
    assert {p.name for p in (REPO / "notebooks").glob("*.ipynb")} == names


def test_notebooks_do_not_need_the_repository():
    for path in (REPO / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            assert "REPO" not in cell.source and "parents[" not in cell.source, path.name
