"""The bibliographic record and its normalisation for matching.

Every reader turns one entry of an export file into a `Reference`: the display
fields in a common vocabulary, plus the entry's original fields untouched. The
`MatchKeys` computed from it are what deduplication compares; the display text is
what people see. Both are stored, so nothing a database exported is ever lost.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import asdict, dataclass, field, make_dataclass

# Reference types, a small vocabulary that every format maps onto.
REFERENCE_TYPES = (
    "article", "book", "chapter", "conference", "report", "thesis",
    "web", "dataset", "preprint", "other",
)



# --- the record's fields, declared once ---------------------------------------------------
# Everything else derives from RECORD_FIELDS: the Reference dataclass below, the
# columns of the `records` table (review.store), the row written on import and the
# Reference read back (review.project), the display fields and the CSV writer's
# columns (review.io.tabular). A new field is one more FieldSpec here (and, for an
# existing database, a migration adding its column).


@dataclass(frozen=True)
class FieldSpec:
    """One field of a record.

    kind: "text" (a string, '' when unknown), "list" (strings; stored as a JSON list),
    "year" (an integer or None), "int" (a whole number) or "json" (a mapping, stored as JSON).
    size: the column's VARCHAR length; None for unbounded TEXT.
    display: a bibliographic field people see and every export format carries.
    csv: written as a column by the CSV writer (notes and free dates are not).
    """

    name: str
    kind: str = "text"
    size: int | None = None
    display: bool = True
    csv: bool = True

    def empty(self):
        """The value of the field when a file says nothing about it."""
        return {"text": "", "list": [], "year": None, "int": 0, "json": {}}[self.kind]


RECORD_FIELDS = (
    # Provenance inside the export file: its id there and the line the entry starts on.
    FieldSpec("source_id", size=400, display=False, csv=False),
    FieldSpec("line", "int", display=False, csv=False),
    FieldSpec("type", size=40),
    FieldSpec("title"),
    FieldSpec("authors", "list"),
    FieldSpec("year", "year"),
    FieldSpec("journal"),
    FieldSpec("volume", size=100),
    FieldSpec("issue", size=100),
    FieldSpec("pages", size=100),
    FieldSpec("doi", size=400),
    FieldSpec("pmid", size=40),
    FieldSpec("abstract"),
    FieldSpec("keywords", "list"),
    FieldSpec("url"),
    FieldSpec("publisher"),
    FieldSpec("place"),
    FieldSpec("issn", size=200),
    FieldSpec("isbn", size=200),
    FieldSpec("language", size=100),
    FieldSpec("date", size=100, csv=False),
    FieldSpec("notes", "list", csv=False),
    # Every field exactly as the file had it (tag or column name -> list of values).
    FieldSpec("original", "json", display=False, csv=False),
)
FIELDS_BY_NAME = {spec.name: spec for spec in RECORD_FIELDS}

# The display fields of a Reference that exports and round trips carry.
DISPLAY_FIELDS = tuple(spec.name for spec in RECORD_FIELDS if spec.display)
# The columns the CSV writer gives every reference, in order.
CSV_FIELDS = tuple(spec.name for spec in RECORD_FIELDS if spec.csv)


def _reference_fields():
    """Reference's fields: display fields first, then provenance (the order it has always had)."""
    ordered = [s for s in RECORD_FIELDS if s.display] + [s for s in RECORD_FIELDS if not s.display]
    types = {"text": str, "list": list[str], "year": int | None, "int": int, "json": dict[str, list[str]]}
    out = []
    for spec in ordered:
        default = field(default="other") if spec.name == "type" else (
            field(default_factory=type(spec.empty())) if spec.kind in ("list", "json") else field(default=spec.empty()))
        out.append((spec.name, types[spec.kind], default))
    return out


def _to_dict(self) -> dict:
    return asdict(self)


Reference = make_dataclass(
    "Reference", _reference_fields(), namespace={"to_dict": _to_dict, "__module__": __name__, "__doc__": (
        "One entry of an export file, read but not yet stored.\n\n"
        "Its fields are RECORD_FIELDS. `original` keeps every field exactly as the file had it (tag or\n"
        "column name to a list of values, in file order), so an export can give back what came in.")})


@dataclass(frozen=True)
class MatchKeys:
    """Normalised fields that matching compares (empty string when unknown)."""

    doi: str
    pmid: str
    first_author: str
    year: int | None
    title: str
    journal: str
    volume: str
    issue: str
    first_page: str


_TAG = re.compile(r"<[^>]{0,200}>")
_DOI_PREFIX = re.compile(
    r"^(?:https?://)?(?:dx\.)?(?:www\.)?doi\.org/|^doi:\s*|^https?://(?:dx\.)?doi\.org/",
    re.IGNORECASE,
)
_DOI_SHAPE = re.compile(r"10\.\d{4,9}/\S+")
_NON_WORD = re.compile(r"[^\w\s]+")
_SPACE = re.compile(r"\s+")
_YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
_INITIALS = re.compile(r"^[A-Z]{1,3}$")
_CORPORATE_WORDS = frozenset(
    "of for and the department ministry association institute institution council "
    "trust nhs commission organisation organization group office university centre "
    "center fund foundation society committee agency board service services "
    "authority government executive audit college network alliance partnership "
    "team unit programme program project collaboration consortium federation".split()
)
# LaTeX leftovers that survive decoding in some exports, and markup in titles.
_BRACES = re.compile(r"[{}]")


def strip_markup(text: str) -> str:
    """Remove HTML/XML tags, unescape entities and drop TeX braces."""
    if not text:
        return ""
    text = html.unescape(_TAG.sub(" ", text))
    return _BRACES.sub("", text)


def fold(text: str) -> str:
    """Casefold, strip diacritics and punctuation, collapse white space.

    Letters of any script survive (a Chinese title stays Chinese); only combining
    marks, punctuation and symbols go.
    """
    if not text:
        return ""
    text = strip_markup(text).casefold()
    if not text.isascii():  # most titles are ASCII: skip the per-character pass
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.replace("&", " and ").replace("_", " ")
    text = _NON_WORD.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def normalise_title(title: str) -> str:
    return fold(title)


def normalise_doi(doi: str) -> str:
    """A DOI without URL or `doi:` prefix, lower-cased; '' when it is no DOI."""
    if not doi:
        return ""
    doi = html.unescape(doi.strip())
    doi = _DOI_PREFIX.sub("", doi).strip()
    match = _DOI_SHAPE.search(doi)
    if not match:
        return ""
    return match.group(0).rstrip(".,;)]").lower()


def normalise_pmid(pmid: str) -> str:
    digits = re.sub(r"\D", "", pmid or "")
    return digits.lstrip("0")


def normalise_year(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    match = _YEAR.search(str(value))
    return int(match.group(1)) if match else None


def is_corporate(author: str) -> bool:
    """Whether an author string names an organisation rather than a person."""
    words = fold(author).split()
    if len(words) >= 2 and any(w in _CORPORATE_WORDS for w in words):
        return "," not in author or len(words) > 4
    return False


def surname(author: str) -> str:
    """The family name of a person, or the whole name of an organisation, folded.

    Handles "Smith, John", "Smith J", "Smith JA", "John Smith" and
    "van der Berg, A"; a corporate author is kept whole.
    """
    author = strip_markup(author).strip()
    if not author:
        return ""
    if is_corporate(author):
        return fold(author)
    if "," in author:
        return fold(author.split(",", 1)[0])
    parts = author.split()
    if len(parts) == 1:
        return fold(parts[0])
    if _INITIALS.match(parts[-1].replace(".", "")):
        # MEDLINE style: "Smith JA", "van der Berg A"
        return fold(" ".join(parts[:-1]))
    return fold(parts[-1])


def first_page(pages: str) -> str:
    if not pages:
        return ""
    text = re.sub(r"^pp?\.?\s*", "", pages.strip(), flags=re.IGNORECASE)
    head = re.split(r"\s*[-–—‐]\s*|\s+", text, maxsplit=1)[0]
    return head.lower().lstrip("0") or head.lower()


def normalise_journal(journal: str) -> str:
    text = fold(journal)
    if text.startswith("the "):
        text = text[4:]
    return text


def normalise_number(value: str) -> str:
    """Volume or issue: folded, leading zeros dropped ('07' and '7' agree)."""
    text = fold(value)
    return re.sub(r"\b0+(\d)", r"\1", text)


def match_keys(ref: Reference) -> MatchKeys:
    return MatchKeys(
        doi=normalise_doi(ref.doi),
        pmid=normalise_pmid(ref.pmid),
        first_author=surname(ref.authors[0]) if ref.authors else "",
        year=normalise_year(ref.year),
        title=normalise_title(ref.title),
        journal=normalise_journal(ref.journal),
        volume=normalise_number(ref.volume),
        issue=normalise_number(ref.issue),
        first_page=first_page(ref.pages),
    )


def join_pages(start: str, end: str) -> str:
    """'383' and '98' -> '383-98'; either may be empty."""
    start, end = (start or "").strip(), (end or "").strip()
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end


def split_pages(pages: str) -> tuple[str, str]:
    parts = re.split(r"\s*[-–—‐]\s*", (pages or "").strip(), maxsplit=1)
    return (parts[0], parts[1] if len(parts) > 1 else "")
