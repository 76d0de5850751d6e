"""Which relevance model finds inclusions earliest? Variants of review.prioritise, one run each.

Replays screening exactly as screening_sim.py does (same datasets, same 1 + 1 prior
records per seed, refit after every decision until 100 labels, then every 10) for each
variant, up to 95% recall (all WSS@95 needs), and prints mean WSS@95 per variant.
ASReview is not run here: its figures for the same seeds come from screening_sim.py
(cached in benchmarks/.cache).

"base" is the model before issue 14 (balanced class weights, sublinear term frequencies);
"weighted" issue 14's first step (inclusions weigh a tenth of the exclusions); "shipped" is
what review.prioritise does now (a tenth, and terms counted as present or not). A variant can
also be written as settings of the Variant class below (results in benchmarks/out/variants
from before presence was shipped were computed with term frequencies, i.e. binary=0):

    .venv/bin/python benchmarks/prioritise_variants.py --variants base shipped --seeds 42 43 44 --jobs 2
    .venv/bin/python benchmarks/prioritise_variants.py --variants "pos_ratio=0.25,C=3"

Dense variants: dense=minilm uses review.embeddings (all-MiniLM-L6-v2 in numpy, the widget's
sentence vectors; computed once, cached with screening_sim.py's in benchmarks/.cache);
dense=wordllama reads benchmarks/.cache/embeddings/wordllama_<group>_<review>.npy, made in a
peer venv; dense=lsa computes a truncated SVD of the TF-IDF matrix itself. (Before
review.embeddings existed, the MiniLM figures in README_screening.md were computed with
sentence-transformers in a peer venv; the vectors agree to a cosine of 0.99999.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB
from sklearn.svm import LinearSVC

from review import prioritise
from review.prioritise import Prioritiser
from screening_sim import RECALL_TARGET, find_datasets, load, prior_records, select, wss

HERE = Path(__file__).resolve().parent


class Variant(Prioritiser):
    """Prioritiser with switchable pieces (only what the variants below change)."""

    pseudo_negatives = 0      # random unlabelled records counted as exclusions at each refit
    pseudo_until = 10**9      # ... while fewer than this many records are labelled
    min_df = 2                # terms in fewer texts are dropped (the shipped model: 2)
    max_df = 1.0              # terms in more than this share of texts are dropped (ASReview: 0.95)
    stop_words = False        # drop scikit-learn's English stop words (before forming bigrams)
    use_idf = True            # False: sublinear term frequency only
    binary = True             # term present or not (shipped); False: sublinear frequency 1 + log(tf)
    max_n = 2                 # longest word n-gram
    log_scale = 1.0           # term frequency tf counts as 1 + log_scale * log(tf) (1: sublinear, 0: binary)
    char_ngrams = False       # add character 3-5-grams (within words) to the features
    ensemble_nb = False       # average ranks with complement naive Bayes
    ensemble_svm = False      # average ranks with a linear SVM (ASReview's default classifier)
    C = 1.0
    pos_ratio = 1.0           # inclusions weigh this many times the exclusions in all
    second_ratio = 0.0       # > 0: rank-average with a second model whose pos_ratio is this
    pos_power = 0.0           # ... times (inclusions / exclusions) ** pos_power (1: unweighted)
    pos_floor = 0.0           # > 0: one inclusion weighs at least this many times one exclusion
    svm_ratio = 0.0           # > 0: rank-average with ASReview's ELAS u4 SVM (its balancer ratio, e.g. 9.8)
    svm_C = 0.11
    ensemble_weight = 0.5     # weight of the second model's rank when svm_ratio is set
    authors = False           # each author's surname as a token of its own ("zzau" + surname)
    journal = False           # the journal's name as one token ("zzjn" + its letters)
    title_twice = False       # the title counts twice in the text (titles say most in fewest words)
    pseudo_while_included = 0 # pseudo-exclusions only while fewer inclusions than this are labelled
    dense = ""                # name of cached sentence embeddings (benchmarks/.cache/embeddings) to use
    dense_mode = "concat"     # "concat": columns beside TF-IDF; "rank": own model, ranks averaged
    dense_weight = 0.5        # concat: share of the row's length; rank: weight of the dense model's rank
    dense_C = 1.0
    lsa_components = 200
    bandit_ratio = 0.0        # > 0: a second LR (inclusions weigh this share) competes for each slot
    bandit_svm = False        # the competitor is ASReview's ELAS u4 SVM instead
    bandit_prior = 1.0        # Beta(prior, prior) on each model's share of inclusions
    vectors = None            # set per dataset by simulate() when `dense` is used

    def __init__(self, texts, method="model", seed=0):
        super().__init__(texts, method, seed)
        custom = (self.min_df, self.max_df, self.stop_words, self.use_idf, self.binary, self.max_n, self.log_scale) != (2, 1.0, False, True, True, 2, 1.0)
        if custom and self._X is not None:
            self._X = self._features_df([prioritise._clean_text(t) for t in texts])
        if self.char_ngrams and self._X is not None:
            chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, min_df=2,
                                    dtype=np.float32).fit_transform([prioritise._clean_text(t) for t in texts])
            # Half weight each, so the rows stay unit length.
            self._X = sparse.hstack([self._X * np.float32(0.5 ** 0.5), chars * np.float32(0.5 ** 0.5)]).tocsr()

    def _features_df(self, texts):
        """prioritise._features with other document-frequency limits."""
        hasher = HashingVectorizer(n_features=prioritise._N_FEATURES, token_pattern=prioritise._TOKEN_PATTERN,
                                   ngram_range=(1, self.max_n), alternate_sign=False, norm=None,
                                   stop_words="english" if self.stop_words else None, binary=self.binary)
        counts = hasher.transform(texts).tocsr()
        df = np.bincount(counts.indices, minlength=prioritise._N_FEATURES)
        keep = np.flatnonzero((df >= self.min_df) & (df <= self.max_df * len(texts)))
        counts = counts[:, keep]
        if self.log_scale != 1.0 and not self.binary:
            counts.data = 1.0 + self.log_scale * np.log(counts.data)
        tfidf = TfidfTransformer(sublinear_tf=not self.binary and self.log_scale == 1.0,
                                 use_idf=self.use_idf).fit_transform(counts)
        return tfidf.astype(np.float32).tocsr()

    def order(self, labels):
        """With a bandit: Thompson sampling between two rankings, slot by slot.

        A newly labelled record counts for the model that ranked it higher at the previous
        call (an inclusion as a success, an exclusion as a failure), so each model's credit
        comes from the records it put first, whoever picked them."""
        if not (self.bandit_ratio or self.bandit_svm) or not self.uses_model(labels):
            return super().order(labels)
        if not hasattr(self, "_credit"):
            self._credit = np.zeros((2, 2))  # [model][failures, successes]
            self._seen = set(labels)
            self._ranks = None
        if self._ranks is not None:
            for p, v in labels.items():
                if p in self._seen:
                    continue
                self._seen.add(p)
                a, b = self._ranks[0][p], self._ranks[1][p]
                if a != b:
                    self._credit[0 if a < b else 1][int(bool(v))] += 1
        unlabelled = np.ones(self.n, dtype=bool)
        unlabelled[list(labels)] = False
        candidates = self._shuffle[unlabelled[self._shuffle]]
        first = self._relevance(labels)
        second = self._second_scores(labels)
        rankings = [candidates[np.argsort(-score[candidates], kind="stable")] for score in (first, second)]
        self._ranks = []
        for ranking in rankings:
            r = np.full(self.n, np.inf)
            r[ranking] = np.arange(len(ranking))
            self._ranks.append(r)
        rng = np.random.default_rng(self.seed * 7919 + len(labels))
        taken = np.zeros(self.n, dtype=bool)
        pointers = [0, 0]
        merged = []
        a0 = self.bandit_prior
        # Only the head needs merging (the caller takes at most a batch); the rest follows model 1.
        head = min(len(candidates), 50)
        while len(merged) < head:
            theta = [rng.beta(a0 + self._credit[m][1], a0 + self._credit[m][0]) for m in (0, 1)]
            m = int(theta[1] > theta[0])
            ranking = rankings[m]
            while taken[ranking[pointers[m]]]:
                pointers[m] += 1
            pick = ranking[pointers[m]]
            taken[pick] = True
            merged.append(int(pick))
        rest = [int(p) for p in rankings[0] if not taken[p]]
        return merged + rest

    def _second_scores(self, labels):
        idx = np.fromiter(labels.keys(), dtype=np.intp, count=len(labels))
        y = np.fromiter((int(bool(v)) for v in labels.values()), dtype=np.int8, count=len(labels))
        n, n1 = len(y), int(y.sum())
        if self.bandit_svm:
            weights = np.where(y == 1, 1.0, n1 / (9.8 * (n - n1)))
            svm = LinearSVC(C=0.11, random_state=self.seed).fit(self._X[idx], y, sample_weight=weights * n / weights.sum())
            return self._X @ svm.coef_.ravel().astype(np.float32)
        weights = {0: n / (2 * (n - n1)), 1: self.bandit_ratio * n / (2 * n1)}
        model = LogisticRegression(C=self.C, class_weight=weights, solver="liblinear", dual=True,
                                   max_iter=1000, random_state=self.seed).fit(self._X[idx], y)
        return self._X @ model.coef_.ravel().astype(np.float32)

    def attach_dense(self, vectors):
        """Sentence embeddings of the same texts (rows L2-normalised)."""
        vectors = np.nan_to_num(np.asarray(vectors, dtype=np.float32))  # empty texts embed as NaN
        if self.dense_mode == "concat":
            w = np.float32(self.dense_weight)
            self._X = sparse.hstack([self._X * np.float32((1 - w ** 2) ** 0.5),
                                     sparse.csr_matrix(vectors * w)]).tocsr()
        else:
            self.vectors = vectors

    def _relevance(self, labels):
        key = tuple(sorted((int(p), bool(v)) for p, v in labels.items()))
        if key == self._last_key and self._last_scores is not None:
            return self._last_scores
        idx = np.fromiter((p for p, _ in key), dtype=np.intp, count=len(key))
        y = np.fromiter((v for _, v in key), dtype=np.int8, count=len(key))
        few_included = not self.pseudo_while_included or int(y.sum()) < self.pseudo_while_included
        labelled_idx, labelled_y = idx, y
        if self.pseudo_negatives and len(idx) < self.pseudo_until and few_included:
            # Cormack & Grossman's CAL: a fresh random draw of unlabelled records stands in
            # for exclusions, so a few labels do not make a model of noise.
            rng = np.random.default_rng(self.seed + len(idx))
            unlabelled = np.setdiff1d(np.arange(self.n), idx)
            extra = rng.choice(unlabelled, min(self.pseudo_negatives, len(unlabelled)), replace=False)
            idx = np.concatenate([idx, extra])
            y = np.concatenate([y, np.zeros(len(extra), dtype=np.int8)])
        n, n1 = len(y), max(int(y.sum()), 1)
        # "balanced" when pos_ratio is 1: each class weighs n/2 in all; pos_ratio r makes the
        # inclusions weigh r times the exclusions (ASReview's default: 9.8).
        ratio = self.pos_ratio * (n1 / max(n - n1, 1)) ** self.pos_power
        class_weights = {0: n / (2 * (n - n1)), 1: ratio * n / (2 * n1)}
        if self.pos_floor:
            class_weights[1] = max(class_weights[1], self.pos_floor * class_weights[0])
        model = LogisticRegression(C=self.C, class_weight=class_weights, solver="liblinear", dual=True,
                                   max_iter=1000, random_state=self.seed)
        model.fit(self._X[idx], y)
        coef = model.coef_.ravel().astype(np.float32)
        relevance = expit(self._X @ coef + np.float32(model.intercept_[0])).astype(np.float64)
        others = []
        if self.vectors is not None:
            dense_model = LogisticRegression(C=self.dense_C, class_weight="balanced", max_iter=1000)
            dense_model.fit(self.vectors[labelled_idx], labelled_y)
            dense_score = self.vectors @ dense_model.coef_.ravel()
            w = self.dense_weight
            rank = lambda score: np.argsort(np.argsort(score)) / len(score)
            relevance = (1 - w) * rank(relevance) + w * rank(dense_score)
        if self.ensemble_nb:
            nb = ComplementNB(alpha=1.0).fit(self._X[idx], y)
            others.append(nb.predict_log_proba(self._X)[:, 1])
        if self.second_ratio:
            # A second logistic regression that weighs inclusions differently; ranks averaged.
            second = LogisticRegression(C=self.C, class_weight={0: class_weights[0], 1: self.second_ratio * n / (2 * n1)},
                                        solver="liblinear", dual=True, max_iter=1000, random_state=self.seed)
            second.fit(self._X[idx], y)
            others.append(self._X @ second.coef_.ravel().astype(np.float32))
        if self.ensemble_svm:
            svm = LinearSVC(C=0.11, class_weight="balanced", random_state=self.seed).fit(self._X[idx], y)
            others.append(self._X @ svm.coef_.ravel().astype(np.float32))
        if self.svm_ratio:
            # ASReview's ELAS u4: squared-hinge linear SVM, C=0.11, the inclusions weigh
            # svm_ratio times the exclusions in all (its "balanced" balancer).
            n0 = len(y) - int(y.sum())
            weights = np.where(y == 1, 1.0, int(y.sum()) / (self.svm_ratio * n0))
            svm = LinearSVC(C=self.svm_C, random_state=self.seed).fit(self._X[idx], y, sample_weight=weights * len(y) / weights.sum())
            svm_score = self._X @ svm.coef_.ravel().astype(np.float32)
            rank = lambda score: np.argsort(np.argsort(score, kind="stable"), kind="stable") / len(score)
            w = self.ensemble_weight
            relevance = (1 - w) * rank(relevance) + w * rank(svm_score)
        if others:
            ranks = sum(np.argsort(np.argsort(score)) for score in [relevance, *others])
            relevance = ranks / ranks.max()
        self._last_key, self._last_scores = key, relevance
        return relevance


class UnknownVariant(ValueError):
    """A variant name or setting this script does not know (the message says which)."""


def parse_spec(name: str) -> dict:
    """A variant written as settings, e.g. "C=0.3,pseudo_negatives=100" (names as in Variant)."""
    settings = {}
    for part in name.split(","):
        key, _, value = part.partition("=")
        if key.startswith("_") or not hasattr(Variant, key) or callable(getattr(Variant, key)):
            raise UnknownVariant(f"unknown setting {key!r} in variant {name!r}")
        default = getattr(Variant, key)
        if isinstance(default, bool):
            settings[key] = value.lower() in ("1", "true", "yes")
        elif isinstance(default, str):
            settings[key] = value
        else:
            try:
                settings[key] = type(default)(float(value))
            except ValueError:
                raise UnknownVariant(f"setting {key!r} in variant {name!r} needs a number, not {value!r}") from None
    return settings


DENSE = ("", "minilm", "wordllama", "lsa")


def make(name: str) -> type[Prioritiser]:
    if "=" in name:
        settings = parse_spec(name)
        if settings.get("dense", "") not in DENSE:
            raise UnknownVariant(f"dense must be one of {', '.join(DENSE[1:])}, not {settings['dense']!r}")
        return type(name, (Variant,), settings)
    named = {
        "base": {"binary": False},                      # before issue 14: balanced, term frequencies
        "weighted": {"pos_ratio": 0.1, "binary": False},  # issue 14's first step: a tenth, term frequencies
        "shipped": {"pos_ratio": 0.1},                    # a tenth, presence
        "pseudo100": {"pseudo_negatives": 100},
        "pseudo100_until200": {"pseudo_negatives": 100, "pseudo_until": 200},
        "pseudo50_until100": {"pseudo_negatives": 50, "pseudo_until": 100},
        "chars": {"char_ngrams": True},
        "nb": {"ensemble_nb": True},
        "C10": {"C": 10.0},
        "C0.3": {"C": 0.3},
        "chars_pseudo100": {"char_ngrams": True, "pseudo_negatives": 100},
        "svm": {"ensemble_svm": True},
        "emb0.5": {"dense": "wordllama", "dense_weight": 0.5},
        "emb0.7": {"dense": "wordllama", "dense_weight": 0.7},
        "title2": {"title_twice": True},
        "title2_svm": {"title_twice": True, "ensemble_svm": True},
        "svm_nb": {"ensemble_svm": True, "ensemble_nb": True},
        "chars_svm": {"char_ngrams": True, "ensemble_svm": True},
        "pseudo100_inc5": {"pseudo_negatives": 100, "pseudo_while_included": 5},
        "pseudo100_inc10": {"pseudo_negatives": 100, "pseudo_while_included": 10},
        "minilm_c0.5": {"dense": "minilm", "dense_weight": 0.5},
        "minilm_c0.7": {"dense": "minilm", "dense_weight": 0.7},
        "minilm_c0.3": {"dense": "minilm", "dense_weight": 0.3},
        "minilm_r0.5": {"dense": "minilm", "dense_mode": "rank", "dense_weight": 0.5},
        "minilm_r0.3": {"dense": "minilm", "dense_mode": "rank", "dense_weight": 0.3},
        "minilm_only": {"dense": "minilm", "dense_mode": "rank", "dense_weight": 1.0},
    }
    if name not in named:
        raise UnknownVariant(f"unknown variant {name!r}; known: {', '.join(named)}, or settings such as "
                             f"'pos_ratio=0.1,C=2'")
    return type(name, (Variant,), named[name])


EMBEDDINGS = HERE / ".cache" / "embeddings"
# wordllama's static embeddings run in a peer venv of their own (the package is not a dependency).
# MiniLM comes from review.embeddings (numpy), as in the widget.
EMBEDDING_REQUIREMENTS = ["wordllama"]
EMBED_CODE = """
import json, sys
from pathlib import Path
import numpy as np
import wordllama
from wordllama import WordLlama
jobs = json.loads(Path(sys.argv[2]).read_text())
# The tokenizer is looked up in the wrong folder unless cache_dir is the package itself.
wl = WordLlama.load(cache_dir=Path(wordllama.__file__).parent, disable_download=True)
for job in jobs:
    np.save(job["path"], np.asarray(wl.embed(job["texts"], norm=True), dtype=np.float32))
    print(job["path"], flush=True)
"""


def ensure_embeddings(name: str, datasets) -> None:
    """Compute the cached wordllama embeddings that are missing (in the peer venv)."""
    import subprocess
    import tempfile

    from peers import peer_python
    jobs = []
    for dataset in datasets:
        path = EMBEDDINGS / f"{name}_{dataset.name.replace('/', '_')}.npy"
        if not path.exists():
            titles, abstracts, _ = load(dataset)
            jobs.append({"path": str(path), "texts": [f"{t} {a}".strip() for t, a in zip(titles, abstracts)]})
    if not jobs:
        return
    EMBEDDINGS.mkdir(parents=True, exist_ok=True)
    python = peer_python("embeddings", EMBEDDING_REQUIREMENTS)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as texts:
        json.dump(jobs, texts)
        texts.flush()
        subprocess.run([str(python), "-c", EMBED_CODE, name, texts.name], check=True)


def simulate(cls, texts, labels, prior, seed, batch=10, dataset_name="", to_target=True) -> list[int]:
    """Labelling order of one simulated screening; stops at the target recall when to_target
    (WSS@95 needs no more), else when every inclusion is found."""
    prioritiser = cls(texts, method="model", seed=seed)
    if cls.dense == "lsa":
        # Latent semantic analysis: the TF-IDF matrix's leading singular vectors, no weights needed.
        from sklearn.decomposition import TruncatedSVD
        from sklearn.preprocessing import normalize
        k = min(cls.lsa_components, prioritiser._X.shape[1] - 1)
        prioritiser.attach_dense(normalize(TruncatedSVD(k, random_state=seed).fit_transform(prioritiser._X)))
    elif cls.dense == "minilm":
        # review.embeddings (numpy, no torch), the vectors the widget uses, shared with screening_sim's cache.
        from screening_sim import sentence_vectors
        prioritiser.attach_dense(sentence_vectors(texts, dataset_name))
    elif cls.dense:
        prioritiser.attach_dense(np.load(EMBEDDINGS / f"{cls.dense}_{dataset_name.replace('/', '_')}.npy"))
    decisions = {p: bool(labels[p]) for p in prior}
    screened = list(prior)
    total, found = int(labels.sum()), int(sum(labels[p] for p in prior))
    if to_target:
        total = int(np.ceil(RECALL_TARGET * total))
    while found < total and len(decisions) < len(labels):
        step = 1 if len(decisions) < 100 else batch
        for position in prioritiser.order(decisions)[:step]:
            decisions[position] = bool(labels[position])
            screened.append(position)
            found += int(labels[position])
    return screened


def metadata_tokens(dataset, authors: bool, journal: bool) -> list[str]:
    """Per record, tokens for its authors' surnames and its journal (empty where the file lacks them)."""
    import re

    import pandas as pd
    frame = pd.read_csv(dataset.path, dtype=str)
    out = []
    for _, row in frame.iterrows():
        tokens = []
        if authors and isinstance(row.get("authors"), str):
            for name in re.split(r";|,| and ", row["authors"]):
                words = re.findall(r"[^\W\d_]+", name.casefold())
                if words and len(words[-1]) > 1:
                    tokens.append("zzau" + words[-1])
        if journal and isinstance(row.get("journal"), str):
            tokens.append("zzjn" + "".join(re.findall(r"[^\W\d_]+", row["journal"].casefold())))
        out.append(" ".join(tokens))
    return out


def one_dataset(job) -> float:
    name, dataset, seeds, batch = job
    cls = make(name)
    titles, abstracts, labels = load(dataset)
    texts = [f"{t} {t} {a}" if cls.title_twice else f"{t} {a}" for t, a in zip(titles, abstracts)]
    if cls.authors or cls.journal:
        texts = [f"{text} {extra}" for text, extra in zip(texts, metadata_tokens(dataset, cls.authors, cls.journal))]
    return statistics.mean(wss(simulate(cls, texts, labels, prior_records(labels, seed), seed, batch,
                                        dataset_name=dataset.name), labels) for seed in seeds)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", nargs="+", default=["base"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[42])
    parser.add_argument("--datasets", nargs="+")
    parser.add_argument("--out", type=Path, default=HERE / "out" / "variants")
    parser.add_argument("--jobs", type=int, default=1, help="datasets simulated in parallel")
    parser.add_argument("--batch", type=int, default=10, help="refit every BATCH decisions after the first 100")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    datasets = find_datasets()
    if args.datasets:
        datasets = select(datasets, args.datasets)
    try:  # every name is checked before the first (long) simulation starts
        classes = {name: make(name) for name in args.variants}
    except UnknownVariant as error:
        sys.exit(f"prioritise_variants: {error}")
    results = {}
    for name, cls in classes.items():
        if cls.dense == "wordllama":
            ensure_embeddings(cls.dense, datasets)
        started = time.perf_counter()
        with ProcessPoolExecutor(args.jobs) as pool:
            values = pool.map(one_dataset, [(name, dataset, args.seeds, args.batch) for dataset in datasets])
            per_dataset = dict(zip([d.name for d in datasets], values))
        results[name] = per_dataset
        print(f"{name}: mean WSS@95 {statistics.mean(per_dataset.values()):.4f} "
              f"[{time.perf_counter() - started:.0f} s]", flush=True)
        schedule = "" if args.batch == 10 else f"_batch{args.batch}"
        path = args.out / f"{name}{schedule}_{'_'.join(map(str, args.seeds))}.json"
        path.write_text(json.dumps(per_dataset, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
