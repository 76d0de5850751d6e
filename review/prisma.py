"""PRISMA 2020 flow counts computed from the review's log, every box traceable to its records.

The keys are those of the PRISMA2020 R package and Shiny app (Haddaway et al. 2022),
so `prisma_template.to_csv` writes the CSV they read and `prisma_diagram.draw_svg`
draws the same boxes. How each box is counted:

- Each import has a kind of source. Databases and registers form the main column;
  websites, organisations and citation searching form "other methods".
- A deduplicated record (cluster) belongs to the main column if any of its records
  came from a database or register, else to other methods. Duplicates removed are the
  main column's records minus its clusters.
- Records removed before screening are `screening.remove_before_screening` events
  (automation tools, or other reasons).
- Records screened enter the protocol's first stage; records excluded are excluded at
  any stage before the last. The last stage is the full-text assessment: reports
  sought are the records that enter it, not retrieved are those marked so, assessed
  are those with a final decision there, excluded are counted by primary reason.
- Studies included are schemes with at least one included report; reports of included
  studies are the reports included at the last stage.

`check()` tests PRISMA's identities (screened = identified - duplicates - removed, and
so on) and names each one that fails with its numbers; the diagram is drawn only when
all hold. What the log cannot say yet (no deduplication run, screening unfinished) is
listed in `missing`, never printed as a zero.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import pandas as pd
from sqlalchemy import select

from review import schemes, screening, store, tables
from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review

MAIN_KINDS = ("database", "register")
OTHER_KINDS = ("website", "organisation", "citation")
# The R package's keys, in the order of its template.
KEYS = (
    "previous_studies", "previous_reports",
    "database_results", "database_specific_results", "register_results", "register_specific_results",
    "website_results", "organisation_results", "citations_results",
    "duplicates", "excluded_automatic", "excluded_other",
    "records_screened", "records_excluded",
    "dbr_sought_reports", "dbr_notretrieved_reports", "other_sought_reports", "other_notretrieved_reports",
    "dbr_assessed", "dbr_excluded", "other_assessed", "other_excluded",
    "new_studies", "new_reports", "total_studies", "total_reports",
)
_KIND_KEY = {"database": "database_results", "register": "register_results", "website": "website_results",
             "organisation": "organisation_results", "citation": "citations_results"}
NO_REASON = "(no reason given)"


class PrismaError(WorkbenchError, ValueError):
    """PRISMA counts that cannot be reported (e.g. a diagram whose identities fail)."""


@dataclass
class Identity:
    name: str
    left: str
    right: str
    left_value: int | None
    right_value: int | None

    @property
    def holds(self) -> bool | None:
        if self.left_value is None or self.right_value is None:
            return None
        if self.name.startswith("studies"):
            return self.left_value <= self.right_value
        return self.left_value == self.right_value

    def __str__(self) -> str:
        relation = "<=" if self.name.startswith("studies") else "="
        state = {True: "holds", False: "FAILS", None: "cannot be checked"}[self.holds]
        return f"{self.name}: {self.left} ({_n(self.left_value)}) {relation} {self.right} ({_n(self.right_value)}) " \
               f"— {state}"


def _n(value) -> str:
    return "?" if value is None else f"{value:,}"


@dataclass
class Flow:
    """The counts (R package keys), the ids behind each box, and what is missing."""

    counts: dict
    boxes: dict[str, list]  # key -> record ids (cluster ids after deduplication) or scheme ids
    reasons: dict[str, dict[int, str]]  # dbr_excluded / other_excluded: cluster -> reason label
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)  # boxes the log cannot count yet (see `missing`)

    def identities(self) -> list[Identity]:
        c = self.counts

        def total(*keys):
            values = [c.get(k) for k in keys]
            return None if any(v is None for v in values) else sum(values)

        def reasons(key):
            value = c.get(key)
            return None if value is None else sum(value.values())

        # A kind of source not searched (None) adds nothing to what was identified.
        identified = None if c.get("database_results") is None and c.get("register_results") is None \
            else (c.get("database_results") or 0) + (c.get("register_results") or 0)
        removed = total("duplicates", "excluded_automatic", "excluded_other")
        result = [
            Identity("records screened", "records screened", "identified - duplicates - removed before screening",
                     c.get("records_screened"), None if identified is None or removed is None
                     else identified - removed),
            Identity("records excluded + reports sought", "records excluded + reports sought",
                     "records screened", total("records_excluded", "dbr_sought_reports"),
                     c.get("records_screened")),
            Identity("reports assessed", "reports assessed", "reports sought - reports not retrieved",
                     c.get("dbr_assessed"), None if total("dbr_sought_reports") is None
                     or c.get("dbr_notretrieved_reports") is None
                     else c["dbr_sought_reports"] - c["dbr_notretrieved_reports"]),
            Identity("reports excluded", "sum of reasons", "reports excluded",
                     reasons("dbr_excluded"), len(self.boxes.get("dbr_excluded", []))),
        ]
        if c.get("other_sought_reports") is not None:
            result += [
                Identity("other methods: reports assessed", "reports assessed (other methods)",
                         "reports sought - not retrieved (other methods)", c.get("other_assessed"),
                         c["other_sought_reports"] - (c.get("other_notretrieved_reports") or 0)),
                Identity("other methods: reports excluded", "sum of reasons (other methods)",
                         "reports excluded (other methods)", reasons("other_excluded"),
                         len(self.boxes.get("other_excluded", []))),
            ]
        included = None
        if c.get("dbr_assessed") is not None and reasons("dbr_excluded") is not None:
            included = c["dbr_assessed"] - reasons("dbr_excluded")
            if c.get("other_assessed") is not None:
                included += c["other_assessed"] - (reasons("other_excluded") or 0)
        result += [
            Identity("reports included", "reports of included studies", "reports assessed - reports excluded",
                     c.get("new_reports"), included),
            Identity("studies <= reports", "studies included", "reports of included studies",
                     c.get("new_studies"), c.get("new_reports")),
        ]
        return result

    def failures(self) -> list[Identity]:
        return [i for i in self.identities() if i.holds is False]

    def check(self) -> None:
        """Raise PrismaError naming every identity that fails (and what is missing)."""
        failed = self.failures()
        if failed:
            lines = [str(i) for i in failed] + [f"missing: {m}" for m in self.missing]
            raise PrismaError("the PRISMA counts do not add up, so no diagram is drawn:\n  " + "\n  ".join(lines))

    # --- output ---

    def to_json(self) -> dict:
        return {key: self.counts.get(key) for key in KEYS}

    def frame(self) -> pd.DataFrame:
        """One row per box in use, labelled, with its count (reasons and sources one row each).

        A box the review does not use (no register searched, no previous version) is left
        out; a box the log cannot count yet shows None and is named in `missing`.
        """
        rows = []
        for key in KEYS:
            value = self.counts.get(key)
            if value is None and key not in self.unknown:
                continue
            if isinstance(value, dict):
                for name, n in value.items():
                    rows.append({"box": key, "label": f"{BOX_LABELS[key]}: {name}", "n": n})
            else:
                rows.append({"box": key, "label": BOX_LABELS[key], "n": value})
        return pd.DataFrame(rows, columns=["box", "label", "n"], dtype=object)

    def _repr_html_(self) -> str:
        shown = self.frame()
        shown["n"] = shown["n"].map(lambda v: "unknown" if v is None else f"{v:,}")
        note = " ".join(self.missing + self.warnings) or None
        return tables.to_html(shown.set_index("box"), caption="PRISMA 2020 flow counts", note=note)


BOX_LABELS = {
    "previous_studies": "Studies included in previous version of review",
    "previous_reports": "Reports of studies included in previous version of review",
    "database_results": "Records identified from databases",
    "database_specific_results": "Records identified from database",
    "register_results": "Records identified from registers",
    "register_specific_results": "Records identified from register",
    "website_results": "Records identified from websites",
    "organisation_results": "Records identified from organisations",
    "citations_results": "Records identified from citation searching",
    "duplicates": "Duplicate records removed",
    "excluded_automatic": "Records marked as ineligible by automation tools",
    "excluded_other": "Records removed for other reasons",
    "records_screened": "Records screened",
    "records_excluded": "Records excluded",
    "dbr_sought_reports": "Reports sought for retrieval",
    "dbr_notretrieved_reports": "Reports not retrieved",
    "other_sought_reports": "Reports sought for retrieval (other methods)",
    "other_notretrieved_reports": "Reports not retrieved (other methods)",
    "dbr_assessed": "Reports assessed for eligibility",
    "dbr_excluded": "Reports excluded",
    "other_assessed": "Reports assessed for eligibility (other methods)",
    "other_excluded": "Reports excluded (other methods)",
    "new_studies": "New studies included in review",
    "new_reports": "Reports of new included studies",
    "total_studies": "Total studies included in review",
    "total_reports": "Reports of total included studies",
}


# --- counting ------------------------------------------------------------------------------


def _record_sources(review: "Review") -> list[tuple[int, str, str]]:
    """(record id, kind of source, source name) for every record."""
    with store.read_connection(review.engine) as conn:
        return [(r.id, r.source_kind, r.source_name) for r in conn.execute(
            select(store.records.c.id, store.imports.c.source_kind, store.imports.c.source_name)
            .join(store.imports, store.records.c.import_id == store.imports.c.id).order_by(store.records.c.id))]


def flow(review: "Review", previous_studies: int | None = None, previous_reports: int | None = None) -> Flow:
    """Every PRISMA 2020 box for the review as its log stands now.

    `previous_studies` / `previous_reports`: for an updated review, the counts of the
    previous version (they are not in this review's log).
    """
    from review import clusters as clusters_mod

    sources = _record_sources(review)
    state = screening.ScreeningState.load(review)
    cluster_of = state.clusters or {r: r for r, _, _ in sources}
    missing: list[str] = []
    warnings: list[str] = []
    unknown: set[str] = set()
    counts: dict = {key: None for key in KEYS}
    boxes: dict[str, list] = defaultdict(list)
    if not sources:
        return Flow(counts, dict(boxes), {}, ["no records have been imported yet (review import)"])

    # Identification, per kind of source.
    members: dict[int, list[int]] = defaultdict(list)
    kinds_of_cluster: dict[int, set[str]] = defaultdict(set)
    specific: dict[str, Counter] = {"database": Counter(), "register": Counter()}
    for record_id, kind, name in sources:
        cluster = cluster_of.get(record_id, record_id)
        members[cluster].append(record_id)
        kinds_of_cluster[cluster].add(kind)
        boxes[_KIND_KEY[kind]].append(record_id)
        if kind in specific:
            specific[kind][name] += 1
    for kind, key in _KIND_KEY.items():
        count = len(boxes.get(key, []))
        # A kind of source never searched has no box (None), as the R package expects.
        counts[key] = count if count or (kind == "database") else None
    counts["database_specific_results"] = dict(specific["database"]) or None
    counts["register_specific_results"] = dict(specific["register"]) or None
    other_used = any(counts[_KIND_KEY[k]] is not None for k in OTHER_KINDS)

    main = [c for c in state.cluster_order if kinds_of_cluster[c] & set(MAIN_KINDS)]
    other = [c for c in state.cluster_order if not kinds_of_cluster[c] & set(MAIN_KINDS)]
    main_set = set(main)

    # Duplicates: only once deduplication has run.
    dedup = clusters_mod.summary(review)
    if dedup.run_id is None:
        missing.append("deduplication has not been run, so duplicates removed is unknown (review dedupe)")
        unknown.add("duplicates")
    else:
        # Each main-column cluster keeps its first database/register record; its other
        # database/register records are the duplicates removed.
        kind_of = {record_id: kind for record_id, kind, _ in sources}
        duplicates = []
        for c in main:
            from_main = sorted(r for r in members[c] if kind_of[r] in MAIN_KINDS)
            duplicates += from_main[1:]
        counts["duplicates"], boxes["duplicates"] = len(duplicates), duplicates
        if dedup.unchecked_records:
            warnings.append(f"{dedup.unchecked_records} records were imported after the last deduplication run "
                            f"and have not been checked for duplicates (run review dedupe again)")
        if dedup.pending_review:
            warnings.append(f"{dedup.pending_review} candidate duplicate pairs still await a reviewer's decision; "
                            f"duplicates removed may rise")

    # Removed before screening.
    removed_auto = [c for c in main if c in state.removed and state.removed[c].automated]
    removed_other = [c for c in main if c in state.removed and not state.removed[c].automated]
    counts["excluded_automatic"], boxes["excluded_automatic"] = len(removed_auto), removed_auto
    counts["excluded_other"], boxes["excluded_other"] = len(removed_other), removed_other

    # Screening of records (every stage before the last).
    stages = state.stages
    last = stages[-1]
    screened = [c for c in state.eligible(stages[0]) if c in main_set]
    counts["records_screened"], boxes["records_screened"] = len(screened), screened
    excluded = []
    for stage in stages[:-1]:
        excluded += [c for c in state.eligible(stage) if c in main_set and state.outcome(stage, c) == screening.EXCLUDE]
    counts["records_excluded"], boxes["records_excluded"] = len(excluded), excluded
    for stage in stages:
        pool = state.eligible(stage)
        pending = sum(1 for c in pool if state.outcome(stage, c) is None
                      and (stage == stages[0] or c not in state.not_retrieved))
        conflicts = sum(1 for c in pool if state.outcome(stage, c) == "conflict")
        if pending or conflicts:
            label = review.protocol.stage(stage).label or stage
            missing.append(f"{label} screening is not finished: {pending} record{'s' if pending != 1 else ''} "
                           f"pending, {conflicts} conflict{'s' if conflicts != 1 else ''} unresolved")

    # Reports: the last stage.
    reason_labels = {r.code: r.label for r in review.protocol.exclusion_reasons}
    reasons: dict[str, dict[int, str]] = {}
    pool = state.eligible(last)
    for prefix, in_path, used in (("dbr", main_set, True), ("other", set(other), other_used)):
        sought = [c for c in pool if c in in_path]
        not_retrieved = [c for c in sought if c in state.not_retrieved]
        assessed = [c for c in sought if c not in state.not_retrieved
                    and state.outcome(last, c) in (screening.INCLUDE, screening.EXCLUDE)]
        out = {c: _reason_label(state.final_reasons(last, c), reason_labels)
               for c in assessed if state.outcome(last, c) == screening.EXCLUDE}
        reasons[f"{prefix}_excluded"] = out
        if not used:
            continue
        counts[f"{prefix}_sought_reports"], boxes[f"{prefix}_sought_reports"] = len(sought), sought
        counts[f"{prefix}_notretrieved_reports"] = len(not_retrieved)
        boxes[f"{prefix}_notretrieved_reports"] = not_retrieved
        counts[f"{prefix}_assessed"], boxes[f"{prefix}_assessed"] = len(assessed), assessed
        counts[f"{prefix}_excluded"] = dict(Counter(out.values()).most_common())
        boxes[f"{prefix}_excluded"] = list(out)
    if len(stages) == 1:
        warnings.append("the protocol has a single screening stage, so every record screened is counted as a "
                        "report sought and assessed")

    # Included reports and studies.
    included = [c for c in pool if c not in state.not_retrieved and state.outcome(last, c) == screening.INCLUDE]
    counts["new_reports"], boxes["new_reports"] = len(included), included
    scheme_state = schemes.SchemeState.load(review)
    included_set = set(included)
    studies = [s.scheme_id for s in scheme_state.active() if s.reports & included_set]
    counts["new_studies"], boxes["new_studies"] = len(studies), studies
    linked = set().union(*(s.reports for s in scheme_state.active())) if scheme_state.schemes else set()
    unlinked = [c for c in included if c not in linked]
    if included and not scheme_state.active():
        missing.append("no schemes (studies) yet: studies included is unknown until included reports are linked "
                       "to schemes (schemes.link_reports, or review extract import)")
        counts["new_studies"] = None
        unknown.update({"new_studies", "total_studies"})
    elif unlinked:
        warnings.append(f"{len(unlinked)} included reports are not linked to any scheme (study) yet")
    empty = [s.scheme_id for s in scheme_state.active() if not s.reports & included_set]
    if empty:
        warnings.append(f"{len(empty)} schemes have no included report and are not counted as studies: "
                        f"{', '.join(empty[:10])}")

    counts["previous_studies"], counts["previous_reports"] = previous_studies, previous_reports
    if counts["new_studies"] is not None:
        counts["total_studies"] = counts["new_studies"] + (previous_studies or 0)
    counts["total_reports"] = counts["new_reports"] + (previous_reports or 0)
    return Flow(counts, dict(boxes), reasons, missing, warnings, unknown)


def _reason_label(reasons: tuple[str, ...], labels: dict[str, str]) -> str:
    if not reasons:
        return NO_REASON
    return labels.get(reasons[0], reasons[0])


# --- tracing a box to its records --------------------------------------------------------


def box(review: "Review", name: str, flow_: Flow | None = None) -> pd.DataFrame:
    """The records (or schemes) behind one box: `review prisma DIR --box NAME`."""
    if name not in KEYS:
        raise PrismaError(f"no PRISMA box {name!r} (boxes: {', '.join(KEYS)})")
    flow_ = flow_ or flow(review)
    if name in ("previous_studies", "previous_reports"):
        raise PrismaError(f"{name} comes from the previous version of the review, not from this log")
    # The per-source boxes list the same records as their totals (with the source named).
    name = {"database_specific_results": "database_results", "register_specific_results": "register_results",
            "total_studies": "new_studies", "total_reports": "new_reports"}.get(name, name)
    ids = flow_.boxes.get(name)
    if ids is None:
        why = next((m for m in flow_.missing), "nothing is counted in it")
        raise PrismaError(f"box {name!r} has no records: {why}")
    if name == "new_studies":
        state = schemes.SchemeState.load(review)
        return pd.DataFrame({"scheme_id": ids, "scheme_name": [state.schemes[s].name for s in ids],
                             "reports": [len(state.schemes[s].reports) for s in ids]})
    records = review.records_frame().set_index("record_id")
    frame = pd.DataFrame({"record_id": ids})
    for column in ("title", "year", "source", "source_id"):
        frame[column] = [records.at[i, column] if i in records.index else "" for i in ids]
    frame["year"] = frame["year"].map(lambda y: "" if pd.isna(y) else str(int(y)))
    if name in flow_.reasons:
        frame["reason"] = [flow_.reasons[name][i] for i in ids]
    if name in ("excluded_automatic", "excluded_other"):
        state = screening.ScreeningState.load(review)
        frame["reason"] = [state.removed[i].reason for i in ids]
    return frame


def counts_json(review: "Review") -> str:
    return json.dumps(flow(review).to_json(), indent=2, ensure_ascii=False)
