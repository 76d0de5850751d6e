"""Strict reading of the workbench's own CSV inputs: bulk decisions and extractions.

These files are small and typed by hand or saved from a spreadsheet, so the
reader is strict where a lenient one would lose data without a word:

* a quote left open swallows the rows after it into one cell; any cell whose
  continuation lines parse as rows of the header's shape is refused, naming the
  line the quote opened on (and a quote still open at the end of the file);
* a row with more cells than the header is refused (cells would be dropped);
* a NUL byte is refused (it never belongs in a decision or a value);
* a duplicated column name is refused (one of the two would be lost).

A cell that `review.tables.safe_cell` defused on export (`'=...`) is read back
as it was written, so exports round-trip.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from review.errors import WorkbenchError
from review.tables import _FORMULA_START, safe_cell


class RowsError(WorkbenchError, ValueError):
    """A CSV input that cannot be read safely; the message names file and line."""

    def __init__(self, path: str, line: int | None, message: str):
        self.path = str(path)
        super().__init__(message, file=self.path, line=line)


@dataclass(frozen=True)
class Row:
    line: int  # physical line the row starts on
    cells: dict[str, str]  # column -> trimmed value


def read_rows(text: str, path: str) -> tuple[list[str], list[Row]]:
    """(header, rows) from CSV text; RowsError for anything that would lose data."""
    text = text.lstrip("\ufeff")
    nul = text.find("\x00")
    if nul >= 0:
        raise RowsError(path, _line_at(text, nul), "contains a NUL byte (the file is corrupt or not text)")
    physical = _physical_lines(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    parsed: list[tuple[int, list[str]]] = []
    start = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            width = len(parsed[0][1]) if parsed else 0
            _refuse_swallowed_rows(start, reader.line_num, width, path, physical)
            if "end of data" in str(exc) or "EOF" in str(exc):
                raise RowsError(path, start, "a quoted value opened on this line is never closed") from None
            raise RowsError(path, start, f"not valid CSV: {exc}") from None
        end = reader.line_num
        if any(cell.strip() for cell in cells):
            if parsed:
                _refuse_swallowed_rows(start, end, len(parsed[0][1]), path, physical)
            parsed.append((start, cells))
        start = end + 1
    if not parsed:
        return [], []
    header_line, header = parsed[0]
    header = [h.strip() for h in header]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            raise RowsError(path, header_line, f"column {name!r} appears twice in the header")
        seen.add(name)
    rows = []
    for line, cells in parsed[1:]:
        if len(cells) > len(header):
            if any(cell.strip() for cell in cells[len(header):]):
                raise RowsError(path, line, f"row has {len(cells)} cells but the header has {len(header)} columns")
            cells = cells[: len(header)]
        cells = cells + [""] * (len(header) - len(cells))
        rows.append(Row(line, {name: unguard(cell.strip()) for name, cell in zip(header, cells) if name}))
    return header, rows


def spreadsheet_cell(value) -> str:
    """A cell for a CSV meant for spreadsheets: formulas defused (safe_cell) and a
    lone CR made a line break. Python's csv writer does not quote a lone CR when
    the line terminator is LF, and every reader takes it for the end of the row."""
    text = safe_cell(value)
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def unguard(value: str) -> str:
    """Undo safe_cell's apostrophe before a formula character, so exports read back exactly."""
    if len(value) >= 2 and value[0] == "'" and value[1:].startswith(_FORMULA_START):
        return value[1:]
    return value


def _refuse_swallowed_rows(start: int, end: int, width: int, path: str, physical: list[str]) -> None:
    """A row spread over lines start..end is fine (a note with a line break)
    unless one of its continuation lines is itself a row of the header's shape:
    then a closing quote is almost certainly missing and later rows were swallowed."""
    if end <= start or width < 2:
        return
    for number in range(start + 1, min(end, len(physical)) + 1):
        try:
            inner = next(csv.reader([physical[number - 1]]))
        except (csv.Error, StopIteration):
            continue
        if len(inner) >= width and sum(1 for c in inner if c.strip()) >= 2:
            raise RowsError(
                path, start,
                f"a quoted value opened on this line runs on to line {number}, which reads as a row "
                f"of its own: is a closing quote missing? (nothing imported)",
            )


def _physical_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _line_at(text: str, index: int) -> int:
    head = text[:index]
    return head.count("\n") + head.count("\r") - head.count("\r\n") + 1
