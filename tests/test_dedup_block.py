"""Stage 2 of deduplication: candidate pairs from blocking passes (review.dedup.block)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from review.dedup.block import PASSES, BlockingOptions, candidate_pairs
from review.dedup.prepare import prepare_records


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"record_id": f"r{i}", **row} for i, row in enumerate(rows)])


def pair_set(candidates) -> set[tuple[int, int]]:
    return set(zip(candidates.left.tolist(), candidates.right.tolist()))


def test_no_records_or_one_record_gives_no_pairs():
    for rows in ([], [{"title": "Alone"}]):
        candidates = candidate_pairs(prepare_records(frame(rows)))
        assert len(candidates) == 0


def test_pairs_are_ordered_unique_and_name_the_first_pass_that_found_them():
    records = frame([
        {"title": "Mirror therapy for patients with severe arm paresis after stroke", "authors": ["Thieme, H."],
         "year": 2013, "doi": "10.1177/0269215512455651"},
        {"title": "Mirror therapy for patients with severe arm paresis after stroke--a randomized trial",
         "authors": ["Thieme H"], "year": 2013, "doi": "10.1177/0269215512455651"},
    ])
    candidates = candidate_pairs(prepare_records(records))
    assert pair_set(candidates) == {(0, 1)}
    assert candidates.pass_names[candidates.passes[0]] == "doi"


def test_each_field_can_fail_without_hiding_the_pair():
    base = {"title": "Streptokinase for malignant pleural effusions: a randomized controlled study",
            "authors": ["Okur, Erdal", "Baysungur, Volkan"], "year": 2011, "journal": "Asian Cardiovasc Thorac Ann",
            "volume": "19", "pages": "238-243"}
    variants = [
        {"title": "Streptokinase for malignant pleural effusions a randomised controlled study"},  # spelling
        {"authors": ["Ökur, E."]},  # first author misspelt
        {"year": 2010},  # wrong year
        {"title": "[Streptokinase for malignant pleural effusions]", "journal": "Asian Cardiovascular & Thoracic Annals"},
    ]
    for change in variants:
        candidates = candidate_pairs(prepare_records(frame([base, {**base, **change}])))
        assert (0, 1) in pair_set(candidates), change


def test_giant_block_is_windowed_not_compared_in_full():
    n = 3000
    records = frame([{"title": "Editorial", "year": 2000 + i % 20, "journal": f"Journal {i % 50}"} for i in range(n)])
    options = BlockingOptions()
    candidates = candidate_pairs(prepare_records(records), options)
    # All pairs would be 4.5 million; each pass may add at most `window` pairs per record.
    assert len(candidates) < n * (options.window + options.title_window) * (len(PASSES) + 2)
    assert len(candidates) < 200_000


@pytest.mark.slow  # growing inputs to 10,000s of records
def test_pair_count_grows_linearly():
    def count(n: int) -> int:
        rng = np.random.default_rng(1)
        words = np.array("care integrated health social trial effect outcome cost model stroke".split())
        rows = [{"title": " ".join(rng.choice(words, 6)), "year": int(rng.integers(1990, 2020)),
                 "authors": [f"Author{int(rng.integers(0, n // 5))}, A"]} for _ in range(n)]
        return len(candidate_pairs(prepare_records(frame(rows))))

    small, large = count(2000), count(8000)
    assert large < 6 * small  # 4x the records, well under 16x the pairs
