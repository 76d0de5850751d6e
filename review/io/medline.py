"""PubMed MEDLINE / .nbib: the tagged format PubMed's "Citation manager" exports.

Each line is a tag padded to four characters, a dash and a space (`PMID- 123`,
`AU  - Smith J`); continuation lines start with six spaces; a blank line ends a
record and each record starts with PMID. Web of Science and RIS look similar but
are read by review.io.ris.
"""

from __future__ import annotations

import re

from review.io.base import ParseError, first_value
from review.io.base import refuse_blank, refuse_nul
from review.io.ris import clean_doi, is_number, isbn_of, issn_of, one_line, split_lines, without_gc
from review.records import Reference, normalise_year

FORMAT = "medline"
EXTENSIONS = (".nbib", ".medline", ".txt")

# Reference field -> MEDLINE tags, best first (JT full journal title before TA,
# the abbreviation; BTI is the title of a book).
FIELD_TAGS = {
    "title": ("TI", "BTI", "TT"),
    "year": ("DP",),
    "journal": ("JT", "TA"),
    "volume": ("VI",),
    "issue": ("IP",),
    "pages": ("PG",),
    "abstract": ("AB",),
    "keywords": ("MH", "OT"),
    "publisher": ("PB",),
    "place": ("PL",),
    "serial": ("IS",),
    "isbn": ("ISBN",),
    "language": ("LA",),
    "notes": ("GN",),
}

# Publication types (PT) -> Reference type, checked in this order; a record whose
# PTs match none is a journal article (PubMed's default).
PUBLICATION_TYPES = (
    ("preprint", "preprint"),
    ("dataset", "dataset"),
    ("congress", "conference"),
    ("clinical conference", "conference"),
    ("technical report", "report"),
    ("government publication", "report"),
    ("dissertation", "thesis"),
    ("book chapter", "chapter"),
    ("book", "book"),
    ("webcast", "web"),
)

# Tag shape: up to four capitals/digits padded with spaces, then "-" and a space
# (or end of line for an empty value).
_TAG = re.compile(r"([A-Z][A-Z0-9]{0,3}) *\Z")
_FIRST_TAG = re.compile(r"PMID- ?\d")


def sniff(text: str) -> bool:
    """Whether text starts (after blank lines) with `PMID- `."""
    for line in split_lines(text[:5000]):
        if line.strip():
            return bool(_FIRST_TAG.match(line.lstrip("\ufeff")))
    return False


def split_tag_line(line: str) -> tuple[str, str] | None:
    """(tag, value) when `line` is a MEDLINE tag line, else None."""
    if len(line) < 5 or line[4] != "-" or (len(line) > 5 and line[5] != " "):
        return None
    match = _TAG.match(line[:4])
    if not match:
        return None
    return match.group(1), line[6:].strip()


class _Record:
    """A record being read: its tagged lines in order and where it started."""

    __slots__ = ("line", "fields")

    def __init__(self, line: int):
        self.line = line
        self.fields: list[list[str]] = []  # [tag, value] pairs, values grow with continuations

    def has(self, tag: str) -> bool:
        return any(field[0] == tag for field in self.fields)


def read(text: str, path: str = "<string>", **options) -> list[Reference]:
    """Parse MEDLINE text into References; ParseError names the file and line."""
    refuse_nul(text, path)
    with without_gc():
        records = _parse_records(split_lines(text.lstrip("\ufeff")), path)
        _refuse_truncated(records, text, path)
        return refuse_blank([_to_reference(record) for record in records], path)


def _refuse_truncated(records: list[_Record], text: str, path: str) -> None:
    """MEDLINE has no end-of-record tag, but PubMed ends every record with SO
    (the citation). A last record without SO where the others have one, or in a
    file that stops mid-line, is a file cut short."""
    last = records[-1]
    if last.has("SO"):
        return
    others_have_it = any(record.has("SO") for record in records[:-1])
    cut_mid_line = not text.endswith(("\n", "\r"))
    if others_have_it or cut_mid_line:
        raise ParseError(
            path, last.line, "the record starting here stops before its SO line (file truncated?)", field="SO"
        )


def _parse_records(lines: list[str], path: str) -> list[_Record]:
    records: list[_Record] = []
    current: _Record | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            current = None  # a blank line ends the record
            continue
        tagged = split_tag_line(line)
        if tagged is None:
            if line[0] in " \t":
                if current is None or not current.fields:
                    raise ParseError(path, number, "continuation line outside a record (no tag before it)")
                field = current.fields[-1]
                field[1] = f"{field[1]}\n{line.strip()}" if field[1] else line.strip()
            elif current is not None:
                raise ParseError(path, number, f"neither a MEDLINE tag line nor a continuation: {line[:40]!r}")
            # else: junk between records (headers, notes) is skipped
            continue
        tag, value = tagged
        if not records and current is None and tag == "TY":
            raise ParseError(path, number, "this is RIS text, not MEDLINE; read it with the ris format", field=tag)
        if current is None or (tag == "PMID" and current.has("PMID")):
            current = _Record(number)
            records.append(current)
        current.fields.append([tag, value])
    if not records:
        raise ParseError(path, None, "no MEDLINE records found (no `PMID- ` or other tag lines)")
    return records


def _original(record: _Record) -> dict[str, list[str]]:
    original: dict[str, list[str]] = {}
    for tag, value in record.fields:
        original.setdefault(tag, []).append(value)
    return original


def _first(original: dict[str, list[str]], field: str) -> str:
    return first_value(original, FIELD_TAGS[field])


def _values(original: dict[str, list[str]], field: str) -> list[str]:
    return [value for tag in FIELD_TAGS[field] for value in original.get(tag, ())]


def _all(record: _Record, field: str) -> list[str]:
    tags = FIELD_TAGS[field]
    return [one_line(value) for tag, value in record.fields if tag in tags and value.strip()]


def _authors(record: _Record) -> list[str]:
    """Full names (FAU) where given, else the short AU; corporate authors (CN) in place.

    MEDLINE writes each author as FAU then AU; an AU without an FAU before it
    (older records) stands alone.
    """
    authors: list[str] = []
    full_name_pending = False
    for tag, value in record.fields:
        if tag == "FAU":
            authors.append(one_line(value))
            full_name_pending = True
        elif tag == "AU":
            if not full_name_pending:
                authors.append(one_line(value))
            full_name_pending = False
        elif tag == "CN":
            authors.append(one_line(value))
            full_name_pending = False
    return [a for a in authors if a]


def _doi(original: dict[str, list[str]]) -> str:
    for tag in ("LID", "AID"):
        for value in original.get(tag, ()):
            if value.rstrip().endswith("[doi]"):
                doi = clean_doi(value.rsplit("[", 1)[0])
                if doi:
                    return doi
    return ""


def _type(original: dict[str, list[str]]) -> str:
    kinds = " | ".join(original.get("PT", [])).lower()
    for words, kind in PUBLICATION_TYPES:
        if words in kinds:
            return kind
    if original.get("BTI"):
        return "chapter" if original.get("TI") else "book"
    return "article"


def _journal(original: dict[str, list[str]], kind: str) -> str:
    journal = _first(original, "journal")
    if not journal and kind == "chapter":
        journal = (original.get("BTI") or [""])[0]  # the book a chapter is in
    return one_line(journal)


def _to_reference(record: _Record) -> Reference:
    original = _original(record)
    kind = _type(original)
    pmid = one_line((original.get("PMID") or [""])[0])
    return Reference(
        type=kind,
        title=one_line(_first(original, "title")),
        authors=_authors(record),
        year=normalise_year(_first(original, "year")),
        date=one_line(_first(original, "year")),
        journal=_journal(original, kind),
        volume=one_line(_first(original, "volume")),
        issue=one_line(_first(original, "issue")),
        pages=one_line(_first(original, "pages")),
        doi=_doi(original),
        pmid=pmid if is_number(pmid) and pmid.strip("0") else "",  # PMIDs start at 1
        abstract=one_line(_first(original, "abstract")),
        keywords=_all(record, "keywords"),
        publisher=one_line(_first(original, "publisher")),
        place=one_line(_first(original, "place")),
        issn=issn_of(_values(original, "serial")),
        isbn=isbn_of(_values(original, "isbn")),
        language=one_line(_first(original, "language")),
        notes=_all(record, "notes"),
        source_id=pmid,
        line=record.line,
        original=original,
    )
