"""The methods text, the report folder and `review demo`, on the worked example and on small reviews."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from review import extraction, methods, report, schemes, screening
from review.project import Review
from review.protocol import Protocol, Reviewer, Stage


@pytest.fixture
def example(worked_example):
    return worked_example


class _Page(HTMLParser):
    """Collects what a browser would fetch or run."""

    def __init__(self):
        super().__init__()
        self.scripts, self.fetched, self.images, self.tags = 0, [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if tag == "script":
            self.scripts += 1
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag == "link" or (tag in ("img", "iframe", "embed", "object", "audio", "video") and
                             not attrs.get("src", "").startswith("data:")):
            self.fetched.append((tag, attrs))


# --- methods -------------------------------------------------------------------------------------


def test_methods_text_of_the_worked_example(example):
    text = methods.methods_text(example).to_text()
    assert "(PRISMA 2020 item 8)" in text and "(PRISMA 2020 item 9)" in text and "(PRISMA 2020 item 16a)" in text
    assert "At title and abstract screening, 183 records were screened (each by two reviewers), by Anne Mason " \
           "and Maria Goddard." in text
    assert "At full text screening, 152 reports were screened" in text
    assert "imported from screening_decisions.csv rather than made in the workbench" in text
    assert "resolved by discussion to consensus" in text
    assert "Cohen's kappa 1.00" in text
    assert "Of 38 schemes, 38 were extracted by one extractor" in text
    assert "The searches identified 183 records" in text
    assert "183 records were screened and 31 excluded" in text
    assert "38 studies (schemes), reported in 114 reports, were included in the review." in text
    assert "[Say whether study investigators were contacted" in text
    markdown = methods.methods_text(example).to_markdown()
    assert markdown.startswith("### Selection process (PRISMA 2020 item 8)")


def test_methods_text_says_third_reviewer_model_order_and_removals(tmp_path):
    protocol = Protocol(title="Methods test",
                        stages=[Stage("title_abstract", "Title and abstract", ["a", "b"], 2, "third_reviewer", "c"),
                                Stage("full_text", "Full text", ["a", "b"], 2, reason_required=True)],
                        reviewers=[Reviewer("a", "Ann"), Reviewer("b", "Bob"), Reviewer("c", "Cy")])
    from review.protocol import ExclusionReason

    protocol.exclusion_reasons = [ExclusionReason("wrong_population", "Wrong population")]
    review = Review.init(tmp_path / "r", protocol=protocol)
    ris = tmp_path / "x.ris"
    ris.write_text("".join(f"TY  - JOUR\nTI  - Study number {i} of care\nAU  - Person{i}, A\nPY  - 2011\nER  - \n"
                           for i in range(1, 6)), encoding="utf-8")
    review.import_file(ris, source="MEDLINE", who="a")
    review.dedupe(who="a", progress=False)
    screening.remove_before_screening(review, [5], "retracted", who="a")
    for record in (1, 2, 3):
        screening.decide(review, "title_abstract", "a", record, "include", order="model")
        screening.decide(review, "title_abstract", "b", record, "include" if record != 3 else "exclude",
                         order="model")
    screening.resolve(review, "title_abstract", 3, "exclude", who="c")
    text = methods.methods_text(review).to_text()
    assert "resolved by a third reviewer, Cy: 1 conflict was resolved." in text
    assert "Records were shown ranked by a relevance model" in text
    assert "0 records were marked ineligible by automation tools and 1 record was removed for other reasons " \
           "(retracted: 1)." in text
    assert "3 records were screened (each by two reviewers; 1 not yet screened)" in text
    assert "No report has been screened at full text yet (2 reports waiting)." in text
    assert "Agreement between Ann and Bob before resolution: 66.7% over 3 records" in text
    assert "[No data have been extracted in the workbench yet" in text
    assert "[Not final:" in text  # full text screening has not started
    review.close()


# --- the report -------------------------------------------------------------------------------------


@pytest.mark.slow  # the whole report
def test_report_of_the_worked_example(example, tmp_path):
    index = report.write_report(example, tmp_path / "out")
    folder = index.parent
    for name in ("prisma.svg", "prisma.json", "prisma.csv", "methods.md", "agreement.csv",
                 "figures/effect_direction.svg", "figures/effect_direction.png", "figures/harvest.svg",
                 "figures/harvest.png", "tables/design_by_country.csv", "tables/direction_by_domain.md",
                 "tables/votes.csv"):
        assert (folder / name).is_file(), name
    for domain in ("health_outcomes", "service_use_costs", "institutional_care", "satisfaction_quality"):
        for ext in ("csv", "md", "html"):
            assert (folder / "tables" / f"irm_type_by_direction_{domain}.{ext}").is_file()
    assert (folder / "tables" / "irm_type_by_direction_health_outcomes.csv").read_text().splitlines()[-1] == \
        "total,4,13,5,2,0,14,38"
    text = index.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert page.scripts == 0 and page.fetched == []  # self-contained: nothing fetched, nothing run
    assert len(page.images) == 3 and all(src.startswith("data:image/svg+xml;base64,") for src in page.images)
    assert not re.search(r"""(src|href)=["']https?://""", text)
    for heading in ("PRISMA 2020 flow diagram", "Methods and results of the selection", "Agreement between reviewers",
                    "Study design by country", "Vote counting (SWiM) with a sign test", "Plots", "Included schemes"):
        assert f">{heading}</h2>" in text
    assert "Reports of new included studies" in text and "Cohen&#x27;s kappa" in text
    assert "Integrated management/provision with pooled funds" in text  # labels, not codes


def test_report_escapes_untrusted_text_and_reports_what_is_missing(tmp_path):
    review = Review.init(tmp_path / "r", title="<b>Title</b> & more")
    ris = tmp_path / "x.ris"
    ris.write_text("TY  - JOUR\nTI  - <img src=x onerror=alert(1)>\nAU  - A, B\nPY  - 2001\nER  - \n", encoding="utf-8")
    review.import_file(ris, source="<script>evil()</script>", who="a")
    schemes.create_scheme(review, "<script>alert('scheme')</script>", who="a", scheme_id="S1")
    extraction.save(review, "S1", "irm_scheme", {
        "country": "england", "scheme_name": "x", "irm_type": ["pooled_funds"], "study_designs": ["rct"],
        "outcomes": [{"domain": "health_outcomes", "direction": "better"}]}, extractor="a", complete=True)
    index = report.write_report(review, tmp_path / "out")
    text = index.read_text(encoding="utf-8")
    page = _Page()
    page.feed(text)
    assert page.scripts == 0
    assert "&lt;script&gt;alert(&#x27;scheme&#x27;)&lt;/script&gt;" in text
    assert "&lt;b&gt;Title&lt;/b&gt; &amp; more" in text
    # Not deduplicated and not screened: said so, and no diagram is drawn from counts that do not add up.
    assert "deduplication has not been run" in text and "do not add up" in text
    assert not (index.parent / "prisma.svg").exists()
    review.close()


def test_report_without_extraction_says_so(tmp_path):
    review = Review.init(tmp_path / "r", title="Nothing extracted")
    index = report.write_report(review, tmp_path / "out")
    assert "no extraction yet" in index.read_text(encoding="utf-8")
    review.close()


def test_plot_command_rejects_other_suffixes(example, tmp_path):
    from review.synthesis import SynthesisError

    with pytest.raises(SynthesisError, match="written as .svg or .png"):
        report.plot(example, "harvest", tmp_path / "plot.pdf")
    path = report.plot(example, "effect-direction", tmp_path / "plot.svg", domain="health_outcomes")
    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")


@pytest.mark.slow  # the whole report and both plots
def test_cli_plot_methods_and_report(example, tmp_path, cli):
    result = cli("plot", example.path, "--kind", "harvest", "--out", tmp_path / "h.svg")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "h.svg").stat().st_size > 10_000
    result = cli("plot", example.path, "--kind", "effect-direction", "--out", tmp_path / "e.png")
    assert result.returncode == 0 and (tmp_path / "e.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    result = cli("methods", example.path, "--format", "markdown")
    assert result.returncode == 0 and "### Data collection process (PRISMA 2020 item 9)" in result.stdout
    result = cli("report", example.path, "--out", tmp_path / "rep", "--quiet")
    assert result.returncode == 0 and result.stdout.strip() == f"report: {tmp_path / 'rep' / 'index.html'}"


@pytest.mark.slow  # the whole worked example
def test_demo_runs_the_worked_example_through_the_report(tmp_path, cli):
    result = cli("demo", tmp_path / "demo")
    assert result.returncode == 0, result.stderr
    index = tmp_path / "demo" / "report" / "index.html"
    assert f"report: {index.resolve()}" in result.stdout
    assert "PRISMA: 183 records screened, 152 reports assessed, 38 studies in 114 reports" in result.stdout
    assert index.is_file()
