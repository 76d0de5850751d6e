"""CSV / TSV reader and writer.

Every database, reference manager and screening tool names its columns
differently; COLUMNS below lists, per Reference field, the headers seen in real
exports (Lens, Scopus, Web of Science tab-delimited, Embase, CINAHL, Cochrane
CENTRAL, PubMed, OpenAlex, Google Scholar, Zotero, RefWorks, Covidence, Rayyan,
Abstrackr, ASReview, bib-dedupe/ASySD benchmark files). A header is matched ignoring case and
surrounding/repeated spaces; the first listed header that the file has wins.

Author cells come in several shapes; `split_authors` documents the rule.
"""

from __future__ import annotations

import ast
import csv
import io
import re
from dataclasses import dataclass

from review.io.base import ParseError, without_gc
from review.records import CSV_FIELDS, DISPLAY_FIELDS, REFERENCE_TYPES, Reference, join_pages, normalise_year

FORMAT = "csv"
EXTENSIONS = (".csv", ".tsv", ".tab")

# Reference field (or a helper field) -> header names used by real exports, most
# specific first. Data, not code: add a tool's header here to support it.
COLUMNS: dict[str, tuple[str, ...]] = {
    "title": (
        "title", "Article Title", "Document Title", "TI", "Title Primary", "T1", "primary_title",
        "display_name",
    ),
    "authors": (
        "authors", "Author", "Author/s", "Author(s)", "Author Names", "Author Full Names", "AU", "AF",
        "A1", "Authors, Primary", "first_authors", "authorships.author.display_name",
        "authorships.raw_author_name",
    ),
    "year": ("year", "Publication Year", "Published Year", "PY", "PubYear", "Pub Year", "publication_year", "Y1"),
    "date": (
        "date", "Date Published", "Publication Date", "Date of Publication", "publication_date", "DA",
        "Pub Date Free From",
    ),
    "journal": (
        "journal", "Source title", "Journal/Book", "Publication Title", "Journal Title", "SO", "JO", "JF", "T2",
        "Periodical Full", "PublicationName", "Publication", "secondary_title", "journal_name",
        "primary_location.source.display_name", "Source",
    ),
    "volume": ("volume", "VL", "biblio.volume"),
    "issue": ("issue", "Issue Number", "IS", "number", "biblio.issue"),
    "pages": ("pages", "PG"),
    "page_start": (
        "Start Page", "Page start", "First Page", "BP", "SP", "start_page", "biblio.first_page",
    ),
    "page_end": ("End Page", "Page end", "Last Page", "EP", "end_page", "biblio.last_page", "Other Pages"),
    "doi": ("doi", "DI", "DO", "ids.doi"),
    "pmid": ("pmid", "PubMed ID", "pubmed id", "pubmed_id", "pubmedID", "PM", "ids.pmid"),
    "abstract": ("abstract", "AB", "Abstract Note", "N2"),
    "keywords": (
        "Author Keywords", "keywords", "DE", "KW", "Manual Tags", "Subjects", "Index Keywords",
        "keywords.display_name", "MeSH Terms",
    ),
    "url": (
        "url", "Link", "UR", "External URL", "Source URLs", "PLink", "Links", "Open URL Link",
        "primary_location.landing_page_url", "L2",
    ),
    "publisher": ("publisher", "PB", "Book Publisher", "primary_location.source.host_organization_name"),
    # Not Rayyan's "location": it holds the corresponding author's address.
    "place": ("place", "Place Of Publication", "Place Published", "place_published", "CY", "PI"),
    "issn": ("issn", "ISSNs", "primary_location.source.issn_l"),
    "isbn": ("isbn", "BN"),
    "issn_or_isbn": ("ISSN/ISBN", "SN"),
    "language": ("language", "LA", "Language of Original Document", "Output Language"),
    "type": (
        "type", "Document Type", "Publication Type", "Item Type", "Reference Type", "ReferenceType",
        "Doctype", "type_of_reference", "TY", "PT", "ENTRYTYPE", "type_crossref",
    ),
    "notes": ("notes", "note", "N1"),
    "extra": ("Extra",),
    # "record_id" is deliberately absent: it is this workbench's own id. A WoS
    # "UT" comes before "ID", because in WoS exports ID holds Keywords Plus.
    "source_id": (
        "source_id", "UT (Unique WOS ID)", "UT", "ID", "Key", "Accession Number", "EID", "Covidence #",
        "Lens ID", "CENTRAL ID", "Reference Id", "(internal) id", "openalex_id", "PMID",
    ),
}

# Fields a caller's `mapping` may name besides the display fields.
HELPER_FIELDS = ("page_start", "page_end", "issn_or_isbn", "extra", "source_id")
# Columns written after the caller's extra columns.
WRITE_COLUMNS = CSV_FIELDS  # declared with the record's fields (review.records.RECORD_FIELDS)
# Fields that a one-cell row must fill to count as a reference; see _is_caption.
BIBLIOGRAPHIC_FIELDS = ("title", "authors", "abstract", "doi", "pmid", "journal", "year")

# Publication type as exported -> Reference type. Exact names first; then
# TYPE_WORDS is searched in order, so "book section" is a chapter, not a book.
TYPE_NAMES = {
    **{t: t for t in REFERENCE_TYPES},
    "jour": "article", "journalarticle": "article", "journal article": "article", "j": "article",
    "book review": "article", "incollection": "chapter", "inbook": "chapter", "booksection": "chapter",
    "chap": "chapter", "b": "book", "conf": "conference", "cpaper": "conference", "inproceedings": "conference",
    "s": "book", "rprt": "report", "techreport": "report", "thes": "thesis",
    "phdthesis": "thesis", "mastersthesis": "thesis", "elec": "web", "webpage": "web", "misc": "other",
    "data": "dataset", "posted-content": "preprint",
}
TYPE_WORDS = (
    ("chapter", "chapter"), ("section", "chapter"), ("book", "book"), ("conference", "conference"),
    ("proceeding", "conference"), ("congress", "conference"), ("meeting", "conference"),
    ("thesis", "thesis"), ("dissertation", "thesis"), ("report", "report"), ("preprint", "preprint"),
    ("dataset", "dataset"), ("web", "web"), ("online", "web"), ("journal", "article"),
    ("article", "article"), ("review", "article"), ("letter", "article"), ("editorial", "article"),
    ("erratum", "article"), ("comment", "article"), ("note", "article"), ("survey", "article"),
)

DELIMITERS = (",", "\t", ";")
# Rows searched for the header: Embase and Excel exports put a search
# history above it.
HEADER_SEARCH_ROWS = 30

_SPACE = re.compile(r"\s+")
_EXCEL_TEXT = re.compile(r'^="(.*)"$', re.DOTALL)
_DIGITS = re.compile(r"\d+")
_PMID_IN_TEXT = re.compile(r"\bPMID:?\s*(\d{1,9})\b")
_INITIALS = r"(?:[A-Z]\.?-?){1,4}"
_SURNAME_INITIALS = re.compile(rf"^[^\W\d_][\w'’ .-]*\s{_INITIALS}$")
_ONLY_INITIALS = re.compile(rf"^{_INITIALS}$")
_AND = re.compile(r"\s+and\s+")


def sniff(text: str) -> bool:
    """A delimited header row with a recognisable title column near the top."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return False
    return any(_header_width(text, delimiter, None) for delimiter in DELIMITERS)


def sniff_delimiter(text: str, mapping: dict[str, str] | None = None) -> str:
    """Comma, tab or semicolon: the one that yields a recognisable header row
    (the widest, if several do).

    Counting delimiter characters is not enough: Lens and Rayyan leave long
    author and keyword lists separated by semicolons unquoted in comma files.
    When no delimiter yields a header, the one the first line has most of wins.
    """
    widths = {d: _header_width(text, d, mapping) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: widths[d])
    if widths[best]:
        return best
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    return max(DELIMITERS, key=first_line.count)


def _header_width(text: str, delimiter: str, mapping: dict[str, str] | None) -> int:
    """Number of cells of the header row found with this delimiter, 0 if none."""
    lines = text[:65536].splitlines()[: HEADER_SEARCH_ROWS * 4]
    rows = csv.reader(lines, delimiter=delimiter)
    try:
        for number, row in enumerate(rows):
            if number >= HEADER_SEARCH_ROWS:
                break
            if _is_header(_normalised(row), mapping):
                return len(row)
    except csv.Error:
        pass
    return 0


def _is_header(names: list[str], mapping: dict[str, str] | None) -> bool:
    if mapping:
        return all(_normalise(column) in names for column in mapping.values())
    return _column_index(names, COLUMNS["title"]) is not None


# --------------------------------------------------------------------------- reading


def read(text: str, path: str = "<string>", mapping: dict[str, str] | None = None, **options) -> list[Reference]:
    text = text.lstrip("\ufeff")
    _check_mapping_fields(mapping, path)
    if not text.strip():
        raise ParseError(path, None, "empty file: no header and no rows")
    with without_gc():
        return _read_rows(text, path, mapping)


def _read_rows(text: str, path: str, mapping: dict[str, str] | None) -> list[Reference]:
    rows = _rows(text, sniff_delimiter(text, mapping), path)
    header_at = _find_header(rows, mapping, path)
    header_line, header = rows[header_at]
    plan = _plan_columns(header, mapping, path, header_line)
    data = _data_rows(rows[header_at + 1:], len(header), plan, path)
    id_column = _id_column(data, plan.source_ids)
    return [
        _to_reference(row, header, plan, line, str(number) if id_column is None else _clean(row[id_column]))
        for number, (line, row) in enumerate(data, 1)
    ]


def _data_rows(rows, width: int, plan: "_Plan", path: str) -> list[tuple[int, list[str]]]:
    """Rows cut or padded to the header's width; caption rows left out."""
    data = []
    for line, row in rows:
        if len(row) > width:
            if any(cell.strip() for cell in row[width:]):
                raise ParseError(path, line, f"row has {len(row)} cells but the header has {width}")
            row = row[:width]
        elif len(row) < width:
            if _is_caption(row, plan):
                continue
            row = row + [""] * (width - len(row))  # trailing empty cells are often left out
        data.append((line, row))
    return data


def _id_column(rows, candidates: list[int]) -> int | None:
    """The first identifier column filled in every row; None means: number the rows.

    A column filled only in some rows is no identifier for the file (Covidence
    fills "Accession Number" only for some databases, but "Covidence #" always).
    """
    for index in candidates:
        if all(_clean(row[index]) for _, row in rows):
            return index
    return None


def _is_caption(row: list[str], plan: "_Plan") -> bool:
    """A short row with one cell of text outside the bibliographic columns:
    Abstrackr heads a section with "citations that are not yet labeled"."""
    filled = [i for i, cell in enumerate(row) if cell.strip()]
    bibliographic = {plan.columns[f] for f in BIBLIOGRAPHIC_FIELDS if f in plan.columns}
    return len(filled) == 1 and filled[0] not in bibliographic


def _rows(text: str, delimiter: str, path: str) -> list[tuple[int, list[str]]]:
    """(physical line where the row starts, cells) for every non-blank row.

    Strict parsing first, so that a quote left open at the end of the file is
    an error. A quote in the middle of an unquoted cell (a WoS title starting
    `"Sweet" taste ...`) fails strict parsing too; such files are read again
    leniently, as spreadsheet programs do.
    """
    try:
        return _parse_rows(text, delimiter, path, strict=True)
    except _StrayQuote:
        return _parse_rows(text, delimiter, path, strict=False)


class _StrayQuote(Exception):
    pass


def _parse_rows(text: str, delimiter: str, path: str, strict: bool) -> list[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=strict)
    rows = []
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            if "end of data" in str(exc):
                raise ParseError(path, start, "unterminated quoted value (row starting here)") from None
            if strict:
                raise _StrayQuote() from None
            raise ParseError(path, start, f"{exc} (row starting here)") from None
        if any(cell.strip() for cell in row):
            rows.append((start, row))
        start = reader.line_num + 1
    return rows


def _check_mapping_fields(mapping: dict[str, str] | None, path: str) -> None:
    for field in mapping or {}:
        if field not in DISPLAY_FIELDS and field not in HELPER_FIELDS:
            known = ", ".join(DISPLAY_FIELDS + HELPER_FIELDS)
            message = f"unknown reference field {field!r} in the column mapping (known: {known})"
            raise ParseError(path, None, message, field=field)


def _find_header(rows, mapping: dict[str, str] | None, path: str) -> int:
    for index, (_, row) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if _is_header(_normalised(row), mapping):
            return index
    if not rows:
        raise ParseError(path, None, "empty file: no header and no rows")
    line, first = rows[0]
    if mapping:
        # Name the missing column relative to the header the file seems to have.
        auto = next((i for i, (_, r) in enumerate(rows[:HEADER_SEARCH_ROWS]) if _is_header(_normalised(r), None)), 0)
        line, header = rows[auto]
        names = set(_normalised(header))
        missing = next(f for f, h in mapping.items() if _normalise(h) not in names)
        raise ParseError(
            path, line, f"column {mapping[missing]!r} (mapped to {missing}) is not in the header", field=missing
        )
    shown = ", ".join(repr(c) for c in first[:12]) + (", ..." if len(first) > 12 else "")
    raise ParseError(
        path, line, f"no recognisable title column in the header ({shown}); give a column mapping", field="title"
    )


@dataclass(frozen=True)
class _Plan:
    """Where each field is read from: one column per field; for source_id every
    candidate column, in priority order (see _id_column)."""

    columns: dict[str, int]
    source_ids: list[int]
    unique_header: bool


def _plan_columns(header: list[str], mapping: dict[str, str] | None, path: str, line: int) -> _Plan:
    names = _normalised(header)
    columns: dict[str, int] = {}
    for field, candidates in COLUMNS.items():
        index = _column_index(names, candidates)
        if index is not None and field != "source_id":
            columns[field] = index
    source_ids = [i for c in COLUMNS["source_id"] for i in [_index(names, c)] if i is not None]
    for field, column in (mapping or {}).items():
        index = _index(names, column)
        if index is None:
            raise ParseError(path, line, f"column {column!r} (mapped to {field}) is not in the header", field=field)
        if field == "source_id":
            source_ids = [index]
        else:
            columns[field] = index
    return _Plan(columns=columns, source_ids=source_ids, unique_header=len(set(header)) == len(header))


def _normalise(name: str) -> str:
    return _SPACE.sub(" ", str(name).replace("\ufeff", "")).strip().casefold()


def _normalised(row: list[str]) -> list[str]:
    return [_normalise(cell) for cell in row]


def _index(names: list[str], candidate: str) -> int | None:
    wanted = _normalise(candidate)
    return names.index(wanted) if wanted in names else None


def _column_index(names: list[str], candidates: tuple[str, ...]) -> int | None:
    for candidate in candidates:
        index = _index(names, candidate)
        if index is not None:
            return index
    return None


def _to_reference(row: list[str], header: list[str], plan: "_Plan", line: int, source_id: str) -> Reference:
    cells = {field: _clean(row[index]) for field, index in plan.columns.items()}
    get = cells.get

    journal = get("journal", "")
    date = get("date", "")
    issn, isbn = get("issn", ""), get("isbn", "")
    if not issn and not isbn:
        issn, isbn = _issn_or_isbn(get("issn_or_isbn", ""))
    notes = get("notes", "")
    return Reference(
        type=reference_type(get("type", ""), has_journal=bool(journal)),
        title=get("title", ""),
        authors=split_authors(get("authors", "")),
        year=normalise_year(get("year")) or normalise_year(date),
        journal=journal,
        volume=get("volume", ""),
        issue=get("issue", ""),
        pages=get("pages") or join_pages(get("page_start", ""), get("page_end", "")),
        doi=_first_word(get("doi", "")),  # Rayyan appends RIS lines after the DOI
        pmid=_pmid(get("pmid", "")) or _pmid_in_text(get("extra", "")),
        abstract=get("abstract", ""),
        keywords=split_keywords(get("keywords", "")),
        url=_first_word(get("url", "")),  # Lens lists several URLs in one cell
        publisher=get("publisher", ""),
        place=get("place", ""),
        issn=issn,
        isbn=isbn,
        language=get("language", ""),
        date=date,
        notes=[notes] if notes else [],
        source_id=source_id,
        line=line,
        original=_original(header, row, plan.unique_header),
    )


def _first_word(value: str) -> str:
    return value.split(None, 1)[0] if value else ""


def _clean(value: str) -> str:
    """Trim a cell and undo Excel's `="..."` text protection (CINAHL does it)."""
    value = value.strip()
    if value.startswith('="'):
        match = _EXCEL_TEXT.match(value)
        if match:
            value = match.group(1).strip()
    return value


def _original(header: list[str], row: list[str], unique_header: bool) -> dict[str, list[str]]:
    if unique_header:  # the common case, and the fast one
        return {name: [value] for name, value in zip(header, row)}
    original: dict[str, list[str]] = {}
    for name, value in zip(header, row):
        original.setdefault(name, []).append(value)
    return original


def _pmid(value: str) -> str:
    """PMID from "12345", "PUBMED 12345" (Cochrane) or a PubMed URL (OpenAlex)."""
    runs = _DIGITS.findall(value)
    if not runs or set(runs[-1]) == {"0"}:
        return ""  # Abstrackr writes 0 for "none"
    return runs[-1]


def _pmid_in_text(value: str) -> str:
    """Zotero keeps the PMID in its Extra column: "PMID: 35319117"."""
    match = _PMID_IN_TEXT.search(value)
    return match.group(1) if match else ""


def _issn_or_isbn(value: str) -> tuple[str, str]:
    """One column holding either (RefWorks "ISSN/ISBN", RIS-like "SN"): by shape."""
    first = value.replace(";", " ").split()[0] if value.strip() else ""
    digits = re.sub(r"[^0-9Xx]", "", first)
    if len(digits) == 8:
        return value, ""
    if len(digits) in (10, 13):
        return "", value
    return value, ""


def reference_type(value: str, has_journal: bool = False) -> str:
    """An exported publication type -> one of REFERENCE_TYPES.

    An empty type with a journal is taken for a journal article: most CSV
    exports without a type column are lists of papers.
    """
    name = _SPACE.sub(" ", value).strip().casefold()
    if not name:
        return "article" if has_journal else "other"
    if name in TYPE_NAMES:
        return TYPE_NAMES[name]
    for word, ref_type in TYPE_WORDS:
        if word in name:
            return ref_type
    return "other"


def split_authors(value: str) -> list[str]:
    """Split an author cell into names. The rule, first match wins:

    1. a Python list literal "['Marx, Karl', 'Lindgren, Astrid']" (ASReview);
    2. ";" separates names (most tools); else "|" (OpenAlex);
    3. " and " separates names when every part has a comma ("Smith, J. and
       Jones, K.", Rayyan/Abstrackr) -- so "Department of Health and Social
       Care" stays one name;
    4. with commas only: if every comma-separated part is "Surname Initials"
       ("Yang Z., Jiang B." Embase; "Griffin DK, Larkin DM" PubMed) each part is
       a name; if parts alternate surname / initials ("Longrich, N.R.,
       Bardet, N.") they are paired; otherwise the cell is one name
       ("Curry Rogers, Kristina");
    5. otherwise one name.
    """
    value = value.strip()
    listed = _as_list_literal(value)
    if listed is not None:
        return listed
    for separator in (";", "|"):
        if separator in value:
            return _parts(value.split(separator))
    parts = _parts(_AND.split(value))
    if len(parts) > 1 and all("," in p for p in parts):
        return parts
    if "," in value:
        return _split_on_commas(value)
    return [_SPACE.sub(" ", value)]


def _as_list_literal(value: str) -> list[str] | None:
    """[] for an empty cell, the items of a list-literal cell ("['a', 'b']"), else None."""
    if not value:
        return []
    if value.startswith("[") and value.endswith("]"):
        return _list_literal(value)
    return None


def _split_on_commas(value: str) -> list[str]:
    parts = _parts(value.split(","))
    if len(parts) > 1 and all(_SURNAME_INITIALS.match(p) for p in parts):
        return parts
    pairs = len(parts) % 2 == 0 and all(
        _ONLY_INITIALS.match(parts[i + 1]) and not _ONLY_INITIALS.match(parts[i]) for i in range(0, len(parts), 2)
    )
    if pairs:
        return [f"{parts[i]}, {parts[i + 1]}" for i in range(0, len(parts), 2)]
    return [_SPACE.sub(" ", value)]


def split_keywords(value: str) -> list[str]:
    """Keywords: a list literal, else split on ";" (or "|", or line breaks),
    else on ","."""
    value = value.strip()
    listed = _as_list_literal(value)
    if listed is not None:
        return listed
    for separator in (";", "|", "\n"):
        if separator in value:
            return _parts(value.split(separator))
    return _parts(_split_outside_parentheses(value, ","))


def _split_outside_parentheses(value: str, separator: str) -> list[str]:
    """Embase writes "cyst (diagnosis, surgery), article": the comma in
    parentheses belongs to the term."""
    parts, depth, current = [], 0, []
    for ch in value:
        depth += (ch == "(") - (ch == ")")
        if ch == separator and depth <= 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parts(parts) -> list[str]:
    return [" ".join(p.split()) for p in parts if p and not p.isspace()]


def _list_literal(value: str) -> list[str] | None:
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(parsed, list) and all(isinstance(p, str) for p in parsed):
        return _parts(parsed)
    return None


# --------------------------------------------------------------------------- writing


def write(references, extra: list[dict] | None = None) -> str:
    """CSV (comma, minimal quoting): the keys of `extra` rows first, then WRITE_COLUMNS.

    `extra`, when given, has one dict per reference (record_id, import_file,
    source_id, cluster_id...).
    """
    references = list(references)
    if extra is not None and len(extra) != len(references):
        raise ValueError(f"extra has {len(extra)} rows for {len(references)} references")
    extra_columns: list[str] = []
    for row in extra or ():
        extra_columns.extend(k for k in row if k not in extra_columns)

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(extra_columns + list(WRITE_COLUMNS))
    for index, ref in enumerate(references):
        row_extra = extra[index] if extra is not None else {}
        writer.writerow([_text(row_extra.get(c, "")) for c in extra_columns] + _reference_cells(ref))
    return buffer.getvalue()


def _reference_cells(ref: Reference) -> list[str]:
    values = {
        "type": ref.type,
        "authors": "; ".join(a.strip() for a in ref.authors if a.strip()),
        "keywords": "; ".join(k.strip() for k in ref.keywords if k.strip()),
        "year": ref.year if ref.year else "",
    }
    return [_text(values[c] if c in values else getattr(ref, c)) for c in WRITE_COLUMNS]


def _text(value) -> str:
    return "" if value is None else str(value)
