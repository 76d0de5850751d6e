"""The review protocol (`review.yaml`): read, validate, write.

The protocol is the file people edit and version: the question, eligibility
criteria, exclusion reasons with short codes, screening stages, reviewers and the
extraction templates in use. A bad protocol fails when the review is opened,
naming the field path, its line and the problem.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from review.dedup.score import Thresholds
from review.errors import WorkbenchError
from review.schema_check import check_schema
from review.schema_check import format_path as _format_path
from review.yaml_lines import compose, duplicate_key, line_of

PROTOCOL_FILE = "review.yaml"

_CODE = "^[a-z][a-z0-9_]*$"

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["title"],
    "properties": {
        "title": {"type": "string", "minLength": 1},
        "question": {"type": "string"},
        "description": {"type": "string"},
        "eligibility": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "inclusion": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "exclusion": {"type": "array", "items": {"type": "string", "minLength": 1}},
                # Words highlighted while screening; a trailing * matches any ending.
                "include_terms": {"type": "array", "items": {"type": "string", "minLength": 1}},
                "exclude_terms": {"type": "array", "items": {"type": "string", "minLength": 1}},
            },
        },
        "exclusion_reasons": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["code", "label"],
                "properties": {
                    "code": {"type": "string", "pattern": _CODE},
                    "label": {"type": "string", "minLength": 1},
                    "description": {"type": "string"},
                    "stages": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
        "stages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": _CODE},
                    "label": {"type": "string"},
                    "reviewers": {"type": "array", "items": {"type": "string"}},
                    "decisions_required": {"type": "integer", "minimum": 1, "maximum": 10},
                    "resolution": {"enum": ["consensus", "third_reviewer"]},
                    "resolver": {"type": "string"},
                    "reason_required": {"type": "boolean"},
                },
            },
        },
        "reviewers": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id"],
                "properties": {
                    "id": {"type": "string", "pattern": "^[A-Za-z0-9_.@-]+$"},
                    "name": {"type": "string"},
                    "email": {"type": "string"},
                },
            },
        },
        "extraction_templates": {"type": "array", "items": {"type": "string", "minLength": 1}},
        # Deduplication thresholds: names of review.dedup.Thresholds fields.
        "dedup": {"type": "object", "additionalProperties": {"type": "number", "minimum": 0}},
        # Team mode: the review's database on a server. Never a password (review/team.py).
        "database": {
            "type": "object",
            "additionalProperties": False,
            "required": ["url"],
            "properties": {"url": {"type": "string", "minLength": 1}},
        },
    },
}


class ProtocolError(WorkbenchError, ValueError):
    """The protocol is invalid. Names the file, the field path, its line and the problem."""

    def __init__(self, path: str, field_path: str, message: str, line: int | None = None):
        self.path, self.field_path = str(path), field_path
        super().__init__(message, file=self.path, line=line, field=field_path or None)

    def __str__(self) -> str:
        # The text people (and tests) have read since the first version; describe() is the common form.
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.field_path or '(top level)'}: {self.message}"


@dataclass
class ExclusionReason:
    code: str
    label: str
    description: str = ""
    stages: list[str] = field(default_factory=list)


@dataclass
class Stage:
    name: str
    label: str = ""
    reviewers: list[str] = field(default_factory=list)
    decisions_required: int = 2
    resolution: str = "consensus"
    resolver: str = ""
    reason_required: bool = False


@dataclass
class Reviewer:
    id: str
    name: str = ""
    email: str = ""


@dataclass
class Protocol:
    title: str
    question: str = ""
    description: str = ""
    inclusion: list[str] = field(default_factory=list)
    exclusion: list[str] = field(default_factory=list)
    include_terms: list[str] = field(default_factory=list)
    exclude_terms: list[str] = field(default_factory=list)
    exclusion_reasons: list[ExclusionReason] = field(default_factory=list)
    stages: list[Stage] = field(default_factory=list)
    reviewers: list[Reviewer] = field(default_factory=list)
    extraction_templates: list[str] = field(default_factory=list)
    dedup: dict = field(default_factory=dict)
    database_url: str = ""  # team mode: where the review lives (review.yaml `database: {url: ...}`)

    def stage(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(f"no stage {name!r} in the protocol (stages: {', '.join(s.name for s in self.stages)})")

    def to_dict(self) -> dict:
        data = asdict(self)
        out: dict = {"title": data["title"]}
        for key in ("question", "description"):
            if data[key]:
                out[key] = data[key]
        out["eligibility"] = {"inclusion": data["inclusion"], "exclusion": data["exclusion"]}
        for key in ("include_terms", "exclude_terms"):
            if data[key]:
                out["eligibility"][key] = data[key]
        out["exclusion_reasons"] = [_drop_empty(r) for r in data["exclusion_reasons"]]
        out["stages"] = [_drop_empty(s) for s in data["stages"]]
        out["reviewers"] = [_drop_empty(r) for r in data["reviewers"]]
        out["extraction_templates"] = data["extraction_templates"]
        if data["dedup"]:
            out["dedup"] = data["dedup"]
        if data["database_url"]:
            out["database"] = {"url": data["database_url"]}
        return out


def _drop_empty(d: dict) -> dict:
    return {k: v for k, v in d.items() if v not in ("", [], None)}


def default_protocol(title: str) -> Protocol:
    """A protocol that works as it is: two blind reviewers at both stages."""
    return Protocol(
        title=title,
        question="",
        exclusion_reasons=[
            ExclusionReason("wrong_population", "Wrong population"),
            ExclusionReason("wrong_intervention", "Wrong intervention"),
            ExclusionReason("wrong_outcomes", "Wrong outcomes"),
            ExclusionReason("wrong_study_design", "Wrong study design"),
            ExclusionReason("insufficient_detail", "Insufficient detail to judge eligibility"),
        ],
        stages=[
            Stage("title_abstract", "Title and abstract", decisions_required=2),
            Stage("full_text", "Full text", decisions_required=2, reason_required=True),
        ],
        reviewers=[Reviewer("reviewer1"), Reviewer("reviewer2")],
    )


def parse_reviewer(text: str) -> Reviewer:
    """`am="Alison Mason"` (or `am=Alison Mason`, or just `am`) as a Reviewer."""
    rid, _, name = str(text).partition("=")
    rid, name = rid.strip(), name.strip().strip('"').strip("'").strip()
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_.-]*", rid or ""):
        raise ValueError(f"reviewer {text!r}: give an id such as am, optionally with a name: am=\"Alison Mason\"")
    return Reviewer(rid, name)


def with_reviewers(protocol: Protocol, reviewers: list[Reviewer]) -> Protocol:
    """The protocol with exactly these reviewers, who screen every stage (init of a new review)."""
    ids = [r.id for r in reviewers]
    if len(set(ids)) != len(ids):
        raise ValueError(f"a reviewer id is given twice: {', '.join(ids)}")
    protocol.reviewers = list(reviewers)
    for stage in protocol.stages:
        stage.reviewers = list(ids)
        stage.decisions_required = min(stage.decisions_required, len(ids)) or 1
    return protocol


def add_reviewer(protocol: Protocol, reviewer: Reviewer, stages: list[str] | None = None) -> Protocol:
    """Add a reviewer to the protocol and to the stages named (default: every stage that lists reviewers)."""
    if any(r.id == reviewer.id for r in protocol.reviewers):
        raise ValueError(f"reviewer {reviewer.id!r} is already in the protocol")
    names = [s.name for s in protocol.stages]
    for stage in stages or []:
        if stage not in names:
            raise ValueError(f"no stage {stage!r} in the protocol (stages: {', '.join(names)})")
    protocol.reviewers.append(reviewer)
    for stage in protocol.stages:
        if (stages and stage.name in stages) or (not stages and stage.reviewers):
            stage.reviewers.append(reviewer.id)
    return protocol


def parse(text: str, path: str = PROTOCOL_FILE) -> Protocol:
    try:
        data = yaml.safe_load(text)
        root = compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ProtocolError(path, "", f"not valid YAML: {getattr(exc, 'problem', exc)}",
                            mark.line + 1 if mark else None) from None
    if not isinstance(data, dict):
        raise ProtocolError(path, "", "the protocol must be a mapping of fields (title, stages, ...)", 1)
    repeated = duplicate_key(root)
    if repeated is not None:
        key, line, first = repeated
        raise ProtocolError(path, key, f"key {key!r} appears twice (first on line {first}); keep one", line)

    problem = check_schema(SCHEMA, data)
    if problem is not None:
        raise ProtocolError(path, problem.field_path, problem.message, problem.line(root))

    protocol = Protocol(
        title=data["title"],
        question=data.get("question", ""),
        description=data.get("description", ""),
        inclusion=list(data.get("eligibility", {}).get("inclusion", [])),
        exclusion=list(data.get("eligibility", {}).get("exclusion", [])),
        include_terms=list(data.get("eligibility", {}).get("include_terms", [])),
        exclude_terms=list(data.get("eligibility", {}).get("exclude_terms", [])),
        exclusion_reasons=[ExclusionReason(**r) for r in data.get("exclusion_reasons", [])],
        stages=[Stage(**s) for s in data.get("stages", [])] or default_protocol("").stages,
        reviewers=[Reviewer(**r) for r in data.get("reviewers", [])],
        extraction_templates=list(data.get("extraction_templates", [])),
        dedup=dict(data.get("dedup", {})),
        database_url=data.get("database", {}).get("url", ""),
    )
    _check_references(protocol, path, root)
    return protocol


def _check_references(protocol: Protocol, path: str, root) -> None:
    """Checks a schema cannot express: uniqueness and names that must exist."""

    def fail(where: list, message: str):
        raise ProtocolError(path, _format_path(where), message, line_of(root, where))

    seen: set[str] = set()
    for i, reason in enumerate(protocol.exclusion_reasons):
        if reason.code in seen:
            fail(["exclusion_reasons", i, "code"], f"duplicate exclusion reason code {reason.code!r}")
        seen.add(reason.code)
    reviewer_ids: set[str] = set()
    for i, reviewer in enumerate(protocol.reviewers):
        if reviewer.id in reviewer_ids:
            fail(["reviewers", i, "id"], f"duplicate reviewer id {reviewer.id!r}")
        reviewer_ids.add(reviewer.id)
    stage_names: set[str] = set()
    for i, stage in enumerate(protocol.stages):
        if stage.name in stage_names:
            fail(["stages", i, "name"], f"duplicate stage name {stage.name!r}")
        stage_names.add(stage.name)
        for j, reviewer in enumerate(stage.reviewers):
            if reviewer not in reviewer_ids:
                fail(["stages", i, "reviewers", j], f"reviewer {reviewer!r} is not in the reviewers list")
        if stage.resolver and stage.resolver not in reviewer_ids:
            fail(["stages", i, "resolver"], f"resolver {stage.resolver!r} is not in the reviewers list")
        if stage.resolution == "third_reviewer" and not stage.resolver:
            fail(["stages", i, "resolver"], "resolution third_reviewer needs a resolver")
    for i, reason in enumerate(protocol.exclusion_reasons):
        for j, name in enumerate(reason.stages):
            if name not in stage_names:
                fail(["exclusion_reasons", i, "stages", j], f"stage {name!r} is not in the stages list")
    known = {f.name for f in dataclasses.fields(Thresholds)}
    for name in protocol.dedup:
        if name not in known:
            fail(["dedup", name], f"unknown threshold {name!r} (known: {', '.join(sorted(known))})")
    dedup = protocol.dedup
    if dedup.get("review_score", 0) > dedup.get("score_auto", Thresholds.score_auto):
        fail(["dedup", "review_score"], "review_score must not exceed score_auto")


def load(path: str | Path) -> Protocol:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProtocolError(str(path), "", "protocol file not found") from None
    except UnicodeDecodeError as exc:
        raise ProtocolError(str(path), "", f"not UTF-8 text: {exc.reason}") from None
    except IsADirectoryError:
        raise ProtocolError(str(path), "", "is a directory, not the protocol file") from None
    except OSError as exc:
        raise ProtocolError(str(path), "", f"cannot read: {exc.strerror}") from None
    return parse(text, str(path))


def dump(protocol: Protocol) -> str:
    return yaml.safe_dump(protocol.to_dict(), sort_keys=False, allow_unicode=True, width=100)
