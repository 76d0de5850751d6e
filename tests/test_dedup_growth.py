"""Issue 10, hole 10: re-running deduplication must not store every pair again."""

from __future__ import annotations

from sqlalchemy import func, select

from review import clusters, store
from review.project import Review


TITLES = ["Coffee and sleep in shift workers", "Bridge corrosion under salt spray",
          "Reading aloud to toddlers at bedtime", "Solar panel efficiency in deserts",
          "Antibiotic stewardship in nursing homes", "Migratory routes of arctic terns"]


def _record(i: int, title: str, doi: str = "") -> str:
    return (f"TY  - JOUR\nTI  - {title}\nAU  - Author{i}, A\nPY  - 2001\nT2  - Journal of Tests\nVL  - {i}\n"
            + (f"DO  - {doi}\n" if doi else "") + "ER  - \n")


def _pair_rows(review) -> int:
    with store.read_connection(review.engine) as conn:
        return conn.execute(select(func.count()).select_from(store.dedup_pairs)).scalar_one()


def test_a_second_run_on_the_same_records_stores_nothing_and_finds_the_same(tmp_path):
    first = tmp_path / "a.ris"
    first.write_text("".join(_record(i, TITLES[i], f"10.1000/{i}") for i in range(6)))
    second = tmp_path / "b.ris"
    second.write_text("".join(_record(i, TITLES[i], f"10.1000/{i}") for i in range(4)))
    with Review.init(tmp_path / "r", title="T") as review:
        review.import_file(first, source="A")
        review.import_file(second, source="B")
        review.dedupe(who="x", progress=False)
        stored = _pair_rows(review)
        pairs = clusters.run_pairs(review.engine)
        assert stored == len(pairs) == 4
        before = review.cluster_ids()

        review.dedupe(who="x", progress=False)
        assert _pair_rows(review) == stored  # nothing new was found, nothing new stored
        assert review.cluster_ids() == before
        again = clusters.run_pairs(review.engine)
        assert sorted(zip(again.record_a, again.record_b)) == sorted(zip(pairs.record_a, pairs.record_b))

        # a new record duplicating one more: only its pair is stored
        third = tmp_path / "c.ris"
        third.write_text(_record(5, TITLES[5], "10.1000/5"))
        review.import_file(third, source="C")
        review.dedupe(who="x", progress=False)
        assert _pair_rows(review) == stored + 1
        assert len(clusters.run_pairs(review.engine)) == 5
        # each earlier run still reads back as it was
        with store.read_connection(review.engine) as conn:
            runs = [e.id for e in store.read_events(conn, kind=clusters.RUN_EVENT)]
        assert [len(clusters.run_pairs(review.engine, r)) for r in runs] == [4, 4, 5]
