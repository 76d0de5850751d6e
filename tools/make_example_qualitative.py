"""Write the worked example's qualitative synthesis files from the seed documents.

    python tools/make_example_qualitative.py      (needs ../shared/seeds)

Writes examples/mason2014/codebook.yaml (the frameworks the documents report:
Harlock et al.'s three themes and sub-themes, the Pioneers evaluation's Appendix D
tree, and the four barriers of Mason et al.'s discussion) and
examples/mason2014/qualitative.yaml (the two qualitative studies, their findings
and their codes, passages of the attached full texts, and the coding of the 38
schemes' extracted barriers). Every quotation is checked against the seed text
it comes from (whitespace aside) before anything is written.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO.parent / "shared" / "seeds"
OUT = REPO / "examples" / "mason2014"
BCF_SEED, KAR_SEED, ICSP_SEED, MASON_SEED = ("000_25643a37125fe1cb.txt", "001_fd596cdeacf1b5f4.txt",
                                             "004_577e0265496db613.txt", "003_7b751320c7c4396c.txt")


def code(code, label, parent=None, definition="", polarity=None, level=None):
    item = {"code": code, "label": label}
    if definition:
        item["definition"] = definition
    if parent:
        item["parent"] = parent
    if polarity:
        item["polarity"] = polarity
    if level:
        item["level"] = level
    return item


B, F = "barrier", "facilitator"
CODES = [
    # Harlock et al. 2019 (seeds 000/001), Results: three key themes and their sub-themes.
    code("bcf_organisational", "Organisational issues",
         definition="The practical and political challenges of managing pooled BCF budgets, and the challenges "
                    "arising from working across geographical and administrative boundaries (Harlock et al. 2019).",
         level="organisational"),
    code("bcf_pooled_budgets", "Managing pooled budgets", "bcf_organisational",
         "Governance of the pooled budget, attributing outcomes to spending, sharing financial risk, tensions "
         "over contributions and how money is spent.", B, "organisational"),
    code("bcf_boundaries", "Working across geographical boundaries", "bcf_organisational",
         "Areas and populations served by health and social care organisations not aligned; overlapping "
         "footprints of new initiatives.", B, "local"),
    code("bcf_relational", "Relational issues",
         definition="How comfortably and effectively organisations interacted with each other: shared vision, "
                    "leadership, organisational and professional cultures (Harlock et al. 2019).",
         level="organisational"),
    code("bcf_shared_vision", "Shared vision and leadership", "bcf_relational",
         "Shared vision and ownership of plans, trust, leaders working together, a lead or champion.", F,
         "organisational"),
    code("bcf_professional_differences", "Professional and operational differences", "bcf_relational",
         "Entrenched differences in professional cultures and organisational procedures between health and "
         "social care teams.", B, "organisational"),
    code("bcf_contextual", "Wider contextual issues",
         definition="Financial austerity and local capacity for implementation (Harlock et al. 2019).",
         level="national"),
    code("bcf_austerity", "Financial austerity and capacity for implementation", "bcf_contextual",
         "Financial pressures, no new money, limited staff time and capacity.", B, "national"),
    # Erens et al., Pioneers interim report (seed 004), Appendix D: Barriers.
    code("icsp_barriers", "Barriers (Pioneers, Appendix D)", polarity=B,
         definition="Barriers mentioned by Pioneer interviewees, paraphrased in Appendix D of Erens et al."),
    code("icsp_b1", "National policy framework/contextual issues", "icsp_barriers", polarity=B, level="national"),
    code("icsp_b1a", "Mixed agendas/objectives at national level", "icsp_b1", polarity=B, level="national"),
    code("icsp_b1a_bodies", "Discrepancies between different national bodies", "icsp_b1a", polarity=B,
         level="national"),
    code("icsp_b1a_competition", "National policies on choice and competition conflict with integrated care",
         "icsp_b1a", polarity=B, level="national"),
    code("icsp_b1a_mental_health", "Issues integrating mental health services", "icsp_b1a", polarity=B,
         level="national"),
    code("icsp_b1b", "National leadership on integrated care", "icsp_b1", polarity=B, level="national"),
    code("icsp_b1b_freedom", "Pioneers not being given enough freedom", "icsp_b1b", polarity=B, level="national"),
    code("icsp_b1b_messages", "Inconsistent messages/priorities/demands from the centre", "icsp_b1b", polarity=B,
         level="national"),
    code("icsp_b1c", "Financial austerity/funding issues", "icsp_b1", polarity=B, level="national"),
    code("icsp_b1c_cuts", "Effect of financial cuts", "icsp_b1c", polarity=B, level="national"),
    code("icsp_b1c_funding", "Lack of funding to manage transitions/invest/keep up with demand", "icsp_b1c",
         polarity=B, level="national"),
    code("icsp_b2", "Organisational, professional and cultural boundaries", "icsp_barriers", polarity=B,
         level="organisational"),
    code("icsp_b2a", "Organisational structure", "icsp_b2", polarity=B, level="organisational"),
    code("icsp_b2a_boundaries", "Organisational boundaries", "icsp_b2a", polarity=B, level="organisational"),
    code("icsp_b2a_primary_care", "Structure of primary care", "icsp_b2a", polarity=B, level="organisational"),
    code("icsp_b2a_providers", "Engaging providers", "icsp_b2a", polarity=B, level="organisational"),
    code("icsp_b2b", "Professional, cultural and political issues/accountability", "icsp_b2", polarity=B,
         level="organisational"),
    code("icsp_b2b_cultural", "Cultural differences", "icsp_b2b", polarity=B, level="organisational"),
    code("icsp_b2b_professional", "Professional boundaries", "icsp_b2b", polarity=B, level="organisational"),
    code("icsp_b2b_staff", "Engaging staff", "icsp_b2b", polarity=B, level="organisational"),
    code("icsp_b2b_pressures", "Pressures to achieve", "icsp_b2b", polarity=B, level="organisational"),
    code("icsp_b3", "Local issues", "icsp_barriers", polarity=B, level="local"),
    code("icsp_b3a", "Local context/boundaries/history", "icsp_b3", polarity=B, level="local"),
    code("icsp_b3a_context", "Local context", "icsp_b3a", polarity=B, level="local"),
    code("icsp_b3a_capacity", "Lack of resources/capacity", "icsp_b3a", polarity=B, level="local"),
    code("icsp_b3b", "Governance/leadership issues", "icsp_b3", polarity=B, level="local"),
    code("icsp_b3c", "Financial issues", "icsp_b3", polarity=B, level="local"),
    code("icsp_b3d", "Engaging stakeholders", "icsp_b3", polarity=B, level="local"),
    code("icsp_b3e", "Engaging the public", "icsp_b3", polarity=B, level="local"),
    # Appendix D: Facilitators ("a similar, but simplified, categorisation").
    code("icsp_facilitators", "Facilitators (Pioneers, Appendix D)", polarity=F,
         definition="Facilitators or enablers described by Pioneer interviewees, Appendix D of Erens et al."),
    code("icsp_f1", "National context", "icsp_facilitators", polarity=F, level="national"),
    code("icsp_f2", "Professional/cultural enablers", "icsp_facilitators", polarity=F, level="organisational"),
    code("icsp_f3", "Local issues", "icsp_facilitators", polarity=F, level="local"),
    code("icsp_f3_context", "Local context", "icsp_f3", polarity=F, level="local"),
    code("icsp_f3_leadership", "Local leadership", "icsp_f3", polarity=F, level="local"),
    code("icsp_f3_resources", "Resources: funding, staffing", "icsp_f3", polarity=F, level="local"),
    code("icsp_f3_engaging", "Engaging stakeholders and the public", "icsp_f3", polarity=F, level="local"),
    # Mason et al. 2014 (seed 003), Discussion: "Barriers, facilitators and unintended consequences".
    code("mason_barriers", "Barriers to financial integration (Mason et al. 2014)", polarity=B,
         definition="The barriers the evidence review's discussion draws out across schemes."),
    code("mason_pooling", "Difficulty of pooling funds", "mason_barriers",
         "\"Perhaps the primary 'barrier' to emerge from the review was the difficulty of implementing financial "
         "integration, despite statutory and regulatory measures to support their application.\"", B),
    code("mason_provider_autonomy", "Provider autonomy", "mason_barriers",
         "Providers decide who is eligible for services, so care plans and pooled funds cannot direct provision.", B),
    code("mason_physician_engagement", "Physician engagement", "mason_barriers",
         "Physicians (GPs) not engaged in care coordination or planning.", B),
    code("mason_it_systems", "Linking IT systems", "mason_barriers",
         "\"With regard to linking different IT systems, this problem appeared to be generic\".", B),
]

BCF_STUDY = {
    "scheme_id": "BCF", "scheme_name": "Better Care Fund (England)",
    "reports": ["harlock2019_wrap", "harlock2019_kar"], "full_text": {"report": "harlock2019_kar",
                                                                       "file": "full_texts/harlock2019_kar.txt"},
    "values": {
        "aim": "To examine the implementation of the Better Care Fund and perceived impacts so far, in relation to "
               "organisational, relational and wider contextual issues.",
        "setting": "16 BCF programme sites (local health and social care systems) in England",
        "country": "england", "irm_type": ["pooled_funds"],
        "sample": "40 individuals leading BCF implementation in health and social care organisations",
        "n_participants": 40, "data_collection": ["interviews"],
        "data_collection_details": "In-depth, semi-structured interviews, January 2017 to January 2018",
        "data_collection_start": "2017-01", "data_collection_end": "2018-01",
        "analysis_approach": "framework",
        "analysis_details": "Coding framework from the topic guide, piloted by all authors; two researchers "
                            "double coded six transcripts; coded in NVivo.",
    },
}
ICSP_STUDY = {
    "scheme_id": "ICSP", "scheme_name": "Integrated Care and Support Pioneers (England)",
    "reports": ["erens_pioneers_interim"], "full_text": {"report": "erens_pioneers_interim",
                                                         "file": "full_texts/erens2015_pioneers_interim.txt"},
    "values": {
        "aim": "To describe the vision, scope, objectives, plans, interventions and implementation of the first "
               "wave of Integrated Care and Support Pioneers, and the barriers and facilitators they met.",
        "setting": "14 Pioneer sites in England, 2014", "country": "england", "irm_type": ["pooled_funds"],
        "sample": "Key stakeholders in each of the 14 Pioneers", "data_collection": ["interviews", "documents"],
        "data_collection_details": "Interviews at Pioneer sites between April and November 2014; documentary "
                                   "analysis",
        "analysis_approach": "thematic",
    },
}

# (quote, location, speaker, author's theme, codes); participants' words when a speaker is given.
BCF_FINDINGS = [
    ("There’s some debate as to longer term whether that will even continue to be a pooled budget because of the "
     "challenges. And some of the decisions the [organisation] have taken in the last couple of years in trying to "
     "bring in a financial recovery plan, that will almost, you know, destabilise the pool...it caused a lot of "
     "angst in negotiating, agreeing that.",
     "Results › Organisational issues › Managing pooled budgets", "Local Authority Senior Manager",
     "Managing pooled budgets", ["bcf_pooled_budgets", "mason_pooling"]),
    ("To some extent it put the money more at the forefront...money was obviously always important here, without a "
     "shadow of a doubt, but it became about how much money is mine and how much money is yours, rather than the "
     "idea of actually this is just money in the locality. And certainly for us here it probably--, it probably, "
     "by the second year of the BCF, set us off track a bit while we went back and worked through the complexities "
     "of understanding what was in that £10.5 million.",
     "Results › Organisational issues › Managing pooled budgets", "Local Authority Senior Manager",
     "Managing pooled budgets", ["bcf_pooled_budgets"]),
    ("Arrangements for sharing financial 'risk' (potential losses) were also contested and subject to "
     "time-consuming negotiations where organisations were concerned about who would bear financial responsibility "
     "for joint initiatives funded through the BCF",
     "Results › Organisational issues › Managing pooled budgets", "", "Managing pooled budgets",
     ["bcf_pooled_budgets", "mason_pooling"]),
    ("Because of our geography we have a bit of a complication because I work coterminous with the CCG but not "
     "coterminous with the [hospital trust] and obviously the [hospital trust] wants to have the same processes "
     "across its footprint... because the hospital, if they’re going to change the way they do it, they want to "
     "do it the same across their footprint.",
     "Results › Organisational issues › Working across geographical boundaries", "Local Authority BCF Lead",
     "Working across geographical boundaries", ["bcf_boundaries", "icsp_b3a_context"]),
    ("Everyone starts from a slightly different point and you’re trying to tailor what you’re doing to make it "
     "relevant, but at the same time, you’re trying to achieve the same end goal. So different bits of the system "
     "are running at different degrees of heat.",
     "Results › Organisational issues › Working across geographical boundaries", "LA Director",
     "Working across geographical boundaries", ["bcf_boundaries"]),
    ("So bringing all of those together trying to get some agreement on an STP footprint whilst simultaneously "
     "trying to have a Better Care Fund plan that relates to one small part of that footprint...the complexity... "
     "it felt like no one had really thought through how these were going to work in practice",
     "Results › Organisational issues › Working across geographical boundaries", "Local Authority Commissioner",
     "Working across geographical boundaries", ["bcf_boundaries", "icsp_b1b_messages"]),
    ("a lot of the things that stop integrated working is when people don’t have the same vision of what they’re "
     "trying to deliver... what I picked up was the ability of the organisations to share a vision, work together",
     "Results › Relational issues › Shared vision and leadership", "CCG Clinician",
     "Shared vision and leadership", ["bcf_shared_vision", "icsp_f2"]),
    ("Appointment of a BCF ‘lead’ or ‘champion’ was also seen as helpful in many sites to articulate a clear vision "
     "for integrated working, coordinate and project manage implementation, and mobilise support among "
     "stakeholders.",
     "Results › Relational issues › Shared vision and leadership", "", "Shared vision and leadership",
     ["bcf_shared_vision", "icsp_f3_leadership"]),
    ("I mean one of the biggest barriers is buy-in and getting cultural change...getting the cultural and hearts "
     "and minds challenge met. That’s the first thing.",
     "Results › Relational issues › Professional and operational differences", "Local Authority Commissioner",
     "Professional and operational differences", ["bcf_professional_differences", "icsp_b2b_cultural"]),
    ("However the funding and payment options between different providers were viewed as too complex and the "
     "scheme was not implemented.",
     "Results › Relational issues › Professional and operational differences", "",
     "Professional and operational differences", ["bcf_professional_differences", "mason_pooling"]),
    ("the problem was there was no money, it was all old money...as such you're very limited in what you can do in "
     "terms of changing what is done because, you know, demand is there",
     "Results › Wider contextual issues › Financial austerity and capacity for implementation", "LA BCF Lead",
     "Financial austerity and capacity for implementation", ["bcf_austerity", "icsp_b1c_funding"]),
    ("some participants felt that while the national support available for BCF implementation was comprehensive "
     "(including webinars, online forums and regional events), it was often under-utilised locally due to lack of "
     "staff time and capacity pressures.",
     "Results › Wider contextual issues › Financial austerity and capacity for implementation", "",
     "Financial austerity and capacity for implementation", ["bcf_austerity", "icsp_b3a_capacity"]),
]

ICSP_FINDINGS = [
    ("Budgets need to be pooled, so commissioning organisations need to accept giving up complete control over "
     "their own budget in order to have influence over a larger budget, which is a 'big ask', especially with the "
     "number of commissioning bodies increasing.",
     "Appendix D › Barriers › II › A Organisational structure › Organisational boundaries",
     ["icsp_b2a_boundaries", "bcf_pooled_budgets", "mason_pooling"]),
    ("Pooling budgets before established working relationships are in place is a step backwards.",
     "Appendix D › Barriers › III › C Financial issues", ["icsp_b3c", "bcf_pooled_budgets"]),
    ("Difficulties in reallocating resources between different organisations (e.g. from acute to community care), "
     "particularly in a time of austerity, without destabilising the providers or creating tensions between "
     "organisations.",
     "Appendix D › Barriers › I › C Financial austerity/funding issues › Lack of funding",
     ["icsp_b1c_funding", "bcf_austerity", "mason_pooling"]),
    ("Financial austerity has a number of impacts. For example, cuts to local authority services mean that "
     "community services are being closed that are essential to providing integrated care.",
     "Appendix D › Barriers › I › C Financial austerity/funding issues › Effect of financial cuts",
     ["icsp_b1c_cuts", "bcf_austerity"]),
    ("NHS and local authority boundaries not coinciding complicates planning and providing patient care. Similarly "
     "providers working across CCG and local authority boundaries with different expectations and needs in each "
     "area, leads to complications.",
     "Appendix D › Barriers › III › A Local context/boundaries/history › Local context",
     ["icsp_b3a_context", "bcf_boundaries"]),
    ("Incompatible IT systems makes sharing records difficult.",
     "Appendix D › Barriers › III › A Local context/boundaries/history › Local context",
     ["icsp_b3a_context", "mason_it_systems"]),
    ("GPs are often key to integrated care initiatives, but some GPs are quite remote and disengaged from the "
     "initiatives.",
     "Appendix D › Barriers › II › A Organisational structure › Structure of primary care",
     ["icsp_b2a_primary_care", "mason_physician_engagement"]),
    ("Cultural differences between local authorities and the NHS.",
     "Appendix D › Barriers › II › B Professional, cultural and political issues › Cultural differences",
     ["icsp_b2b_cultural", "bcf_professional_differences"]),
    ("Professional territorialism and being held accountable to your own organisations leads to duplication of "
     "effort (e.g. by carrying out multiple assessments of the same patient) by staff from different "
     "organisations.",
     "Appendix D › Barriers › II › B Professional, cultural and political issues › Professional boundaries",
     ["icsp_b2b_professional", "bcf_professional_differences"]),
    ("Providers are not always invited to be on the inside and part of the conversation, which leads to tensions "
     "and lack of trust.",
     "Appendix D › Barriers › II › A Organisational structure › Engaging providers",
     ["icsp_b2a_providers", "mason_provider_autonomy"]),
    ("Relationships and trust were the first and foremost facilitators of working together to solve problems, "
     "agree system-wide plans and deliver on these.",
     "Appendix D › Facilitators › II Professional/cultural enablers", ["icsp_f2", "bcf_shared_vision"]),
    ("The BCF brought commissioners (from local authority and CCG) together.",
     "Appendix D › Facilitators › I National context", ["icsp_f1"]),
    ("Having an integrated IT system/an electronic integrated health and social care patient record that can be "
     "easily shared, and an information sharing agreement between key partners and patients.",
     "Appendix D › Facilitators › III Local issues › Local context", ["icsp_f3_context"]),
    ("Pooling budgets gave 'added value' and allowed activities to be funded that otherwise would not have been.",
     "Appendix D › Facilitators › III Local issues › Resources: funding, staffing", ["icsp_f3_resources"]),
    ("Every problem is just a challenge, it is just another challenge to solve.",
     "Section 7 › Barriers", ["icsp_barriers"]),
]

# Passages of the attached full texts: (report, quote, codes). 001 is set with margin line numbers.
PASSAGES = [
    ("harlock2019_kar", "These findings point to the importance of fully aligning incentives in implementing pooled "
     "budgets; in their own, pooled budgets cannot address deeply entrenched differences between decision makers "
     "in each sector who continue to operate with reference to their own set of priorities, constraints, and "
     "budgetary pressures.", ["bcf_pooled_budgets", "mason_pooling"]),
    ("harlock2019_kar", "our findings highlight that the BCF will need to be reconciled and (re)negotiated locally as "
     "sustainability and transformation partnerships' plans unfold.", ["bcf_boundaries"]),
    ("erens_pioneers_interim", "In addition, there were various issues to do with securing sufficient or genuine "
     "engagement from all the necessary organisations, groups of staff and the public locally.",
     ["icsp_b3d", "icsp_b3e"]),
]

# Seed 003's barriers, coded on the schemes' extracted barriers (Appendix 2 of Mason et al. 2014, transcribed in
# irm_schemes.json): (scheme, quoted part of its barriers field, codes).
MASON_BARRIERS = [
    ("S01", "pooled funds did not lead to more flexible delivery - providers kept prioritising high-need individuals "
            "and would not accept care coordinators' assessments", ["mason_provider_autonomy"]),
    ("S04", "some GPs found care planning bureaucratic, burdensome and of questionable value for lower-need clients",
     ["mason_physician_engagement"]),
    ("S07", "final agreement on the community care pool could not be reached with providers", ["mason_pooling"]),
    ("S10", "Financial incentives for family physician participation insufficient", ["mason_physician_engagement"]),
    ("S17", "IT tool lacked interoperability/functionality", ["mason_it_systems"]),
    ("S19", "Sharing electronic data", ["mason_it_systems"]),
    ("S19", "translating cost reductions into actual savings usually impossible because funds could not be "
            "transferred across care boundaries", ["mason_pooling"]),
    ("S20", "IT incompatibilities, confidentiality and data governance", ["mason_it_systems"]),
    ("S22", "engaging clinicians required effort", ["mason_physician_engagement"]),
    ("S25", "Alignment and pooling of budgets 'the weakest area for all of the partnerships'", ["mason_pooling"]),
    ("S30", "Regulatory barriers to combining funds from multiple payers", ["mason_pooling"]),
    ("S31", "Medicaid inflexibilities prohibit pooled funding", ["mason_pooling"]),
    ("S35", "poor coordination between care coordinators and physicians", ["mason_physician_engagement"]),
    ("S37", "Physicians each manage few WPP clients and do not usually attend team meetings, so lack incentives to "
            "change their management", ["mason_physician_engagement"]),
]


def _normal(text: str) -> str:
    text = text.replace("*", "")
    return " ".join(text.split())


def check(quote: str, seed_text: str, where: str) -> None:
    if _normal(quote) not in _normal(seed_text):
        sys.exit(f"{where}: quote not found verbatim in its seed: {quote[:80]!r}")


def main() -> int:
    bcf = (SEEDS / BCF_SEED).read_text(encoding="utf-8")
    icsp = (SEEDS / ICSP_SEED).read_text(encoding="utf-8")
    for quote, *_ in BCF_FINDINGS:
        check(quote, bcf, "BCF finding")
    for quote, *_ in ICSP_FINDINGS:
        check(quote, icsp, "Pioneers finding")
    from review import passages

    # Passages are found in the attached full texts as the workbench reads them (margin numbers stripped).
    texts = {"harlock2019_kar": passages.extract(SEEDS / KAR_SEED), "erens_pioneers_interim":
             passages.extract(SEEDS / ICSP_SEED)}
    for report, quote, _ in PASSAGES:
        texts[report].find(quote)
    mason = {row["scheme_id"]: row["values"]["barriers"]
             for row in json.loads((OUT / "irm_schemes.json").read_text(encoding="utf-8"))}
    for scheme, quote, _ in MASON_BARRIERS:
        if quote not in mason[scheme]:
            sys.exit(f"{scheme}: not in its extracted barriers: {quote!r}")
    ids = {c["code"] for c in CODES}
    used = {c for *_, codes in BCF_FINDINGS + ICSP_FINDINGS for c in codes} | \
           {c for *_, codes in PASSAGES + MASON_BARRIERS for c in codes}
    if used - ids:
        sys.exit(f"codes not in the codebook: {sorted(used - ids)}")

    codebook = {"title": "Barriers and facilitators to integrating health and social care funds",
                "levels": ["national", "organisational", "local"], "codes": CODES}
    header = ("# The worked example's codebook: made by tools/make_example_qualitative.py from the frameworks the\n"
              "# seed documents report. Edit it and load it with review.codebook.import_file (or the notebook).\n")
    (OUT / "codebook.yaml").write_text(header + yaml.safe_dump(codebook, sort_keys=False, allow_unicode=True,
                                                               width=110), encoding="utf-8")

    def study(base, findings, author_kind):
        values = dict(base["values"])
        values["findings"] = []
        codes = []
        for item in findings:
            if author_kind:
                quote, location, item_codes = item
                speaker, theme = "", location.split(" › ")[-1]
            else:
                quote, location, speaker, theme, item_codes = item
            row = {"quote": quote, "location": location, "kind": "participant" if speaker else "author",
                   "author_theme": theme}
            if speaker:
                row["speaker"] = speaker
            values["findings"].append(row)
            codes.append(item_codes)
        return {**{k: base[k] for k in ("scheme_id", "scheme_name", "reports", "full_text")},
                "values": values, "codes": codes}

    qualitative = {
        "reports": {"file": "qualitative_reports.ris", "source": "Institutional repositories and PIRU website",
                    "source_kind": "website", "search_date": "2020-03-01",
                    # Seeds 000 and 001: one article deposited in two repositories (no shared metadata).
                    "same_study": [["harlock2019_wrap", "harlock2019_kar"]]},
        "coder": "demo",
        "studies": [study(BCF_STUDY, BCF_FINDINGS, False), study(ICSP_STUDY, ICSP_FINDINGS, True)],
        "passages": [{"report": r, "quote": q, "codes": c} for r, q, c in PASSAGES],
        "extracted_barriers": [{"scheme_id": s, "quote": q, "codes": c} for s, q, c in MASON_BARRIERS],
    }
    header = ("# The worked example's qualitative synthesis: made by tools/make_example_qualitative.py.\n"
              "# Quotes are copied from ../shared/seeds (000 for the BCF, 004 for the Pioneers) and checked there.\n")
    (OUT / "qualitative.yaml").write_text(header + yaml.safe_dump(qualitative, sort_keys=False, allow_unicode=True,
                                                                  width=110), encoding="utf-8")
    print(f"wrote {OUT / 'codebook.yaml'} ({len(CODES)} codes) and {OUT / 'qualitative.yaml'} "
          f"({len(BCF_FINDINGS) + len(ICSP_FINDINGS)} findings, {len(PASSAGES)} passages, "
          f"{len(MASON_BARRIERS)} extracted barriers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
