"""Shared fixtures: paths to the repository, its fixtures and ../shared."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures"
SHARED = REPO.parent / "shared"


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
