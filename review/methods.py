"""Methods text a reviewer can paste into a paper, written from the protocol and the log.

PRISMA 2020 item 8 (selection process), item 9 (data collection process) and item
16a (results of the selection). Every number comes from the log; what the log
cannot know (e.g. whether study investigators were contacted) is left as a
bracketed prompt for the reviewer to fill in, never guessed.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING


from review import extraction, prisma, screening, stopping
from review.clusters import RUN_EVENT, summary as dedup_summary

if TYPE_CHECKING:
    from review.project import Review

NUMBER_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight",
                9: "nine", 10: "ten"}
ORDER_TEXT = {
    "model": "ranked by a relevance model (TF-IDF features and logistic regression, refitted as decisions "
             "accumulated) so that likely inclusions came first",
    "model_sentence": "ranked by a relevance model (TF-IDF features and all-MiniLM-L6-v2 sentence vectors, "
                      "logistic regression, refitted as decisions accumulated) so that likely inclusions came "
                      "first",
    "random": "in random order",
    "import": "in the order they were imported",
}


@dataclass
class Section:
    item: str
    title: str
    paragraphs: list[str]


@dataclass
class MethodsText:
    sections: list[Section]

    def to_text(self) -> str:
        blocks = []
        for s in self.sections:
            blocks.append(f"{s.title} (PRISMA 2020 item {s.item})")
            blocks += s.paragraphs
        return "\n\n".join(blocks) + "\n"

    def to_markdown(self) -> str:
        blocks = []
        for s in self.sections:
            blocks.append(f"### {s.title} (PRISMA 2020 item {s.item})")
            blocks += s.paragraphs
        return "\n\n".join(blocks) + "\n"

    def to_html(self) -> str:
        parts = []
        for s in self.sections:
            parts.append(f"<h3>{html.escape(s.title)} <small>(PRISMA 2020 item {html.escape(s.item)})</small></h3>")
            parts += [f"<p>{html.escape(p)}</p>" for p in s.paragraphs]
        return "\n".join(parts)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()


def _words(n: int) -> str:
    return NUMBER_WORDS.get(n, f"{n:,}")


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def _join(items: list[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _person(review: "Review", reviewer_id: str) -> str:
    for r in review.protocol.reviewers:
        if r.id == reviewer_id:
            return r.name or r.id
    return reviewer_id


def _events(review: "Review", kind: str) -> list[tuple[int, str, dict]]:
    """(id, kind, payload) of every event of a kind, undone decisions included, from the read model."""
    return [(entry.event_id, kind, entry.event.payload()) for entry in review.read_model().logged(kind)]


# --- item 8 ----------------------------------------------------------------------------------


def _dedup_paragraph(review: "Review", flow: prisma.Flow) -> str | None:
    summary = dedup_summary(review)
    if summary.run_id is None:
        return ("[Deduplication has not been run in the workbench: say how duplicate records were identified.]")
    runs = len(_events(review, RUN_EVENT))
    reviewed = summary.decided_same + summary.decided_different
    text = (f"Duplicate records were identified in the workbench, first by exact identifiers (DOI, PubMed ID) and "
            f"then by comparing title, authors, year, journal, volume and pages with fuzzy string matching within "
            f"blocks of similar records ({_plural(runs, 'run')}). Pairs with a high similarity and no conflicting "
            f"identifier were merged automatically ({_plural(summary.auto_merged, 'pair')}); "
            f"{_plural(summary.needs_review, 'uncertain pair')} were referred to a reviewer, who judged "
            f"{reviewed:,} of them ({summary.decided_same:,} the same, {summary.decided_different:,} different). "
            f"{_plural(flow.counts['duplicates'] or 0, 'duplicate record')} {_was(flow.counts['duplicates'] or 0)} "
            f"removed.")
    if summary.pending_review:
        text += f" [{_plural(summary.pending_review, 'pair')} still await a decision.]"
    return text


def _stage_paragraph(review: "Review", state: screening.ScreeningState, stage: str,
                     raw: list[tuple[int, str, dict]], agreement) -> str:
    definition = review.protocol.stage(stage)
    label = (definition.label or stage).lower()
    pool = state.eligible(stage)
    if stage != state.stages[0]:
        pool = [c for c in pool if c not in state.not_retrieved]
    if not pool:
        return f"No records reached {label} screening."
    what = "record" if stage == state.stages[0] else "report"
    per_record = Counter(len(state.decisions[stage].get(c, {})) for c in pool)
    reviewers = sorted({r for c in pool for r in state.decisions[stage].get(c, {})})
    names = _join([_person(review, r) for r in reviewers])
    undecided = per_record.pop(0, 0)
    if not per_record:
        return f"No {what} has been screened at {label} yet ({_plural(undecided, what)} waiting)."
    if len(per_record) == 1:
        k = next(iter(per_record))
        counts = f"each by {_words(k)} reviewer{'s' if k != 1 else ''}"
    else:
        counts = ", ".join(f"{_plural(n, what)} by {_words(k)} reviewer{'s' if k != 1 else ''}"
                           for k, n in sorted(per_record.items(), reverse=True))
    parts = [f"At {label} screening, {_plural(len(pool) - undecided, what)} were screened ({counts}"
             + (f"; {undecided:,} not yet screened" if undecided else "") + f"), by {names or 'no reviewer yet'}."]
    required = definition.decisions_required
    if required > 1:
        parts.append(f"The protocol required {_words(required)} independent decisions on each {what}; the "
                     f"workbench shows a reviewer neither the other reviewers' decisions nor the conflicts until "
                     f"every required reviewer has decided.")
    else:
        parts.append(f"The protocol required one decision on each {what}.")
    stage_events = [p for _, kind, p in raw if kind == screening.DECISION_EVENT and p.get("stage") == stage]
    imported = Counter(p["imported_from"] for p in stage_events if p.get("imported_from"))
    if imported:
        share = sum(imported.values())
        parts.append(f"{_plural(share, 'decision')} of {len(stage_events):,} at this stage were imported from "
                     f"{_join(sorted(imported))} rather than made in the workbench, so the workbench could not "
                     f"enforce the reviewers' independence for them. [Say how those decisions were made.]")
    orders = Counter(p.get("order") for p in stage_events if p.get("order"))
    if orders:
        parts.append("Records were shown " + _join([f"{ORDER_TEXT.get(o, o)} ({_plural(n, 'decision')})"
                                                  for o, n in orders.most_common()]) + ".")
    resolutions = [r for r in state.resolutions[stage].values()]
    conflicts_now = sum(1 for c in pool if state.outcome(stage, c) == "conflict")
    how = ("by a third reviewer, " + _person(review, definition.resolver)) if definition.resolution == \
        "third_reviewer" else "by discussion to consensus"
    if required > 1:
        parts.append(f"Disagreements (including two 'maybe' decisions) were resolved {how}: "
                     f"{_plural(len(resolutions), 'conflict')} {_was(len(resolutions))} resolved"
                     + (f" and {conflicts_now:,} remain open." if conflicts_now else "."))
    rows = agreement[agreement["stage"] == stage]
    for row in rows.itertuples():
        if row.records:
            kappa = "undefined" if row.kappa != row.kappa else f"{row.kappa:.2f}"
            parts.append(f"Agreement between {_person(review, row.reviewer_a)} and {_person(review, row.reviewer_b)} "
                         f"before resolution: {row.percent_agreement:.1f}% over {_plural(row.records, what)} "
                         f"(Cohen's kappa {kappa}).")
    if definition.reason_required:
        parts.append("Each exclusion needed at least one reason from the protocol's list; the first reason given "
                     "is the one reported.")
    return " ".join(parts)


def selection_process(review: "Review", flow: prisma.Flow | None = None) -> Section:
    flow = flow or prisma.flow(review)
    state = screening.ScreeningState.load(review)
    raw = _events(review, screening.DECISION_EVENT)
    agreement = screening.agreement(review, state)
    paragraphs = []
    dedup = _dedup_paragraph(review, flow)
    if dedup:
        paragraphs.append(dedup)
    automatic = flow.counts.get("excluded_automatic") or 0
    other = flow.counts.get("excluded_other") or 0
    if automatic or other:
        reasons = Counter(r.reason for r in state.removed.values())
        paragraphs.append(
            f"Before screening, {_plural(automatic, 'record')} {_was(automatic)} marked ineligible by automation "
            f"tools and {_plural(other, 'record')} {_was(other)} removed for other reasons ("
            + "; ".join(f"{why}: {n:,}" for why, n in reasons.most_common()) + ").")
    stages = [s.label or s.name for s in review.protocol.stages]
    paragraphs.append(f"Screening against the eligibility criteria of the protocol had {_words(len(stages))} "
                      f"stage{'s' if len(stages) != 1 else ''}: " + "; then ".join(s.lower() for s in stages) + ".")
    for stage in state.stages:
        paragraphs.append(_stage_paragraph(review, state, stage, raw, agreement))
    orders = {p.get("order") for _, _, p in raw}
    stopping_text = stopping.methods_paragraph(review, state, lambda r: _person(review, r))
    if "model" not in orders and not automatic and not stopping_text:
        paragraphs.append("No automation tool was used to exclude records or to rank them for screening.")
    elif "model" in orders and not stopping_text:
        paragraphs.append("The relevance ranking only set the order in which records were shown; every record was "
                          "screened by the reviewers, and no record was excluded by the model.")
    if stopping_text:
        paragraphs.append(stopping_text)
    return Section("8", "Selection process", paragraphs)


# --- item 9 ----------------------------------------------------------------------------------


def data_collection(review: "Review") -> Section:
    paragraphs = []
    saves = _events(review, extraction.SAVE_EVENT)
    agrees = _events(review, extraction.AGREE_EVENT)
    templates_used = list(dict.fromkeys(p["template"] for _, _, p in saves))
    if not templates_used:
        return Section("9", "Data collection process",
                       ["[No data have been extracted in the workbench yet: describe the data collection process.]"])
    for name in templates_used:
        template = extraction.load_template(review, name)
        final = extraction.final_values(review, name)
        latest: dict[str, dict[str, dict]] = defaultdict(dict)
        for _, _, p in saves:
            if p["template"] == name:
                latest[p["scheme_id"]][p["extractor"]] = p
        per_scheme = Counter(len(v) for v in latest.values())
        extractors = sorted({e for v in latest.values() for e in v})
        agreed = {p["scheme_id"] for _, _, p in agrees if p["template"] == name}
        fields = len(template.fields)
        text = (f"Data were extracted per scheme (study), from all of its reports together, into the form "
                f"'{template.title}' ({fields} fields, template {template.name} version {template.version}), "
                f"whose fields and coded vocabularies are published with the review. ")
        text += ("Of " + _plural(len(latest), "scheme") + ", "
                 + _join([f"{n:,} {'was' if n == 1 else 'were'} extracted by {_words(k)} "
                          f"extractor{'s' if k != 1 else ''}" for k, n in sorted(per_scheme.items(), reverse=True)])
                 + f" ({_join([_person(review, e) for e in extractors])}). ")
        if per_scheme.get(1, 0) == len(latest):
            text += "No scheme was extracted independently by a second extractor. "
        else:
            text += (f"Where two extractors extracted a scheme independently, their versions were compared "
                     f"field by field and an agreed version recorded ({_plural(len(agreed), 'scheme')}). ")
        text += (f"Synthesis uses the agreed version of each scheme, else its only complete extraction; "
                 f"{_plural(len(final), 'scheme')} {'has' if len(final) == 1 else 'have'} such data"
                 + (f", and {len(latest) - len(final):,} await completion or agreement." if len(final) < len(latest)
                    else "."))
        text += (" A field the reports did not address was recorded as 'not reported', distinct from "
                 "'not applicable' and from an unanswered field.")
        paragraphs.append(text)
    paragraphs.append("[Say whether study investigators were contacted to obtain or confirm data; the workbench "
                      "does not record it.] No automation tool was used to extract data.")
    return Section("9", "Data collection process", paragraphs)


# --- item 16a --------------------------------------------------------------------------------


def results_of_selection(review: "Review", flow: prisma.Flow | None = None) -> Section:
    flow = flow or prisma.flow(review)
    c = flow.counts
    if c.get("database_results") is None:
        return Section("16a", "Results of the selection", ["[No records have been imported yet.]"])
    sources = c.get("database_specific_results") or {}
    listed = _join([f"{name} {n:,}" for name, n in sources.items()])
    identified = (c.get("database_results") or 0) + (c.get("register_results") or 0)
    parts = [f"The searches identified {_plural(identified, 'record')}"
             + (f" ({listed})" if len(sources) > 1 or c.get("register_results") else
                (f" ({listed})" if listed else "")) + "."]
    other = [(c.get(k), what) for k, what in (("website_results", "websites"), ("organisation_results",
                                              "organisations"), ("citations_results", "citation searching"))]
    other = [f"{n:,} from {what}" for n, what in other if n]
    if other:
        parts.append("Other methods identified " + _join(other) + " records.")
    if c.get("duplicates") is None:
        parts.append("[Duplicates have not been removed yet.]")
    else:
        removed = (c.get("excluded_automatic") or 0) + (c.get("excluded_other") or 0)
        parts.append(f"After {_plural(c['duplicates'], 'duplicate')} "
                     + (f"and {_plural(removed, 'other record')} " if removed else "")
                     + f"{'was' if c['duplicates'] + removed == 1 else 'were'} removed, "
                       f"{_plural(c['records_screened'], 'record')} were screened and "
                       f"{c['records_excluded']:,} excluded.")
    sought = c.get("dbr_sought_reports") or 0
    parts.append(f"We sought {_plural(sought, 'report')} for retrieval"
                 + (f"; {c['dbr_notretrieved_reports']:,} could not be retrieved" if c.get("dbr_notretrieved_reports")
                    else "") + f". Of {_plural(c.get('dbr_assessed') or 0, 'report')} assessed in full, "
                 + f"{sum((c.get('dbr_excluded') or {}).values()):,} were excluded")
    reasons = c.get("dbr_excluded") or {}
    if reasons:
        total = sum(reasons.values())
        parts[-1] += " (" + "; ".join(f"{label.lower() if label[:1].isupper() and label[1:2].islower() else label}: "
                                      f"{n:,}, {100 * n / total:.0f}%" for label, n in reasons.items()) + ")"
    parts[-1] += "."
    if c.get("new_studies") is not None:
        parts.append(f"{_plural(c['new_studies'], 'study', 'studies').capitalize()} (schemes), reported in "
                     f"{_plural(c['new_reports'], 'report')}, were included in the review.")
    else:
        parts.append(f"{_plural(c['new_reports'], 'report')} were included. [Link them to studies (schemes) to "
                     f"count the studies.]")
    paragraphs = [" ".join(parts)]
    if flow.missing:
        paragraphs.append("[Not final: " + "; ".join(flow.missing) + ".]")
    return Section("16a", "Results of the selection", paragraphs)


def methods_text(review: "Review") -> MethodsText:
    """`review methods`: PRISMA 2020 items 8, 9 and 16a from the protocol and the log."""
    flow = prisma.flow(review)
    return MethodsText([selection_process(review, flow), data_collection(review),
                        results_of_selection(review, flow)])
