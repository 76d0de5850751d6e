"""BibTeX / BibLaTeX reader and writer.

Reading goes through bibtexparser 2.x, which splits the file into blocks and
resolves @string macros; everything after that (LaTeX decoding, name splitting,
field mapping) is done here so that `original` can keep the raw values.

bibtexparser never raises on a bad file: it collects the blocks it could not
read in `library.failed_blocks`. Those become a ParseError here, except for a
field repeated inside one entry (Scopus exports repeat `funding_details`), which
loses nothing because `original` keeps every value.
"""

from __future__ import annotations

import re
import unicodedata

import bibtexparser
import bibtexparser.middlewares.parsestack
from bibtexparser.middlewares.names import parse_single_name_into_parts, split_multiple_persons_names
from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from review.io.base import ParseError, refuse_blank, refuse_nul, without_nul
from review.records import Reference, is_corporate, normalise_year, split_pages

FORMAT = "bibtex"
EXTENSIONS = (".bib", ".bibtex")

# BibTeX/BibLaTeX entry type -> Reference type. misc-like types are decided by
# whether they carry a URL (see _reference_type).
ENTRY_TYPES = {
    "article": "article",
    "book": "book",
    "mvbook": "book",
    "collection": "book",
    "booklet": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "inproceedings": "conference",
    "conference": "conference",
    "proceedings": "conference",
    "techreport": "report",
    "report": "report",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "dataset": "dataset",
    "unpublished": "other",
}
WEB_LIKE_TYPES = frozenset({"misc", "online", "electronic", "www"})

# Reference type -> entry type written.
WRITE_TYPES = {
    "article": "article",
    "book": "book",
    "chapter": "incollection",
    "conference": "inproceedings",
    "report": "techreport",
    "thesis": "phdthesis",
    "web": "online",
    "dataset": "dataset",
    "preprint": "unpublished",
    "other": "misc",
}

_SWALLOWED_FIELD = re.compile(r'[}"][ \t]*\r?\n\s*([A-Za-z][\w.:-]*)\s*=\s*[{"]')
_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*[A-Za-z]+[ \t]*[{(]", re.MULTILINE)
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
# Values without any of these need no LaTeX decoding (the fast path: decoding
# costs about a millisecond per abstract).
_LATEX_SPECIAL = re.compile(r"[\\{}$~]|--|``|''|[?!]`")
_VERBATIM_ESCAPE = re.compile(r"\\([_%&#$])")
_URL_MACRO = re.compile(r"\\url\s*\{([^{}]*)\}")
_DASHES = re.compile(r"\s*[-‐‑–—]+\s*")
# Same test as records.surname(), so names written here read back with the same surname.
_INITIALS = re.compile(r"^[A-Z]{1,3}$")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")
_PARAGRAPH = re.compile(r"\s*\n\s*\n\s*")
_LINE_BREAK = re.compile(r"\s*\n\s*")


def sniff(text: str) -> bool:
    """An entry start (`@article{`, `@string(`...) at the beginning of a line."""
    return _ENTRY_START.search(text[:65536]) is not None


# --------------------------------------------------------------------------- reading


def read(text: str, path: str = "<string>", warnings: list[str] | None = None, **options) -> list[Reference]:
    refuse_nul(text, path)
    macros = _MacroCheck(path)
    library = bibtexparser.parse_string(
        text.lstrip("\ufeff"),
        parse_stack=[macros, *bibtexparser.middlewares.parsestack.default_parse_stack(allow_inplace_modification=True)],
    )
    _raise_on_failed_blocks(library, path)
    entries = _entries_in_file_order(library)
    for entry, _ in entries:
        _raise_on_missing_comma(entry, path)
    fields_by_key = {entry.key.lower(): fields for entry, fields in entries}
    decoder = _latex_decoder()
    references = []
    for entry, own in entries:
        parent = fields_by_key.get(own["crossref"][0].strip().lower()) if own.get("crossref") else None
        references.append(_to_reference(entry, own, _with_crossref(own, parent), decoder))
    if warnings is not None:
        warnings.extend(macros.warnings)
    return refuse_blank(references, path)


# BibTeX's predefined macros: the month abbreviations.
_PREDEFINED_MACROS = frozenset("jan feb mar apr may jun jul aug sep oct nov dec".split())


class _MacroCheck:
    """Notes every bare word in a field value that no @string defines.

    BibTeX itself warns and leaves such a field empty; bibtexparser keeps the
    macro's name as the value, so `title = Smith2020` would silently become a
    title. Runs first in the parse stack, while values are still raw.
    """

    def __init__(self, path: str):
        self.path = path
        self.warnings: list[str] = []

    def transform(self, library):
        defined = {block.key.lower() for block in library.strings} | _PREDEFINED_MACROS
        for entry in library.entries:
            for field in entry.fields:
                if not isinstance(field.value, str):
                    continue
                for token in _concatenated_parts(field.value):
                    if token and not _is_enclosed(token) and not token.isdigit() and token.lower() not in defined:
                        line = (field.start_line or entry.start_line or 0) + 1
                        self.warnings.append(
                            f"{self.path}:{line}: [field {field.key}] undefined macro {token!r} in entry "
                            f"{entry.key!r}, kept as the text {token!r}"
                        )
        return library


def _concatenated_parts(value: str) -> list[str]:
    """The parts of a raw value joined by `#` outside braces and quotes."""
    parts, depth, quoted, start = [], 0, False, 0
    for i, char in enumerate(value):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append(value[start:i].strip())
            start = i + 1
    parts.append(value[start:].strip())
    return parts


def _raise_on_failed_blocks(library, path: str) -> None:
    failed = [b for b in library.failed_blocks if not isinstance(b, DuplicateFieldKeyBlock)]
    if not failed:
        return
    failed.sort(key=lambda b: b.start_line or 0)
    first = failed[0]
    more = f" (and {len(failed) - 1} more problem(s) after it)" if len(failed) > 1 else ""
    line = first.start_line + 1 if first.start_line is not None else None
    raise ParseError(path, line, _failure_reason(first) + more)


def _failure_reason(block) -> str:
    if isinstance(block, DuplicateBlockKeyBlock):
        previous = block.previous_block.start_line
        where = f" (first used on line {previous + 1})" if previous is not None else ""
        return f"duplicate entry key {block.key!r}{where}"
    raw = (block.raw or "").strip()
    head = raw.splitlines()[0][:60] if raw else "entry"
    reason = getattr(block.error, "abort_reason", None) or str(block.error)
    return f"cannot read {head!r}: {reason}"


def _raise_on_missing_comma(entry: Entry, path: str) -> None:
    """bibtexparser reads `title = {A}` newline `year = {2000}` (comma
    forgotten) as one title "{A} year={2000}"; BibTeX itself rejects it."""
    for field in entry.fields:
        value = field.value if isinstance(field.value, str) else ""
        match = _SWALLOWED_FIELD.search(value)
        if match:
            line = (field.start_line or 0) + 1 + value.count("\n", 0, match.start(1))
            raise ParseError(
                path, line, f"missing comma before field {match.group(1)!r} in entry {entry.key!r}", field=field.key
            )


def _entries_in_file_order(library) -> list[tuple[Entry, dict[str, list[str]]]]:
    """Each entry with its fields (lower-cased name -> values in file order).

    Includes entries whose only fault is a repeated field. Those skipped
    bibtexparser's middleware, so their values still carry the enclosing
    braces or quotes, which are removed here.
    """
    entries = []
    for block in library.blocks:
        if isinstance(block, Entry):
            entries.append((block, _fields(block, unenclose=False)))
        elif isinstance(block, DuplicateFieldKeyBlock) and isinstance(block.ignore_error_block, Entry):
            entries.append((block.ignore_error_block, _fields(block.ignore_error_block, unenclose=True)))
    return entries


def _fields(entry: Entry, unenclose: bool) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    for field in entry.fields:
        value = str(field.value)
        if unenclose and _is_enclosed(value):
            value = value[1:-1]
        fields.setdefault(field.key.lower(), []).append(value)
    return fields


def _is_enclosed(value) -> bool:
    return isinstance(value, str) and len(value) >= 2 and (
        (value[0] == "{" and value[-1] == "}") or (value[0] == '"' and value[-1] == '"')
    )


def _with_crossref(own: dict[str, list[str]], parent: dict[str, list[str]] | None) -> dict[str, list[str]]:
    """BibTeX crossref: a field the entry lacks comes from the entry it points to.

    One level only; the parent's title is the child's booktitle (a paper in
    proceedings points to the proceedings volume).
    """
    if not parent:
        return own
    merged = dict(own)
    for key, values in parent.items():
        if key == "title":
            merged.setdefault("booktitle", values)
        elif key not in ("crossref", "xref", "ids"):
            merged.setdefault(key, values)
    return merged


def _to_reference(
    entry: Entry, own_fields: dict[str, list[str]], fields: dict[str, list[str]], decoder
) -> Reference:
    """`fields` include what a crossref parent supplies; `original` keeps only the entry's own."""

    def raw(*names: str) -> str:
        for name in names:
            for value in fields.get(name, ()):
                if value.strip():
                    return value
        return ""

    def text(*names: str) -> str:
        return _decode(raw(*names), decoder)

    def verbatim(*names: str) -> str:
        # Identifiers and addresses are not prose: LaTeX decoding would mangle
        # them (a `%` in a URL starts a TeX comment, `--` becomes a dash).
        return _verbatim(raw(*names))

    url = verbatim("url") or _url_in(raw("howpublished"))
    ref_type = _reference_type(entry.entry_type, has_url=bool(url))
    journal = text("journal", "journaltitle")
    if not journal and ref_type in ("chapter", "conference"):
        journal = text("booktitle")
    date = verbatim("date")
    notes = [_decode(v, decoder) for name in ("note", "annote", "annotation") for v in fields.get(name, ())]

    return Reference(
        type=ref_type,
        title=text("title"),
        authors=_authors(raw("author"), decoder),
        year=normalise_year(text("year")) or normalise_year(date),
        journal=journal,
        volume=text("volume"),
        issue=text("number", "issue"),
        pages=_DASHES.sub("-", text("pages")).strip("-"),
        doi=verbatim("doi"),
        pmid=verbatim("pmid") or _pubmed_eprint(fields),
        abstract=text("abstract"),
        keywords=_keywords(text("keywords", "keyword", "author_keywords")),
        url=url,
        publisher=text("publisher", "institution", "organization", "school"),
        place=text("address", "location"),
        issn=verbatim("issn"),
        isbn=verbatim("isbn"),
        language=text("language", "langid"),
        date=date,
        notes=[n for n in notes if n],
        source_id=entry.key,
        line=(entry.start_line or 0) + 1,
        original=_original(entry, own_fields),
    )


def _reference_type(entry_type: str, has_url: bool) -> str:
    entry_type = entry_type.lower()
    if entry_type in WEB_LIKE_TYPES:
        return "web" if has_url else "other"
    return ENTRY_TYPES.get(entry_type, "other")


def _original(entry: Entry, fields: dict[str, list[str]]) -> dict[str, list[str]]:
    """Raw values under the field names as the file spells them."""
    original: dict[str, list[str]] = {"ENTRYTYPE": [entry.entry_type], "ID": [entry.key]}
    spelling = {field.key.lower(): field.key for field in entry.fields}
    for key, values in fields.items():
        original[spelling.get(key, key)] = list(values)
    return original


def _pubmed_eprint(fields: dict[str, list[str]]) -> str:
    eprint_type = "".join(fields.get("eprinttype", [])).strip().lower()
    if eprint_type in ("pubmed", "pmid") and fields.get("eprint"):
        return _verbatim(fields["eprint"][0])
    return ""


def _url_in(value: str) -> str:
    match = _URL_MACRO.search(value or "")
    return match.group(1).strip() if match else ""


def _keywords(value: str) -> list[str]:
    # Semicolons win when present: then commas belong to the keywords
    # themselves ("Diabetes Mellitus, Type 2").
    separator = ";" if ";" in value else ","
    return [k.strip() for k in value.split(separator) if k.strip()]


def _authors(value: str, decoder) -> list[str]:
    if not value.strip():
        return []
    authors = []
    for name in split_multiple_persons_names(value):
        name = name.strip()
        if not name or name.lower() == "others":
            continue  # `and others` is BibTeX for "et al.", not a person
        authors.append(_author(name, decoder))
    return [a for a in authors if a]


def _author(name: str, decoder) -> str:
    """One BibTeX name as "von Last, First" (or whole, for an organisation).

    A name wrapped in braces is an organisation and stays one string. A name
    written with a comma is kept as written. "First von Last" is reordered the
    way BibTeX reads it, except "Smith JA" (surname and initials, as some
    exporters write), which BibTeX would misread as first name "Smith".
    """
    if _is_one_brace_group(name):
        return _decode(name, decoder)
    if _has_top_level_comma(name):
        return _decode(name, decoder)
    tokens = name.split()
    if len(tokens) == 2 and _INITIALS.match(tokens[1].replace(".", "")):
        return _decode(f"{tokens[0]}, {tokens[1]}", decoder)
    parts = parse_single_name_into_parts(name, strict=False)
    last = " ".join(parts.von + parts.last)
    first = " ".join(parts.first + parts.jr)
    if last and first:
        return f"{_decode(last, decoder)}, {_decode(first, decoder)}"
    return _decode(name, decoder)


def _is_one_brace_group(name: str) -> bool:
    if not (name.startswith("{") and name.endswith("}")):
        return False
    depth = 0
    for i, ch in enumerate(name):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(name) - 1:
            return False
    return True


def _has_top_level_comma(name: str) -> bool:
    depth = 0
    for ch in name:
        depth += ch == "{"
        depth -= ch == "}"
        if ch == "," and depth == 0:
            return True
    return False


def _latex_decoder() -> LatexNodes2Text:
    """pylatexenc's decoder, taught the text-mode macros that BibTeX writers use
    for characters that are special in BibTeX (braces, tilde, caret, < >)."""
    context = get_default_latex_context_db()
    context.add_context_category(
        "review-bibtex",
        prepend=True,
        macros=[
            MacroTextSpec("url", simplify_repl="%s"),
            MacroTextSpec("mbox", simplify_repl="%s"),
            MacroTextSpec("textbraceleft", simplify_repl="{"),
            MacroTextSpec("textbraceright", simplify_repl="}"),
            MacroTextSpec("textasciitilde", simplify_repl="~"),
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            MacroTextSpec("textless", simplify_repl="<"),
            MacroTextSpec("textgreater", simplify_repl=">"),
        ],
    )
    return LatexNodes2Text(latex_context=context, keep_braced_groups=False, math_mode="verbatim")


def _decode(value: str, decoder: LatexNodes2Text) -> str:
    """LaTeX source -> display text: accents resolved, braces gone, spaces tidied."""
    if not value:
        return ""
    if _LATEX_SPECIAL.search(value):
        # A bare % is a TeX comment, but in exported titles it is a percent sign.
        value = _UNESCAPED_PERCENT.sub(r"\\%", value)
        fast = _decode_common_latex(value)
        value = fast if fast is not None else _decode_with_pylatexenc(value, decoder)
    return _tidy(value)


def _decode_with_pylatexenc(value: str, decoder: LatexNodes2Text) -> str:
    try:
        return decoder.latex_to_text(value)
    except Exception:  # pylatexenc gives up on some malformed input; keep the raw text
        return value.replace("{", "").replace("}", "")


# pylatexenc understands all of LaTeX but takes milliseconds per value; what
# exports actually contain (accents, escapes, a few text macros, ligatures) is
# decoded here, and anything else falls back to pylatexenc.
_ACCENTS = {
    "'": "\u0301", "`": "\u0300", "^": "\u0302", '"': "\u0308", "~": "\u0303", "=": "\u0304",
    ".": "\u0307", "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328",
    "r": "\u030a", "d": "\u0323", "b": "\u0331",
}
# Characters that later steps would otherwise treat as markup stand in as
# private-use code points until the end.
_PROTECT = {"{": "\ue000", "}": "\ue001", "\\": "\ue002", "~": "\ue003"}
_TEXT_MACROS = {
    "textbackslash": _PROTECT["\\"], "textbraceleft": _PROTECT["{"], "textbraceright": _PROTECT["}"],
    "textasciitilde": _PROTECT["~"], "textasciicircum": "^", "textless": "<", "textgreater": ">",
    "textendash": "\u2013", "textemdash": "\u2014", "textquoteleft": "\u2018", "textquoteright": "\u2019",
    "textquotedblleft": "\u201c", "textquotedblright": "\u201d", "textregistered": "\u00ae",
    "texttrademark": "\u2122", "textcopyright": "\u00a9", "textdegree": "\u00b0", "ldots": "\u2026",
    "dots": "\u2026", "ss": "\u00df", "o": "\u00f8", "O": "\u00d8", "ae": "\u00e6", "AE": "\u00c6",
    "oe": "\u0153", "OE": "\u0152", "aa": "\u00e5", "AA": "\u00c5", "l": "\u0142", "L": "\u0141",
    "i": "\u0131", "j": "\u0237", "S": "\u00a7", "P": "\u00b6", "textbar": "|", "textunderscore": "_",
    # Font switches: their argument is the text.
    **dict.fromkeys(
        ("emph", "textit", "textbf", "textsc", "texttt", "textrm", "textsf", "textsl", "textup", "textnormal", "mbox"),
        "",
    ),
}
_SYMBOL_ACCENT = re.compile(r"""\\([`'^"~=.])\s*(?:\{\s*(\\?[A-Za-z])\s*\}|(\\?[A-Za-z]))""")
_LETTER_ACCENT = re.compile(r"\\([uvHckrdb])(?:\s*\{\s*(\\?[A-Za-z])\s*\}|\s+(\\?[A-Za-z]))")
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)(?:\{\}|\s+)?")
_ESCAPED_CHAR = re.compile(r"\\([%&_#$])")
_ESCAPED_BRACE = re.compile(r"\\([{}])")
_MATH = re.compile(r"(?<!\\)\$")
_LIGATURES = (("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"), ("?`", "\u00bf"), ("!`", "\u00a1"))


def _decode_common_latex(value: str) -> str | None:
    """Decode the LaTeX that exports use; None when something else is there."""
    if _MATH.search(value):
        return None
    value = _SYMBOL_ACCENT.sub(_accented, value)
    value = _LETTER_ACCENT.sub(_accented, value)
    value = _ESCAPED_CHAR.sub(r"\1", value)
    value = _ESCAPED_BRACE.sub(lambda m: _PROTECT[m.group(1)], value)
    value = _CONTROL_WORD.sub(lambda m: _TEXT_MACROS.get(m.group(1), m.group(0)), value)
    if "\\" in value:
        return None
    for ligature, char in _LIGATURES:
        value = value.replace(ligature, char)
    value = value.replace("~", " ").replace("{", "").replace("}", "")
    for char, stand_in in _PROTECT.items():
        value = value.replace(stand_in, char)
    return unicodedata.normalize("NFC", value)


def _accented(match: re.Match) -> str:
    letter = match.group(2) or match.group(3)
    if letter in ("\\i", "\\j"):
        letter = letter[1]  # a dotless i takes the accent: \'{\i} is í
    if letter.startswith("\\"):
        return match.group(0)  # an accent on some other macro: leave it to pylatexenc
    return letter + _ACCENTS[match.group(1)]


def _tidy(value: str) -> str:
    """Collapse runs of spaces; keep paragraph breaks, join wrapped lines."""
    value = _SPACES.sub(" ", value)
    paragraphs = _PARAGRAPH.split(value.strip())
    return "\n\n".join(_LINE_BREAK.sub(" ", p) for p in paragraphs)


def _verbatim(value: str) -> str:
    """An identifier or URL: drop \\url{}, protective braces and TeX escapes."""
    value = _URL_MACRO.sub(r"\1", value or "")
    value = value.replace("{", "").replace("}", "")
    return _VERBATIM_ESCAPE.sub(r"\1", value).strip()


# --------------------------------------------------------------------------- writing

# Characters that BibTeX or LaTeX would interpret. Braces become text macros
# rather than \{ \}, because BibTeX counts every brace, escaped or not.
_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\textbraceleft{}",
    "}": r"\textbraceright{}",
    "%": r"\%",
    "&": r"\&",
    "#": r"\#",
    "$": r"\$",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_ESCAPE_PATTERN = re.compile(r"[\\{}%&#$_~^]|(?<=-)-|(?<=`)`|(?<=')'|(?<=[?!])`|(?m:^(?=\s*@))")
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9_:.+/-]+")
_AND_WORD = re.compile(r"\band\b", re.IGNORECASE)


def write(references) -> str:
    """BibTeX text for the references, one entry each, keys unique; text exact, no NUL."""
    references = list(references)
    keys = _unique_keys(references)
    return without_nul("".join(_entry_text(ref, key) for ref, key in zip(references, keys)))


def _entry_text(ref: Reference, key: str) -> str:
    entry_type = WRITE_TYPES.get(ref.type, "misc")
    lines = [f"@{entry_type}{{{key},"]
    for name, value in _fields_to_write(ref, entry_type):
        if value:
            lines.append(f"  {name} = {{{value}}},")
    lines.append("}\n")
    return "\n".join(lines) + "\n"


def _fields_to_write(ref: Reference, entry_type: str) -> list[tuple[str, str]]:
    container = "booktitle" if entry_type in ("incollection", "inproceedings") else "journal"
    publisher = {"techreport": "institution", "phdthesis": "school"}.get(entry_type, "publisher")
    start, end = split_pages(ref.pages)
    pages = f"{start}--{end}" if start and end else start or end
    return [
        ("author", " and ".join(_author_to_bibtex(a) for a in ref.authors if a.strip())),
        ("title", _escape(ref.title)),
        (container, _escape(ref.journal)),
        ("year", str(ref.year) if ref.year else ""),
        ("date", _escape(ref.date)),
        ("volume", _escape(ref.volume)),
        ("number", _escape(ref.issue)),
        ("pages", _escape(pages).replace(r"-{}-", "--")),
        ("doi", _escape_verbatim(ref.doi)),
        ("pmid", _escape_verbatim(ref.pmid)),
        ("issn", _escape_verbatim(ref.issn)),
        ("isbn", _escape_verbatim(ref.isbn)),
        (publisher, _escape(ref.publisher)),
        ("address", _escape(ref.place)),
        ("language", _escape(ref.language)),
        ("keywords", _escape("; ".join(k for k in ref.keywords if k.strip()))),
        ("abstract", _escape(ref.abstract)),
        ("url", _escape_verbatim(ref.url)),
        ("note", _escape("; ".join(n for n in ref.notes if n.strip()))),
    ]


def _escape(text: str) -> str:
    """Display text -> BibTeX value that reads back as the same text.

    Also breaks up `--`, ``` `` ``` and `''` (LaTeX ligatures) with `{}`, and
    protects an `@` at the start of a line, which parsers take for a new entry.
    """
    if not text:
        return ""
    text = _tidy(str(text))

    def replace(match: re.Match) -> str:
        found = match.group(0)
        if found in _ESCAPES:
            return _ESCAPES[found]
        if found == "":
            return "{}"  # zero-width match before a line-initial @
        return "{}" + found

    return _ESCAPE_PATTERN.sub(replace, text)


def _escape_verbatim(value: str) -> str:
    """Identifiers and URLs are written as they are; only characters that
    would end the field or the entry are percent-encoded."""
    value = re.sub(r"\s+", "", value or "")
    return value.replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")


def _author_to_bibtex(author: str) -> str:
    """A display name -> a BibTeX name that reads back with the same surname.

    Organisations are braced so BibTeX does not split them; a name containing
    the word "and" is braced so it is not taken for two people. Names without
    a comma are turned round to "Surname, Given" the way records.surname()
    reads them ("Smith JA" -> "Smith, JA"; "John Smith" -> "Smith, John").
    """
    author = _tidy(author).replace("\n", " ")
    escaped = _escape(author)
    if is_corporate(author) or _AND_WORD.search(author) or author.count(",") > 2:
        return "{" + escaped + "}"
    if "," in author:
        return escaped
    tokens = author.split()
    if len(tokens) < 2:
        return escaped
    if _INITIALS.match(tokens[-1].replace(".", "")):
        surname, given = " ".join(tokens[:-1]), tokens[-1]
    else:
        surname, given = tokens[-1], " ".join(tokens[:-1])
    return f"{_escape(surname)}, {_escape(given)}"


def _unique_keys(references) -> list[str]:
    keys = []
    seen: set[str] = set()
    for ref in references:
        base = _safe_key(ref.source_id) or _fallback_key(ref)
        key, n = base, 2
        # BibTeX compares keys without regard to case.
        while key.lower() in seen:
            key, n = f"{base}-{n}", n + 1
        seen.add(key.lower())
        keys.append(key)
    return keys


def _safe_key(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", str(text or "")).encode("ascii", "ignore").decode()
    return _KEY_UNSAFE.sub("_", ascii_text).strip("_")


def _fallback_key(ref: Reference) -> str:
    words = (ref.authors[0] if ref.authors else "").split(",")[0].split()
    surname = _safe_key(words[-1]) if words else ""
    return (surname or "ref") + (str(ref.year) if ref.year else "")
