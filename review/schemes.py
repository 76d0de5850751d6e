"""Schemes (studies) and the reports that inform them.

The unit of synthesis is the scheme, not the report: Mason et al. (2014)
included 122 reports covering 38 schemes. A report may inform several schemes
and a scheme has many reports. Creating, renaming, merging and splitting
schemes and linking reports are all events; the current state is derived.

Reports reach a scheme once included at the protocol's last screening stage.
"""

from __future__ import annotations

from review.errors import WorkbenchError
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import pandas as pd
from sqlalchemy import select

from review import screening, store

if TYPE_CHECKING:
    from review.project import Review

CREATE, RENAME, LINK, UNLINK, MERGE, SPLIT = (
    "scheme.create", "scheme.rename", "scheme.link", "scheme.unlink", "scheme.merge", "scheme.split")
SCHEME_EVENTS = (CREATE, RENAME, LINK, UNLINK, MERGE, SPLIT)
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


class SchemeError(WorkbenchError, ValueError):
    pass


@dataclass
class Scheme:
    scheme_id: str
    name: str
    merged_into: str | None = None
    reports: set[int] = field(default_factory=set)

    @property
    def active(self) -> bool:
        return self.merged_into is None


@dataclass
class SchemeState:
    schemes: dict[str, Scheme]

    @classmethod
    def load(cls, review: "Review") -> "SchemeState":
        with store.read_connection(review.engine) as conn:
            rows = conn.execute(select(store.events.c.kind, store.events.c.payload)
                                .where(store.events.c.kind.in_(SCHEME_EVENTS)).order_by(store.events.c.id)).all()
        schemes: dict[str, Scheme] = {}
        for kind, payload in rows:
            data = json.loads(payload)
            if kind == CREATE:
                schemes[data["scheme_id"]] = Scheme(data["scheme_id"], data["name"])
            elif kind == RENAME:
                schemes[data["scheme_id"]].name = data["name"]
            elif kind == LINK:
                schemes[data["scheme_id"]].reports.add(data["record_id"])
            elif kind == UNLINK:
                schemes[data["scheme_id"]].reports.discard(data["record_id"])
            elif kind == MERGE:
                keep, absorb = schemes[data["keep"]], schemes[data["absorb"]]
                keep.reports |= absorb.reports
                absorb.reports = set()
                absorb.merged_into = keep.scheme_id
            elif kind == SPLIT:
                source = schemes[data["scheme_id"]]
                moved = set(data["records"])
                source.reports -= moved
                schemes[data["new_id"]] = Scheme(data["new_id"], data["name"], reports=moved)
        return cls(schemes)

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


def _new_id(state: SchemeState) -> str:
    n = len(state.schemes) + 1
    while f"S{n:03d}" in state.schemes:
        n += 1
    return f"S{n:03d}"


def _append(review: "Review", who: str, kind: str, payload: dict, scheme_id: str) -> None:
    with store.write_transaction(review.engine) as conn:
        store.append_event(conn, who, kind, payload, entity="scheme", entity_id=scheme_id)


def create_scheme(review: "Review", name: str, who: str, scheme_id: str | None = None) -> Scheme:
    name = (name or "").strip()
    if not name:
        raise SchemeError("a scheme needs a name")
    state = SchemeState.load(review)
    scheme_id = scheme_id or _new_id(state)
    if not _ID.match(scheme_id):
        raise SchemeError(f"scheme id {scheme_id!r}: use letters, digits, '_', '-' or '.' (at most 40)")
    if scheme_id in state.schemes:
        raise SchemeError(f"scheme {scheme_id!r} already exists ({state.schemes[scheme_id].name!r})")
    _append(review, who, CREATE, {"scheme_id": scheme_id, "name": name}, scheme_id)
    return Scheme(scheme_id, name)


def rename_scheme(review: "Review", scheme_id: str, name: str, who: str) -> None:
    SchemeState.load(review).get(scheme_id)
    if not (name or "").strip():
        raise SchemeError("a scheme needs a name")
    _append(review, who, RENAME, {"scheme_id": scheme_id, "name": name.strip()}, scheme_id)


def included_reports(review: "Review") -> tuple[set[int], dict[int, int]]:
    """Clusters included at the last screening stage, and record -> cluster."""
    state = screening.ScreeningState.load(review)
    last = state.stages[-1]
    included = {c for c in state.screenable(last) if state.outcome(last, c) == screening.INCLUDE}
    return included, state.clusters


def link_reports(review: "Review", scheme_id: str, record_ids: Iterable[int], who: str) -> list[int]:
    """Link reports (records) to a scheme; returns the cluster ids linked.

    Only reports included at the last screening stage can inform a scheme.
    """
    state = SchemeState.load(review)
    scheme = state.get(scheme_id)
    included, clusters = included_reports(review)
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
    if linked:
        with store.write_transaction(review.engine) as conn:
            for cluster in linked:
                store.append_event(conn, who, LINK, {"scheme_id": scheme_id, "record_id": cluster},
                                   entity="scheme", entity_id=scheme_id)
    return linked


def unlink_report(review: "Review", scheme_id: str, record_id: int, who: str) -> None:
    scheme = SchemeState.load(review).get(scheme_id)
    cluster = review.cluster_ids().get(int(record_id), int(record_id))
    if cluster not in scheme.reports:
        raise SchemeError(f"record {record_id} is not linked to scheme {scheme_id!r}")
    _append(review, who, UNLINK, {"scheme_id": scheme_id, "record_id": cluster}, scheme_id)


def merge_schemes(review: "Review", keep: str, absorb: str, who: str) -> None:
    """Two schemes turned out to be one: `absorb`'s reports move to `keep`."""
    if keep == absorb:
        raise SchemeError("cannot merge a scheme with itself")
    state = SchemeState.load(review)
    state.get(keep), state.get(absorb)
    _append(review, who, MERGE, {"keep": keep, "absorb": absorb}, keep)


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
    _append(review, who, SPLIT, {"scheme_id": scheme_id, "new_id": new_id, "name": name.strip(),
                                 "records": moved}, scheme_id)
    return Scheme(new_id, name.strip(), reports=set(moved))


def schemes_frame(review: "Review") -> pd.DataFrame:
    """One row per active scheme: id, name, number of reports and their record ids."""
    state = SchemeState.load(review)
    rows = [{"scheme_id": s.scheme_id, "name": s.name, "reports": len(s.reports),
             "record_ids": sorted(s.reports)} for s in state.active()]
    return pd.DataFrame(rows, columns=["scheme_id", "name", "reports", "record_ids"])
