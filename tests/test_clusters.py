"""Deduplication inside a review: runs, decisions, splits and clusters from the event log."""

import csv
import json
from pathlib import Path

import pytest

from review import clusters, store
from review.project import Review

REPO = Path(__file__).resolve().parents[1]
RIS = REPO / "references" / "mason2014_reference_list.ris"
BIB = REPO / "tests" / "fixtures" / "mason2014_references.bib"


@pytest.fixture
def twice(make_review):
    """The example's 183 references imported twice: as RIS and as BibTeX (same keys)."""
    return make_review(files=[(RIS, "MEDLINE"), (BIB, "HMIC")])


def _groups(review):
    frame = review.records_frame()
    return frame.groupby("cluster_id")["source_id"].apply(sorted).tolist()


def test_run_merges_each_reference_with_its_copy_and_nothing_else(twice):
    summary = twice.dedupe(who="am", progress=False)
    assert (summary.records, summary.clusters, summary.duplicates) == (366, 183, 183)
    for group in _groups(twice):
        assert len(group) == 2 and group[0] == group[1], group  # no false merge, no missed copy
    with store.read_connection(twice.engine) as conn:
        (run,) = store.read_events(conn, kind=clusters.RUN_EVENT)
    assert run.actor == "am" and run.payload["counts"]["records"] == 366


def test_csv_export_fills_cluster_id(twice):
    twice.dedupe(who="am", progress=False)
    rows = list(csv.DictReader(twice.export("csv").splitlines()))
    by_cluster = {}
    for row in rows:
        by_cluster.setdefault(row["cluster_id"], set()).add(row["source_id"])
    assert len(by_cluster) == 183 and all(len(ids) == 1 for ids in by_cluster.values())
    assert any(row["cluster_id"] != row["record_id"] for row in rows)


def test_manual_different_is_never_merged_again(twice):
    twice.dedupe(who="am", progress=False)
    pair = clusters.run_pairs(twice.engine).query("decision == 'auto-merge'").iloc[0]
    a, b = int(pair.record_a), int(pair.record_b)
    clusters.decide(twice, a, b, clusters.DIFFERENT, who="mg")
    ids = twice.cluster_ids()
    assert ids[a] != ids[b]
    twice.dedupe(who="am", progress=False)  # a later run must respect it
    ids = twice.cluster_ids()
    assert ids[a] != ids[b]
    assert twice.dedup_summary().decided_different == 1


def test_split_undoes_a_merge_for_good(twice):
    twice.dedupe(who="am", progress=False)
    ids = twice.cluster_ids()
    record = next(r for r, c in ids.items() if r != c)
    others = clusters.split(twice, record, who="mg", note="not the same edition")
    assert others == [ids[record]]
    assert twice.cluster_ids()[record] == record
    twice.dedupe(who="am", progress=False)
    assert twice.cluster_ids()[record] == record
    with store.read_connection(twice.engine) as conn:
        (event,) = store.read_events(conn, kind=clusters.SPLIT_EVENT)
    assert event.payload["note"] == "not the same edition"


def test_same_joins_and_a_later_decision_wins(twice):
    twice.dedupe(who="am", progress=False)
    queue = clusters.review_queue(twice.engine)
    assert len(queue) > 0
    a, b = int(queue.iloc[0].record_a), int(queue.iloc[0].record_b)
    clusters.decide(twice, a, b, clusters.SAME, who="am")
    assert twice.cluster_ids()[a] == twice.cluster_ids()[b]
    assert len(clusters.review_queue(twice.engine)) == len(queue) - 1
    clusters.decide(twice, a, b, clusters.DIFFERENT, who="am")  # changed her mind: one more event
    assert twice.cluster_ids()[a] != twice.cluster_ids()[b]
    clusters.decide(twice, a, b, clusters.SKIP, who="am")
    assert len(clusters.review_queue(twice.engine)) == len(queue)


def test_bad_decisions_are_refused(twice):
    with pytest.raises(clusters.DedupError, match="decision must be one of"):
        clusters.decide(twice, 1, 2, "maybe", who="am")
    with pytest.raises(clusters.DedupError, match="itself"):
        clusters.decide(twice, 1, 1, clusters.SAME, who="am")
    with pytest.raises(clusters.DedupError, match="no such record"):
        clusters.decide(twice, 1, 99999, clusters.SAME, who="am")


def test_empty_review_dedupes_to_nothing(new_review):
    summary = new_review.dedupe(who="am", progress=False)
    assert (summary.records, summary.clusters, summary.auto_merged, summary.needs_review) == (0, 0, 0, 0)


def test_records_imported_after_a_run_are_counted_as_unchecked(tmp_path):
    review = Review.init(tmp_path / "r", title="T")
    review.import_file(RIS, source="MEDLINE")
    review.dedupe(who="am", progress=False)
    review.import_file(BIB, source="HMIC")
    assert review.dedup_summary().unchecked_records == 183
    review.close()


def test_cli_dedupe_json(tmp_path, cli):
    folder = tmp_path / "r"
    Review.init(folder, title="T").close()
    assert cli("import", folder, RIS, BIB, "--source", "X", "--quiet").returncode == 0
    done = cli("dedupe", folder, "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["clusters"], data["auto_merged"]) == (183, 183)
    assert {"needs_review", "pending_review", "duplicates"} <= set(data)
    text = cli("dedupe", folder).stdout
    assert "clusters: 183  (duplicates removed: 183)" in text
