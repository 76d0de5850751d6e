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


STEPS = ("import", "dedupe", "screen", "extract", "report")
REPORT_DIR = "report"


def build_example(folder: str | Path, fresh: bool = True, quiet: bool = False, through: str = "report") -> Review:
    """Create the example review in `folder` and run it up to step `through`, printing what it did.

    Steps: import the search exports, deduplicate, bring in the screening
    decisions (the paper's outcome, examples/mason2014/screening_decisions.csv),
    load the 38 schemes' extracted data (examples/mason2014/irm_schemes.json),
    then write the report (tables, votes, plots, PRISMA, methods) into `folder/report`.
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
    if "report" in wanted:
        report_step(review, folder / REPORT_DIR, quiet)
    return review


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
