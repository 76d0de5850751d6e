"""Shared fixtures: paths to the repository, its fixtures and ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"

# PRISMA 2020 counts shaped like the worked example's, with a real search (the diagram and CSV tests).
PRISMA_EXAMPLE = {
    "database_results": 3543,
    "database_specific_results": {"MEDLINE": 1204, "Embase": 1876, "HMIC": 312, "Social Care Online": 151},
    "register_results": None,
    "register_specific_results": None,
    "duplicates": 402,
    "excluded_automatic": 0,
    "excluded_other": 12,
    "records_screened": 3129,
    "records_excluded": 2977,
    "dbr_sought_reports": 152,
    "dbr_notretrieved_reports": 0,
    "dbr_assessed": 152,
    "dbr_excluded": {"Financial integration across health care settings only": 21,
                     "No financial integration": 9, "Other reason": 8},
    "new_studies": 38,
    "new_reports": 114,
}


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test with a clear message if it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the project's ../shared folder), which is not here")
    return path


@pytest.fixture
def example_ris() -> Path:
    return REPO / "references" / "mason2014_reference_list.ris"


@pytest.fixture
def new_review(tmp_path):
    from review.project import Review

    review = Review.init(tmp_path / "rev", title="Test review")
    yield review
    review.close()


def pytest_collection_modifyitems(config, items):
    """Mark what is slow or drives a browser by where it lives, so new tests there are marked too."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":  # nbval runs the whole notebook
            item.add_marker(pytest.mark.slow)
        elif REPO / "tests" / "ui" in path.parents:
            item.add_marker(pytest.mark.ui)
