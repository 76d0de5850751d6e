"""Every kind of event in the log, defined once, and the one function that writes them.

The event log (`store.events`) is the review's memory: each row has a `kind`, an
actor, an entity and a JSON payload. This module says, for every kind, which
payload fields it carries and what makes one valid, as a frozen dataclass. All
writes go through `append`, which validates and then calls the low-level row
writer `store.append_event`; all reads go through `decode`, which the read model
(review.readmodel) uses to turn rows back into these dataclasses.

Operations do not call `append` blind: each module first checks the request
against the current state (from the read model) and only then appends, so a
single decision and a bulk import of many go through the same checks.

Adding a kind of event (e.g. for coding against a codebook, or a stopping rule)
------------------------------------------------------------------------------
1. Write a frozen dataclass here (or in your own module) that subclasses `Event`,
   with a class attribute `kind` (a dotted name: "<concept>.<verb>", never reused
   for a different meaning), `entity` (what `entity_id` names: "record",
   "scheme", ...) and one dataclass field per payload key. Fields with defaults
   are optional in old rows. If a payload key is not a valid Python name, map
   it in `renamed` ({"field_name": "payload key"}).
2. Override `entity_id()` when the entity id is not the field named `record_id`
   or `scheme_id`, and `check()` to refuse a malformed event (raise EventError
   naming the field). `check` sees one event alone; rules that need the state of
   the review (is this record eligible? does the scheme exist?) belong to the
   operation that builds the event, before it calls `append`.
3. Decorate the class with `@register`, so `decode` knows the kind.
4. Teach the read model to apply it: add a branch in `ReadModel._apply`
   (review/readmodel.py) that updates the state your feature reads. A kind with
   no branch there is still decoded, and kinds no class knows (written by a newer
   version of the workbench) are listed in `ReadModel.warnings`, which
   `review status` shows, instead of being skipped in silence.
5. Write through `events.append(conn, actor, YourEvent(...))` inside
   `store.write_transaction`, never `store.append_event` directly.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import ClassVar

from review import store
from review.errors import WorkbenchError


class EventError(WorkbenchError, ValueError):
    """An event that cannot be written (or a stored row that cannot be read back)."""


KINDS: dict[str, type["Event"]] = {}  # kind name -> its class; filled by @register at import
_PLANS: dict[type, tuple] = {}  # class -> how to read its payload (see _reading_plan)


def register(cls: type["Event"]) -> type["Event"]:
    """Make a kind known to `decode`; each kind name is defined once."""
    if cls.kind in KINDS and KINDS[cls.kind] is not cls:
        raise TypeError(f"event kind {cls.kind!r} is defined twice ({KINDS[cls.kind].__name__}, {cls.__name__})")
    KINDS[cls.kind] = cls
    _PLANS[cls] = _reading_plan(cls)
    return cls


@dataclass(frozen=True)
class Event:
    """Base of every event kind: a payload with a name."""

    kind: ClassVar[str] = ""
    entity: ClassVar[str | None] = None
    renamed: ClassVar[dict[str, str]] = {}
    # Optional payload keys left out when None, so payloads read as they always have.
    omit_if_none: ClassVar[tuple[str, ...]] = ()

    def entity_id(self) -> str | int | None:
        for name in ("record_id", "scheme_id"):
            if hasattr(self, name):
                return getattr(self, name)
        return None

    def check(self) -> None:
        """Refuse a malformed event (override per kind)."""

    def payload(self) -> dict:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value is None and f.name in self.omit_if_none:
                continue
            if isinstance(value, tuple):
                value = list(value)
            out[self.renamed.get(f.name, f.name)] = value
        return out

    @classmethod
    def from_payload(cls, data: dict) -> "Event":
        """The event a stored payload describes; keys this version does not know are ignored."""
        values = {}
        for name, key, as_tuple, default in _PLANS.get(cls) or _reading_plan(cls):
            if key in data:
                value = data[key]
                values[name] = tuple(value) if as_tuple and isinstance(value, list) else value
            elif default is _REQUIRED:
                raise EventError(f"event {cls.kind!r} has no {key!r}", field=key)
            else:
                values[name] = default() if callable(default) else default
        # Filled directly rather than through __init__: replaying a log builds every event,
        # and a frozen dataclass's __init__ costs several times as much per field.
        event = object.__new__(cls)
        event.__dict__.update(values)
        return event


_REQUIRED = object()


def _reading_plan(cls) -> tuple:
    """(field, payload key, list read as tuple, default) per field: worked out once per kind, at `register`.

    The default is _REQUIRED, a value, or a factory (for mutable defaults).
    """
    return tuple((f.name, cls.renamed.get(f.name, f.name), _is_tuple(f),
                  f.default_factory if f.default_factory is not dataclasses.MISSING
                  else _REQUIRED if f.default is dataclasses.MISSING else f.default)
                 for f in dataclasses.fields(cls))


def _is_tuple(f: dataclasses.Field) -> bool:
    return str(f.type).startswith("tuple")


def _require(condition: bool, kind: str, field_name: str, message: str) -> None:
    if not condition:
        raise EventError(f"{kind}: {message}", field=field_name)


def _text(value) -> bool:
    return isinstance(value, str)


def _ident(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def append(conn, actor: str, event: Event) -> int:
    """Validate one event and write it inside the caller's transaction; returns its id."""
    if type(event).kind not in KINDS:
        raise EventError(f"event kind {type(event).kind!r} is not registered")
    _require(bool(actor), event.kind, "actor", "who acted must be named")
    event.check()
    return store.append_event(conn, actor, event.kind, event.payload(), entity=event.entity,
                              entity_id=event.entity_id())


def decode(kind: str, payload: dict) -> Event | None:
    """The typed event of a stored row, or None when this version does not know the kind."""
    cls = KINDS.get(kind)
    if cls is None:
        return None
    return cls.from_payload(payload)


# --- imports -----------------------------------------------------------------------------


@register
@dataclass(frozen=True)
class ImportDone(Event):
    """A file of records was imported (the records table holds them, tied to `import_id`)."""

    kind: ClassVar[str] = "import"
    entity: ClassVar[str] = "import"
    import_id: int = 0  # not in the payload: the entity id (set by the read model)
    file: str = ""
    sha256: str = ""
    format: str = ""
    source: str = ""
    source_kind: str = "database"
    search_date: str | None = None
    records: int = 0
    forced: bool = False

    def entity_id(self):
        return self.import_id

    def payload(self) -> dict:
        data = super().payload()
        data.pop("import_id")
        return data

    def check(self) -> None:
        _require(bool(self.file), self.kind, "file", "the file name is missing")
        _require(_ident(self.records) and self.records > 0, self.kind, "records", "an import holds records")


# --- deduplication -------------------------------------------------------------------------


@register
@dataclass(frozen=True)
class DedupRun(Event):
    """A deduplication run; its pairs are in `dedup_pairs`, tied to this event's id."""

    kind: ClassVar[str] = "dedup.run"
    entity: ClassVar[str] = "dedup"
    thresholds: dict = field(default_factory=dict)
    counts: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)

    def entity_id(self):
        return None


PAIR_DECISIONS = ("same", "different", "skip")


@register
@dataclass(frozen=True)
class PairDecision(Event):
    """A reviewer says two records are the same work, different works, or skips the pair."""

    kind: ClassVar[str] = "dedup.decision"
    entity: ClassVar[str] = "pair"
    a: int
    b: int
    decision: str
    note: str = ""

    def entity_id(self):
        return f"{self.a}-{self.b}"

    def check(self) -> None:
        _require(_ident(self.a) and _ident(self.b) and self.a < self.b, self.kind, "a",
                 "a pair is two different record ids, smaller first")
        _require(self.decision in PAIR_DECISIONS, self.kind, "decision",
                 f"decision must be one of {', '.join(PAIR_DECISIONS)}, not {self.decision!r}")


@register
@dataclass(frozen=True)
class ClusterSplit(Event):
    """A record taken out of its cluster: different from every record it was with."""

    kind: ClassVar[str] = "dedup.split"
    entity: ClassVar[str] = "record"
    renamed: ClassVar[dict[str, str]] = {"others": "from"}
    record_id: int
    others: tuple[int, ...]
    note: str = ""

    def check(self) -> None:
        _require(_ident(self.record_id), self.kind, "record_id", "not a record id")
        _require(len(self.others) > 0 and self.record_id not in self.others, self.kind, "from",
                 "name the other records of the cluster")


# --- screening ----------------------------------------------------------------------------

SCREEN_DECISIONS = ("include", "exclude", "maybe")


@register
@dataclass(frozen=True)
class ScreenDecision(Event):
    """One reviewer's decision on a cluster (named by `record_id`) at a stage."""

    kind: ClassVar[str] = "screen.decision"
    entity: ClassVar[str] = "record"
    omit_if_none: ClassVar[tuple[str, ...]] = ("order", "imported_from", "imported_by")
    stage: str
    reviewer: str
    record_id: int
    decision: str
    reasons: tuple[str, ...] = ()
    note: str = ""
    decided_at: str | None = None
    order: str | None = None  # how the record came to be shown (session order)
    imported_from: str | None = None  # file name, for decisions brought in by import_decisions
    imported_by: str | None = None

    def check(self) -> None:
        _require(_ident(self.record_id), self.kind, "record_id", "not a record id")
        _require(_text(self.stage) and bool(self.stage), self.kind, "stage", "the stage is missing")
        _require(_text(self.reviewer) and bool(self.reviewer), self.kind, "reviewer", "the reviewer is missing")
        _require(self.decision in SCREEN_DECISIONS, self.kind, "decision",
                 f"decision must be one of {', '.join(SCREEN_DECISIONS)}, not {self.decision!r}")
        _require(not self.reasons or self.decision == "exclude", self.kind, "reasons",
                 "reasons go with an exclusion")


@register
@dataclass(frozen=True)
class ScreenUndo(Event):
    """A reviewer withdraws one of their decisions (named by its event id)."""

    kind: ClassVar[str] = "screen.undo"
    entity: ClassVar[str] = "record"
    stage: str
    undoes: int
    record_id: int

    def check(self) -> None:
        _require(_ident(self.undoes), self.kind, "undoes", "name the decision event undone")


@register
@dataclass(frozen=True)
class ScreenResolution(Event):
    """A conflict at a stage settled by a third reviewer or by consensus."""

    kind: ClassVar[str] = "screen.resolution"
    entity: ClassVar[str] = "record"
    stage: str
    record_id: int
    decision: str
    resolved_by: str
    method: str
    reasons: tuple[str, ...] = ()
    note: str = ""

    def check(self) -> None:
        _require(self.decision in ("include", "exclude"), self.kind, "decision",
                 "a resolution must include or exclude")
        _require(self.method in ("third_reviewer", "consensus"), self.kind, "method",
                 f"unknown method {self.method!r}")


@register
@dataclass(frozen=True)
class FullTextAttached(Event):
    kind: ClassVar[str] = "fulltext.attach"
    entity: ClassVar[str] = "record"
    record_id: int
    location: str

    def check(self) -> None:
        _require(bool(self.location), self.kind, "location", "give a file path or URL")


@register
@dataclass(frozen=True)
class FullTextNotRetrieved(Event):
    kind: ClassVar[str] = "fulltext.not_retrieved"
    entity: ClassVar[str] = "record"
    record_id: int
    note: str = ""


@register
@dataclass(frozen=True)
class RemovedBeforeScreening(Event):
    """PRISMA's "records removed before screening" (other than duplicates)."""

    kind: ClassVar[str] = "screen.removed"
    entity: ClassVar[str] = "record"
    record_id: int
    reason: str
    automated: bool = False
    removed_by: str = ""

    def check(self) -> None:
        _require(bool(self.reason), self.kind, "reason", "say why the record is removed")


@register
@dataclass(frozen=True)
class RestoredToScreening(Event):
    kind: ClassVar[str] = "screen.restored"
    entity: ClassVar[str] = "record"
    record_id: int


# --- schemes ------------------------------------------------------------------------------


@register
@dataclass(frozen=True)
class SchemeCreated(Event):
    kind: ClassVar[str] = "scheme.create"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    name: str

    def check(self) -> None:
        _require(bool(self.scheme_id), self.kind, "scheme_id", "the scheme id is missing")
        _require(bool(self.name), self.kind, "name", "a scheme needs a name")


@register
@dataclass(frozen=True)
class SchemeRenamed(Event):
    kind: ClassVar[str] = "scheme.rename"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    name: str

    def check(self) -> None:
        _require(bool(self.name), self.kind, "name", "a scheme needs a name")


@register
@dataclass(frozen=True)
class ReportLinked(Event):
    kind: ClassVar[str] = "scheme.link"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    record_id: int

    def entity_id(self):
        return self.scheme_id


@register
@dataclass(frozen=True)
class ReportUnlinked(Event):
    kind: ClassVar[str] = "scheme.unlink"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    record_id: int

    def entity_id(self):
        return self.scheme_id


@register
@dataclass(frozen=True)
class SchemesMerged(Event):
    kind: ClassVar[str] = "scheme.merge"
    entity: ClassVar[str] = "scheme"
    keep: str
    absorb: str

    def entity_id(self):
        return self.keep

    def check(self) -> None:
        _require(self.keep != self.absorb, self.kind, "absorb", "cannot merge a scheme with itself")


@register
@dataclass(frozen=True)
class SchemeSplit(Event):
    kind: ClassVar[str] = "scheme.split"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    new_id: str
    name: str
    records: tuple[int, ...]

    def check(self) -> None:
        _require(len(self.records) > 0, self.kind, "records", "name at least one report to split off")


# --- extraction ---------------------------------------------------------------------------


@register
@dataclass(frozen=True)
class ExtractionSaved(Event):
    """One extractor's whole form for a scheme and template, draft or complete."""

    kind: ClassVar[str] = "extract.save"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    template: str
    template_version: str
    extractor: str
    status: str
    values: dict

    def check(self) -> None:
        _require(self.status in ("draft", "complete"), self.kind, "status",
                 f"must be draft or complete, not {self.status!r}")
        _require(isinstance(self.values, dict), self.kind, "values", "values must be a mapping")


@register
@dataclass(frozen=True)
class ExtractionAgreed(Event):
    """The version of a scheme's extraction the team settled on."""

    kind: ClassVar[str] = "extract.agree"
    entity: ClassVar[str] = "scheme"
    scheme_id: str
    template: str
    template_version: str
    values: dict
    agreed_by: str
    based_on: tuple[int, ...] = ()
    note: str = ""

    def check(self) -> None:
        _require(isinstance(self.values, dict), self.kind, "values", "values must be a mapping")
