"""How long the screening widget takes to show the next record, with 50,000 records in the review.

Builds a review of N records (real titles and abstracts from ../shared/datasets/
screening-*, cycled with new IDs), opens the screening widget for one reviewer
and makes decisions as the page's messages do, timing each from the message to the
next record's view ready (the decision is written to SQLite in between; the browser's
share is measured by screening_page_bench.py). Reports the
median, 95th percentile and worst latency per order (import, random, model), plus
the time to open the widget. The target is under 100 ms per record.

    .venv/bin/python benchmarks/screening_widget_bench.py [--records 50000] [--clicks 200]
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"
OUT = REPO / "benchmarks" / "out"


def real_records() -> list[tuple[str, str]]:
    """(title, abstract) of every record in the labelled screening sets."""
    rows = []
    for path in sorted(DATASETS.glob("screening-*/**/*.csv")):
        with open(path, encoding="utf-8", errors="replace", newline="") as f:
            reader = csv.DictReader(f)
            if not reader.fieldnames or "title" not in reader.fieldnames:
                continue
            for row in reader:
                if row.get("title"):
                    rows.append((row["title"], row.get("abstract") or ""))
    return rows


def write_ris(path: Path, n: int, source: list[tuple[str, str]]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            title, abstract = source[i % len(source)]
            title = " ".join(title.split())
            abstract = " ".join(abstract.split())
            f.write(f"TY  - JOUR\nTI  - {title}\nAB  - {abstract}\nAU  - Author{i}, A\nPY  - 2010\n"
                    f"ID  - bench{i:06d}\nER  - \n\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--clicks", type=int, default=200)
    parser.add_argument("--orders", nargs="+", default=["import", "random", "model"])
    args = parser.parse_args()
    if not DATASETS.exists():
        print(f"needs {DATASETS} (the project's ../shared folder)", file=sys.stderr)
        return 1

    from review.project import Review
    from review.protocol import default_protocol
    from review.widgets.screening import ScreeningWidget

    source = real_records()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        ris = Path(tmp) / "records.ris"
        write_ris(ris, args.records, source)
        protocol = default_protocol("Widget benchmark")
        review = Review.init(Path(tmp) / "review", protocol=protocol)
        started = time.perf_counter()
        review.import_file(ris, source="bench", progress=True)
        print(f"imported {args.records:,} records in {time.perf_counter() - started:.1f} s")
        for order in args.orders:
            reviewer = protocol.reviewers[len(results) % 2].id
            started = time.perf_counter()
            widget = ScreeningWidget(review, protocol.stages[0].name, reviewer, order=order, seed=1)
            opened = time.perf_counter() - started
            if widget.session._next_rank is not None:  # the first model builds in the background
                widget.session.wait_for_model()
                model_ready = time.perf_counter() - started
            else:
                model_ready = None
            latencies = []
            decisions = ("include", "exclude", "exclude", "exclude")
            for i in tqdm(range(args.clicks), desc=f"clicks ({order})", leave=False):
                started = time.perf_counter()
                # What the page's click sends: the decision and the record it was made on.
                widget.handle({"action": "decide", "decision": decisions[i % len(decisions)],
                               "record": widget.view["record"]})
                latencies.append((time.perf_counter() - started) * 1000)
            latencies.sort()
            results.append({
                "order": order, "records": args.records, "clicks": args.clicks, "open_s": round(opened, 2),
                "model_ready_s": None if model_ready is None else round(model_ready, 1),
                "median_ms": round(statistics.median(latencies), 1),
                "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))], 1),
                "max_ms": round(latencies[-1], 1),
            })
            # A fresh reviewer per order keeps the queues comparable.
        review.close()

    print("\n| order | records | clicks | open widget (s) | first model ready (s) | median (ms) | p95 (ms) | max (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['order']} | {r['records']:,} | {r['clicks']} | {r['open_s']} | {r['model_ready_s'] or '–'} | "
              f"{r['median_ms']} | {r['p95_ms']} | {r['max_ms']} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "screening_widget_bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
