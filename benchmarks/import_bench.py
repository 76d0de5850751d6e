"""Import speed: records per second for a large RIS file, with rispy and ASReview as reference points.

    .venv/bin/python benchmarks/import_bench.py                    # 100,000 records
    .venv/bin/python benchmarks/import_bench.py --records 20000 --repeat 1
    .venv/bin/python benchmarks/import_bench.py --no-peers         # skip ASReview

What is measured, all on the same generated file in the same run:

    ours: parse          review.io.read_file(path)                       (best of --repeat)
    ours: full import    Review.init + import_file + close (checkpoint)  (best of --import-repeat)
    rispy                rispy.load(path)                                (best of --repeat)
    asreview: reader     asreview.data.loader.load_records(path)         (best of --repeat)
    asreview: load_dataset   parse + in-memory SQLite + exact-dup groups (best of --import-repeat)

Every measurement runs in its own child process (this file with --child KIND), so
that peak memory (ru_maxrss) belongs to that tool alone and ASReview can run in
its own venv (it needs pandas < 3; see peers.py). The clock runs inside the child,
around the call only: interpreter start-up and imports are not timed.

The input file: real records from the RIS exports in ../shared/datasets and
references/mason2014_reference_list.ris, cycled until --records are written.
Each copy keeps its record exactly (titles, abstracts, authors stay real) except
for its `ID` tag, which is replaced by a unique `bench000001`, ... Why not also
alter titles: every field stays a real export's field, so the parsers see real
text; deduplication is not measured here, so identical titles do not matter.
Text outside TY..ER (Cochrane "Record #3 of 18" headers, Ovid "6." numbers) is
dropped and line endings become \\n, so the file is one clean UTF-8 RIS file that
every tool should read to exactly --records records.

Outputs: a markdown table on stdout and benchmarks/out/import_bench.json.
The machine has 2 noisy cores: compare the ratios, not the absolute seconds.
"""

from __future__ import annotations

# Only the standard library at module level: the ASReview child runs this file in
# the peer venv, where neither `review` nor tqdm may be installed.
import argparse
import datetime as dt
import gc
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DATASETS = Path(os.environ.get("REVIEW_DATASETS_DIR") or REPO.parent / "shared" / "datasets")
OUT = HERE / "out"

# The RIS exports whose records are cycled. Globs relative to DATASETS.
SOURCE_GLOBS = (
    "fixtures-multidb-exports/**/*.ris",
    "fixtures-citation-file-formatting/RIS/*.ris",
)
EXTRA_SOURCES = (REPO / "references" / "mason2014_reference_list.ris",)

ASREVIEW_PEER = ("asreview", ["asreview>=3,<4"])
CHILD_TIMEOUT = 3 * 3600  # seconds; a 100k-record run takes minutes, not hours

TY_LINE = re.compile(r"^TY  - ")
ER_LINE = re.compile(r"^ER  -\s*$")
ID_LINE = re.compile(r"^ID  - ")


# --- building the input file --------------------------------------------------------


def source_files() -> list[Path]:
    files: list[Path] = []
    if DATASETS.is_dir():
        for pattern in SOURCE_GLOBS:
            files.extend(sorted(DATASETS.glob(pattern)))
    else:
        print(f"note: {DATASETS} not found; using only the records in references/", file=sys.stderr)
    files.extend(p for p in EXTRA_SOURCES if p.exists())
    return files


def split_records(path: Path) -> list[list[str]]:
    """The records of one RIS file, each as its lines from TY to ER, without its ID line.

    utf-8-sig drops the BOM that Lens, WoS, Scopus and Citavi write; splitlines()
    drops \\r\\n and \\r. A file without any ER line is not RIS (the "_baseline_pubmed.ris"
    fixture is MEDLINE/nbib text) and yields nothing.
    """
    text = path.read_text(encoding="utf-8-sig")
    records: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if current is None:
            if TY_LINE.match(line):
                current = [line]
            continue  # text between records: export headers, numbering
        if ER_LINE.match(line):
            current.append("ER  - ")
            records.append(current)
            current = None
        elif not ID_LINE.match(line):
            current.append(line)
    return records


def build_file(n_records: int, target: Path) -> dict:
    """Write `n_records` records to `target` by cycling through the real ones."""
    from tqdm import tqdm

    pool: list[list[str]] = []
    per_file: dict[str, int] = {}
    for path in source_files():
        records = split_records(path)
        if not records:
            print(f"note: {path.name}: no TY..ER records (not RIS), left out", file=sys.stderr)
            continue
        per_file[str(path)] = len(records)
        pool.extend(records)
    if not pool:
        sys.exit("error: no RIS records found to build the benchmark file from")

    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="\n") as out:
        for i in tqdm(range(n_records), desc=f"write {target.name}", unit="rec", mininterval=1):
            lines = pool[i % len(pool)]
            # The new ID goes right after TY, where most exporters put it.
            out.write(lines[0] + "\n")
            out.write(f"ID  - bench{i + 1:06d}\n")
            out.write("\n".join(lines[1:]))
            out.write("\n\n")
    os.replace(partial, target)
    return {
        "path": str(target),
        "records": n_records,
        "bytes": target.stat().st_size,
        "distinct_source_records": len(pool),
        "source_files": per_file,
    }


# --- the children: one measurement each, run in a fresh interpreter ---------------------


def _rss_mb() -> float:
    # ru_maxrss is KiB on Linux (bytes on macOS).
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def _best_of(repeat: int, run) -> tuple[list[float], int, dict]:
    """Call run() `repeat` times; run returns (seconds, records, extra)."""
    times, records, extra = [], None, {}
    # Peak so far = the interpreter with the tool imported: the floor under peak_rss_mb.
    rss_after_imports = _rss_mb()
    for _ in range(repeat):
        gc.collect()  # garbage of the previous round must not be collected on our clock
        seconds, records, extra = run()
        times.append(seconds)
    return times, records, {**extra, "rss_after_imports_mb": round(rss_after_imports, 1)}


def child_ours_parse(path: Path, repeat: int, workdir: Path):
    import review.io

    def run():
        start = time.perf_counter()
        parsed = review.io.read_file(path)
        seconds = time.perf_counter() - start
        return seconds, len(parsed.references), {"format": parsed.format, "encoding": parsed.encoding}

    return _best_of(repeat, run)


def child_ours_import(path: Path, repeat: int, workdir: Path):
    from review.project import Review

    def run():
        folder = workdir / "review"
        shutil.rmtree(folder, ignore_errors=True)
        start = time.perf_counter()
        review = Review.init(folder, title="import benchmark")
        result = review.import_file(path, source="bench", progress=True)
        review.close()  # checkpoints the WAL into review.db: part of a finished import
        seconds = time.perf_counter() - start
        with Review.open(folder) as again:  # untimed: count what was really stored
            stored = again.status().records
        db = folder / "review.db"
        extra = {
            "import_result_records": result.records,
            "db_bytes": db.stat().st_size + sum(p.stat().st_size for p in folder.glob("review.db-*")),
            "kept_original_bytes": sum(p.stat().st_size for p in (folder / "imports").iterdir()),
        }
        shutil.rmtree(folder, ignore_errors=True)
        return seconds, stored, extra

    return _best_of(repeat, run)


def child_rispy(path: Path, repeat: int, workdir: Path):
    import rispy

    def run():
        start = time.perf_counter()
        entries = rispy.load(path, encoding="utf-8")
        seconds = time.perf_counter() - start
        return seconds, len(entries), {}

    return _best_of(repeat, run)


def child_asreview_read(path: Path, repeat: int, workdir: Path):
    # What ASReview does when a RIS file is added to a project: pick the reader by
    # extension, rispy.load(skip_unknown_tags=True), a DataFrame, cleaning, Record objects.
    from asreview.data.loader import load_records

    def run():
        start = time.perf_counter()
        records = load_records(path, dataset_id="bench")
        seconds = time.perf_counter() - start
        return seconds, len(records), {}

    return _best_of(repeat, run)


def child_asreview_load_dataset(path: Path, repeat: int, workdir: Path):
    # The nearest thing ASReview has to our full import: records into (in-memory)
    # SQLite plus its exact-duplicate grouping.
    import asreview

    def run():
        start = time.perf_counter()
        db = asreview.load_dataset(path)
        seconds = time.perf_counter() - start
        stored = len(db.input)  # untimed: rows really in its records table
        db.close()
        return seconds, stored, {"database": "in-memory SQLite"}

    return _best_of(repeat, run)


CHILDREN = {
    "ours-parse": child_ours_parse,
    "ours-import": child_ours_import,
    "rispy": child_rispy,
    "asreview-read": child_asreview_read,
    "asreview-load_dataset": child_asreview_load_dataset,
}

VERSIONS = {  # distributions whose versions each child reports
    "ours-parse": ["review"],
    "ours-import": ["review", "SQLAlchemy"],
    "rispy": ["rispy"],
    "asreview-read": ["asreview", "rispy", "pandas"],
    "asreview-load_dataset": ["asreview", "rispy", "pandas", "SQLAlchemy"],
}


def run_child(kind: str, path: Path, repeat: int, workdir: Path) -> None:
    """Entry point of a child: measure, then print one JSON line (the last line of stdout)."""
    from importlib.metadata import PackageNotFoundError, version

    times, records, extra = CHILDREN[kind](path, repeat, workdir)
    versions = {}
    for dist in VERSIONS[kind]:
        try:
            versions[dist] = version(dist)
        except PackageNotFoundError:
            versions[dist] = None
    print(json.dumps({
        "kind": kind, "seconds": min(times), "all_seconds": times, "records": records,
        "peak_rss_mb": round(_rss_mb(), 1),
        "python": platform.python_version(), "versions": versions, **extra,
    }))


# --- the parent: build the file, run the children, report ---------------------------------


ROWS = [  # kind, tool label, what is timed, which python runs it
    ("ours-parse", "review (ours)", "parse: `review.io.read_file`", "main"),
    ("ours-import", "review (ours)", "full import: `Review.init` + `import_file` + `close` → SQLite", "main"),
    ("rispy", "rispy", "parse: `rispy.load`", "main"),
    ("asreview-read", "ASReview", "reader: `asreview.data.loader.load_records` (rispy + pandas + Record objects)", "asreview"),
    ("asreview-load_dataset", "ASReview", "`asreview.load_dataset` (reader + in-memory SQLite + exact-dup groups)", "asreview"),
]


def measure(kind: str, python: Path, path: Path, repeat: int, workdir: Path) -> dict:
    workdir.mkdir(parents=True, exist_ok=True)
    command = [str(python), str(Path(__file__).resolve()), "--child", kind, "--file", str(path),
               "--repeat", str(repeat), "--workdir", str(workdir)]
    # stderr is inherited so that progress bars and tracebacks show up as they happen.
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True, timeout=CHILD_TIMEOUT, cwd=REPO)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"child {kind} exited with {done.returncode}")
    return json.loads(lines[-1])


def machine_info() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpus": os.cpu_count(), "cpu": cpu, "platform": platform.platform(),
            "python": platform.python_version(), "date": dt.date.today().isoformat()}


def markdown_table(results: list[dict], expected: int) -> str:
    rispy = next((r for r in results if r["kind"] == "rispy" and r.get("seconds")), None)
    lines = [
        "| tool | what is timed | records | seconds | records/s | speed vs rispy | records parsed | peak RSS (MB) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.get("seconds") is None:
            lines.append(f"| {r['tool']} | {r['what']} | {expected:,} | – | – | – | not run: {r['error']} | – |")
            continue
        rate = expected / r["seconds"]
        ratio = f"{rate / (expected / rispy['seconds']):.2f}×" if rispy else "–"
        parsed = f"{r['records']:,}" if isinstance(r["records"], int) else str(r["records"])
        lines.append(
            f"| {r['tool']} | {r['what']} | {expected:,} | {r['seconds']:.2f} | {rate:,.0f} | {ratio} "
            f"| {parsed} | {r['peak_rss_mb']:,.0f} |"
        )
    return "\n".join(lines)


def main_parent(args) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # Written afresh every run (a few seconds), so a file can never be stale.
    path = OUT / f"import_bench_{args.records}.ris"
    built = build_file(args.records, path)
    print(f"wrote {path}: {built['records']:,} records ({built['bytes'] / 2**20:.0f} MiB) "
          f"from {built['distinct_source_records']:,} real records in {len(built['source_files'])} files",
          file=sys.stderr)

    pythons: dict[str, Path | None] = {"main": Path(sys.executable)}
    peer_problem = None
    if args.no_peers:
        pythons["asreview"], peer_problem = None, "skipped (--no-peers)"
    else:
        from peers import PeerUnavailable, peer_python
        try:
            pythons["asreview"] = peer_python(*ASREVIEW_PEER, install=not args.no_install)
        except PeerUnavailable as exc:
            pythons["asreview"], peer_problem = None, str(exc)
            print(f"ASReview peer not available, its rows are skipped: {exc}", file=sys.stderr)

    results = []
    for kind, tool, what, venv in ROWS:
        repeat = args.import_repeat if kind in ("ours-import", "asreview-load_dataset") else args.repeat
        row = {"kind": kind, "tool": tool, "what": what, "repeat": repeat, "seconds": None}
        if kind in args.skip:
            row["error"] = "skipped (--skip)"
        elif pythons[venv] is None:
            row["error"] = peer_problem
        else:
            print(f"{kind}: best of {repeat} ...", file=sys.stderr, flush=True)
            try:
                row.update(measure(kind, pythons[venv], path, repeat, OUT / "tmp"))
            except (RuntimeError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                row["error"] = str(exc)
                print(f"{kind}: could not be measured, continuing: {exc}", file=sys.stderr)
        if row["seconds"] is not None:
            row["records_per_second"] = args.records / row["seconds"]
            print(f"{kind}: {row['seconds']:.2f} s, {row['records']} records", file=sys.stderr, flush=True)
        results.append(row)
    shutil.rmtree(OUT / "tmp", ignore_errors=True)

    print()
    print(f"Import of {args.records:,} RIS records ({built['bytes'] / 2**20:.0f} MiB), "
          f"{machine_info()['cpus']} CPUs, {dt.date.today().isoformat()}")
    print()
    print(markdown_table(results, args.records))
    print()
    for r in results:
        if r["seconds"] is not None and r["records"] != args.records:
            print(f"WARNING: {r['kind']} parsed {r['records']} records, the file holds {args.records}")
    ours = next((r for r in results if r["kind"] == "ours-import" and r["seconds"] is not None), None)
    if ours:
        print(f"full import: review.db {ours['db_bytes'] / 2**20:.0f} MiB "
              f"(+ {ours['kept_original_bytes'] / 2**20:.0f} MiB original kept in imports/), "
              f"peak RSS {ours['peak_rss_mb']:.0f} MB (of which interpreter + imports: {ours['rss_after_imports_mb']:.0f} MB)")

    report = {"machine": machine_info(), "file": built, "records": args.records, "results": results}
    (OUT / "import_bench.json").write_text(json.dumps(report, indent=2))
    print(f"JSON: {OUT / 'import_bench.json'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=100_000, help="records in the generated file")
    parser.add_argument("--repeat", type=int, default=3, help="parser runs; the best is kept")
    parser.add_argument("--import-repeat", type=int, default=1, help="full-import runs; the best is kept")
    parser.add_argument("--no-peers", action="store_true", help="do not run ASReview")
    parser.add_argument("--no-install", action="store_true", help="use the ASReview venv only if it exists")
    parser.add_argument("--skip", nargs="*", default=[], choices=list(CHILDREN), help="measurements to leave out")
    # Internal: run one measurement (used by the parent through a subprocess).
    parser.add_argument("--child", choices=list(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(args.child, args.file, args.repeat, args.workdir)
    else:
        main_parent(args)


if __name__ == "__main__":
    main()
