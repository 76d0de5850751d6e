"""Bad input: clear behaviour, no crash, no mass merge."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from review.dedup import AUTO_MERGE, PAIR_COLUMNS, find_duplicates


def frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([{"record_id": f"r{i}", **row} for i, row in enumerate(rows)])


@pytest.mark.parametrize("records", [
    pd.DataFrame(),
    pd.DataFrame({"record_id": []}),
    pd.DataFrame({"record_id": [], "title": [], "authors": []}),
    None,
])
def test_no_records(records):
    result = find_duplicates(records, progress=True)
    assert result.clusters == {}
    assert list(result.pairs.columns) == list(PAIR_COLUMNS) and result.pairs.empty
    assert result.counts["records"] == 0 and result.counts["clusters"] == 0


def test_one_record_is_its_own_cluster():
    result = find_duplicates(frame([{"title": "Alone"}]), progress=False)
    assert result.clusters == {"r0": "r0"} and result.pairs.empty


def test_only_record_id_column():
    result = find_duplicates(frame([{}, {}, {}]), progress=False)
    assert len(set(result.clusters.values())) == 3


def test_records_without_titles_merge_only_on_a_shared_identifier_or_printed_place():
    result = find_duplicates(frame([
        {"title": "", "authors": ["Smith, J"], "year": 2010, "doi": "10.1000/xyz1"},
        {"title": None, "authors": ["Smith, J"], "year": 2010, "doi": "https://doi.org/10.1000/XYZ1"},
        {"title": float("nan"), "authors": ["Smith, J"], "year": 2010},
        {"authors": ["Smith, J"], "year": 2010},
    ]), progress=False)
    assert result.clusters["r0"] == result.clusters["r1"]
    assert len({result.clusters[r] for r in ("r0", "r2", "r3")}) == 3
    # haematology set: a record without its title, all else equal to its twin.
    twin = {"authors": ["Zuber, J.", "Le Quintrec, M.", "Sberro-Soussan, R."], "year": 2011,
            "journal": "Nat Rev Nephrol", "volume": "7", "issue": "1", "pages": "23-35"}
    result = find_duplicates(frame([{**twin, "title": "New insights into postrenal transplant hemolytic uremic "
                                                      "syndrome."}, {**twin, "title": ""}]), progress=False)
    assert result.clusters["r0"] == result.clusters["r1"]


def test_one_character_titles_do_not_merge():
    rows = [{"title": "A", "authors": [f"Author{i}, X"], "year": 2000 + i % 3} for i in range(300)]
    rows += [{"title": "A", "authors": ["Same, X"], "year": 2001}, {"title": "A", "authors": ["Same, X"], "year": 2001}]
    result = find_duplicates(frame(rows), progress=False)
    assert result.counts["auto_merge"] == 0
    assert result.counts["clusters"] == len(rows)


@pytest.mark.slow  # 10,000 records
def test_ten_thousand_editorials_are_not_mass_merged():
    rng = np.random.default_rng(3)
    n = 10_000
    rows = [{"title": "Editorial" if i % 2 else "Letter", "year": int(rng.integers(1990, 2020)),
             "journal": f"Journal of Topic {int(rng.integers(0, 300))}", "volume": str(int(rng.integers(1, 60))),
             "authors": [f"Editor{int(rng.integers(0, 2000))}, A"]} for i in range(n)]
    # Two genuine duplicates among them: same editorial, same journal, volume and page.
    twin = {"title": "Editorial", "year": 2005, "journal": "BMJ", "volume": "330", "issue": "7491", "pages": "S1",
            "authors": ["Godlee, F"]}
    rows += [twin, dict(twin, journal="Br Med J")]
    result = find_duplicates(frame(rows), progress=False)
    assert result.counts["candidate_pairs"] < 40 * n  # windowed blocks, not 50 million pairs
    sizes = pd.Series(list(result.clusters.values())).value_counts()
    assert sizes.max() <= 2  # no giant cluster
    assert result.clusters[f"r{n}"] == result.clusters[f"r{n + 1}"]
    assert result.counts["duplicates"] <= 5


def test_non_latin_scripts():
    rows = [
        {"title": "慢性病综合护理模式对老年患者生活质量的影响", "authors": ["王伟", "李娜"], "year": 2019, "journal": "中华护理杂志"},
        {"title": "慢性病综合护理模式对老年患者生活质量的影响。", "authors": ["王伟", "李娜"], "year": 2019, "journal": "中华护理杂志"},
        {"title": "糖尿病患者自我管理教育的效果评价", "authors": ["王伟", "李娜"], "year": 2019, "journal": "中华护理杂志"},
        {"title": "Платформенная занятость: масштабы и признаки неустойчивости", "authors": ["Бобков, В. Н."],
         "year": 2020, "journal": "Мир новой экономики", "volume": "14", "pages": "6-15"},
        {"title": "Платформенная занятость: масштабы и признаки неустойчивости.", "authors": ["Бобков В.Н."],
         "year": 2020, "journal": "Мир новой экономики", "volume": "14", "pages": "6-15"},
        {"title": "العلاج التكاملي للمرضى المسنين", "authors": ["أحمد علي"], "year": 2018},
        {"title": "高齢者の統合ケア", "authors": ["佐藤"], "year": 2018},
    ]
    result = find_duplicates(frame(rows), progress=False)
    c = result.clusters
    assert c["r0"] == c["r1"] and c["r3"] == c["r4"]
    assert c["r0"] != c["r2"]
    assert len(set(c.values())) == 5


def test_messy_values_do_not_crash():
    rows = [
        {"title": "<i>Mirror</i> therapy &amp; stroke", "authors": "Thieme, H.; Bayn, M.", "year": "2013a",
         "volume": 27.0, "issue": None, "pages": 314, "doi": "doi: 10.1177/0269215512455651", "pmid": 22863766.0,
         "url": "<https://example.org/a b>", "type": None, "abstract": math.nan},
        {"title": "Mirror therapy & stroke", "authors": None, "year": "n/a", "volume": "NA", "issue": "", "pages": "",
         "doi": "not a doi", "pmid": "PMID: 22863766", "url": None, "type": "JOUR", "abstract": None},
        {"title": 12345, "authors": ["", None, "et al."], "year": 1e9, "pages": "pp.", "doi": float("nan")},
    ]
    result = find_duplicates(frame(rows), progress=False)
    assert result.clusters["r0"] == result.clusters["r1"]  # same PMID, same title
    assert len(result.clusters) == 3


def test_bad_record_ids_raise_a_clear_error():
    with pytest.raises(ValueError, match="record_id"):
        find_duplicates(pd.DataFrame({"title": ["x"]}), progress=False)
    with pytest.raises(ValueError, match="unique"):
        find_duplicates(pd.DataFrame({"record_id": [1, 1], "title": ["x", "y"]}), progress=False)


def test_numeric_record_ids_come_back_as_strings():
    result = find_duplicates(pd.DataFrame({"record_id": [10, 11], "title": ["Same long title of a report"] * 2,
                                           "authors": [["A, B"], ["A, B"]], "year": [2001, 2001]}), progress=False)
    assert set(result.clusters) == {"10", "11"}
    assert result.clusters["10"] == result.clusters["11"]
    assert result.merge_pairs()[["record_id_a", "record_id_b"]].values.tolist() == [["10", "11"]]
    assert (result.pairs["decision"] == AUTO_MERGE).all()
