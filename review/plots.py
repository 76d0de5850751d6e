"""Effect direction and harvest plots for synthesis without meta-analysis (SWiM).

Both plots take the tidy frame prepared by the synthesis module: one row per
scheme x domain, with columns scheme_id, scheme_name, domain, direction,
group, design and n (see ``REQUIRED_COLUMNS``).

effect_direction_plot
    After Thomson & Thomas (2013). A table with one row per scheme, grouped
    (e.g. by type of integrated resource mechanism, a scheme appearing once
    per group it belongs to), and one column per outcome domain. Each cell
    shows the direction of effect: an upward triangle for better, a downward
    triangle for worse, a left-right double triangle for no difference
    (filled) or mixed (hollow), "?" for unclear and a blank cell for not
    reported. Marker size shows the sample size class and marker colour the
    study design.

harvest_plot
    After Ogilvie et al. (2008). One panel per outcome domain; in each panel
    one group of bars per direction of effect and one bar per scheme, so the
    distribution of the evidence across directions can be seen at a glance.
    Bar height and colour show the study design (taller = stronger design).

save_figure
    Writes a figure to .svg (text kept as text, byte-reproducible) or .png.

Every figure is a plain ``matplotlib.figure.Figure`` laid out in inches from
measured text sizes, so nothing overlaps however many rows there are; no
pyplot, no global state, no GUI backend. Scheme names are untrusted text:
they are collapsed to one line and "$" is escaped so matplotlib never reads
them as mathtext.

References
    Thomson HJ, Thomas S. The effect direction plot: visual display of
    non-standardised effects across multiple outcome domains. Res Synth
    Methods 2013;4(1):95-101. doi:10.1002/jrsm.1060

    Ogilvie D, Fayter D, Petticrew M, Sowden A, Thomas S, Whitehead M,
    Worthy G. The harvest plot: a method for synthesising evidence about the
    differential effects of interventions. BMC Med Res Methodol 2008;8:8.
    doi:10.1186/1471-2288-8-8
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.path import Path as MplPath

REQUIRED_COLUMNS = ("scheme_id", "scheme_name", "domain", "direction", "group", "design", "n")
DIRECTIONS = ("better", "no_difference", "mixed", "worse", "unclear", "not_reported")
NOT_REPORTED = "not_reported"
NOTHING_TO_PLOT = "nothing to plot: no scheme has a reported direction in any domain"
NAME_LIMIT = 45          # effect direction plot row labels
SHORT_NAME_LIMIT = 22    # harvest plot bar labels (after the scheme id)

# Colours. Okabe & Ito's "Color Universal Design" palette: eight colours chosen
# to stay distinguishable with the common colour-vision deficiencies (protan,
# deutan, tritan), the usual choice for categorical colour in journals. Designs
# take them in design order, strongest first, and the list runs roughly from
# darkest to palest, so stronger designs also look heavier in greyscale print;
# the pale yellow comes last. Unknown design is a neutral grey not in the
# palette. Colour is never the only cue: bar height (harvest plot) repeats it.
OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
UNKNOWN_COLOUR = "#A0A0A0"
INK = "#222222"
RULE = "#9A9A9A"
STRIPE = "#F1F1F1"

# Sample size classes: (label, upper bound exclusive, marker size in points).
# Unknown n gets the smallest marker, so it is never given more visual weight
# than a study that reported its size.
SIZE_CLASSES = (("< 300", 300.0, 7.5), ("300–999", 1000.0, 10.0), ("≥ 1000", math.inf, 12.5))
UNKNOWN_SIZE = ("not reported", 5.5)

FONT = 8.0
SMALL = 7.0
TITLE_FONT = 10.0
ROW_IN = 0.28            # effect plot: height of one row
BAR_IN = 0.22            # harvest plot: width of one bar slot
UNIT_IN = 0.24           # harvest plot: height of one bar-height unit
MARGIN_IN = 0.12


def _double_triangle() -> MplPath:
    """◄► as one marker path: two triangles pointing outwards."""
    left = [(-1.0, 0.0), (-0.08, 0.5), (-0.08, -0.5), (-1.0, 0.0)]
    right = [(1.0, 0.0), (0.08, 0.5), (0.08, -0.5), (1.0, 0.0)]
    codes = [MplPath.MOVETO, MplPath.LINETO, MplPath.LINETO, MplPath.CLOSEPOLY]
    return MplPath(left + right, codes + codes)


@dataclass(frozen=True)
class _Glyph:
    marker: object
    hollow: bool = False
    scale: float = 1.0   # the double triangle is wide and flat: drawn larger


GLYPHS = {
    "better": _Glyph("^"),
    "worse": _Glyph("v"),
    "no_difference": _Glyph(_double_triangle(), scale=1.45),
    "mixed": _Glyph(_double_triangle(), hollow=True, scale=1.45),
    "unclear": _Glyph(r"$\mathbf{?}$", scale=0.95),
}
DIRECTION_KEY = (("better", "better"), ("worse", "worse"), ("no_difference", "no difference (filled)"),
                 ("mixed", "mixed (hollow)"), ("unclear", "unclear"))


# ---------------------------------------------------------------- input

def _validated(data: pd.DataFrame, *, domain_labels: Mapping[str, str], design_labels: Mapping[str, str],
               group_labels: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The frame with clean dtypes; ValueError for anything the plots cannot show honestly."""
    missing = [c for c in REQUIRED_COLUMNS if c not in data.columns and not (c == "group" and group_labels is None)]
    if missing:
        raise ValueError(f"plot data lacks column(s): {', '.join(missing)}")
    table = data.copy()
    table["direction"] = table["direction"].map(_code)
    unknown = sorted(set(table["direction"]) - set(DIRECTIONS))
    if unknown:
        raise ValueError(f"unknown direction code(s) {', '.join(map(repr, unknown))}; expected one of {DIRECTIONS}")
    if table.empty or (table["direction"] == NOT_REPORTED).all():
        raise ValueError(NOTHING_TO_PLOT)
    table["scheme_id"] = table["scheme_id"].map(_code)
    table["domain"] = table["domain"].map(_code)
    table["design"] = table["design"].map(_code)
    table["n"] = pd.to_numeric(table["n"], errors="coerce")
    _check_codes(table["domain"], domain_labels, "domain", "domain_labels")
    _check_codes(table["design"][table["design"] != ""], design_labels, "design", "design_labels")
    if group_labels is not None:
        table["group"] = table["group"].map(_code)
        _check_codes(table["group"], group_labels, "group", "group_labels")
    return table


def _code(value: object) -> str:
    """A cell as stripped text; None, NaN and pd.NA are ""."""
    if not isinstance(value, str) and (value is None or pd.isna(value)):
        return ""
    return str(value).strip()


def _check_codes(values: pd.Series, labels: Mapping[str, str], what: str, argument: str) -> None:
    unknown = sorted(set(values) - set(labels))
    if unknown:
        raise ValueError(f"{what} code(s) {', '.join(map(repr, unknown))} in the data have no label in {argument}")


def _cell_values(rows: pd.DataFrame, where: str) -> pd.Series:
    """The one (direction, design, n) of duplicate rows; ValueError if they disagree."""
    values = rows[["direction", "design", "n"]].drop_duplicates()
    if len(values) > 1:
        raise ValueError(f"conflicting rows for {where}: {values.to_dict('records')}")
    return values.iloc[0]


def _natural(text: str) -> tuple:
    """Sort key putting S2 before S10."""
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part.lower())
                 for part in re.split(r"(\d+)", text) if part)


# ---------------------------------------------------------------- text

def _plain(text: object, limit: int | None = None) -> str:
    """Untrusted text made safe to draw: one line, truncated with "…", "$" escaped (no mathtext)."""
    line = " ".join(_code(text).split())
    if limit is not None and len(line) > limit:
        line = line[: limit - 1].rstrip() + "…"
    return line.replace("$", r"\$")


def _wrapped(text: object, width: int) -> str:
    return "\n".join(_plain(line) for line in textwrap.wrap(" ".join(_code(text).split()), width) or [""])


def _scheme_name(row: pd.Series, limit: int) -> str:
    return _plain(row["scheme_name"], limit) or _plain(row["scheme_id"])


def _literal_text():
    """Texts created inside are plain text whatever the user's rcParams say."""
    return matplotlib.rc_context({"text.usetex": False, "text.parse_math": True})


def _new_figure() -> Figure:
    fig = Figure(figsize=(6, 4), dpi=100)
    FigureCanvasAgg(fig)   # a renderer for measuring text; no GUI involved
    return fig


def _size_in(fig: Figure, artist) -> tuple[float, float]:
    box = artist.get_window_extent(fig.canvas.get_renderer())
    return box.width / fig.dpi, box.height / fig.dpi


def _text_size(fig: Figure, text: str, **style) -> tuple[float, float]:
    """Width and height in inches of text drawn with style (measured, then removed)."""
    if not text:
        return 0.0, 0.0
    probe = fig.text(0, 0, text, **style)
    size = _size_in(fig, probe)
    probe.remove()
    return size


def _title(fig: Figure, title: str | None, width_in: float) -> tuple[object, float]:
    """The figure title, wrapped to width_in, and its height in inches (0 if none)."""
    if not title:
        return None, 0.0
    chars = max(20, int(width_in * 72 / (TITLE_FONT * 0.58)))
    artist = fig.text(0, 1, _wrapped(title, chars), fontsize=TITLE_FONT, fontweight="bold",
                      ha="left", va="top", color=INK)
    return artist, _size_in(fig, artist)[1] + 0.12


def _place_legend(fig: Figure, legend: Legend, x_in: float, top_in: float) -> None:
    """Anchor a legend's upper-left corner at (x_in, top_in) inches from the bottom-left."""
    width, height = fig.get_size_inches()
    legend.set_bbox_to_anchor((x_in / width, top_in / height), transform=fig.transFigure)


def _legend(fig: Figure, handles: list, labels: list[str], title: str, **style) -> Legend:
    legend = fig.legend(handles, labels, title=title, loc="upper left", frameon=False, fontsize=SMALL,
                        title_fontsize=FONT, alignment="left", borderaxespad=0, borderpad=0,
                        handletextpad=0.6, labelspacing=0.5, **style)
    legend.get_title().set_fontweight("bold")
    return legend


# ---------------------------------------------------------------- encodings

def _design_colours(strength: Sequence[str], design_labels: Mapping[str, str], present: set[str]) -> dict[str, str]:
    """design -> colour, strongest first, unknown ("") last.

    Designs in ``strength`` keep their palette slot even when absent, so a design has the
    same colour in every figure of the review; other labelled designs (e.g. "not
    applicable") come after and only if they occur, so they never use up the palette.
    """
    order = list(dict.fromkeys(_code(d) for d in strength if _code(d)))
    order += [d for d in design_labels if d in present and d not in order]
    crowded = [d for d in order[len(OKABE_ITO):] if d in present]
    if crowded:
        raise ValueError(f"at most {len(OKABE_ITO)} study designs can be told apart by colour; "
                         f"no colour left for {', '.join(map(repr, crowded))}")
    return {**dict(zip(order, OKABE_ITO)), "": UNKNOWN_COLOUR}   # unknown last in legends


def _strength_by_height(design_heights: Mapping[str, int]) -> list[str]:
    """Designs tallest bar first (a stable sort keeps the given order among equals)."""
    return sorted(design_heights, key=lambda d: -design_heights[d])


def _design_label(design: str, design_labels: Mapping[str, str]) -> str:
    return _plain(design_labels.get(design, design)) if design else "Design not known"


def _marker_size(n: float) -> float:
    if n is None or math.isnan(n):
        return UNKNOWN_SIZE[1]
    return next(size for _, upper, size in SIZE_CLASSES if n < upper)


def _marker_style(direction: str, colour: str, size: float) -> dict:
    glyph = GLYPHS[direction]
    style = {"marker": glyph.marker, "markersize": size * glyph.scale, "linestyle": "none"}
    if glyph.hollow:
        return style | {"markerfacecolor": "white", "markeredgecolor": colour, "markeredgewidth": 1.4}
    if direction == "unclear":   # a text glyph: no outline, it would blur the "?"
        return style | {"markerfacecolor": colour, "markeredgecolor": colour, "markeredgewidth": 0.0}
    return style | {"markerfacecolor": colour, "markeredgecolor": INK, "markeredgewidth": 0.5}


# ---------------------------------------------------------------- effect direction plot

@dataclass
class _Row:
    text: str
    header: bool = False
    cells: dict[str, pd.Series] = field(default_factory=dict)   # domain -> direction, design, n


def _effect_rows(table: pd.DataFrame, group_labels: Mapping[str, str]) -> list[_Row]:
    """Header row per group that occurs (in group_labels order), then its schemes in scheme_id order."""
    rows = []
    for group, label in group_labels.items():
        part = table[table["group"] == group]
        if part.empty:
            continue
        rows.append(_Row(_plain(label), header=True))
        for scheme_id in sorted(part["scheme_id"].unique(), key=_natural):
            mine = part[part["scheme_id"] == scheme_id]
            cells = {domain: _cell_values(rows_, f"scheme {scheme_id!r}, domain {domain!r}, group {group!r}")
                     for domain, rows_ in mine.groupby("domain", sort=False)}
            reported = {d: c for d, c in cells.items() if c["direction"] != NOT_REPORTED}
            rows.append(_Row(_scheme_name(mine.iloc[0], NAME_LIMIT), cells=reported))
    return rows


def effect_direction_plot(data: pd.DataFrame, *, domain_labels: dict[str, str], group_labels: dict[str, str],
                          design_labels: dict[str, str], design_order: list[str],
                          title: str | None = None) -> Figure:
    """Effect direction plot (Thomson & Thomas 2013): schemes x domains, grouped by ``group``.

    Rows are scheme names (truncated to 45 characters) under a bold header for
    each group; columns are the domains of ``domain_labels`` in its order.
    Marker: ▲ better, ▼ worse, ◄► no difference (filled) or mixed (hollow),
    ? unclear, blank cell not reported. Marker size: sample size class; colour:
    study design (``design_order``, strongest first). Legends sit below.
    """
    table = _validated(data, domain_labels=domain_labels, design_labels=design_labels, group_labels=group_labels)
    colours = _design_colours(design_order, design_labels, set(table["design"]))
    rows = _effect_rows(table, group_labels)
    fig = _new_figure()
    with _literal_text():
        _draw_effect_table(fig, rows, table, domain_labels, design_labels, colours, title)
    return fig


def _draw_effect_table(fig: Figure, rows: list[_Row], table: pd.DataFrame, domain_labels: Mapping[str, str],
                       design_labels: Mapping[str, str], colours: dict[str, str], title: str | None) -> None:
    indent = 0.16
    headings = [_wrapped(label, 16) for label in domain_labels.values()]
    heading_sizes = [_text_size(fig, h, fontsize=FONT, fontweight="bold", linespacing=1.15) for h in headings]
    col_in = max([1.0] + [w + 0.16 for w, _ in heading_sizes])
    names_in = max([_text_size(fig, r.text, fontsize=FONT)[0] + indent for r in rows if not r.header], default=0)
    groups_in = max(_text_size(fig, r.text, fontsize=FONT, fontweight="bold")[0] for r in rows if r.header)
    name_col = max(names_in, groups_in - len(headings) * col_in) + 0.2
    header_in = max(h for _, h in heading_sizes) + 0.16
    table_w = name_col + len(headings) * col_in
    table_h = header_in + len(rows) * ROW_IN + 0.06

    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    ax.set_xlim(0, table_w)
    ax.set_ylim(table_h, 0)            # data units are inches, y downwards
    centres = [name_col + (j + 0.5) * col_in for j in range(len(headings))]
    for x, heading in zip(centres, headings):
        ax.text(x, header_in - 0.08, heading, fontsize=FONT, fontweight="bold", ha="center", va="bottom",
                linespacing=1.15, color=INK, multialignment="center")
    ax.plot([0, table_w], [header_in, header_in], color=INK, linewidth=0.8)
    striped = False
    for i, row in enumerate(rows):
        y = header_in + (i + 0.5) * ROW_IN
        if row.header:
            ax.text(0, y + 0.03, row.text, fontsize=FONT, fontweight="bold", ha="left", va="center", color=INK)
            if i:
                ax.plot([0, table_w], [y - ROW_IN / 2] * 2, color=RULE, linewidth=0.5)
            striped = False
            continue
        if striped:
            ax.axhspan(y - ROW_IN / 2, y + ROW_IN / 2, color=STRIPE, linewidth=0, zorder=0)
        striped = not striped
        ax.text(indent, y, row.text, fontsize=FONT, ha="left", va="center", color=INK)
        for x, domain in zip(centres, domain_labels):
            cell = row.cells.get(domain)
            if cell is not None:
                style = _marker_style(cell["direction"], colours[cell["design"]], _marker_size(cell["n"]))
                ax.plot([x], [y], label=f"_cell:{cell['direction']}", zorder=3, **style)
    ax.plot([0, table_w], [table_h - 0.03] * 2, color=INK, linewidth=0.8)

    legends = _effect_legends(fig, table, design_labels, colours)
    legend_sizes = [_size_in(fig, legend) for legend in legends]
    legends_w = sum(w for w, _ in legend_sizes) + 0.35 * (len(legends) - 1)
    width = 2 * MARGIN_IN + max(table_w, legends_w)
    title_artist, title_h = _title(fig, title, width - 2 * MARGIN_IN)
    legend_h = max(h for _, h in legend_sizes)
    height = MARGIN_IN + title_h + table_h + 0.3 + legend_h + MARGIN_IN
    fig.set_size_inches(width, height)
    ax.set_position((MARGIN_IN / width, (MARGIN_IN + legend_h + 0.3) / height, table_w / width, table_h / height))
    if title_artist is not None:
        title_artist.set_position((MARGIN_IN / width, 1 - MARGIN_IN / height))
    x = MARGIN_IN
    for legend, (w, _) in zip(legends, legend_sizes):
        _place_legend(fig, legend, x, MARGIN_IN + legend_h)
        x += w + 0.35


def _effect_legends(fig: Figure, table: pd.DataFrame, design_labels: Mapping[str, str],
                    colours: dict[str, str]) -> list[Legend]:
    reported = table[table["direction"] != NOT_REPORTED]
    neutral = "#555555"
    handles = [Line2D([], [], **_marker_style(code, neutral, SIZE_CLASSES[0][2])) for code, _ in DIRECTION_KEY]
    labels = [label for _, label in DIRECTION_KEY]
    handles.append(Line2D([], [], linestyle="none"))
    labels.append("blank: not reported")
    direction = _legend(fig, handles, labels, "Effect direction")

    present = [d for d in colours if d in set(reported["design"])]
    design = _legend(fig, [Line2D([], [], marker="s", markersize=8, linestyle="none", markerfacecolor=colours[d],
                                  markeredgecolor=INK, markeredgewidth=0.5) for d in present],
                     [_design_label(d, design_labels) for d in present], "Study design (colour)")

    sizes = [(label, size) for label, _, size in SIZE_CLASSES]
    if reported["n"].isna().any():
        sizes.append(UNKNOWN_SIZE)
    size = _legend(fig, [Line2D([], [], marker="^", markersize=s, linestyle="none", markerfacecolor=neutral,
                                markeredgecolor=INK, markeredgewidth=0.5) for _, s in sizes],
                   [label for label, _ in sizes], "Sample size (marker size)")
    return [direction, design, size]


# ---------------------------------------------------------------- harvest plot

def _bar_height(design: str, design_heights: Mapping[str, int]) -> float:
    return float(design_heights.get(design, 1)) if design else 1.0


@dataclass(frozen=True)
class _Bar:
    label: str
    design: str
    height: float


def _harvest_panels(table: pd.DataFrame, domain_labels: Mapping[str, str], directions: list[str],
                    design_rank: dict[str, int], design_heights: Mapping[str, int]) -> dict[str, dict[str, list[_Bar]]]:
    """domain -> direction -> bars, one bar per scheme (deduplicated across groups)."""
    panels = {}
    for domain in domain_labels:
        part = table[(table["domain"] == domain) & (table["direction"] != NOT_REPORTED)]
        if part.empty:
            continue
        slots: dict[str, list[tuple]] = {d: [] for d in directions}
        for scheme_id, rows in part.groupby("scheme_id", sort=False):
            cell = _cell_values(rows, f"scheme {scheme_id!r}, domain {domain!r}")
            short = _plain(rows.iloc[0]["scheme_name"], SHORT_NAME_LIMIT)
            bar = _Bar(f"{_plain(scheme_id)} {short}".strip(), cell["design"],
                       _bar_height(cell["design"], design_heights))
            key = (design_rank.get(cell["design"], len(design_rank)), _natural(scheme_id))
            slots[cell["direction"]].append((key, bar))
        panels[domain] = {d: [bar for _, bar in sorted(slots[d], key=lambda kb: kb[0])] for d in directions}
    return panels


def harvest_plot(data: pd.DataFrame, *, domain_labels: dict[str, str], direction_labels: dict[str, str],
                 design_labels: dict[str, str], design_heights: dict[str, int],
                 title: str | None = None, design_order: list[str] | None = None) -> Figure:
    """Harvest plot (Ogilvie et al. 2008): a panel per domain, a bar per scheme in its direction's group.

    Panels are stacked in ``domain_labels`` order (domains with no reported
    direction are left out). Every direction of ``direction_labels`` (except
    not_reported) keeps its place in every panel, aligned across panels, with
    its label and count under it. Bars: one per scheme per domain, height
    ``design_heights[design]`` (1 if unknown), colour by design strength:
    ``design_order`` if given (pass the effect direction plot's so colours
    match), else ``design_heights`` tallest first. Within a direction bars run
    strongest design first; each is labelled "S01 short name", rotated 90°.
    """
    table = _validated(data, domain_labels=domain_labels, design_labels=design_labels)
    bad = sorted(set(direction_labels) - set(DIRECTIONS))
    if bad:
        raise ValueError(f"unknown direction code(s) {', '.join(map(repr, bad))} in direction_labels")
    directions = [d for d in direction_labels if d != NOT_REPORTED]
    unlabelled = sorted(set(table["direction"]) - set(directions) - {NOT_REPORTED})
    if unlabelled:
        raise ValueError(f"direction code(s) {', '.join(map(repr, unlabelled))} in the data "
                         "have no label in direction_labels")
    strength = design_order if design_order is not None else _strength_by_height(design_heights)
    colours = _design_colours(strength, design_labels, set(table["design"]))
    rank = {d: i for i, d in enumerate(colours)}
    panels = _harvest_panels(table, domain_labels, directions, rank, design_heights)
    fig = _new_figure()
    with _literal_text():
        _draw_harvest(fig, panels, domain_labels, direction_labels, directions, design_labels, design_heights,
                      colours, title)
    return fig


def _draw_harvest(fig: Figure, panels: dict, domain_labels: Mapping[str, str], direction_labels: Mapping[str, str],
                  directions: list[str], design_labels: Mapping[str, str], design_heights: Mapping[str, int],
                  colours: dict[str, str], title: str | None) -> None:
    bar_font, pad_in = 6.5, 0.05
    slot_labels = {d: _wrapped(direction_labels[d], 14) for d in directions}
    # A slot is as wide as its fullest panel needs, and never narrower than its label.
    slot_units = {d: max([math.ceil((_text_size(fig, slot_labels[d] + "\n(99)", fontsize=FONT)[0] + 0.1) / BAR_IN)]
                         + [len(p[d]) + 1 for p in panels.values()]) for d in directions}
    starts, x = {}, 0.0
    for d in directions:
        starts[d] = x
        x += slot_units[d] + 1           # one empty unit between slots
    total_units = x - 1
    bars = [b for p in panels.values() for slot in p.values() for b in slot]
    label_in = max(_text_size(fig, b.label, fontsize=bar_font, rotation=90)[1] for b in bars)
    max_height = max([1.0] + [float(h) for h in design_heights.values()] + [b.height for b in bars])
    top_units = max_height + (pad_in + label_in + 0.04) / UNIT_IN
    axes_w, axes_h = total_units * BAR_IN, top_units * UNIT_IN
    panel_title_h = max(_text_size(fig, _plain(domain_labels[d]), fontsize=9, fontweight="bold")[1]
                        for d in panels) + 0.1
    slot_label_h = max(_text_size(fig, slot_labels[d] + "\n(99)", fontsize=FONT)[1] for d in directions) + 0.12
    panel_h = panel_title_h + axes_h + slot_label_h

    axes = []
    for domain, slots in panels.items():
        ax = fig.add_axes((0, 0, 1, 1))
        _draw_panel(ax, slots, starts, slot_units, slot_labels, directions, colours, bar_font, pad_in)
        ax.set_xlim(0, total_units)
        ax.set_ylim(0, top_units)
        ax.set_title(_plain(domain_labels[domain]), loc="left", fontsize=9, fontweight="bold", color=INK, pad=5)
        axes.append(ax)

    present = [d for d in colours if any(b.design == d for b in bars)]
    handles = [Patch(facecolor=colours[d], edgecolor=INK, linewidth=0.4) for d in present]
    labels = [f"{_design_label(d, design_labels)} (height {_bar_height(d, design_heights):g})" for d in present]
    legend, legend_w, legend_h = _fitting_legend(fig, handles, labels, axes_w)

    gap = 0.22
    width = 2 * MARGIN_IN + max(axes_w, legend_w)
    title_artist, title_h = _title(fig, title, width - 2 * MARGIN_IN)
    height = MARGIN_IN + title_h + len(axes) * panel_h + (len(axes) - 1) * gap + 0.15 + legend_h + MARGIN_IN
    fig.set_size_inches(width, height)
    top = height - MARGIN_IN - title_h
    for ax in axes:
        bottom = top - panel_title_h - axes_h
        ax.set_position((MARGIN_IN / width, bottom / height, axes_w / width, axes_h / height))
        top = bottom - slot_label_h - gap
    if title_artist is not None:
        title_artist.set_position((MARGIN_IN / width, 1 - MARGIN_IN / height))
    _place_legend(fig, legend, MARGIN_IN, MARGIN_IN + legend_h)


def _draw_panel(ax, slots: dict[str, list[_Bar]], starts: dict[str, float], slot_units: dict[str, int],
                slot_labels: dict[str, str], directions: list[str], colours: dict[str, str],
                bar_font: float, pad_in: float) -> None:
    for spine in ("left", "right", "top"):
        ax.spines[spine].set_visible(False)
    ax.spines["bottom"].set_color(INK)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.patch.set_visible(False)
    for d in directions:
        bars = slots[d]
        first = starts[d] + (slot_units[d] - len(bars)) / 2 + 0.5
        xs = [first + i for i in range(len(bars))]
        if bars:
            ax.bar(xs, [b.height for b in bars], width=0.78, color=[colours[b.design] for b in bars],
                   edgecolor=INK, linewidth=0.4, label=f"_slot:{d}")
        for x, b in zip(xs, bars):
            ax.text(x, b.height + pad_in / UNIT_IN, b.label, rotation=90, rotation_mode="anchor", fontsize=bar_font,
                    ha="left", va="center", color=INK)
        centre = starts[d] + slot_units[d] / 2
        ax.annotate(f"{slot_labels[d]}\n({len(bars)})", xy=(centre, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, -5), textcoords="offset points", ha="center", va="top", fontsize=FONT,
                    color=INK, multialignment="center")
        if d != directions[0]:
            ax.axvline(starts[d] - 0.5, color="#D0D0D0", linewidth=0.6, linestyle=(0, (2, 2)), zorder=0)


def _fitting_legend(fig: Figure, handles: list, labels: list[str], max_w: float) -> tuple[Legend, float, float]:
    """The design legend in as few rows as fit in max_w inches (columns filled evenly)."""
    for nrows in range(1, len(handles) + 1):
        ncols = math.ceil(len(handles) / nrows)
        legend = _legend(fig, handles, labels, "Study design (bar colour and height)", ncols=ncols,
                         columnspacing=1.4)
        w, h = _size_in(fig, legend)
        if w <= max_w or ncols == 1:
            return legend, w, h
        legend.remove()
    raise AssertionError("unreachable")


# ---------------------------------------------------------------- saving

def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save as .svg (text as text, no date, fixed ids: byte-identical on re-save) or .png (150 dpi)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        with matplotlib.rc_context({"svg.hashsalt": "review", "svg.fonttype": "none"}):
            fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    elif suffix == ".png":
        fig.savefig(path, format="png", dpi=150, bbox_inches="tight", metadata={"Software": None})
    else:
        raise ValueError(f"cannot save a figure as {path.suffix or '(no suffix)'!r}: use .svg or .png")
    return path
