"""Click to next record, in a real browser: the screening page (`review screen`) in headless Chromium.

For the worked example (183 records, Mason et al. 2014, no abstracts) and for a review of
--records records (default 50,000; real titles and abstracts from ../shared/datasets/screening-*,
cycled with new IDs), opens the screening page served by review.widgets.serve (the same
widget objects and ESM a notebook shows) and makes --decisions decisions by clicking
Include / Exclude, timing each from the click to the next record painted (a
MutationObserver on the record id, then one animation frame). Relevance order ("model",
the default) with its background refits. Prints median, p95 and worst, and, from the same
run, the Python side alone (the message handled: decision written, next record's view
built) so the browser's and HTTP's share can be read off. Then the same clicks on the
notebook widget in real JupyterLab (started as tests/ui/conftest.py starts it; messages go
through the kernel's comm channel instead of HTTP); --no-lab skips that.

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


class Lab:
    """A JupyterLab server in temp folders, started as tests/ui/conftest.py starts it (and stopped)."""

    def __init__(self, base: Path):
        import json
        import os
        import subprocess
        import urllib.request

        sys.path.insert(0, str(REPO / "tests" / "ui"))
        from conftest import OVERRIDES, JupyterServer, _free_port

        self.root = base / "root"
        dirs = {name: base / name.lower() for name in
                ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}
        settings = base / "lab" / "settings"
        for path in (self.root, base / "home", settings, *dirs.values()):
            path.mkdir(parents=True, exist_ok=True)
        (settings / "overrides.json").write_text(json.dumps(OVERRIDES))
        env = {**os.environ, **{k: str(v) for k, v in dirs.items()}, "HOME": str(base / "home")}
        port = _free_port()
        self.log = base / "server.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser", "--ServerApp.ip=127.0.0.1",
                 f"--ServerApp.port={port}", f"--ServerApp.root_dir={self.root}", "--IdentityProvider.token=",
                 "--ServerApp.password=", "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
                 "--LabApp.expose_app_in_browser=True", f"--LabApp.app_settings_dir={settings}"],
                cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.server = JupyterServer(url=f"http://127.0.0.1:{port}", root=self.root, log=self.log)
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{self.server.url}/api/status", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    raise RuntimeError(f"jupyter lab did not start; see {self.log}")
                time.sleep(0.25)

    def stop(self) -> None:
        from conftest import _stop

        _stop(self.proc)


def measure_lab(lab: Lab, review_path: Path, label: str, decisions: int, browser) -> dict:
    """The same clicks in the notebook widget inside JupyterLab (messages go through the kernel)."""
    import nbformat
    from conftest import run_notebook_in_lab

    name = f"bench_{abs(hash(label))}.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(
        "from review.project import Review\nfrom review.widgets.screening import ScreeningWidget\n"
        f"review = Review.open({str(review_path)!r})\n"
        "ScreeningWidget(review, review.protocol.stages[0].name, review.protocol.reviewers[1].id)")]
    nbformat.write(nb, lab.root / name)
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        run_notebook_in_lab(page, lab.server, name)
        page.wait_for_function("() => { const r = document.querySelector('.rv-screen');"
                               " return r && r.dataset.record; }", timeout=60_000)
        latencies = []
        for i in range(decisions):
            selector = "button.rv-include" if i % 4 == 0 else "button.rv-exclude"
            latencies.append(page.evaluate(_CLICK_TO_NEXT_JS, selector))
    finally:
        page.close()
    return {"review": f"{label}, in JupyterLab", "records": None, "decisions": decisions, "open_widget_s": None,
            "median_ms": round(statistics.median(latencies), 1), "p95_ms": round(percentile(latencies, 0.95), 1),
            "max_ms": round(max(latencies), 1), "python_median_ms": None, "python_p95_ms": None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--decisions", type=int, default=50)
    parser.add_argument("--no-lab", action="store_true", help="only the standalone page, not JupyterLab")
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
            lab = None if args.no_lab else Lab(Path(tmp) / "lab")
            example = build_example(Path(tmp) / "mason2014", quiet=True, through="dedupe")
            results.append(measure(example, "worked example (Mason 2014)", args.decisions, browser))
            example.close()
            if lab:
                results.append(measure_lab(lab, Path(tmp) / "mason2014", "worked example (Mason 2014)",
                                           args.decisions, browser))
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
                if lab:
                    results.append(measure_lab(lab, Path(tmp) / "big", f"{args.records:,} records",
                                               args.decisions, browser))
        finally:
            browser.close()
            if lab:
                lab.stop()

    print("\nClick to next record painted, screening page in headless Chromium (relevance order):\n")
    print("| review | records | decisions | open (s) | median (ms) | p95 (ms) | max (ms) | Python side median / p95 (ms) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        records = "" if r["records"] is None else f"{r['records']:,}"
        python = "" if r["python_median_ms"] is None else f"{r['python_median_ms']} / {r['python_p95_ms']}"
        print(f"| {r['review']} | {records} | {r['decisions']} | {r['open_widget_s'] or ''} | {r['median_ms']} | "
              f"{r['p95_ms']} | {r['max_ms']} | {python} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "screening_page_bench.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
