"""Known traps: records that share a title (or nearly everything) without being the same work.

Each test is built from a real reference (the datasets in ../shared and the seed
reference lists) formatted the way databases export it. A trap must never be
merged automatically: at most it goes to a person as needs-review. The last
tests check the other side: variants that ARE duplicates still merge.
"""

from __future__ import annotations

import pandas as pd

from review.dedup import AUTO_MERGE, DISTINCT, NEEDS_REVIEW, find_duplicates


def run(*records: dict):
    frame = pd.DataFrame([{"record_id": f"r{i}", **r} for i, r in enumerate(records)])
    return find_duplicates(frame, progress=False, include_distinct=True)


def decision(result, a: str = "r0", b: str = "r1") -> str:
    pairs = result.pairs
    hit = pairs[((pairs.record_id_a == a) & (pairs.record_id_b == b)) | ((pairs.record_id_a == b) & (pairs.record_id_b == a))]
    return hit["decision"].iloc[0] if len(hit) else DISTINCT


def apart(result, a: str = "r0", b: str = "r1") -> bool:
    return result.clusters[a] != result.clusters[b]


# --- journal literature --------------------------------------------------------------

TRANSPLANT = dict(authors=["Le Quintrec, M.", "Zuber, J.", "Noel, L. H.", "Thervet, E."], year=2009,
                  journal="American Journal of Transplantation", volume="9")


def test_erratum_sharing_the_articles_title_is_not_merged():
    # haematology set: the erratum notice carries the article's title verbatim.
    title = "Anti-Factor H Autoantibodies in a Fifth Renal Transplant Recipient with Atypical Hemolytic and Uremic Syndrome"
    result = run({**TRANSPLANT, "title": title, "issue": "5", "pages": "1223-1229"},
                 {**TRANSPLANT, "title": "Erratum: " + title, "issue": "9", "pages": "2205"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_erratum_labelled_in_one_database_only_is_the_same_notice():
    # Same volume and page: one notice, "Erratum:" added by one database.
    title = "Severe deficiency of the specific von Willebrand factor-cleaving protease (ADAMTS 13) activity"
    base = dict(authors=["Veyradier, A."], year=2003, journal="Journal of Pediatrics", volume="142", issue="6",
                pages="616-616")
    result = run({**base, "title": "Erratum: " + title}, {**base, "title": title})
    assert decision(result) == AUTO_MERGE


def test_correction_with_its_own_doi_is_not_merged_with_the_article():
    base = dict(authors=["Schneider, Stephan", "Wollersheim, Jan", "Krcmar, Helmut", "Sunyaev, Ali"], year=2018,
                journal="Journal of Information Technology", volume="33", issue="2")
    title = "How do requirements evolve over time? A case study investigating the role of context and experiences"
    result = run({**base, "title": title, "pages": "151-170", "doi": "10.1057/s41265-016-0001-y"},
                 {**base, "title": "Erratum to - " + title, "pages": "171", "doi": "10.1057/s41265-017-0039-5"})
    assert decision(result) == NEEDS_REVIEW and apart(result)


def test_retraction_notice_is_not_merged_with_the_retracted_paper():
    title = "Ileal-lymphoid-nodular hyperplasia, non-specific colitis, and pervasive developmental disorder in children"
    base = dict(authors=["Wakefield, A. J.", "Murch, S. H."], journal="Lancet")
    result = run({**base, "title": title, "year": 1998, "volume": "351", "pages": "637-641"},
                 {**base, "title": "Retraction--" + title, "year": 2010, "volume": "375", "pages": "445"},
                 {**base, "title": title, "year": 1998, "volume": "351", "pages": "637-41"})
    assert apart(result, "r0", "r1") and apart(result, "r2", "r1")
    assert not apart(result, "r0", "r2")  # the paper's two records still merge


def test_reply_sharing_the_letters_title_is_not_merged():
    title = "Atypical hemolytic uremic syndrome associated with group A beta hemolytic streptococcus"
    base = dict(year=2004, journal="Pediatric Nephrology", volume="19", issue="8")
    result = run({**base, "title": title, "authors": ["Yildiz, B.", "Kural, N.", "Yarar, C."], "pages": "943-944"},
                 {**base, "title": title + " - Reply", "authors": ["Shepherd, A. B.", "Palmer, A. L.", "Baliga, R."],
                  "pages": "945"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_comment_on_an_article_is_not_merged():
    result = run({"title": "Integrated care in England - what can we learn from a decade of national pilot programmes?",
                  "authors": ["Lewis, R. Q."], "year": 2021, "journal": "International Journal of Integrated Care"},
                 {"title": "Comment on: Integrated care in England - what can we learn from a decade of national pilot "
                           "programmes?", "authors": ["Lewis, R. Q."], "year": 2021,
                  "journal": "International Journal of Integrated Care"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_conference_abstract_and_the_full_paper_are_kept_apart():
    title = "Efficacy of intrapleural streptokinase therapy in tubercular pleural effusions: a randomised controlled trial"
    authors = ["Gaude, G. S.", "Sandeep, H."]
    result = run({"title": title, "authors": authors, "year": 2011,
                  "journal": "American Journal of Respiratory and Critical Care Medicine. Conference: ATS 2011",
                  "volume": "183", "issue": "Meeting Abstracts", "pages": "A4912"},
                 {"title": title, "authors": authors, "year": 2011, "journal": "Lung India",
                  "volume": "28", "issue": "4", "pages": "243-247"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_the_same_conference_abstract_from_two_databases_still_merges():
    # asysd-diabetes: Embase's "Journal. Conference: ..." against MEDLINE's plain journal.
    title = "SGLT2 inhibition with dapagliflozin improves coronary vascular derangement in the leptin-deficient ob/ob mice"
    authors = ["Adingupu D.", "Hagerstrand L.", "Palmer M.", "Karageorgis A."]
    result = run({"title": title, "authors": authors, "year": 2017, "volume": "136", "issue": "Supplement 1",
                  "journal": "Circulation. Conference: Resuscitation Science Symposium ReSS"},
                 {"title": title, "authors": authors, "year": 2017, "volume": "136", "issue": "Supplement 1",
                  "journal": "Circulation"})
    assert decision(result) == AUTO_MERGE


def test_part_one_and_part_two_are_different_papers():
    # Seed 003 refs 103 and 104.
    base = dict(authors=["Gulliver, P.", "Peck, E.", "Towell, D."], year=2002,
                journal="MCC: building knowledge for integrated care", volume="10")
    result = run({**base, "title": "Evaluation of the integration of health and social services in Somerset: "
                                   "part one: final results", "pages": "32-37"},
                 {**base, "title": "Evaluation of the integration of health and social services in Somerset: "
                                   "part two: lessons for other localities", "pages": "33-38"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_roman_numbered_parts_are_different_papers():
    # Seed 003 refs 6 and 96: "I. The model of care" and "II. Costs and effectiveness".
    base = dict(authors=["Challis, D.", "Darton, R.", "Johnson, L.", "Stone, M.", "Traske, K."], year=1991,
                journal="Age & Ageing", volume="20")
    stem = "An evaluation of an alternative to long-stay hospital care for frail elderly patients: "
    result = run({**base, "title": stem + "I. The model of care", "pages": "236-244"},
                 {**base, "title": stem + "II. Costs and effectiveness", "pages": "245-254"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_doi_that_differs_while_everything_else_matches_goes_to_review():
    # A PLOS article and its supplementary file, which has a DOI of its own.
    base = dict(title="Differential effects of drug interventions and dietary lifestyle in developing type 2 diabetes "
                      "and complications: a systems biology analysis in LDLr-/- mice",
                authors=["Radonjic M.", "Wielinga P. Y.", "Wopereis S.", "Kelder T."], year=2013, journal="PLoS One",
                volume="8", issue="2", pages="e56122")
    result = run({**base, "doi": "10.1371/journal.pone.0056122"}, {**base, "doi": "10.1371/journal.pone.0056122.s001"})
    assert decision(result) == NEEDS_REVIEW and apart(result)
    assert bool(result.pairs["conflict"].iloc[0])


def test_one_side_missing_the_doi_still_merges():
    base = dict(title="Mirror therapy for patients with severe arm paresis after stroke - a randomized controlled trial",
                authors=["Thieme, H.", "Bayn, M.", "Wurg, M.", "Zange, C."], year=2013,
                journal="Clinical Rehabilitation", volume="27", issue="4", pages="314-324")
    result = run({**base, "doi": "10.1177/0269215512455651"},
                 {**base, "journal": "Clin Rehabil", "pages": "314-24", "authors": ["Thieme H", "Bayn M", "Wurg M"]})
    assert decision(result) == AUTO_MERGE


def test_a_chain_cannot_join_an_erratum_to_its_article():
    # r1 is close to both r0 (article) and r2 (erratum); r0 and r2 conflict, so no cluster holds both.
    title = "Long-term effect of the complement inhibitor eculizumab on kidney function in patients with PNH"
    base = dict(authors=["Hillmen, P.", "Elebute, M."], year=2010, journal="American Journal of Hematology",
                volume="85")
    result = run({**base, "title": title, "issue": "8", "pages": "553-559"},
                 {**base, "title": title},
                 {**base, "title": "Erratum: " + title, "issue": "11", "pages": "911"})
    assert apart(result, "r0", "r2")


# --- grey literature --------------------------------------------------------------------

def test_same_report_title_in_different_years_is_not_merged():
    result = run({"title": "NHS in Scotland 2018", "authors": ["Audit Scotland"], "year": 2018, "type": "report"},
                 {"title": "NHS in Scotland 2019", "authors": ["Audit Scotland"], "year": 2019, "type": "report"},
                 {"title": "Social care 360: expenditure", "authors": ["Bottery S", "Ward D"], "year": 2021, "type": "web"},
                 {"title": "Social care 360: expenditure", "authors": ["Bottery S", "Ward D"], "year": 2020, "type": "web"})
    assert apart(result, "r0", "r1") and apart(result, "r2", "r3")


def test_policy_framework_for_different_years_is_not_merged():
    result = run({"title": "NHS Delivery Framework 2020–2021", "authors": ["NHS Wales"], "year": 2020, "type": "report"},
                 {"title": "NHS Wales Delivery Framework 2019-20", "authors": ["NHS Wales"], "year": 2019,
                  "type": "report"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_report_and_its_appendices_are_not_merged():
    # Seed 003 refs 15 and 51.
    base = dict(authors=["RAND Europe", "Ernst & Young LLP"], year=2012, type="report", publisher="RAND Corporation")
    result = run({**base, "title": "National evaluation of the Department of Health's integrated care pilots: final report"},
                 {**base, "title": "National evaluation of the Department of Health's integrated care pilots: appendices"})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_white_paper_and_its_consultation_summary_are_not_merged():
    url = "https://gov.wales/rebalancing-care-and-support"
    result = run({"title": "Rebalancing Care and Support", "authors": ["Welsh Government"], "year": 2021,
                  "type": "report", "url": url},
                 {"title": "Rebalancing care and support: summary of consultation responses",
                  "authors": ["Welsh Government"], "year": 2021, "type": "report", "url": url})
    assert decision(result) != AUTO_MERGE and apart(result)


def test_sibling_reports_of_one_evaluation_are_not_merged():
    stem = "North West London integrated care pilot evaluation: report on work programme "
    base = dict(year=2013, type="report", publisher="Nuffield Trust")
    result = run({**base, "title": stem + "1", "authors": ["Curry N", "Holder H", "Smith J"]},
                 {**base, "title": stem + "2", "authors": ["Bardsley M", "Blunt I", "Roberts A"]},
                 {**base, "title": stem + "3", "authors": ["Soljak M", "Cecil E"]})
    assert len(set(result.clusters.values())) == 3


def test_press_releases_from_one_organisation_and_year_are_not_merged():
    result = run({"title": "Health and social care integration has drastically reduced delayed discharge in "
                           "Herefordshire", "authors": ["Wye Valley NHS Trust"], "year": 2011, "type": "web"},
                 {"title": "A first for Herefordshire", "authors": ["Wye Valley NHS Trust"], "year": 2011, "type": "web"})
    assert apart(result)


def test_grey_duplicates_merge_on_title_corporate_author_year_and_url():
    url = "www.nuffieldtrust.org.uk/files/2019-07/nuffield-trust-change-or-collapse-web-final.pdf"
    result = run(
        # Seed 002 refs 51 and 153: subtitles differ, same document.
        {"title": "Change or collapse: Lessons to drive the reform of social care in Northern Ireland",
         "authors": ["Dayan M", "Heenan D"], "year": 2019, "type": "report", "url": url},
        {"title": "Change or Collapse: Lessons from the drive to reform health and social care in Northern Ireland",
         "authors": ["Dayan M", "Heenan D"], "year": 2019, "type": "report", "url": "https://" + url},
        # Seed 003 ref 37 and a library catalogue entry.
        {"title": "Means to an end: Joint financing across health and social care", "authors": ["Audit Commission"],
         "year": 2009, "type": "report"},
        {"title": "Means to an end : joint financing across health and social care : health national report",
         "authors": ["Great Britain. Audit Commission"], "year": 2009, "type": "report"},
        # A web capture with the site name after a pipe.
        {"title": "Not made to be measured: why evaluating integrated care initiatives is so difficult",
         "authors": ["Keeble E"], "year": 2019, "type": "web"},
        {"title": "Not made to be measured: why evaluating integrated care initiatives is so difficult | The Nuffield "
                  "Trust", "authors": ["Keeble, Eilís"], "year": 2019, "type": "web"},
    )
    assert not apart(result, "r0", "r1")
    assert not apart(result, "r2", "r3")
    assert not apart(result, "r4", "r5")
    assert apart(result, "r0", "r2") and apart(result, "r2", "r4")


def test_review_protocol_and_the_review_are_not_merged():
    # CiteSource wildfire set: a protocol; its review follows with the same main title.
    base = dict(authors=["Teixeira, Tatiana", "Dias, Isabel"], year=2024,
                journal="International Journal of Occupational and Environmental Safety")
    stem = "Occupational exposure and health of wildland firefighters: "
    result = run({**base, "title": stem + "protocol for a systematic review", "volume": "8", "pages": "1-6"},
                 {**base, "title": stem + "a systematic review"})
    assert decision(result) != AUTO_MERGE and apart(result)
