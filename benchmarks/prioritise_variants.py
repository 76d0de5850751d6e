"""Which relevance model finds inclusions earliest? Variants of review.prioritise, one run each.

Replays screening exactly as screening_sim.py does (same datasets, same 1 + 1 prior
records per seed, refit after every decision until 100 labels, then every 10) for each
variant below, and prints mean WSS@95 per variant. ASReview is not run here: its
figures for the same seeds come from screening_sim.py (cached in benchmarks/.cache).

    .venv/bin/python benchmarks/prioritise_variants.py --variants base pseudo --seeds 42
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from review import prioritise
from review.prioritise import Prioritiser
from screening_sim import find_datasets, load, prior_records, select, wss

HERE = Path(__file__).resolve().parent


class Variant(Prioritiser):
    """Prioritiser with switchable pieces (only what the variants below change)."""

    pseudo_negatives = 0      # random unlabelled records counted as exclusions at each refit
    pseudo_until = 10**9      # ... while fewer than this many records are labelled
    char_ngrams = False       # add character 3-5-grams (within words) to the features
    ensemble_nb = False       # average ranks with complement naive Bayes
    ensemble_svm = False      # average ranks with a linear SVM (ASReview's default classifier)
    C = 1.0
    embedding = 0.0           # weight of wordllama's static embedding (256 dense columns) beside TF-IDF
    title_twice = False       # the title counts twice in the text (titles say most in fewest words)

    def __init__(self, texts, method="model", seed=0):
        super().__init__(texts, method, seed)
        if self.char_ngrams and self._X is not None:
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2,
                                    dtype=np.float32).fit_transform([prioritise._clean_text(t) for t in texts])
            # Half weight each, so the rows stay unit length.
            self._X = sparse.hstack([self._X * np.float32(0.5 ** 0.5), chars * np.float32(0.5 ** 0.5)]).tocsr()

        if self.embedding and self._X is not None:
            import wordllama
            from wordllama import WordLlama
            # The package ships its weights and tokenizer, but looks for the tokenizer in the
            # wrong folder unless cache_dir points at the package itself.
            model = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
            vectors = model.embed([prioritise._clean_text(t) for t in texts], norm=True).astype(np.float32)
            w = np.float32(self.embedding)
            self._X = sparse.hstack([self._X * np.float32((1 - w ** 2) ** 0.5),
                                     sparse.csr_matrix(vectors * w)]).tocsr()

    def _relevance(self, labels):
        key = tuple(sorted((int(p), bool(v)) for p, v in labels.items()))
        if key == self._last_key and self._last_scores is not None:
            return self._last_scores
        idx = np.fromiter((p for p, _ in key), dtype=np.intp, count=len(key))
        y = np.fromiter((v for _, v in key), dtype=np.int8, count=len(key))
        if self.pseudo_negatives and len(idx) < self.pseudo_until:
            # Cormack & Grossman's CAL: a fresh random draw of unlabelled records stands in
            # for exclusions, so a few labels do not make a model of noise.
            rng = np.random.default_rng(self.seed + len(idx))
            unlabelled = np.setdiff1d(np.arange(self.n), idx)
            extra = rng.choice(unlabelled, min(self.pseudo_negatives, len(unlabelled)), replace=False)
            idx = np.concatenate([idx, extra])
            y = np.concatenate([y, np.zeros(len(extra), dtype=np.int8)])
        model = LogisticRegression(C=self.C, class_weight="balanced", solver="liblinear", dual=True,
                                   max_iter=1000, random_state=self.seed)
        model.fit(self._X[idx], y)
        weights = model.coef_.ravel().astype(np.float32)
        relevance = expit(self._X @ weights + np.float32(model.intercept_[0])).astype(np.float64)
        others = []
        if self.ensemble_nb:
            nb = ComplementNB(alpha=1.0).fit(self._X[idx], y)
            others.append(nb.predict_log_proba(self._X)[:, 1])
        if self.ensemble_svm:
            svm = LinearSVC(C=0.11, class_weight="balanced", random_state=self.seed).fit(self._X[idx], y)
            others.append(self._X @ svm.coef_.ravel().astype(np.float32))
        if others:
            ranks = sum(np.argsort(np.argsort(score)) for score in [relevance, *others])
            relevance = ranks / ranks.max()
        self._last_key, self._last_scores = key, relevance
        return relevance


def make(name: str) -> type[Prioritiser]:
    settings = {
        "base": {},
        "pseudo100": {"pseudo_negatives": 100},
        "pseudo100_until200": {"pseudo_negatives": 100, "pseudo_until": 200},
        "pseudo50_until100": {"pseudo_negatives": 50, "pseudo_until": 100},
        "chars": {"char_ngrams": True},
        "nb": {"ensemble_nb": True},
        "C10": {"C": 10.0},
        "C0.3": {"C": 0.3},
        "chars_pseudo100": {"char_ngrams": True, "pseudo_negatives": 100},
        "svm": {"ensemble_svm": True},
        "emb0.5": {"embedding": 0.5},
        "emb0.7": {"embedding": 0.7},
        "title2": {"title_twice": True},
        "title2_svm": {"title_twice": True, "ensemble_svm": True},
        "svm_nb": {"ensemble_svm": True, "ensemble_nb": True},
        "chars_svm": {"char_ngrams": True, "ensemble_svm": True},
    }[name]
    return type(name, (Variant,), settings)


def simulate(cls, texts, labels, prior, seed, batch=10) -> list[int]:
    prioritiser = cls(texts, method="model", seed=seed)
    decisions = {p: bool(labels[p]) for p in prior}
    screened = list(prior)
    total, found = int(labels.sum()), int(sum(labels[p] for p in prior))
    while found < total and len(decisions) < len(labels):
        step = 1 if len(decisions) < 100 else batch
        for position in prioritiser.order(decisions)[:step]:
            decisions[position] = bool(labels[position])
            screened.append(position)
            found += int(labels[position])
    return screened


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["base"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "variants")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    datasets = find_datasets()
    if args.datasets:
        datasets = select(datasets, args.datasets)
    results = {}
    for name in args.variants:
        cls = make(name)
        started = time.perf_counter()
        per_dataset = {}
        for dataset in datasets:
            titles, abstracts, labels = load(dataset)
            texts = [f"{t} {t} {a}" if cls.title_twice else f"{t} {a}" for t, a in zip(titles, abstracts)]
            per_dataset[dataset.name] = statistics.mean(
                wss(simulate(cls, texts, labels, prior_records(labels, seed), seed), labels) for seed in args.seeds)
        results[name] = per_dataset
        print(f"{name}: mean WSS@95 {statistics.mean(per_dataset.values()):.4f} "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)
        (args.out / f"{name}_{'_'.join(map(str, args.seeds))}.json").write_text(json.dumps(per_dataset, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
