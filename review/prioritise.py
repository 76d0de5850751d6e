"""Order unscreened records by how likely they are to be included (active learning).

During title/abstract screening each reviewer sees their unscreened records one at a
time. With ``method="model"`` the next records are the ones a classifier, refitted on
the decisions made so far, finds most likely to be relevant, so inclusions turn up early
(the idea behind ASReview and Cohen et al. 2006's "work saved over sampling"). The
ordering can be switched off: ``"random"`` (seeded shuffle) or ``"import"`` (the order
the texts were given in).

This module knows nothing about databases, reviewers or events: the caller passes the
texts once and the current decisions on every call, so the result depends only on
``(texts, method, seed, labels)``.

    p = Prioritiser(texts)                       # texts[i] = title + " " + abstract
    p.order({12: True, 40: False, 7: False})     # unlabelled positions, best first
    p.scores({12: True, 40: False})              # relevance per position, nan if labelled

Choices (measured by ``benchmarks/screening_sim.py`` on 26 labelled reviews; numbers in
``benchmarks/README_screening.md``):

* Features: IDF-weighted *presence* of word unigrams and bigrams (a term used five times
  in an abstract counts as much as one used once), rows of unit length, fitted once on all
  texts (no labels are needed for that; ASReview does the same). Presence ranked better
  than the usual sublinear term frequency 1 + log(tf): mean WSS@95 0.403 against 0.393 over
  5 seeds x 26 reviews, and 0.403 against 0.394 on 5 further seeds that played no part in
  the choice (a middle way, 1 + log(tf)/4, scored 0.403 too; benchmarks/README_screening.md).
  (Why is a guess: a term repeated through one abstract says little more about relevance
  than one mention, and counting repeats lets it outweigh the rest of the record.) With
  bigrams the mean WSS@95 over the 26 reviews was 0.383 against 0.370 for unigrams
  alone (2 seeds). Terms are hashed into 2**20 columns instead of being kept in a
  vocabulary: the bigram vocabulary of 50,000 abstracts is a dictionary of about a
  million Python strings, and hashing gave the same mean WSS@95 as the vocabulary
  (0.374 both, one seed).
* Classifier: L2 logistic regression (C=1) whose inclusions together weigh a tenth of the
  exclusions together (``_INCLUSION_WEIGHT``). Without any weighting, one inclusion
  against hundreds of exclusions gives a model that ranks almost everything alike; with
  "balanced" weights (inclusions weigh as much as exclusions, the choice until issue 14)
  the few inclusions pull the model towards their every word. Over 5 seeds x 26 reviews
  (with term frequencies, before presence) the mean WSS@95 was 0.393 with a tenth
  against 0.380 balanced and 0.370 for ASReview's default in the same loop (a fifth:
  0.387 on 3 seeds, a twentieth 0.375, a fiftieth 0.303). The same weighting as a power
  of the class ratio, or with C=2 or 0.5, did worse. Earlier, on one seed, linear SVM with ASReview's default settings 0.368,
  logistic regression with ASReview's weighting 0.363, multinomial naive Bayes
  (ASReview's previous default) 0.346.
* Ties (e.g. records with no text at all get the same score) are broken by a seeded
  random permutation, not by import order, which is often sorted by something
  (database, year) that would bias the order.

Untrusted text is only ever tokenised (regular expressions inside scikit-learn); it is
never evaluated. ``None``/NaN texts count as empty. Han, kana and hangul characters are
taken one character per token (with bigrams of neighbouring characters), because those
scripts do not separate words with spaces and the default word pattern would make a
whole sentence one token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.special import expit
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression

__all__ = ["METHODS", "Prioritiser"]

METHODS = ("model", "random", "import")

# One token per CJK ideograph / kana / hangul syllable (these scripts write words without
# spaces), otherwise a word of two or more word characters (scikit-learn's default).
_TOKEN_PATTERN = (
    r"(?u)[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]"
    r"|\b\w\w+\b"
)
# Word unigrams and bigrams (see the module docstring).
_NGRAM_RANGE = (1, 2)
# 2**20 columns: collisions among the ~10^6 distinct uni+bigrams of 50,000 abstracts
# touch rare terms only; the matrix is sparse, so unused columns cost nothing per row.
_N_FEATURES = 2**20
# Regularisation strength of the logistic regression (sklearn's C); with the weighting
# below, C=2 and C=0.5 both scored lower (benchmarks/README_screening.md).
_C = 1.0
# The inclusions' total weight as a share of the exclusions' total weight (see the
# module docstring: a tenth ranked better than "balanced", i.e. 1.0, on 26 reviews).
_INCLUSION_WEIGHT = 0.1
# With sentence vectors (use_vectors): their share of each row's length. 0.2 scored best of
# 0.2/0.3/0.5 and ranked as well as terms alone on the mean while winning on more reviews
# (benchmarks/README_screening.md).
_VECTOR_WEIGHT = 0.2


def _clean_text(text: object) -> str:
    """Texts from imports may be None, NaN/NA (pandas) or bytes: make them str."""
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    if isinstance(text, bytes):
        return text.decode("utf-8", errors="replace")
    try:
        missing = bool(pd.isna(text))
    except (TypeError, ValueError):  # list-likes: isna is elementwise
        missing = False
    if missing:
        return ""
    raise TypeError(f"texts must be str or None, not {type(text).__name__}")


def _features(texts: list[str]) -> sparse.csr_matrix:
    """TF-IDF matrix (rows = texts, float32) of hashed word uni- and bigrams, present or not.

    Terms found in only one text are dropped: such a column can only ever score the
    one record that has it, so it cannot move an unlabelled record up or down, and it
    makes up most of the columns. (Keeping them, as ASReview does, also ranked worse:
    mean WSS@95 0.386 against 0.393 over 5 seeds x 26 reviews.) The remaining columns are
    sorted by how many texts use them, so the scoring product reads the model's weights mostly from a small,
    cache-resident block (this halved the time of a 50,000-record ranking).
    """
    hasher = HashingVectorizer(
        n_features=_N_FEATURES,
        token_pattern=_TOKEN_PATTERN,
        ngram_range=_NGRAM_RANGE,
        lowercase=True,
        alternate_sign=False,  # counts must stay non-negative for TF-IDF
        binary=True,  # presence, not frequency (see the module docstring)
        norm=None,
        dtype=np.float64,
    )
    counts = hasher.transform(texts).tocsr()
    document_frequency = np.bincount(counts.indices, minlength=_N_FEATURES)
    keep = np.flatnonzero(document_frequency >= 2)
    keep = keep[np.argsort(-document_frequency[keep], kind="stable")]
    if len(keep) == 0:
        return sparse.csr_matrix((len(texts), 0), dtype=np.float32)
    counts = counts[:, keep]
    tfidf = TfidfTransformer().fit_transform(counts)
    # float32 halves the memory (about 120 MB for 50,000 abstracts) and the time of
    # the scoring product; rankings do not need more precision.
    matrix = tfidf.astype(np.float32).tocsr()
    matrix.sort_indices()
    return matrix


def _class_weights(y: np.ndarray) -> dict[int, float]:
    """Per-record weights: exclusions weigh n/2 together (as sklearn's "balanced"), the
    inclusions _INCLUSION_WEIGHT times that (needs both classes present)."""
    n, included = len(y), int(y.sum())
    excluded = n - included
    return {0: n / (2 * excluded), 1: _INCLUSION_WEIGHT * n / (2 * included)}


class Prioritiser:
    """Ranks the unlabelled records of one screening list.

    texts: one string per record (title + " " + abstract); the position in this
        sequence is the record's id in every other call. None/NaN count as empty.
    method: "model" (active learning, the default), "random" (a shuffle fixed by
        ``seed``) or "import" (positions in the order given).
    seed: fixes the shuffle used by "random", by "model" before it can fit (cold
        start) and to break ties between equal scores.

    The TF-IDF matrix is computed once here (about 2 s of CPU per 10,000 abstracts,
    12 s for 50,000: build one per screening session, not per decision); each
    ``order``/``scores`` call then refits the classifier on the labelled rows only and
    scores every row, which is one sparse matrix-vector product.
    """

    def __init__(self, texts: Sequence[str | None], method: str = "model", seed: int = 0):
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {method!r}")
        self.method = method
        self.seed = int(seed)
        cleaned = [_clean_text(t) for t in texts]
        self.n = len(cleaned)
        self._shuffle = np.random.default_rng(self.seed).permutation(self.n)
        self._X = _features(cleaned) if method == "model" and self.n else None
        self._V: np.ndarray | None = None  # sentence vectors, when use_vectors() gave them
        # The widget typically asks for order() and scores() with the same decisions:
        # remember the last fit so that costs one refit, not two.
        self._last_key: tuple | None = None
        self._last_scores: np.ndarray | None = None

    # -- public API ---------------------------------------------------------------

    def order(self, labels: Mapping[int, bool]) -> list[int]:
        """Unlabelled positions, most likely relevant first; each exactly once.

        labels: position -> True (included) / False (excluded).
        Cold start: until there is at least one inclusion and one exclusion,
        "model" returns the seeded random order (the same order as "random").
        """
        idx, _ = self._check_labels(labels)
        unlabelled = np.ones(self.n, dtype=bool)
        unlabelled[idx] = False
        if self.method == "import":
            return np.flatnonzero(unlabelled).tolist()
        candidates = self._shuffle[unlabelled[self._shuffle]]
        if self.method == "random" or not self.uses_model(labels):
            return candidates.tolist()
        relevance = self._relevance(labels)
        # Stable sort over the shuffled candidates: equal scores keep the seeded
        # random order, so ties are broken without favouring import order.
        ranked = np.argsort(-relevance[candidates], kind="stable")
        return candidates[ranked].tolist()

    def scores(self, labels: Mapping[int, bool]) -> np.ndarray:
        """Estimated probability of inclusion per position (float array of length n).

        nan for labelled positions; all nan when no model is used (method "random" or
        "import", or cold start). The classifier is class-weighted, so the values rank
        records well but are not calibrated probabilities: read them as "higher is more
        likely relevant", comparable within one call.
        """
        idx, _ = self._check_labels(labels)
        out = np.full(self.n, np.nan)
        if self.uses_model(labels):
            out[:] = self._relevance(labels)
        out[idx] = np.nan
        return out

    def uses_model(self, labels: Mapping[int, bool]) -> bool:
        """True when ``order`` ranks by a fitted model for these labels (not cold start)."""
        if self.method != "model":
            return False
        values = set(labels.values())
        return True in values and False in values

    # -- internals ----------------------------------------------------------------

    def _check_labels(self, labels: Mapping[int, bool]) -> tuple[np.ndarray, np.ndarray]:
        """Positions and 0/1 targets; refuses anything that is not a valid position/bool."""
        idx = np.empty(len(labels), dtype=np.intp)
        y = np.empty(len(labels), dtype=np.int8)
        for k, (pos, included) in enumerate(labels.items()):
            if isinstance(pos, (bool, np.bool_)) or not isinstance(pos, (int, np.integer)):
                raise TypeError(f"label positions must be int, not {type(pos).__name__}")
            if not 0 <= pos < self.n:
                raise IndexError(f"label position {pos} out of range for {self.n} records")
            if isinstance(included, (bool, np.bool_)) or included in (0, 1):
                y[k] = 1 if included else 0
            else:
                raise TypeError(f"label for position {pos} must be bool, not {included!r}")
            idx[k] = pos
        return idx, y

    def _relevance(self, labels: Mapping[int, bool]) -> np.ndarray:
        """Probability of inclusion for every position (labelled ones included)."""
        key = tuple(sorted((int(p), bool(v)) for p, v in labels.items()))
        if key == self._last_key and self._last_scores is not None:
            return self._last_scores
        idx = np.fromiter((p for p, _ in key), dtype=np.intp, count=len(key))
        y = np.fromiter((v for _, v in key), dtype=np.int8, count=len(key))
        if self._X.shape[1] == 0 and self._V is None:
            # No term occurs in two texts (tiny or empty lists): nothing to learn
            # from, so every record is equally likely and ties keep the random order.
            relevance = np.full(self.n, 0.5)
        elif self._V is not None:
            relevance = self._relevance_with_vectors(idx, y)
        else:
            model = self._classifier(y).fit(self._X[idx], y)
            # Same as model.predict_proba, without validating the whole matrix again
            # and in float32 like the matrix.
            weights = model.coef_.ravel().astype(np.float32)
            relevance = expit(self._X @ weights + np.float32(model.intercept_[0])).astype(np.float64)
        self._last_key, self._last_scores = key, relevance
        return relevance

    def _classifier(self, y: np.ndarray) -> LogisticRegression:
        # liblinear's dual solver works in sample space: its cost grows with the labelled
        # rows, not with the feature columns (lbfgs was ~50x slower here). It visits samples
        # in shuffled order, hence random_state.
        return LogisticRegression(C=_C, class_weight=_class_weights(y), solver="liblinear", dual=True,
                                  max_iter=1000, random_state=self.seed)

    def _relevance_with_vectors(self, idx: np.ndarray, y: np.ndarray) -> np.ndarray:
        """The same model over each row's terms and its sentence vector side by side.

        Every TF-IDF row and every vector has unit length; scaled by sqrt(1 - w**2) and w the
        joined row has unit length too, with the vector a share w of it. Only the labelled
        rows are joined for the fit; scoring adds the two products.
        """
        w = np.float32(_VECTOR_WEIGHT)
        a = np.float32(np.sqrt(1.0 - _VECTOR_WEIGHT**2))
        rows = sparse.hstack([self._X[idx] * a, sparse.csr_matrix(self._V[idx] * w)]).tocsr()
        model = self._classifier(y).fit(rows, y)
        coef = model.coef_.ravel().astype(np.float32)
        terms, dense = coef[:self._X.shape[1]], coef[self._X.shape[1]:]
        score = (self._X @ terms) * a + (self._V @ dense) * w + np.float32(model.intercept_[0])
        return expit(score).astype(np.float64)

    def use_vectors(self, vectors: np.ndarray | None) -> None:
        """Add a sentence vector per record (e.g. review.embeddings) to what the model sees.

        vectors: (n, d) array, one row per text in the order given; rows are scaled to unit
        length. None goes back to terms alone. The next ``order``/``scores`` call refits.
        """
        if vectors is None:
            self._V = None
        else:
            array = np.asarray(vectors, dtype=np.float32)
            if array.ndim != 2 or array.shape[0] != self.n:
                raise ValueError(f"vectors must have one row per text ({self.n}), not shape {array.shape}")
            array = np.nan_to_num(array, nan=0.0, posinf=0.0, neginf=0.0)
            norms = np.linalg.norm(array, axis=1, keepdims=True)
            self._V = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
        self._last_key = self._last_scores = None

    @property
    def uses_vectors(self) -> bool:
        return self._V is not None
