"""RIS: the tagged format every database and reference manager exports.

A record runs from `TY  - CODE` to `ER  -`. Each line is a two-character tag, two
spaces, a dash, a space and a value; a line without a tag continues the previous
field. Real exports bend this in known ways, handled here:

* tags written `TY - ` (one space) or with a tab (`A1<TAB>- `): accepted for known
  tags only, so that a continuation line such as "OR - 1.5 (1.1 to 2.0)" stays text;
* an `ER` only ends a record when it is tag-shaped; an abstract line starting
  "ER then" or "ER - positive tumours" is text;
* junk that is not tag-shaped outside records ("1.", "Record #1 of 2",
  "Link to the Ovid Full Text ...") is skipped;
* Ovid writes `NL  - ` after `ER`; such trailer tags belong to the record before;
* a record with an empty `TY` and nothing else (ASReview's type test file) is
  skipped, since it carries nothing.

Web of Science "plain text" (tagged) exports are often saved as .ris. They have
no dashes (`PT J`, `AU Smith, J`, continuation lines indented by three spaces,
`ER`, `EF`). This module detects them (first line `FN ...` or `PT X`) and reads
them with a separate parser, so `read` accepts both; `sniff` claims both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import unquote

from review.io.base import ParseError, first_value, refuse_blank, refuse_nul, without_gc, without_nul
from review.records import Reference, join_pages, normalise_year, split_pages

FORMAT = "ris"
# .txt is shared with MEDLINE; detect_format decides by content first.
EXTENSIONS = (".ris", ".txt", ".ciw")

# --- Data: the RIS vocabulary -------------------------------------------------

# TY codes (RIS specification plus common variants) -> Reference type.
# Codes not listed map to "other".
TYPE_CODES = {
    "JOUR": "article", "JFULL": "article", "ABST": "article", "EJOUR": "article",
    "INPR": "article", "MGZN": "article", "NEWS": "article",
    "BOOK": "book", "EBOOK": "book", "EDBOOK": "book", "SER": "book",
    "CHAP": "chapter", "ECHAP": "chapter",
    "CONF": "conference", "CPAPER": "conference",
    "RPRT": "report", "GOVDOC": "report",
    "THES": "thesis",
    "ELEC": "web", "WEB": "web", "BLOG": "web", "ICOMM": "web",
    "DATA": "dataset", "DBASE": "dataset",
    "UNPB": "preprint",
    # Some tools write EndNote's type names instead of codes.
    "JOURNAL ARTICLE": "article", "ELECTRONIC ARTICLE": "article", "MAGAZINE ARTICLE": "article",
    "NEWSPAPER ARTICLE": "article", "BOOK SECTION": "chapter", "EDITED BOOK": "book",
    "ELECTRONIC BOOK": "book", "CONFERENCE PAPER": "conference", "CONFERENCE PROCEEDINGS": "conference",
    "REPORT": "report", "GOVERNMENT DOCUMENT": "report", "THESIS": "thesis", "WEB PAGE": "web",
    "DATASET": "dataset", "PREPRINT": "preprint",
}

# Reference type -> TY code the writer uses (read back through TYPE_CODES).
WRITE_TYPE_CODES = {
    "article": "JOUR", "book": "BOOK", "chapter": "CHAP", "conference": "CPAPER",
    "report": "RPRT", "thesis": "THES", "web": "ELEC", "dataset": "DATA",
    "preprint": "UNPB", "other": "GEN",
}

# Reference field -> tags that can hold it, best first. Single-valued fields take
# the first non-empty value in this order; list fields collect all, in file order.
# Journal: full names (JF, T2, JO) before abbreviations (JA, J2); BT is the book
# title of a chapter.
FIELD_TAGS = {
    "title": ("TI", "T1", "CT", "BT", "ST"),
    "authors": ("AU", "A1"),
    "year": ("PY", "Y1", "DA"),
    "date": ("DA", "PY", "Y1"),
    "journal": ("JF", "T2", "JO", "JA", "J2", "BT"),
    "volume": ("VL", "VO"),
    "issue": ("IS", "CP"),
    "start_page": ("SP",),
    "end_page": ("EP",),
    "doi": ("DO",),
    "abstract": ("AB", "N2"),
    "keywords": ("KW",),
    "url": ("UR", "L1", "L2", "LK"),
    "publisher": ("PB", "PU"),
    "place": ("CY", "PI", "PP"),
    "serial": ("SN", "BN"),
    "language": ("LA",),
    "notes": ("N1",),
    "source_id": ("ID", "AN"),
}

# Where a DOI may hide when DO is missing: link tags (only doi.org links count)
# and tags some exporters fill with a bare DOI (EBSCO L3, EndNote M3).
DOI_LINK_TAGS = ("UR", "L1", "L2", "L3", "L4", "LK")
BARE_DOI_TAGS = ("L3", "M3")

# A PubMed ID is only taken where the exporting database makes its meaning
# certain: (tag, words of which one must appear in DB/DP). EndNote's PubMed import
# writes AN + DP NLM; Scopus writes the PubMed ID in C2; Embase in C5.
PMID_TAGS = (
    ("AN", ("nlm", "pubmed", "medline")),
    ("C2", ("scopus",)),
    ("C5", ("embase",)),
)

# Tags where a labelled PubMed ID ("PMID: 123", "123 [PMID]") is the record's own:
# notes and custom fields (Dimensions writes "123 [PMID]" in U1).
PMID_LABEL_TAGS = ("N1", "M1", "M2", "M3", "U1", "U2", "U3", "U4", "U5",
                   "C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8")

# Tags that some exporters write after ER; they belong to the record before.
TRAILER_TAGS = frozenset({"NL"})  # Ovid: NLM journal abbreviation

# Tags accepted in the loose shapes (`TY - x`, `A1<TAB>- x`).
KNOWN_TAGS = frozenset(
    "TY ER A1 A2 A3 A4 AB AD AN AU AV BN BT C1 C2 C3 C4 C5 C6 C7 C8 CA CN CP CT CY "
    "DA DB DO DP ED EP ET ID IS J1 J2 JA JF JO KW L1 L2 L3 L4 LA LB LK M1 M2 M3 "
    "N1 N2 NV OP PB PP PY RI RN RP SE SN SP ST T1 T2 T3 TA TI TT U1 U2 U3 U4 U5 "
    "UR VL VO Y1 Y2 J9 JI PU PI PA WE FU FX".split()
)

# --- Line shapes -----------------------------------------------------------------

_UPPER = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UPPER_OR_DIGIT = _UPPER | frozenset("0123456789")
# One space or tabs instead of two; the dash must be followed by space or end.
_LOOSE_TAG = re.compile(r"([A-Z][A-Z0-9])[ \t]{1,4}-(?:[ \t]+(.*))?\Z")
_STRICT_TY = re.compile(r"^\ufeff?TY  - ", re.MULTILINE)
_LOOSE_TY = re.compile(r"^\ufeff?TY[ \t]{1,4}-[ \t]+[A-Za-z]", re.MULTILINE)
_WOS_FIRST = re.compile(r"(?:FN |PT [A-Z]\s*$)")
_MEDLINE_FIRST = re.compile(r"PMID- ?\d")

_DOI = re.compile(r"10\.\d{4,9}/\S+")
_DOI_URL = re.compile(r"^https?://(?:dx\.)?(?:www\.)?doi\.org/(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_BARE_DOI = re.compile(r"^(?:doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
# "PMID: 123" (Zotero's Extra, notes) or "123 [PMID]" (Dimensions' U1).
_PMID_VALUE = re.compile(
    r"^(?:PMID(?::\s*|\s+)(\d{1,9})|(\d{1,9})\s*\[PMID\])$", re.IGNORECASE | re.ASCII
)
# An Ovid MEDLINE link names the PubMed ID as its accession number.
_OVID_MEDLINE_LINK = re.compile(r"ovid.*[?&]D=med[a-z0-9]*&.*\bAN=(\d{1,9})\b", re.IGNORECASE | re.ASCII)
_SERIAL_TOKEN = re.compile(r"[\s;,]+")
_ISSN = re.compile(r"(\d{4})-?(\d{3}[\dX])", re.ASCII)
_ISBN = re.compile(r"\d{9}[\dX]|\d{13}", re.ASCII)
_URL_SEPARATOR = re.compile(r"[\s;]+")


def split_tag_line(line: str) -> tuple[str, str] | None:
    """(tag, value) when `line` is a RIS tag line, else None.

    The exact shape `XX  - value` is checked by slicing (fast; most lines); the
    loose shapes go through a regex and count only for known tags.
    """
    if (
        len(line) >= 5
        and line[2:5] == "  -"
        and line[0] in _UPPER
        and line[1] in _UPPER_OR_DIGIT
        and (len(line) == 5 or line[5] in " \t")
    ):
        return line[:2], line[6:].strip()
    if len(line) < 4 or line[0] not in _UPPER:
        return None
    match = _LOOSE_TAG.match(line)
    if not match or match.group(1) not in KNOWN_TAGS:
        return None
    tag, value = match.group(1), (match.group(2) or "").strip()
    if tag == "ER" and value:
        # "ER - positive tumours" in an abstract is text, not an end of record.
        return None
    return tag, value


def split_lines(text: str) -> list[str]:
    """Lines without their endings; handles LF, CRLF and old Mac CR files.

    str.splitlines is not used: it also splits on form feeds and U+2028, which
    turn up inside abstracts and would shift line numbers.
    """
    if "\r" in text:
        # A lone CR ends a line even in a file that also has LF: old Mac exports
        # pasted into a newer file would otherwise hide a whole record in a value.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def sniff(text: str) -> bool:
    """Whether text is RIS (or Web of Science tagged text, which `read` also takes)."""
    head = text[:20000].lstrip("\ufeff")
    if _looks_like_wos(head):
        return True
    return bool(_STRICT_TY.search(head) or _LOOSE_TY.search(head))


# --- Reading RIS ---------------------------------------------------------------


def read(text: str, path: str = "<string>", warnings: list[str] | None = None, **options) -> list[Reference]:
    """Parse RIS (or Web of Science tagged text) into References.

    Raises ParseError naming the file and line for anything malformed. Records
    skipped on purpose (an empty `TY` block) are reported in `warnings` when a
    list is given. Other options are accepted for the common reader interface.
    """
    text = text.lstrip("\ufeff")
    refuse_nul(text, path)
    if _looks_like_medline(text):
        raise ParseError(path, 1, "this is PubMed MEDLINE (nbib) text, not RIS; read it with the medline format")
    with without_gc():
        if _looks_like_wos(text):
            return refuse_blank(read_wos(text, path), path)
        records = _parse_records(split_lines(text), path, warnings)
        return refuse_blank([_to_reference(original, line) for original, line in records], path)


class _Record:
    """A record being read: its fields in file order and where it started."""

    __slots__ = ("line", "original", "last_tag")

    def __init__(self, line: int):
        self.line = line
        self.original: dict[str, list[str]] = {}
        self.last_tag = ""

    def add(self, tag: str, value: str) -> None:
        self.original.setdefault(tag, []).append(value)
        self.last_tag = tag

    def continue_field(self, text: str) -> None:
        values = self.original[self.last_tag]
        values[-1] = f"{values[-1]}\n{text}" if values[-1] else text


def iter_read(lines: Iterable[str], path: str = "<string>", warnings: list[str] | None = None) -> Iterator[Reference]:
    """References one at a time from an iterable of lines (without line endings).

    For files too large to hold in memory: the caller streams lines from disk and
    stores each batch as it comes. Same rules and errors as `read` (RIS only; Web
    of Science and MEDLINE text are for `read`). The "no records" error comes
    after the last line, so a caller writing as it goes must do so in a
    transaction it can roll back.
    """
    count = 0
    for original, line in _records(lines, path, warnings):
        reference = _to_reference(original, line)
        refuse_blank([reference], path)
        count += 1
        yield reference
    if not count:
        raise ParseError(path, None, "no RIS records found (no TY ... ER blocks)")


def _parse_records(
    lines: list[str], path: str, warnings: list[str] | None = None
) -> list[tuple[dict[str, list[str]], int]]:
    records = list(_records(lines, path, warnings))
    if not records:
        raise ParseError(path, None, "no RIS records found (no TY ... ER blocks)")
    return records


def _records(
    lines: Iterable[str], path: str, warnings: list[str] | None = None
) -> Iterator[tuple[dict[str, list[str]], int]]:
    """Group lines into records: (original fields, line of TY), one at a time.

    This loop runs once per line of files with millions of lines, so the exact
    tag shape is tested inline (as in split_tag_line) and the record is kept in
    local variables rather than an object.
    """
    original: dict[str, list[str]] | None = None  # the open record's fields
    start = 0  # line of its TY
    values: list[str] = []  # the values of the last tag, which continuations extend
    closed: dict[str, list[str]] | None = None  # the record the last ER closed
    closed_start = 0
    ready: tuple[dict[str, list[str]], int] | None = None  # closed, but trailer tags may still follow
    upper, upper_or_digit = _UPPER, _UPPER_OR_DIGIT
    for number, line in enumerate(lines, start=1):
        if (
            line[2:5] == "  -"
            and line[:1] in upper
            and line[1] in upper_or_digit
            and (len(line) == 5 or line[5] in " \t")
        ):
            tag, value = line[:2], line[6:].strip()
        else:
            tagged = split_tag_line(line) if line[:1] in upper else None
            if tagged is None:
                if original is not None:
                    text = line.strip()
                    if text:
                        values[-1] = f"{values[-1]}\n{text}" if values[-1] else text
                # outside a record: header junk, numbering, "Link to ..." lines
                continue
            tag, value = tagged
        if original is None:
            if tag == "TY":
                if ready is not None:
                    yield ready
                    ready = None
                original, start = {"TY": [value]}, number
                values = original["TY"]
            elif tag in TRAILER_TAGS and closed is not None:
                closed.setdefault(tag, []).append(value)
            elif closed is None:
                raise ParseError(path, number, f"tag {tag} before the first record (no TY yet)", field=tag)
            else:
                raise ParseError(
                    path, number,
                    f"tag {tag} outside a record (after the ER that closed the record at line {closed_start})",
                    field=tag,
                )
        elif tag == "ER":
            if not _is_empty_record(original):
                _check_type(original, start, path)
                ready = (original, start)
            elif warnings is not None:
                warnings.append(f"{path}:{start}: empty record (blank TY, no fields) skipped")
            closed, closed_start, original = original, start, None
        elif tag == "TY":
            raise ParseError(
                path, number,
                f"a new record (TY) starts before the record at line {start} was closed with ER",
                field="TY",
            )
        else:
            values = original.get(tag)
            if values is None:
                values = original[tag] = []
            values.append(value)
    if original is not None:
        raise ParseError(path, start, "the record starting here has no ER (file truncated?)", field="ER")
    if ready is not None:
        yield ready


def _is_empty_record(original: dict[str, list[str]]) -> bool:
    return len(original) == 1 and not original["TY"][0]


def _check_type(original: dict[str, list[str]], line: int, path: str) -> None:
    if not original["TY"][0]:
        raise ParseError(path, line, "record has no type (TY is empty)", field="TY")


def not_plain_ris(head: str) -> bool:
    """Whether text that sniffs as RIS is Web of Science or MEDLINE text (which
    only `read` handles), judging by its first line."""
    return _looks_like_wos(head) or _looks_like_medline(head)


def _looks_like_wos(text: str) -> bool:
    first = _first_line(text)
    return bool(_WOS_FIRST.match(first))


def _looks_like_medline(text: str) -> bool:
    return bool(_MEDLINE_FIRST.match(_first_line(text)))


def _first_line(text: str) -> str:
    for line in split_lines(text[:5000]):
        if line.strip():
            return line.lstrip("\ufeff")
    return ""


# --- Mapping RIS fields to a Reference -----------------------------------------


def _first(original: dict[str, list[str]], field: str) -> str:
    """The first non-empty value among the field's tags, in preference order."""
    return first_value(original, FIELD_TAGS[field])


def _all(original: dict[str, list[str]], field: str) -> list[str]:
    """Every non-empty value of the field's tags, in file order across tags."""
    tags = FIELD_TAGS[field]
    if len(tags) == 1:
        return [v for v in original.get(tags[0], ()) if v]
    # dicts keep insertion order, which is the order tags first appeared
    return [v for tag, values in original.items() if tag in tags for v in values if v]


def one_line(value: str) -> str:
    """A wrapped value on one line (titles, journal names, authors)."""
    return " ".join(value.split())


def _to_reference(original: dict[str, list[str]], line: int) -> Reference:
    code = original["TY"][0].strip().upper()
    year_text = _first(original, "year")
    return Reference(
        type=TYPE_CODES.get(code, "other"),
        title=one_line(_first(original, "title")),
        authors=[one_line(a) for a in _all(original, "authors")],
        year=normalise_year(year_text),
        date=_date(original),
        journal=one_line(_first(original, "journal")),
        volume=one_line(_first(original, "volume")),
        issue=one_line(_first(original, "issue")),
        pages=_pages(_first(original, "start_page"), _first(original, "end_page")),
        doi=_doi(original),
        pmid=_pmid(original),
        abstract=_first(original, "abstract"),
        keywords=split_keywords(_all(original, "keywords")),
        url=_url(_first(original, "url")),
        publisher=one_line(_first(original, "publisher")),
        place=one_line(_first(original, "place")),
        issn=issn_of(_all(original, "serial")),
        isbn=isbn_of(_all(original, "serial")),
        language=one_line(_first(original, "language")),
        notes=_all(original, "notes"),
        source_id=one_line(_first(original, "source_id")),
        line=line,
        original=original,
    )


def _date(original: dict[str, list[str]]) -> str:
    """The most complete date given: the first with a year ('2019/05/01', '2019')."""
    candidates = [v for tag in FIELD_TAGS["date"] for v in original.get(tag, ()) if v]
    for value in candidates:
        if normalise_year(value):
            return one_line(value).rstrip("/")
    return one_line(candidates[0]).rstrip("/") if candidates else ""


def _pages(start: str, end: str) -> str:
    start, end = one_line(start), one_line(end)
    if start.lower() == "no" and end.lower() == "specified":
        return ""  # Ovid writes SP "No" / EP "Specified" when pages are unknown
    if "-" in start and (not end or start.endswith(end)):
        return start  # SP already holds the range, e.g. "383-98"
    return join_pages(start, end)


def split_keywords(values: Iterable[str]) -> list[str]:
    """One keyword per entry; EndNote puts several in one KW, one per line."""
    keywords = []
    for value in values:
        for part in value.split("\n"):
            part = one_line(part)
            if part:
                keywords.append(part)
    return keywords


def clean_doi(value: str) -> str:
    """The DOI inside a value ('https://doi.org/10.1/x', 'doi:10.1/x'), case kept; '' if none."""
    if not value:
        return ""
    if "%2" in value or "%3" in value:
        value = unquote(value)
    match = _DOI.search(value)
    return match.group(0).rstrip(".,;)]") if match else ""


def _doi(original: dict[str, list[str]]) -> str:
    for value in original.get("DO", ()):
        doi = clean_doi(value)
        if doi:
            return doi
    # Only unambiguous places: doi.org links, or a tag holding nothing but a DOI.
    for tag in DOI_LINK_TAGS:
        for value in original.get(tag, ()):
            for part in value.split():
                match = _DOI_URL.match(part.strip(";,"))
                if match:
                    return clean_doi(match.group(1))
    for tag in BARE_DOI_TAGS:
        for value in original.get(tag, ()):
            match = _BARE_DOI.match(value.strip())
            if match:
                return clean_doi(match.group(1))
    return ""


def _pmid(original: dict[str, list[str]]) -> str:
    databases = " ".join(original.get("DB", []) + original.get("DP", [])).lower()
    for tag, words in PMID_TAGS:
        if any(word in databases for word in words):
            for value in original.get(tag, ()):
                if is_number(value.strip()):
                    return value.strip().lstrip("0")
    for tag in ("UR", "L1", "L2"):
        for value in original.get(tag, ()):
            if "ovid" in value.lower():
                match = _OVID_MEDLINE_LINK.search(value)
                if match:
                    return match.group(1)
    # A value (or line of one) that is nothing but a labelled PMID; a PMID inside
    # longer text is usually a cited reference, so it does not count.
    for tag in PMID_LABEL_TAGS:
        for value in original.get(tag, ()):
            if "PMID" in value or "pmid" in value:
                for part in value.split("\n"):
                    match = _PMID_VALUE.match(part.strip())
                    if match:
                        return match.group(1) or match.group(2)
    return ""


def is_number(text: str) -> bool:
    """ASCII digits only (str.isdigit also accepts '²' and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def _url(value: str) -> str:
    """The first URL of a value that may hold several ('a; b' or one per line)."""
    for part in _URL_SEPARATOR.split(value):
        if part:
            return part
    return ""


def _serial_tokens(values: Iterable[str]) -> Iterable[str]:
    for value in values:
        for token in _SERIAL_TOKEN.split(value.upper()):
            token = token.strip("()[]")
            if token:
                yield token


def issn_of(values: Iterable[str]) -> str:
    """The first ISSN among SN-like values, as NNNN-NNNN ('' if none)."""
    for token in _serial_tokens(values):
        if len(token.replace("-", "")) == 8:
            match = _ISSN.fullmatch(token)
            if match:
                return f"{match.group(1)}-{match.group(2)}"
    return ""


def isbn_of(values: Iterable[str]) -> str:
    """The first ISBN (10 or 13 digits, hyphens allowed) among SN-like values."""
    for token in _serial_tokens(values):
        if _ISBN.fullmatch(token.replace("-", "")):
            return token
    return ""


# --- Web of Science tagged text ----------------------------------------------------

# WoS tags -> Reference fields, best first (AF full names before AU short ones;
# SO is the full journal name, J9/JI abbreviations).
WOS_FIELD_TAGS = {
    "title": ("TI",),
    "authors": ("AF", "AU"),
    "year": ("PY", "PD"),
    "date": ("PD", "PY"),
    "journal": ("SO", "SE", "J9", "JI"),
    "volume": ("VL",),
    "issue": ("IS",),
    "start_page": ("BP", "AR"),
    "end_page": ("EP",),
    "doi": ("DI", "D2"),
    "pmid": ("PM",),
    "abstract": ("AB",),
    "keywords": ("DE", "ID"),
    "publisher": ("PU",),
    "place": ("PI",),
    "serial": ("SN", "EI", "BN"),
    "language": ("LA",),
    "source_id": ("UT", "AN"),
}

# WoS document type (DT) words and publication type (PT) codes -> Reference type.
WOS_DOCUMENT_TYPES = (
    ("proceedings paper", "conference"), ("meeting", "conference"),
    ("book chapter", "chapter"), ("book review", "article"), ("book", "book"),
    ("data paper", "article"), ("data set", "dataset"), ("thesis", "thesis"),
    ("dissertation", "thesis"), ("report", "report"),
)
WOS_PUBLICATION_TYPES = {"J": "article", "B": "book", "S": "book", "C": "conference", "P": "other"}

_WOS_HEADER_TAGS = frozenset({"FN", "VR"})


def read_wos(text: str, path: str = "<string>") -> list[Reference]:
    """Parse Web of Science plain-text (tagged) export: PT ... ER, ended by EF."""
    records: list[tuple[dict[str, list[str]], int]] = []
    current: _Record | None = None
    last_line = 0
    for number, line in enumerate(split_lines(text.lstrip("\ufeff")), start=1):
        if not line.strip():
            continue
        if line.startswith("   ") or line[:1] == "\t":
            if current is None or not current.last_tag:
                raise ParseError(path, number, "continuation line outside a record")
            current.continue_field(line.strip())
            continue
        tag, value = line[:2], line[3:].strip()
        if not _is_wos_tag_line(line):
            raise ParseError(path, number, f"not a Web of Science tag line: {line[:40]!r}")
        if current is None:
            if tag == "PT":
                current = _Record(number)
                current.add(tag, value)
            elif tag in _WOS_HEADER_TAGS or tag == "EF":
                pass
            else:
                where = f"after the ER at line {last_line}" if last_line else "before the first PT"
                raise ParseError(path, number, f"tag {tag} outside a record ({where})", field=tag)
        elif tag == "ER":
            records.append((current.original, current.line))
            current, last_line = None, number
        elif tag == "PT":
            raise ParseError(
                path, number,
                f"a new record (PT) starts before the record at line {current.line} was closed with ER",
                field="PT",
            )
        else:
            current.add(tag, value)
    if current is not None:
        raise ParseError(path, current.line, "the record starting here has no ER (file truncated?)", field="ER")
    if not records:
        raise ParseError(path, None, "no Web of Science records found (no PT ... ER blocks)")
    return [_wos_reference(original, line) for original, line in records]


def _is_wos_tag_line(line: str) -> bool:
    """`XX value` or a bare `XX` (ER, EF)."""
    return (
        len(line) >= 2
        and line[0] in _UPPER
        and line[1] in _UPPER_OR_DIGIT
        and (len(line) == 2 or line[2] == " ")
    )


def _wos_first(original: dict[str, list[str]], field: str) -> str:
    for tag in WOS_FIELD_TAGS[field]:
        for value in original.get(tag, ()):
            if value:
                return value
    return ""


def _wos_list(original: dict[str, list[str]], tag: str) -> list[str]:
    """Values one per line: WoS continues a list (AU, AF) on indented lines."""
    return [one_line(v) for value in original.get(tag, ()) for v in value.split("\n") if v.strip()]


def _wos_keywords(original: dict[str, list[str]]) -> list[str]:
    keywords = []
    for tag in WOS_FIELD_TAGS["keywords"]:
        for value in original.get(tag, ()):
            keywords.extend(k for k in (one_line(p) for p in value.replace("\n", " ").split(";")) if k)
    return keywords


def _wos_type(original: dict[str, list[str]]) -> str:
    document = " ".join(original.get("DT", [])).lower()
    for words, kind in WOS_DOCUMENT_TYPES:
        if words in document:
            return kind
    code = (original.get("PT") or [""])[0].strip().upper()
    return WOS_PUBLICATION_TYPES.get(code, "other")


def _wos_date(original: dict[str, list[str]]) -> str:
    """PD ('MAR 15') with the year from PY when PD lacks one."""
    day, year = one_line(_wos_first(original, "date")), one_line(_wos_first(original, "year"))
    if day and year and not normalise_year(day):
        return f"{year} {day}"
    return day or year


def _wos_reference(original: dict[str, list[str]], line: int) -> Reference:
    authors = next((names for tag in WOS_FIELD_TAGS["authors"] if (names := _wos_list(original, tag))), [])
    pmid = one_line(_wos_first(original, "pmid"))
    serials = [v for tag in WOS_FIELD_TAGS["serial"] for v in original.get(tag, ())]
    return Reference(
        type=_wos_type(original),
        title=one_line(_wos_first(original, "title")),
        authors=authors,
        year=normalise_year(_wos_first(original, "year")),
        date=_wos_date(original),
        journal=one_line(_wos_first(original, "journal")),
        volume=one_line(_wos_first(original, "volume")),
        issue=one_line(_wos_first(original, "issue")),
        pages=_pages(_wos_first(original, "start_page"), one_line(_wos_first(original, "end_page"))),
        doi=clean_doi(_wos_first(original, "doi")),
        pmid=pmid if is_number(pmid) else "",
        abstract=one_line(_wos_first(original, "abstract")),
        keywords=_wos_keywords(original),
        publisher=one_line(_wos_first(original, "publisher")),
        place=one_line(_wos_first(original, "place")),
        issn=issn_of(serials),
        isbn=isbn_of(serials),
        language=one_line(_wos_first(original, "language")),
        source_id=one_line(_wos_first(original, "source_id")),
        line=line,
        original=original,
    )


# --- Writing RIS -------------------------------------------------------------------


def write(references: Iterable[Reference]) -> str:
    """RIS text (LF line endings) for the references' display fields.

    The PubMed ID goes where EndNote's PubMed import puts it, AN with DP NLM, which
    `read` takes back; source_id goes to ID. Text is kept exactly (this is for
    machines, not spreadsheets: no formula guard), except that a NUL never leaves.
    """
    return without_nul("".join(_write_record(ref) for ref in references))


def _write_record(ref: Reference) -> str:
    lines = [_tag_line("TY", WRITE_TYPE_CODES.get(ref.type, "GEN"))]
    _add(lines, "ID", one_line(ref.source_id))
    _add(lines, "TI", one_line(ref.title))
    for author in ref.authors:
        _add(lines, "AU", one_line(author))
    _add(lines, "PY", str(ref.year) if ref.year else "")
    _add(lines, "DA", one_line(ref.date))
    _add(lines, "T2", one_line(ref.journal))
    _add(lines, "VL", one_line(ref.volume))
    _add(lines, "IS", one_line(ref.issue))
    start, end = split_pages(one_line(ref.pages))
    _add(lines, "SP", start)
    _add(lines, "EP", end)
    _add(lines, "DO", one_line(ref.doi))
    if ref.pmid:
        _add(lines, "AN", one_line(ref.pmid))
        _add(lines, "DP", "NLM")
    _add(lines, "AB", ref.abstract)
    for keyword in ref.keywords:
        _add(lines, "KW", one_line(keyword))
    _add(lines, "UR", one_line(ref.url))
    _add(lines, "PB", one_line(ref.publisher))
    _add(lines, "CY", one_line(ref.place))
    _add(lines, "SN", one_line(ref.issn))
    _add(lines, "SN", one_line(ref.isbn))
    _add(lines, "LA", one_line(ref.language))
    for note in ref.notes:
        _add(lines, "N1", note)
    lines.append("ER  - ")
    return "\n".join(lines) + "\n\n"


def _add(lines: list[str], tag: str, value: str) -> None:
    if value and value.strip():
        lines.append(_tag_line(tag, value))


def _tag_line(tag: str, value: str) -> str:
    """`XX  - value`; a multi-line value continues on untagged lines.

    A continuation line that would read back as a tag (or is blank) is guarded:
    blank lines are dropped and a tag-shaped line gets a leading space, which
    the reader strips.
    """
    first, *rest = [part.strip() for part in split_lines(value.strip())]
    out = [f"{tag}  - {first}"]
    for part in rest:
        if not part:
            continue
        out.append(f" {part}" if split_tag_line(part) else part)
    return "\n".join(out)
