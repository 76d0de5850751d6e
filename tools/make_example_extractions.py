"""Build the worked example's extraction file from the paper's Appendix 2 transcription.

Reads ../shared/examples/mason2014/included_schemes.csv (the 38 included schemes of
Mason et al. 2014) and writes examples/mason2014/irm_schemes.json: one object per
scheme with `scheme_id`, `scheme_name`, `report_source_ids` (the references that
report it) and `values` for the irm_scheme template, the format
`review extract import DIR --template irm_scheme FILE.json` reads.

Run: .venv/bin/python tools/make_example_extractions.py  (needs ../shared)
"""

import csv
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "examples" / "mason2014" / "included_schemes.csv"
OUT = REPO / "examples" / "mason2014" / "irm_schemes.json"


# Names used in the transcription (README §2-§3 of the example) -> irm_scheme codes.
MASON_IRM = {
    "Transfer Payments": "transfer_payments",
    "Cross charging": "cross_charging",
    "Aligned budgets": "aligned_budgets",
    "Lead commissioning": "lead_commissioning",
    "Pooled funds": "pooled_funds",
    "Integrated management /provision without pooled funds": "integrated_without_pooled",
    "Integrated management /provision with pooled funds": "integrated_with_pooled",
    "Structural integration": "structural_integration",
}
MASON_DESIGNS = {
    "Qualitative": "qualitative", "Uncontrolled": "uncontrolled", "Quasi-experimental": "quasi_experimental",
    "Analysis of routine data": "routine_data", "Mixed methods": "mixed_methods", "RCT": "rct",
}
MASON_COUNTRIES = {
    "Australia": "australia", "Canada": "canada", "England": "england", "Northern Ireland": "northern_ireland",
    "Scotland": "scotland", "Sweden": "sweden", "USA": "usa", "Wales": "wales",
}
MASON_DOMAINS = ("health_outcomes", "service_use_costs", "institutional_care", "satisfaction_quality")
# Cells saying the source gives nothing: the special answer "not reported", not text.
MASON_NOTHING = {"not stated", "study duration not stated", "not reported", "not addressed", "none reported"}


def mason_scheme_values(row: dict) -> dict:
    """One row of included_schemes.csv as irm_scheme values (independent of review.templates).

    - domains coded `not_reported` become a row with direction "not reported", so
      every scheme has four outcome rows: "looked, nothing reported" stays explicit;
    - N "a / b" (or "Intervention N=a; comparator N=b") fills n_intervention and
      n_control; "not stated" makes both "not reported"; any other N is kept only
      as printed in sample_description;
    - facilitators, funding sources, measures, kinds of evidence, significance and
      pages are not in the transcription and stay unanswered.
    """
    def text(cell: str):
        cell = cell.strip()
        if not cell:
            return None
        return {"special": "not_reported"} if cell.casefold() in MASON_NOTHING else cell

    def split(cell: str) -> list[str]:
        return [part.strip() for part in cell.split(";") if part.strip()]

    n = row["n_participants"].strip()
    pair = (re.fullmatch(r"(\d+)\s*/\s*(\d+)", n)
            or re.fullmatch(r"Intervention N=(\d+); comparator N=(\d+)", n))
    if pair:
        n_intervention, n_control = int(pair.group(1)), int(pair.group(2))
    elif n.casefold() in MASON_NOTHING:
        n_intervention = n_control = {"special": "not_reported"}
    else:
        n_intervention = n_control = None

    outcomes = []
    for domain in MASON_DOMAINS:
        direction = row[domain]
        outcome = {"domain": domain,
                   "direction": {"special": "not_reported"} if direction == "not_reported" else direction}
        if text(row[f"{domain}_evidence"]) is not None:
            outcome["quote"] = text(row[f"{domain}_evidence"])
        outcomes.append(outcome)

    mapping = row["irm_mapping_note"].strip()
    notes = "; ".join(x for x in (row["coding_notes"].strip(),
                                  "" if mapping == "direct" else f"IRM mapping: {mapping}") if x)
    values = {
        "country": MASON_COUNTRIES[row["country"]],
        "scheme_name": row["scheme_name"],
        "parent_programme": text(row["parent_programme"]),
        "irm_type": [MASON_IRM[name] for name in split(row["irm_category"])],
        "irm_type_as_printed": text(row["irm_category_raw"]),
        "pools_funds": row["pooled_funds_described"],
        "clients": text(row["clients"]),
        "integration_model": text(row["integration_model"]),
        "irm_description": text(row["irm_description"]),
        "study_designs": [MASON_DESIGNS[name] for name in split(row["study_designs"])],
        "study_design_description": text(row["study_design_raw"]),
        "evaluation_duration": text(row["evaluation_duration"]),
        "n_intervention": n_intervention,
        "n_control": n_control,
        "sample_description": text(n),
        "outcomes": outcomes,
        "barriers": text(row["barriers"]),
        "unintended_consequences": text(row["unintended_consequences"]),
        "notes": notes or None,
    }
    return {key: value for key, value in values.items() if value is not None}




def main() -> None:
    with SOURCE.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    schemes = []
    for row in rows:
        refs = [f"mason2014_ref{int(n):03d}" for n in row["reference_numbers"].split(";") if n.strip()]
        schemes.append({"scheme_id": row["scheme_id"], "scheme_name": row["scheme_name"],
                        "report_source_ids": "; ".join(refs), "values": mason_scheme_values(row)})
    OUT.write_text(json.dumps(schemes, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(schemes)} schemes)")


if __name__ == "__main__":
    main()
