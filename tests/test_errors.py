"""One base error: every expected failure is a WorkbenchError, and the CLI prints `file:line: [field] message`."""

import pytest

from review.clusters import DedupError
from review.errors import WorkbenchError, format_location
from review.extraction import ExtractionError
from review.io.base import ParseError
from review.prisma import PrismaError
from review.project import ReviewError
from review.protocol import ProtocolError
from review.schemes import SchemeError
from review.screening import ScreeningError
from review.store import SchemaError
from review.synthesis import SynthesisError
from review.templates import TemplateError

ERRORS = [
    (ParseError("a.ris", 4, "tag UK outside a record", field="UK"), "a.ris:4: [UK] tag UK outside a record"),
    (ProtocolError("review.yaml", "stages[0].name", "bad", 7), "review.yaml:7: [stages[0].name] bad"),
    (TemplateError("t.yaml", 3, "unknown type"), "t.yaml:3: unknown type"),
    (ScreeningError("no such record", "record_id", file="d.csv", line=9), "d.csv:9: [record_id] no such record"),
    (ScreeningError("reasons go with an exclusion", "reasons"), "[reasons] reasons go with an exclusion"),
    (ReviewError("a new review needs a title"), "a new review needs a title"),
    (SchemaError("too new"), "too new"),
    (DedupError("no such record: 9"), "no such record: 9"),
    (SchemeError("no scheme 'x'"), "no scheme 'x'"),
    (ExtractionError("nothing imported", [("f.csv:2 [year]", "not a number")]),
     "nothing imported\n  f.csv:2 [year]: not a number"),
    (SynthesisError("no domain"), "no domain"),
    (PrismaError("counts do not add up"), "counts do not add up"),
]


@pytest.mark.parametrize("error, described", ERRORS, ids=lambda e: type(e).__name__ if isinstance(e, Exception) else "")
def test_every_error_is_a_workbench_error_with_one_format(error, described):
    assert isinstance(error, WorkbenchError)
    assert error.describe() == described
    # The old bases still hold, so code that caught ValueError or RuntimeError still does.
    assert isinstance(error, (ValueError, RuntimeError))


def test_old_str_forms_are_kept():
    assert str(ParseError("a.ris", 4, "bad")) == "a.ris:4: bad"
    assert str(ProtocolError("review.yaml", "title", "must not be empty", 1)) == "review.yaml:1: title: must not be empty"
    assert str(ScreeningError("reasons go with an exclusion", "reasons")) == "reasons go with an exclusion"
    assert format_location("m") == "m" and format_location("m", "f") == "f: m"


def test_the_cli_prints_location_and_no_traceback(tmp_path, capsys):
    from review.cli import main

    bad = tmp_path / "r"
    bad.mkdir()
    (bad / "review.yaml").write_text("title: T\nstages:\n  - name: ta\n    decisions_required: x\n")
    assert main(["status", str(bad)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "review.yaml:4: [stages[0].decisions_required] 'x' is not of type" in err
    assert "Traceback" not in err
