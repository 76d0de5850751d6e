"""Themes across schemes: the outputs of a thematic synthesis.

- `matrix(review, by)`: theme × scheme (or × study, country, IRM type). A cell
  counts the coded units (findings or passages) in that column coded with the
  theme or any code below it; the quotes behind any cell are one call away.
- `summary(review)`: theme, definition, polarity, level, number of schemes,
  number of units, and illustrative quotes with their sources.
- `frequency_figure(review)`: number of schemes in which each theme appears
  (bars coloured by polarity), in the style of review/plots.py.

A unit counts once per theme however many coders coded it (the union of their
codes). Country and IRM type come from the scheme's final extraction, irm_scheme
first, then qualitative_study (which has the same two fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

import pandas as pd

from review import coding, tables

from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review

BY = ("scheme", "study", "country", "irm_type")
ATTRIBUTE_TEMPLATES = ("irm_scheme", "qualitative_study")
NOT_RECORDED = "not recorded"
QUOTES_IN_SUMMARY = 3


class ThemeError(WorkbenchError, ValueError):
    pass


@dataclass
class SchemeInfo:
    scheme_id: str
    name: str
    country: list[str]
    irm_type: list[str]


def scheme_info(review: "Review") -> tuple[dict[str, SchemeInfo], dict[str, dict[str, str]]]:
    """Each active scheme's name, country and IRM type codes, and labels for those codes."""
    from review import extraction, schemes, templates

    state = schemes.SchemeState.load(review)
    info = {s.scheme_id: SchemeInfo(s.scheme_id, s.name, [], []) for s in state.active()}
    labels: dict[str, dict[str, str]] = {"country": {}, "irm_type": {}}
    for name in ATTRIBUTE_TEMPLATES:
        try:
            template = extraction.load_template(review, name)
        except templates.TemplateError:
            continue
        fields = {f.name: f for f in template.fields}
        for attribute in ("country", "irm_type"):
            if attribute in fields and fields[attribute].vocabulary is not None:
                for term in fields[attribute].vocabulary.terms:
                    labels[attribute].setdefault(term.code, term.label)
        for scheme_id, values in extraction.final_values(review, name).items():
            if scheme_id not in info:
                continue
            for attribute in ("country", "irm_type"):
                value = values.get(attribute)
                codes = value if isinstance(value, list) else [value]
                codes = [c for c in codes if isinstance(c, str) and c]
                if codes and not getattr(info[scheme_id], attribute):
                    setattr(info[scheme_id], attribute, codes)
    return info, labels


@dataclass
class ThemeMatrix:
    """Counts of coded units per theme (rows, codebook order) and column (scheme, country, ...)."""

    by: str
    counts: pd.DataFrame  # index: code; columns: column keys; plus nothing else
    themes: pd.DataFrame  # index: code; columns: theme (indented label), level, polarity, depth
    column_labels: dict[str, str]
    units: pd.DataFrame  # one row per (code, column, unit): quote, location, scheme, speaker, coders

    def table(self, labels: bool = True) -> pd.DataFrame:
        """The matrix with a theme column (labels) and a total of schemes per theme."""
        frame = self.counts.copy()
        if labels:
            frame.columns = [self.column_labels.get(c, c) for c in frame.columns]
        frame.insert(0, "theme", self.themes["theme"])
        frame["schemes"] = [self.units.loc[self.units["code"] == code, "scheme_id"].nunique()
                            for code in frame.index]
        frame.index.name = "code"
        return frame

    def quotes(self, code: str, column: str | None = None) -> pd.DataFrame:
        """The supporting quotes of one cell (or of a whole row), with scheme, location and speaker."""
        if code not in self.counts.index:
            raise ThemeError(f"no theme {code!r} in the matrix")
        rows = self.units[self.units["code"] == code]
        if column is not None:
            if column not in self.counts.columns:
                wanted = {v: k for k, v in self.column_labels.items()}.get(column)
                if wanted is None:
                    raise ThemeError(f"no column {column!r} in the matrix")
                column = wanted
            rows = rows[rows["column"] == column]
        return (rows.drop(columns=["code"]).drop_duplicates(["unit", "column"])
                .reset_index(drop=True))

    def render(self, format: str) -> str:
        frame = self.table(labels=format != "csv")
        caption = f"Themes by {self.by}: number of coded findings and passages (a theme counts those of its sub-codes)"
        if format == "csv":
            return tables.to_csv(frame, index_label="code")
        return tables.render(frame, format, index_label="code", caption=caption,
                             note="schemes: number of schemes in which the theme appears.")


def _active_scheme(review: "Review"):
    """scheme id -> the active scheme it now belongs to (schemes merged since the coding follow the merge)."""
    from review import schemes

    state = schemes.SchemeState.load(review)

    def resolve(scheme_id):
        seen = set()
        while scheme_id in state.schemes and state.schemes[scheme_id].merged_into and scheme_id not in seen:
            seen.add(scheme_id)
            scheme_id = state.schemes[scheme_id].merged_into
        return scheme_id
    return resolve


def _unit_rows(review: "Review", coder: str | None = None) -> tuple[object, pd.DataFrame]:
    book, codings = coding.replay(review)
    active = _active_scheme(review)
    rows = []
    for c in codings:
        if coder is not None and c.coder != coder:
            continue
        for code_id in c.codes:
            if code_id not in book.codes:
                continue
            for target in [code_id, *book.ancestors(code_id)]:
                for scheme_id in dict.fromkeys(active(s) for s in c.schemes) or [None]:
                    rows.append({"code": target, "unit": c.key, "scheme_id": scheme_id, "quote": c.quote,
                                 "location": c.location, "speaker": c.speaker, "coder": c.coder,
                                 "direct": target == code_id})
    frame = pd.DataFrame(rows, columns=["code", "unit", "scheme_id", "quote", "location", "speaker", "coder",
                                        "direct"])
    return book, frame


def matrix(review: "Review", by: str = "scheme", coder: str | None = None,
           codes: Iterable[str] | None = None, max_depth: int | None = None) -> ThemeMatrix:
    """Theme × column counts; `codes` limits the rows to these themes and their sub-codes,
    `max_depth` to the top levels of the tree (0: top-level themes only)."""
    if by not in BY:
        raise ThemeError(f"--by must be one of {', '.join(BY)}, not {by!r}")
    book, rows = _unit_rows(review, coder)
    if not book.codes:
        raise ThemeError("the codebook is empty: add codes (review codes DIR, or review.codebook.add_code)")
    info, labels = scheme_info(review)
    # Whichever coder coded a unit with a theme, the unit counts once.
    rows = rows.drop_duplicates(["code", "unit", "scheme_id"]).copy()
    columns: list[str] = []
    column_labels: dict[str, str] = {}
    expanded = []
    for row in rows.to_dict("records"):
        scheme = info.get(row["scheme_id"])
        if by in ("scheme", "study"):
            keys = [row["scheme_id"]] if scheme else [NOT_RECORDED]
        else:
            keys = (getattr(scheme, by) if scheme else []) or [NOT_RECORDED]
        for key in keys:
            expanded.append({**row, "column": key, "scheme_name": scheme.name if scheme else ""})
    units = pd.DataFrame(expanded, columns=[*rows.columns, "column", "scheme_name"])
    if by in ("scheme", "study"):
        order = [s for s in info if s in set(units["column"])]
        for s in order:
            column_labels[s] = s if by == "scheme" else info[s].name
    else:
        present = set(units["column"])
        order = [c for c in labels[by] if c in present]
        column_labels.update({c: labels[by][c] for c in order})
    if NOT_RECORDED in set(units["column"]):
        order.append(NOT_RECORDED)
        column_labels[NOT_RECORDED] = NOT_RECORDED
    columns = order
    walk = book.walk()
    if codes is not None:
        keep = set()
        for c in codes:
            book.get(c)
            keep |= {c, *book.descendants(c)}
        walk = [c for c in walk if c.code in keep]
    if max_depth is not None:
        walk = [c for c in walk if book.depth(c.code) <= max_depth]
    index = [c.code for c in walk]
    counts = pd.DataFrame(0, index=index, columns=columns, dtype=int)
    if not units.empty:
        grouped = units[units["code"].isin(index)].groupby(["code", "column"])["unit"].nunique()
        for (code_id, column), n in grouped.items():
            counts.loc[code_id, column] = int(n)
    themes = pd.DataFrame({"theme": ["  " * book.depth(c.code) + c.label for c in walk],
                           "level": [c.level or "" for c in walk], "polarity": [c.polarity or "" for c in walk],
                           "depth": [book.depth(c.code) for c in walk]}, index=index)
    units = units[units["code"].isin(index)].reset_index(drop=True)
    return ThemeMatrix(by, counts, themes, column_labels, units)


def summary(review: "Review", coder: str | None = None, max_depth: int | None = None,
            quotes: int = QUOTES_IN_SUMMARY) -> pd.DataFrame:
    """The thematic summary table: one row per theme with its definition, reach and illustrative quotes."""
    book, _ = coding.replay(review)
    m = matrix(review, "scheme", coder=coder, max_depth=max_depth)
    rows = []
    for code_id in m.counts.index:
        c = book.codes[code_id]
        found = m.units[m.units["code"] == code_id].drop_duplicates("unit")
        # Illustrative quotes: the codings made with the theme itself first, one per scheme where possible.
        found = found.sort_values(["direct", "scheme_id"], ascending=[False, True], kind="stable")
        picked = found.drop_duplicates("scheme_id").head(quotes)
        if len(picked) < quotes:
            picked = pd.concat([picked, found[~found["unit"].isin(picked["unit"])].head(quotes - len(picked))])
        shown = [f"“{_short(q)}” ({scheme_id}, {location}" + (f"; {speaker}" if speaker else "") + ")"
                 for q, scheme_id, location, speaker in picked[["quote", "scheme_id", "location", "speaker"]]
                 .itertuples(index=False)]
        rows.append({"code": code_id, "theme": book.path_label(code_id), "definition": c.definition,
                     "polarity": c.polarity or "", "level": c.level or "",
                     "schemes": found["scheme_id"].nunique(), "units": len(found),
                     "scheme_ids": ", ".join(sorted({str(s) for s in found["scheme_id"] if s})),
                     "illustrative quotes": "\n".join(shown)})
    return pd.DataFrame(rows, columns=["code", "theme", "definition", "polarity", "level", "schemes", "units",
                                       "scheme_ids", "illustrative quotes"])


def _short(text: str, limit: int = 220) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_summary(frame: pd.DataFrame, format: str) -> str:
    if format == "csv":
        return tables.to_csv(frame, index=False)
    return tables.render(frame.drop(columns=["code"]), format, index=False,
                         caption="Thematic summary: themes, their reach across schemes and illustrative quotes")


POLARITY_COLOURS = {"barrier": "#D55E00", "facilitator": "#009E73", "": "#0072B2"}


def frequency_figure(review: "Review", by: str = "scheme", coder: str | None = None, max_depth: int | None = None,
                     title: str | None = None):
    """Horizontal bars: in how many schemes (or countries, IRM types) each theme appears; tree order,
    sub-themes indented; colour by polarity (Okabe-Ito), the number written at each bar's end."""
    from matplotlib.patches import Patch

    from review import plots

    m = matrix(review, by, coder=coder, max_depth=max_depth)
    reach = (m.counts > 0).sum(axis=1)
    if by in ("scheme", "study"):
        reach = pd.Series([m.units.loc[m.units["code"] == c, "scheme_id"].nunique() for c in m.counts.index],
                          index=m.counts.index)
    if int(reach.sum()) == 0:
        raise ThemeError("nothing to plot: no code has been applied yet")
    what = {"scheme": "schemes", "study": "studies", "country": "countries", "irm_type": "IRM types"}[by]
    labels = [plots._plain(label, 60) for label in m.themes["theme"].str.strip()]
    depth = list(m.themes["depth"])
    fig = plots._new_figure()
    with plots._literal_text():
        label_w = max(plots._text_size(fig, "   " * d + t, fontsize=plots.FONT)[0] for t, d in zip(labels, depth))
        rows = len(labels)
        width = max(6.0, label_w + 4.0)
        height = 0.9 + rows * 0.24
        fig.set_size_inches(width, height)
        left = (label_w + 0.25) / width
        ax = fig.add_axes([left, 0.55 / height, 1 - left - 0.5 / width, (rows * 0.24) / height])
        y = list(range(rows))[::-1]
        colours = [POLARITY_COLOURS.get(p, POLARITY_COLOURS[""]) for p in m.themes["polarity"]]
        ax.barh(y, reach.values, color=colours, height=0.6)
        ax.set_yticks(y, ["   " * d + t for t, d in zip(labels, depth)], fontsize=plots.FONT)
        for tick, d in zip(ax.get_yticklabels(), depth):
            tick.set_fontweight("bold" if d == 0 else "normal")
        for yy, n in zip(y, reach.values):
            ax.text(n + 0.05, yy, str(int(n)), va="center", fontsize=plots.SMALL, color=plots.INK)
        ax.set_xlim(0, max(1, int(reach.max())) * 1.15)
        ax.set_ylim(-0.6, rows - 0.4)
        ax.set_xlabel(f"number of {what} in which the theme appears", fontsize=plots.FONT)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.tick_params(axis="x", labelsize=plots.SMALL)
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        present = [p for p in ("barrier", "facilitator", "") if p in set(m.themes["polarity"])]
        handles = [Patch(color=POLARITY_COLOURS[p]) for p in present]
        names = [p or "no polarity" for p in present]
        fig.legend(handles, names, loc="upper right", frameon=False, fontsize=plots.SMALL, ncols=len(present))
        fig.text(0.01, 1 - 0.12 / height, title or f"Theme frequency across {what}", fontsize=plots.TITLE_FONT,
                 fontweight="bold", va="top", color=plots.INK)
    return fig


def themes(review: "Review", by: str = "scheme", format: str = "csv", coder: str | None = None) -> str:
    """`review themes DIR --by ...`: the matrix as CSV, Markdown or HTML."""
    if format not in tables.FORMATS:
        raise ThemeError(f"--format must be one of {', '.join(tables.FORMATS)}")
    return matrix(review, by, coder=coder).render(format)
