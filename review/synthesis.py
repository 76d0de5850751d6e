"""Synthesis without meta-analysis: cross-tabulations, vote counting and the data for plots.

Everything is computed from the extraction data (`extraction.final_values`: the
agreed version of a scheme's form, else its only complete one), never typed in.
The unit counted is the scheme (study), not the report.

Counting rules, stated once here and in every table's note:

- A multiple-choice field (IRM types, study designs) puts a scheme in one row or
  column per value it holds, as Table 3 of Mason et al. (2014) does; totals count
  each scheme once.
- Outcome findings are rows of a repeating group (one per domain, or per measure
  within a domain). A scheme counts once per domain. Its direction there is
  collapsed from its rows by `collapse_directions`: rows answered "not reported"
  are set aside; with no row left the domain is `not_reported`; "unclear" rows
  count only when no row has a direction; if every remaining row agrees, that
  direction, otherwise `mixed`.
- A field left empty or answered "not reported" is counted as `not_reported`,
  "not applicable" as `not_applicable`, so every scheme is somewhere in a table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import extraction, schemes, tables, templates
from review.errors import WorkbenchError
from review.templates import Field, Template

if TYPE_CHECKING:
    from review.project import Review

DEFAULT_TEMPLATE = "irm_scheme"
# Names of the outcome group's fields the rules above need (as in irm_scheme).
DOMAIN_FIELD, DIRECTION_FIELD, EVIDENCE_FIELD = "domain", "direction", "evidence_kind"
NOT_REPORTED, NOT_APPLICABLE, NOT_RECORDED = "not_reported", "not_applicable", "not_recorded"
SPECIAL_LABELS = {NOT_REPORTED: "Not reported", NOT_APPLICABLE: "Not applicable"}
BETTER, WORSE, UNCLEAR, MIXED = "better", "worse", "unclear", "mixed"
TOTAL = "total"
ALL = "all"

DIRECTION_RULE = (
    "Each scheme counts once per outcome domain. Where it has several findings in a domain, rows answered "
    "'not reported' are set aside, 'unclear' rows count only when no row has a direction, and if the remaining "
    "rows agree the scheme takes that direction, otherwise 'mixed'. A domain with no finding is 'not reported'.")
MULTI_RULE = ("A scheme with several answers to {what} is counted once under each; totals count each scheme "
              "once, so a total can be less than the sum of its row or column.")


class SynthesisError(WorkbenchError, ValueError):
    """A synthesis request that cannot be answered; the message names the field or code at fault."""


def collapse_directions(directions: Iterable[str]) -> str:
    """One direction for a scheme in one domain, from its findings there (see the module's rules)."""
    reported = [d for d in directions if d and d not in (NOT_REPORTED, NOT_APPLICABLE)]
    if not reported:
        return NOT_REPORTED
    clear = [d for d in reported if d != UNCLEAR]
    if not clear:
        return UNCLEAR
    return clear[0] if all(d == clear[0] for d in clear) else MIXED


# --- the extraction data -----------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """A choice field to count by: a top-level field, or a field of a repeating group."""

    name: str
    field: Field
    group: Field | None

    @property
    def is_direction(self) -> bool:
        return self.group is not None and self.field.name == DIRECTION_FIELD

    @property
    def is_domain(self) -> bool:
        return self.group is not None and self.field.name == DOMAIN_FIELD

    def codes(self) -> list[str]:
        return self.field.vocabulary.codes()

    def label(self, code: str) -> str:
        if code in SPECIAL_LABELS:
            return SPECIAL_LABELS[code]
        if code == TOTAL:
            return "Total"
        return self.field.vocabulary.label(code)


def _choice_fields(template: Template) -> list[str]:
    names = [f.name for f in template.fields if f.type in ("single_choice", "multiple_choice")]
    for group in (f for f in template.fields if f.is_group):
        names += [s.name for s in group.fields if s.type in ("single_choice", "multiple_choice")]
    return names


def axis(template: Template, name: str) -> Axis:
    """The choice field called `name`: a top-level field, `group.field`, or a group's field by its own name."""
    name = (name or "").strip()
    found: list[tuple[Field, Field | None]] = []
    top, _, sub = name.partition(".")
    for f in template.fields:
        if sub and f.name == top and f.is_group:
            found += [(s, f) for s in f.fields if s.name == sub]
        elif not sub and f.name == name:
            found.append((f, None))
    if not found and not sub:
        found = [(s, g) for g in template.fields if g.is_group for s in g.fields if s.name == name]
    if not found:
        raise SynthesisError(f"no field {name!r} in template {template.name!r} "
                             f"(fields that can be tabulated: {', '.join(_choice_fields(template))})")
    if len(found) > 1:
        raise SynthesisError(f"field {name!r} is in several groups of {template.name!r}: "
                             f"write it as group.field")
    chosen, group = found[0]
    if chosen.type not in ("single_choice", "multiple_choice"):
        raise SynthesisError(f"field {name!r} is a {chosen.type} field, not a choice field: only single- and "
                             f"multiple-choice fields can be tabulated ({', '.join(_choice_fields(template))})")
    return Axis(name, chosen, group)


@dataclass
class SchemeValues:
    scheme_id: str
    name: str
    values: dict


@dataclass
class Extracted:
    """The schemes with final extraction data for one template, in scheme order."""

    template: Template
    schemes: list[SchemeValues]

    def outcome_group(self) -> Field:
        for f in self.template.fields:
            if f.is_group and any(s.name == DOMAIN_FIELD for s in f.fields) \
                    and any(s.name == DIRECTION_FIELD for s in f.fields):
                return f
        raise SynthesisError(f"template {self.template.name!r} has no repeating group with "
                             f"{DOMAIN_FIELD!r} and {DIRECTION_FIELD!r} fields, so it has no outcome domains")

    def domain_vocabulary(self):
        return self.outcome_group().subfield(DOMAIN_FIELD).vocabulary


def load(review: "Review", template_name: str = DEFAULT_TEMPLATE) -> Extracted:
    """The final extraction of every active scheme; an error if there is none yet."""
    template = extraction.load_template(review, template_name)
    final = extraction.final_values(review, template_name)
    state = schemes.SchemeState.load(review)
    chosen = [SchemeValues(s.scheme_id, s.name, final[s.scheme_id]) for s in state.active() if s.scheme_id in final]
    if not chosen:
        raise SynthesisError(
            f"no extraction yet: no scheme has a complete or agreed {template_name!r} extraction "
            f"(save forms as complete, agree differing versions, or run `review extract import`)")
    return Extracted(template, chosen)


def _special_code(value) -> str | None:
    if templates.is_special(value, NOT_APPLICABLE):
        return NOT_APPLICABLE
    if value is None or value == "" or value == [] or templates.is_special(value):
        return NOT_REPORTED
    return None


def top_values(values: dict, f: Field) -> list[str]:
    """A top-level choice field's codes for one scheme (a special answer as its code)."""
    value = values.get(f.name)
    special = _special_code(value)
    if special:
        return [special]
    return list(dict.fromkeys(value)) if isinstance(value, list) else [value]


def outcome_rows(values: dict, group: Field) -> list[dict]:
    rows = values.get(group.name)
    return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []


def _row_code(row: dict, name: str) -> str | None:
    value = row.get(name)
    return None if _special_code(value) else value


def keep_evidence(rows: list[dict], evidence: Iterable[str] | None) -> list[dict]:
    """The findings of the kinds asked for; `not_recorded` keeps findings with no kind recorded."""
    if evidence is None:
        return rows
    wanted = set(evidence)
    return [r for r in rows if (_row_code(r, EVIDENCE_FIELD) or NOT_RECORDED) in wanted]


def group_values(rows: list[dict], f: Field) -> list[str]:
    """A group field's codes over some findings: the collapsed direction, or each distinct code."""
    if f.name == DIRECTION_FIELD:
        return [collapse_directions(_row_code(r, f.name) or NOT_REPORTED for r in rows)]
    codes = list(dict.fromkeys(c for r in rows if (c := _row_code(r, f.name))))
    return codes or [NOT_REPORTED]


# --- filters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    """What a table is restricted to: one domain, kinds of evidence, values of top-level fields."""

    domain: str | None = None
    evidence: tuple[str, ...] | None = None
    where: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @classmethod
    def make(cls, domain: str | None = None, evidence: Iterable[str] | str | None = None,
             where: dict[str, Iterable[str] | str] | None = None) -> "Filters":
        def codes(value) -> tuple[str, ...]:
            items = value.split(",") if isinstance(value, str) else list(value)
            return tuple(dict.fromkeys(c.strip() for c in items if c and c.strip()))

        return cls(domain or None, None if evidence is None else codes(evidence),
                   tuple((k, codes(v)) for k, v in (where or {}).items()))

    def check(self, data: Extracted) -> None:
        """Every code named must exist in the template: a typo never filters silently to nothing."""
        if self.domain is not None:
            vocab = data.domain_vocabulary()
            if self.domain not in vocab.codes():
                raise SynthesisError(f"no outcome domain {self.domain!r} (domains: {', '.join(vocab.codes())})")
        if self.evidence is not None:
            group = data.outcome_group()
            try:
                vocab = group.subfield(EVIDENCE_FIELD).vocabulary
            except KeyError:
                raise SynthesisError(f"template {data.template.name!r} records no kind of evidence "
                                     f"({group.name}.{EVIDENCE_FIELD}), so --evidence cannot filter") from None
            known = [*vocab.codes(), NOT_RECORDED]
            for code in self.evidence:
                if code not in known:
                    raise SynthesisError(f"no kind of evidence {code!r} (kinds: {', '.join(known)})")
            if not self.evidence:
                raise SynthesisError("--evidence names no kind of evidence")
        for name, wanted in self.where:
            a = axis(data.template, name)
            if a.group is not None:
                raise SynthesisError(f"filter {name!r}: only top-level fields filter schemes")
            known = [*a.codes(), NOT_REPORTED, NOT_APPLICABLE]
            for code in wanted:
                if code not in known:
                    raise SynthesisError(f"filter {name!r}: no code {code!r} (codes: {', '.join(a.codes())})")

    def admits(self, data: Extracted, scheme: SchemeValues) -> bool:
        for name, wanted in self.where:
            f = axis(data.template, name).field
            if not set(top_values(scheme.values, f)) & set(wanted):
                return False
        return True

    def describe(self, data: Extracted) -> str:
        parts = []
        if self.domain:
            parts.append(f"domain: {data.domain_vocabulary().label(self.domain)}")
        if self.evidence is not None:
            group = data.outcome_group()
            vocab = group.subfield(EVIDENCE_FIELD).vocabulary
            labels = [("no kind recorded" if c == NOT_RECORDED else vocab.label(c)) for c in self.evidence]
            parts.append("findings: " + ", ".join(labels))
        for name, wanted in self.where:
            a = axis(data.template, name)
            parts.append(f"{a.field.label}: " + ", ".join(a.label(c) for c in wanted))
        return "; ".join(parts)


# --- cross-tabulation --------------------------------------------------------------------


@dataclass
class CrossTab:
    """Counts of schemes by two fields, with the schemes behind every cell (drill-down)."""

    row_axis: Axis
    col_axis: Axis
    rows: list[str]
    cols: list[str]
    members: dict[tuple[str, str], list[str]]  # (row code, column code) -> scheme ids
    units: dict[tuple[str, str], set]  # the same cells as units counted: (scheme id, domain)
    scheme_names: dict[str, str]
    note: str
    title: str
    filters: str = ""
    _row_units: dict[str, set] = field(default_factory=dict)
    _col_units: dict[str, set] = field(default_factory=dict)

    # --- numbers ---

    def count(self, row: str, col: str) -> int:
        if row == TOTAL and col == TOTAL:
            return len(set().union(*self.units.values())) if self.units else 0
        if row == TOTAL:
            return len(self._col_units.get(col, set()))
        if col == TOTAL:
            return len(self._row_units.get(row, set()))
        return len(self.units.get((row, col), set()))

    def counts(self) -> pd.DataFrame:
        """Codes as index and columns, with totals; what the CSV holds."""
        rows, cols = [*self.rows, TOTAL], [*self.cols, TOTAL]
        frame = pd.DataFrame([[self.count(r, c) for c in cols] for r in rows], index=rows, columns=cols)
        frame.index.name = self.row_axis.name
        frame.columns.name = self.col_axis.name
        return frame

    def names(self, row: str, col: str) -> list[str]:
        """Scheme names in a cell (total cells list every scheme in the row or column)."""
        if row == TOTAL or col == TOTAL:
            ids = [s for (r, c), members in self.members.items()
                   if (row == TOTAL or r == row) and (col == TOTAL or c == col) for s in members]
        else:
            ids = self.members.get((row, col), [])
        return [self.scheme_names[s] for s in dict.fromkeys(ids)]

    def table(self, labels: bool = True, cells: str = "counts") -> pd.DataFrame:
        """The table to show: labels (not codes) by default; `cells="names"` lists the schemes in each cell."""
        if cells not in ("counts", "names"):
            raise SynthesisError(f"cells must be counts or names, not {cells!r}")
        frame = self.counts()
        if cells == "names":
            frame = pd.DataFrame([["; ".join(self.names(r, c)) for c in frame.columns] for r in frame.index],
                                 index=frame.index, columns=frame.columns)
        if labels:
            frame = frame.rename(index=self.row_axis.label, columns=self.col_axis.label)
            frame.index.name = self.row_axis.field.label
            frame.columns.name = self.col_axis.field.label
        return frame

    def cell(self, row: str, col: str) -> pd.DataFrame:
        """The schemes behind one cell: id and name (codes or labels accepted)."""
        row, col = self._code(self.row_axis, self.rows, row), self._code(self.col_axis, self.cols, col)
        if row == TOTAL or col == TOTAL:
            ids = [s for (r, c), members in self.members.items()
                   if (row == TOTAL or r == row) and (col == TOTAL or c == col) for s in members]
        else:
            ids = self.members.get((row, col), [])
        ids = list(dict.fromkeys(ids))
        return pd.DataFrame({"scheme_id": ids, "scheme_name": [self.scheme_names[s] for s in ids]})

    @staticmethod
    def _code(a: Axis, codes: list[str], wanted: str) -> str:
        if wanted in codes or wanted == TOTAL:
            return wanted
        for code in codes:
            if a.label(code).casefold() == str(wanted).casefold():
                return code
        raise SynthesisError(f"{a.name}: no row or column {wanted!r} (codes: {', '.join(codes)})")

    # --- output ---

    def caption(self) -> str:
        return f"{self.title}" + (f" ({self.filters})" if self.filters else "")

    def render(self, format: str = "csv", cells: str = "counts") -> str:
        """CSV keeps codes (first column the row code, header the column codes, totals `total`);
        Markdown and HTML show labels, a caption and the counting rule."""
        if format == "csv":
            return tables.to_csv(self.table(labels=False, cells=cells), index_label=self.row_axis.name)
        frame = self.table(labels=True, cells=cells)
        return tables.render(frame, format, index_label=self.row_axis.field.label, caption=self.caption(),
                             note=self.note, **({"total_label": "Total"} if format == "html" else {}))

    def _repr_html_(self) -> str:
        return self.render("html")

    def __str__(self) -> str:
        return f"{self.caption()}\n{self.table().to_string()}\n{self.note}"


def _label_title(data: Extracted, row: Axis, col: Axis) -> str:
    return f"{row.field.label} by {col.field.label.lower()} — {len(data.schemes)} schemes"


def _unit_domains(data: Extracted, row: Axis, col: Axis, filters: Filters) -> list[str | None]:
    if row.is_domain or col.is_domain or filters.domain:
        if filters.domain:
            return [filters.domain]
        return data.domain_vocabulary().codes()
    if row.is_direction or col.is_direction:
        raise SynthesisError(
            f"{DIRECTION_FIELD!r} is one per outcome domain: give --domain "
            f"({', '.join(data.domain_vocabulary().codes())}) or tabulate against {DOMAIN_FIELD!r}")
    return [None]


def _pairs(row: Axis, col: Axis, values: dict, rows: list[dict], domain: str | None) -> list[tuple[str, str]]:
    """The (row code, column code) cells one scheme (in one domain) falls in."""

    def single(a: Axis, subset: list[dict]) -> list[str]:
        if a.is_domain:
            return [domain]
        if a.group is None:
            return top_values(values, a.field)
        return group_values(subset, a.field)

    if row.group is not None and col.group is not None and not row.is_domain and not col.is_domain:
        # Both are properties of findings: split the findings by one field (not the direction,
        # which is collapsed) and read the other from each part.
        split, other = (col, row) if row.is_direction else (row, col)
        pairs = []
        for code in group_values(rows, split.field):
            part = [r for r in rows if (_row_code(r, split.field.name) or NOT_REPORTED) == code]
            for value in group_values(part, other.field):
                pairs.append((code, value) if split is row else (value, code))
        return pairs
    return [(a, b) for a in single(row, rows) for b in single(col, rows)]


def crosstab(data: Extracted, rows: str, cols: str, filters: Filters | None = None) -> CrossTab:
    """Cross-tabulate two choice fields over the schemes of `data`."""
    filters = filters or Filters()
    filters.check(data)
    row, col = axis(data.template, rows), axis(data.template, cols)
    if row.field is col.field:
        raise SynthesisError(f"rows and columns are the same field ({rows!r})")
    domains = _unit_domains(data, row, col, filters)
    group = data.outcome_group() if any(d is not None for d in domains) or row.group or col.group else None
    members: dict[tuple[str, str], list[str]] = {}
    units: dict[tuple[str, str], set] = {}
    row_units: dict[str, set] = {}
    col_units: dict[str, set] = {}
    names = {}
    for scheme in data.schemes:
        if not filters.admits(data, scheme):
            continue
        names[scheme.scheme_id] = scheme.name
        findings = keep_evidence(outcome_rows(scheme.values, group), filters.evidence) if group else []
        for domain in domains:
            subset = [r for r in findings if domain is None or _row_code(r, DOMAIN_FIELD) == domain]
            unit = (scheme.scheme_id, domain)
            for r, c in _pairs(row, col, scheme.values, subset, domain):
                cell = members.setdefault((r, c), [])
                if scheme.scheme_id not in cell:
                    cell.append(scheme.scheme_id)
                units.setdefault((r, c), set()).add(unit)
                row_units.setdefault(r, set()).add(unit)
                col_units.setdefault(c, set()).add(unit)
    row_codes = _axis_order(row, filters, {r for r, _ in units})
    col_codes = _axis_order(col, filters, {c for _, c in units})
    notes = []
    if row.field.type == "multiple_choice" or col.field.type == "multiple_choice":
        what = " or ".join(f"'{a.field.label}'" for a in (row, col) if a.field.type == "multiple_choice")
        notes.append(MULTI_RULE.format(what=what))
    if any(d is not None for d in domains):
        notes.append(DIRECTION_RULE if (row.is_direction or col.is_direction)
                     else "Each scheme counts once per outcome domain.")
    if filters.evidence is not None:
        notes.append("Only findings of the kinds listed are counted; a domain left with none is 'not reported'.")
    table = CrossTab(row, col, row_codes, col_codes, members, units, names, " ".join(notes),
                     _label_title(data, row, col).replace(f"{len(data.schemes)} schemes", f"{len(names)} schemes"),
                     filters.describe(data), row_units, col_units)
    return table


def _axis_order(a: Axis, filters: Filters, present: set[str]) -> list[str]:
    """Vocabulary order; specials only where counted, but a direction always shows not_reported."""
    if a.is_domain and filters.domain:
        codes = [filters.domain]
    else:
        codes = a.codes()
        restricted = dict(filters.where).get(a.name) if a.group is None else None
        if restricted:
            codes = [c for c in codes if c in restricted]
    specials = [s for s in (NOT_REPORTED, NOT_APPLICABLE) if s in present or (s == NOT_REPORTED and a.is_direction)]
    return [*codes, *[s for s in specials if s not in codes]]


def tabulate(review: "Review", rows: str, cols: str, domain: str | None = None,
             evidence: Iterable[str] | str | None = None, where: dict | None = None,
             template: str = DEFAULT_TEMPLATE) -> CrossTab:
    """`review tabulate`: cross-tabulate two extracted fields over the review's schemes.

    `where` restricts schemes by top-level fields, e.g. {"country": ["england"]}.
    """
    return crosstab(load(review, template), rows, cols, Filters.make(domain, evidence, where))


# --- vote counting ------------------------------------------------------------------------

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for a proportion (NaN for n = 0)."""
    if n == 0:
        return math.nan, math.nan
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def sign_test(successes: int, n: int) -> float:
    """Two-sided exact binomial test of `successes` out of `n` against 1/2 (NaN for n = 0)."""
    if n == 0:
        return math.nan
    k = min(successes, n - successes)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)


VOTE_RULE = ("Vote counting on the direction of effect (SWiM, Campbell et al. 2020): n counts the schemes with a "
             "clear direction (better or worse); no difference, mixed, unclear and not reported are shown but not "
             "counted. Proportion favouring the scheme with a Wilson 95% confidence interval; p from a two-sided "
             "exact binomial sign test against 0.5. With n = 0 there is no proportion and no test.")


@dataclass
class VoteCount:
    frame: pd.DataFrame  # codes
    by: Axis
    note: str
    filters: str = ""

    def table(self, labels: bool = True) -> pd.DataFrame:
        if not labels:
            return self.frame
        frame = self.frame.copy()
        frame["domain"] = frame["domain_label"]
        frame["group"] = frame["group_label"]
        frame = frame.drop(columns=["domain_label", "group_label"])
        return frame.rename(columns={"domain": "Domain", "group": self.by.field.label, "favour": "Favour scheme",
                                     "against": "Against scheme", "n": "n (clear direction)",
                                     "proportion": "Proportion", "ci_low": "95% CI low", "ci_high": "95% CI high",
                                     "p_value": "Sign test p", "no_difference": "No difference", "mixed": "Mixed",
                                     "unclear": "Unclear", "not_reported": "Not reported", "remark": "Remark"})

    def render(self, format: str = "csv") -> str:
        if format == "csv":
            return tables.to_csv(self.frame.drop(columns=["domain_label", "group_label"]), index=False)
        shown = self.table()
        for column in ("Proportion", "95% CI low", "95% CI high"):
            shown[column] = shown[column].map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        shown["Sign test p"] = shown["Sign test p"].map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        caption = "Vote counting by direction of effect" + (f" ({self.filters})" if self.filters else "")
        return tables.render(shown, format, index=False, caption=caption, note=self.note)

    def _repr_html_(self) -> str:
        return self.render("html")


def vote_count(data: Extracted, by: str = "irm_type", filters: Filters | None = None) -> VoteCount:
    """Per domain and per value of `by` (and for all schemes): schemes favouring the scheme out of
    those with a clear direction, with a Wilson interval and a sign test."""
    filters = filters or Filters()
    filters.check(data)
    by_axis = axis(data.template, by)
    if by_axis.group is not None:
        raise SynthesisError(f"votes are counted by a top-level field of the scheme, not {by!r}")
    vocab = data.domain_vocabulary()
    domains = [filters.domain] if filters.domain else vocab.codes()
    rows = []
    for domain in domains:
        table = crosstab(data, by, DIRECTION_FIELD, Filters(domain, filters.evidence, filters.where))
        for code in [*table.rows, TOTAL]:
            counts = {d: table.count(code, d) for d in table.cols}
            favour, against = counts.get(BETTER, 0), counts.get(WORSE, 0)
            n = favour + against
            low, high = wilson_interval(favour, n)
            rows.append({
                "domain": domain, "domain_label": vocab.label(domain),
                "group": ALL if code == TOTAL else code,
                "group_label": "All schemes" if code == TOTAL else by_axis.label(code),
                "favour": favour, "against": against, "n": n,
                "proportion": favour / n if n else math.nan, "ci_low": low, "ci_high": high,
                "p_value": sign_test(favour, n),
                "no_difference": counts.get("no_difference", 0), "mixed": counts.get(MIXED, 0),
                "unclear": counts.get(UNCLEAR, 0), "not_reported": counts.get(NOT_REPORTED, 0),
                "remark": "n = 0: no test" if n == 0 else "",
            })
    note = VOTE_RULE + " " + DIRECTION_RULE
    if by_axis.field.type == "multiple_choice":
        note += " " + MULTI_RULE.format(what=f"'{by_axis.field.label}'")
    return VoteCount(pd.DataFrame(rows), by_axis, note, filters.describe(data))


def votes(review: "Review", by: str = "irm_type", domain: str | None = None,
          evidence: Iterable[str] | str | None = None, where: dict | None = None,
          template: str = DEFAULT_TEMPLATE) -> VoteCount:
    """`review votes`: SWiM vote counting per `by` (default IRM type) and domain."""
    return vote_count(load(review, template), by, Filters.make(domain, evidence, where))


# --- data for the plots ----------------------------------------------------------------

# Strongest first: what shades an effect direction plot and sets a harvest plot's bar height.
# Randomised and controlled designs give the most secure direction; a qualitative study the least.
DESIGN_ORDER = ("rct", "quasi_experimental", "routine_data", "mixed_methods", "uncontrolled", "qualitative")
DESIGN_HEIGHTS = {"rct": 3, "quasi_experimental": 3, "routine_data": 2, "mixed_methods": 2,
                  "uncontrolled": 1, "qualitative": 1}


def _sample_size(values: dict) -> float:
    total = 0
    for name in ("n_intervention", "n_control"):
        value = values.get(name)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return math.nan
        total += value
    return float(total)


def plot_data(data: Extracted, group_by: str = "irm_type", design_field: str = "study_designs",
              filters: Filters | None = None) -> pd.DataFrame:
    """One row per scheme, domain and value of `group_by`: the tidy table both plots draw.

    Columns: scheme_id, scheme_name, domain, direction (collapsed), group, design (the
    scheme's strongest design in DESIGN_ORDER), n (n_intervention + n_control where both known).
    """
    filters = filters or Filters()
    filters.check(data)
    group_axis = axis(data.template, group_by)
    design_axis = axis(data.template, design_field)
    outcome = data.outcome_group()
    domains = [filters.domain] if filters.domain else data.domain_vocabulary().codes()
    rows = []
    for scheme in data.schemes:
        if not filters.admits(data, scheme):
            continue
        findings = keep_evidence(outcome_rows(scheme.values, outcome), filters.evidence)
        designs = top_values(scheme.values, design_axis.field)
        design = next((d for d in DESIGN_ORDER if d in designs), designs[0] if designs else "")
        design = "" if design in (NOT_REPORTED, NOT_APPLICABLE) else design
        for domain in domains:
            direction = collapse_directions(_row_code(r, DIRECTION_FIELD) or NOT_REPORTED
                                            for r in findings if _row_code(r, DOMAIN_FIELD) == domain)
            for group in top_values(scheme.values, group_axis.field):
                rows.append({"scheme_id": scheme.scheme_id, "scheme_name": scheme.name, "domain": domain,
                             "direction": direction, "group": group, "design": design,
                             "n": _sample_size(scheme.values)})
    return pd.DataFrame(rows, columns=["scheme_id", "scheme_name", "domain", "direction", "group", "design", "n"])


def labels(data: Extracted, name: str) -> dict[str, str]:
    """code -> label for a choice field, specials included (for plot legends and headings)."""
    a = axis(data.template, name)
    return {**{c: a.label(c) for c in a.codes()}, **SPECIAL_LABELS}
