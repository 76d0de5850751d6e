"""Stage 1 of deduplication: turn display fields into comparable keys.

`records.match_keys` gives the basic normalisation (folded title, DOI, first-author
surname, ...). Matching across databases needs more: journal names that one
database abbreviates and another spells out, author lists in five formats,
page ranges written as "1325-9" or "S31-S32", URLs with tracking parameters,
and flags for records that share a title with another work without being it
(errata, replies, part 2, the appendix of a report). Everything here works on
one record at a time and returns plain strings, tuples and ints, so the later
stages never look at display text again.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from urllib.parse import unquote

import pandas as pd

from review.records import (
    _CORPORATE_WORDS,
    _INITIALS,
    normalise_doi,
    normalise_number,
    normalise_pmid,
    normalise_year,
    strip_markup,
)

# Combining marks of Latin, Greek and Cyrillic diacritics. Dropping them after NFKD
# folds "é" to "e"; marks of other scripts stay (consistently on both sides).
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_WORD = re.compile(r"[^\w\s]+")


def fold(text: str) -> str:
    """Casefold, strip tags, entities, diacritics and punctuation; collapse spaces.

    Does what records.fold does, faster on ASCII text, which most records are.
    """
    if not text:
        return ""
    if "<" in text or "&" in text or "{" in text:
        text = strip_markup(text)
    text = text.casefold()
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = text.replace("&", " and ").replace("_", " ")
    return " ".join(_NON_WORD.sub(" ", text).split())


# --- trap flags -----------------------------------------------------------
# A flag marks a record whose title can equal another work's title although
# the two are different things. Two records whose flags differ are never
# merged automatically. Bit values so a record's flags fit in one int.
FLAG_ERRATUM = 1
FLAG_RETRACTION = 2
FLAG_REPLY = 4  # reply, response, comment, letter about an article
FLAG_CONFERENCE_ABSTRACT = 8
FLAG_APPENDIX = 16  # appendix, annex, supplement, technical annex
FLAG_SUMMARY = 32  # executive summary, consultation summary, analysis of responses
FLAG_PROTOCOL = 64
FLAG_CONSULTATION = 128  # a consultation document (the question, not the answers)
FLAG_ANNUAL = 256  # annual report / review: one title, many years
FLAG_PREPRINT = 512

FLAG_NAMES = {
    FLAG_ERRATUM: "erratum",
    FLAG_RETRACTION: "retraction",
    FLAG_REPLY: "reply/comment",
    FLAG_CONFERENCE_ABSTRACT: "conference abstract",
    FLAG_APPENDIX: "appendix/supplement",
    FLAG_SUMMARY: "summary",
    FLAG_PROTOCOL: "protocol",
    FLAG_CONSULTATION: "consultation",
    FLAG_ANNUAL: "annual report",
    FLAG_PREPRINT: "preprint",
}

# Patterns anchored at the start want the notice's own wording ("Correction to:",
# "Reply to", "Re:"), so "Correction of hallux valgus" or "Response to cisplatin"
# are not taken for notices.
_TITLE_FLAG_PATTERNS = (
    (FLAG_ERRATUM, re.compile(
        r"^\W*(erratum|errata|corrigendum|corrigenda|author correction|publisher correction|notice of correction)\b|"
        r"^\W*corrections?\s*(to|of|for)?\s*[:\-–]|^\W*corrections? to\b|\b(erratum|corrigendum)\b", re.I)),
    (FLAG_RETRACTION, re.compile(
        r"\b(retraction|retracted|withdrawn|expression of concern)\b", re.I)),
    (FLAG_REPLY, re.compile(
        r"^\W*re\s*:|"
        r"^\W*(in reply|authors?'? reply|the authors reply|reply|rebuttal|rejoinder)\W*$|"
        r"^\W*(reply|response|comment|comments|commentary|letter|rebuttal|discussion)\s*(to|on|regarding|about|re)?\s*:|"
        r"^\W*(reply|comment|comments|commentary|letter|rebuttal)\s+(to|on|regarding|about|re)\b|"
        r"\b(reply to|comment on|comments on|commentary on|letter regarding|authors?'? reply|authors?'? response|"
        r"in response to)\b|"
        r"[-:–]\s*(reply|response|author reply|authors'? reply|rejoinder)\W*$", re.I)),
    (FLAG_CONFERENCE_ABSTRACT, re.compile(
        r"^\W*(abstract|poster|oral presentation)\s*:|\[abstract\]|\(abstract\)|\bmeeting abstract\b", re.I)),
    (FLAG_APPENDIX, re.compile(
        r"\b(appendix|appendices|annex|annexes|technical annex|supplementary (material|appendix|data|report)|"
        r"online supplement|data supplement)\b", re.I)),
    (FLAG_SUMMARY, re.compile(
        r"\b(executive summary|summary report|summary of (consultation )?responses|"
        r"analysis of (consultation )?responses|consultation (summary|response|responses|report|analysis)|"
        r"response to (the )?consultation|summary of (the )?consultation|easy read|at a glance)\b", re.I)),
    (FLAG_PROTOCOL, re.compile(
        r"\b(study protocol|trial protocol|review protocol|protocol for|a protocol|protocol of)\b|[:\-–]\s*protocol\b",
        re.I)),
    (FLAG_CONSULTATION, re.compile(r"\bconsultation\b", re.I)),
    (FLAG_ANNUAL, re.compile(r"\b(annual (report|review|performance|accounts|statement|plan)|yearbook)\b", re.I)),
)

# Where conference abstracts live: the container or issue tells.
_ABSTRACT_CONTAINER = re.compile(
    r"\b(abstracts?|meeting|congress|conference|symposium|proceedings|annual scientific|"
    r"scientific sessions|supplement)\b", re.I)
_ABSTRACT_ISSUE = re.compile(r"\b(suppl\w*|meeting ?abstracts?|abstracts?|s\d+)\b", re.I)
_EMBASE_CONFERENCE = re.compile(r"\.\s*conference\s*:", re.I)
_ABSTRACT_PAGE = re.compile(r"^(?:[A-Za-z]{1,3}\s?-?\d+|\d+[A-Za-z])$")

# Tags Ovid/MEDLINE append to titles, and language markers.
_TITLE_TAGS = re.compile(
    r"\[(?:review|\d+\s*refs?|article in [^\]]*|[a-z]+ (?:language|abstract)|english abstract|"
    r"chinese|japanese|german|french|spanish|italian|russian|portuguese|polish|dutch|korean|"
    r"czech|hungarian|turkish|danish|swedish|norwegian|finnish|hebrew|croatian|serbian|"
    r"slovak|slovenian|romanian|greek|persian|arabic|ukrainian|bulgarian|lithuanian|"
    r"estonian|latvian|icelandic|catalan|afrikaans|\w+ translation|editorial|comment|letter|"
    r"published erratum[^\]]*|see comments?|retracted[^\]]*)\]", re.I)
# Notes databases append to the ORIGINAL article's title ("[Erratum appears in
# N Engl J Med 2009;360:2487]"): they say the article HAS an erratum, not that it is one.
_NOTE_TAGS = re.compile(
    r"\[\s*(?:published |see )?(?:erratum|errata|corrigendum|retraction|retracted|comment|comments|update|"
    r"expression of concern|corrected and republished|republished|summary for patients)\b[^\]]*(?:\]|$)", re.I)
_REFERENCE_MARK = re.compile(r"\s*\[\d{1,2}\]\s*$")
_FORMAT_TAGS = re.compile(r"\((?:review|\d+ refs?|abstract|article|author's transl|transl)\)\s*\.?\s*$", re.I)

# Small words that carry no identity; dropped for blocking keys and journals.
STOPWORDS = frozenset(
    "a an and the of in on for to with by at from as or is are be its into via "
    "de la le les des du der die das und et el en y".split()
)
# Titles that name a genre rather than a work: equal titles prove nothing.
GENERIC_TITLES = frozenset(
    fold(t) for t in (
        "editorial", "editorials", "letter", "letters", "letter to the editor", "reply",
        "response", "comment", "comments", "commentary", "correction", "erratum", "errata",
        "corrigendum", "introduction", "preface", "foreword", "news", "news in brief",
        "abstracts", "abstract", "book review", "book reviews", "index", "contents",
        "table of contents", "untitled", "no title", "title", "in this issue", "obituary",
        "announcement", "announcements", "highlights", "editor's note", "editors note",
        "guest editorial", "conclusion", "conclusions", "discussion", "summary", "overview",
        "meeting report", "conference report", "research highlights", "retraction",
        "notice of retraction", "case report", "case reports", "reviewers", "acknowledgements",
        "acknowledgment", "acknowledgments", "poster", "posters", "poster session",
        "oral presentations", "front matter", "back matter", "masthead", "cover",
        "calendar", "correspondence", "author index", "subject index", "instructions for authors",
        "editorial introduction", "editor's introduction", "editors' introduction", "guest editors' introduction",
        "introduction to the special issue", "editor's comments", "editors' comments", "editorial comment",
        "from the editor", "from the editors", "letter from the editor", "message from the editor",
        "editor's note", "in memoriam", "corrections", "errata", "reviewer acknowledgement",
    )
)

_ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9",
          "xi": "11", "xii": "12"}
_ROMAN_AFTER_KEYWORD = {"i": "1", "v": "5", "x": "10"}
_WORD_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
                 "first": "1", "second": "2", "third": "3", "fourth": "4", "fifth": "5"}
_NUMBER_KEYWORDS = frozenset(
    "part phase type stage grade class study trial report volume vol no number chapter "
    "section round wave series programme program workstream module book".split()
)
_NUMBER_WORDS = frozenset(_ROMAN) | frozenset(_WORD_NUMBERS) | {"part"}
_YEAR_RANGE = re.compile(r"\b((?:19|20)(\d\d)) (\d\d)\b")


def _full_year_range(match: re.Match) -> str:
    start, short_end = match.group(1), match.group(3)
    if int(short_end) == (int(match.group(2)) + 1) % 100:
        return f"{start} {int(start) + 1}"
    return match.group(0)


_THOUSANDS = re.compile(r"\b(\d{1,3}) (\d{3})\b")
_PART_LETTER = re.compile(r"\bpart ([a-h])\b")
_DIGITS = re.compile(r"\d+")


# Columns of the frame `prepare` returns, one row per record in input order.
PREPARED_COLUMNS = (
    "record_id", "title", "title_compact", "title_alt", "title_block", "title_numbers", "title_generic",
    "authors", "author_words", "first_author", "corporate", "year", "journal", "journal_tokens",
    "journal_initials", "volume", "issue", "first_page", "last_page", "doi", "pmid", "url", "type_family",
    "flags", "paper_like", "abstract", "completeness",
)


# Web captures append the site: "Not made to be measured | The Nuffield Trust",
# "Integration pioneers ... - GOV.UK". Catalogues append document numbers: "(Cm 8639)".
_SITE_SUFFIX = re.compile(r"\s+(?:\|\s+[^|]{2,60}|[-–]\s+(?:gov\.uk|gov\.wales|gov\.scot|nhs\.uk))\s*$", re.I)
_DOCUMENT_NUMBER = re.compile(r"\s*\((?:cm|cmnd|cp|hc|sb|sg|nao|cd)\.?\s*\d[\d\- /]*\)\s*\.?\s*$", re.I)


def clean_title(title: str) -> str:
    """Title without database tags like "[Review] [53 refs]" or "[Chinese]", web-site
    suffixes and document numbers; not folded."""
    text = strip_markup(title) if ("<" in title or "&" in title or "{" in title) else title
    if "|" in text or " - " in text or " – " in text:
        text = _SITE_SUFFIX.sub("", text)
    if "(" in text:
        text = _DOCUMENT_NUMBER.sub("", text)
    if "[" in text:
        text = _NOTE_TAGS.sub(" ", text)
        text = _TITLE_TAGS.sub(" ", text)
        text = _REFERENCE_MARK.sub(" ", text)
    if ")" in text:
        text = _FORMAT_TAGS.sub(" ", text)
    return text.strip()


_TRAILING_TRANSLATION = re.compile(r"^(?P<main>.*\S)\s*\[(?P<alt>[^\[\]]{15,})\]\s*\.?\s*$")


def split_translation(title: str) -> tuple[str, str]:
    """'Working in the platform economy [Arbeiten in der Plattformökonomie]' -> both titles.

    Scopus and others append the original-language title in brackets; another
    database gives only one of the two. A title that is all brackets (MEDLINE's
    translated titles) is left whole.
    """
    match = _TRAILING_TRANSLATION.match(title)
    if not match or len(match.group("main").split()) < 3:
        return title, ""
    return match.group("main"), match.group("alt")


# Every flag pattern needs one of these words; most titles have none and skip the patterns.
_FLAG_WORDS = frozenset(
    "erratum errata corrigendum corrigenda correction corrections notice retraction retracted withdrawn "
    "concern re reply response comment comments commentary letter rebuttal rejoinder discussion author authors "
    "abstract poster oral meeting appendix appendices annex annexes supplementary supplement summary "
    "responses consultation easy glance protocol annual yearbook".split()
)


def title_flags(title: str, folded: str | None = None) -> int:
    if _FLAG_WORDS.isdisjoint((fold(title) if folded is None else folded).split()):
        return 0
    flags = 0
    for flag, pattern in _TITLE_FLAG_PATTERNS:
        if pattern.search(title):
            flags |= flag
    # "Response to consultation" is a summary, not a consultation document.
    if flags & FLAG_SUMMARY:
        flags &= ~FLAG_CONSULTATION
    return flags


def record_flags(title: str, type_: str, journal: str, issue: str, pages: str, notes: str = "",
                 folded_title: str | None = None) -> int:
    """Trap flags of one record from its title, type and where it was published."""
    flags = title_flags(title, folded_title)
    if type_ == "preprint":
        flags |= FLAG_PREPRINT
    # A conference abstract: Embase's "Journal. Conference: <meeting>" container, or a
    # supplement issue together with a conference container or an abstract-number
    # page ("A237", "S31"). A full paper in proceedings has none of these.
    container_says = bool(_ABSTRACT_CONTAINER.search(journal or ""))
    issue_says = bool(_ABSTRACT_ISSUE.search(issue or ""))
    page_says = bool(_ABSTRACT_PAGE.match((pages or "").split("-")[0].strip()))
    if (issue_says and (page_says or container_says)) or _EMBASE_CONFERENCE.search(journal or "") or re.search(
        r"\b(meeting abstracts?|conference abstracts?|abstracts? (book|supplement))\b", f"{journal} {issue} {notes}", re.I
    ):
        flags |= FLAG_CONFERENCE_ABSTRACT
    if type_ == "conference" and re.search(r"\babstract", f"{notes} {journal}", re.I):
        flags |= FLAG_CONFERENCE_ABSTRACT
    return flags


def _paper_like(first: str, last: str, issue: str) -> bool:
    """Looks like a full paper: a numeric page range of more than two pages, not in a supplement.

    Used to tell a conference abstract from the paper that followed it.
    """
    if not (first.isdigit() and last.isdigit()) or _ABSTRACT_ISSUE.search(issue or ""):
        return False
    return int(last) - int(first) >= 2


def flag_names(flags: int) -> list[str]:
    return [name for bit, name in FLAG_NAMES.items() if flags & bit]


def title_numbers(folded_title: str) -> tuple[str, ...]:
    """Numbers that distinguish works sharing a title: years, part and phase numbers.

    "Part II", "part 2", "part two" all give "2"; "Part A" gives "a". Digits
    glued to letters count too ("ADAMTS13" gives "13"), so formatting does
    not create a difference.
    """
    if not folded_title:
        return ()
    if _DIGITS.search(folded_title):
        folded_title = _THOUSANDS.sub(r"\1\2", folded_title)  # "10 000" (from "10,000") is one number
        folded_title = _YEAR_RANGE.sub(_full_year_range, folded_title)  # "2020-21" is "2020 2021"
    tokens = folded_title.split()
    if not _DIGITS.search(folded_title) and _NUMBER_WORDS.isdisjoint(tokens):
        return ()
    numbers: list[str] = []
    for index, token in enumerate(tokens):
        previous = tokens[index - 1] if index else ""
        if token in _ROMAN:
            numbers.append(_ROMAN[token])
        elif previous in _NUMBER_KEYWORDS and token in _ROMAN_AFTER_KEYWORD:
            numbers.append(_ROMAN_AFTER_KEYWORD[token])
        elif previous in _NUMBER_KEYWORDS and token in _WORD_NUMBERS:
            numbers.append(_WORD_NUMBERS[token])
        elif token in ("first", "second", "third") and index + 1 < len(tokens) and tokens[index + 1] in (
            "report", "round", "phase", "year", "wave", "edition",
        ):
            numbers.append(_WORD_NUMBERS[token])
        else:
            numbers.extend(n.lstrip("0") or "0" for n in _DIGITS.findall(token))
    numbers.extend(_PART_LETTER.findall(folded_title))
    return tuple(sorted(set(numbers)))


def split_authors(authors) -> list[str]:
    """Authors as a list; strings are split on ';' or ' and ' (BibTeX), as a convenience."""
    if authors is None:
        return []
    if isinstance(authors, float) and math.isnan(authors):
        return []
    if isinstance(authors, str):
        text = authors.strip()
        if not text:
            return []
        if ";" in text:
            parts = text.split(";")
        elif " and " in text:
            parts = text.split(" and ")
        else:
            parts = [text]
        return [p.strip() for p in parts if p.strip()]
    return [text for text in (_text(a).strip() for a in authors) if text]


def corporate_key(author: str) -> str:
    """An organisation's folded name without a leading 'the' and without bracketed acronyms."""
    text = fold(re.sub(r"\([^)]*\)", " ", author))
    text = re.sub(r"^the ", "", text)
    return text.replace("kings fund", "king s fund")


def initials(text: str) -> str:
    """Initials of the significant words ("National Audit Office" -> "nao")."""
    return "".join(w[0] for w in fold(text).split() if w not in STOPWORDS and not w.isdigit())


_NOT_AUTHORS = frozenset({"et al", "et", "al", "anonymous", "anon", "no authorship indicated"})


def author_key(author: str, first: bool) -> tuple[str, frozenset, bool]:
    """One author: surname (person) or whole name (organisation), folded; all name
    words, so "Moritz, Altenried" can still meet "Altenried, Moritz"; and whether
    it is an organisation.

    Same rules as records.surname and records.is_corporate ("Smith, John",
    "Smith JA", "John Smith", "van der Berg, A"), folding each name once.
    """
    text = strip_markup(author).strip() if ("<" in author or "&" in author or "{" in author) else author.strip()
    words = fold(text).split()
    corporate = len(words) >= 2 and any(w in _CORPORATE_WORDS for w in words) and ("," not in text or len(words) > 4)
    corporate = corporate or (first and _looks_like_organisation(text))
    if corporate:
        key = corporate_key(text)
    elif "," in text:
        key = fold(text.split(",", 1)[0])
    else:
        parts = text.split()
        if len(parts) <= 1:
            key = " ".join(words)
        elif _INITIALS.match(parts[-1].replace(".", "")):
            key = fold(" ".join(parts[:-1]))  # MEDLINE style: "Smith JA"
        else:
            key = fold(parts[-1])
    return key, frozenset(w for w in words if len(w) > 1), corporate


def author_keys(authors: list[str], cache: dict | None = None) -> tuple[tuple[str, ...], tuple[frozenset, ...], bool]:
    """Keys of an author list (see author_key), skipping "et al." and "Anonymous";
    and whether the first author is an organisation. `cache` maps (author, first)
    to author_key results across records: the same names recur."""
    cache = {} if cache is None else cache
    keys: list[str] = []
    words: list[frozenset] = []
    first_corporate = False
    for index, author in enumerate(authors):
        entry = (author, index == 0)
        found = cache.get(entry)
        if found is None:
            found = cache[entry] = author_key(author, index == 0)
        key, name_words, corporate = found
        if index == 0:
            first_corporate = corporate
        if key and key not in _NOT_AUTHORS:
            keys.append(key)
            words.append(name_words)
    return tuple(keys), tuple(words), first_corporate


def _looks_like_organisation(author: str) -> bool:
    # "HM Treasury", "NHS England", "Audit Scotland", "HFMA": no comma, no initials pattern.
    text = strip_markup(author).strip()
    if "," in text or not text:
        return False
    words = text.split()
    if len(words) == 1:
        return text.isupper() and len(text) >= 3
    return any(w.isupper() and len(w) >= 2 and w.isalpha() for w in words) and not re.fullmatch(
        r"[A-Z][a-z'\-]+ [A-Z]{1,3}", text
    )


def normalise_url(url: str) -> str:
    """A URL reduced to host and path, for equality: no scheme, 'www.', query,
    fragment, trailing slash, angle brackets or percent-encoding; lower case.
    DOI resolver links give '' (the DOI field compares those)."""
    text = str(url or "").strip().strip("<>").strip()
    if not text:
        return ""
    text = unquote(html.unescape(text)).lower()
    text = re.sub(r"^[a-z]+://", "", text)
    text = re.sub(r"^www\d?\.", "", text)
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    text = "".join(text.split()).rstrip("/")
    if text.startswith(("doi.org/", "dx.doi.org/")):
        return ""
    return text


def page_range(pages: str) -> tuple[str, str]:
    """First and last page, with the last expanded ("1325-9" -> "1325", "1329").

    Non-numeric leftovers ("Suppl", "n/a") count as unknown, so they cannot
    contradict a real page number.
    """
    text = strip_markup(str(pages or "")).strip().lower()
    if not text:
        return "", ""
    text = re.sub(r"^(pp?\.?|pages?)\s*", "", text)
    parts = re.split(r"\s*(?:-{1,2}|–|—|‐|‑)\s*", text, maxsplit=1)
    first = _page_token(parts[0])
    last = _page_token(parts[1]) if len(parts) > 1 else ""
    if not first:
        return "", ""
    if last and first.isdigit() and last.isdigit() and len(last) < len(first):
        last = first[: len(first) - len(last)] + last
    return first, last or first


def _page_token(token: str) -> str:
    token = token.strip().split(" ")[0] if token.strip() else ""
    token = token.strip(".,;:()[]")
    match = re.fullmatch(r"([a-z]{0,2})0*(\d+)([a-z]?)", token)
    if not match:
        return ""
    return f"{match.group(1)}{match.group(2)}{match.group(3)}"


def normalise_volume(volume: str) -> str:
    """The volume number; text around it ("Drug Discovery. 9", "vol. 12") is field spill-over.

    A fragment like "1)" is the tail of "128 (3 Suppl 1)" split wrongly, and text
    without digits is a misplaced field: both count as unknown.
    """
    if ")" in volume and "(" not in volume:
        return ""
    text = normalise_number(volume)
    if not any(ch.isdigit() for ch in text):
        return ""  # "Ph.D.", "(Jul)": not a volume
    match = re.search(r"\d+", text)
    return match.group(0) if match else text


def journal_tokens(journal: str) -> tuple[str, ...]:
    """Significant words of a journal title. Embase's ". Conference: <meeting>"
    tail and "[Electronic Resource]" say how, not where, and are dropped."""
    journal = _EMBASE_CONFERENCE.split(journal, maxsplit=1)[0]
    text = fold(journal)
    text = re.sub(r"\b(electronic resource|print|online|internet)\b", " ", text)
    return tuple(t for t in text.split() if t not in STOPWORDS)


TYPE_FAMILIES = {
    "article": "article", "journal": "article", "jour": "article", "review": "article",
    "conference": "conference", "inproceedings": "conference", "proceedings": "conference",
    "conf": "conference", "cpaper": "conference",
    "book": "book", "chapter": "chapter", "inbook": "chapter", "incollection": "chapter", "chap": "chapter",
    "report": "grey", "rprt": "grey", "techreport": "grey", "web": "grey", "elec": "grey",
    "misc": "", "other": "", "gen": "", "": "", "generic": "",
    "thesis": "thesis", "phdthesis": "thesis", "mastersthesis": "thesis",
    "dataset": "dataset", "preprint": "preprint", "unpublished": "",
}


def type_family(type_: str) -> str:
    """Coarse type for comparison; '' when unknown or too generic to compare."""
    return TYPE_FAMILIES.get(str(type_ or "").strip().lower(), "")


# Placeholders that R and spreadsheet exports write for "no value".
_MISSING = frozenset({"na", "n/a", "nan", "none", "null", "unknown", "#name?", "-"})


def _text(value) -> str:
    text = value if type(value) is str else _raw_text(value)
    return "" if len(text) < 8 and text.strip().lower() in _MISSING else text


def _raw_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if value.is_integer():
            return str(int(value))
    if isinstance(value, (list, tuple)):
        return "; ".join(t for t in (_text(v) for v in value) if t)
    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value)


_COMPLETENESS_FIELDS = ("title", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "abstract", "url")
_TEXT_FIELDS = ("record_id", "title", "year", "journal", "volume", "issue", "pages", "doi", "pmid", "abstract",
                "url", "type", "notes")


def _cached(cache: dict, kind: str, function, value: str):
    """function(value), remembered in cache[kind]: volumes, issues and journals recur."""
    memo = cache.setdefault(kind, {})
    found = memo.get(value)
    if found is None:
        found = memo[value] = function(value)
    return found


def prepare_record(row: dict, cache: dict | None = None) -> dict:
    """Comparable keys of one record (a dict of display fields); keys are PREPARED_COLUMNS.

    `cache` (any dict, shared across the records of one call) saves re-parsing
    author names and journal titles that recur.
    """
    cache = {} if cache is None else cache
    text = {f: _text(row.get(f)) for f in _TEXT_FIELDS}
    title_clean = clean_title(text["title"])
    title_main, title_alt = split_translation(title_clean)
    folded = fold(title_main)
    folded_alt = fold(title_alt)
    # Whole author lists recur too (the same paper from several databases).
    author_list = tuple(split_authors(row.get("authors")))
    lists = cache.setdefault("author_lists", {})
    found = lists.get(author_list)
    if found is None:
        found = lists[author_list] = author_keys(list(author_list), cache.setdefault("authors", {}))
    keys, name_words, corporate = found
    journal = text["journal"]
    jtokens = _cached(cache, "journal", journal_tokens, journal)
    issue = text["issue"]
    pages = text["pages"]
    type_ = type_family(text["type"])
    first, last = page_range(pages)
    year = normalise_year(text["year"] or None)
    return {
        "record_id": text["record_id"],
        "title": folded,
        "title_compact": folded.replace(" ", ""),
        "title_alt": folded_alt,
        "title_block": " ".join(t for t in folded.split() if t not in STOPWORDS),
        "title_numbers": title_numbers(folded),
        # A genre ("Editorial") or a very short title proves nothing when equal.
        "title_generic": bool(folded) and (folded in GENERIC_TITLES or len(folded.replace(" ", "")) < 12),
        "authors": keys,
        "author_words": name_words,
        "first_author": keys[0] if keys else "",
        "corporate": corporate,
        "year": year if year is not None else -1,
        "journal": " ".join(jtokens),
        "journal_tokens": jtokens,
        "journal_initials": "".join(t[0] for t in jtokens),
        "volume": _cached(cache, "volume", normalise_volume, text["volume"]),
        "issue": _cached(cache, "issue", normalise_number, issue),
        "first_page": first,
        "last_page": last,
        # Some exports URL-encode DOIs: "S0025-7753%2817%2930624-3".
        "doi": normalise_doi(unquote(text["doi"]) if "%" in text["doi"] else text["doi"]) if text["doi"] else "",
        "pmid": normalise_pmid(text["pmid"]),
        "url": normalise_url(text["url"]),
        "type_family": type_,
        "flags": record_flags(title_clean, type_, journal, issue, pages, text["notes"],
                              f"{folded} {folded_alt}"),
        "paper_like": _paper_like(first, last, issue),
        # The start of the abstract is enough to tell two abstracts apart; without
        # spaces, "BackgroundClinical" and "BACKGROUND: Clinical" agree.
        "abstract": fold(text["abstract"][:450]).replace(" ", "")[:350],
        "completeness": sum(1 for f in _COMPLETENESS_FIELDS if text[f].strip()) + bool(keys),
    }


def prepare_records(records: pd.DataFrame) -> pd.DataFrame:
    """Comparable keys for every record, one row per record in input order (index 0..n-1)."""
    if records is None or len(records) == 0:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PREPARED_COLUMNS})
    if "record_id" not in records.columns:
        raise ValueError("records need a 'record_id' column")
    ids = records["record_id"].astype(str)
    if ids.duplicated().any():
        duplicated = ids[ids.duplicated()].iloc[0]
        raise ValueError(f"record_id must be unique; {duplicated!r} occurs more than once")
    cache: dict = {}
    # Column lists zipped into dicts: much faster than DataFrame.to_dict("records").
    columns = [c for c in records.columns]
    values = [records[c].tolist() for c in columns]
    rows = [prepare_record(dict(zip(columns, row)), cache) for row in zip(*values)]
    # Built column by column: much faster than from a list of dicts.
    return pd.DataFrame({column: [row[column] for row in rows] for column in PREPARED_COLUMNS})
