"""The PRISMA 2020 flow diagram for new systematic reviews, drawn from a counts dict.

Layout as Figure 1 of Page et al. (2021) and the PRISMA 2020 flow diagram templates: blue
"Identification / Screening / Included" bars on the left; the column "Identification of new
studies via databases and registers" (records identified -> screened -> reports sought ->
assessed -> included), each step with its "removed / excluded / not retrieved" box to the right;
optionally, to the right, "Identification of new studies via other methods" (records identified
-> reports sought -> assessed, joining the included box) and, to the left, "Previous studies"
(joining a "Total studies included in review" box below the included one).

Input: the counts dict of review.prisma_template (the PRISMA2020 R package's data keys). How
missing values are drawn:

* A step of the main flow whose count is None shows "(n = ?)": the box belongs to every review,
  its number is not known yet.
* Optional lines are left out when None: registers, automation tools, "other reasons" in the
  removed-before-screening box, and websites / organisations / citation searching.
* Optional columns are left out when every count of theirs is None: "Previous studies"
  (previous_studies, previous_reports) and "other methods" (website_results,
  organisation_results, citations_results and the other_* keys).
* A reasons dict that is None shows "Reports excluded (n = ?)"; an empty dict "(n = 0)";
  the key "" (a total given without reasons, as the R template allows) shows as the bare count.
* The per-database / per-register breakdowns are listed, indented, under "Databases" /
  "Registers" when given.

Two renderers share one layout: draw_svg (a standalone SVG document written by hand, no fonts,
scripts or services needed) and draw_matplotlib (a matplotlib Figure, e.g. for PNG).

Text is wrapped to the boxes using an estimate of its width that never undershoots Helvetica /
Arial or DejaVu Sans (the widest common sans-serif fallback): per-character advance widths, the
larger of the two fonts, see _WIDTHS. Boxes grow to fit their lines, rows grow to fit their
tallest box, so nothing overflows or overlaps however many reasons or databases there are.
Source names and reason labels are user text: control characters are dropped and everything is
XML-escaped.

Reference: Page MJ, McKenzie JE, Bossuyt PM, et al. The PRISMA 2020 statement: an updated
guideline for reporting systematic reviews. BMJ 2021;372:n71. doi:10.1136/bmj.n71
"""

from __future__ import annotations

import numbers
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

FONT_FAMILY = "Arial, Helvetica, 'Liberation Sans', 'DejaVu Sans', sans-serif"
FONT_SIZE = 13.0          # px, box text
HEADER_SIZE = 14.0        # px, column titles
SIDE_SIZE = 14.0          # px, bold, the blue side bars
TITLE_SIZE = 17.0         # px, bold, the optional title above the diagram
LINE_HEIGHT = 17.0        # px between baselines of box text
ASCENT = 0.80             # of the font size: baseline below the top of a line's glyphs

BOX_W = 272.0             # every box of the grid
PAD_X, PAD_Y = 10.0, 9.0  # inside a box
MIN_BOX_H = 46.0
GAP_X = 48.0              # between columns (the horizontal arrows)
GAP_Y = 32.0              # between rows (the vertical arrows)
SIDE_W = 30.0             # blue side bars
SIDE_GAP = 18.0
MARGIN = 20.0
LIST_INDENT = 14.0        # databases under "Databases", registers under "Registers"
HANG = 10.0               # continuation lines of a wrapped item

MAIN_STROKE, MAIN_FILL = "#000000", "#ffffff"
GREY_STROKE, GREY_FILL = "#7f7f7f", "#ededed"
YELLOW_FILL = "#ffc125"   # the R package's Goldenrod1 title box
HEADER_GREY_FILL = "#d9d9d9"
SIDE_FILL = "#bcd2ee"     # LightSteelBlue2, as the R package
ARROW_COLOUR = "#000000"

# Advance widths (1/1000 em) of the printable ASCII characters " " .. "~": for each character the
# larger of Helvetica (Adobe's AFM metrics, which Arial and Liberation Sans share) and DejaVu Sans,
# so a line that fits by this estimate fits in any of them.
_WIDTHS = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 556, 1015, 684, 686, 722, 770, 667,
    611, 778, 752, 295, 500, 667, 557, 863, 748, 787, 667, 787, 722, 667, 611, 732, 684, 989, 685,
    667, 685, 390, 337, 390, 838, 556, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579,
    278, 974, 634, 612, 635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838,
)
_BOLD_WIDTHS = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 611, 1000, 774, 762, 734, 830, 683,
    683, 821, 837, 372, 556, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771,
    724, 725, 457, 365, 457, 838, 556, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665,
    343, 1042, 712, 687, 716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838,
)
_WIDE = 1000      # East Asian wide and full-width characters
_OTHER = 800      # any other character outside ASCII (accented letters are narrower)


def _char_width(ch: str, bold: bool) -> int:
    code = ord(ch)
    if 32 <= code <= 126:
        return (_BOLD_WIDTHS if bold else _WIDTHS)[code - 32]
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return _WIDE
    return _OTHER


def text_width(text: str, size: float = FONT_SIZE, bold: bool = False) -> float:
    """Estimated width in px of text set in size px (an upper bound for Arial and DejaVu Sans)."""
    return sum(_char_width(ch, bold) for ch in text) * size / 1000.0


# --------------------------------------------------------------------------------------- layout

@dataclass
class TextLine:
    text: str
    x: float              # start (anchor "start") or centre (anchor "middle")
    y: float              # baseline
    size: float = FONT_SIZE
    bold: bool = False
    anchor: str = "start"
    rotate: bool = False  # turned 90 degrees anticlockwise about (x, y)


@dataclass
class Box:
    key: str
    kind: str             # main, grey, header-yellow, header-grey, side
    x: float
    y: float
    w: float
    h: float
    lines: list[TextLine] = field(default_factory=list)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h


@dataclass
class Layout:
    width: float
    height: float
    boxes: list[Box]
    arrows: list[list[tuple[float, float]]]   # polylines, arrowhead at the last point
    title: list[TextLine]


# A paragraph of box text: tokens (never broken inside unless one alone is too long), the indent
# of its first line and of its continuation lines.
@dataclass
class _Para:
    tokens: list[str]
    indent: float = 0.0
    hang: float = HANG


def _clean(text) -> str:
    """User text on one line: control characters and runs of white space become one space."""
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in str(text))
    return " ".join(text.split())


def _n(value) -> str:
    return "(n = ?)" if value is None else f"(n = {value:,})"


def _para(text: str, count=..., indent: float = 0.0) -> _Para:
    tokens = _clean(text).split()
    if count is not ...:
        tokens.append(_n(count))
    return _Para(tokens, indent)


def _break_token(token: str, room: float, size: float, bold: bool) -> list[str]:
    """A token too long for a line, cut into pieces that fit."""
    pieces, current = [], ""
    for ch in token:
        if current and text_width(current + ch, size, bold) > room:
            pieces.append(current)
            current = ch
        else:
            current += ch
    return pieces + [current] if current else pieces


def _wrap(para: _Para, width: float, size: float = FONT_SIZE, bold: bool = False) -> list[tuple[str, float]]:
    """Lines (text, indent) of a paragraph set in width px."""
    lines: list[tuple[str, float]] = []
    current = ""
    for token in para.tokens:
        indent = para.indent if not lines else para.indent + para.hang
        room = width - indent
        candidate = f"{current} {token}" if current else token
        if text_width(candidate, size, bold) <= room:
            current = candidate
            continue
        if current:
            lines.append((current, indent))
            indent = para.indent + para.hang
            room = width - indent
        if text_width(token, size, bold) <= room:
            current = token
        else:
            *full, current = _break_token(token, room, size, bold)
            lines.extend((piece, indent) for piece in full)
    if current or not lines:
        lines.append((current, para.indent if not lines else para.indent + para.hang))
    return lines


@dataclass
class _Content:
    key: str
    kind: str
    paras: list[_Para]
    centred: bool = False
    size: float = FONT_SIZE
    bold: bool = False

    def lines(self, width: float) -> list[tuple[str, float]]:
        out: list[tuple[str, float]] = []
        for para in self.paras:
            out.extend(_wrap(para, width - 2 * PAD_X, self.size, self.bold))
        return out

    def height(self, width: float) -> float:
        return max(MIN_BOX_H, 2 * PAD_Y + len(self.lines(width)) * LINE_HEIGHT)


def _place(content: _Content, x: float, y: float, w: float, h: float) -> Box:
    """A box with its text lines laid out, the block centred vertically."""
    box = Box(content.key, content.kind, x, y, w, h)
    lines = content.lines(w)
    top = y + (h - len(lines) * LINE_HEIGHT) / 2
    for i, (text, indent) in enumerate(lines):
        baseline = top + i * LINE_HEIGHT + (LINE_HEIGHT - content.size) / 2 + ASCENT * content.size
        if content.centred:
            box.lines.append(TextLine(text, x + w / 2, baseline, content.size, content.bold, "middle"))
        else:
            box.lines.append(TextLine(text, x + PAD_X + indent, baseline, content.size, content.bold))
    return box


# ------------------------------------------------------------------------------ box contents

_OTHER_KEYS = ("website_results", "organisation_results", "citations_results", "other_sought_reports",
               "other_notretrieved_reports", "other_assessed", "other_excluded")


def _count(counts: Mapping, key: str):
    value = counts.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{key}: a count must be a whole number or None, not {value!r}")
    return int(value)


def _listing(counts: Mapping, key: str) -> dict[str, int] | None:
    value = counts.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ValueError(f"{key}: expected a dict of label -> count or None, not {type(value).__name__}")
    return {str(label): _count(value, label) for label in value}


def _two_counts(first: str, first_n, second: str, second_n) -> list[_Para]:
    return [_para(first), _Para([_n(first_n)]), _para(second), _Para([_n(second_n)])]


def _step(text: str, n) -> list[_Para]:
    return [_para(text), _Para([_n(n)])]


def _excluded(reasons: dict[str, int] | None) -> list[_Para]:
    if reasons is None:
        return _step("Reports excluded", None)
    if not reasons:
        return _step("Reports excluded", 0)
    if list(reasons) == [""]:
        return _step("Reports excluded", reasons[""])
    paras = [_para("Reports excluded:")]
    for label, n in reasons.items():
        paras.append(_para(label, n) if _clean(label) else _Para([_n(n)]))
    return paras


def _identified_main(counts: Mapping) -> list[_Para]:
    paras = [_para("Records identified from:"), _para("Databases", _count(counts, "database_results"))]
    for name, n in (_listing(counts, "database_specific_results") or {}).items():
        paras.append(_para(name, n, indent=LIST_INDENT))
    registers = _listing(counts, "register_specific_results")
    if counts.get("register_results") is not None or registers:
        paras.append(_para("Registers", _count(counts, "register_results")))
        for name, n in (registers or {}).items():
            paras.append(_para(name, n, indent=LIST_INDENT))
    return paras


def _removed(counts: Mapping) -> list[_Para]:
    paras = [_para("Records removed before screening:"),
             _para("Duplicate records removed", _count(counts, "duplicates"))]
    if counts.get("excluded_automatic") is not None:
        paras.append(_para("Records marked as ineligible by automation tools",
                           _count(counts, "excluded_automatic")))
    if counts.get("excluded_other") is not None:
        paras.append(_para("Records removed for other reasons", _count(counts, "excluded_other")))
    return paras


def _identified_other(counts: Mapping) -> list[_Para]:
    sources = (("Websites", "website_results"), ("Organisations", "organisation_results"),
               ("Citation searching", "citations_results"))
    given = [(label, key) for label, key in sources if counts.get(key) is not None] or list(sources)
    return [_para("Records identified from:")] + [_para(label, _count(counts, key)) for label, key in given]


# ------------------------------------------------------------------------------------ layout

def layout(counts: Mapping, title: str | None = None) -> Layout:
    """Every box, text line and arrow of the diagram, in px (origin top left)."""
    if not isinstance(counts, Mapping):
        raise TypeError(f"counts must be a dict, not {type(counts).__name__}")
    previous = any(counts.get(key) is not None for key in ("previous_studies", "previous_reports"))
    other = any(counts.get(key) is not None for key in _OTHER_KEYS)

    # Columns, left to right.
    x = MARGIN + SIDE_W + SIDE_GAP
    col: dict[str, float] = {}
    for name, present in (("prev", previous), ("main", True), ("removed", True),
                          ("other", other), ("other_removed", other)):
        if present:
            col[name] = x
            x += BOX_W + GAP_X
    width = x - GAP_X + MARGIN

    new = "New studies" if previous else "Studies"
    new_reports = "Reports of new included studies" if previous else "Reports of included studies"
    c = _Content
    rows: list[tuple[str, dict[str, _Content]]] = [
        ("identified", {
            "main": c("records_identified", "main", _identified_main(counts)),
            "removed": c("records_removed", "main", _removed(counts)),
        }),
        ("screened", {
            "main": c("records_screened", "main",
                      _step("Records screened", _count(counts, "records_screened"))),
            "removed": c("records_excluded", "main",
                         _step("Records excluded", _count(counts, "records_excluded"))),
        }),
        ("sought", {
            "main": c("dbr_sought_reports", "main",
                      _step("Reports sought for retrieval", _count(counts, "dbr_sought_reports"))),
            "removed": c("dbr_notretrieved_reports", "main",
                         _step("Reports not retrieved", _count(counts, "dbr_notretrieved_reports"))),
        }),
        ("assessed", {
            "main": c("dbr_assessed", "main",
                      _step("Reports assessed for eligibility", _count(counts, "dbr_assessed"))),
            "removed": c("dbr_excluded", "main", _excluded(_listing(counts, "dbr_excluded"))),
        }),
        ("included", {
            "main": c("included", "main", _two_counts(
                f"{new} included in review", _count(counts, "new_studies"),
                new_reports, _count(counts, "new_reports"))),
        }),
    ]
    if previous:
        rows[0][1]["prev"] = c("previous_studies", "grey", [
            _para("Studies included in previous version of review", _count(counts, "previous_studies")),
            _para("Reports of studies included in previous version of review",
                  _count(counts, "previous_reports"))])
        rows.append(("total", {"main": c("total", "main", _two_counts(
            "Total studies included in review", _count(counts, "total_studies"),
            "Reports of total included studies", _count(counts, "total_reports")))}))
    if other:
        rows[0][1]["other"] = c("other_identified", "grey", _identified_other(counts))
        rows[2][1]["other"] = c("other_sought_reports", "grey",
                                _step("Reports sought for retrieval", _count(counts, "other_sought_reports")))
        rows[2][1]["other_removed"] = c("other_notretrieved_reports", "grey", _step(
            "Reports not retrieved", _count(counts, "other_notretrieved_reports")))
        rows[3][1]["other"] = c("other_assessed", "grey",
                                _step("Reports assessed for eligibility", _count(counts, "other_assessed")))
        rows[3][1]["other_removed"] = c("other_excluded", "grey",
                                        _excluded(_listing(counts, "other_excluded")))

    # Title (optional), then the column headers.
    y = MARGIN
    title_lines: list[TextLine] = []
    if title is not None and _clean(title):
        for text, _ in _wrap(_para(title), width - 2 * MARGIN, TITLE_SIZE, bold=True):
            title_lines.append(TextLine(text, width / 2, y + ASCENT * TITLE_SIZE, TITLE_SIZE, True, "middle"))
            y += TITLE_SIZE * 1.3
        y += 14
    span = 2 * BOX_W + GAP_X
    headers = [("header_new", "header-yellow", "main",
                "Identification of new studies via databases and registers", span)]
    if previous:
        headers.insert(0, ("header_previous", "header-grey", "prev", "Previous studies", BOX_W))
    if other:
        headers.append(("header_other", "header-grey", "other",
                        "Identification of new studies via other methods", span))
    header_contents = [(c(key, kind, [_para(text)], centred=True, size=HEADER_SIZE), column, w)
                       for key, kind, column, text, w in headers]
    header_h = max(max(36.0, 2 * PAD_Y - 4 + len(hc.lines(w)) * LINE_HEIGHT) for hc, _, w in header_contents)
    boxes = [_place(hc, col[column], y, w, header_h) for hc, column, w in header_contents]
    y += header_h + GAP_Y * 0.75

    # Rows: as tall as their tallest box (and the side bar's label); boxes centred in them.
    side_need = {name: text_width(label, SIDE_SIZE, True) + 2 * PAD_Y
                 for name, label in (("identified", "Identification"), ("included", "Included"))}
    heights = {name: max(content.height(BOX_W) for content in contents.values()) for name, contents in rows}
    heights["identified"] = max(heights["identified"], side_need["identified"])
    included_span = heights["included"] + (GAP_Y + heights["total"] if previous else 0)
    heights["included"] += max(0.0, side_need["included"] - included_span)
    # (the screening bar spans three rows and two gaps: always longer than its label)
    placed: dict[str, Box] = {}
    row_span: dict[str, tuple[float, float]] = {}
    for name, contents in rows:
        h = heights[name]
        for column, content in contents.items():
            bh = content.height(BOX_W)
            box = _place(content, col[column], y + (h - bh) / 2, BOX_W, bh)
            placed[content.key] = box
            boxes.append(box)
        row_span[name] = (y, y + h)
        y += h + GAP_Y
    height = y - GAP_Y + MARGIN

    last = "total" if previous else "included"
    for name, label, top, bottom in (
            ("side_identification", "Identification", *row_span["identified"]),
            ("side_screening", "Screening", row_span["screened"][0], row_span["assessed"][1]),
            ("side_included", "Included", row_span["included"][0], row_span[last][1])):
        bar = Box(name, "side", MARGIN, top, SIDE_W, bottom - top)
        centre_y = top + (bottom - top) / 2
        # Turned anticlockwise the glyphs stand left of their baseline: put it right of the bar's
        # centre line by half a capital's height so the word is centred across the bar.
        baseline_x = MARGIN + SIDE_W / 2 + 0.36 * SIDE_SIZE
        bar.lines.append(TextLine(label, baseline_x, centre_y, SIDE_SIZE, True, "middle", rotate=True))
        boxes.append(bar)

    # Arrows.
    p = placed
    arrows: list[list[tuple[float, float]]] = []

    def right(a: Box, b: Box) -> None:
        arrows.append([(a.right, a.cy), (b.x, a.cy)])

    def down(a: Box, b: Box) -> None:
        arrows.append([(a.cx, a.bottom), (a.cx, b.y)])

    right(p["records_identified"], p["records_removed"])
    down(p["records_identified"], p["records_screened"])
    right(p["records_screened"], p["records_excluded"])
    down(p["records_screened"], p["dbr_sought_reports"])
    right(p["dbr_sought_reports"], p["dbr_notretrieved_reports"])
    down(p["dbr_sought_reports"], p["dbr_assessed"])
    right(p["dbr_assessed"], p["dbr_excluded"])
    down(p["dbr_assessed"], p["included"])
    if other:
        down(p["other_identified"], p["other_sought_reports"])
        right(p["other_sought_reports"], p["other_notretrieved_reports"])
        down(p["other_sought_reports"], p["other_assessed"])
        right(p["other_assessed"], p["other_excluded"])
        src, dst = p["other_assessed"], p["included"]
        arrows.append([(src.cx, src.bottom), (src.cx, dst.cy), (dst.right, dst.cy)])
    if previous:
        src, dst = p["previous_studies"], p["total"]
        arrows.append([(src.cx, src.bottom), (src.cx, dst.cy), (dst.x, dst.cy)])
        down(p["included"], p["total"])
    return Layout(width, height, boxes, arrows, title_lines)


# ---------------------------------------------------------------------------------------- SVG

_STYLE = {
    "main": (MAIN_FILL, MAIN_STROKE, 0),
    "grey": (GREY_FILL, GREY_STROKE, 0),
    "header-yellow": (YELLOW_FILL, "#c8951a", 8),
    "header-grey": (HEADER_GREY_FILL, GREY_STROKE, 8),
    "side": (SIDE_FILL, "#8ea9cf", 8),
}


def _f(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg_text(line: TextLine) -> str:
    attrs = f'x="{_f(line.x)}" y="{_f(line.y)}"'
    if line.size != FONT_SIZE:
        attrs += f' font-size="{_f(line.size)}"'
    if line.bold:
        attrs += ' font-weight="bold"'
    if line.anchor != "start":
        attrs += f' text-anchor="{line.anchor}"'
    if line.rotate:
        attrs += f' transform="rotate(-90 {_f(line.x)} {_f(line.y)})"'
    return f"<text {attrs}>{escape(line.text)}</text>"


def draw_svg(counts: Mapping, *, title: str | None = None) -> str:
    """The PRISMA 2020 flow diagram as a standalone SVG document (text as text, UTF-8)."""
    lay = layout(counts, title)
    w, h = _f(lay.width), _f(lay.height)
    name = "PRISMA 2020 flow diagram" + (f": {_clean(title)}" if title and _clean(title) else "")
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{w}" height="{h}" '
        f'viewBox="0 0 {w} {h}" role="img" aria-labelledby="prisma-title">',
        f'<title id="prisma-title">{escape(name)}</title>',
        "<defs>",
        '<marker id="prisma-arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" '
        f'markerWidth="9" markerHeight="9" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{ARROW_COLOUR}"/>'
        "</marker>",
        "</defs>",
        f'<rect class="prisma-background" x="0" y="0" width="{w}" height="{h}" fill="#ffffff"/>',
        f'<g font-family={quoteattr(FONT_FAMILY)} font-size="{_f(FONT_SIZE)}" fill="#000000">',
    ]
    for line in lay.title:
        out.append(_svg_text(line).replace("<text ", '<text class="prisma-title" ', 1))
    for points in lay.arrows:
        d = " ".join(f"{'M' if i == 0 else 'L'}{_f(x)},{_f(y)}" for i, (x, y) in enumerate(points))
        out.append(f'<path class="prisma-arrow" d="{d}" fill="none" stroke="{ARROW_COLOUR}" '
                   'stroke-width="1.3" marker-end="url(#prisma-arrowhead)"/>')
    for box in lay.boxes:
        fill, stroke, radius = _STYLE[box.kind]
        rounded = f' rx="{radius}" ry="{radius}"' if radius else ""
        out.append(f'<g class="prisma-box prisma-{box.kind}" id="prisma-{box.key}">')
        out.append(f'<rect x="{_f(box.x)}" y="{_f(box.y)}" width="{_f(box.w)}" height="{_f(box.h)}"{rounded} '
                   f'fill="{fill}" stroke="{stroke}" stroke-width="1.2"/>')
        out.extend(_svg_text(line) for line in box.lines)
        out.append("</g>")
    out += ["</g>", "</svg>", ""]
    return "\n".join(out)


# --------------------------------------------------------------------------------- matplotlib

def draw_matplotlib(counts: Mapping, title: str | None = None):
    """The same diagram as a matplotlib Figure (1 px of the SVG = 1/100 inch; no pyplot).

    Text is set in matplotlib's default sans-serif (DejaVu Sans), which the layout allows for.
    """
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch, Rectangle

    lay = layout(counts, title)
    dpi = 100.0
    pt = 72.0 / dpi   # px -> points
    with matplotlib.rc_context({"text.usetex": False}):
        fig = Figure(figsize=(lay.width / dpi, lay.height / dpi), dpi=dpi)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(0, lay.width)
        ax.set_ylim(lay.height, 0)
        ax.set_axis_off()
        for points in lay.arrows:
            xs, ys = zip(*points)
            if len(points) > 2:
                ax.plot(xs[:-1], ys[:-1], color=ARROW_COLOUR, linewidth=1.3 * pt, solid_capstyle="butt")
            ax.annotate("", xy=points[-1], xytext=points[-2],
                        arrowprops={"arrowstyle": "-|>", "color": ARROW_COLOUR, "linewidth": 1.3 * pt,
                                    "shrinkA": 0, "shrinkB": 0, "mutation_scale": 14})
        for box in lay.boxes:
            fill, stroke, radius = _STYLE[box.kind]
            if radius:
                patch = FancyBboxPatch((box.x, box.y), box.w, box.h,
                                       boxstyle=f"round,pad=0,rounding_size={radius}",
                                       facecolor=fill, edgecolor=stroke, linewidth=1.2 * pt)
            else:
                patch = Rectangle((box.x, box.y), box.w, box.h, facecolor=fill, edgecolor=stroke,
                                  linewidth=1.2 * pt)
            ax.add_patch(patch)
        for line in [line for box in lay.boxes for line in box.lines] + lay.title:
            ax.text(line.x, line.y, line.text, fontsize=line.size * pt, family="sans-serif",
                    fontweight="bold" if line.bold else "normal",
                    ha="center" if line.anchor == "middle" else "left", va="baseline",
                    rotation=90 if line.rotate else 0, rotation_mode="anchor", parse_math=False)
    return fig
