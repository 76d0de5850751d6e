"""Click to next record, in a real browser: the screening page (`review screen`) in headless Chromium.

For the worked example (183 records, Mason et al. 2014, no abstracts) and for a review of
--records records (default 50,000; real titles and abstracts from ../shared/datasets/screening-*,
cycled with new IDs), opens the screening page served by review.widgets.serve (the same
widget objects and ESM a notebook shows) and makes --decisions decisions by clicking
Include / Exclude, timing each from the click to the next record painted (a
MutationObserver on the record id, then one animation frame). Relevance order ("model",
the default) with its background refits. Prints median, p95 and worst, and, from the same
run, the Python side alone (the message handled: decision written, next record's view
built) so the browser's and HTTP's share can be read off.

No peer screening tool is driven here: ASReview LAB and Rayyan are web apps whose
click-to-next time would need their own servers and accounts; see README_screening.md.

    .venv/bin/python benchmarks/screening_page_bench.py [--records 50000] [--decisions 50]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "benchmarks"))
OUT = REPO / "benchmarks" / "out"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage"]

_CLICK_TO_NEXT_JS = """async (selector) => {
  const root = document.querySelector('.rv-screen');
  const before = root.dataset.record;
  const changed = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (root.dataset.record !== before) { observer.disconnect(); resolve(); }
    });
    observer.observe(root, {attributes: true});
  });
  const started = performance.now();
  document.querySelector(selector).click();
  await changed;
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return performance.now() - started;
}"""


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(review, label: str, decisions: int, browser) -> dict:
    from review.widgets.screening import ScreeningWidget
    from review.widgets.serve import WidgetPage

    started = time.perf_counter()
    widget = ScreeningWidget(review, review.protocol.stages[0].name, review.protocol.reviewers[0].id)
    opened = time.perf_counter() - started
    handled = []
    handle = widget.handle

    def timed_handle(content):  # the Python side of each click, measured in the same run
        t = time.perf_counter()
        handle(content)
        if content.get("action") == "decide":
            handled.append((time.perf_counter() - t) * 1000)

    widget.handle = timed_handle
    page_server = WidgetPage(widget, f"benchmark: {label}")
    page_server.start()
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(page_server.url)
        page.wait_for_function("() => window.__reviewPageReady && document.querySelector('.rv-screen')"
                               ".dataset.record", timeout=60_000)
        latencies = []
        for i in range(decisions):
            selector = "button.rv-include" if i % 4 == 0 else "button.rv-exclude"
            latencies.append(page.evaluate(_CLICK_TO_NEXT_JS, selector))
    finally:
        page.close()
        page_server.stop()
    return {"review": label, "records": len(widget.session.pool), "decisions": decisions,
            "open_widget_s": round(opened, 2),
            "median_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "max_ms": round(max(latencies), 1),
            "python_median_ms": round(statistics.median(handled), 1),
            "python_p95_ms": round(percentile(handled, 0.95), 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--decisions", type=int, default=50)
    args = parser.parse_args()

    from playwright.sync_api import sync_playwright

    from review.example import build_example
    from review.project import Review
    from review.protocol import default_protocol
    from screening_widget_bench import DATASETS, real_records, write_ris

    results = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            example = build_example(Path(tmp) / "mason2014", quiet=True, through="dedupe")
            results.append(measure(example, "worked example (Mason 2014)", args.decisions, browser))
            example.close()
            if not DATASETS.exists():
                print(f"skipping the {args.records:,}-record review: needs {DATASETS}", file=sys.stderr)
            else:
                ris = Path(tmp) / "records.ris"
                write_ris(ris, args.records, real_records())
                big = Review.init(Path(tmp) / "big", protocol=default_protocol("Page benchmark"))
                started = time.perf_counter()
                big.import_file(ris, source="bench", progress=True)
                print(f"imported {args.records:,} records in {time.perf_counter() - started:.1f} s", file=sys.stderr)
                results.append(measure(big, f"{args.records:,} records", args.decisions, browser))
                big.close()
        finally:
            browser.close()

    print("\nClick to next record painted, screening page in headless Chromium (relevance order):\n")
    print("| review | records | decisions | open (s) | median (ms) | p95 (ms) | max (ms) | Python side median / p95 (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['review']} | {r['records']:,} | {r['decisions']} | {r['open_widget_s']} | {r['median_ms']} | "
              f"{r['p95_ms']} | {r['max_ms']} | {r['python_median_ms']} / {r['python_p95_ms']} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "screening_page_bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
