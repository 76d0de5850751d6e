"""review.prioritise: ordering contract, cold start, seeds, odd texts, and that the model
actually finds inclusions earlier than random order on real screening data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from review.prioritise import METHODS, Prioritiser

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
# Cohen et al. 2006 ADHD drug-class review (see SOURCE.md there): title/abstract-stage
# labels in `label_abstract_screening`. Read in place, never copied into the repo.
ADHD = SHARED / "datasets" / "screening-cohen2006" / "ADHD.csv"

TEXTS = [
    "Randomised controlled trial of methylphenidate in children with ADHD",
    "Methylphenidate versus placebo: a randomised trial in adolescents",
    "Hospital parking fees and visitor satisfaction",
    "A survey of cafeteria food quality in hospitals",
    "Atomoxetine for attention deficit hyperactivity disorder: randomised trial",
    "Costs of parking at public hospitals",
    "",
    "Long-term safety of methylphenidate: a controlled trial",
    None,
    "Cafeteria menus and staff satisfaction",
]


def screen(prioritiser: Prioritiser, truth: np.ndarray, prior: list[int], until_recall: float) -> int:
    """Simulated screening (refit after every decision); records read to reach `until_recall`."""
    decisions = {p: bool(truth[p]) for p in prior}
    needed = math.ceil(until_recall * truth.sum())
    found = int(truth[prior].sum())
    while found < needed:
        nxt = prioritiser.order(decisions)[0]
        decisions[nxt] = bool(truth[nxt])
        found += int(truth[nxt])
    return len(decisions)


# -- the ordering contract ---------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("labels", [{}, {0: True}, {2: False, 3: False}, {0: True, 2: False, 6: False, 8: True}])
def test_order_is_a_permutation_of_the_unlabelled(method, labels):
    order = Prioritiser(TEXTS, method=method, seed=3).order(labels)
    assert sorted(order) == sorted(set(range(len(TEXTS))) - set(labels))
    assert all(type(p) is int for p in order)


def test_model_ranks_the_similar_records_first():
    p = Prioritiser(TEXTS, method="model")
    labels = {0: True, 2: False}
    assert p.uses_model(labels)
    order = p.order(labels)
    # The two other methylphenidate/ADHD trials before anything about parking or food.
    assert set(order[:2]) == {1, 4} or set(order[:3]) >= {1, 7}
    assert order.index(5) > order.index(1)


def test_scores_nan_for_labelled_and_consistent_with_order():
    p = Prioritiser(TEXTS, method="model")
    labels = {0: True, 2: False, 9: False}
    scores = p.scores(labels)
    assert scores.shape == (len(TEXTS),)
    assert np.isnan(scores[[0, 2, 9]]).all()
    rest = np.delete(scores, [0, 2, 9])
    assert np.isfinite(rest).all() and ((rest >= 0) & (rest <= 1)).all()
    ranked = [scores[i] for i in p.order(labels)]
    assert ranked == sorted(ranked, reverse=True)


def test_label_dict_order_does_not_matter():
    p = Prioritiser(TEXTS, method="model", seed=1)
    a = p.order({0: True, 2: False, 4: True})
    b = Prioritiser(TEXTS, method="model", seed=1).order({4: True, 2: False, 0: True})
    assert a == b


def test_model_is_deterministic_given_seed():
    labels = {0: True, 2: False}
    assert Prioritiser(TEXTS, seed=7).order(labels) == Prioritiser(TEXTS, seed=7).order(labels)
    s1, s2 = Prioritiser(TEXTS, seed=7).scores(labels), Prioritiser(TEXTS, seed=7).scores(labels)
    np.testing.assert_array_equal(s1, s2)


# -- cold start, random, import -------------------------------------------------------


@pytest.mark.parametrize("labels", [{}, {0: True}, {0: True, 1: True}, {2: False, 3: False}])
def test_cold_start_falls_back_to_the_seeded_random_order(labels):
    model = Prioritiser(TEXTS, method="model", seed=5)
    random = Prioritiser(TEXTS, method="random", seed=5)
    assert not model.uses_model(labels)
    assert model.order(labels) == random.order(labels)
    assert np.isnan(model.scores(labels)).all()


def test_random_is_reproducible_per_seed():
    texts = [f"record {i}" for i in range(200)]
    a = Prioritiser(texts, method="random", seed=11).order({})
    assert a == Prioritiser(texts, method="random", seed=11).order({})
    assert a != Prioritiser(texts, method="random", seed=12).order({})
    assert a != list(range(200))
    # Labelling records removes them and keeps the others in the same relative order.
    labelled = {a[0]: True, a[5]: False}
    assert Prioritiser(texts, method="random", seed=11).order(labelled) == [p for p in a if p not in labelled]


def test_import_keeps_the_given_order():
    p = Prioritiser(TEXTS, method="import")
    assert p.order({}) == list(range(len(TEXTS)))
    assert p.order({0: True, 3: False, 7: True}) == [1, 2, 4, 5, 6, 8, 9]
    assert not p.uses_model({0: True, 3: False})
    assert np.isnan(p.scores({0: True})).all()


# -- bad and odd input ------------------------------------------------------------------


def test_empty_and_missing_texts():
    for texts in (["", "", ""], [None, None], [float("nan"), "", None, "x"], [pd.NA, np.nan, "a b"],
                  pd.Series(["t", None, "u"], dtype="string")):
        p = Prioritiser(texts, method="model")
        labels = {0: True, 1: False}
        assert sorted(p.order(labels)) == list(range(2, len(texts)))
        assert np.isnan(p.scores(labels)[:2]).all()
    assert Prioritiser([], method="model").order({}) == []
    assert Prioritiser([], method="random").scores({}).shape == (0,)


def test_non_latin_scripts():
    texts = [
        "糖尿病患者的随机对照试验",            # included: RCT in diabetes (Chinese)
        "天气预报与城市交通",                  # excluded: weather and city traffic
        "二型糖尿病的随机对照试验研究",        # similar to the inclusion
        "城市交通拥堵与天气",                  # similar to the exclusion
        "Рандомизированное исследование диабета",
        "دراسة عشوائية لمرضى السكري",
        "糖尿病患者に対するランダム化比較試験",
        "\u200b\u0301\ufeff",                  # only invisible / combining characters
    ]
    p = Prioritiser(texts, method="model")
    order = p.order({0: True, 1: False})
    assert sorted(order) == list(range(2, len(texts)))
    assert order.index(2) < order.index(3)
    assert order.index(6) < order.index(3)  # shares the kanji 糖尿病 ... 試験 with the inclusion


def test_invalid_arguments():
    with pytest.raises(ValueError):
        Prioritiser(TEXTS, method="smart")
    p = Prioritiser(TEXTS)
    with pytest.raises(IndexError):
        p.order({len(TEXTS): True})
    with pytest.raises(IndexError):
        p.order({-1: True})
    with pytest.raises(TypeError):
        p.order({"3": True})
    with pytest.raises(TypeError):
        p.order({3: "yes"})
    with pytest.raises(TypeError):
        Prioritiser([b"ok", 42])


def test_texts_are_never_evaluated(tmp_path):
    marker = tmp_path / "pwned"
    texts = [f"__import__('pathlib').Path({str(marker)!r}).touch()", "{{7*7}} ${7*7} `touch x`", "plain"]
    p = Prioritiser(texts)
    p.order({0: True, 1: False})
    assert not marker.exists()


# -- real data ------------------------------------------------------------------------


def test_model_finds_inclusions_faster_than_random_on_real_data():
    if not ADHD.exists():
        pytest.skip(f"labelled screening data not found at {ADHD} (../shared next to the repo)")
    frame = pd.read_csv(ADHD).iloc[:500]
    texts = (frame["title"].fillna("") + " " + frame["abstract"].fillna("")).tolist()
    truth = frame["label_abstract_screening"].to_numpy(dtype=int)
    rng = np.random.default_rng(0)
    prior = [int(rng.choice(np.flatnonzero(truth == 1))), int(rng.choice(np.flatnonzero(truth == 0)))]

    model = screen(Prioritiser(texts, method="model", seed=0), truth, prior, 0.8)
    random = screen(Prioritiser(texts, method="random", seed=0), truth, prior, 0.8)
    # The first 500 records hold 47 inclusions. Measured (seed 0): the model reads 70
    # records to find 80% of them, random order 401 (random needs ~80% of the list by
    # construction); seeds 1 and 2 give 72/410 and 71/383. Half is a wide margin.
    assert model < 0.5 * random, (model, random)
