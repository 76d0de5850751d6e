"""Shared fixtures: paths to the repository, its fixtures and ../shared."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# The screening widget computes sentence vectors on a background thread when their model is
# installed (review.embeddings); most tests do not need them and the 2-core CI machine should not
# spend minutes on them. Tests that do pass sentence_model=True. Set here, at collection, so
# CLI subprocesses and notebook kernels started by the tests inherit it.
os.environ.setdefault("REVIEW_SENTENCE_MODEL", "off")

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
def new_review(make_review):
    return make_review("rev", title="Test review")


def build_review(folder: Path, protocol=None, title: str | None = None, files=(), source: str = "S",
                 dedupe: bool = False, decisions: Path | None = None, extractions: Path | None = None):
    """The one way tests build a review: create it, import `files`, then optionally deduplicate,
    import screening decisions (CSV) and import extractions (JSON or CSV, template irm_scheme)."""
    from review import extraction, screening
    from review.project import Review

    # A protocol keeps its own title unless one is given; without a protocol a review still needs one.
    review = Review.init(folder, title=title or (None if protocol is not None else "T"), protocol=protocol)
    for file in files:  # a path, or (path, source) when the sources differ
        file, name = file if isinstance(file, tuple) else (file, source)
        review.import_file(file, source=name)
    if dedupe:
        review.dedupe(who="am", progress=False)
    if decisions is not None:
        screening.import_decisions(review, decisions, who="am")
    if extractions is not None:
        extraction.import_extractions(review, "irm_scheme", extractions, who="am")
    return review


@pytest.fixture
def make_review(tmp_path):
    """build_review in this test's tmp folder; every review it made is closed afterwards."""
    made = []

    def make(name: str = "r", **options):
        review = build_review(tmp_path / name, **options)
        made.append(review)
        return review

    yield make
    for review in made:
        review.close()


@pytest.fixture(scope="session")
def worked_example(tmp_path_factory):
    """The worked example built through extraction, once per run. Read it only: tests that write build their own."""
    from review.example import build_example

    review = build_example(tmp_path_factory.mktemp("example") / "mason2014", quiet=True, through="extract")
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


class CliResult:
    """What `review ...` returned and printed, run in this process (the shape of subprocess.CompletedProcess)."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


@pytest.fixture
def cli(capsys):
    """Run the `review` command in-process through review.cli.main(argv): milliseconds instead of a new Python."""
    from review.cli import main

    def run(*args) -> CliResult:
        capsys.readouterr()  # start from empty buffers
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse: --help, --version, usage errors
            code = exc.code if isinstance(exc.code, int) else 1
        out, err = capsys.readouterr()
        return CliResult(code, out, err)

    return run


def pytest_collection_modifyitems(config, items):
    """Mark what is slow or drives a browser by where it lives, so new tests there are marked too."""
    for item in items:
        path = Path(str(item.fspath))
        if path.suffix == ".ipynb":  # nbval runs the whole notebook
            item.add_marker(pytest.mark.slow)
        elif REPO / "tests" / "ui" in path.parents:
            item.add_marker(pytest.mark.ui)


BIG_FILE = 1_000_000  # bytes; a round trip through a real export this large takes seconds


def by_size(paths: list[Path]) -> list:
    """Parameters for tests over real exports: the big ones marked slow, so the quick subset keeps the rest."""
    return [pytest.param(p, marks=[pytest.mark.slow] if p.exists() and p.stat().st_size > BIG_FILE else [])
            for p in paths]
