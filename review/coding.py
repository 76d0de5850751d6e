"""Coding findings and full-text passages with codes from the codebook; agreement between coders.

A unit of coding is either
- a *finding*: text extracted for a scheme with a template, either one row of a
  group of quotations (the `qualitative_study` template's `findings`) or a text
  field (e.g. the `barriers` of an `irm_scheme` extraction), optionally narrowed
  to a character span of that text; or
- a *passage*: a character span of one page of a record's attached full text
  (review.passages).

Each coder's codes for a unit are one `coding.set` event (the latest one counts;
an empty list clears it). The quoted text, its location, the scheme(s) it speaks
for and the codebook version are stored in the event, so a coding survives a
re-extraction of the full text or a later edit of the extraction. Codes are
checked against the codebook inside the writing transaction: nothing can be
coded with a code that no longer exists.

Codebook changes and codings are replayed together in log order, so a merge
moves the codings made before it, a rename carries them to the new id, and a
split gives each coding the new codes it was assigned.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import codebook as cb
from review import events, store

from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review

SET_EVENT = cb.CODING_EVENT
FINDING, PASSAGE = "finding", "passage"
QUALITATIVE_TEMPLATE = "qualitative_study"


class CodingError(WorkbenchError, ValueError):
    pass


@dataclass(frozen=True)
class Unit:
    """What is coded. Findings: scheme, template, field, row (1-based, for groups); passages: record, page.

    `start`/`end` narrow either to a character span of its text (end exclusive).
    """

    kind: str
    scheme_id: str | None = None
    template: str | None = None
    field: str | None = None
    row: int | None = None
    record_id: int | None = None
    page: int | None = None
    start: int | None = None
    end: int | None = None

    @property
    def key(self) -> str:
        span = f"@{self.start}-{self.end}" if self.start is not None else ""
        if self.kind == FINDING:
            row = f"[{self.row}]" if self.row is not None else ""
            return f"finding:{self.scheme_id}:{self.template}:{self.field}{row}{span}"
        return f"passage:{self.record_id}:p{self.page}{span}"

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict) -> "Unit":
        return cls(**data)


def finding(scheme_id: str, row: int | None = None, field: str = "findings", template: str = QUALITATIVE_TEMPLATE,
            start: int | None = None, end: int | None = None) -> Unit:
    return Unit(FINDING, scheme_id=scheme_id, template=template, field=field, row=row, start=start, end=end)


def passage(record_id: int, page: int, start: int, end: int) -> Unit:
    return Unit(PASSAGE, record_id=int(record_id), page=int(page), start=int(start), end=int(end))


@dataclass
class Coding:
    coding_id: int  # the event that set it
    unit: Unit
    coder: str
    codes: list[str]
    quote: str
    location: str
    schemes: list[str]
    speaker: str = ""
    note: str = ""
    codebook_version: int = 0
    coded_at: str = ""

    @property
    def key(self) -> str:
        return self.unit.key


# --- resolving a unit to its text ------------------------------------------------------------


@dataclass
class Resolved:
    text: str  # the whole text of the finding or page
    quote: str  # the part coded
    location: str
    schemes: list[str]
    speaker: str = ""
    source: str = ""  # e.g. sha256 of the page text


def _check_span(unit: Unit, text: str, what: str) -> str:
    if unit.start is None and unit.end is None:
        return text
    if unit.start is None or unit.end is None:
        raise CodingError(f"{what}: give both start and end of the span")
    if not (0 <= unit.start < unit.end <= len(text)):
        raise CodingError(f"{what}: span {unit.start}-{unit.end} is outside the text (0-{len(text)})")
    return text[unit.start:unit.end]


def resolve(review: "Review", unit: Unit) -> Resolved:
    """The text behind a unit, checked: a span outside its text or a page outside the document is refused."""
    from review import extraction, schemes

    if unit.kind == FINDING:
        state = schemes.SchemeState.load(review)
        try:
            state.get(unit.scheme_id)
        except schemes.SchemeError as exc:
            raise CodingError(str(exc)) from None
        values = extraction.final_values(review, unit.template).get(unit.scheme_id)
        if values is None:
            raise CodingError(f"scheme {unit.scheme_id}: no final {unit.template!r} extraction to code")
        value = values.get(unit.field)
        what = f"scheme {unit.scheme_id} {unit.field}"
        speaker = ""
        if unit.row is not None:
            if not isinstance(value, list) or not (1 <= unit.row <= len(value)):
                count = len(value) if isinstance(value, list) else 0
                raise CodingError(f"{what}: no row {unit.row} (there are {count})")
            row = value[unit.row - 1]
            text, location = str(row.get("quote", "")), str(row.get("location", ""))
            speaker = row.get("speaker") or ""
            speaker = speaker if isinstance(speaker, str) else ""
            what += f" row {unit.row}"
        else:
            if not isinstance(value, str) or not value.strip():
                raise CodingError(f"{what}: no text to code")
            text, location = value, f"{unit.template}: {unit.field}"
        quote = _check_span(unit, text, what)
        return Resolved(text, quote, location, [unit.scheme_id], speaker)
    if unit.kind == PASSAGE:
        from review import passages

        document = passages.for_record(review, unit.record_id)
        if not (1 <= unit.page <= len(document.pages)):
            raise CodingError(f"record {unit.record_id}: page {unit.page} is outside the full text "
                              f"(pages 1-{len(document.pages)})")
        page = document.pages[unit.page - 1]
        quote = _check_span(unit, page.text, f"record {unit.record_id} page {unit.page}")
        if unit.start is None:
            raise CodingError("a passage needs a span (start and end)")
        state = schemes.SchemeState.load(review)
        cluster = review.cluster_ids().get(unit.record_id, unit.record_id)
        label = f"p. {page.number}" + (f", {page.label}" if page.label else "")
        return Resolved(page.text, quote, label, state.schemes_of(cluster), "",
                        hashlib.sha256(page.text.encode("utf-8")).hexdigest())
    raise CodingError(f"unknown kind of unit {unit.kind!r} (finding or passage)")


# --- writing ---------------------------------------------------------------------------------


def code(review: "Review", unit: Unit, codes: Iterable[str], coder: str, speaker: str | None = None,
         note: str = "", schemes: Iterable[str] | None = None) -> Coding:
    """Set `coder`'s codes for `unit` (replacing that coder's earlier codes for it; [] clears them).

    Every code must exist in the codebook now; the check runs inside the writing
    transaction so a code merged away a moment earlier cannot slip in. `schemes`
    overrides the schemes a passage speaks for (default: the schemes its record informs).
    """
    coder = (coder or "").strip()
    if not coder:
        raise CodingError("name the coder")
    codes = list(dict.fromkeys(c.strip() for c in codes if c and c.strip()))
    resolved = resolve(review, unit)
    scheme_ids = list(schemes) if schemes is not None else resolved.schemes
    with store.write_transaction(review.engine) as conn:
        book = cb.current(review, conn=conn)
        for c in codes:
            try:
                book.get(c)
            except cb.CodebookError as exc:
                raise CodingError(f"cannot code with {c!r}: {exc.reason}") from None
        payload = {"unit": unit.to_dict(), "key": unit.key, "coder": coder, "codes": codes,
                   "quote": resolved.quote, "location": resolved.location, "schemes": scheme_ids,
                   "speaker": (speaker if speaker is not None else resolved.speaker) or "", "note": note,
                   "codebook_version": book.version, "text_sha256": resolved.source}
        event_id = events.append(conn, coder, events.CodingSet(**payload))
    return Coding(event_id, unit, coder, codes, resolved.quote, resolved.location, scheme_ids,
                  payload["speaker"], note, book.version, store.utc_now())


def code_many(review: "Review", items: list[dict], who: str) -> int:
    """Set many codings in one transaction (all or nothing); each item: unit, codes, coder, speaker, note, schemes.

    Every item is resolved and checked before anything is written.
    """
    planned = []
    problems = []
    for i, item in enumerate(items, start=1):
        unit = item["unit"] if isinstance(item["unit"], Unit) else Unit.from_dict(item["unit"])
        try:
            resolved = resolve(review, unit)
        except CodingError as exc:
            problems.append(f"item {i}: {exc}")
            continue
        planned.append((unit, item, resolved))
    if problems:
        raise CodingError("nothing coded:\n  " + "\n  ".join(problems))
    with store.write_transaction(review.engine) as conn:
        book = cb.current(review, conn=conn)
        for i, (unit, item, resolved) in enumerate(planned, start=1):
            codes = list(dict.fromkeys(item.get("codes", [])))
            for c in codes:
                try:
                    book.get(c)
                except cb.CodebookError as exc:
                    raise CodingError(f"item {i}: cannot code with {c!r}: {exc.reason}; nothing coded") from None
            coder = item.get("coder") or who
            payload = {"unit": unit.to_dict(), "key": unit.key, "coder": coder, "codes": codes,
                       "quote": resolved.quote, "location": item.get("location") or resolved.location,
                       "schemes": list(item.get("schemes") or resolved.schemes),
                       "speaker": item.get("speaker", resolved.speaker) or "", "note": item.get("note", ""),
                       "codebook_version": book.version, "text_sha256": resolved.source}
            events.append(conn, coder, events.CodingSet(**payload))
    return len(planned)


# --- reading: codebook and codings replayed together -------------------------------------------


def replay(review: "Review") -> tuple[cb.Codebook, list[Coding]]:
    """The codebook in force and every current coding (non-empty), codebook changes applied to them."""
    book, rows = cb.replay_with_codings(review)
    return book, [Coding(event_id, Unit.from_dict(data["unit"]), data["coder"], codes, data["quote"],
                         data["location"], list(data["schemes"]), data.get("speaker", ""), data.get("note", ""),
                         data.get("codebook_version", 0), created)
                  for event_id, created, data, codes in rows]


def current_codings(review: "Review") -> list[Coding]:
    return replay(review)[1]


def codings_frame(review: "Review") -> pd.DataFrame:
    """One row per coding and code: unit, coder, code and label, quote, location, speaker, schemes."""
    book, codings = replay(review)
    rows = []
    for c in codings:
        for code_id in c.codes:
            rows.append({"coding_id": c.coding_id, "unit": c.key, "kind": c.unit.kind, "coder": c.coder,
                         "code": code_id, "label": book.codes[code_id].label if code_id in book.codes else code_id,
                         "quote": c.quote, "location": c.location, "speaker": c.speaker,
                         "schemes": list(c.schemes)})
    return pd.DataFrame(rows, columns=["coding_id", "unit", "kind", "coder", "code", "label", "quote", "location",
                                       "speaker", "schemes"])


# --- agreement -------------------------------------------------------------------------------


def agreement(review: "Review", coders: Iterable[str] | None = None) -> pd.DataFrame:
    """Agreement per code between each pair of coders, over the units both coded.

    For each code, each unit both coders coded is a yes/no rating per coder
    (applied the code or not). Cohen's kappa is given where it is defined;
    where it is not (every rating the same), the measure is percentage agreement.
    Codes neither coder applied on the shared units are left out.
    """
    from review.screening import cohen_kappa

    book, codings = replay(review)
    by_coder: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for c in codings:
        by_coder[c.coder][c.key] = set(c.codes)
    names = sorted(by_coder) if coders is None else list(coders)
    rows = []
    for a, b in combinations(names, 2):
        common = sorted(set(by_coder.get(a, {})) & set(by_coder.get(b, {})))
        used = set().union(*[by_coder[a][u] | by_coder[b][u] for u in common]) if common else set()
        for code_id in [c.code for c in book.walk()] + sorted(used - set(book.codes)):
            if code_id not in used:
                continue
            first = ["yes" if code_id in by_coder[a][u] else "no" for u in common]
            second = ["yes" if code_id in by_coder[b][u] else "no" for u in common]
            pairs = list(zip(first, second))
            agree = sum(x == y for x, y in pairs)
            # With one rating throughout (both coders said yes to every shared unit) kappa is 0/0.
            kappa = cohen_kappa(first, second) if len(set(first) | set(second)) > 1 else math.nan
            rows.append({"code": code_id, "label": book.codes[code_id].label if code_id in book.codes else code_id,
                         "coder_a": a, "coder_b": b, "units": len(common),
                         "both": pairs.count(("yes", "yes")), "a_only": pairs.count(("yes", "no")),
                         "b_only": pairs.count(("no", "yes")), "neither": pairs.count(("no", "no")),
                         "percent_agreement": round(100 * agree / len(common), 1),
                         "kappa": round(kappa, 3) if not math.isnan(kappa) else math.nan,
                         "measure": "kappa" if not math.isnan(kappa) else "percent agreement"})
    return pd.DataFrame(rows, columns=["code", "label", "coder_a", "coder_b", "units", "both", "a_only", "b_only",
                                       "neither", "percent_agreement", "kappa", "measure"])
