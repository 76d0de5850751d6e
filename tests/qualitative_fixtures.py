"""A small review for the qualitative tests: three schemes with findings, a codebook, one full text.

Schemes A and B are English, C Swedish; A and C pool funds, B aligns budgets.
The counts the tests expect are worked out by hand in tests/test_themes.py.
"""

from __future__ import annotations

import json
from pathlib import Path

CODEBOOK_YAML = """\
title: Test codebook
levels: [national, organisational, local]
codes:
  - code: org
    label: Organisational issues
    definition: Managing budgets and boundaries.
  - code: pool
    label: Managing pooled budgets
    parent: org
    polarity: barrier
    level: local
  - code: geo
    label: Working across geographical boundaries
    parent: org
    polarity: barrier
  - code: rel
    label: Relational issues
  - code: vision
    label: Shared vision and leadership
    parent: rel
    polarity: facilitator
"""

RIS = """TY  - JOUR
TI  - Challenges in pooled budgets
AU  - Smith, A
PY  - 2019
ER  - 

TY  - JOUR
TI  - Another report
AU  - Jones, B
PY  - 2018
ER  - 
"""

FULL_TEXT = ("Introduction\nPooled budgets are hard to agree.\n\f"
             "Results\nThe money became about how much money is mine and how much is yours.\n")


def _study(scheme_id, name, country, irm, findings):
    return {"scheme_id": scheme_id, "scheme_name": name, "values": {
        "aim": "To study integration", "setting": f"{name} sites", "sample": "Managers",
        "country": country, "irm_type": irm, "data_collection": ["interviews"], "analysis_approach": "thematic",
        "findings": [{"quote": q, "location": loc, "speaker": sp} for q, loc, sp in findings]}}


STUDIES = [
    _study("A", "Alpha", "england", ["pooled_funds"], [
        ("Disaggregating spending was difficult.", "Results, p. 3", "LA manager"),
        ("Risk sharing was contested and the footprint did not match.", "Results, p. 4", ""),
        ("A shared vision made progress possible.", "Results, p. 5", "CCG lead")]),
    _study("B", "Beta", "england", ["aligned_budgets"], [
        ("Trusts served several local authority areas.", "p. 2", ""),
        ("Leaders agreed a common vision.", "p. 3", "")]),
    _study("C", "Gamma", "sweden", ["pooled_funds"], [
        ("Co-financing was hard to set up.", "p. 7", "")]),
]


def build(folder: Path):
    """The review, opened; the caller closes it."""
    from review import codebook, extraction, screening
    from review.project import Review

    review = Review.init(folder, title="Qualitative test review")
    ris = folder / "refs.ris"
    ris.write_text(RIS, encoding="utf-8")
    review.import_file(ris, source="Test database", who="t")
    text = folder / "fulltext.txt"
    text.write_text(FULL_TEXT, encoding="utf-8")
    screening.attach_full_text(review, 1, "fulltext.txt", who="t")
    studies = folder / "studies.json"
    studies.write_text(json.dumps(STUDIES), encoding="utf-8")
    extraction.import_extractions(review, "qualitative_study", studies, who="t")
    book = folder / "codebook.yaml"
    book.write_text(CODEBOOK_YAML, encoding="utf-8")
    codebook.import_file(review, book, who="t")
    return review


def code_by_hand(review):
    """Coder jh codes every finding and one passage; coder jc double-codes five findings."""
    from review import coding

    f = coding.finding
    jh = [(f("A", 1), ["pool"]), (f("A", 2), ["pool", "geo"]), (f("A", 3), ["vision"]),
          (f("B", 1), ["geo"]), (f("B", 2), ["vision"]), (f("C", 1), ["pool"])]
    jc = [(f("A", 1), ["pool"]), (f("A", 2), ["pool"]), (f("A", 3), ["geo"]),
          (f("B", 1), ["geo"]), (f("B", 2), ["vision"])]
    for unit, codes in jh:
        coding.code(review, unit, codes, coder="jh")
    for unit, codes in jc:
        coding.code(review, unit, codes, coder="jc")
    # "how much money is mine" on page 2, for scheme C
    document = __import__("review.passages", fromlist=["x"]).for_record(review, 1)
    page, start, end = document.find("how much money is mine")
    coding.code(review, coding.passage(1, page, start, end), ["pool"], coder="jh", schemes=["C"])


REPO = Path(__file__).resolve().parents[1]


def seed(name: str) -> Path:
    """A seed document under ../shared/seeds, skipping the test when that folder is absent.

    (Not conftest.shared_path: tests/ui has a conftest of its own, and which one
    `import conftest` finds depends on the order tests are collected in.)
    """
    import pytest

    path = REPO.parent / "shared" / "seeds" / name
    if not path.exists():
        pytest.skip(f"needs {path} (the project's ../shared folder), which is not here")
    return path


def minimal_pdf(pages: list[str]) -> bytes:
    """A valid PDF with one line of Helvetica text per page line (for the PDF extraction test)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None, "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    kids = []
    for text in pages:
        lines = text.split("\n")
        ops = ["BT", "/F1 11 Tf", "14 TL", "72 720 Td"]
        for line in lines:
            safe = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
            ops.append(f"({safe}) Tj T*")
        ops.append("ET")
        stream = "\n".join(ops)
        objects.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        content = len(objects)
        objects.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {content} 0 R "
                       f"/Resources << /Font << /F1 3 0 R >> >> >>")
        kids.append(len(objects))
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for i, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode("latin-1")
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode("latin-1")
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode("latin-1")
    return out
