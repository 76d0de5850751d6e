"""Team load: many reviewers deciding at once, plus an import and a deduplication run.

For each engine (SQLite file, PostgreSQL server), N reviewer processes each record D
screening decisions at the same moment, while one more process imports a search export
and another deduplicates. Then the log is checked: every decision there exactly once,
none lost, no error reaching a reviewer. Prints decisions/s and p50/p95 latency of one
decision per engine side by side.

    python benchmarks/team_load.py                      # 8 x 1,000 on both engines
    python benchmarks/team_load.py --decisions 100 --json --engines sqlite

PostgreSQL: --url postgresql://USER@HOST:PORT/DB (an empty database whose user may create
roles), else a throwaway server is started from Debian's binaries (tests/pg.py). On
PostgreSQL each reviewer connects as their own role (review team add-reviewer), so the
server's identity and blinding rules are part of what is measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))  # tests/pg.py: the throwaway server

from sqlalchemy import select  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from review import screening, store, team  # noqa: E402
from review.project import Review  # noqa: E402
from review.protocol import Protocol, Reviewer, Stage  # noqa: E402

BIB = REPO / "tests" / "fixtures" / "mason2014_references.bib"
STAGE = "title_abstract"


def synthetic_ris(path: Path, n: int) -> Path:
    """n distinct made-up records (titles, authors, DOIs), enough for every reviewer's decisions."""
    lines = []
    for i in range(1, n + 1):
        lines += ["TY  - JOUR", f"TI  - Load test record {i}: integrated budgets in trial {i * 7919 % 10007}",
                  f"AU  - Author{i % 97}, A.", f"PY  - {1990 + i % 30}", f"JO  - Journal {i % 13}",
                  f"DO  - 10.5555/load.{i}", f"AB  - Abstract of record {i}.", "ER  - ", ""]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def as_user(url: str, user: str) -> str:
    """The same server and database, connecting as another role."""
    return make_url(url).set(username=user).render_as_string(hide_password=False)


def reviewer_ids(n: int) -> list[str]:
    return [f"r{i + 1}" for i in range(n)]


def _screener(folder: str, url: str | None, reviewer: str, count: int, start, out) -> None:
    latencies, errors = [], []
    with Review.open(folder, database_url=url) as review:
        state = screening.ScreeningState.load(review)
        todo = screening.queue(review, STAGE, reviewer, state)[:count]
        start.wait()
        for record in todo:
            begin = time.perf_counter()
            try:
                screening.decide(review, STAGE, reviewer, record, "include" if record % 3 else "exclude",
                                 state=state)
            except Exception as exc:  # noqa: BLE001 - counted and reported: none may reach a reviewer
                errors.append(f"{type(exc).__name__}: {exc}"[:300])
            latencies.append(time.perf_counter() - begin)
    out.put({"who": reviewer, "latencies": latencies, "errors": errors, "planned": len(todo)})


def _importer(folder: str, url: str | None, start, out) -> None:
    errors = []
    with Review.open(folder, database_url=url) as review:
        start.wait()
        try:
            review.import_file(BIB, source="Embase")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
    out.put({"who": "importer", "latencies": [], "errors": errors, "planned": 0})


def _deduper(folder: str, url: str | None, start, out) -> None:
    errors = []
    with Review.open(folder, database_url=url) as review:
        start.wait()
        try:
            review.dedupe(who="lead", progress=False)
        except Exception as exc:  # noqa: BLE001
            errors.append(f"{type(exc).__name__}: {exc}"[:300])
    out.put({"who": "deduper", "latencies": [], "errors": errors, "planned": 0})


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(engine: str, reviewers: int, decisions: int, url: str | None = None) -> dict:
    """One load run on one engine; returns figures and the checks' outcome."""
    ids = reviewer_ids(reviewers)
    with tempfile.TemporaryDirectory(prefix=f"team-load-{engine}-") as tmp:
        folder = Path(tmp) / "review"
        proto = Protocol(title="Team load", stages=[Stage(STAGE, reviewers=ids, decisions_required=2)],
                         reviewers=[Reviewer(r) for r in ids])
        review = Review.init(folder, protocol=proto, database_url=url if engine == "postgresql" else None)
        review.import_file(synthetic_ris(Path(tmp) / "base.ris", max(decisions, 50)), source="MEDLINE")
        urls = {r: None for r in ids}
        lead_url = None
        if engine == "postgresql":
            for r in ids:
                team.add_reviewer(review.engine, r, "screener")
                urls[r] = as_user(url, r)
            team.add_reviewer(review.engine, "lead", "lead")
            lead_url = as_user(url, "lead")
        review.close()

        ctx = mp.get_context("spawn")
        # Everyone (and this process) meets at the barrier once loaded; the clock starts there.
        start, out = ctx.Barrier(reviewers + 3), ctx.Queue()
        procs = [ctx.Process(target=_screener, args=(str(folder), urls[r], r, decisions, start, out)) for r in ids]
        procs += [ctx.Process(target=_importer, args=(str(folder), lead_url, start, out)),
                  ctx.Process(target=_deduper, args=(str(folder), lead_url, start, out))]
        for p in procs:
            p.start()
        results = []
        start.wait()
        begin = time.perf_counter()
        for _ in procs:
            results.append(out.get(timeout=1800))
        wall = time.perf_counter() - begin
        for p in procs:
            p.join()

        with Review.open(folder, database_url=url if engine == "postgresql" else None) as review:
            with store.read_connection(review.engine) as conn:
                events = store.read_events(conn, kind=screening.DECISION_EVENT)
                imports = conn.execute(select(store.imports.c.source_name)).scalars().all()
                runs = store.read_events(conn, kind="dedup.run")
    latencies = [x for r in results for x in r["latencies"]]
    errors = [e for r in results for e in r["errors"]]
    per_reviewer = Counter(e.payload["reviewer"] for e in events)
    pairs = Counter((e.payload["reviewer"], e.payload["record_id"]) for e in events)
    planned = {r["who"]: r["planned"] for r in results if r["who"] in ids}
    return {
        "engine": engine,
        "reviewers": reviewers,
        "decisions": len(latencies),
        "seconds": round(wall, 3),
        "decisions_per_second": round(len(latencies) / wall, 1) if wall else None,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 2),
        "errors": errors,
        "lost": sum(max(0, planned[r] - per_reviewer.get(r, 0)) for r in ids),
        "duplicated": sum(n - 1 for n in pairs.values() if n > 1),
        "all_planned": all(planned[r] == decisions for r in ids),
        "imports": sorted(imports),
        "dedup_runs": len(runs),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=8)
    parser.add_argument("--decisions", type=int, default=1000, help="per reviewer")
    parser.add_argument("--engines", default="sqlite,postgresql")
    parser.add_argument("--url", help="an empty PostgreSQL database (else a throwaway server is started)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    server = None
    figures = []
    try:
        for engine in engines:
            url = None
            if engine == "postgresql":
                url = args.url
                if url is None:
                    from pg import PgServer

                    server = server or PgServer().start()
                    url = server.create_database("load")
            figures.append(run(engine, args.reviewers, args.decisions, url))
    finally:
        if server is not None:
            server.stop()
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.reviewers} reviewers x {args.decisions} decisions, plus one import and one deduplication")
        if server is not None:
            print("PostgreSQL: a throwaway local server with fsync and synchronous_commit off (tests/pg.py); "
                  "SQLite: WAL, synchronous=NORMAL")
        print(f"{'engine':<12}{'decisions':>10}{'seconds':>9}{'dec/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
              f"{'errors':>8}{'lost':>6}{'dups':>6}")
        for f in figures:
            print(f"{f['engine']:<12}{f['decisions']:>10}{f['seconds']:>9}{f['decisions_per_second']:>9}"
                  f"{f['p50_ms']:>9}{f['p95_ms']:>9}{len(f['errors']):>8}{f['lost']:>6}{f['duplicated']:>6}")
        for f in figures:
            for e in f["errors"][:5]:
                print(f"  {f['engine']}: {e}")
    bad = any(f["errors"] or f["lost"] or f["duplicated"] or not f["all_planned"] for f in figures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
