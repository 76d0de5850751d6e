"""The review's report: every table, plot, the PRISMA flow and the methods text in one folder.

`write_report(review, out)` writes `out/index.html` (self-contained: styles inline,
figures embedded as data URIs, no scripts, no external fonts; every piece of
text from the review escaped) and, beside it, each table as CSV, Markdown and
HTML, each figure as SVG and PNG, and the PRISMA counts as JSON and as the
PRISMA2020 R package's CSV template, so every number can be reused.
"""

from __future__ import annotations

import base64
import html
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pandas as pd
from sqlalchemy import func, select
from tqdm.auto import tqdm

from review import methods, prisma, schemes, screening, store, synthesis, tables

if TYPE_CHECKING:
    from review.project import Review

PLOT_KINDS = ("effect-direction", "harvest")


# --- plots from the review ---------------------------------------------------------------


def figure(data: synthesis.Extracted, kind: str, by: str = "irm_type",
           filters: synthesis.Filters | None = None):
    """A matplotlib Figure of one kind for the extracted data."""
    from review import plots

    if kind not in PLOT_KINDS:
        raise synthesis.SynthesisError(f"unknown plot kind {kind!r} (one of {', '.join(PLOT_KINDS)})")
    frame = synthesis.plot_data(data, group_by=by, filters=filters)
    domains = data.domain_vocabulary()
    domain_labels = {c: domains.label(c) for c in domains.codes()
                     if filters is None or filters.domain is None or c == filters.domain}
    design_labels = synthesis.labels(data, "study_designs")
    if (frame["direction"] == synthesis.NOT_REPORTED).all():
        raise synthesis.SynthesisError("nothing to plot: no scheme has a reported direction in the domains chosen")
    if kind == "effect-direction":
        # Two schemes may share a name (two "Pooled budgets" in the worked example): the id tells them apart
        # and matches the harvest plot's bar labels.
        frame = frame.assign(scheme_name=frame["scheme_id"] + " " + frame["scheme_name"])
        return plots.effect_direction_plot(
            frame, domain_labels=domain_labels, group_labels=synthesis.labels(data, by),
            design_labels=design_labels, design_order=list(synthesis.DESIGN_ORDER),
            title=f"Effect direction by {synthesis.axis(data.template, by).field.label}")
    return plots.harvest_plot(
        frame, domain_labels=domain_labels,
        direction_labels={c: l for c, l in synthesis.labels(data, "direction").items()
                          if c != synthesis.NOT_REPORTED and c != synthesis.NOT_APPLICABLE},
        design_labels=design_labels, design_heights=dict(synthesis.DESIGN_HEIGHTS),
        title="Harvest plot: schemes by direction of effect and study design")


def plot(review: "Review", kind: str, out: str | Path, by: str = "irm_type", domain: str | None = None,
         evidence: Iterable[str] | None = None, where: dict | None = None,
         template: str = synthesis.DEFAULT_TEMPLATE) -> Path:
    """`review plot`: draw one kind of plot for the review and save it (.svg or .png)."""
    from review import plots

    out = Path(out)
    if out.suffix.lower() not in (".svg", ".png"):
        raise synthesis.SynthesisError(f"{out}: the plot is written as .svg or .png, not {out.suffix or 'no suffix'!r}")
    data = synthesis.load(review, template)
    fig = figure(data, kind, by, synthesis.Filters.make(domain, evidence, where))
    return plots.save_figure(fig, out)


# --- the report ------------------------------------------------------------------------------


@dataclass
class Part:
    """One section of index.html."""

    anchor: str
    title: str
    body: list[str] = field(default_factory=list)


CSS = tables.TABLE_CSS + """
body { font-family: Arial, Helvetica, sans-serif; margin: 2em auto; max-width: 75em; padding: 0 1.5em;
       color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 2em; border-bottom: 2px solid #dde3ea; }
h3 { margin-top: 1.4em; } nav ul { columns: 2; } p.meta { color: #555; font-size: 0.9em; }
figure { margin: 1em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #e2e2e2; }
figcaption { font-size: 0.9em; color: #444; } details { margin: 0.5em 0 1em; }
summary { cursor: pointer; color: #1f4e79; } .problem { color: #8a1c1c; } .files li { font-family: monospace; }
table.review-table { margin: 0.5em 0; }
""".strip()


def _data_uri(path: Path) -> str:
    kind = "image/svg+xml" if path.suffix == ".svg" else "image/png"
    return f"data:{kind};base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figure_html(path: Path, caption: str, alt: str) -> str:
    # An <img> with a data URI keeps the page self-contained and stops any script an SVG
    # might hold from running; links give the files themselves.
    return (f'<figure><img src="{_data_uri(path)}" alt="{html.escape(alt)}">'
            f"<figcaption>{html.escape(caption)} "
            f'<a href="{html.escape(path.name if path.parent.name == "" else path.parent.name + "/" + path.name)}">'
            f"{html.escape(path.suffix[1:].upper())}</a></figcaption></figure>")


def _save_table(folder: Path, name: str, csv_text: str, markdown: str, html_text: str) -> None:
    (folder / f"{name}.csv").write_text(csv_text, encoding="utf-8")
    (folder / f"{name}.md").write_text(markdown, encoding="utf-8")
    (folder / f"{name}.html").write_text(html_text, encoding="utf-8")


def _problem(text: str) -> str:
    return f'<p class="problem">{html.escape(text)}</p>'


def _log_stamp(review: "Review") -> str:
    with store.read_connection(review.engine) as conn:
        count, last_id, last_at = conn.execute(
            select(func.count(), func.max(store.events.c.id), func.max(store.events.c.created_at))
            .select_from(store.events)).one()
    return f"Computed from the review's log: {count:,} events, the last (#{last_id}) at {last_at}."


def _prisma_part(review: "Review", out: Path) -> Part:
    part = Part("prisma", "PRISMA 2020 flow diagram")
    flow = prisma.flow(review)
    (out / "prisma.json").write_text(json.dumps(flow.to_json(), indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
    from review import prisma_diagram, prisma_template

    (out / "prisma.csv").write_text(prisma_template.to_csv(flow.to_json()), encoding="utf-8")
    for line in flow.missing:
        part.body.append(_problem(f"Missing: {line}"))
    for line in flow.warnings:
        part.body.append(_problem(f"Note: {line}"))
    try:
        flow.check()
    except prisma.PrismaError as exc:
        part.body.append(_problem(str(exc)))
    else:
        svg = out / "prisma.svg"
        svg.write_text(prisma_diagram.draw_svg(flow.to_json(), title=review.protocol.title), encoding="utf-8")
        part.body.append(_figure_html(svg, "PRISMA 2020 flow diagram, computed from the log.", "PRISMA flow diagram"))
    shown = flow.frame()
    shown["n"] = shown["n"].map(lambda v: "unknown" if v is None else f"{v:,}")
    part.body.append(tables.to_html(shown.set_index("box"), index_label="box", caption="Counts behind each box "
                                    "(`review prisma DIR --box NAME` lists the records in any box)"))
    part.body.append("<p>Identities:</p><ul>" + "".join(f"<li>{html.escape(str(i))}</li>"
                                                       for i in flow.identities()) + "</ul>")
    part.body.append('<p>Files: <a href="prisma.json">prisma.json</a> (the PRISMA2020 R package\'s keys), '
                     '<a href="prisma.csv">prisma.csv</a> (its CSV template, for the Shiny app).</p>')
    return part


def _methods_part(review: "Review", out: Path) -> Part:
    text = methods.methods_text(review)
    (out / "methods.md").write_text(text.to_markdown(), encoding="utf-8")
    return Part("methods", "Methods and results of the selection", [text.to_html(),
                '<p>File: <a href="methods.md">methods.md</a></p>'])


def _agreement_part(review: "Review", out: Path) -> Part:
    frame = screening.agreement(review)
    (out / "agreement.csv").write_text(tables.to_csv(frame, index=False), encoding="utf-8")
    labels = {s.name: s.label or s.name for s in review.protocol.stages}
    names = {r.id: r.name or r.id for r in review.protocol.reviewers}
    shown = frame.assign(stage=frame["stage"].map(labels), reviewer_a=frame["reviewer_a"].map(lambda r: names.get(r, r)),
                         reviewer_b=frame["reviewer_b"].map(lambda r: names.get(r, r)))
    shown.columns = ["Stage", "Reviewer A", "Reviewer B", "Records both screened", "Agreements", "% agreement",
                     "Cohen's kappa"]
    body = [tables.to_html(shown, index=False, caption="Agreement between reviewers before conflicts were resolved")]
    if frame.empty:
        body = [_problem("No two reviewers have screened the same records yet.")]
    return Part("agreement", "Agreement between reviewers", body)


def _crosstab_html(table: synthesis.CrossTab, folder: Path, name: str) -> str:
    _save_table(folder, name, table.render("csv"), table.render("markdown"), table.render("html"))
    names = table.table(labels=True, cells="names")
    drill = tables.to_html(names, index_label=table.row_axis.field.label, caption="Schemes in each cell")
    links = " ".join(f'<a href="tables/{name}.{ext}">{ext.upper()}</a>' for ext in ("csv", "md", "html"))
    return (table.render("html") + f"<p>{links}</p>"
            + f"<details><summary>Schemes in each cell</summary>{drill}</details>")


def _synthesis_parts(review: "Review", out: Path, template: str) -> list[Part]:
    try:
        data = synthesis.load(review, template)
    except synthesis.SynthesisError as exc:
        return [Part("synthesis", "Synthesis", [_problem(str(exc))])]
    folder = out / "tables"
    folder.mkdir(exist_ok=True)
    parts = []
    designs = synthesis.crosstab(data, "country", "study_designs")
    parts.append(Part("designs", "Study design by country", [_crosstab_html(designs, folder, "design_by_country")]))
    overview = synthesis.crosstab(data, "domain", "direction")
    body = [_crosstab_html(overview, folder, "direction_by_domain")]
    vocab = data.domain_vocabulary()
    for domain in vocab.codes():
        table = synthesis.crosstab(data, "irm_type", "direction", synthesis.Filters(domain))
        body.append(f"<h3>{html.escape(vocab.label(domain))}</h3>")
        body.append(_crosstab_html(table, folder, f"irm_type_by_direction_{domain}"))
    parts.append(Part("directions", "Direction of effect by IRM type, per outcome domain", body))
    counted = synthesis.vote_count(data)
    (folder / "votes.csv").write_text(counted.render("csv"), encoding="utf-8")
    (folder / "votes.md").write_text(counted.render("markdown"), encoding="utf-8")
    parts.append(Part("votes", "Vote counting (SWiM) with a sign test",
                      [counted.render("html"), '<p><a href="tables/votes.csv">CSV</a> '
                                               '<a href="tables/votes.md">MD</a></p>']))
    figures = out / "figures"
    figures.mkdir(exist_ok=True)
    body = []
    from review import plots

    for kind, caption in (("effect-direction", "Effect direction plot (after Thomson & Thomas 2013): ▲ better, "
                                               "▼ worse, ◄► no difference (filled) or mixed (hollow), ? unclear, "
                                               "blank not reported; size by sample size, colour by strongest "
                                               "study design."),
                          ("harvest", "Harvest plot (after Ogilvie et al. 2008): one bar per scheme, height and "
                                      "shade by study design.")):
        try:
            fig = figure(data, kind)
        except synthesis.SynthesisError as exc:
            body.append(_problem(str(exc)))
            continue
        name = kind.replace("-", "_")
        plots.save_figure(fig, figures / f"{name}.png")
        svg = plots.save_figure(fig, figures / f"{name}.svg")
        body.append(_figure_html(svg, caption, caption.split(" (")[0]))
        body.append(f'<p><a href="figures/{name}.png">PNG</a></p>')
    parts.append(Part("plots", "Plots", body))
    parts.append(Part("schemes", "Included schemes", [_schemes_table(review, data)]))
    return parts


def _schemes_table(review: "Review", data: synthesis.Extracted) -> str:
    state = schemes.SchemeState.load(review)
    rows = []
    for scheme in data.schemes:
        values = scheme.values
        row = {"Scheme": scheme.scheme_id, "Name": scheme.name}
        for name in ("country", "irm_type", "study_designs"):
            a = synthesis.axis(data.template, name)
            row[a.field.label] = "; ".join(a.label(c) for c in synthesis.top_values(values, a.field))
        row["Reports"] = len(state.schemes[scheme.scheme_id].reports)
        rows.append(row)
    return tables.to_html(pd.DataFrame(rows), index=False, caption=f"{len(rows)} schemes with extracted data")


def _qualitative_parts(review: "Review", out: Path) -> list[Part]:
    """Themes across schemes, the thematic summary, theme frequency and coder agreement; only when codings exist."""
    from review import coding, plots, themes

    if not coding.current_codings(review):
        return []
    folder, figures = out / "tables", out / "figures"
    folder.mkdir(exist_ok=True)
    figures.mkdir(exist_ok=True)
    body = []
    summary = themes.summary(review, max_depth=1)
    _save_table(folder, "thematic_summary", themes.render_summary(summary, "csv"),
                themes.render_summary(summary, "markdown"), themes.render_summary(summary, "html"))
    body.append("<h3>Thematic summary (themes and their first level of sub-themes)</h3>")
    body.append(themes.render_summary(summary, "html"))
    body.append('<p><a href="tables/thematic_summary.csv">CSV</a> <a href="tables/thematic_summary.md">MD</a></p>')
    for by, title in (("scheme", "Themes by scheme"), ("country", "Themes by country"),
                      ("irm_type", "Themes by IRM type")):
        matrix = themes.matrix(review, by)
        _save_table(folder, f"themes_by_{by}", matrix.render("csv"), matrix.render("markdown"),
                    matrix.render("html"))
        body.append(f"<h3>{html.escape(title)}</h3>")
        links = " ".join(f'<a href="tables/themes_by_{by}.{ext}">{ext.upper()}</a>' for ext in ("csv", "md", "html"))
        if by == "scheme":
            body.append(f"<details><summary>Full matrix ({len(matrix.counts)} codes × "
                        f"{len(matrix.counts.columns)} schemes)</summary>{matrix.render('html')}</details>")
        else:
            body.append(matrix.render("html"))
        body.append(f"<p>{links}</p>")
    try:
        fig = themes.frequency_figure(review, max_depth=1)
    except themes.ThemeError as exc:
        body.append(_problem(str(exc)))
    else:
        plots.save_figure(fig, figures / "theme_frequency.png")
        svg = plots.save_figure(fig, figures / "theme_frequency.svg")
        body.append(_figure_html(svg, "Theme frequency: number of schemes in which each theme (and its first "
                                      "level of sub-themes) appears; colour by polarity.", "Theme frequency"))
    agreement = coding.agreement(review)
    if not agreement.empty:
        (folder / "coding_agreement.csv").write_text(tables.to_csv(agreement, index=False), encoding="utf-8")
        body.append("<h3>Agreement between coders</h3>")
        body.append(tables.to_html(agreement, index=False, caption="Per code, over the units both coders coded: "
                                   "Cohen's kappa, or percentage agreement where kappa is undefined"))
    return [Part("qualitative", "Qualitative synthesis: themes across schemes", body)]


def _page(review: "Review", parts: list[Part], stamp: str) -> str:
    protocol = review.protocol
    nav = "".join(f'<li><a href="#{p.anchor}">{html.escape(p.title)}</a></li>' for p in parts)
    sections = "".join(f'<section id="{p.anchor}"><h2>{html.escape(p.title)}</h2>{"".join(p.body)}</section>'
                       for p in parts)
    question = f"<p>{html.escape(protocol.question)}</p>" if protocol.question else ""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{html.escape(protocol.title)}</title><style>{CSS}</style></head><body>"
            f"<h1>{html.escape(protocol.title)}</h1>{question}<p class=\"meta\">{html.escape(stamp)}</p>"
            f"<nav><ul>{nav}</ul></nav>{sections}</body></html>\n")


def write_report(review: "Review", out: str | Path, template: str = synthesis.DEFAULT_TEMPLATE,
                 progress: bool = False) -> Path:
    """Write the report into `out` (created if needed); returns the path of index.html."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    steps = [("PRISMA flow", lambda: [_prisma_part(review, out)]),
             ("methods", lambda: [_methods_part(review, out)]),
             ("agreement", lambda: [_agreement_part(review, out)]),
             ("synthesis", lambda: _synthesis_parts(review, out, template)),
             ("qualitative", lambda: _qualitative_parts(review, out))]
    parts: list[Part] = []
    with tqdm(steps, desc="report", unit="part", disable=not progress) as bar:
        for name, make in bar:
            bar.set_postfix_str(name)
            parts += make()
    index = out / "index.html"
    index.write_text(_page(review, parts, _log_stamp(review)), encoding="utf-8")
    return index
