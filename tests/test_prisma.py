"""PRISMA 2020 counts from the log, checked box by box against a small review worked out by hand.

Imports (record ids in order):
  MEDLINE (database)   1 Alpha   2 Beta   3 Gamma   4 Delta
  Embase  (database)   5 Alpha (same DOI as 1)   6 Epsilon
  Trials registry (register)   7 Eta
  Citation searching (citation)   8 Beta (same DOI as 2)   9 Zeta
Deduplication merges 1+5 and 2+8. Main column (databases and registers): clusters 1, 2, 3, 4, 6, 7
from 7 records, so 1 duplicate (record 5); record 8 was found by citation searching too.
Record 4 is marked ineligible by an automation tool, record 7 removed for another reason, so
7 - 1 - 2 = 4 records are screened (1, 2, 3, 6).
Title/abstract: 3 excluded; 1, 2, 6 included; (other methods) 9 included.
Full text: 6 not retrieved; 1 included; 2 excluded (wrong population); 9 included.
Scheme S1 has reports 1 and 9.
"""

import json
import xml.etree.ElementTree as ET

import pytest

from review import prisma, schemes, screening
from review.prisma import PrismaError
from review.project import Review

RIS = {
    "medline.ris": [("Alpha trial of integrated care", "10.1000/alpha"), ("Beta study of pooled budgets", "10.1000/beta"),
                    ("Gamma survey of nurses", "10.1000/gamma"), ("Delta editorial on funding", "10.1000/delta")],
    "embase.ris": [("Alpha trial of integrated care", "10.1000/alpha"), ("Epsilon cohort of care trusts", "10.1000/eps")],
    "registry.ris": [("Eta registered trial of joint commissioning", "")],
    "citations.ris": [("Beta study of pooled budgets", "10.1000/beta"), ("Zeta report on lead commissioning", "")],
}
KINDS = {"medline.ris": ("MEDLINE", "database"), "embase.ris": ("Embase", "database"),
         "registry.ris": ("ClinicalTrials.gov", "register"), "citations.ris": ("Reference lists", "citation")}


def _write_ris(path, items):
    lines = []
    for i, (title, doi) in enumerate(items, start=1):
        lines += ["TY  - JOUR", f"TI  - {title}", f"AU  - Author{i}, A", "PY  - 2010", "JO  - Journal of Care"]
        if doi:
            lines.append(f"DO  - {doi}")
        lines.append("ER  - ")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _both(review, stage, record, decision, reasons=()):
    for reviewer in ("reviewer1", "reviewer2"):
        screening.decide(review, stage, reviewer, record, decision, reasons)


def _imported(path) -> Review:
    review = Review.init(path / "r", title="PRISMA test")
    for name, items in RIS.items():
        _write_ris(path / name, items)
        source, kind = KINDS[name]
        review.import_file(path / name, source=source, source_kind=kind, who="am")
    return review


def _complete(path) -> Review:
    review = _imported(path)
    review.dedupe(who="am", progress=False)
    assert review.cluster_ids()[5] == review.cluster_ids()[1] and review.cluster_ids()[8] == review.cluster_ids()[2]
    screening.remove_before_screening(review, [4], "RobotSearch: not a study", who="am", automated=True)
    screening.remove_before_screening(review, [7], "withdrawn registration", who="am")
    _both(review, "title_abstract", 3, "exclude")
    for record in (1, 2, 6, 9):
        _both(review, "title_abstract", record, "include")
    screening.mark_not_retrieved(review, 6, who="am", note="library could not supply it")
    _both(review, "full_text", 1, "include")
    _both(review, "full_text", 2, "exclude", ["wrong_population"])
    _both(review, "full_text", 9, "include")
    schemes.create_scheme(review, "Study one", who="am", scheme_id="S1")
    schemes.link_reports(review, "S1", [1, 9], who="am")
    return review


@pytest.fixture(scope="module")
def complete(tmp_path_factory):
    review = _complete(tmp_path_factory.mktemp("prisma"))
    yield review
    review.close()


def test_every_box_by_hand(complete):
    counts = prisma.flow(complete).to_json()
    assert counts == {
        "previous_studies": None, "previous_reports": None,
        "database_results": 6, "database_specific_results": {"MEDLINE": 4, "Embase": 2},
        "register_results": 1, "register_specific_results": {"ClinicalTrials.gov": 1},
        "website_results": None, "organisation_results": None, "citations_results": 2,
        "duplicates": 1, "excluded_automatic": 1, "excluded_other": 1,
        "records_screened": 4, "records_excluded": 1,
        "dbr_sought_reports": 3, "dbr_notretrieved_reports": 1,
        "other_sought_reports": 1, "other_notretrieved_reports": 0,
        "dbr_assessed": 2, "dbr_excluded": {"Wrong population": 1},
        "other_assessed": 1, "other_excluded": {},
        "new_studies": 1, "new_reports": 2, "total_studies": 1, "total_reports": 2,
    }


def test_identities_hold_and_boxes_trace_to_records(complete):
    flow = prisma.flow(complete)
    assert flow.failures() == [] and flow.missing == []
    flow.check()
    assert prisma.box(complete, "duplicates", flow)["record_id"].tolist() == [5]
    assert prisma.box(complete, "excluded_automatic", flow)["reason"].tolist() == ["RobotSearch: not a study"]
    assert prisma.box(complete, "excluded_other", flow)["record_id"].tolist() == [7]
    assert prisma.box(complete, "records_excluded", flow)["record_id"].tolist() == [3]
    excluded = prisma.box(complete, "dbr_excluded", flow)
    assert excluded["record_id"].tolist() == [2] and excluded["reason"].tolist() == ["Wrong population"]
    assert excluded["title"].tolist() == ["Beta study of pooled budgets"]
    assert prisma.box(complete, "dbr_notretrieved_reports", flow)["record_id"].tolist() == [6]
    assert prisma.box(complete, "new_reports", flow)["record_id"].tolist() == [1, 9]
    assert prisma.box(complete, "new_studies", flow)["scheme_id"].tolist() == ["S1"]
    assert prisma.box(complete, "database_specific_results", flow)["source"].tolist() == \
        ["MEDLINE"] * 4 + ["Embase"] * 2
    with pytest.raises(PrismaError, match="no PRISMA box 'screened'"):
        prisma.box(complete, "screened", flow)


def test_previous_version_adds_to_totals(complete):
    counts = prisma.flow(complete, previous_studies=10, previous_reports=14).counts
    assert (counts["total_studies"], counts["total_reports"]) == (11, 16)


def test_not_deduplicated_reports_what_is_missing(tmp_path):
    review = _imported(tmp_path)
    flow = prisma.flow(review)
    assert flow.counts["duplicates"] is None
    assert any("deduplication has not been run" in m for m in flow.missing)
    assert any("Title and abstract screening is not finished: 9 records pending" in m for m in flow.missing)
    assert flow.frame().set_index("box").loc["duplicates", "n"] is None
    # Nothing screened: "records excluded + reports sought = records screened" fails with its numbers.
    with pytest.raises(PrismaError) as info:
        flow.check()
    assert "records excluded + reports sought (0) = records screened (7)" in str(info.value)
    review.close()


def test_unfinished_full_text_and_unlinked_reports(tmp_path):
    review = _imported(tmp_path)
    review.dedupe(who="am", progress=False)
    for record in (1, 2, 3, 4, 6, 7, 9):
        _both(review, "title_abstract", record, "include")
    screening.decide(review, "full_text", "reviewer1", 1, "include")
    screening.decide(review, "full_text", "reviewer2", 1, "exclude", ["wrong_population"])  # a conflict
    flow = prisma.flow(review)
    failed = {i.name for i in flow.failures()}
    assert "reports assessed" in failed
    assert any("Full text screening is not finished" in m and "1 conflict unresolved" in m for m in flow.missing)
    assert flow.counts["new_studies"] is None or flow.counts["new_studies"] == 0
    review.close()


def test_no_imports(tmp_path):
    review = Review.init(tmp_path / "r", title="Nothing yet")
    flow = prisma.flow(review)
    assert flow.missing == ["no records have been imported yet (review import)"]
    review.close()


def test_removal_keeps_records_out_of_screening(tmp_path):
    review = _imported(tmp_path)
    screening.remove_before_screening(review, [3], "retracted", who="am")
    with pytest.raises(screening.ScreeningError, match="removed before screening"):
        screening.decide(review, "title_abstract", "reviewer1", 3, "include")
    screening.restore_removed(review, [3], who="am")
    screening.decide(review, "title_abstract", "reviewer1", 3, "include")
    with pytest.raises(screening.ScreeningError, match="has screening decisions"):
        screening.remove_before_screening(review, [3], "retracted", who="am")
    with pytest.raises(screening.ScreeningError, match="say why"):
        screening.remove_before_screening(review, [2], "  ", who="am")
    review.close()


def test_unknown_source_kind_is_refused(tmp_path):
    review = Review.init(tmp_path / "r", title="Kinds")
    _write_ris(tmp_path / "a.ris", RIS["medline.ris"])
    from review.project import ReviewError

    with pytest.raises(ReviewError, match="unknown kind of source 'blog'"):
        review.import_file(tmp_path / "a.ris", source="x", source_kind="blog")
    review.close()


# --- the command line ---------------------------------------------------------------------------


def test_cli_json_csv_svg_and_box(complete, tmp_path, cli):
    result = cli("prisma", complete.path, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["records_screened"] == 4
    svg, csv_file = tmp_path / "flow.svg", tmp_path / "flow.csv"
    result = cli("prisma", complete.path, "--svg", svg, "--csv", csv_file)
    assert result.returncode == 0, result.stderr
    ET.fromstring(svg.read_text(encoding="utf-8"))
    text = csv_file.read_text(encoding="utf-8")
    assert text.startswith("data,node,box,description,boxtext,tooltips,url,n")
    assert "Wrong population, 1" in text
    result = cli("prisma", complete.path, "--box", "records_excluded", "--format", "csv")
    assert result.returncode == 0 and result.stdout.splitlines()[1].startswith("3,Gamma survey of nurses")
    table = cli("prisma", complete.path)
    assert "Records screened" in table.stdout and "FAILS" not in table.stdout


def test_cli_refuses_a_diagram_that_does_not_add_up(tmp_path, cli):
    review = _imported(tmp_path)
    review.close()
    svg = tmp_path / "flow.svg"
    result = cli("prisma", tmp_path / "r", "--svg", svg)
    assert result.returncode == 1 and not svg.exists()
    assert "records excluded + reports sought (0) = records screened (7)" in result.stderr
    assert "missing: deduplication has not been run" in result.stderr
    assert "Traceback" not in result.stderr
    result = cli("prisma", tmp_path / "r", "--json")
    assert result.returncode == 0 and json.loads(result.stdout)["duplicates"] is None


def test_cli_remove_before_screening(tmp_path, cli):
    review = _imported(tmp_path)
    review.close()
    result = cli("screening", "remove", tmp_path / "r", "4", "9", "--reason", "before 1999", "--automated")
    assert result.returncode == 0 and "2 records marked ineligible" in result.stdout
    result = cli("import", tmp_path / "r", tmp_path / "medline.ris", "--source", "X", "--source-kind", "blog")
    assert result.returncode == 2  # argparse names the allowed kinds
