"""Reading a large review: the read model (this code) against replaying the log on every read (an older commit).

    .venv/bin/python benchmarks/read_model_bench.py                       # 50,000 records, ~100,000 events
    .venv/bin/python benchmarks/read_model_bench.py --records 5000        # a quick look
    .venv/bin/python benchmarks/read_model_bench.py --before /tmp/wt-before

The "before" code is a checkout of the commit before the read model, e.g.

    git worktree add /tmp/wt-before 28c7d9f

A review is built once with this code: --records generated records imported from
one CSV file, then two reviewers' title/abstract decisions on every record
(imported with `screening.import_decisions`, the same planner as `decide`), so
the log holds 2 x --records + 1 events. Each side then runs on its own copy of
the folder, in a child process whose PYTHONPATH puts that side's code first:

    cli status     `python -m review.cli screening status DIR`, wall time (start-up included)
    records 1, 2   Review.records_frame(), first and second call in one process
    status 1, 2    screening.stage_status(review), first and second call
    decide 1, 2    screening.decide(...) at full text on two records included at title/abstract

For this code the child also reports how many events the read model has read
after each step (`events read`): the second read and a decide add only the new
events, not the whole log again. Deduplication is not run (every record is its
own cluster), so clusters cost one pass over the records on either side.

Outputs: a table on stdout and benchmarks/out/read_model_bench.json. The machine
has 2 noisy cores shared with others: compare the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
STEPS = ("cli status", "records 1", "records 2", "status 1", "status 2", "decide 1", "decide 2")

PROTOCOL = """\
title: Read model benchmark
exclusion_reasons:
  - {code: population, label: Wrong population}
stages:
  - {name: title_abstract, reviewers: [am, mg], decisions_required: 2}
  - {name: full_text, reviewers: [am, mg], decisions_required: 2}
reviewers:
  - {id: am}
  - {id: mg}
"""

WORDS = ("integrated care health social services outcomes evaluation hospital admissions older people costs "
         "community nursing budget pooling scheme England Scotland Wales trial cohort review policy").split()


# --- building the review (this code) ----------------------------------------------------------


def build(folder: Path, n_records: int, seed: int = 7) -> dict:
    from tqdm.auto import tqdm

    from review import screening
    from review.project import Review

    rng = random.Random(seed)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / "protocol.yaml").write_text(PROTOCOL, encoding="utf-8")
    records_csv = folder / "records.csv"
    with records_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "authors", "year", "journal", "volume", "pages", "doi", "abstract"])
        for i in tqdm(range(1, n_records + 1), desc="records", unit="rec"):
            title = " ".join(rng.choice(WORDS) for _ in range(9)) + f" {i}"
            abstract = " ".join(rng.choice(WORDS) for _ in range(120))
            writer.writerow([title, f"Author{i % 997}, A; Other{i % 89}, B", 1990 + i % 35, "Journal of Care",
                             str(1 + i % 40), f"{i % 300}-{i % 300 + 9}", f"10.1000/bench.{i}", abstract])
    started = time.perf_counter()
    review = Review.init(folder / "review", protocol=folder / "protocol.yaml")
    review.import_file(records_csv, source="Generated", format="csv", progress=True)
    imported = time.perf_counter() - started

    decisions_csv = folder / "decisions.csv"
    included = []
    with decisions_csv.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["record_id", "stage", "reviewer", "decision", "reasons"])
        for record_id in range(1, n_records + 1):
            include = record_id % 10 == 0
            if include:
                included.append(record_id)
            for reviewer in ("am", "mg"):
                writer.writerow([record_id, "title_abstract", reviewer, "include" if include else "exclude",
                                 "" if include else "population"])
    started = time.perf_counter()
    count = screening.import_decisions(review, decisions_csv, who="bench")
    bulk = time.perf_counter() - started
    review.close()
    return {"records": n_records, "decisions": count, "included": included[:2],
            "import_seconds": round(imported, 2), "bulk_decisions_seconds": round(bulk, 2)}


# --- one side, in its own process ------------------------------------------------------------


def child(folder: Path, first: int, second: int) -> None:
    from review import screening
    from review.project import Review

    result = {"code": str(Path(screening.__file__).resolve().parents[1]), "seconds": {}, "events_read": {}}
    env = dict(os.environ)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "review.cli", "screening", "status", str(folder)],
                          capture_output=True, text=True, env=env)
    result["seconds"]["cli status"] = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"review screening status failed: {done.stderr}")
    result["cli_output"] = done.stdout

    review = Review.open(folder)

    def timed(step, call):
        started = time.perf_counter()
        value = call()
        result["seconds"][step] = time.perf_counter() - started
        if hasattr(review, "read_model"):  # this code: how much of the log has been read so far
            model = review._read_model
            result["events_read"][step] = None if model is None else model.events_read
        return value

    timed("records 1", review.records_frame)
    frame = timed("records 2", review.records_frame)
    result["records"] = len(frame)
    timed("status 1", lambda: screening.stage_status(review))
    status = timed("status 2", lambda: screening.stage_status(review))
    result["screened"] = status[0].screened
    timed("decide 1", lambda: screening.decide(review, "full_text", "am", first, "include"))
    timed("decide 2", lambda: screening.decide(review, "full_text", "am", second, "include"))
    if hasattr(review, "read_model"):
        model = review.read_model()
        result["events_read"]["after decide 2 (next read)"] = model.events_read
        result["event_queries"] = model.queries
    review.close()
    print(json.dumps(result))


def run_side(name: str, code: Path, template: Path, work: Path, included: list[int]) -> dict:
    folder = work / name
    if folder.exists():
        shutil.rmtree(folder)
    shutil.copytree(template, folder)
    env = dict(os.environ, PYTHONPATH=str(code))
    done = subprocess.run([sys.executable, __file__, "--child", str(folder), *map(str, included)],
                          capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["code"]) != code.resolve():
        raise SystemExit(f"{name}: ran the code in {result['code']}, not {code}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--before", type=Path, default=Path("/tmp/wt-before"),
                        help="a checkout of the code before the read model (git worktree add /tmp/wt-before 28c7d9f)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/read_model_bench"))
    parser.add_argument("--reuse", action="store_true", help="reuse the review an earlier run built in --work")
    parser.add_argument("--child", nargs=3, metavar=("DIR", "FIRST", "SECOND"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]), int(args.child[2]))
        return
    if not (args.before / "review" / "screening.py").exists():
        raise SystemExit(f"{args.before}: no older checkout here; git worktree add {args.before} 28c7d9f")

    sys.path.insert(0, str(REPO))
    template = args.work / "template" / "review"
    built_file = args.work / "template" / "built.json"
    if args.reuse and built_file.exists() and json.loads(built_file.read_text())["records"] == args.records:
        built = json.loads(built_file.read_text())
    else:
        built = build(args.work / "template", args.records)
        built_file.write_text(json.dumps(built))
    print(f"built: {built['records']:,} records, {built['decisions']:,} decisions imported in "
          f"{built['bulk_decisions_seconds']} s (records in {built['import_seconds']} s)")
    after = run_side("after", REPO, template, args.work, built["included"])
    before = run_side("before", args.before, template, args.work, built["included"])
    if before["cli_output"] != after["cli_output"]:
        print("warning: `review screening status` printed different text before and after")

    print(f"\n{'step':<12} {'before (s)':>11} {'after (s)':>10} {'before/after':>13} {'events read (after)':>20}")
    for step in STEPS:
        b, a = before["seconds"][step], after["seconds"][step]
        read = after["events_read"].get(step, "")
        print(f"{step:<12} {b:>11.3f} {a:>10.3f} {b / a:>12.1f}x {read if read is not None else '-':>20}")
    print(f"after decide 2, the next read has read {after['events_read']['after decide 2 (next read)']:,} events "
          f"in {after['event_queries']} queries of the events table (the log holds "
          f"{built['decisions'] + 3:,} events)")
    OUT.mkdir(exist_ok=True)
    (OUT / "read_model_bench.json").write_text(json.dumps({"built": built, "before": before, "after": after},
                                                          indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
