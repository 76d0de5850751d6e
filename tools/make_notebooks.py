"""Write the notebooks from their cell sources (kept here so diffs stay readable), then run them.

Run: .venv/bin/python tools/make_notebooks.py [01 02 ...]   (default: all)
     add --sources-only to copy edited sources into the stored notebooks without running them

tests/test_notebooks.py checks that the stored notebooks' cells are exactly these sources.

Each notebook is executed in place, so the outputs stored in it are what the
cells marked NBVAL_CHECK_OUTPUT must reproduce under nbval.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def notebook_00():
    return [
        new_markdown_cell(
            "# 0 · Start your own review\n\n"
            "From your own search exports to a screening queue, in five steps: create the review with your "
            "team's reviewers, import each database's export, find duplicates, make the first decisions, and "
            "see where the review stands. Here the exports are a small folder of real ones shipped with the "
            "package (`review/data/starter_exports/`: Scopus, Web of Science, Embase and PsycInfo via Ovid); "
            "point `EXPORTS` at your own folder instead.\n\n"
            "The command line does the same: `review init DIR --title T --reviewer am=\"Alison Mason\" "
            "--reviewer mg=\"Mark Gale\"`, `review import DIR FILE --source NAME --search-date 2024-06`, "
            "`review dedupe DIR`, `review screen DIR --stage title_abstract --reviewer am` (a screening page "
            "in the browser, no code), `review status DIR`."
        ),
        new_code_cell(
            "import shutil\n"
            "\n"
            "from pathlib import Path\n"
            "\n"
            "from review.example import STARTER_EXPORTS, starter_exports\n"
            "from review.pipeline import pipeline_status\n"
            "from review.project import Review\n"
            "\n"
            "EXPORTS = STARTER_EXPORTS  # your own folder of exports here\n"
            "folder = Path(\"build\") / \"my-review\"\n"
            "if folder.exists():\n"
            "    shutil.rmtree(folder)  # start from scratch each run\n"
            "review = Review.init(folder, title=\"Dinosaur body size and diversity\",\n"
            "                     reviewers=['am=\"Alison Mason\"', 'mg=\"Mark Gale\"'])\n"
            "print([f\"{r.id}: {r.name}\" for r in review.protocol.reviewers])"
        ),
        new_markdown_cell(
            "`review.yaml` now holds a protocol that works as it is: two blind reviewers at title/abstract and "
            "at full text, and five exclusion reasons. Edit it (eligibility criteria, terms to highlight, "
            "reasons) before screening starts. A reviewer who joins later: `review.add_reviewer('jb=\"Jo "
            "Bloggs\"')` or `review reviewers add DIR jb=\"Jo Bloggs\"`.\n\n"
            "## Import each export\n\nName the database searched and the date of the search (a real date; "
            "`2024-06` when only the month is known). Each file is kept as it came in `imports/`."
        ),
        new_code_cell(
            "for export in starter_exports():\n"
            "    result = review.import_file(export[\"file\"], source=export[\"source\"], search_date=\"2024-06\",\n"
            "                                who=\"am\")\n"
            "    print(f\"{export['file'].name}: {result.records} records ({result.format})\")\n"
            "review.imports_frame()"
        ),
        new_markdown_cell("## Find duplicates\n\nExact identifiers first, then fuzzy matching; pairs the "
                          "matcher is unsure of wait for a person, side by side."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "summary = review.dedupe(who=\"am\", progress=False)\n"
            "print(f\"records: {summary.records}, duplicates removed: {summary.duplicates}, \"\n"
            "      f\"pairs to review: {summary.pending_review}\")"
        ),
        new_code_cell(
            "from review.widgets.dedup_review import DuplicateReview\n"
            "\n"
            "pairs = DuplicateReview(review, who=\"am\")\n"
            "pairs"
        ),
        new_markdown_cell("Run unattended, the next cell settles the pair as the **Different** button would "
                          "(they are two papers on dinosaur footprints)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "while pairs.current is not None:\n"
            "    pairs.different_button.click()\n"
            "print(f\"pairs still to review: {review.dedup_summary().pending_review}\")"
        ),
        new_markdown_cell(
            "## Screen\n\nOne record at a time, most likely relevant first once a few decisions are made. "
            "Click **Include**, **Exclude** or **Maybe**, or press `i`, `e`, `m` while the widget has focus; "
            "number keys pick exclusion reasons. **My decisions** lists what you decided, in any session."
        ),
        new_code_cell(
            "from review.widgets.screening import ScreeningWidget\n"
            "\n"
            "screen = ScreeningWidget(review, \"title_abstract\", \"am\", order=\"import\")\n"
            "screen"
        ),
        new_markdown_cell("Run unattended, the next cell makes am's first three decisions through the same call "
                          "the page makes for a click."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "screen.decide(\"include\", record=screen.view[\"record\"])\n"
            "screen.decide(\"exclude\", [\"wrong_population\"], note=\"birds, not dinosaurs\", record=screen.view[\"record\"])\n"
            "screen.decide(\"maybe\", record=screen.view[\"record\"])\n"
            "print(screen.view[\"progress_text\"])\n"
            "screen.my_decisions()[[\"record\", \"decision\", \"reasons\", \"note\"]]"
        ),
        new_markdown_cell("## Where the review stands\n\nThe same as `review status DIR`: records identified "
                          "per source, duplicates, each stage and each reviewer."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(\"\\n\".join(pipeline_status(review).lines()[2:]))"
        ),
    ]


def notebook_01():
    return [
        new_markdown_cell(
            "# 1 · Import the searches (and, next, deduplicate)\n\n"
            "A review is a folder: the protocol `review.yaml`, the database `review.db` and the raw exports "
            "kept as they came in `imports/`. This notebook creates the worked example review "
            "(Mason, Goddard & Weatherly 2014, *Financial mechanisms for integrating funds for health and social "
            "care*) and imports its search exports from `references/`.\n\n"
            "Every step here is one call into the `review` package; the command line does the same "
            "(`review init`, `review import`, `review status`)."
        ),
        new_code_cell(
            "import shutil\n"
            "from pathlib import Path\n"
            "\n"
            "import pandas as pd\n"
            "\n"
            "from review.example import EXAMPLE, example_sources, source_file\n"
            "from review.project import Review\n"
            "\n"
            "folder = Path(\"build\") / \"notebook-01\"  # next to this notebook\n"
            "if folder.exists():\n"
            "    shutil.rmtree(folder)  # start from scratch each run, so counts are reproducible\n"
            "review = Review.init(folder, protocol=EXAMPLE / \"review.yaml\")\n"
            "print(review.protocol.title)"
        ),
        new_markdown_cell("The protocol holds the eligibility criteria (Table 2 of the paper) and the exclusion reasons "
                          "with their short codes:"),
        new_code_cell(
            "pd.DataFrame([(r.code, r.label) for r in review.protocol.exclusion_reasons], columns=[\"code\", \"label\"])"
        ),
        new_markdown_cell("## Import each search export\n\nEach import records the file, its sha256, the database "
                          "searched and the search date; importing the same file twice does nothing."),
        new_code_cell(
            "for source in example_sources():\n"
            "    result = review.import_file(source_file(source), source=source[\"source\"],\n"
            "                                search_date=source.get(\"search_date\"), who=\"am\")\n"
            "    print(f\"{source['file']}: {result.records} records ({result.format}, {result.encoding})\")\n"
            "review.imports_frame()"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "status = review.status()\n"
            "print(\"records:\", status.records)\n"
            "print(\"imports:\", len(status.imports))\n"
            "print(\"per source:\", status.records_per_source)"
        ),
        new_code_cell(
            "again = review.import_file(source_file(example_sources()[0]), source=\"again\")\n"
            "print(again.message)"
        ),
        new_markdown_cell("## The records\n\nDisplay fields as the source printed them, normalised keys for matching, "
                          "and provenance (import file and the record's own ID in it)."),
        new_code_cell(
            "records = review.records_frame()\n"
            "records[[\"record_id\", \"source_id\", \"type\", \"title\", \"year\", \"journal\", \"norm_first_author\", "
            "\"norm_title\"]].head(10)"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(records[\"type\"].value_counts().sort_index().to_string())"
        ),
        new_markdown_cell(
            "## Deduplicate\n\n"
            "Stage 1 joins records with the same DOI or PMID (when their titles agree); stage 2 finds candidate "
            "pairs by several blocking passes and compares title, authors, year, journal, volume, issue, pages, "
            "DOI and URL with rapidfuzz. Each pair is **auto-merge**, **needs review** or **distinct**; errata, "
            "replies, part 1 / part 2, appendices and the same report in another year are never merged "
            "automatically. The run and every decision are events in the log."
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "summary = review.dedupe(who=\"am\", progress=False)\n"
            "print(f\"unique records: {summary.clusters}, duplicates removed: {summary.duplicates}\")\n"
            "print(f\"auto-merged pairs: {summary.auto_merged}, pairs to review: {summary.needs_review}\")"
        ),
        new_markdown_cell("The reference list of a published review has no true duplicates, but it has near "
                          "neighbours a careless merge would lose: a final report and its appendices, two "
                          "reports of one evaluation, a programme's papers from different years."),
        new_code_cell(
            "from review import clusters\n"
            "\n"
            "clusters.queue_frame(review)"
        ),
        new_markdown_cell("## Review the uncertain pairs\n\nBoth records side by side, the differing words "
                          "highlighted, each field's similarity. Every click is saved at once."),
        new_code_cell(
            "from review.widgets.dedup_review import DuplicateReview\n"
            "\n"
            "widget = DuplicateReview(review, who=\"am\")\n"
            "widget"
        ),
        new_markdown_cell("In this worked example every uncertain pair is two different works. The cell below "
                          "decides them through the same call the **Different** button makes (so the notebook "
                          "runs unattended, as in CI)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "while widget.current is not None:\n"
            "    widget.different_button.click()\n"
            "summary = review.dedup_summary()\n"
            "print(f\"decided different: {summary.decided_different}, still to review: {summary.pending_review}\")\n"
            "print(f\"unique records: {summary.clusters}\")"
        ),
        new_code_cell(
            "review.records_frame()[[\"record_id\", \"cluster_id\", \"source\", \"title\"]].head()"
        ),
    ]


def notebook_02():
    return [
        new_markdown_cell(
            "# 2 · Screen: two blind reviewers, title/abstract then full text\n\n"
            "Mason et al. (2014): \"Each record was screened independently by two reviewers … and disagreements "
            "resolved by discussion\". The protocol names the stages, who screens each, how many independent "
            "decisions a record needs and how conflicts are settled. Every decision is an event in the log; "
            "a reviewer never sees the other's decisions until both have decided."
        ),
        new_code_cell(
            "from pathlib import Path\n"
            "\n"
            "import pandas as pd\n"
            "\n"
            "from review import screening\n"
            "from review.example import EXAMPLE, build_example\n"
            "\n"
            "review = build_example(Path(\"build\") / \"notebook-02\", quiet=True, through=\"dedupe\")\n"
            "pd.DataFrame([(s.name, s.label, \", \".join(s.reviewers), s.decisions_required, s.resolution,\n"
            "               s.reason_required) for s in review.protocol.stages],\n"
            "             columns=[\"stage\", \"label\", \"reviewers\", \"decisions needed\", \"conflicts by\",\n"
            "                      \"reason needed\"])"
        ),
        new_markdown_cell(
            "## The screening widget\n\n"
            "Title, authors, year, journal and abstract, with the protocol's inclusion terms in green and exclusion "
            "terms in red. **Include / Exclude / Maybe** (keys `i`, `e`, `m` whenever the widget has focus, also "
            "right after a click; a key counts only once the record has been on screen for 0.3 s, and a held-down "
            "key counts once), exclusion reasons from the protocol by click or number key (shown in the order "
            "chosen; the first is the primary reason), a note saved with the decision, **Undo last** (`u`), "
            "**Back** and **Forward** (arrow keys) to change an earlier decision (a new event; the old one is "
            "kept), and **My decisions**: every decision you made at this stage, in any session, with search and "
            "filters; click one to open it. Records come "
            "in order of predicted relevance, learned from this reviewer's own decisions (`order=\"random\"` or "
            "`\"import\"` switches it off)."
        ),
        new_code_cell(
            "from review.widgets.screening import ScreeningWidget\n"
            "\n"
            "widget = ScreeningWidget(review, \"title_abstract\", \"am\", order=\"model\")\n"
            "widget"
        ),
        new_markdown_cell(
            "Run unattended (as in CI), the next cell makes reviewer am's first ten decisions through the same "
            "calls the buttons make, following the paper's own outcome for each record."
        ),
        new_code_cell(
            "paper = pd.read_csv(EXAMPLE / \"screening_decisions.csv\", keep_default_na=False)\n"
            "paper = paper[(paper.stage == \"title_abstract\") & (paper.reviewer == \"am\")].set_index(\"source_id\")\n"
            "for _ in range(10):\n"
            "    record = widget.session.record()\n"
            "    decision = paper.at[record.source_id, \"decision\"]\n"
            "    widget.decide(decision, record=widget.view[\"record\"])  # what a click on the page sends\n"
            "print(widget.view[\"progress_text\"])"
        ),
        new_markdown_cell("## The whole team's decisions\n\nDecisions made elsewhere (Rayyan, Covidence, a "
                          "spreadsheet) come in as CSV: `review decisions import DIR FILE.csv`. Here: the paper's "
                          "outcome for every record, for both reviewers."),
        new_code_cell(
            "screening.import_decisions(review, EXAMPLE / \"screening_decisions.csv\", who=\"am\")\n"
            "screening.status_frame(review)"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(screening.status_frame(review)[[\"eligible\", \"included\", \"excluded\", \"conflicts\", "
            "\"pending\"]].to_string())"
        ),
        new_markdown_cell("## Conflicts and their resolution\n\nA demonstration on this example: reviewer mg "
                          "revisits one included report at full text and now excludes it. Once both have decided, the "
                          "conflict view shows both decisions; the protocol says conflicts are settled by "
                          "consensus, which is recorded as such."),
        new_code_cell(
            "record = screening.ScreeningState.load(review).screenable(\"full_text\")[0]\n"
            "screening.decide(review, \"full_text\", \"mg\", record, \"exclude\", reasons=[\"no_financial_integration\"],\n"
            "                 note=\"pooled budget not described?\")\n"
            "from review.widgets.conflicts import ConflictsWidget\n"
            "\n"
            "conflicts = ConflictsWidget(review, \"full_text\", who=\"am\")\n"
            "conflicts"
        ),
        new_markdown_cell("The same conflicts as a table (labels, not codes); "
                          "`screening.resolve` is what the widget's buttons call."),
        new_code_cell("conflicts.frame()"),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "screening.resolve(review, \"full_text\", record, \"include\", who=\"am\",\n"
            "                  note=\"discussed: pooled fund described in the IRM section\")\n"
            "print(\"conflicts left:\", len(screening.conflicts(review, \"full_text\")))"
        ),
        new_markdown_cell("## Agreement\n\nCohen's kappa and percentage agreement per stage and reviewer pair "
                          "(the paper reports only agreed decisions, so agreement here is near perfect)."),
        new_code_cell("screening.agreement(review)"),
        new_markdown_cell("## Full-text exclusions by primary reason\n\nThe counts PRISMA 2020 reports "
                          "(Appendix 3 ticks two reasons for some schemes; the first is primary)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(screening.exclusion_reasons(review, \"full_text\").to_string(index=False))"
        ),
        new_markdown_cell(
            "## Title and abstract screening with abstracts: a labelled set\n\n"
            "The worked example has no abstracts. Donners et al. (2021), a review of emicizumab "
            "pharmacokinetics, has 258 records with titles and abstracts, 15 of them included in the end "
            "(SYNERGY dataset, CC0; `examples/donners2021/`). Terms from the protocol are highlighted in the "
            "abstract, and the order learns from each decision."
        ),
        new_code_cell(
            "import shutil\n"
            "\n"
            "from review.example import DONNERS\n"
            "from review.project import Review\n"
            "from review.protocol import default_protocol\n"
            "\n"
            "protocol = default_protocol(\"Pharmacokinetics and efficacy of emicizumab in humans\")\n"
            "protocol.include_terms = [\"emicizumab\", \"pharmacokinetic*\", \"plasma concentration*\"]\n"
            "protocol.exclude_terms = [\"mice\", \"in vitro\", \"review\"]\n"
            "donners_folder = Path(\"build\") / \"notebook-02-donners\"\n"
            "if donners_folder.exists():\n"
            "    shutil.rmtree(donners_folder)\n"
            "donners = Review.init(donners_folder, protocol=protocol, reviewers=[\"am\", \"mg\"])\n"
            "donners.import_file(DONNERS, source=\"OpenAlex (SYNERGY)\", who=\"am\")\n"
            "ScreeningWidget(donners, \"title_abstract\", \"am\", order=\"model\")"
        ),
        new_markdown_cell(
            "How early does the relevance order find the inclusions? Replaying 60 decisions with the known "
            "labels (the order a session would show, refitted every 10 decisions), against import order:\n\n"
            "When the sentence model is installed (`make setup` installs it), the widget also gives the "
            "model each record's sentence vector (all-MiniLM-L6-v2, computed in numpy in a background process"
            " and cached in the review folder; the header shows how far it is). On 26 labelled reviews that "
            "ranked ahead of ASReview's default on 18 (`benchmarks/README_screening.md`). The replay below "
            "uses terms only, so its figures do not depend on what is installed."
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "from review.screening_session import ScreeningSession\n"
            "\n"
            "labels = pd.read_csv(DONNERS, keep_default_na=False).set_index(\"title\")[\"label_included\"]\n"
            "labels = labels[~labels.index.duplicated()]\n"
            "# Terms only (sentence_model=False), so the figures below are the same on every machine.\n"
            "session = ScreeningSession(donners, \"title_abstract\", \"mg\", order=\"model\", seed=1, sentence_model=False)\n"
            "found = 0\n"
            "for _ in range(60):\n"
            "    relevant = labels.get(session.record()[\"title\"], 0) == 1\n"
            "    found += relevant\n"
            "    session.decide(\"include\" if relevant else \"exclude\")\n"
            "in_import_order = sum(labels.get(t, 0) == 1 for t in donners.records_frame()[\"title\"][:60])\n"
            "print(f\"inclusions found in the first 60 of 258 records: relevance order {found} of 15, \"\n"
            "      f\"import order {in_import_order} of 15\")"
        ),
    ]


def notebook_03():
    return [
        new_markdown_cell(
            "# 3 · Schemes and data extraction\n\n"
            "The unit of synthesis is the **scheme** (a study), not the report: Mason et al. (2014) included 122 "
            "reports covering 38 schemes. Reports included at full text are linked to schemes (one report may "
            "inform several), and data are extracted per scheme through a **template** "
            "(`extraction_templates/*.yaml`), rendered here as a form."
        ),
        new_code_cell(
            "from pathlib import Path\n"
            "\n"
            "import pandas as pd\n"
            "\n"
            "from review import extraction, schemes\n"
            "from review.example import EXAMPLE, build_example\n"
            "\n"
            "review = build_example(Path(\"build\") / \"notebook-03\", quiet=True, through=\"screen\")\n"
            "template = extraction.load_template(review, \"irm_scheme\")\n"
            "pd.DataFrame([(f.name, f.label, f.type, f.vocabulary.name if f.vocabulary else \"\", f.required)\n"
            "              for f in template.fields], columns=[\"field\", \"label\", \"type\", \"vocabulary\", \"required\"])"
        ),
        new_markdown_cell("## The 38 schemes of the worked example\n\nLoaded through the same path as "
                          "`review extract import DIR --template irm_scheme FILE`: each row creates its scheme, "
                          "links its reports and saves the extracted values (checked against the template first; "
                          "one bad row and nothing is written)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "count = extraction.import_extractions(review, \"irm_scheme\", EXAMPLE / \"irm_schemes.json\", who=\"am\")\n"
            "frame = schemes.schemes_frame(review)\n"
            "print(f\"{count} schemes, informed by {len(set().union(*frame['record_ids']))} included reports\")"
        ),
        new_code_cell("frame.head(10)"),
        new_markdown_cell("## The form\n\nA second extractor (mg) extracts scheme S13 (cross-charging) "
                          "independently. Each field has the right control for its type, and every field can be "
                          "answered *not reported* or *not applicable*, which stay distinct from an empty draft. "
                          "Multiple choice fields are checkboxes. **Save as complete** only works once the form is valid; a "
                          "refused save lists every problem at the top of the form and next to each field."),
        new_code_cell(
            "from review.widgets.extraction_form import ComparisonView, ExtractionForm\n"
            "\n"
            "form = ExtractionForm(review, \"S13\", \"irm_scheme\", extractor=\"mg\")\n"
            "form"
        ),
        new_markdown_cell("Run unattended, the next cell fills mg's form through the controls and saves it: first "
                          "as complete with a required field missing (refused, with the message next to the field), "
                          "then complete."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "am = extraction.latest_by_extractor(review, \"S13\", \"irm_scheme\")[\"am\"].values\n"
            "form.set_values(am)\n"
            "form.controls[\"study_designs\"].input.value = ()\n"
            "saved = form.save(complete=True)\n"
            "print(\"saved as complete:\", \"yes\" if saved else \"no, refused:\")\n"
            "print(\"\\n\".join(form.problems))\n"
            "form.controls[\"study_designs\"].input.value = (\"mixed_methods\",)\n"
            "form.controls[\"outcomes\"].rows[1][\"direction\"].input.value = \"unclear\"\n"
            "print(form.save(complete=True).status)"
        ),
        new_markdown_cell("## Comparing two extractors\n\nField by field; choose a side for each difference and "
                          "record the agreed version (an event: both extractions stay in the history)."),
        new_code_cell(
            "table = extraction.compare(review, \"S13\", \"irm_scheme\", \"am\", \"mg\")\n"
            "table[~table[\"same\"]]"
        ),
        new_code_cell(
            "view = ComparisonView(review, \"S13\", \"irm_scheme\", \"am\", \"mg\", who=\"hw\")\n"
            "view"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "for field, toggle in view.choices.items():\n"
            "    toggle.value = \"am\"  # after discussion, the team keeps am's reading\n"
            "view.record()\n"
            "print(view.message.value)\n"
            "print(extraction.final_values(review, \"irm_scheme\")[\"S13\"] == am)"
        ),
        new_markdown_cell("## The extraction table\n\nOne row per scheme, the final values (agreed, else the "
                          "only complete version): what synthesis starts from. `review extract export DIR "
                          "--template irm_scheme --format csv` writes the same."),
        new_code_cell(
            "table = extraction.extraction_frame(review, \"irm_scheme\", labels=True)  # codes stay in exports\n"
            "table[[\"scheme_id\", \"country\", \"scheme_name\", \"irm_type\", \"study_designs\"]].head(10)"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(table[\"country\"].value_counts().sort_index().to_string())"
        ),
    ]


def notebook_04():
    return [
        new_markdown_cell(
            "# 4 · Synthesise: tables, vote counts and plots\n\n"
            "Seed 003's results are counts of schemes: study design by country (its Table 3), and for each outcome "
            "domain how many schemes found the integrated scheme better, no different, mixed or worse, set against "
            "the type of integrated resource mechanism (IRM, its Table 4). Here they are computed from the "
            "extraction data, never typed in. The command line does the same: `review tabulate`, `review votes`, "
            "`review plot`.\n\n"
            "**Counting rules.** The unit is the scheme. A scheme with several IRM types or study designs counts "
            "once under each (as Table 3 does), and once in each total. A scheme counts once per outcome domain: "
            "where it has several findings in a domain, findings answered *not reported* are set aside, *unclear* "
            "ones count only when nothing else has a direction, and if the rest agree the scheme takes that "
            "direction, otherwise *mixed*. A domain with no finding is *not reported*."
        ),
        new_code_cell(
            "from pathlib import Path\n"
            "\n"
            "from IPython.display import SVG, display\n"
            "\n"
            "from review import report, synthesis\n"
            "from review.example import demo_review\n"
            "\n"
            "# The review `make demo` built (../build/mason2014); built here once if it is not there yet.\n"
            "folder = Path(\"..\") / \"build\" / \"mason2014\"\n"
            "review = demo_review(folder)\n"
            "data = synthesis.load(review)  # the final extraction of every scheme\n"
            "print(len(data.schemes), \"schemes with extracted data\")"
        ),
        new_markdown_cell("## Study design by country (Table 3)\n\nLabels when shown, codes in the CSV."),
        new_code_cell(
            "designs = synthesis.tabulate(review, \"country\", \"study_designs\")\n"
            "designs"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(designs.render(\"csv\"))"
        ),
        new_markdown_cell("## Outcome direction per domain\n\nEach scheme once per domain; *not reported* where a "
                          "scheme's sources say nothing for a domain."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "overview = synthesis.tabulate(review, \"domain\", \"direction\")\n"
            "print(overview.table().to_string())"
        ),
        new_markdown_cell("## The headline table: IRM type × direction, health outcomes\n\n"
                          "Rows in the template's vocabulary order (Table 4 of the paper), so a type no scheme "
                          "used (transfer payments) shows as a row of zeros."),
        new_code_cell(
            "health = synthesis.tabulate(review, \"irm_type\", \"direction\", domain=\"health_outcomes\")\n"
            "health"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(health.counts().to_string())"
        ),
        new_markdown_cell("### Drill down into a cell\n\nWhich schemes with integrated management and pooled funds "
                          "found better health outcomes? Codes or labels both work."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "health.cell(\"integrated_with_pooled\", \"better\")"
        ),
        new_code_cell("health.table(cells=\"names\")"),
        new_markdown_cell(
            "## Filters\n\nBy country, by any choice field (`where`), and by kind of evidence. The worked example "
            "records no kind of evidence for its findings (the paper does not give one), so an evidence filter "
            "leaves every domain *not reported* unless `not_recorded` is listed: a filter never silently keeps "
            "what it cannot classify."
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "england = synthesis.tabulate(review, \"irm_type\", \"direction\", domain=\"service_use_costs\",\n"
            "                             where={\"country\": [\"england\"]})\n"
            "print(england.caption())\n"
            "print(england.counts().loc[\"total\"].to_dict())\n"
            "measured = synthesis.tabulate(review, \"domain\", \"direction\", evidence=[\"measured_comparator\"])\n"
            "print(measured.counts().loc[\"total\"].to_dict())"
        ),
        new_markdown_cell(
            "## Vote counting (SWiM)\n\nPer IRM type and domain: schemes favouring the scheme out of those with a "
            "clear direction (better or worse), with a Wilson 95% interval and a two-sided exact sign test. "
            "With n = 0 there is no test, and the table says so."
        ),
        new_code_cell(
            "votes = synthesis.votes(review)\n"
            "votes"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "overall = votes.frame[votes.frame[\"group\"] == \"all\"]\n"
            "print(overall[[\"domain\", \"favour\", \"against\", \"n\", \"p_value\"]].round(4).to_string(index=False))"
        ),
        new_markdown_cell("## Effect direction plot\n\nAfter Thomson & Thomas (2013): schemes grouped by IRM type, "
                          "one column per domain; ▲ better, ▼ worse, ◄► no difference or mixed; marker size by "
                          "sample size, shade by the scheme's strongest study design."),
        new_code_cell(
            "path = report.plot(review, \"effect-direction\", folder / \"effect_direction.svg\")\n"
            "display(SVG(filename=path))"
        ),
        new_markdown_cell("## Harvest plot\n\nAfter Ogilvie et al. (2008): one panel per domain, one bar per "
                          "scheme under its direction, taller and darker for stronger designs."),
        new_code_cell(
            "path = report.plot(review, \"harvest\", folder / \"harvest.svg\")\n"
            "display(SVG(filename=path))"
        ),
        new_markdown_cell("## Export\n\nCSV (codes; first column the row code, totals labelled `total`), "
                          "Markdown and HTML (labels, the counting rule as a note)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(health.render(\"markdown\").splitlines()[0])\n"
            "(folder / \"health_by_irm_type.csv\").write_text(health.render(\"csv\"), encoding=\"utf-8\")\n"
            "print(health.render(\"csv\").splitlines()[-1])"
        ),
    ]


def notebook_05():
    return [
        new_markdown_cell(
            "# 5 · PRISMA 2020 and the report\n\n"
            "Every number in the flow diagram is computed from the review's log: imports (with their kind of "
            "source), deduplication, records removed before screening, screening decisions at each stage, full "
            "texts not retrieved, exclusion reasons, and the schemes the included reports inform. The command line: "
            "`review prisma DIR [--json] [--csv FILE] [--svg FILE] [--box NAME]`, `review methods DIR`, "
            "`review report DIR --out OUT`."
        ),
        new_code_cell(
            "from pathlib import Path\n"
            "\n"
            "from IPython.display import HTML, Markdown, SVG, display\n"
            "\n"
            "from review import methods, prisma, prisma_diagram, report\n"
            "from review.example import demo_review\n"
            "\n"
            "# The review `make demo` built (../build/mason2014); built here once if it is not there yet.\n"
            "folder = Path(\"..\") / \"build\" / \"mason2014\"\n"
            "review = demo_review(folder)\n"
            "flow = prisma.flow(review)\n"
            "flow"
        ),
        new_markdown_cell("The counts use the keys of the PRISMA2020 R package and Shiny app, so the same "
                          "numbers can be drawn there too (`review prisma DIR --csv FILE` writes its template)."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "for key, value in flow.to_json().items():\n"
            "    if value is not None:\n"
            "        print(f\"{key}: {value}\")"
        ),
        new_markdown_cell("## The identities\n\nPRISMA's boxes must add up. The diagram is drawn only when every "
                          "identity holds; otherwise each broken one is named with its numbers."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "for identity in flow.identities():\n"
            "    print(identity)\n"
            "print(\"warnings:\", flow.warnings)"
        ),
        new_code_cell(
            "flow.check()\n"
            "SVG(prisma_diagram.draw_svg(flow.to_json(), title=review.protocol.title))"
        ),
        new_markdown_cell("## Every number traced to its records\n\nAny box lists the records (or schemes) "
                          "behind it, e.g. the reports excluded at full text with their primary reason:"),
        new_code_cell(
            "excluded = prisma.box(review, \"dbr_excluded\", flow)\n"
            "excluded.head(10)"
        ),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(excluded[\"reason\"].value_counts().to_string())"
        ),
        new_markdown_cell("## Methods text (PRISMA 2020 items 8, 9 and 16a)\n\nWritten from the protocol and the "
                          "log. Bracketed prompts mark what the log cannot know."),
        new_code_cell(
            "text = methods.methods_text(review)\n"
            "Markdown(text.to_markdown())"
        ),
        new_markdown_cell("## The report\n\nOne folder: `index.html` (self-contained) with every table per domain, "
                          "the vote counts, both plots, the PRISMA diagram and counts, the methods text and the "
                          "agreement table; and each table and figure as a file of its own."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "index = report.write_report(review, folder / \"report\")\n"
            "print(index.as_posix())\n"
            "print(sorted(p.name for p in index.parent.iterdir()))"
        ),
    ]


def notebook_06():
    return [
        new_markdown_cell(
            "# 6 · Qualitative meta-synthesis: codebook, coding, themes across schemes\n\n"
            "Thematic synthesis (Thomas & Harden 2008): code findings line by line, group codes into themes, "
            "and report which themes recur across which schemes. The worked example adds two qualitative "
            "studies — the Better Care Fund evaluation (Harlock et al. 2019; seeds 000 and 001, one article "
            "deposited in two repositories, counted once) and the Integrated Care and Support Pioneers "
            "evaluation (Erens et al.; seed 004) — and codes their findings, passages of their full texts, and "
            "the barriers extracted for the 38 schemes of Mason et al. (2014), against a codebook built from the "
            "frameworks those documents report. The command line: `review codes DIR [list|tree] [--json]`, "
            "`review themes DIR --by scheme|country|irm_type [--format csv|markdown|html]`."
        ),
        new_code_cell(
            "from IPython.display import SVG, display\n"
            "\n"
            "from review import codebook, coding, plots, themes\n"
            "from pathlib import Path\n"
            "from review.example import build_example\n"
            "\n"
            "folder = Path(\"build\") / \"notebook-06\"  # next to this notebook\n"
            "review = build_example(folder, quiet=True, through=\"qualitative\")"
        ),
        new_markdown_cell("## One study, two deposits\n\nSeeds 000 (Warwick) and 001 (Kent) share no metadata; "
                          "a reviewer marked them the same, so they are one record cluster: both copies are kept "
                          "as reports, and the study counts once."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "from review import schemes\n"
            "records = review.records_frame()\n"
            "bcf = records[records[\"source_id\"].str.startswith(\"harlock\")]\n"
            "print(bcf[[\"source_id\", \"cluster_id\"]].assign(cluster_id=lambda f: f.cluster_id == "
            "f.cluster_id.iloc[0]).to_string(index=False))\n"
            "frame = schemes.schemes_frame(review)\n"
            "print(frame[frame.scheme_id.isin([\"BCF\", \"ICSP\"])][[\"scheme_id\", \"name\", "
            "\"reports\"]].to_string(index=False))"
        ),
        new_markdown_cell("## The codebook\n\nA tree of codes (id, label, definition, parent, optional "
                          "polarity and level), kept as YAML (`examples/mason2014/codebook.yaml`) and versioned "
                          "through the log: every add, edit, move, rename, merge and split is an event."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "book = codebook.current(review)\n"
            "print(f\"{len(book.codes)} codes, version {book.version}\")\n"
            "print(\"\\n\".join(book.tree_lines()[:8]))"
        ),
        new_markdown_cell("Editing in the notebook: the same functions the command line and the widget use. "
                          "Here a sub-theme is added under Harlock et al.'s wider contextual issues, and a "
                          "label is edited; the history shows both."),
        new_code_cell(
            "codebook.add_code(review, \"bcf_early_impacts\", \"Perceptions of early impacts\", who=\"demo\",\n"
            "                  parent=\"bcf_contextual\", polarity=\"facilitator\")\n"
            "codebook.edit_code(review, \"mason_it_systems\", who=\"demo\", label=\"Linking IT systems "
            "across organisations\")\n"
            "codebook.history(review).tail(3)[[\"version\", \"kind\", \"code\", \"who\"]]"
        ),
        new_markdown_cell("The YAML file is the codebook in force at any time: write it, edit it (in any editor "
                          "or here), and load it back; a file with a cycle, a duplicate code or a dangling parent "
                          "is refused with its line, and nothing is changed."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "path = codebook.export_file(review, folder / \"codebook.yaml\")\n"
            "text = path.read_text(encoding=\"utf-8\")\n"
            "path.write_text(text.replace(\"parent: bcf_contextual\\n  polarity: facilitator\", "
            "\"parent: bcf_relational\\n  polarity: facilitator\"), encoding=\"utf-8\")\n"
            "print(codebook.import_file(review, path, who=\"demo\"))\n"
            "bad = folder / \"bad_codebook.yaml\"\n"
            "bad.write_text(text + \"- code: orphan\\n  label: Orphan\\n  parent: nowhere\\n\", "
            "encoding=\"utf-8\")\n"
            "try:\n"
            "    codebook.import_file(review, bad, who=\"demo\")\n"
            "except codebook.CodebookError as exc:\n"
            "    print(f\"refused, line {exc.line}: {exc.reason}\")"
        ),
        new_markdown_cell("## Themes across schemes\n\nA cell counts the coded findings and passages of a scheme "
                          "with the theme or any code below it. Mason et al.'s four barriers recur across the "
                          "schemes of the review and both qualitative studies:"),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "matrix = themes.matrix(review, \"scheme\", codes=[\"mason_barriers\"])\n"
            "table = matrix.table()\n"
            "print(table.loc[:, (table != 0).any()].drop(columns=\"theme\").to_string())"
        ),
        new_markdown_cell("The quotes behind any cell, with where they come from and who said them:"),
        new_code_cell("matrix.quotes(\"mason_pooling\", \"BCF\")[[\"quote\", \"location\", \"speaker\"]]"),
        new_markdown_cell("By country and by type of integrated resource mechanism (top two levels of the tree):"),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "print(themes.matrix(review, \"country\", max_depth=0).table().drop(columns=\"theme\")"
            ".to_string())"
        ),
        new_markdown_cell("## Thematic summary\n\nTheme, definition, number of schemes, illustrative quotes "
                          "with their sources."),
        new_code_cell(
            "summary = themes.summary(review, max_depth=1)\n"
            "summary[summary.code.str.startswith(\"mason_\")][[\"theme\", \"schemes\", \"scheme_ids\", "
            "\"illustrative quotes\"]]"
        ),
        new_code_cell(
            "fig = themes.frequency_figure(review, max_depth=1)\n"
            "display(SVG(filename=plots.save_figure(fig, folder / \"theme_frequency.svg\")))"
        ),
        new_markdown_cell("## Coding in the notebook\n\nPick a finding or a page of an attached full text, "
                          "type the words of a passage and *Select passage* (it is found on the page and "
                          "highlighted), tick codes in the tree, or add a new code on the fly, then *Save "
                          "coding*. Several coders can code the same units; `coding.agreement(review)` gives "
                          "Cohen's kappa per code over the units both coded (percentage agreement where kappa "
                          "is undefined)."),
        new_markdown_cell("For illustration only (these are not the study team's codes): a second coder "
                          "double-codes the first six BCF findings, as Harlock et al. double coded six "
                          "transcripts before coding the rest."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "second = [[\"bcf_pooled_budgets\"], [\"bcf_pooled_budgets\"], [\"bcf_pooled_budgets\", "
            "\"mason_pooling\"],\n"
            "          [\"bcf_boundaries\"], [\"bcf_boundaries\", \"bcf_shared_vision\"], [\"bcf_boundaries\"]]\n"
            "for row, codes in enumerate(second, start=1):\n"
            "    coding.code(review, coding.finding(\"BCF\", row), codes, coder=\"second\")\n"
            "agreement = coding.agreement(review)\n"
            "print(agreement.drop(columns=[\"label\"]).to_string(index=False))"
        ),
        new_code_cell(
            "from review.widgets.coding import CodingWidget\n"
            "\n"
            "CodingWidget(review, coder=\"demo\")"
        ),
        new_markdown_cell("## Export\n\nCSV (formula-guarded), Markdown and HTML; the report gains a "
                          "qualitative section whenever codings exist."),
        new_code_cell(
            "# NBVAL_CHECK_OUTPUT\n"
            "(folder / \"themes_by_scheme.csv\").write_text(themes.themes(review, \"scheme\", \"csv\"), "
            "encoding=\"utf-8\")\n"
            "print(themes.themes(review, \"irm_type\", \"markdown\").splitlines()[0])\n"
            "review.close()"
        ),
    ]


def write(name: str, cells) -> None:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, NOTEBOOKS / name)
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
                    name], cwd=NOTEBOOKS, check=True)
    # Saved widget state is megabytes of model JSON that only matters for a live kernel.
    executed = nbformat.read(NOTEBOOKS / name, as_version=4)
    executed.metadata.pop("widgets", None)
    nbformat.write(executed, NOTEBOOKS / name)


NOTEBOOK_SOURCES = {
    "00": ("00_start_your_review.ipynb", notebook_00),
    "01": ("01_import_and_deduplicate.ipynb", notebook_01),
    "02": ("02_screen.ipynb", notebook_02),
    "03": ("03_extract.ipynb", notebook_03),
    "04": ("04_synthesise.ipynb", notebook_04),
    "05": ("05_report.ipynb", notebook_05),
    "06": ("06_metasynthesis.ipynb", notebook_06),
}


def sync_sources(name: str, cells) -> None:
    """Copy edited cell sources into the stored notebook, keeping its outputs (no re-run).

    Only for edits that leave every output as it is (comments, imports, paths); the cells
    must be the same in number and kind, else run the notebook again with write().
    """
    stored = nbformat.read(NOTEBOOKS / name, as_version=4)
    if [c.cell_type for c in stored.cells] != [c.cell_type for c in cells]:
        raise SystemExit(f"{name}: the cells changed in number or kind; regenerate it (without --sources-only)")
    for old, new in zip(stored.cells, cells):
        old.source = new.source
    nbformat.write(stored, NOTEBOOKS / name)


if __name__ == "__main__":
    keys = [a for a in sys.argv[1:] if not a.startswith("--")] or list(NOTEBOOK_SOURCES)
    for key in keys:
        name, cells = NOTEBOOK_SOURCES[key]
        if "--sources-only" in sys.argv:
            sync_sources(name, cells())
        else:
            write(name, cells())
