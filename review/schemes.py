"""Schemes (studies) and the reports that inform them.

The unit of synthesis is the scheme, not the report: Mason et al. (2014)
included 122 reports covering 38 schemes. A report may inform several schemes
and a scheme has many reports. Creating, renaming, merging and splitting
schemes and linking reports are all events; the current state is derived.

Reports reach a scheme once included at the protocol's last screening stage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import events, screening, store
from review.errors import WorkbenchError
from review.readmodel import Scheme

if TYPE_CHECKING:
    from review.project import Review

CREATE, RENAME, LINK, UNLINK, MERGE, SPLIT = (
    events.SchemeCreated.kind, events.SchemeRenamed.kind, events.ReportLinked.kind, events.ReportUnlinked.kind,
    events.SchemesMerged.kind, events.SchemeSplit.kind)
SCHEME_EVENTS = (CREATE, RENAME, LINK, UNLINK, MERGE, SPLIT)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class SchemeError(WorkbenchError, ValueError):
    pass


@dataclass
class SchemeState:
    schemes: dict[str, Scheme]

    @classmethod
    def load(cls, review: "Review") -> "SchemeState":
        """The current schemes from the read model, as a copy the caller may change."""
        model = review.read_model()
        return cls({sid: Scheme(s.scheme_id, s.name, s.merged_into, set(s.reports))
                    for sid, s in model.schemes.items()})

    def get(self, scheme_id: str) -> Scheme:
        scheme = self.schemes.get(scheme_id)
        if scheme is None:
            raise SchemeError(f"no scheme {scheme_id!r}")
        if not scheme.active:
            raise SchemeError(f"scheme {scheme_id!r} was merged into {scheme.merged_into!r}")
        return scheme

    def active(self) -> list[Scheme]:
        return [s for s in self.schemes.values() if s.active]

    def schemes_of(self, record_id: int) -> list[str]:
        return sorted(s.scheme_id for s in self.active() if record_id in s.reports)


def valid_id(scheme_id: str) -> bool:
    return bool(_ID.match(scheme_id))


def _new_id(state: SchemeState) -> str:
    n = len(state.schemes) + 1
    while f"S{n:03d}" in state.schemes:
        n += 1
    return f"S{n:03d}"


def _append(review: "Review", who: str, *planned: events.Event) -> None:
    if not planned:
        return
    with store.write_transaction(review.engine) as conn:
        for event in planned:
            events.append(conn, who, event)


# --- planning: check against the state, then say which events to append -------------------
# Each plan_* function refuses what the state does not allow and applies what it
# accepts to `state`, so a bulk import (review.extraction) plans many in a row on one
# copy and appends them together, with the same checks as one call by hand.


def plan_create(state: SchemeState, name: str, scheme_id: str | None = None) -> events.SchemeCreated:
    name = (name or "").strip()
    if not name:
        raise SchemeError("a scheme needs a name")
    scheme_id = scheme_id or _new_id(state)
    if not _ID.match(scheme_id):
        raise SchemeError(f"scheme id {scheme_id!r}: use letters, digits, '_', '-' or '.' (at most 40)")
    if scheme_id in state.schemes:
        raise SchemeError(f"scheme {scheme_id!r} already exists ({state.schemes[scheme_id].name!r})")
    state.schemes[scheme_id] = Scheme(scheme_id, name)
    return events.SchemeCreated(scheme_id, name)


def plan_links(state: SchemeState, scheme_id: str, record_ids: Iterable[int], included: set[int],
               clusters: dict[int, int]) -> list[events.ReportLinked]:
    """Links of reports (records) to a scheme; only reports included at the last stage can inform one."""
    scheme = state.get(scheme_id)
    linked = []
    for record_id in record_ids:
        record_id = int(record_id)
        if record_id not in clusters:
            raise SchemeError(f"no such record: {record_id}")
        cluster = clusters[record_id]
        if cluster not in included:
            raise SchemeError(f"record {record_id} was not included at full text, so it cannot inform a scheme")
        if cluster not in scheme.reports and cluster not in linked:
            linked.append(cluster)
    scheme.reports.update(linked)
    return [events.ReportLinked(scheme_id, cluster) for cluster in linked]


def create_scheme(review: "Review", name: str, who: str, scheme_id: str | None = None) -> Scheme:
    event = plan_create(SchemeState.load(review), name, scheme_id)
    _append(review, who, event)
    return Scheme(event.scheme_id, event.name)


def rename_scheme(review: "Review", scheme_id: str, name: str, who: str) -> None:
    SchemeState.load(review).get(scheme_id)
    if not (name or "").strip():
        raise SchemeError("a scheme needs a name")
    _append(review, who, events.SchemeRenamed(scheme_id, name.strip()))


def included_reports(review: "Review") -> tuple[set[int], dict[int, int]]:
    """Clusters included at the last screening stage, and record -> cluster."""
    state = screening.ScreeningState.current(review)
    last = state.stages[-1]
    included = {c for c in state.screenable(last) if state.outcome(last, c) == screening.INCLUDE}
    return included, dict(state.clusters)


def link_reports(review: "Review", scheme_id: str, record_ids: Iterable[int], who: str) -> list[int]:
    """Link reports (records) to a scheme; returns the cluster ids linked.

    Only reports included at the last screening stage can inform a scheme.
    """
    included, clusters = included_reports(review)
    planned = plan_links(SchemeState.load(review), scheme_id, record_ids, included, clusters)
    _append(review, who, *planned)
    return [event.record_id for event in planned]


def unlink_report(review: "Review", scheme_id: str, record_id: int, who: str) -> None:
    scheme = SchemeState.load(review).get(scheme_id)
    cluster = review.cluster_ids().get(int(record_id), int(record_id))
    if cluster not in scheme.reports:
        raise SchemeError(f"record {record_id} is not linked to scheme {scheme_id!r}")
    _append(review, who, events.ReportUnlinked(scheme_id, cluster))


def merge_schemes(review: "Review", keep: str, absorb: str, who: str) -> None:
    """Two schemes turned out to be one: `absorb`'s reports move to `keep`."""
    if keep == absorb:
        raise SchemeError("cannot merge a scheme with itself")
    state = SchemeState.load(review)
    state.get(keep), state.get(absorb)
    _append(review, who, events.SchemesMerged(keep, absorb))


def split_scheme(review: "Review", scheme_id: str, record_ids: Iterable[int], name: str, who: str,
                 new_id: str | None = None) -> Scheme:
    """Move some of a scheme's reports to a new scheme."""
    state = SchemeState.load(review)
    source = state.get(scheme_id)
    clusters = review.cluster_ids()
    moved = sorted({clusters.get(int(r), int(r)) for r in record_ids})
    missing = [r for r in moved if r not in source.reports]
    if missing:
        raise SchemeError(f"records {missing} are not reports of scheme {scheme_id!r}")
    if not moved:
        raise SchemeError("name at least one report to split off")
    new_id = new_id or _new_id(state)
    if new_id in state.schemes or not _ID.match(new_id):
        raise SchemeError(f"scheme id {new_id!r} is taken or not valid")
    if not (name or "").strip():
        raise SchemeError("a scheme needs a name")
    _append(review, who, events.SchemeSplit(scheme_id, new_id, name.strip(), tuple(moved)))
    return Scheme(new_id, name.strip(), reports=set(moved))


def schemes_frame(review: "Review") -> pd.DataFrame:
    """One row per active scheme: id, name, number of reports and their record ids."""
    state = SchemeState.load(review)
    rows = [{"scheme_id": s.scheme_id, "name": s.name, "reports": len(s.reports),
             "record_ids": sorted(s.reports)} for s in state.active()]
    return pd.DataFrame(rows, columns=["scheme_id", "name", "reports", "record_ids"])
