"""The PRISMA 2020 flow diagram: valid standalone SVG, every box and number present, optional
columns only when counted, no box overlapping another, every text line inside its box, every
arrow from one box's edge to another's without crossing a third, user text escaped."""

from __future__ import annotations

import io
import itertools
import re
import xml.etree.ElementTree as ET

import pytest

from review import prisma_diagram as diagram
from conftest import PRISMA_EXAMPLE
from review.prisma_diagram import draw_matplotlib, draw_svg, text_width

SVG = "{http://www.w3.org/2000/svg}"

EXAMPLE = PRISMA_EXAMPLE
OTHER = dict(EXAMPLE, website_results=20, organisation_results=5, citations_results=31,
             other_sought_reports=12, other_notretrieved_reports=2, other_assessed=10,
             other_excluded={"Not an IRM": 6})
FULL = dict(OTHER, previous_studies=12, previous_reports=20, total_studies=50, total_reports=134,
            register_results=45, register_specific_results={"ClinicalTrials.gov": 30, "ICTRP": 15})
MANY = dict(OTHER,
            database_specific_results={f"Bibliographic database number {i}": 100 * i for i in range(8)},
            dbr_excluded={f"Exclusion reason {i}, which is long enough to need wrapping in the box": i
                          for i in range(10)},
            other_excluded={"x" * 120: 1, "Not an IRM": 5})

CASES = {"example": EXAMPLE, "other": OTHER, "full": FULL, "many": MANY}

BASE_EDGES = {
    ("records_identified", "records_removed"), ("records_identified", "records_screened"),
    ("records_screened", "records_excluded"), ("records_screened", "dbr_sought_reports"),
    ("dbr_sought_reports", "dbr_notretrieved_reports"), ("dbr_sought_reports", "dbr_assessed"),
    ("dbr_assessed", "dbr_excluded"), ("dbr_assessed", "included"),
}
OTHER_EDGES = {
    ("other_identified", "other_sought_reports"), ("other_sought_reports", "other_notretrieved_reports"),
    ("other_sought_reports", "other_assessed"), ("other_assessed", "other_excluded"),
    ("other_assessed", "included"),
}
PREVIOUS_EDGES = {("previous_studies", "total"), ("included", "total")}

# Glyph extent around the baseline, generous (accented capitals, descenders), in em.
GLYPH_UP, GLYPH_DOWN = 0.95, 0.25


# ------------------------------------------------------------------------------- SVG reading

class Parsed:
    def __init__(self, svg: str):
        self.root = ET.fromstring(svg.encode("utf-8"))
        self.width = float(self.root.get("width"))
        self.height = float(self.root.get("height"))
        self.boxes: dict[str, dict] = {}
        for g in self.root.iter(f"{SVG}g"):
            if "prisma-box" not in (g.get("class") or "").split():
                continue
            rect = g.find(f"{SVG}rect")
            key = g.get("id").removeprefix("prisma-")
            self.boxes[key] = {
                "x": float(rect.get("x")), "y": float(rect.get("y")),
                "w": float(rect.get("width")), "h": float(rect.get("height")),
                "lines": [_line(t) for t in g.findall(f"{SVG}text")],
            }
        self.arrows = [_points(p.get("d")) for p in self.root.iter(f"{SVG}path")
                       if p.get("class") == "prisma-arrow"]

    def text(self, key: str) -> str:
        return " ".join(line["text"] for line in self.boxes[key]["lines"])

    def all_text(self) -> str:
        return " | ".join(self.text(key) for key in self.boxes)


def _line(element) -> dict:
    rotate = element.get("transform")
    return {
        "text": element.text or "",
        "x": float(element.get("x")), "y": float(element.get("y")),
        "size": float(element.get("font-size") or diagram.FONT_SIZE),
        "bold": element.get("font-weight") == "bold",
        "anchor": element.get("text-anchor") or "start",
        "rotate": bool(rotate and rotate.startswith("rotate(-90 ")),
    }


def _points(d: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r"[ML]([-\d.]+),([-\d.]+)", d)]


def _extent(line: dict) -> tuple[float, float, float, float]:
    """left, top, right, bottom of a text line's glyphs (estimated width)."""
    w = text_width(line["text"], line["size"], line["bold"])
    along = (-w / 2, w / 2) if line["anchor"] == "middle" else (0.0, w)
    up, down = GLYPH_UP * line["size"], GLYPH_DOWN * line["size"]
    if line["rotate"]:   # turned anticlockwise about (x, y): text runs up, glyphs stand left
        return line["x"] - up, line["y"] - along[1], line["x"] + down, line["y"] - along[0]
    return line["x"] + along[0], line["y"] - up, line["x"] + along[1], line["y"] + down


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and \
        a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


def _on_edge(point, box, tol=0.6) -> bool:
    x, y = point
    left, top, right, bottom = box["x"], box["y"], box["x"] + box["w"], box["y"] + box["h"]
    inside_x, inside_y = left - tol <= x <= right + tol, top - tol <= y <= bottom + tol
    return (inside_y and (abs(x - left) <= tol or abs(x - right) <= tol)) or \
        (inside_x and (abs(y - top) <= tol or abs(y - bottom) <= tol))


def _crosses(p, q, box, margin=0.6) -> bool:
    """Whether the axis-parallel segment p-q passes through the box's interior."""
    left, top = box["x"] + margin, box["y"] + margin
    right, bottom = box["x"] + box["w"] - margin, box["y"] + box["h"] - margin
    (x1, y1), (x2, y2) = p, q
    return max(x1, x2) > left and min(x1, x2) < right and max(y1, y2) > top and min(y1, y2) < bottom


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    counts = CASES[request.param]
    return request.param, counts, Parsed(draw_svg(counts, title="A review"))


# ---------------------------------------------------------------------------------- content

def test_standalone_svg():
    svg = draw_svg(EXAMPLE)
    assert svg.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg"')
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.find(f"{SVG}defs/{SVG}marker").get("id") == "prisma-arrowhead"
    # Nothing to fetch or run: no scripts, links, images, external fonts or style sheets.
    for needle in ("<script", "href", "<image", "@import", "@font-face", "<style"):
        assert needle not in svg
    assert re.findall(r"url\(([^)]*)\)", svg) == ["#prisma-arrowhead"] * svg.count("marker-end")
    assert "Arial, Helvetica" in root.find(f"{SVG}g").get("font-family")


def test_every_box_and_number_of_the_example():
    parsed = Parsed(draw_svg(EXAMPLE))
    assert parsed.text("header_new") == "Identification of new studies via databases and registers"
    assert parsed.text("records_identified") == (
        "Records identified from: Databases (n = 3,543) MEDLINE (n = 1,204) Embase (n = 1,876) "
        "HMIC (n = 312) Social Care Online (n = 151)")
    assert parsed.text("records_removed") == (
        "Records removed before screening: Duplicate records removed (n = 402) Records marked as "
        "ineligible by automation tools (n = 0) Records removed for other reasons (n = 12)")
    assert parsed.text("records_screened") == "Records screened (n = 3,129)"
    assert parsed.text("records_excluded") == "Records excluded (n = 2,977)"
    assert parsed.text("dbr_sought_reports") == "Reports sought for retrieval (n = 152)"
    assert parsed.text("dbr_notretrieved_reports") == "Reports not retrieved (n = 0)"
    assert parsed.text("dbr_assessed") == "Reports assessed for eligibility (n = 152)"
    assert parsed.text("dbr_excluded") == (
        "Reports excluded: Financial integration across health care settings only (n = 21) "
        "No financial integration (n = 9) Other reason (n = 8)")
    assert parsed.text("included") == (
        "Studies included in review (n = 38) Reports of included studies (n = 114)")
    assert [parsed.text(f"side_{name}") for name in ("identification", "screening", "included")] == [
        "Identification", "Screening", "Included"]
    # Each "(n = ...)" is kept on one line.
    for box in parsed.boxes.values():
        for line in box["lines"]:
            assert not re.search(r"\(n(?! = [\d,?]+\))", line["text"]), line["text"]
    assert any(line["text"].endswith("(n = 21)") for line in parsed.boxes["dbr_excluded"]["lines"])


def test_optional_columns_only_when_counted():
    plain = Parsed(draw_svg(EXAMPLE))
    for key in ("header_other", "other_identified", "other_sought_reports", "other_notretrieved_reports",
                "other_assessed", "other_excluded", "header_previous", "previous_studies", "total"):
        assert key not in plain.boxes, key
    assert "Registers" not in plain.text("records_identified")

    other = Parsed(draw_svg(OTHER))
    assert other.text("header_other") == "Identification of new studies via other methods"
    assert other.text("other_identified") == (
        "Records identified from: Websites (n = 20) Organisations (n = 5) Citation searching (n = 31)")
    assert other.text("other_sought_reports") == "Reports sought for retrieval (n = 12)"
    assert other.text("other_notretrieved_reports") == "Reports not retrieved (n = 2)"
    assert other.text("other_assessed") == "Reports assessed for eligibility (n = 10)"
    assert other.text("other_excluded") == "Reports excluded: Not an IRM (n = 6)"
    assert "previous_studies" not in other.boxes

    full = Parsed(draw_svg(FULL))
    assert full.text("header_previous") == "Previous studies"
    assert full.text("previous_studies") == (
        "Studies included in previous version of review (n = 12) "
        "Reports of studies included in previous version of review (n = 20)")
    assert full.text("included") == (
        "New studies included in review (n = 38) Reports of new included studies (n = 114)")
    assert full.text("total") == (
        "Total studies included in review (n = 50) Reports of total included studies (n = 134)")
    assert "Registers (n = 45) ClinicalTrials.gov (n = 30) ICTRP (n = 15)" in full.text("records_identified")
    # The columns sit left to right: previous, new (databases and registers), other methods.
    assert full.boxes["previous_studies"]["x"] < full.boxes["records_identified"]["x"] < \
        full.boxes["records_removed"]["x"] < full.boxes["other_identified"]["x"]


def test_one_other_source_is_enough_for_the_column():
    parsed = Parsed(draw_svg(dict(EXAMPLE, citations_results=7)))
    assert parsed.text("other_identified") == "Records identified from: Citation searching (n = 7)"
    assert parsed.text("other_assessed") == "Reports assessed for eligibility (n = ?)"
    assert parsed.text("other_excluded") == "Reports excluded (n = ?)"


def test_unknown_counts_and_optional_lines():
    parsed = Parsed(draw_svg({"previous_reports": 3}))
    assert parsed.text("records_identified") == "Records identified from: Databases (n = ?)"
    assert parsed.text("records_removed") == (
        "Records removed before screening: Duplicate records removed (n = ?)")
    assert parsed.text("records_screened") == "Records screened (n = ?)"
    assert parsed.text("dbr_excluded") == "Reports excluded (n = ?)"
    assert parsed.text("previous_studies") == (
        "Studies included in previous version of review (n = ?) "
        "Reports of studies included in previous version of review (n = 3)")
    assert parsed.text("total") == (
        "Total studies included in review (n = ?) Reports of total included studies (n = ?)")
    zero = Parsed(draw_svg({"dbr_excluded": {}, "other_excluded": {"": 4}, "register_results": 0}))
    assert zero.text("dbr_excluded") == "Reports excluded (n = 0)"
    assert zero.text("other_excluded") == "Reports excluded (n = 4)"
    assert zero.text("records_identified") == "Records identified from: Databases (n = ?) Registers (n = 0)"


def test_user_text_is_escaped():
    nasty = '<script>alert("x")</script>&"\'<!-- ]]>'
    svg = draw_svg(dict(OTHER, dbr_excluded={nasty: 2}, database_specific_results={"A&B <db>": 1},
                        other_excluded={"Bad\x00control\x1bchars\u2028here": 1}),
                   title='Title & <b>"quotes"</b>')
    assert "<script" not in svg and "<b>" not in svg and "<!--" not in svg
    parsed = Parsed(svg)
    assert parsed.text("dbr_excluded") == f"Reports excluded: {nasty} (n = 2)"
    assert "A&B <db> (n = 1)" in parsed.text("records_identified")
    assert parsed.text("other_excluded") == "Reports excluded: Bad control chars here (n = 1)"
    assert parsed.root.find(f"{SVG}title").text == 'PRISMA 2020 flow diagram: Title & <b>"quotes"</b>'
    title = [t.text for t in parsed.root.iter(f"{SVG}text") if t.get("class") == "prisma-title"]
    assert title == ['Title & <b>"quotes"</b>']


def test_numbers_have_thousands_separators():
    parsed = Parsed(draw_svg(dict(EXAMPLE, database_results=1234567, records_screened=10000)))
    assert "Databases (n = 1,234,567)" in parsed.text("records_identified")
    assert parsed.text("records_screened") == "Records screened (n = 10,000)"


@pytest.mark.parametrize("counts, error", [
    ([("records_screened", 3)], TypeError),
    ({"records_screened": "3"}, ValueError),
    ({"records_screened": 3.0}, ValueError),
    ({"dbr_excluded": ["a"]}, ValueError),
    ({"dbr_excluded": {"a": "1"}}, ValueError),
])
def test_bad_counts_are_refused(counts, error):
    with pytest.raises(error):
        draw_svg(counts)


# --------------------------------------------------------------------------------- geometry

def test_boxes_do_not_overlap(case):
    _, _, parsed = case
    for (ka, a), (kb, b) in itertools.combinations(parsed.boxes.items(), 2):
        assert not _overlap(a, b), f"{ka} overlaps {kb}"
    for key, box in parsed.boxes.items():
        assert box["x"] >= 0 and box["y"] >= 0, key
        assert box["x"] + box["w"] <= parsed.width and box["y"] + box["h"] <= parsed.height, key


def test_every_text_line_lies_inside_its_box(case):
    _, _, parsed = case
    for key, box in parsed.boxes.items():
        assert box["lines"], key
        for line in box["lines"]:
            left, top, right, bottom = _extent(line)
            where = f"{key}: {line['text']!r}"
            assert left >= box["x"] + 2 and right <= box["x"] + box["w"] - 2, where
            assert top >= box["y"] + 1 and bottom <= box["y"] + box["h"] - 1, where
        # and lines do not run into each other: baselines at least 1.15 font sizes apart
        for a, b in zip(box["lines"], box["lines"][1:]):
            assert b["y"] - a["y"] >= 1.15 * max(a["size"], b["size"]), key


def test_title_lies_inside_the_canvas(case):
    _, _, parsed = case
    title = [_line(t) for t in parsed.root.iter(f"{SVG}text") if t.get("class") == "prisma-title"]
    assert [line["text"] for line in title] == ["A review"]
    left, top, right, bottom = _extent(title[0])
    assert left >= 0 and top >= 0 and right <= parsed.width
    assert bottom < min(box["y"] for box in parsed.boxes.values())


def test_arrows_join_the_right_boxes_without_crossing_others(case):
    name, counts, parsed = case
    expected = set(BASE_EDGES)
    if name != "example":
        expected |= OTHER_EDGES
    if name == "full":
        expected |= PREVIOUS_EDGES
    edges = set()
    for points in parsed.arrows:
        assert len(points) >= 2
        starts = [k for k, box in parsed.boxes.items() if _on_edge(points[0], box)]
        ends = [k for k, box in parsed.boxes.items() if _on_edge(points[-1], box)]
        assert len(starts) == 1 and len(ends) == 1, (points, starts, ends)
        edges.add((starts[0], ends[0]))
        for p, q in zip(points, points[1:]):
            assert p[0] == q[0] or p[1] == q[1], "segments run across or down"
            for key, box in parsed.boxes.items():
                assert not _crosses(p, q, box), f"arrow {starts[0]} -> {ends[0]} crosses {key}"
    assert edges == expected
    assert len(parsed.arrows) == len(expected)


def test_many_reasons_and_databases_make_taller_boxes():
    few, many = Parsed(draw_svg(OTHER)), Parsed(draw_svg(MANY))
    assert many.boxes["dbr_excluded"]["h"] > few.boxes["dbr_excluded"]["h"] + 10 * diagram.LINE_HEIGHT
    assert many.boxes["records_identified"]["h"] > few.boxes["records_identified"]["h"] + 3 * diagram.LINE_HEIGHT
    assert len(many.boxes["dbr_excluded"]["lines"]) >= 21        # heading + 10 reasons, each wrapped
    texts = many.text("dbr_excluded")
    for i in range(10):
        assert f"Exclusion reason {i}, which is long enough to need wrapping in the box (n = {i})" in texts
    # The 120-character word is cut to fit; its pieces add up to the word.
    lines = [line["text"] for line in many.boxes["other_excluded"]["lines"]]
    word = [text for text in lines if text.startswith("xxx")]
    assert len(word) >= 3 and "".join(word) == "x" * 120 + " (n = 1)"
    # The row grows with its tallest box: the box beside it is centred in it, arrow still level.
    assessed, excluded = many.boxes["dbr_assessed"], many.boxes["dbr_excluded"]
    assert abs((assessed["y"] + assessed["h"] / 2) - (excluded["y"] + excluded["h"] / 2)) < 0.1


# ------------------------------------------------------------------------------ text widths

def _helvetica_and_dejavu():
    import os

    import matplotlib
    from matplotlib.ft2font import FT2Font
    try:
        from matplotlib._afm import AFM
    except ImportError:  # pragma: no cover - private module moved
        pytest.skip("matplotlib._afm is not there to read Helvetica's metrics")
    fonts = {}
    data = matplotlib.get_data_path()
    for bold, afm_name, ttf_name in ((False, "phvr8a.afm", "DejaVuSans.ttf"),
                                     (True, "phvb8a.afm", "DejaVuSans-Bold.ttf")):
        with open(os.path.join(data, "fonts", "afm", afm_name), "rb") as fh:
            afm = AFM(fh)
        ttf = FT2Font(os.path.join(data, "fonts", "ttf", ttf_name))
        ttf.set_size(1000, 72)   # 1000 px to the em
        fonts[bold] = (afm, ttf)
    return fonts


def test_width_estimate_is_an_upper_bound_for_helvetica_and_dejavu():
    fonts = _helvetica_and_dejavu()
    samples = ["Financial integration across health care settings only (n = 21)",
               "WWWWWWWWWW MMMMMMMM", "Records identified from:", "(n = 3,512)", "iiiiil|!.,;:"]
    for bold, (afm, ttf) in fonts.items():
        for code in range(32, 127):
            ch = chr(code)
            assert text_width(ch, 1000, bold) >= afm.get_width_char(code) - 0.5, ch
            assert text_width(ch, 1000, bold) >= ttf.load_char(code).linearHoriAdvance / 65536 - 0.5, ch
        for text in samples:
            ttf.set_text(text, 0.0)
            assert text_width(text, 1000, bold) >= ttf.get_width_height()[0] / 64 - 1, text
    assert text_width("漢字") == 2 * diagram.FONT_SIZE
    assert text_width("e\u0301") == text_width("e")


# ------------------------------------------------------------------------------- matplotlib

def test_matplotlib_figure_draws_the_same_layout():
    from matplotlib.figure import Figure
    from matplotlib.text import Annotation

    counts = dict(FULL, dbr_excluded={"Costs in $ and $$": 3, "Other": 1})
    fig = draw_matplotlib(counts, title="A review")
    assert isinstance(fig, Figure)
    parsed = Parsed(draw_svg(counts, title="A review"))
    texts = [t.get_text() for t in fig.axes[0].texts if not isinstance(t, Annotation)]   # not arrows
    svg_texts = [line["text"] for box in parsed.boxes.values() for line in box["lines"]] + ["A review"]
    assert sorted(texts) == sorted(svg_texts)
    assert "Costs in $ and $$ (n = 3)" in texts
    assert fig.get_size_inches() == pytest.approx((parsed.width / 100, parsed.height / 100))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    assert buffer.getvalue().startswith(b"\x89PNG")
