"""Cross-tabulations, the direction rule, vote counting and plot data against counts worked out by hand.

The small review below has five schemes chosen to hit every rule:
  A  England; pooled funds + lead commissioning; RCT + qualitative; health: better (measured with a
     comparator) and worse (claimed) -> mixed; service use: no difference
  B  England; pooled funds; qualitative; health: no difference + unclear (no kind recorded) -> no difference;
     service use answered "not reported"
  C  USA; structural integration; quasi-experimental; health: unclear only -> unclear; institutional: better
  D  Scotland; aligned budgets; uncontrolled; the whole outcomes group "not reported"
  E  USA; pooled funds; RCT; health: better twice (measured with a comparator) -> better; N 100 + 50
"""

import csv
import io
import math

import pytest
from scipy.stats import binomtest

from review import extraction, schemes, synthesis
from review.project import Review
from review.synthesis import SynthesisError, collapse_directions

NR = {"special": "not_reported"}


def _outcome(domain, direction, evidence=None):
    row = {"domain": domain, "direction": direction}
    if evidence:
        row["evidence_kind"] = evidence
    return row


SCHEMES = {
    "A": ("Scheme A", {"country": "england", "irm_type": ["pooled_funds", "lead_commissioning"],
                       "study_designs": ["rct", "qualitative"],
                       "outcomes": [_outcome("health_outcomes", "better", "measured_comparator"),
                                    _outcome("health_outcomes", "worse", "claimed"),
                                    _outcome("service_use_costs", "no_difference", "measured_comparator")]}),
    "B": ("Scheme B", {"country": "england", "irm_type": ["pooled_funds"], "study_designs": ["qualitative"],
                       "outcomes": [_outcome("health_outcomes", "no_difference"),
                                    _outcome("health_outcomes", "unclear"),
                                    _outcome("service_use_costs", NR)]}),
    "C": ("Scheme C", {"country": "usa", "irm_type": ["structural_integration"],
                       "study_designs": ["quasi_experimental"],
                       "outcomes": [_outcome("health_outcomes", "unclear", "perceived"),
                                    _outcome("institutional_care", "better", "measured_comparator")]}),
    "D": ("Scheme D", {"country": "scotland", "irm_type": ["aligned_budgets"], "study_designs": ["uncontrolled"],
                       "outcomes": NR}),
    "E": ("Scheme E", {"country": "usa", "irm_type": ["pooled_funds"], "study_designs": ["rct"],
                       "n_intervention": 100, "n_control": 50,
                       "outcomes": [_outcome("health_outcomes", "better", "measured_comparator"),
                                    _outcome("health_outcomes", "better", "measured_comparator")]}),
}


def _make(path, which=SCHEMES) -> Review:
    review = Review.init(path, title="Synthesis test")
    for scheme_id, (name, values) in which.items():
        schemes.create_scheme(review, name, who="am", scheme_id=scheme_id)
        extraction.save(review, scheme_id, "irm_scheme", {"scheme_name": name, **values}, extractor="am",
                        complete=True)
    return review


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    review = _make(tmp_path_factory.mktemp("syn") / "r")
    yield review
    review.close()


def _csv(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], {r[0]: dict(zip(rows[0][1:], map(int, r[1:]))) for r in rows[1:]}


# --- the direction rule -----------------------------------------------------------------------


@pytest.mark.parametrize("rows, expected", [
    ([], "not_reported"),
    (["not_reported"], "not_reported"),
    (["better"], "better"),
    (["better", "better"], "better"),
    (["better", "worse"], "mixed"),
    (["better", "no_difference"], "mixed"),
    (["no_difference", "unclear"], "no_difference"),
    (["unclear", "unclear"], "unclear"),
    (["unclear", "not_reported"], "unclear"),
    (["mixed", "mixed"], "mixed"),
    (["better", "not_reported"], "better"),
])
def test_collapse_directions(rows, expected):
    assert collapse_directions(rows) == expected


# --- cross-tabulation -------------------------------------------------------------------------


def test_irm_type_by_direction_for_one_domain(small):
    table = synthesis.tabulate(small, "irm_type", "direction", domain="health_outcomes")
    header, rows = _csv(table.render("csv"))
    assert header == ["irm_type", "better", "no_difference", "mixed", "worse", "unclear", "not_reported", "total"]
    # The template's vocabulary order, every type shown (a zero row says "none of this type").
    assert list(rows) == ["transfer_payments", "cross_charging", "aligned_budgets", "lead_commissioning",
                          "pooled_funds", "integrated_without_pooled", "integrated_with_pooled",
                          "structural_integration", "total"]
    assert rows["pooled_funds"] == {"better": 1, "no_difference": 1, "mixed": 1, "worse": 0, "unclear": 0,
                                    "not_reported": 0, "total": 3}
    assert rows["lead_commissioning"]["mixed"] == 1 and rows["lead_commissioning"]["total"] == 1
    assert rows["structural_integration"]["unclear"] == 1
    assert rows["aligned_budgets"]["not_reported"] == 1
    # Totals count each scheme once: A is in two rows but once in "mixed" and once overall.
    assert rows["total"] == {"better": 1, "no_difference": 1, "mixed": 1, "worse": 0, "unclear": 1,
                             "not_reported": 1, "total": 5}
    assert table.cell("pooled_funds", "mixed")["scheme_name"].tolist() == ["Scheme A"]
    assert table.cell("Pooled funds", "Mixed")["scheme_id"].tolist() == ["A"]  # labels work too
    assert table.cell("total", "better")["scheme_id"].tolist() == ["E"]


def test_evidence_filter_drops_claimed_findings(small):
    table = synthesis.tabulate(small, "irm_type", "direction", domain="health_outcomes",
                               evidence="measured_comparator,measured_before_after,perceived")
    _, rows = _csv(table.render("csv"))
    # A's claimed "worse" is dropped, so A is better; B has no kind recorded, so nothing is left.
    assert rows["total"] == {"better": 2, "no_difference": 0, "mixed": 0, "worse": 0, "unclear": 1,
                             "not_reported": 2, "total": 5}
    assert rows["lead_commissioning"]["better"] == 1
    kept = synthesis.tabulate(small, "irm_type", "direction", domain="health_outcomes",
                              evidence=["measured_comparator", "not_recorded"])
    assert _csv(kept.render("csv"))[1]["pooled_funds"]["no_difference"] == 1  # B is back
    assert "findings: Measured, with a comparator" in table.caption()


def test_country_filter(small):
    table = synthesis.tabulate(small, "irm_type", "direction", domain="health_outcomes", where={"country": "usa"})
    _, rows = _csv(table.render("csv"))
    assert rows["total"]["total"] == 2 and rows["pooled_funds"]["better"] == 1


def test_design_by_country_counts_a_scheme_once_per_design(small):
    header, rows = _csv(synthesis.tabulate(small, "country", "study_designs").render("csv"))
    assert header[1:] == ["qualitative", "uncontrolled", "quasi_experimental", "routine_data", "mixed_methods", "rct",
                          "total"]
    assert rows["england"] == {"qualitative": 2, "uncontrolled": 0, "quasi_experimental": 0, "routine_data": 0,
                               "mixed_methods": 0, "rct": 1, "total": 2}
    assert rows["usa"]["rct"] == 1 and rows["usa"]["quasi_experimental"] == 1 and rows["usa"]["total"] == 2
    assert rows["total"]["rct"] == 2 and rows["total"]["qualitative"] == 2 and rows["total"]["total"] == 5


def test_domain_by_direction_counts_each_scheme_once_per_domain(small):
    _, rows = _csv(synthesis.tabulate(small, "domain", "direction").render("csv"))
    assert rows["health_outcomes"]["total"] == 5
    assert rows["service_use_costs"] == {"better": 0, "no_difference": 1, "mixed": 0, "worse": 0, "unclear": 0,
                                         "not_reported": 4, "total": 5}
    assert rows["institutional_care"]["better"] == 1
    assert rows["total"]["total"] == 20  # 5 schemes x 4 domains


def test_two_finding_fields_split_the_findings(small):
    _, rows = _csv(synthesis.tabulate(small, "evidence_kind", "direction", domain="health_outcomes").render("csv"))
    assert rows["measured_comparator"]["better"] == 2  # A's and E's measured findings
    assert rows["claimed"]["worse"] == 1
    assert rows["perceived"]["unclear"] == 1
    assert rows["not_reported"]["no_difference"] == 1 and rows["not_reported"]["not_reported"] == 1


def test_cells_names_and_labels(small):
    table = synthesis.tabulate(small, "irm_type", "direction", domain="health_outcomes")
    names = table.table(cells="names")
    assert names.loc["Pooled funds", "Better (favours the scheme)"] == "Scheme E"
    assert names.loc["Total", "Total"] == "Scheme A; Scheme B; Scheme C; Scheme D; Scheme E"
    assert "Scheme A" in table.render("csv", cells="names")
    markdown = table.render("markdown")
    assert "| Pooled funds | 1 | 1 | 1 | 0 | 0 | 0 | 3 |" in markdown
    assert "otherwise 'mixed'" in markdown  # the rule is stated in the output
    html_text = table.render("html")
    assert "<caption>" in html_text and "Integrated management/provision with pooled funds" in html_text


def test_untrusted_names_are_escaped_and_csv_defused(tmp_path):
    review = _make(tmp_path / "r", {"X": ("=HYPERLINK(\"http://evil\")<script>x</script>",
                                          SCHEMES["E"][1])})
    table = synthesis.tabulate(review, "irm_type", "direction", domain="health_outcomes")
    assert "<script>" not in table.render("html", cells="names")
    assert "&lt;script&gt;" in table.render("html", cells="names")
    assert "'=HYPERLINK" in table.render("csv", cells="names")
    review.close()


@pytest.mark.parametrize("rows, cols, options, message", [
    ("nonesuch", "direction", {"domain": "health_outcomes"}, "no field 'nonesuch'"),
    ("clients", "direction", {"domain": "health_outcomes"}, "'clients' is a long_text field, not a choice field"),
    ("irm_type", "direction", {"domain": "wellbeing"}, "no outcome domain 'wellbeing'"),
    ("irm_type", "direction", {}, "give --domain"),
    ("irm_type", "direction", {"domain": "health_outcomes", "evidence": "hearsay"}, "no kind of evidence 'hearsay'"),
    ("irm_type", "direction", {"domain": "health_outcomes", "where": {"country": "atlantis"}}, "no code 'atlantis'"),
    ("irm_type", "irm_type", {}, "the same field"),
])
def test_bad_requests_name_the_field_or_code(small, rows, cols, options, message):
    with pytest.raises(SynthesisError, match=message):
        synthesis.tabulate(small, rows, cols, **options)


def test_no_extraction_yet(tmp_path):
    review = Review.init(tmp_path / "r", title="Empty")
    schemes.create_scheme(review, "Only a draft", who="am", scheme_id="S1")
    extraction.save(review, "S1", "irm_scheme", {"country": "england"}, extractor="am")
    with pytest.raises(SynthesisError, match="no extraction yet"):
        synthesis.tabulate(review, "irm_type", "direction", domain="health_outcomes")
    review.close()


# --- vote counting -------------------------------------------------------------------------------


@pytest.mark.parametrize("k, n", [(0, 1), (1, 1), (4, 6), (7, 7), (11, 12), (3, 10), (50, 100)])
def test_sign_test_and_wilson_agree_with_scipy(k, n):
    reference = binomtest(k, n, 0.5, alternative="two-sided")
    assert synthesis.sign_test(k, n) == pytest.approx(reference.pvalue, rel=1e-12)
    low, high = synthesis.wilson_interval(k, n)
    ci = reference.proportion_ci(confidence_level=0.95, method="wilson")
    assert (low, high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9))


def test_no_test_below_one():
    assert math.isnan(synthesis.sign_test(0, 0))
    assert all(math.isnan(v) for v in synthesis.wilson_interval(0, 0))


def test_votes_per_irm_type_and_domain(small):
    frame = synthesis.votes(small, domain="health_outcomes").frame.set_index("group")
    assert frame.loc["all", ["favour", "against", "n"]].tolist() == [1, 0, 1]
    assert frame.loc["all", "mixed"] == 1 and frame.loc["all", "unclear"] == 1 and frame.loc["all", "not_reported"] == 1
    assert frame.loc["all", "p_value"] == 1.0
    assert frame.loc["pooled_funds", "n"] == 1
    lead = frame.loc["lead_commissioning"]
    assert lead["n"] == 0 and math.isnan(lead["p_value"]) and lead["remark"] == "n = 0: no test"
    # Evidence filter: A becomes better, so pooled funds has 2 of 2.
    filtered = synthesis.votes(small, domain="health_outcomes", evidence="measured_comparator").frame
    pooled = filtered.set_index("group").loc["pooled_funds"]
    assert (pooled["favour"], pooled["n"]) == (2, 2) and pooled["p_value"] == pytest.approx(0.5)


def test_votes_cover_every_domain_by_default(small):
    frame = synthesis.votes(small).frame
    assert list(dict.fromkeys(frame["domain"])) == ["health_outcomes", "service_use_costs", "institutional_care",
                                                    "satisfaction_quality"]
    institutional = frame[(frame["domain"] == "institutional_care") & (frame["group"] == "all")].iloc[0]
    assert (institutional["favour"], institutional["n"]) == (1, 1)
    text = synthesis.votes(small).render("markdown")
    assert "Wilson" in text and "sign test" in text


# --- plot data ------------------------------------------------------------------------------------


def test_plot_data(small):
    data = synthesis.load(small)
    frame = synthesis.plot_data(data)
    health = frame[frame["domain"] == "health_outcomes"]
    # A appears once per IRM type; its strongest design is the RCT.
    a = health[health["scheme_id"] == "A"]
    assert sorted(a["group"]) == ["lead_commissioning", "pooled_funds"] and set(a["design"]) == {"rct"}
    assert set(a["direction"]) == {"mixed"}
    e = health[health["scheme_id"] == "E"].iloc[0]
    assert e["n"] == 150 and e["direction"] == "better"
    assert math.isnan(health[health["scheme_id"] == "B"].iloc[0]["n"])
    assert len(frame) == 6 * 4  # 6 scheme-type pairs x 4 domains


# --- the worked example -----------------------------------------------------------------------------


def test_worked_example_reproduces_the_transcriptions_tallies(tmp_path):
    """The transcription's own tally (shared/examples/mason2014/README.md, section 6) of IRM type x direction."""
    from review.example import build_example

    review = build_example(tmp_path / "ex", quiet=True, through="extract")
    _, health = _csv(synthesis.tabulate(review, "irm_type", "direction", domain="health_outcomes").render("csv"))
    assert health["total"] == {"better": 4, "no_difference": 13, "mixed": 5, "worse": 2, "unclear": 0,
                               "not_reported": 14, "total": 38}
    assert health["integrated_with_pooled"] == {"better": 2, "no_difference": 9, "mixed": 2, "worse": 1,
                                                "unclear": 0, "not_reported": 7, "total": 21}
    _, service = _csv(synthesis.tabulate(review, "irm_type", "direction", domain="service_use_costs").render("csv"))
    assert service["total"] == {"better": 6, "no_difference": 9, "mixed": 14, "worse": 1, "unclear": 4,
                                "not_reported": 4, "total": 38}
    _, table3 = _csv(synthesis.tabulate(review, "country", "study_designs").render("csv"))
    assert table3["australia"] == {"qualitative": 0, "uncontrolled": 0, "quasi_experimental": 3, "routine_data": 0,
                                   "mixed_methods": 0, "rct": 5, "total": 8}
    assert [table3["total"][c] for c in ("qualitative", "uncontrolled", "quasi_experimental", "routine_data",
                                         "mixed_methods", "rct")] == [16, 17, 14, 13, 10, 6]
    review.close()


# --- the command line ------------------------------------------------------------------------------


def test_cli_tabulate_and_votes(small, cli):
    result = cli("tabulate", str(small.path), "--rows", "irm_type", "--cols", "direction",
                     "--domain", "health_outcomes")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "irm_type,better,no_difference,mixed,worse,unclear,not_reported,total"
    assert "total,1,1,1,0,1,1,5" in result.stdout
    result = cli("tabulate", str(small.path), "--rows", "country", "--cols", "study_designs", "--format",
                     "markdown", "--cells", "names")
    assert result.returncode == 0 and "| England | Scheme B; Scheme A |" not in result.stdout
    assert "Scheme A; Scheme B" in result.stdout
    result = cli("votes", str(small.path), "--domain", "health_outcomes")
    assert result.returncode == 0 and result.stdout.startswith("domain,group,favour,against,n,")


@pytest.mark.parametrize("args, message", [
    (["--rows", "clients", "--cols", "direction", "--domain", "health_outcomes"], "not a choice field"),
    (["--rows", "irm_type", "--cols", "direction", "--domain", "nope"], "no outcome domain 'nope'"),
    (["--rows", "irm_type", "--cols", "direction"], "give --domain"),
])
def test_cli_errors_are_one_line_without_traceback(small, args, message, cli):
    result = cli("tabulate", str(small.path), *args)
    assert result.returncode == 1
    assert message in result.stderr and "Traceback" not in result.stderr


def test_cli_no_extraction(tmp_path, cli):
    Review.init(tmp_path / "r", title="Empty").close()
    result = cli("votes", str(tmp_path / "r"))
    assert result.returncode == 1 and "no extraction yet" in result.stderr and "Traceback" not in result.stderr
