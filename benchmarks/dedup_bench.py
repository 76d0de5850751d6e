"""Accuracy and speed benchmark of review.dedup against peer tools, on labelled data.

    .venv/bin/python benchmarks/dedup_bench.py                 # everything
    .venv/bin/python benchmarks/dedup_bench.py --no-peers --no-scale
    .venv/bin/python benchmarks/dedup_bench.py --datasets stroke,grey_literature

Data: ../shared/datasets relative to the repository (or --data DIR), plus
benchmarks/data/grey_literature.csv. Peers run in their own virtual
environments, outside the repository (see benchmarks/README_dedup.md):
  bib-dedupe          --bibdedupe-python /work/peers/bibdedupe/bin/python
  asreview-datatools  --asreview /work/peers/asreview1/bin/asreview
A missing peer or dataset is reported and skipped.

Accuracy is measured over duplicate PAIRS: every pair of records inside one
gold cluster is a true pair; every pair inside one predicted cluster is a
predicted pair. A predicted pair that is not a true pair is a false merge.
For the SRA EndNote sets, whose labels only say "belongs to some duplicate
set", accuracy is measured per record instead (see `membership_metrics`).
bib-dedupe's own record-level figures (TP/FN/FP as in its published tables)
are printed too, so our run of bib-dedupe can be checked against them.
A few pairs the labels miss were checked by hand and added for every tool
(LABEL_CORRECTIONS); benchmarks/README_dedup.md lists them.

Results go to benchmarks/out/ (git-ignored): dedup_results.md and .json, and
per dataset the false merges and missed pairs of our engine for inspection.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from review.dedup import Thresholds, find_duplicates  # noqa: E402
from review.records import fold, normalise_doi  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared" / "datasets"
GREY_CSV = REPO / "benchmarks" / "data" / "grey_literature.csv"
OUT = REPO / "benchmarks" / "out"
BIBDEDUPE_PYTHON = Path("/work/peers/bibdedupe/bin/python")
ASREVIEW_BIN = Path("/work/peers/asreview1/bin/asreview")

RECORD_COLUMNS = ("record_id", "type", "title", "authors", "year", "journal", "volume", "issue",
                  "pages", "doi", "pmid", "url", "publisher", "abstract", "notes")


@dataclass
class Dataset:
    name: str
    records: pd.DataFrame  # RECORD_COLUMNS
    gold_clusters: list[list[str]] | None = None  # clusters of size >= 2
    gold_members: set[str] | None = None  # records flagged "in some duplicate set"
    note: str = ""


# --- loaders -----------------------------------------------------------------

def _frame(rows: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    for column in RECORD_COLUMNS:
        if column not in frame.columns:
            frame[column] = [[] for _ in range(len(frame))] if column == "authors" else ""
    return frame[list(RECORD_COLUMNS)]


def _clean(value) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip()
    return "" if text in ("nan", "NaN", "NA", "N/A", "UNKNOWN", "#NAME?") else text


def split_bibtex_authors(text: str) -> list[str]:
    return [a.strip() for a in _clean(text).split(" and ") if a.strip()]


_ASYSD_SPLIT = re.compile(r"(?<=\.)(?=[A-Z\u00C0-\u024F][^\s.])")


def split_asysd_authors(text: str) -> list[str]:
    """ASySD glues authors together: "Adeli K.Lewis G. F." -> ["Adeli K.", "Lewis G. F."]."""
    text = _clean(text)
    if not text:
        return []
    if " and " in text:
        return split_bibtex_authors(text)
    return [a.strip() for a in _ASYSD_SPLIT.split(text) if a.strip()]


BIBTEX_TYPES = {"article": "article", "inproceedings": "conference", "proceedings": "conference",
                "book": "book", "inbook": "chapter", "incollection": "chapter", "techreport": "report",
                "phdthesis": "thesis", "mastersthesis": "thesis", "misc": "other", "unpublished": "other"}


def load_bibdedupe_set(directory: Path, name: str) -> Dataset:
    frame = pd.read_csv(directory / "records_pre_merged.csv", dtype=str, keep_default_na=False)
    rows = []
    for r in frame.to_dict("records"):
        doi = _clean(r.get("doi"))
        rows.append({
            "record_id": r["ID"],
            "type": BIBTEX_TYPES.get(_clean(r.get("ENTRYTYPE")).lower(), "other"),
            "title": _clean(r.get("title")),
            "authors": split_bibtex_authors(r.get("author", "")),
            "year": _clean(r.get("year")),
            "journal": _clean(r.get("journal")) or _clean(r.get("booktitle")),
            "volume": _clean(r.get("volume")),
            "issue": _clean(r.get("number")) or _clean(r.get("issue")),
            "pages": _clean(r.get("pages")),
            "doi": doi,
            "publisher": _clean(r.get("publisher")),
            "abstract": _clean(r.get("abstract")),
            "notes": _clean(r.get("note")),
        })
    clusters = pd.read_csv(directory / "merged_record_ids.csv")["merged_ids"]
    gold = [c.split(";") for c in clusters if isinstance(c, str) and ";" in c]
    return Dataset(name, _frame(rows), gold_clusters=gold)


def load_asysd_diabetes(directory: Path) -> Dataset:
    frame = pd.read_csv(directory / "records_labelled.csv", dtype=str, keep_default_na=False, encoding="cp1252")
    rows = []
    for r in frame.to_dict("records"):
        rows.append({
            "record_id": f"id_{int(r['record_id']):07d}",
            "type": "article",
            "title": _clean(r["title"]),
            "authors": split_asysd_authors(r["author"]),
            "year": _clean(r["year"]),
            "journal": _clean(r["journal"]),
            "volume": _clean(r["volume"]),
            "issue": _clean(r["number"]),
            "pages": _clean(r["pages"]),
            "doi": _clean(r["doi"]),
            "abstract": _clean(r["abstract"]),
        })
    clusters = pd.read_csv(directory / "clusters_merged_record_ids.csv")["merged_ids"]
    gold = [c.split(";") for c in clusters if isinstance(c, str) and ";" in c]
    return Dataset("asysd_diabetes", _frame(rows), gold_clusters=gold)


def _xml_text(element) -> str:
    if element is None:
        return ""
    return " ".join("".join(element.itertext()).split())


ENDNOTE_TYPES = {"Journal Article": "article", "Generic": "other", "Book": "book", "Book Section": "chapter",
                 "Conference Proceedings": "conference", "Conference Paper": "conference", "Report": "report",
                 "Thesis": "thesis", "Web Page": "web"}


def load_endnote_xml(path: Path, name: str) -> Dataset:
    """EndNote XML; the caption "Duplicate" marks every member of a duplicate set."""
    root = ET.parse(path).getroot()
    rows = []
    members = set()
    for record in root.iter("record"):
        rid = f"rec_{_xml_text(record.find('rec-number'))}"
        ref_type = record.find("ref-type")
        rows.append({
            "record_id": rid,
            "type": ENDNOTE_TYPES.get(ref_type.get("name") if ref_type is not None else "", "other"),
            "title": _xml_text(record.find("titles/title")),
            "authors": [_xml_text(a) for a in record.findall("contributors/authors/author")],
            "year": _xml_text(record.find("dates/year")),
            "journal": _xml_text(record.find("periodical/full-title")) or _xml_text(record.find("titles/secondary-title")),
            "volume": _xml_text(record.find("volume")),
            "issue": _xml_text(record.find("number")),
            "pages": _xml_text(record.find("pages")),
            "doi": _xml_text(record.find("electronic-resource-num")),
            "abstract": _xml_text(record.find("abstract")),
            "url": _xml_text(record.find("urls/related-urls/url")),
        })
        if _xml_text(record.find("caption")).lower() == "duplicate":
            members.add(rid)
    frame = _frame(rows)
    if frame["record_id"].duplicated().any():  # rec-numbers are unique per library; be safe
        frame["record_id"] = [f"{rid}_{i}" for i, rid in enumerate(frame["record_id"])]
    return Dataset(name, frame, gold_members=members,
                   note="labels: membership of some duplicate set (record-level metrics)")


def load_asreview_legacy(path: Path, name: str) -> Dataset:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for r in frame.to_dict("records"):
        rows.append({
            "record_id": r["record_id"],
            "type": "article",
            "title": _clean(r.get("title")),
            "year": _clean(r.get("year")),
            "abstract": _clean(r.get("abstract")),
            "authors": [a.strip() for a in _clean(r.get("authors")).split(";") if a.strip()],
        })
    links = [(r["record_id"], _clean(r["duplicate_record_id"]).split(".")[0]) for r in frame.to_dict("records")
             if _clean(r.get("duplicate_record_id"))]
    return Dataset(name, _frame(rows), gold_clusters=_components(links),
                   note="title+abstract only; gold = the set's duplicate_record_id links")


def load_grey_literature(path: Path = GREY_CSV) -> Dataset:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = []
    for r in frame.to_dict("records"):
        rows.append({
            "record_id": r["record_id"],
            "type": r["type"],
            "title": r["title"],
            "authors": [a.strip() for a in r["authors"].split(";") if a.strip()],
            "year": r["year"],
            "journal": r["journal"],
            "volume": r["volume"],
            "issue": r["issue"],
            "pages": r["pages"],
            "doi": r["doi"],
            "url": r["url"],
            "publisher": r["publisher"],
        })
    groups = frame.groupby("entity")["record_id"].apply(list)
    gold = [ids for ids in groups if len(ids) > 1]
    return Dataset("grey_literature", _frame(rows), gold_clusters=gold,
                   note="hand-built from seed reference lists (benchmarks/data/README.md)")


def _components(links: list[tuple[str, str]]) -> list[list[str]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in links:
        parent[find(a)] = find(b)
    groups: dict[str, list[str]] = {}
    for x in list(parent):
        groups.setdefault(find(x), []).append(x)
    return [sorted(g) for g in groups.values() if len(g) > 1]


# Pairs missing from a set's labels that we checked by reading both records
# (title, abstract, authors, journal, pages); applied to every tool alike and
# listed in benchmarks/README_dedup.md. The screening sets' labels only link
# exact-title duplicates; the SRA respiratory flags miss one pair that
# bib-dedupe's re-checked clusters for the same records include.
LABEL_CORRECTIONS = {
    "nagtegaal_2019": [("1961", "1962", "same title but 'behaviors'/'behaviours', same abstract")],
    "kitchenham_2010": [
        ("222", "856", "'A framework ...' / 'Framework ...', same year and abstract"),
        ("801", "802", "one title truncated, same year and abstract"),
        ("1344", "1345", "'(WISER)' / '(WISER'06)', same year and abstract"),
    ],
    "haematology": [
        ("id_0000001", "id_0000002", "Zuber 2011 Nat Rev Nephrol 7(1):23-35: one record has no title, all else equal; "
                                     "its twin id_0000003 is in the gold cluster"),
    ],
    "digital_work": [
        ("id_0000000", "id_3000384", "Azmuk 2017 Problems of Economy 4:376-383: same Ukrainian title (one letter "
                                     "differs), same abstract; author in Cyrillic in one record, transliterated in the other"),
    ],
    "sra_respiratory_rathbone2015": [
        ("rec_1016", "rec_1218", "St Peter 2009 J Pediatr Surg 44:106-11, in bib-dedupe's clusters for the same records"),
    ],
}


def apply_corrections(dataset: Dataset) -> Dataset:
    corrections = LABEL_CORRECTIONS.get(dataset.name, [])
    if not corrections:
        return dataset
    links = [(a, b) for a, b, _ in corrections]
    if dataset.gold_clusters is not None:
        for members in dataset.gold_clusters:
            links.extend((members[0], other) for other in members[1:])
        dataset.gold_clusters = _components(links)
    if dataset.gold_members is not None:
        dataset.gold_members = set(dataset.gold_members) | {r for pair in links for r in pair}
    dataset.note = (dataset.note + f"; {len(corrections)} label correction(s)").lstrip("; ")
    return dataset


BIBDEDUPE_SETS = ("cytology_screening", "haematology", "respiratory", "stroke", "digital_work", "special_cases")


def load_all(data: Path, wanted: set[str] | None = None) -> list[Dataset]:
    datasets: list[Dataset] = []

    def want(name: str) -> bool:
        return not wanted or name in wanted

    if not data.exists():
        print(f"!! benchmark data folder {data} is absent: only the grey-literature set runs. "
              f"Put the shared datasets there or pass --data DIR.")
    else:
        if want("asysd_diabetes") and (data / "dedup-asysd-diabetes").exists():
            datasets.append(load_asysd_diabetes(data / "dedup-asysd-diabetes"))
        for name in BIBDEDUPE_SETS:
            directory = data / "dedup-bibdedupe-benchmark" / name
            if want(name) and directory.exists():
                datasets.append(load_bibdedupe_set(directory, name))
        for stem in ("tafenoquine", "copper", "respiratory_rathbone2015"):
            path = data / "dedup-sra-endnote-xml" / f"{stem}.xml"
            if want(f"sra_{stem}") and path.exists():
                datasets.append(load_endnote_xml(path, f"sra_{stem}"))
        for stem in ("Nagtegaal_2019", "Kitchenham_2010"):
            path = data / "screening-asreview-legacy" / f"{stem}.csv"
            if want(stem.lower()) and path.exists():
                datasets.append(load_asreview_legacy(path, stem.lower()))
    if want("grey_literature") and GREY_CSV.exists():
        datasets.append(load_grey_literature())
    return [apply_corrections(d) for d in datasets]


# --- metrics -------------------------------------------------------------------

def pairs_of(clusters: list[list[str]]) -> set[tuple[str, str]]:
    result = set()
    for members in clusters:
        for a, b in combinations(sorted(set(members)), 2):
            result.add((a, b))
    return result


def clusters_from_mapping(mapping: dict[str, str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for rid, cid in mapping.items():
        groups.setdefault(cid, []).append(rid)
    return [g for g in groups.values() if len(g) > 1]


def pair_metrics(predicted: list[list[str]], gold: list[list[str]], n_records: int) -> dict:
    """Pairwise precision/recall/F1, false merges, and bib-dedupe's record-level TP/FN/FP."""
    gold_pairs = pairs_of(gold)
    predicted_pairs = pairs_of(predicted)
    tp = len(gold_pairs & predicted_pairs)
    fp = len(predicted_pairs - gold_pairs)
    fn = len(gold_pairs - predicted_pairs)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # Predicted clusters mixing two or more gold entities: each is a lost study risk.
    entity = {}
    for index, members in enumerate(gold):
        for rid in members:
            entity[rid] = index
    mixed = sum(1 for members in predicted if len({entity.get(r, f"single:{r}") for r in members}) > 1)
    return {"pairs_gold": len(gold_pairs), "pairs_predicted": len(predicted_pairs), "tp": tp, "fp": fp, "fn": fn,
            "precision": precision, "recall": recall, "f1": f1, "false_merge_pairs": fp,
            "false_merge_clusters": mixed, **record_level(predicted, gold, n_records)}


def record_level(predicted: list[list[str]], gold: list[list[str]], n_records: int) -> dict:
    """bib-dedupe's convention (compare_dedupe_id): per gold cluster, keep one = TN, extra kept = FN,
    removed = TP; a removed record of no gold cluster, or a cluster losing all its records, = FP."""
    removed = set()
    for members in predicted:
        removed.update(sorted(members)[1:])  # any one member kept; which one does not matter here
    # A predicted cluster that mixes gold entities removes some entity entirely only if
    # all its records are removed; compute per gold cluster.
    in_gold = set()
    tp = fn = fp = tn = 0
    for members in gold:
        in_gold.update(members)
        kept = [m for m in members if m not in removed]
        gone = [m for m in members if m in removed]
        if not kept:
            fp += 1
            tp += len(gone) - 1
        else:
            tn += 1
            fn += len(kept) - 1
            tp += len(gone)
    fp += len(removed - in_gold)
    tn += n_records - len(in_gold) - len(removed - in_gold)
    return {"rec_tp": tp, "rec_fn": fn, "rec_fp": fp, "rec_tn": tn}


def membership_metrics(predicted: list[list[str]], members: set[str]) -> dict:
    """For sets labelled only "record is in some duplicate set": per-record precision/recall.

    A predicted cluster holding an unflagged record is certainly a false merge;
    two flagged records from different sets merged cannot be seen with these labels.
    """
    predicted_members = {r for c in predicted for r in c}
    tp = len(predicted_members & members)
    fp = len(predicted_members - members)
    fn = len(members - predicted_members)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mixed = sum(1 for c in predicted if any(r not in members for r in c))
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1,
            "false_merge_pairs": fp, "false_merge_clusters": mixed}


def evaluate(dataset: Dataset, predicted: list[list[str]]) -> dict:
    if dataset.gold_clusters is not None:
        return pair_metrics(predicted, dataset.gold_clusters, len(dataset.records))
    return membership_metrics(predicted, dataset.gold_members or set())


def missed_in_review(dataset: Dataset, run: "Run") -> dict:
    """How many of the true pairs the engine did not merge it put in the review queue."""
    if dataset.gold_clusters is None:
        return {}
    result = run.extra["result"]
    review = result.review_pairs()
    queued = {(min(a, b), max(a, b)) for a, b in zip(review["record_id_a"], review["record_id_b"])}
    missed = pairs_of(dataset.gold_clusters) - pairs_of(run.clusters)
    return {"missed_pairs": len(missed), "missed_in_review": len(missed & queued)}


# --- tools -----------------------------------------------------------------------

@dataclass
class Run:
    tool: str
    clusters: list[list[str]]
    seconds: float
    error: str = ""
    extra: dict = field(default_factory=dict)


def run_ours(dataset: Dataset, thresholds: Thresholds = Thresholds()) -> Run:
    start = time.perf_counter()
    result = find_duplicates(dataset.records, thresholds=thresholds, progress=False)
    seconds = time.perf_counter() - start
    return Run("review.dedup", clusters_from_mapping(result.clusters), seconds,
               extra={"needs_review": result.counts["needs_review"], "result": result})


def run_baseline(dataset: Dataset) -> Run:
    """Exact normalised DOI, or exact folded title: what a spreadsheet user would do."""
    start = time.perf_counter()
    records = dataset.records
    parent = list(range(len(records)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for key_values in (records["doi"].map(normalise_doi), records["title"].map(fold)):
        first_of: dict[str, int] = {}
        for index, key in enumerate(key_values):
            if not key:
                continue
            if key in first_of:
                parent[find(index)] = find(first_of[key])
            else:
                first_of[key] = index
    ids = records["record_id"].tolist()
    mapping = {ids[i]: ids[find(i)] for i in range(len(ids))}
    return Run("baseline (DOI or title)", clusters_from_mapping(mapping), time.perf_counter() - start)


BIBDEDUPE_SCRIPT = r"""
import json, sys, time
import pandas as pd
import bib_dedupe.bib_dedupe as bd
from bib_dedupe import verbose_print
import bib_dedupe.cluster
verbose_print.verbosity_level = 0
records = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)
start = time.perf_counter()
prepared = bd.prep(records, cpu=int(sys.argv[3]))
blocked = bd.block(prepared, cpu=int(sys.argv[3]))
matched = bd.match(blocked, cpu=int(sys.argv[3]))
clusters = bib_dedupe.cluster.get_connected_components(matched)
seconds = time.perf_counter() - start
json.dump({"clusters": [sorted(c) for c in clusters], "seconds": seconds}, open(sys.argv[2], "w"))
"""


def _bibtex_frame(dataset: Dataset) -> pd.DataFrame:
    reverse = {"article": "article", "conference": "inproceedings", "book": "book", "chapter": "inbook",
               "report": "techreport", "thesis": "phdthesis", "web": "misc", "other": "misc"}
    r = dataset.records
    conference = r["type"] == "conference"
    return pd.DataFrame({
        "ID": r["record_id"],
        "ENTRYTYPE": r["type"].map(lambda t: reverse.get(t, "misc")),
        "author": r["authors"].map(lambda a: " and ".join(a)),
        "title": r["title"],
        "year": r["year"].astype(str),
        "journal": np.where(conference, "", r["journal"]),
        "booktitle": np.where(conference, r["journal"], ""),
        "volume": r["volume"], "number": r["issue"], "pages": r["pages"],
        "doi": r["doi"], "abstract": r["abstract"], "url": r["url"],
    })


def run_bibdedupe(dataset: Dataset, python: Path, cpu: int = 2) -> Run:
    if not python.exists():
        return Run("bib-dedupe", [], 0.0, error=f"not installed ({python})")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "records.csv"
        target = Path(tmp) / "out.json"
        _bibtex_frame(dataset).to_csv(source, index=False)
        script = Path(tmp) / "run.py"
        script.write_text(BIBDEDUPE_SCRIPT)
        start = time.perf_counter()
        proc = subprocess.run([str(python), str(script), str(source), str(target), str(cpu)],
                              capture_output=True, text=True, cwd=tmp)
        wall = time.perf_counter() - start
        if proc.returncode != 0 or not target.exists():
            return Run("bib-dedupe", [], wall, error=proc.stderr.strip().splitlines()[-1:] and
                       proc.stderr.strip().splitlines()[-1] or "failed")
        out = json.loads(target.read_text())
    return Run("bib-dedupe", [c for c in out["clusters"] if len(c) > 1], out["seconds"], extra={"wall": wall})


def run_asreview(dataset: Dataset, binary: Path) -> Run:
    """`asreview data dedup` (asreview 1.x + datatools 1.3.2): exact DOI, or exact cleaned title+abstract.

    The tool only drops records; clusters are its two keys' connected components,
    checked against the number of records it dropped.
    """
    if not binary.exists():
        return Run("asreview data dedup", [], 0.0, error=f"not installed ({binary})")
    r = dataset.records
    frame = pd.DataFrame({"record_id": r["record_id"], "rid": r["record_id"], "title": r["title"],
                          "abstract": r["abstract"], "doi": r["doi"],
                          "authors": r["authors"].map(lambda a: "; ".join(a)), "year": r["year"]})
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "records.csv"
        target = Path(tmp) / "dedup.csv"
        frame.to_csv(source, index=False)
        start = time.perf_counter()
        proc = subprocess.run([str(binary), "data", "dedup", str(source), "-o", str(target)],
                              capture_output=True, text=True, cwd=tmp)
        seconds = time.perf_counter() - start
        if proc.returncode != 0 or not target.exists():
            return Run("asreview data dedup", [], seconds, error=(proc.stderr or proc.stdout).strip()[-200:])
        kept = set(pd.read_csv(target, dtype=str, keep_default_na=False)["rid"])
    # Their keys, as in asreview.data.base.ASReviewData.duplicated
    doi = frame["doi"].str.strip().str.lower().str.replace(r"^https?://(www\.)?doi\.org/", "", regex=True)
    text = (frame["title"] + " " + frame["abstract"]).str.replace("[^A-Za-z0-9]", "", regex=True).str.lower()
    links = []
    for keys in (doi, text):
        first: dict[str, str] = {}
        for rid, key in zip(frame["rid"], keys):
            if not key:
                continue
            if key in first:
                links.append((rid, first[key]))
            else:
                first[key] = rid
    clusters = _components(links)
    dropped = len(frame) - len(kept)
    return Run("asreview data dedup", clusters, seconds,
               extra={"dropped": dropped, "cluster_removals": sum(len(c) - 1 for c in clusters)})


# --- scale ----------------------------------------------------------------------

def scale_pool(data: Path) -> pd.DataFrame:
    """Real records from every dataset, the base of the scale sets."""
    frames = [d.records for d in load_all(data) if d.gold_clusters is not None or d.gold_members is not None]
    cohen = data / "screening-cohen2006"
    if cohen.exists():
        for path in sorted(cohen.glob("*.csv")):
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frames.append(_frame([{
                "record_id": f"{path.stem}-{r['record_id']}", "type": "article", "title": r["title"],
                "authors": [a.strip() for a in r["authors"].split(";") if a.strip()], "year": r["year"].split(".")[0],
                "pmid": r["pubmedID"], "abstract": r["abstract"],
            } for r in frame.to_dict("records")]))
    pool = pd.concat(frames, ignore_index=True)
    pool = pool[pool["title"].str.len() > 0].reset_index(drop=True)
    return pool


def perturb(frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Reformat records the way another database would: case, punctuation, initials, no DOI."""
    out = frame.copy()
    n = len(out)
    upper = rng.random(n) < 0.2
    out.loc[upper, "title"] = out.loc[upper, "title"].str.upper()
    drop_doi = rng.random(n) < 0.5
    out.loc[drop_doi, "doi"] = ""
    trim = rng.random(n) < 0.3
    out.loc[trim, "title"] = out.loc[trim, "title"].str.rstrip(".") + "."
    initials = rng.random(n) < 0.5
    out.loc[initials, "authors"] = out.loc[initials, "authors"].map(
        lambda names: [re.sub(r"^([^,]+),\s*(\w)\w*.*$", r"\1 \2", a) for a in names])
    return out


def build_scale_set(pool: pd.DataFrame, size: int, seed: int = 7) -> pd.DataFrame:
    """`size` records: the real pool repeated with perturbations and new ids, shuffled."""
    rng = np.random.default_rng(seed)
    parts = []
    total = 0
    copy = 0
    while total < size:
        part = pool if copy == 0 else perturb(pool.sample(frac=1.0, random_state=copy), rng)
        part = part.iloc[: size - total].copy()
        if copy:
            # Later copies are a mix: some stay duplicates of the original, others
            # become new works (title words shuffled), so the set is not all duplicates.
            new_work = rng.random(len(part)) < 0.7
            part.loc[new_work, "title"] = part.loc[new_work, "title"].map(
                lambda t: " ".join(rng.permutation(t.split())))
        part["record_id"] = [f"s{copy}-{i}" for i in range(len(part))]
        parts.append(part)
        total += len(part)
        copy += 1
    return pd.concat(parts, ignore_index=True).sample(frac=1.0, random_state=seed).reset_index(drop=True)


def scale_one(data: Path, size: int) -> dict:
    """Run once at one size; called in a subprocess so peak memory is this run's."""
    pool = scale_pool(data)
    records = build_scale_set(pool, size)
    start, cpu_start = time.perf_counter(), time.process_time()
    result = find_duplicates(records, progress=False)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    # Wall time depends on what else runs on the machine; CPU time and load say how much.
    return {"records": size, "seconds": seconds, "cpu_seconds": cpu_seconds, "load_average": os.getloadavg()[0],
            "records_per_s": size / seconds, "peak_rss_mb": peak_mb,
            "candidate_pairs": result.counts["candidate_pairs"], "auto_merge": result.counts["auto_merge"],
            "needs_review": result.counts["needs_review"], "stage_seconds": result.seconds}


def run_scale(data: Path, sizes: list[int]) -> list[dict]:
    rows = []
    for size in sizes:
        proc = subprocess.run([sys.executable, __file__, "--data", str(data), "--scale-one", str(size)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            rows.append({"records": size, "error": proc.stderr.strip()[-300:]})
            continue
        rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"  scale {size:>7,}: {rows[-1]['seconds']:.1f} s wall, {rows[-1]['cpu_seconds']:.1f} s CPU, "
              f"peak {rows[-1]['peak_rss_mb']:.0f} MB, load average {rows[-1]['load_average']:.1f}", flush=True)
    return rows


# --- report -----------------------------------------------------------------------

def _fmt(value, digits=3) -> str:
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: list[dict]) -> str:
    header = ("| dataset | n | tool | precision | recall | F1 | false merges (pairs / clusters) | "
              "TP / FN / FP (bib-dedupe convention) | records/s | review pairs | missed pairs in review |")
    lines = [header, "|" + "---|" * 11]
    for r in rows:
        if r.get("error"):
            lines.append(f"| {r['dataset']} | {r['n']} | {r['tool']} | – | – | – | – | – | – | {r['error'][:60]} | |")
            continue
        record = f"{r['rec_tp']} / {r['rec_fn']} / {r['rec_fp']}" if "rec_tp" in r else "–"
        missed = f"{r['missed_in_review']} of {r['missed_pairs']}" if "missed_pairs" in r else ""
        lines.append(
            f"| {r['dataset']} | {r['n']:,} | {r['tool']} | {_fmt(r['precision'])} | {_fmt(r['recall'])} | "
            f"{_fmt(r['f1'])} | {r['false_merge_pairs']} / {r['false_merge_clusters']} | {record} | "
            f"{r['records_per_s']:,.0f} | {r.get('needs_review', '')} | {missed} |")
    return "\n".join(lines)


def write_diagnostics(dataset: Dataset, run: Run) -> None:
    """Our false merges and missed pairs, with the records, for inspection."""
    if dataset.gold_clusters is None:
        return
    gold = pairs_of(dataset.gold_clusters)
    predicted = pairs_of(run.clusters)
    table = dataset.records.set_index("record_id")
    result = run.extra.get("result")
    decided = {}
    if result is not None and len(result.pairs):
        for row in result.pairs.itertuples():
            decided[(min(row.record_id_a, row.record_id_b), max(row.record_id_a, row.record_id_b))] = row

    def describe(rid: str) -> str:
        r = table.loc[rid]
        authors = "; ".join(r["authors"][:3])
        return (f"{rid} | {r['title'][:110]} | {authors[:50]} | {r['year']} | {r['journal'][:40]} | "
                f"{r['volume']}/{r['issue']}/{r['pages']} | {r['doi']} | {r['type']}")

    lines = []
    for label, pairs in (("FALSE MERGE", sorted(predicted - gold)), ("MISSED", sorted(gold - predicted))):
        for a, b in pairs:
            row = decided.get((a, b))
            how = f"{row.decision}: {row.reason} (score {row.score})" if row is not None else "not compared"
            lines.append(f"## {label} — {how}\n  {describe(a)}\n  {describe(b)}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"diagnostics_{dataset.name}.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("REVIEW_BENCH_DATA", DEFAULT_DATA)))
    parser.add_argument("--datasets", default="", help="comma-separated names (default: all)")
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--no-scale", action="store_true")
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--bibdedupe-python", type=Path, default=BIBDEDUPE_PYTHON)
    parser.add_argument("--asreview", type=Path, default=ASREVIEW_BIN)
    parser.add_argument("--scale-one", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.scale_one:
        print(json.dumps(scale_one(args.data, args.scale_one)))
        return 0

    wanted = {s.strip() for s in args.datasets.split(",") if s.strip()} or None
    datasets = load_all(args.data, wanted)
    rows = []
    for dataset in datasets:
        n = len(dataset.records)
        runs = [run_ours(dataset), run_baseline(dataset)]
        if not args.no_peers:
            runs.append(run_bibdedupe(dataset, args.bibdedupe_python))
            runs.append(run_asreview(dataset, args.asreview))
        for run in runs:
            row = {"dataset": dataset.name, "n": n, "tool": run.tool, "seconds": run.seconds,
                   "records_per_s": n / run.seconds if run.seconds else float("inf")}
            if run.error:
                row["error"] = run.error
            else:
                row.update(evaluate(dataset, run.clusters))
                if "needs_review" in run.extra:
                    row["needs_review"] = run.extra["needs_review"]
                    row.update(missed_in_review(dataset, run))
            rows.append(row)
        write_diagnostics(dataset, runs[0])
        ours = rows[-len(runs)]
        print(f"{dataset.name:<28} n={n:>6,}  ours: P={ours['precision']:.4f} R={ours['recall']:.4f} "
              f"false merges={ours['false_merge_pairs']}  {ours['seconds']:.2f}s", flush=True)

    table = markdown_table(rows)
    print()
    print(table)
    scale_rows = []
    if not args.no_scale and args.data.exists():
        print("\nScale (records built from real records, perturbed, new ids):")
        scale_rows = run_scale(args.data, [int(s) for s in args.sizes.split(",") if s])
        print()
        print("| records | wall s | CPU s | records/s (wall) | peak RSS (MB) | load avg | candidate pairs | auto-merge | "
              "needs-review |")
        print("|---|---|---|---|---|---|---|---|---|")
        for s in scale_rows:
            if "error" in s:
                print(f"| {s['records']:,} | error: {s['error'][:80]} |")
                continue
            print(f"| {s['records']:,} | {s['seconds']:.1f} | {s['cpu_seconds']:.1f} | {s['records_per_s']:,.0f} | "
                  f"{s['peak_rss_mb']:,.0f} | {s['load_average']:.1f} | {s['candidate_pairs']:,} | {s['auto_merge']:,} | "
                  f"{s['needs_review']:,} |")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "dedup_results.md").write_text(table + "\n")
    (OUT / "dedup_results.json").write_text(json.dumps({"accuracy": rows, "scale": scale_rows,
                                                        "thresholds": Thresholds().to_dict()}, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
