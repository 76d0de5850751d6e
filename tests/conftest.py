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


# --- both engines ---------------------------------------------------------------------
# The store, screening, clusters, schemes and extraction tests run on SQLite (the default)
# and on a real PostgreSQL server that the session starts itself (tests/pg.py).

ENGINES = ("sqlite", "postgresql")


@pytest.fixture(scope="session")
def pg_server():
    """A throwaway PostgreSQL server for the session; skips PostgreSQL tests if none can start."""
    from pg import PgServer, ServerUnavailable

    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg (pip install -e '.[dev]')")
    try:
        server = PgServer().start()
    except ServerUnavailable as exc:
        pytest.skip(f"no PostgreSQL server for the tests: {exc}")
    yield server
    server.stop()


@pytest.fixture(scope="module", params=ENGINES)
def review_engine(request):
    """Which engine new reviews use in this module's tests: "sqlite" or "postgresql".

    On PostgreSQL every review created with Review.init (and so `review init`) without a
    database URL gets a fresh database on the session's server, recorded in its review.yaml,
    so subprocesses and later Review.open calls find it as a teammate's would.
    """
    if request.param == "sqlite":
        yield "sqlite"
        return
    server = request.getfixturevalue("pg_server")
    from review.project import Review

    original = Review.init.__func__

    def init_on_server(cls, path, *args, database_url=None, **kwargs):
        return original(cls, path, *args, database_url=database_url or server.create_database(), **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Review, "init", classmethod(init_on_server))
        yield "postgresql"


@pytest.fixture
def engine_url(review_engine, tmp_path, request):
    """A URL of a new empty database on the engine under test."""
    if review_engine == "sqlite":
        return f"sqlite:///{tmp_path / 'r.db'}"
    return request.getfixturevalue("pg_server").create_database()
