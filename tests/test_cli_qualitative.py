"""`review codes` and `review themes`, and the report's qualitative section."""

from __future__ import annotations

import json

import pytest

from review import report
from review.cli import main

import qualitative_fixtures as qf


@pytest.fixture
def folder(tmp_path):
    review = qf.build(tmp_path / "rev")
    qf.code_by_hand(review)
    review.close()
    return tmp_path / "rev"


def test_codes_list_tree_and_json(folder, capsys):
    assert main(["codes", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Managing pooled budgets" in out and "org" in out
    assert main(["codes", str(folder), "tree"]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == ["Organisational issues [org]",
                                                        "  Managing pooled budgets [pool] (barrier, local)"]
    assert main(["codes", str(folder), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in data["codes"]] == ["org", "pool", "geo", "rel", "vision"]
    assert data["codes"][1]["depth"] == 1 and data["levels"] == ["national", "organisational", "local"]


def test_codes_load_rejects_a_cycle_with_file_and_line(folder, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("codes:\n  - code: x\n    label: X\n    parent: y\n  - code: y\n    label: Y\n    parent: x\n",
                   encoding="utf-8")
    assert main(["codes", str(folder), "--load", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {bad}:4: ") and "cycle" in err and "Traceback" not in err
    written = tmp_path / "book.yaml"
    assert main(["codes", str(folder), "--write", str(written)]) == 0
    assert "code: pool" in written.read_text(encoding="utf-8")


def test_themes_by_scheme_country_and_irm_type(folder, capsys):
    assert main(["themes", str(folder), "--by", "scheme"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "code,theme,A,B,C,schemes"
    # union of coders: org on A1, A2, A3 (jc's geo) | B1 | C1 and the passage
    assert lines[1] == "org,Organisational issues,3,1,2,3"
    assert main(["themes", str(folder), "--by", "country", "--format", "markdown"]) == 0
    assert "| code | theme | England | Sweden | schemes |" in capsys.readouterr().out
    assert main(["themes", str(folder), "--by", "irm_type", "--format", "html"]) == 0
    assert "Pooled funds" in capsys.readouterr().out
    assert main(["themes", str(folder), "--quotes", "pool:C", "--format", "csv"]) == 0
    assert "how much money is mine" in capsys.readouterr().out


def test_report_has_a_qualitative_section_only_with_codings(folder, tmp_path):
    from review.project import Review

    with Review.open(folder) as review:
        index = report.write_report(review, tmp_path / "out")
    text = index.read_text(encoding="utf-8")
    assert ">Qualitative synthesis: themes across schemes</h2>" in text
    assert "Agreement between coders" in text
    for name in ("tables/thematic_summary.csv", "tables/themes_by_scheme.md", "tables/themes_by_country.html",
                 "figures/theme_frequency.svg", "tables/coding_agreement.csv"):
        assert (index.parent / name).is_file(), name
    empty = Review.init(tmp_path / "empty", title="Nothing coded")
    try:
        text = report.write_report(empty, tmp_path / "out2").read_text(encoding="utf-8")
    finally:
        empty.close()
    assert "Qualitative synthesis" not in text


def test_themes_json(folder, capsys):
    assert main(["themes", str(folder), "--by", "country", "--coder", "jh", "--json"]) == 0
    rows = {row["code"]: row for row in json.loads(capsys.readouterr().out)}
    assert (rows["org"]["england"], rows["org"]["sweden"], rows["org"]["schemes"]) == (3, 2, 3)
