"""Stage 1 of deduplication: per-field keys and trap flags (review.dedup.prepare)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from review.dedup import prepare as p


def test_fold_agrees_with_records_fold_on_latin_and_keeps_other_scripts():
    from review.records import fold as records_fold

    for text in ("Élan <i>vital</i> &amp; co-ordinated care", "Kölner Zeitschrift für Soziologie",
                 "Платформенная занятость", "慢性病 综合 护理", "  MIXED   case_Title!  "):
        assert p.fold(text) == records_fold(text)


@pytest.mark.parametrize("raw, cleaned", [
    ("Update on HPV infection. [Review] [33 refs]", "Update on HPV infection."),
    ("Efficacy of batroxobin. [Chinese]", "Efficacy of batroxobin."),
    ("Gain-of-function mutations.[Erratum appears in Proc Natl Acad Sci 2007;104:19]", "Gain-of-function mutations."),
    ("Atypical HUS associated with group A streptococcus (multiple letters) [1]",
     "Atypical HUS associated with group A streptococcus (multiple letters)"),
    ("Not made to be measured | The Nuffield Trust", "Not made to be measured"),
    ("Integration pioneers leading the way - GOV.UK", "Integration pioneers leading the way"),
    ("Spending round 2013 (Cm 8639)", "Spending round 2013"),
])
def test_clean_title_drops_database_tags_site_names_and_document_numbers(raw, cleaned):
    assert p.clean_title(raw) == cleaned


def test_split_translation_keeps_both_titles_but_not_an_all_bracket_title():
    main, alt = p.split_translation("Working in the Platform Economy [Arbeiten in der Plattformökonomie]")
    assert main == "Working in the Platform Economy" and alt == "Arbeiten in der Plattformökonomie"
    assert p.split_translation("[Clinical treatment with cisplatin in pleural cavity]") == (
        "[Clinical treatment with cisplatin in pleural cavity]", "")


@pytest.mark.parametrize("title, numbers", [
    ("evaluation of the integration in somerset part one final results", ("1",)),
    ("evaluation of the integration in somerset part two lessons", ("2",)),
    ("an alternative to long stay care ii costs and effectiveness", ("2",)),
    ("complex pharmaceutical care part a the process", ("a",)),
    ("nhs delivery framework 2020 21", ("2020", "2021")),
    ("a study among 10 000 women in guanacaste", ("10000",)),
    ("severe deficiency of adamts13 activity", ("13",)),
    ("mirror therapy for arm paresis after stroke", ()),
])
def test_title_numbers(title, numbers):
    assert p.title_numbers(title) == numbers


@pytest.mark.parametrize("title, flag", [
    ("Erratum: Severe deficiency of the von Willebrand factor-cleaving protease", p.FLAG_ERRATUM),
    ("Erratum to - How do requirements evolve over time?", p.FLAG_ERRATUM),
    ("Correction to: Mirror therapy for patients with severe arm paresis", p.FLAG_ERRATUM),
    ("Retraction: Ileal-lymphoid-nodular hyperplasia and pervasive developmental disorder", p.FLAG_RETRACTION),
    ("Atypical hemolytic uremic syndrome associated with group A streptococcus - Reply", p.FLAG_REPLY),
    ("Comment on: Integrated care in England", p.FLAG_REPLY),
    ("National evaluation of the integrated care pilots: appendices", p.FLAG_APPENDIX),
    ("Rebalancing care and support: summary of consultation responses", p.FLAG_SUMMARY),
    ("A National Care Service for Scotland: consultation", p.FLAG_CONSULTATION),
    ("The ACTIVE trial: study protocol for a randomised controlled trial", p.FLAG_PROTOCOL),
    ("Audit Scotland annual report 2019", p.FLAG_ANNUAL),
])
def test_title_flags(title, flag):
    assert p.title_flags(title) & flag


def test_titles_without_trap_words_have_no_flags():
    assert p.title_flags("Mirror therapy for patients with severe arm paresis after stroke") == 0
    # A note that an erratum exists is stripped before flagging: the article is not the erratum.
    assert p.title_flags(p.clean_title("Gain-of-function mutations.[Erratum appears in PNAS 2007]")) == 0


def test_conference_abstract_flag_from_container_issue_and_page():
    flag = p.FLAG_CONFERENCE_ABSTRACT
    assert p.record_flags("X", "article", "Circulation. Conference: Resuscitation Science Symposium", "", "") & flag
    assert p.record_flags("X", "article", "Diabetes", "Suppl 1", "A237") & flag
    assert not p.record_flags("X", "article", "Vaccine", "", "22-27") & flag


@pytest.mark.parametrize("pages, expected", [
    ("1325-9", ("1325", "1329")),
    ("pp. 943-945", ("943", "945")),
    ("S31-S32", ("s31", "s32")),
    ("e12724", ("e12724", "e12724")),
    ("47--65", ("47", "65")),
    ("Suppl-87", ("", "")),
    ("", ("", "")),
])
def test_page_range(pages, expected):
    assert p.page_range(pages) == expected


@pytest.mark.parametrize("volume, expected", [
    ("24", "24"), ("07", "7"), ("Drug Discovery. 9", "9"), ("1)", ""), ("(Jul)", ""), ("Ph.D.", ""),
])
def test_normalise_volume(volume, expected):
    assert p.normalise_volume(volume) == expected


@pytest.mark.parametrize("url, expected", [
    ("<https://gov.wales/sites/default/files/consultations/2021-01/consutation-document.pdf>",
     "gov.wales/sites/default/files/consultations/2021-01/consutation-document.pdf"),
    ("www.nuffieldtrust.org.uk/research/x/", "nuffieldtrust.org.uk/research/x"),
    ("https://www.hfma.org.uk/docs/pooled-budgets.pdf?sfvrsn=80fe9de4_0", "hfma.org.uk/docs/pooled-budgets.pdf"),
    ("www.wales.nhs.uk/documents/2020-21%20Delivery%20Framework.pdf#page=2",
     "wales.nhs.uk/documents/2020-21deliveryframework.pdf"),
    ("https://doi.org/10.1177/0309816819899410", ""),
    ("", ""),
])
def test_normalise_url(url, expected):
    assert p.normalise_url(url) == expected


def test_journal_tokens_drop_embase_conference_tail_and_small_words():
    assert p.journal_tokens("Journal of Thrombosis and Haemostasis.Conference: 23rd Congress Kyoto") == (
        "journal", "thrombosis", "haemostasis")
    assert p.journal_tokens("PLoS ONE [Electronic Resource]") == ("plos", "one")


@pytest.mark.parametrize("author, key, corporate", [
    ("Smith, John A.", "smith", False),
    ("Smith JA", "smith", False),
    ("John Smith", "smith", False),
    ("van der Berg, A", "van der berg", False),
    ("Department of Health", "department of health", True),
    ("The King's Fund", "king s fund", True),
    ("HFMA", "hfma", True),
    ("NHS England", "nhs england", True),
])
def test_author_key(author, key, corporate):
    found_key, _, found_corporate = p.author_key(author, first=True)
    assert (found_key, found_corporate) == (key, corporate)


def test_author_keys_skip_et_al_and_keep_name_words_for_swapped_names():
    keys, words, corporate = p.author_keys(["Altenried, Moritz", "et al."])
    assert keys == ("altenried",) and "moritz" in words[0] and not corporate


def test_split_authors_accepts_lists_and_strings():
    assert p.split_authors(["A, B", None, "NA", ""]) == ["A, B"]
    assert p.split_authors("Smith, J; Jones, K") == ["Smith, J", "Jones, K"]
    assert p.split_authors("Smith, J and Jones, K") == ["Smith, J", "Jones, K"]
    assert p.split_authors(float("nan")) == []


def test_prepare_records_one_row_per_record_in_order_with_documented_columns():
    records = pd.DataFrame({
        "record_id": ["r1", "r2"],
        "title": ["Mirror therapy after stroke", None],
        "authors": [["Thieme, H."], []],
        "year": [2013, math.nan],
        "doi": ["https://doi.org/10.1177/ABC", "NA"],
    })
    prepared = p.prepare_records(records)
    assert list(prepared.columns) == list(p.PREPARED_COLUMNS)
    assert prepared["record_id"].tolist() == ["r1", "r2"]
    assert prepared.loc[0, "doi"] == "10.1177/abc" and prepared.loc[1, "doi"] == ""
    assert prepared.loc[0, "year"] == 2013 and prepared.loc[1, "year"] == -1
    assert prepared.loc[1, "title"] == ""


def test_prepare_records_rejects_missing_or_repeated_ids():
    with pytest.raises(ValueError, match="record_id"):
        p.prepare_records(pd.DataFrame({"title": ["x"]}))
    with pytest.raises(ValueError, match="unique"):
        p.prepare_records(pd.DataFrame({"record_id": ["a", "a"], "title": ["x", "y"]}))


@pytest.mark.parametrize("title", [
    "Correction of hallux valgus by distal osteotomy",
    "Response to cisplatin in advanced ovarian cancer",
    "Re-evaluation of the PACE model of care",
    "Letter writing as a therapeutic intervention",
    "Discussion groups for carers of people with dementia",
    "Abstract reasoning in older adults",
])
def test_ordinary_titles_starting_with_notice_words_are_not_flagged(title):
    assert p.title_flags(title) & (p.FLAG_ERRATUM | p.FLAG_REPLY | p.FLAG_CONFERENCE_ABSTRACT) == 0


@pytest.mark.parametrize("title", ["Re: Integrated care pilots", "In reply", "Letter to the editor: pooled budgets",
                                   "Comment on: Integrated care in England", "Authors' reply"])
def test_notice_wording_is_flagged_as_reply(title):
    assert p.title_flags(title) & p.FLAG_REPLY
