"""Tables out of the workbench: CSV (safe to open in a spreadsheet), Markdown and HTML.

Every table the synthesis and PRISMA commands print goes through here, so the
same escaping rules hold everywhere: text in HTML is escaped (scheme names and
titles come from the internet), and a CSV cell that a spreadsheet would run as a
formula is defused.
"""

from __future__ import annotations

import csv
import html
import io
import math
import numbers

import pandas as pd

FORMATS = ("csv", "markdown", "html")
# A cell starting with one of these is run as a formula by Excel, LibreOffice
# and Google Sheets (OWASP "CSV injection"); a leading apostrophe makes it text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """A CSV cell a spreadsheet shows as text: numbers stay numbers, formulas are defused."""
    if value is None or (isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)
                         and math.isnan(value)):
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))  # the shortest text that reads back to the same number
    text = str(value)
    if text.startswith(_FORMULA_START) and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def to_csv(frame: pd.DataFrame, index: bool = True, index_label: str | None = None) -> str:
    """The frame as CSV text with every cell passed through safe_cell."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    header = ([index_label or (frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    writer.writerow([safe_cell(h) for h in header])
    for key, row in zip(frame.index, frame.itertuples(index=False)):
        cells = ([key] if index else []) + list(row)
        writer.writerow([safe_cell(c) for c in cells])
    return buffer.getvalue()


def _markdown_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = str(value) if not isinstance(value, float) else f"{value:.6g}"
    # A pipe would end the cell and a newline the row.
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def to_markdown(frame: pd.DataFrame, index: bool = True, index_label: str | None = None,
                caption: str | None = None, note: str | None = None) -> str:
    """A GitHub-flavoured Markdown table (numbers right-aligned), with an optional caption and note."""
    header = ([index_label or (frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    numeric = ([False] if index else []) + [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    lines = []
    if caption:
        lines += [f"**{_markdown_cell(caption)}**", ""]
    lines.append("| " + " | ".join(_markdown_cell(h) for h in header) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    for key, row in zip(frame.index, frame.itertuples(index=False)):
        cells = ([key] if index else []) + list(row)
        lines.append("| " + " | ".join(_markdown_cell(c) for c in cells) + " |")
    if note:
        lines += ["", _markdown_cell(note)]
    return "\n".join(lines) + "\n"


TABLE_CSS = """
table.review-table { border-collapse: collapse; font-family: Arial, Helvetica, sans-serif; font-size: 13px; }
table.review-table caption { caption-side: top; text-align: left; font-weight: bold; padding: 4px 0; }
table.review-table th, table.review-table td { border: 1px solid #c8c8c8; padding: 3px 8px; }
table.review-table thead th { background: #eef2f7; text-align: center; vertical-align: bottom; }
table.review-table tbody th { text-align: left; font-weight: normal; }
table.review-table td { text-align: right; vertical-align: top; }
table.review-table td.text { text-align: left; }
table.review-table tr.total th, table.review-table tr.total td,
table.review-table td.total, table.review-table th.total { font-weight: bold; background: #f6f6f6; }
p.review-note { font-family: Arial, Helvetica, sans-serif; font-size: 12px; color: #444; max-width: 60em; }
""".strip()


def _html_cell(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        return html.escape(f"{value:.6g}")
    return html.escape(str(value)).replace("\n", "<br>")


def to_html(frame: pd.DataFrame, index: bool = True, index_label: str | None = None,
            caption: str | None = None, note: str | None = None, total_label: str | None = None) -> str:
    """An HTML table (every cell escaped), with caption and a note below; rows/columns named
    `total_label` are styled as totals."""
    parts = ['<table class="review-table">']
    if caption:
        parts.append(f"<caption>{html.escape(caption)}</caption>")
    header = ([index_label or (frame.index.name or "")] if index else []) + [str(c) for c in frame.columns]
    total_class = ' class="total"'
    parts.append("<thead><tr>" + "".join(
        f'<th{total_class if total_label and h == total_label else ""}>{html.escape(h)}</th>'
        for h in header) + "</tr></thead><tbody>")
    total_columns = {i for i, c in enumerate(frame.columns) if total_label and str(c) == total_label}
    for key, row in zip(frame.index, frame.itertuples(index=False)):
        is_total = total_label is not None and str(key) == total_label
        cells = []
        if index:
            cells.append(f"<th>{_html_cell(key)}</th>")
        for i, value in enumerate(row):
            classes = []
            if isinstance(value, str) and not _is_number(value):
                classes.append("text")
            if i in total_columns:
                classes.append("total")
            attr = f' class="{" ".join(classes)}"' if classes else ""
            cells.append(f"<td{attr}>{_html_cell(value)}</td>")
        parts.append(f'<tr{total_class if is_total else ""}>' + "".join(cells) + "</tr>")
    parts.append("</tbody></table>")
    if note:
        parts.append(f'<p class="review-note">{html.escape(note)}</p>')
    return "\n".join(parts)


def render(frame: pd.DataFrame, format: str, **options) -> str:
    """The frame in one of FORMATS (csv takes only index and index_label)."""
    if format == "csv":
        return to_csv(frame, index=options.get("index", True), index_label=options.get("index_label"))
    if format == "markdown":
        return to_markdown(frame, **options)
    if format == "html":
        return to_html(frame, **options)
    raise ValueError(f"unknown table format {format!r} (use {', '.join(FORMATS)})")
