"""EndNote XML reader (also the EndNote-style XML written by Zotero and Mendeley).

The file is parsed with defusedxml's SAX parser, which refuses entity
declarations and external references (no "billion laughs", no file reads).
SAX gives the line where each <record> starts; each record is then built into a
small ElementTree element so that fields are read with find()/itertext().

EndNote wraps text in <style face=... font=... size=...> elements, sometimes
several per field (a title with an italic species name); text is joined across
them. Zotero and Mendeley write the text directly.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
import xml.sax
from xml.sax.handler import ContentHandler

import defusedxml.sax
from defusedxml import DefusedXmlException

from review.io.base import ParseError, refuse_blank, refuse_nul
from review.records import Reference, normalise_year

FORMAT = "endnote-xml"
EXTENSIONS = (".xml",)

# EndNote reference type name -> Reference type.
REF_TYPE_NAMES = {
    "journal article": "article",
    "electronic article": "article",
    "magazine article": "article",
    "newspaper article": "article",
    "book": "book",
    "edited book": "book",
    "electronic book": "book",
    "book section": "chapter",
    "electronic book section": "chapter",
    "conference proceedings": "conference",
    "conference paper": "conference",
    "report": "report",
    "government document": "report",
    "thesis": "thesis",
    "web page": "web",
    "online database": "web",
    "blog": "web",
    "dataset": "dataset",
}
# Used when a record has a ref-type number but no name.
REF_TYPE_NUMBERS = {
    "17": "article", "43": "article", "6": "book", "28": "book", "5": "chapter", "10": "conference",
    "47": "conference", "27": "report", "46": "report", "32": "thesis", "12": "web", "59": "dataset",
}

_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_ISSN = re.compile(r"^\d{4}-?\d{3}[\dXx]$")
_PMID = re.compile(r"^\d{1,9}$")
_LINE_BREAKS = re.compile(r"\r\n?")


def sniff(text: str) -> bool:
    head = text[:20000].lstrip("\ufeff \t\r\n")
    if not (head.startswith("<?xml") or head.startswith("<xml") or head.startswith("<records")):
        return False
    return "<records" in head and re.search(r"<record[\s>]", head) is not None


def read(text: str, path: str = "<string>", **options) -> list[Reference]:
    refuse_nul(text, path)
    handler = _RecordCollector()
    try:
        defusedxml.sax.parseString(_as_utf8(text), handler)
    except xml.sax.SAXParseException as exc:
        raise ParseError(
            path, exc.getLineNumber(), f"malformed XML at column {exc.getColumnNumber()}: {exc.getMessage()}"
        ) from None
    except DefusedXmlException as exc:
        raise ParseError(path, handler.line(), f"refused unsafe XML ({type(exc).__name__}): {exc}") from None
    if not handler.saw_records:
        raise ParseError(path, None, "not an EndNote XML export: no <records> element")
    references = [_to_reference(element, line, number) for number, (line, element) in enumerate(handler.records, 1)]
    return refuse_blank(references, path)


def _as_utf8(text: str) -> bytes:
    """The text was already decoded (review.io.base.decode), so the XML
    declaration's encoding no longer applies; restate it as UTF-8.

    Replacing the declaration in place keeps line numbers unchanged.
    """
    text = text.lstrip("\ufeff")
    text = _XML_DECLARATION.sub('<?xml version="1.0" encoding="UTF-8"?>', text, count=1)
    return text.encode("utf-8")


class _RecordCollector(ContentHandler):
    """Collects each <record> as an Element, with the line it starts on."""

    def __init__(self):
        super().__init__()
        self.records: list[tuple[int, ET.Element]] = []
        self.saw_records = False
        self._locator = None
        self._builder: ET.TreeBuilder | None = None
        self._depth_in_record = 0
        self._record_line = 0

    def line(self) -> int | None:
        return self._locator.getLineNumber() if self._locator else None

    def setDocumentLocator(self, locator):
        self._locator = locator

    def startElement(self, name, attrs):
        if self._builder is not None:
            self._depth_in_record += 1
            self._builder.start(name, dict(attrs))
        elif name == "records":
            self.saw_records = True
        elif name == "record" and self.saw_records:
            self._builder = ET.TreeBuilder()
            self._builder.start(name, dict(attrs))
            self._depth_in_record = 0
            self._record_line = self.line() or 0

    def endElement(self, name):
        if self._builder is None:
            return
        self._builder.end(name)
        if self._depth_in_record == 0:
            self.records.append((self._record_line, self._builder.close()))
            self._builder = None
        else:
            self._depth_in_record -= 1

    def characters(self, content):
        if self._builder is not None:
            self._builder.data(content)


def _text(element: ET.Element | None) -> str:
    """All text inside an element (across <style> runs), line breaks kept."""
    if element is None:
        return ""
    return _LINE_BREAKS.sub("\n", "".join(element.itertext())).strip()


def _first(record: ET.Element, *paths: str) -> str:
    for path in paths:
        value = _text(record.find(path))
        if value:
            return value
    return ""


def _all(record: ET.Element, path: str) -> list[str]:
    return [value for value in (_text(e) for e in record.findall(path)) if value]


def _to_reference(record: ET.Element, line: int, number: int) -> Reference:
    numbers = "; ".join(_first(record, "isbn").split("\n"))  # EndNote puts one per line
    issn, isbn = (numbers, "") if _looks_like_issn(numbers) else ("", numbers)
    accession = _first(record, "accession-num")
    dates = _first(record, "dates/pub-dates/date")
    return Reference(
        type=_reference_type(record.find("ref-type")),
        title=_first(record, "titles/title"),
        # EndNote marks an organisation with a trailing comma ("World Health Organization,").
        authors=[a.rstrip(",").strip() for a in _all(record, "contributors/authors/author")],
        year=normalise_year(_first(record, "dates/year")) or normalise_year(dates),
        journal=_first(record, "titles/secondary-title", "periodical/full-title", "periodical/abbr-1"),
        volume=_first(record, "volume"),
        issue=_first(record, "number", "issue"),
        pages=_first(record, "pages"),
        doi=_first(record, "electronic-resource-num"),
        # EndNote stores PubMed's PMID here; other databases' accession numbers
        # are longer or contain letters (Embase "L2004", WoS "WOS:000...").
        pmid=accession if _PMID.match(accession) else "",
        abstract=_first(record, "abstract"),
        keywords=_all(record, "keywords/keyword"),
        url=_first(record, "urls/related-urls/url", "urls/web-urls/url", "urls/pdf-urls/url"),
        publisher=_first(record, "publisher"),
        place=_first(record, "pub-location"),
        issn=issn,
        isbn=isbn,
        language=_first(record, "language"),
        date=dates,
        notes=_all(record, "notes"),
        source_id=_first(record, "rec-number") or str(number),
        line=line,
        original=_flatten(record),
    )


def _reference_type(element: ET.Element | None) -> str:
    if element is None:
        return "other"
    name = element.get("name", "").strip().casefold()
    if name in REF_TYPE_NAMES:
        return REF_TYPE_NAMES[name]
    return REF_TYPE_NUMBERS.get(_text(element), "other")


def _looks_like_issn(value: str) -> bool:
    """The <isbn> element holds either; ISSNs are 8 characters ("1939-1676",
    possibly several separated by spaces or line breaks)."""
    first = value.replace(";", " ").split()[0] if value.strip() else ""
    return bool(_ISSN.match(first))


def _flatten(record: ET.Element) -> dict[str, list[str]]:
    """Tag path -> values, e.g. "titles/title", "contributors/authors/author",
    and "ref-type@name" for attributes. <style> runs are part of their field."""
    original: dict[str, list[str]] = {}

    def visit(element: ET.Element, prefix: str) -> None:
        for child in element:
            path = f"{prefix}/{child.tag}" if prefix else child.tag
            for key, value in child.attrib.items():
                original.setdefault(f"{path}@{key}", []).append(value)
            fields = [c for c in child if c.tag != "style"]
            if fields:
                visit(child, path)
            else:
                value = _text(child)
                if value:
                    original.setdefault(path, []).append(value)

    visit(record, "")
    return original
