"""Effect direction and harvest plots: what is drawn, that text never overlaps, clean output."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Annotation, Text

from review.plots import OKABE_ITO, UNKNOWN_COLOUR, effect_direction_plot, harvest_plot, save_figure

DOMAINS = {
    "health_outcomes": "Health outcomes",
    "service_use": "Hospital and other service use",
    "costs": "Costs",
    "experience": "Patient and carer experience",
}
GROUPS = {
    "pooled_funds": "Pooled funds",
    "aligned_budgets": "Aligned budgets",
    "joint_commissioning": "Joint commissioning",
    "lead_commissioning": "Lead commissioning",
    "integrated_management": "Integrated management and provision",
    "care_trust": "Care trusts",
    "personal_budgets": "Integrated personal budgets",
    "structural": "Structural integration (single organisation)",
}
DESIGNS = {
    "rct": "Randomised controlled trial",
    "quasi_experimental": "Quasi-experimental",
    "routine_data": "Routine data analysis",
    "mixed_methods": "Mixed methods",
    "uncontrolled": "Uncontrolled before-after",
    "qualitative": "Qualitative",
}
DESIGN_ORDER = list(DESIGNS)
HEIGHTS = {"rct": 3, "quasi_experimental": 3, "routine_data": 2, "mixed_methods": 2,
           "uncontrolled": 1, "qualitative": 1}
DIRECTION_LABELS = {"better": "Better", "no_difference": "No difference", "mixed": "Mixed",
                    "worse": "Worse", "unclear": "Unclear", "not_reported": "Not reported"}

NAMES = [
    "North West London Integrated Care Pilot",
    "Torbay Care Trust",
    "Partnerships for Older People Projects (POPP) national evaluation",
    "Northumberland Care Trust",
    "Canterbury Health System Integration Programme",
    "Swedish Financial Coordination Associations (Samordningsförbund)",
    "Integrated Care Organisation, Norfolk",
    "Kaiser Permanente–NHS learning sites",
    "Cumbria Integrated Care Communities",
    "Somerset Partnership Pooled Budget for Older People's Services",
    "Trafford Health and Social Care Partnership",
    "Herefordshire Public Services",
    "Australian Coordinated Care Trials",
    "Partnership for Integrated Care in Scotland (Highland lead agency)",
    "Knowsley Health and Wellbeing",
    "Barking and Dagenham Joint Commissioning Unit",
    "Ontario Home and Community Care Pooled Envelope",
    "Dutch Integrated Funding for Chronic Care",
    "Veterans Health Administration Home Based Primary Care",
    "New Zealand Integrated Care Demonstrations",
    "Nottingham City Joint Commissioning of Mental Health Services",
    "Oxfordshire Section 75 Pooled Budget",
    "Wiltshire Older People's Integrated Commissioning",
    "PACE (Program of All-Inclusive Care for the Elderly)",
    "Sheffield Integrated Personal Budgets",
    "Greater Manchester Health and Social Care Devolution",
    "Isle of Wight Integrated Learning Disability Service",
    "Swedish Local Health and Social Care Alliance (Norrtälje)",
    "Quebec SIPA",
    "Gloucestershire Integrated Community Teams",
    "Cornwall Living Well",
    "Leeds Integrated Neighbourhood Teams",
    "Islington Integrated Care Networks",
    "Pennine Care Pooled Budget for Intermediate Care Services",
    "Salford Integrated Care Programme",
    "Finland Eksote Regional Health and Social Services Authority",
    "Tower Hamlets Integrated Provider Partnership",
    "Southern Health and Social Care Trust (Northern Ireland)",
]


def realistic_data(seed: int = 7) -> pd.DataFrame:
    """38 schemes in 8 groups (six schemes in two), 4 domains, names up to 65 characters."""
    rng = np.random.default_rng(seed)
    groups = list(GROUPS)
    directions = ["better", "no_difference", "mixed", "worse", "unclear", "not_reported"]
    weights = [0.34, 0.2, 0.1, 0.06, 0.08, 0.22]
    rows = []
    for i, name in enumerate(NAMES):
        scheme_id = f"S{i + 1:02d}"
        own = [groups[i % len(groups)]]
        if i % 6 == 0:
            own.append(groups[(i + 3) % len(groups)])
        design = ["rct", "quasi_experimental", "routine_data", "mixed_methods", "uncontrolled", "qualitative",
                  ""][rng.integers(0, 7)]
        n = [float("nan"), 120.0, 450.0, 5200.0][rng.integers(0, 4)]
        for domain in DOMAINS:
            direction = directions[rng.choice(len(directions), p=weights)]
            for group in own:
                rows.append({"scheme_id": scheme_id, "scheme_name": name, "domain": domain,
                             "direction": direction, "group": group, "design": design, "n": n})
    return pd.DataFrame(rows)


def small_data() -> pd.DataFrame:
    """Counted by hand in the tests below. S2 is in two groups; 'costs' has nothing reported."""
    rows = [
        ("S1", "Alpha", "health_outcomes", "better", "pooled_funds", "rct", 1500.0),
        ("S1", "Alpha", "service_use", "worse", "pooled_funds", "rct", 1500.0),
        ("S1", "Alpha", "costs", "not_reported", "pooled_funds", "rct", 1500.0),
        ("S2", "Beta", "health_outcomes", "no_difference", "pooled_funds", "uncontrolled", 200.0),
        ("S2", "Beta", "service_use", "mixed", "pooled_funds", "uncontrolled", 200.0),
        ("S2", "Beta", "health_outcomes", "no_difference", "care_trust", "uncontrolled", 200.0),
        ("S2", "Beta", "service_use", "mixed", "care_trust", "uncontrolled", 200.0),
        ("S3", "Gamma", "health_outcomes", "better", "care_trust", "", float("nan")),
        ("S3", "Gamma", "service_use", "unclear", "care_trust", "", float("nan")),
        ("S3", "Gamma", "costs", "not_reported", "care_trust", "", float("nan")),
    ]
    return pd.DataFrame(rows, columns=["scheme_id", "scheme_name", "domain", "direction", "group", "design", "n"])


def effect(data: pd.DataFrame, **kw):
    return effect_direction_plot(data, domain_labels=DOMAINS, group_labels=GROUPS, design_labels=DESIGNS,
                                 design_order=DESIGN_ORDER, **kw)


def harvest(data: pd.DataFrame, **kw):
    return harvest_plot(data, domain_labels=DOMAINS, direction_labels=DIRECTION_LABELS, design_labels=DESIGNS,
                        design_heights=HEIGHTS, **kw)


def drawn_texts(fig) -> list[Text]:
    FigureCanvasAgg(fig).draw()
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def assert_no_overlapping_text(fig) -> None:
    texts = drawn_texts(fig)               # attaches an Agg canvas and draws
    renderer = fig.canvas.get_renderer()
    boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
    clashes = [(a, b) for i, (a, box_a) in enumerate(boxes) for b, box_b in boxes[i + 1:]
               if box_a.x0 < box_b.x1 - 1 and box_b.x0 < box_a.x1 - 1
               and box_a.y0 < box_b.y1 - 1 and box_b.y0 < box_a.y1 - 1]
    assert not clashes, f"{len(clashes)} overlapping text pairs, e.g. {clashes[:3]}"


def test_overlap_check_catches_overlapping_text():
    fig = Figure(figsize=(3, 2))
    fig.text(0.1, 0.5, "first label")
    fig.text(0.15, 0.5, "second label")
    with pytest.raises(AssertionError, match="overlapping"):
        assert_no_overlapping_text(fig)


def svg_texts(path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(el.itertext()) for el in root.iter("{http://www.w3.org/2000/svg}text")]


def cell_markers(fig) -> list[Line2D]:
    return [line for ax in fig.axes for line in ax.lines if line.get_label().startswith("_cell:")]


def panels(fig) -> dict:
    return {ax.get_title(loc="left"): ax for ax in fig.axes}


# ---------------------------------------------------------------- effect direction plot

def test_effect_plot_draws_one_marker_per_reported_cell_per_group_row():
    fig = effect(small_data())
    kinds = sorted(line.get_label().removeprefix("_cell:") for line in cell_markers(fig))
    # S1 (pooled): better, worse. S2 (pooled and care trust): no_difference, mixed twice. S3: better, unclear.
    assert kinds == sorted(["better", "worse", "no_difference", "mixed", "no_difference", "mixed",
                            "better", "unclear"])


def test_effect_plot_markers_encode_direction_design_and_size():
    fig = effect(small_data())
    by_kind = {}
    for line in cell_markers(fig):
        by_kind.setdefault(line.get_label().removeprefix("_cell:"), []).append(line)
    assert {line.get_marker() for line in by_kind["better"]} == {"^"}
    assert by_kind["worse"][0].get_marker() == "v"
    # mixed is the hollow version of the no-difference marker
    no_difference, mixed = by_kind["no_difference"][0], by_kind["mixed"][0]
    assert np.array_equal(no_difference.get_marker().vertices, mixed.get_marker().vertices)
    assert to_hex(mixed.get_markerfacecolor()) == "#ffffff"
    assert to_hex(no_difference.get_markerfacecolor()) == to_hex(mixed.get_markeredgecolor()) != "#ffffff"
    # S1 (rct, n=1500) sits above S3 (design and n unknown): bigger, strongest-design colour
    s1, s3 = sorted(by_kind["better"], key=lambda line: line.get_ydata()[0])
    assert s1.get_markersize() > s3.get_markersize()
    assert to_hex(s1.get_markerfacecolor()) == OKABE_ITO[0].lower()
    assert to_hex(s3.get_markerfacecolor()) == UNKNOWN_COLOUR.lower()


def test_effect_plot_svg_has_names_labels_and_legend_as_text(tmp_path):
    path = save_figure(effect(small_data(), title="Effects by type of mechanism"), tmp_path / "e.svg")
    texts = svg_texts(path)
    for expected in ["Alpha", "Beta", "Gamma", "Pooled funds", "Care trusts", "Health outcomes", "Costs",
                     "Effect direction", "mixed (hollow)", "blank: not reported", "Randomised controlled trial",
                     "Design not known", "Effects by type of mechanism"]:
        assert expected in texts, expected
    # "Hospital and other service use" is wrapped onto lines but all there
    assert "Hospital and other service use" in " ".join(texts)
    assert texts.count("Beta") == 2              # once per group it belongs to
    assert "Joint commissioning" not in texts    # groups that do not occur get no header


def test_effect_plot_truncates_long_names_only():
    data = small_data()
    long = "A very long scheme name that goes on and on beyond forty-five characters"
    data.loc[data["scheme_id"] == "S1", "scheme_name"] = long
    shown = [t.get_text() for t in drawn_texts(effect(data))]
    assert long[:44].rstrip() + "…" in shown
    assert "Beta" in shown and long not in shown


@pytest.mark.slow  # draws realistic plots
def test_effect_plot_realistic_has_no_overlapping_text():
    assert_no_overlapping_text(effect(realistic_data(), title="Direction of effect by mechanism type"))


@pytest.mark.slow  # draws realistic plots
def test_effect_plot_height_grows_with_rows_and_legend_stays_below_table():
    data = realistic_data()
    few = effect(data[data["scheme_id"].isin(["S01", "S02", "S03"])])
    many = effect(data)
    rows = data[["scheme_id", "group"]].drop_duplicates().shape[0] + data["group"].nunique()
    assert many.get_figheight() - few.get_figheight() > 0.25 * (rows - 6)
    FigureCanvasAgg(many).draw()
    renderer = many.canvas.get_renderer()
    table = many.axes[0].get_window_extent(renderer)
    for legend in many.legends:
        assert legend.get_window_extent(renderer).y1 < table.y0


@pytest.mark.slow  # draws realistic plots
def test_effect_plot_markers_count_realistic():
    data = realistic_data()
    expected = data[data["direction"] != "not_reported"].drop_duplicates(["scheme_id", "group", "domain"])
    assert len(cell_markers(effect(data))) == len(expected)


# ---------------------------------------------------------------- harvest plot

def test_harvest_plot_one_bar_per_scheme_per_domain():
    fig = harvest(small_data())
    by_domain = panels(fig)
    # costs: nothing reported -> no panel; S2 counted once although in two groups
    assert set(by_domain) == {"Health outcomes", "Hospital and other service use"}
    assert len(by_domain["Health outcomes"].patches) == 3          # S1 better, S2 no diff, S3 better
    assert len(by_domain["Hospital and other service use"].patches) == 3   # S1 worse, S2 mixed, S3 unclear
    heights = sorted(p.get_height() for p in by_domain["Health outcomes"].patches)
    assert heights == [1.0, 1.0, 3.0]                              # uncontrolled 1, unknown 1, rct 3


def direction_labels(ax) -> list[str]:
    return [t.get_text() for t in ax.texts if isinstance(t, Annotation)]


def test_harvest_plot_every_direction_labelled_in_every_panel():
    fig = harvest(small_data())
    for ax in panels(fig).values():
        assert [label.split("\n")[0] for label in direction_labels(ax)] == [
            "Better", "No difference", "Mixed", "Worse", "Unclear"]
    assert direction_labels(panels(fig)["Health outcomes"]) == [
        "Better\n(2)", "No difference\n(1)", "Mixed\n(0)", "Worse\n(0)", "Unclear\n(0)"]


def test_harvest_plot_bar_labels_are_rotated_ids_with_short_names():
    data = small_data()
    data.loc[data["scheme_id"] == "S1", "scheme_name"] = "North West London Integrated Care Pilot"
    ax = panels(harvest(data))["Health outcomes"]
    labels = {t.get_text(): t.get_rotation() for t in ax.texts if t.get_text().startswith("S")}
    assert labels == {"S1 North West London Int…": 90.0, "S2 Beta": 90.0, "S3 Gamma": 90.0}


@pytest.mark.slow  # draws realistic plots
def test_harvest_plot_realistic_counts_and_no_overlapping_text():
    data = realistic_data()
    fig = harvest(data, title="Harvest plot of effects across 38 schemes")
    by_domain = panels(fig)
    for domain, label in DOMAINS.items():
        reported = data[(data["domain"] == domain) & (data["direction"] != "not_reported")]
        assert len(by_domain[label].patches) == reported["scheme_id"].nunique()
    assert_no_overlapping_text(fig)
    renderer = fig.canvas.get_renderer()
    lowest_panel = min(ax.get_window_extent(renderer).y0 for ax in fig.axes)
    assert fig.legends[0].get_window_extent(renderer).y1 < lowest_panel


def test_harvest_plot_panels_align_direction_slots():
    fig = harvest(realistic_data())
    centres = [[t.xy[0] for t in ax.texts if isinstance(t, Annotation)] for ax in fig.axes]
    assert all(c == centres[0] for c in centres)
    lefts = {round(ax.get_position().x0, 6) for ax in fig.axes}
    widths = {round(ax.get_position().width, 6) for ax in fig.axes}
    assert len(lefts) == 1 and len(widths) == 1


# the extraction template lists designs weakest first and synthesis adds its special labels
TEMPLATE_DESIGNS = {code: DESIGNS[code] for code in reversed(DESIGN_ORDER)} | {
    "not_reported": "Not reported", "not_applicable": "Not applicable"}


def test_design_colours_follow_strength_not_label_order_and_match_across_plots():
    data = small_data()
    fig_e = effect_direction_plot(data, domain_labels=DOMAINS, group_labels=GROUPS, design_labels=TEMPLATE_DESIGNS,
                                  design_order=DESIGN_ORDER)
    fig_h = harvest_plot(data, domain_labels=DOMAINS, direction_labels=DIRECTION_LABELS,
                         design_labels=TEMPLATE_DESIGNS, design_heights=HEIGHTS)
    s1_marker = min(cell_markers(fig_e), key=lambda line: line.get_ydata()[0])      # S1, rct, first row
    health = panels(fig_h)["Health outcomes"]
    better = sorted(health.patches, key=lambda p: p.get_x())[:2]    # S1 and S3 (better); S2 is no difference
    # strongest design (rct, S1) first within a direction, same colour as in the effect plot
    assert to_hex(better[0].get_facecolor()) == to_hex(s1_marker.get_markerfacecolor()) == OKABE_ITO[0].lower()
    assert better[0].get_height() == 3.0
    legend_labels = [t.get_text() for t in fig_h.legends[0].get_texts()]
    assert legend_labels == ["Randomised controlled trial (height 3)", "Uncontrolled before-after (height 1)",
                             "Design not known (height 1)"]


def test_more_designs_present_than_colours_is_refused():
    data = realistic_data()
    many = {f"d{i}": f"Design {i}" for i in range(9)}
    data["design"] = [f"d{i % 9}" for i in range(len(data))]
    with pytest.raises(ValueError, match="no colour left for 'd8'"):
        effect_direction_plot(data, domain_labels=DOMAINS, group_labels=GROUPS, design_labels=many,
                              design_order=list(many))


# ---------------------------------------------------------------- untrusted text, output files

@pytest.mark.parametrize("plot", [effect, harvest])
def test_untrusted_names_render_literally(plot, tmp_path):
    data = small_data()
    data.loc[data["scheme_id"] == "S1", "scheme_name"] = "Cost $x$ <script>"
    path = save_figure(plot(data), tmp_path / "p.svg")
    raw = path.read_text(encoding="utf-8")
    assert "&lt;script&gt;" in raw and "<script" not in raw
    texts = svg_texts(path)
    assert any("Cost $x$ <script>" in t for t in texts)


@pytest.mark.parametrize("plot", [effect, harvest])
def test_user_rcparams_cannot_turn_names_into_tex_or_mathtext(plot, tmp_path):
    data = small_data()
    data.loc[data["scheme_id"] == "S1", "scheme_name"] = "Cost $x$ <script>"
    with matplotlib.rc_context({"text.usetex": True, "text.parse_math": False}):
        fig = plot(data)
        save_figure(fig, tmp_path / "p.png")       # would need LaTeX if usetex leaked through
        path = save_figure(fig, tmp_path / "p.svg")
    assert any("Cost $x$ <script>" in t for t in svg_texts(path))
    assert not any("\\$" in t for t in svg_texts(path))


def test_missing_design_as_pd_na_is_unknown_design():
    data = small_data().astype({"design": "string"})
    data.loc[data["scheme_id"] == "S3", "design"] = pd.NA
    ax = panels(harvest(data))["Health outcomes"]
    assert sorted(p.get_height() for p in ax.patches) == [1.0, 1.0, 3.0]
    assert UNKNOWN_COLOUR.lower() in {to_hex(p.get_facecolor()) for p in ax.patches}


@pytest.mark.slow  # draws each realistic plot twice
@pytest.mark.parametrize("plot", [effect, harvest])
def test_svg_is_xml_and_byte_identical_on_resave(plot, tmp_path):
    fig = plot(realistic_data())
    first = save_figure(fig, tmp_path / "a.svg").read_bytes()
    second = save_figure(fig, tmp_path / "b.svg").read_bytes()
    assert first == second
    assert ET.fromstring(first).tag == "{http://www.w3.org/2000/svg}svg"
    assert b"<dc:date>" not in first
    again = save_figure(plot(realistic_data()), tmp_path / "c.svg").read_bytes()
    assert again == first


def test_png_output(tmp_path):
    path = save_figure(harvest(small_data()), tmp_path / "h.PNG")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_save_figure_rejects_other_suffixes(tmp_path):
    with pytest.raises(ValueError, match=r"\.pdf"):
        save_figure(effect(small_data()), tmp_path / "e.pdf")
    with pytest.raises(ValueError, match="no suffix"):
        save_figure(effect(small_data()), tmp_path / "e")


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("plot", [effect, harvest])
def test_nothing_to_plot(plot):
    data = small_data()
    message = "nothing to plot: no scheme has a reported direction in any domain"
    with pytest.raises(ValueError, match=message):
        plot(data.iloc[0:0])
    with pytest.raises(ValueError, match=message):
        plot(data.assign(direction="not_reported"))


@pytest.mark.parametrize("plot", [effect, harvest])
def test_unknown_direction_is_named(plot):
    data = small_data()
    data.loc[0, "direction"] = "improved"
    with pytest.raises(ValueError, match="'improved'"):
        plot(data)


@pytest.mark.parametrize("plot", [effect, harvest])
def test_unlabelled_codes_are_named(plot):
    data = small_data()
    data.loc[0, "design"] = "cohort"
    with pytest.raises(ValueError, match="'cohort'.*design_labels"):
        plot(data)
    data = small_data()
    data.loc[0, "domain"] = "wellbeing"
    with pytest.raises(ValueError, match="'wellbeing'.*domain_labels"):
        plot(data)


def test_conflicting_duplicate_cells_are_refused():
    data = small_data()
    data.loc[5, "direction"] = "better"     # S2 health outcomes: care trust row disagrees with pooled row
    with pytest.raises(ValueError, match="conflicting rows.*S2"):
        harvest(data)


def test_missing_column_is_named():
    with pytest.raises(ValueError, match="design"):
        effect(small_data().drop(columns=["design"]))


def test_marker_sizes_follow_size_classes():
    data = small_data()
    data["direction"] = "better"
    data = data[data["domain"] == "health_outcomes"].drop_duplicates("scheme_id").copy()
    data["n"] = [10.0, 999.0, float("nan")]
    sizes = {line.get_ydata()[0]: line.get_markersize() for line in cell_markers(effect(data))}
    assert len(set(sizes.values())) == 3
    assert not any(math.isnan(s) for s in sizes.values())
