"""The worked example's qualitative synthesis: faithful quotes, one study counted once, hand-counted matrices."""

from __future__ import annotations

import pytest
import yaml

from review import codebook, coding, prisma, themes

import qualitative_fixtures as qf

REPO = qf.REPO
EXAMPLE = REPO / "examples" / "mason2014"


def _normal(text: str) -> str:
    return " ".join(text.replace("*", "").split())


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    from review.example import build_example

    review = build_example(tmp_path_factory.mktemp("ex") / "mason2014", quiet=True, through="qualitative")
    yield review
    review.close()


def test_quotes_are_copied_faithfully_from_the_seeds():
    plan = yaml.safe_load((EXAMPLE / "qualitative.yaml").read_text(encoding="utf-8"))
    seeds = {"BCF": qf.seed("000_25643a37125fe1cb.txt"), "ICSP": qf.seed("004_577e0265496db613.txt")}
    for study in plan["studies"]:
        text = _normal(seeds[study["scheme_id"]].read_text(encoding="utf-8"))
        for finding in study["values"]["findings"]:
            assert _normal(finding["quote"]) in text, finding["quote"][:60]
            assert finding["location"]  # section (and sub-theme) of the report


def test_codebook_file_is_valid_and_holds_both_frameworks():
    codes, levels = codebook.load_file(EXAMPLE / "codebook.yaml")
    by_id = {c.code: c for c in codes}
    assert levels == ("national", "organisational", "local")
    # Harlock et al.'s three themes and their sub-themes
    assert [c.label for c in codes if c.parent is None and c.code.startswith("bcf_")] == [
        "Organisational issues", "Relational issues", "Wider contextual issues"]
    # Appendix D: four levels (barriers > I > A > sub-group)
    assert by_id["icsp_b1a_bodies"].parent == "icsp_b1a" and by_id["icsp_b1a"].parent == "icsp_b1"
    assert by_id["icsp_b1"].parent == "icsp_barriers" and by_id["icsp_b1"].level == "national"
    assert {c.label for c in codes if c.parent == "mason_barriers"} == {
        "Difficulty of pooling funds", "Provider autonomy", "Physician engagement", "Linking IT systems"}


def test_seeds_000_and_001_are_one_study_with_both_copies_kept(example):
    records = example.records_frame()
    bcf = records[records["source_id"].isin(["harlock2019_wrap", "harlock2019_kar"])]
    assert len(bcf) == 2 and bcf["cluster_id"].nunique() == 1
    flow = prisma.flow(example)
    assert flow.counts["new_studies"] == 40 and flow.counts["new_reports"] == 116  # 38 + 2, 114 + 2
    assert flow.counts["other_assessed"] == 2
    flow.check()


def test_mason_barriers_across_schemes_counted_by_hand(example):
    table = themes.matrix(example, "scheme", codes=["mason_barriers"]).table()
    nonzero = lambda code: {k: int(v) for k, v in table.loc[code].drop(["theme", "schemes"]).items() if v}
    # BCF: findings 1, 3, 10 and the Discussion passage of the 001 full text; Pioneers: findings 1 and 3.
    assert nonzero("mason_pooling") == {"S07": 1, "S19": 1, "S25": 1, "S30": 1, "S31": 1, "BCF": 4, "ICSP": 2}
    assert nonzero("mason_it_systems") == {"S17": 1, "S19": 1, "S20": 1, "ICSP": 1}
    assert nonzero("mason_physician_engagement") == {"S04": 1, "S10": 1, "S22": 1, "S35": 1, "S37": 1, "ICSP": 1}
    assert nonzero("mason_provider_autonomy") == {"S01": 1, "ICSP": 1}
    assert table.loc["mason_barriers", "schemes"] == 15


def test_barriers_recurring_across_bcf_and_pioneers(example):
    table = themes.matrix(example, "scheme").table()
    both = table[(table["BCF"] > 0) & (table["ICSP"] > 0)]
    # counted by hand from qualitative.yaml (findings, then passages)
    assert table.loc["bcf_pooled_budgets", ["BCF", "ICSP"]].tolist() == [4, 2]
    assert table.loc["bcf_boundaries", ["BCF", "ICSP"]].tolist() == [4, 1]
    assert table.loc["bcf_professional_differences", ["BCF", "ICSP"]].tolist() == [2, 2]
    assert table.loc["bcf_austerity", ["BCF", "ICSP"]].tolist() == [2, 2]
    barriers = {c for c in both.index if codebook.current(example).codes[c].polarity == "barrier"}
    assert {"bcf_pooled_budgets", "bcf_boundaries", "bcf_professional_differences", "bcf_austerity",
            "mason_pooling", "icsp_b1c_funding", "icsp_b3a_context", "icsp_b2b_cultural"} <= barriers
    by_country = themes.matrix(example, "country", max_depth=0).table()
    assert by_country.loc["bcf_organisational"].drop(["theme", "schemes"]).to_dict() == {
        "Australia": 0, "Canada": 0, "England": 11, "Scotland": 0, "USA": 0}


def test_passages_of_the_full_texts_keep_their_pages(example):
    passages = [c for c in coding.current_codings(example) if c.unit.kind == "passage"]
    assert len(passages) == 3
    kar = [c for c in passages if "These findings point" in c.quote][0]
    assert kar.location.startswith(f"p. {kar.unit.page}") and kar.unit.page > 1
    assert kar.schemes == ["BCF"]
