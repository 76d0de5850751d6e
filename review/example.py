"""The worked example: Mason, Goddard & Weatherly (2014), built from the bundled files.

`review demo` runs this. Each later stage of the workbench (deduplication,
screening, extraction, synthesis, PRISMA) adds its step here, so one command shows
the whole review on real data.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from review import extraction, resources, schemes, screening
from review.project import Review

# The installed copy of examples/mason2014 (review/resources.py), not the checkout's.
EXAMPLE = resources.example_folder("mason2014")


STARTER_EXPORTS = Path(__file__).resolve().parent / "data" / "starter_exports"
DONNERS = resources.example_folder("donners2021") / "donners2021_title_abstract.csv"


def starter_exports() -> list[dict]:
    """The small folder of real exports shipped with the package (notebook 00): file, source, kind."""
    return [
        {"file": STARTER_EXPORTS / "scopus.ris", "source": "Scopus"},
        {"file": STARTER_EXPORTS / "web_of_science.ris", "source": "Web of Science Core Collection"},
        {"file": STARTER_EXPORTS / "embase.ris", "source": "Embase"},
        {"file": STARTER_EXPORTS / "psycinfo_ovid.ris", "source": "APA PsycInfo (Ovid)"},
    ]


def example_sources() -> list[dict]:
    return yaml.safe_load((EXAMPLE / "sources.yaml").read_text(encoding="utf-8"))


def source_file(source: dict) -> Path:
    """An entry of sources.yaml (its file named as in the repository) as a bundled file."""
    return resources.bundled(source["file"])


STEPS = ("import", "dedupe", "screen", "extract", "qualitative", "report")
REPORT_DIR = "report"


def build_example(folder: str | Path, fresh: bool = True, quiet: bool = False, through: str = "report") -> Review:
    """Create the example review in `folder` and run it up to step `through`, printing what it did.

    Steps: import the search exports, deduplicate, bring in the screening
    decisions (the paper's outcome, examples/mason2014/screening_decisions.csv),
    load the 38 schemes' extracted data (examples/mason2014/irm_schemes.json),
    then the qualitative synthesis (examples/mason2014/qualitative.yaml: two qualitative
    studies' findings, passages of their full texts and the schemes' extracted barriers,
    coded against examples/mason2014/codebook.yaml), then write the report (tables,
    votes, plots, PRISMA, methods, themes) into `folder/report`.
    """
    if through not in STEPS:
        raise ValueError(f"through must be one of {', '.join(STEPS)}")
    wanted = STEPS[: STEPS.index(through) + 1]
    folder = Path(folder)
    if fresh and folder.exists():
        shutil.rmtree(folder)
    if (folder / "review.yaml").exists():
        review = Review.open(folder)
    else:
        review = Review.init(folder, protocol=EXAMPLE / "review.yaml")
    for source in example_sources():
        result = review.import_file(
            source_file(source), source=source["source"], search_date=source.get("search_date"),
            who="demo", progress=not quiet,
        )
        if not quiet:
            print(result.message or f"imported {result.records} records from {source['file']}")
    status = review.status()
    if not quiet:
        print()
        print(review.imports_frame().to_string())
        print(f"\n{status.title}\nrecords: {status.records} in {len(status.imports)} imports  ({folder})")
    if "dedupe" in wanted:
        dedup = review.dedupe(who="demo", progress=not quiet)
        if not quiet:
            print(f"deduplication: {dedup.clusters} unique records, {dedup.duplicates} duplicates removed, "
                  f"{dedup.needs_review} pairs to review ({dedup.pending_review} undecided)")
    if "screen" in wanted:
        screen_step(review, quiet)
    if "extract" in wanted:
        count = extraction.import_extractions(review, "irm_scheme", EXAMPLE / "irm_schemes.json", who="demo")
        if not quiet:
            frame = schemes.schemes_frame(review)
            print(f"\nextraction: {count} schemes extracted with irm_scheme, informed by "
                  f"{len(set().union(*frame['record_ids']))} included reports")
    if "qualitative" in wanted:
        qualitative_step(review, quiet)
    if "report" in wanted:
        report_step(review, folder / REPORT_DIR, quiet)
    return review


def demo_review(folder: str | Path = Path("build") / "mason2014", quiet: bool = True) -> Review:
    """The worked example as `make demo` (`review demo build/mason2014`) builds it.

    Opened when `folder` holds a finished build (its report is written last, so a build
    cut short never counts), built there otherwise: the notebooks that only read the
    example (04, 05) share the one review `make demo` made instead of each making a copy.
    """
    folder = Path(folder)
    if (folder / "review.yaml").exists() and (folder / REPORT_DIR / "index.html").exists():
        return Review.open(folder)
    return build_example(folder, quiet=quiet, through="report")


def report_step(review: Review, out: Path, quiet: bool) -> Path:
    from review import prisma, report, synthesis

    index = report.write_report(review, out, progress=not quiet)
    if not quiet:
        counts = prisma.flow(review).counts
        print(f"\nPRISMA: {counts['records_screened']} records screened, {counts['dbr_assessed']} reports assessed, "
              f"{counts['new_studies']} studies in {counts['new_reports']} reports")
        print("\nhealth outcomes by IRM type:")
        print(synthesis.tabulate(review, "irm_type", "direction", domain="health_outcomes").table().to_string())
        print(f"\nreport: {index.resolve()}")
    return index


def screen_step(review: Review, quiet: bool) -> None:
    count = screening.import_decisions(review, EXAMPLE / "screening_decisions.csv", who="demo")
    if not quiet:
        print(f"\nscreening: {count} decisions imported")
        print(screening.status_frame(review).to_string())
        print("\nfull-text exclusions by primary reason:")
        print(screening.exclusion_reasons(review, "full_text").to_string(index=False))


def qualitative_step(review: Review, quiet: bool) -> None:
    """The qualitative evidence (seeds 000/001 and 004) and its coding, as a reviewer would add it.

    The three reports come from repositories and a website (PRISMA: other methods);
    seeds 000 and 001 are one article deposited twice, so a reviewer marks them the
    same (one cluster, both records kept); both stages include them; the full texts
    are attached; each study's findings are extracted with the qualitative_study
    template; then the codebook is loaded and findings, passages and the 38
    schemes' extracted barriers are coded.
    """
    import json
    import tempfile

    from review import clusters, codebook, coding, passages, screening

    plan = yaml.safe_load((EXAMPLE / "qualitative.yaml").read_text(encoding="utf-8"))
    coder = plan["coder"]
    sources = plan["reports"]
    review.import_file(EXAMPLE / sources["file"], source=sources["source"], source_kind=sources["source_kind"],
                       search_date=sources["search_date"], who="demo", progress=False)
    # New records are checked for duplicates like any import, so PRISMA's duplicate count covers them.
    review.dedupe(who="demo", progress=False)
    records = review.records_frame()
    by_source = dict(zip(records["source_id"], records["record_id"].astype(int)))
    for group in sources["same_study"]:
        first, *rest = [by_source[s] for s in group]
        for other in rest:
            clusters.decide(review, first, other, clusters.SAME, who="demo",
                            note="one article deposited in two repositories")
    new = sorted({by_source[s] for study in plan["studies"] for s in study["reports"]})
    state = screening.ScreeningState.load(review)
    for stage in state.stages:
        for reviewer in ("am", "mg"):
            for record in dict.fromkeys(state.clusters.get(r, r) for r in new):
                screening.decide(review, stage, reviewer, record, screening.INCLUDE)
    folder = review.path / "full_texts"
    folder.mkdir(exist_ok=True)
    for study in plan["studies"]:
        text = study["full_text"]
        target = folder / Path(text["file"]).name
        shutil.copyfile(EXAMPLE / text["file"], target)
        screening.attach_full_text(review, by_source[text["report"]], str(target.relative_to(review.path)),
                                   who="demo")
    rows = [{"scheme_id": s["scheme_id"], "scheme_name": s["scheme_name"],
             "report_source_ids": "; ".join(s["reports"]), "values": s["values"]} for s in plan["studies"]]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qualitative_studies.json"
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        extraction.import_extractions(review, "qualitative_study", path, who="demo")
    codebook.import_file(review, EXAMPLE / "codebook.yaml", who="demo")

    items = []
    for study in plan["studies"]:
        for row, codes in enumerate(study["codes"], start=1):
            items.append({"unit": coding.finding(study["scheme_id"], row), "codes": codes, "coder": coder})
    documents = {}
    for item in plan["passages"]:
        record = by_source[item["report"]]
        document = documents.setdefault(record, passages.for_record(review, record))
        page, start, end = document.find(item["quote"])
        items.append({"unit": coding.passage(record, page, start, end), "codes": item["codes"], "coder": coder})
    barriers = {s: v.get("barriers") for s, v in extraction.final_values(review, "irm_scheme").items()}
    for item in plan["extracted_barriers"]:
        start = barriers[item["scheme_id"]].index(item["quote"])
        unit = coding.finding(item["scheme_id"], field="barriers", template="irm_scheme", start=start,
                              end=start + len(item["quote"]))
        items.append({"unit": unit, "codes": item["codes"], "coder": coder})
    count = coding.code_many(review, items, who="demo")
    if not quiet:
        from review import themes

        book = codebook.current(review)
        reports = len({review.cluster_ids()[r] for r in new})
        print(f"\nqualitative: {len(plan['studies'])} qualitative studies in {reports} reports ({len(new)} records: "
              f"seeds 000 and 001 are one article), codebook of {len(book.codes)} codes, {count} units coded")
        table = themes.matrix(review, "scheme", codes=["mason_barriers"]).table()
        print("\nMason et al.'s barriers across schemes (coded units):")
        print(table.loc[:, (table != 0).any()].to_string())
