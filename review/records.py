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
from dataclasses import asdict, dataclass, field

# Reference types, a small vocabulary that every format maps onto.
REFERENCE_TYPES = (
    "article", "book", "chapter", "conference", "report", "thesis",
    "web", "dataset", "preprint", "other",
)

# The display fields of a Reference that exports and round trips carry.
DISPLAY_FIELDS = (
    "type", "title", "authors", "year", "journal", "volume", "issue", "pages",
    "doi", "pmid", "abstract", "keywords", "url", "publisher", "place",
    "issn", "isbn", "language", "date", "notes",
)


@dataclass
class Reference:
    """One entry of an export file, read but not yet stored.

    `original` keeps every field exactly as the file had it (tag or column name to
    a list of values, in file order), so an export can give back what came in.
    """

    type: str = "other"
    title: str = ""
    authors: list[str] = field(default_factory=list)
    year: int | None = None
    journal: str = ""
    volume: str = ""
    issue: str = ""
    pages: str = ""
    doi: str = ""
    pmid: str = ""
    abstract: str = ""
    keywords: list[str] = field(default_factory=list)
    url: str = ""
    publisher: str = ""
    place: str = ""
    issn: str = ""
    isbn: str = ""
    language: str = ""
    date: str = ""
    notes: list[str] = field(default_factory=list)
    source_id: str = ""
    line: int = 0
    original: dict[str, list[str]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


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
