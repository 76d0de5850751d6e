"""The codebook of a qualitative synthesis: a tree of codes, versioned through the log.

Each code has an id (`code`), a label, a definition, a parent (None at the top),
and optionally a polarity (barrier / facilitator) and a level (e.g. national,
organisational, local). The codebook is written as a YAML file people can edit
(`load_file` / `dump`), but what counts is the log: every change is an event
(add, edit, move, rename, merge, split, retire), so the codebook in force at any
time, and its version, can be rebuilt.

Codings (review.coding) name codes by id. Changes that touch codings move them
rather than lose them: a merge moves every coding of the absorbed code to the
code kept; a rename gives the code a new id and its codings follow; a split
needs to be told which codings go to which new code. A code that was merged,
renamed, split or retired no longer exists: nothing can be coded with it.

YAML format (a flat list; `parent` names another code of the same file):

    title: Barriers and facilitators      # optional
    levels: [national, organisational, local]   # optional: allowed levels
    codes:
      - code: organisational
        label: Organisational issues
        definition: Practical and political challenges of managing pooled budgets ...
      - code: pooled_budgets
        label: Managing pooled budgets
        parent: organisational
        polarity: barrier
        level: local
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pandas as pd
import yaml
from sqlalchemy import select

from review import events, store, yaml_lines
from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review

ADD, EDIT, MOVE, RENAME, MERGE, SPLIT, RETIRE = (
    "codebook.add", "codebook.edit", "codebook.move", "codebook.rename", "codebook.merge", "codebook.split",
    "codebook.retire")
CODEBOOK_EVENTS = (ADD, EDIT, MOVE, RENAME, MERGE, SPLIT, RETIRE)
# Written by review.coding; replayed here, in log order with the codebook's own events, so that a
# merge, rename or split moves the codings made before it (and this module needs no import of coding).
CODING_EVENT = "coding.set"
POLARITIES = ("barrier", "facilitator")
_ID = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,79}$")
FIELDS = ("code", "label", "definition", "parent", "polarity", "level")


class CodebookError(WorkbenchError, ValueError):
    """A codebook file or change that cannot be accepted; names file and line where there is one."""

    def __init__(self, reason: str, file: str | None = None, line: int | None = None):
        self.reason = reason
        super().__init__(reason, file=file, line=line)


@dataclass
class Code:
    code: str
    label: str
    definition: str = ""
    parent: str | None = None
    polarity: str | None = None
    level: str | None = None

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, "") or k in ("code", "label")}


@dataclass
class Codebook:
    """The codes in force, in the order they were added, and what became of retired ids."""

    codes: dict[str, Code] = field(default_factory=dict)
    version: int = 0  # number of codebook events applied
    gone: dict[str, str] = field(default_factory=dict)  # retired id -> why ("merged into x", ...)
    levels: tuple[str, ...] = ()

    def get(self, code: str) -> Code:
        if code not in self.codes:
            if code in self.gone:
                raise CodebookError(f"code {code!r} no longer exists ({self.gone[code]})")
            raise CodebookError(f"no code {code!r} in the codebook")
        return self.codes[code]

    def children(self, code: str | None) -> list[Code]:
        return [c for c in self.codes.values() if c.parent == code]

    def roots(self) -> list[Code]:
        return self.children(None)

    def ancestors(self, code: str) -> list[str]:
        """The code's parents, nearest first."""
        out, seen = [], {code}
        parent = self.codes[code].parent
        while parent is not None and parent not in seen:
            out.append(parent)
            seen.add(parent)
            parent = self.codes[parent].parent
        return out

    def descendants(self, code: str) -> list[str]:
        out = []
        for child in self.children(code):
            out.append(child.code)
            out += self.descendants(child.code)
        return out

    def depth(self, code: str) -> int:
        return len(self.ancestors(code))

    def path_label(self, code: str) -> str:
        """Labels from the root down, e.g. 'Organisational issues › Managing pooled budgets'."""
        return " › ".join(self.codes[c].label for c in [*reversed(self.ancestors(code)), code])

    def walk(self) -> list[Code]:
        """Every code, depth first, children in the order they were added."""
        out: list[Code] = []

        def visit(parent):
            for child in self.children(parent):
                out.append(child)
                visit(child.code)
        visit(None)
        return out

    def tree_lines(self) -> list[str]:
        lines = []
        for c in self.walk():
            extra = ", ".join(x for x in (c.polarity, c.level) if x)
            lines.append(f"{'  ' * self.depth(c.code)}{c.label} [{c.code}]" + (f" ({extra})" if extra else ""))
        return lines

    def frame(self) -> pd.DataFrame:
        rows = [{"code": c.code, "label": c.label, "parent": c.parent or "", "level": c.level or "",
                 "polarity": c.polarity or "", "depth": self.depth(c.code), "definition": c.definition}
                for c in self.walk()]
        return pd.DataFrame(rows, columns=["code", "label", "parent", "level", "polarity", "depth", "definition"])


# --- the YAML file ---------------------------------------------------------------------------


def parse(text: str, file: str = "<codebook>") -> tuple[list[Code], tuple[str, ...]]:
    """Codes (in file order) and allowed levels from a codebook YAML text; CodebookError names file and line."""
    try:
        root = yaml_lines.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise CodebookError(f"not valid YAML: {getattr(exc, 'problem', exc)}", file,
                            mark.line + 1 if mark else None) from None
    if not isinstance(data, dict) or not isinstance(data.get("codes"), list):
        raise CodebookError("expected a mapping with a list under 'codes'", file, 1)
    unknown = set(data) - {"title", "levels", "codes"}
    if unknown:
        key = sorted(unknown)[0]
        raise CodebookError(f"unknown key {key!r} (use title, levels, codes)", file,
                            yaml_lines.line_of(root, [key], key=True))
    levels = data.get("levels") or []
    if not isinstance(levels, list) or not all(isinstance(x, str) for x in levels):
        raise CodebookError("levels must be a list of names", file, yaml_lines.line_of(root, ["levels"]))
    codes: list[Code] = []
    lines: dict[str, int] = {}
    for i, item in enumerate(data["codes"]):
        line = yaml_lines.line_of(root, ["codes", i])
        if not isinstance(item, dict):
            raise CodebookError("each code is a mapping with code, label, definition, parent", file, line)
        for key in item:
            if key not in FIELDS:
                raise CodebookError(f"unknown field {key!r} (use {', '.join(FIELDS)})", file,
                                    yaml_lines.line_of(root, ["codes", i, key], key=True))
        values = {k: (None if item.get(k) is None else str(item.get(k)).strip()) for k in FIELDS}
        code = values["code"] or ""
        if not _ID.match(code):
            raise CodebookError(f"code id {code!r}: start with a letter; letters, digits, '_', '-', '.' "
                                f"(at most 80)", file, yaml_lines.line_of(root, ["codes", i, "code"]))
        if code in lines:
            raise CodebookError(f"duplicate code {code!r} (first defined on line {lines[code]})", file,
                                yaml_lines.line_of(root, ["codes", i, "code"]))
        if not values["label"]:
            raise CodebookError(f"code {code!r} needs a label", file, line)
        try:
            _check_values(values["polarity"], values["level"], tuple(levels))
        except CodebookError as exc:
            which = "polarity" if "polarity" in exc.reason else "level"
            raise CodebookError(f"code {code!r}: {exc.reason}", file,
                                yaml_lines.line_of(root, ["codes", i, which])) from None
        lines[code] = line
        codes.append(Code(code, values["label"], values["definition"] or "", values["parent"] or None,
                          values["polarity"] or None, values["level"] or None))
    by_id = {c.code: c for c in codes}
    for i, c in enumerate(codes):
        if c.parent is not None and c.parent not in by_id:
            raise CodebookError(f"code {c.code!r}: parent {c.parent!r} is not a code of this codebook", file,
                                yaml_lines.line_of(root, ["codes", i, "parent"]))
    for i, c in enumerate(codes):
        cycle = _cycle_from(c.code, {x.code: x.parent for x in codes})
        if cycle:
            raise CodebookError(f"code {c.code!r}: its parents form a cycle ({' → '.join(cycle)})", file,
                                yaml_lines.line_of(root, ["codes", i, "parent"]))
    return codes, tuple(levels)


def _cycle_from(code: str, parents: dict[str, str | None]) -> list[str] | None:
    seen = [code]
    parent = parents.get(code)
    while parent is not None:
        if parent == code:
            return seen + [code]
        if parent in seen:
            return None  # a cycle further up; reported at one of its own codes
        seen.append(parent)
        parent = parents.get(parent)
    return None


def _check_values(polarity: str | None, level: str | None, levels: tuple[str, ...]) -> None:
    if polarity and polarity not in POLARITIES:
        raise CodebookError(f"polarity must be one of {', '.join(POLARITIES)}, not {polarity!r}")
    if level and levels and level not in levels:
        raise CodebookError(f"level must be one of {', '.join(levels)}, not {level!r}")


def load_file(path: str | Path) -> tuple[list[Code], tuple[str, ...]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CodebookError(f"cannot read: {exc}", str(path)) from None
    return parse(text, str(path))


def dump(book: Codebook, title: str | None = None) -> str:
    """The codebook in force as YAML (parents before children), ready to edit and load again."""
    data: dict = {}
    if title:
        data["title"] = title
    if book.levels:
        data["levels"] = list(book.levels)
    data["codes"] = [c.to_dict() for c in book.walk()]
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


# --- the codebook in force, from the log ------------------------------------------------------


def _events(review: "Review", until: int | None = None, conn=None):
    query = (select(store.events.c.id, store.events.c.kind, store.events.c.payload)
             .where(store.events.c.kind.in_(CODEBOOK_EVENTS)).order_by(store.events.c.id))
    if until is not None:
        query = query.where(store.events.c.id <= until)
    if conn is not None:
        return [(i, k, json.loads(p)) for i, k, p in conn.execute(query)]
    with store.read_connection(review.engine) as c:
        return [(i, k, json.loads(p)) for i, k, p in c.execute(query)]


def apply(book: Codebook, kind: str, data: dict) -> None:
    """Apply one codebook event to `book` (also used by review.coding's replay)."""
    book.version += 1
    if kind == ADD:
        book.codes[data["code"]] = Code(**{k: data.get(k) for k in FIELDS})
        if data.get("levels"):
            book.levels = tuple(data["levels"])
    elif kind == EDIT:
        current = book.codes[data["code"]]
        book.codes[data["code"]] = replace(current, **data["changes"])
    elif kind == MOVE:
        book.codes[data["code"]].parent = data["parent"]
    elif kind == RENAME:
        old, new = data["code"], data["new_code"]
        code = book.codes.pop(old)
        book.codes[new] = replace(code, code=new, label=data.get("label") or code.label)
        for c in book.codes.values():
            if c.parent == old:
                c.parent = new
        book.gone[old] = f"renamed to {new!r}"
    elif kind == MERGE:
        absorb, keep = data["absorb"], data["keep"]
        for c in book.codes.values():
            if c.parent == absorb:
                c.parent = keep
        del book.codes[absorb]
        book.gone[absorb] = f"merged into {keep!r}"
    elif kind == SPLIT:
        source = book.codes.pop(data["code"])
        for new in data["into"]:
            book.codes[new["code"]] = Code(**{k: new.get(k) for k in FIELDS})
        for c in book.codes.values():
            if c.parent == source.code:
                c.parent = data["into"][0]["code"]
        book.gone[source.code] = f"split into {', '.join(repr(n['code']) for n in data['into'])}"
    elif kind == RETIRE:
        del book.codes[data["code"]]
        book.gone[data["code"]] = "retired"


def current(review: "Review", until: int | None = None, conn=None) -> Codebook:
    """The codebook in force (after event `until`, if given; read through `conn` inside a transaction)."""
    book = Codebook()
    for _, kind, data in _events(review, until, conn):
        apply(book, kind, data)
    return book


def replay_with_codings(review: "Review") -> tuple[Codebook, list[tuple[int, str, dict, list[str]]]]:
    """The codebook in force, and every current coding as (event id, time, payload, codes now).

    The latest coding per unit and coder counts; one whose codes are now empty is left out.
    """
    with store.read_connection(review.engine) as conn:
        rows = conn.execute(select(store.events.c.id, store.events.c.kind, store.events.c.payload,
                                   store.events.c.created_at)
                            .where(store.events.c.kind.in_((*CODEBOOK_EVENTS, CODING_EVENT)))
                            .order_by(store.events.c.id)).all()
    book = Codebook()
    codings: dict[tuple[str, str], list] = {}  # (unit key, coder) -> [event id, time, payload, codes]
    for event_id, kind, payload, created in rows:
        data = json.loads(payload)
        if kind == CODING_EVENT:
            codings[(data["key"], data["coder"])] = [event_id, created, data, list(data["codes"])]
            continue
        apply(book, kind, data)
        if kind == MERGE:
            mapping = {data["absorb"]: [data["keep"]]}
        elif kind == RENAME:
            mapping = {data["code"]: [data["new_code"]]}
        elif kind == SPLIT:
            assign = {int(k): v for k, v in data["assign"].items()}
            for entry in codings.values():
                if data["code"] in entry[3]:
                    entry[3] = _mapped(entry[3], {data["code"]: assign.get(entry[0], [])})
            continue
        else:
            continue
        for entry in codings.values():
            entry[3] = _mapped(entry[3], mapping)
    return book, [tuple(entry) for entry in codings.values() if entry[3]]


def _mapped(codes: list[str], mapping: dict[str, list[str]]) -> list[str]:
    return list(dict.fromkeys(t for c in codes for t in mapping.get(c, [c])))


def _codings_using(review: "Review") -> dict[int, list[str]]:
    """coding id -> its codes now, for every current coding."""
    return {event_id: codes for event_id, _, _, codes in replay_with_codings(review)[1]}


def history(review: "Review") -> pd.DataFrame:
    """One row per codebook change: version, event, who, when, what."""
    with store.read_connection(review.engine) as conn:
        rows = conn.execute(select(store.events).where(store.events.c.kind.in_(CODEBOOK_EVENTS))
                            .order_by(store.events.c.id)).all()
    return pd.DataFrame([{"version": i, "event_id": r.id, "kind": r.kind.split(".", 1)[1], "code": r.entity_id,
                          "who": r.actor, "at": r.created_at, "change": r.payload}
                         for i, r in enumerate(rows, start=1)],
                        columns=["version", "event_id", "kind", "code", "who", "at", "change"])


# --- changes -------------------------------------------------------------------------------


def _write(review: "Review", who: str, items: list[tuple[str, dict, str]]) -> None:
    """Append codebook events in one transaction (typed and checked by review.events)."""
    classes = {cls.kind: cls for cls in (events.CodeAdded, events.CodeEdited, events.CodeMoved, events.CodeRenamed,
                                         events.CodesMerged, events.CodeSplit, events.CodeRetired)}
    with store.write_transaction(review.engine) as conn:
        for kind, payload, _code in items:
            events.append(conn, who, classes[kind](**payload))


def _new_code(book: Codebook, code: str, label: str, definition: str, parent: str | None,
              polarity: str | None, level: str | None) -> dict:
    code = (code or "").strip()
    if not _ID.match(code):
        raise CodebookError(f"code id {code!r}: start with a letter; letters, digits, '_', '-', '.' (at most 80)")
    if code in book.codes:
        raise CodebookError(f"code {code!r} already exists ({book.codes[code].label!r})")
    if code in book.gone:
        raise CodebookError(f"code id {code!r} was used before ({book.gone[code]}); choose another")
    if not (label or "").strip():
        raise CodebookError(f"code {code!r} needs a label")
    if parent is not None:
        book.get(parent)
    _check_values(polarity, level, book.levels)
    return {"code": code, "label": label.strip(), "definition": (definition or "").strip(), "parent": parent,
            "polarity": polarity or None, "level": level or None}


def add_code(review: "Review", code: str, label: str, who: str, definition: str = "", parent: str | None = None,
             polarity: str | None = None, level: str | None = None) -> Code:
    book = current(review)
    payload = _new_code(book, code, label, definition, parent, polarity, level)
    _write(review, who, [(ADD, payload, payload["code"])])
    return Code(**payload)


def edit_code(review: "Review", code: str, who: str, **changes) -> Code:
    """Change a code's label, definition, polarity or level (its id and codings stay)."""
    book = current(review)
    old = book.get(code)
    allowed = {"label", "definition", "polarity", "level"}
    if set(changes) - allowed:
        raise CodebookError(f"edit changes only {', '.join(sorted(allowed))}; use move or rename for the rest")
    changes = {k: (v.strip() if isinstance(v, str) else v) or (None if k in ("polarity", "level") else "")
               for k, v in changes.items()}
    if "label" in changes and not changes["label"]:
        raise CodebookError(f"code {code!r} needs a label")
    _check_values(changes.get("polarity"), changes.get("level"), book.levels)
    changes = {k: v for k, v in changes.items() if getattr(old, k) != v}
    if changes:
        _write(review, who, [(EDIT, {"code": code, "changes": changes}, code)])
    return replace(old, **changes)


def move_code(review: "Review", code: str, parent: str | None, who: str) -> None:
    """Put a code under another parent (None: at the top); refused if it would make a cycle."""
    book = current(review)
    book.get(code)
    if parent is not None:
        book.get(parent)
        if parent == code or parent in book.descendants(code):
            raise CodebookError(f"cannot move {code!r} under {parent!r}: {parent!r} is inside {code!r} (a cycle)")
    _write(review, who, [(MOVE, {"code": code, "parent": parent}, code)])


def rename_code(review: "Review", code: str, who: str, new_code: str | None = None, label: str | None = None) -> None:
    """Give a code a new label and/or a new id; its codings follow it."""
    book = current(review)
    old = book.get(code)
    if new_code is None or new_code == code:
        if not label:
            raise CodebookError("give a new label or a new code id")
        edit_code(review, code, who, label=label)
        return
    _new_code(book, new_code, label or old.label, "", None, None, None)
    _write(review, who, [(RENAME, {"code": code, "new_code": new_code, "label": label or old.label}, code)])


def merge_codes(review: "Review", keep: str, absorb: str, who: str) -> None:
    """`absorb` is folded into `keep`: its codings and its child codes move to `keep`."""
    if keep == absorb:
        raise CodebookError("cannot merge a code with itself")
    book = current(review)
    book.get(keep), book.get(absorb)
    if keep in book.descendants(absorb):
        raise CodebookError(f"{keep!r} is inside {absorb!r}; move it out first, then merge")
    _write(review, who, [(MERGE, {"keep": keep, "absorb": absorb}, absorb)])


def retire_code(review: "Review", code: str, who: str) -> None:
    """Take an unused code out of the codebook (a used one is merged or split instead)."""
    book = current(review)
    book.get(code)
    if book.children(code):
        raise CodebookError(f"code {code!r} has child codes; move or merge them first")
    used = [i for i, codes in _codings_using(review).items() if code in codes]
    if used:
        raise CodebookError(f"code {code!r} is applied in {len(used)} coding(s); merge it into another code "
                            f"or split it instead of retiring it")
    _write(review, who, [(RETIRE, {"code": code}, code)])


def split_code(review: "Review", code: str, into: Iterable[dict], assign: dict[int, str | list[str]],
               who: str) -> list[Code]:
    """Split a code into new codes; `assign` says, for every coding id that uses it, which new code(s) it gets.

    Each item of `into` is a mapping with code, label and optionally definition,
    polarity, level (the parent is the split code's). Every coding of the split code
    must be assigned, so nothing coded is lost.
    """
    book = current(review)
    source = book.get(code)
    new_codes = []
    for item in into:
        payload = _new_code(book, item.get("code", ""), item.get("label", ""), item.get("definition", ""),
                            source.parent, item.get("polarity", source.polarity), item.get("level", source.level))
        if any(n["code"] == payload["code"] for n in new_codes):
            raise CodebookError(f"code {payload['code']!r} named twice in the split")
        new_codes.append(payload)
    if len(new_codes) < 2:
        raise CodebookError("a split needs at least two new codes")
    names = {n["code"] for n in new_codes}
    using = {i for i, codes in _codings_using(review).items() if code in codes}
    assign = {int(k): ([v] if isinstance(v, str) else list(v)) for k, v in (assign or {}).items()}
    missing = sorted(set(using) - set(assign))
    if missing:
        raise CodebookError(f"say where each coding of {code!r} goes: coding(s) {missing} are not assigned")
    extra = sorted(set(assign) - set(using))
    if extra:
        raise CodebookError(f"coding(s) {extra} do not use code {code!r}")
    for coding_id, targets in assign.items():
        bad = [t for t in targets if t not in names]
        if bad or not targets:
            raise CodebookError(f"coding {coding_id}: {bad or 'nothing'} is not one of the new codes {sorted(names)}")
    _write(review, who, [(SPLIT, {"code": code, "into": new_codes,
                                  "assign": {str(k): v for k, v in assign.items()}}, code)])
    return [Code(**n) for n in new_codes]


def import_file(review: "Review", path: str | Path, who: str) -> dict[str, int]:
    """Bring the log's codebook in line with a YAML file: new codes added, changed ones edited or moved.

    The whole file is checked first (cycles, duplicates, dangling parents, and
    that no code in use would disappear); then every change is written in one
    transaction, so a bad file changes nothing. A code in the log but not in the
    file is retired if nothing is coded with it, else refused (merge it instead).
    Returns counts of codes added, edited, moved and retired.
    """
    codes, levels = load_file(path)
    book = current(review)
    items: list[tuple[str, dict, str]] = []
    counts = {"added": 0, "edited": 0, "moved": 0, "retired": 0}
    for c in codes:
        if c.code in book.gone:
            raise CodebookError(f"code {c.code!r} no longer exists ({book.gone[c.code]}); use another id", str(path))
    file_ids = {c.code for c in codes}
    used = {c for codes in _codings_using(review).values() for c in codes}
    dropped = [c for c in book.codes if c not in file_ids]
    in_use = sorted(set(dropped) & used)
    if in_use:
        raise CodebookError(f"code(s) {in_use} are coded but missing from the file; merge them into another code "
                            f"instead of deleting them", str(path))
    pending = {c.code for c in codes if c.code not in book.codes}
    first = True
    # Parents before children, so every add and move names a code that exists by then.
    order = _parents_first(codes)
    for c in order:
        if c.code in pending:
            payload = {k: getattr(c, k) for k in FIELDS}
            if first and levels:
                payload["levels"] = list(levels)
            items.append((ADD, payload, c.code))
            counts["added"] += 1
        else:
            old = book.codes[c.code]
            changes = {k: getattr(c, k) for k in ("label", "definition", "polarity", "level")
                       if getattr(old, k) != getattr(c, k)}
            if changes:
                items.append((EDIT, {"code": c.code, "changes": changes}, c.code))
                counts["edited"] += 1
            if old.parent != c.parent:
                items.append((MOVE, {"code": c.code, "parent": c.parent}, c.code))
                counts["moved"] += 1
        first = False
    for code in dropped:
        items.append((RETIRE, {"code": code}, code))
        counts["retired"] += 1
    if levels and tuple(levels) != book.levels and not (items and items[0][0] == ADD and "levels" in items[0][1]):
        raise CodebookError("changing the allowed levels of an existing codebook is not supported", str(path))
    if items:
        _write(review, who, items)
    return counts


def _parents_first(codes: list[Code]) -> list[Code]:
    by_id = {c.code: c for c in codes}
    out, done = [], set()

    def visit(c: Code):
        if c.code in done:
            return
        if c.parent in by_id:
            visit(by_id[c.parent])
        done.add(c.code)
        out.append(c)
    for c in codes:
        visit(c)
    return out


def export_file(review: "Review", path: str | Path, title: str | None = None) -> Path:
    path = Path(path)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(dump(current(review), title), encoding="utf-8")
    partial.replace(path)
    return path
