"""Build examples/mason2014/screening_decisions.csv from the paper's own data.

Mason et al. (2014) report the outcome of screening by scheme (Appendix 2:
included schemes and their references; Appendix 3: excluded schemes with
reasons). Read at report level:
  - a reference of an included scheme was included at title/abstract and full text;
  - a reference only of excluded schemes was included at title/abstract and
    excluded at full text, with its first scheme's ticked reasons (in Appendix 3's
    column order, so the first is the primary reason);
  - any other reference (background literature) was excluded at title/abstract.
The paper reports decisions reached by discussion, not each reviewer's own, so
both reviewers (am, mg) are given the agreed decision.

Run: .venv/bin/python tools/make_example_decisions.py  (needs ../shared)
"""

import csv
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "examples" / "mason2014"
OUT = REPO / "examples" / "mason2014" / "screening_decisions.csv"
REASON_COLUMNS = [("reason_health_care_only", "health_care_only"), ("reason_social_care_only", "social_care_only"),
                  ("reason_no_financial_integration", "no_financial_integration"), ("reason_other", "other")]


def numbers(cell: str) -> list[int]:
    return [int(x) for x in (cell or "").split(";") if x.strip()]


def main() -> None:
    included: set[int] = set()
    with open(SOURCE / "included_schemes.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            included.update(numbers(row["reference_numbers"]))
    excluded: dict[int, tuple[str, list[str]]] = {}
    with open(SOURCE / "excluded_schemes.csv", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            reasons = [code for column, code in REASON_COLUMNS if row[column].strip() == "1"]
            for n in numbers(row["reference_numbers"]):
                excluded.setdefault(n, (row["scheme_name"], reasons))
    rows = []
    for n in range(1, 184):
        source_id = f"mason2014_ref{n:03d}"
        for reviewer in ("am", "mg"):
            if n in included:
                rows.append([source_id, "title_abstract", reviewer, "include", "", ""])
                rows.append([source_id, "full_text", reviewer, "include", "", ""])
            elif n in excluded:
                scheme, reasons = excluded[n]
                rows.append([source_id, "title_abstract", reviewer, "include", "", ""])
                rows.append([source_id, "full_text", reviewer, "exclude", ";".join(reasons),
                             f"scheme excluded: {scheme}"])
            else:
                rows.append([source_id, "title_abstract", reviewer, "exclude", "", "background literature"])
    with open(OUT, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["source_id", "stage", "reviewer", "decision", "reasons", "note"])
        writer.writerows(rows)
    print(f"wrote {OUT} ({len(rows)} decisions)")


if __name__ == "__main__":
    main()
