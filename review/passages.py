"""Full texts as pages of text, so a passage (page, character span, quoted text) can be coded.

PDFs are read with pypdf (pure Python, maintained); plain text files are split
into pages at form feeds. Manuscripts set with page-margin line numbers (seed
001: "12 towards the government's stated goal ...") carry those numbers into the
extracted text; they are stripped, and where a text file has no form feeds the
restart of the numbering at 1 marks a new page, so page numbers survive.

Extraction is deterministic, so the same file gives the same offsets; codings
still keep their quoted text (review.coding), so they survive a change of
extractor or file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from review.errors import WorkbenchError

if TYPE_CHECKING:
    from review.project import Review


class PassageError(WorkbenchError, ValueError):
    pass


@dataclass(frozen=True)
class Page:
    number: int  # 1-based position in the document
    text: str
    label: str = ""  # the page label printed in a PDF, or how the page was found


@dataclass(frozen=True)
class Document:
    path: str
    pages: list[Page]

    @property
    def text(self) -> str:
        return "\n\f".join(p.text for p in self.pages)

    def find(self, quote: str, start_page: int = 1) -> tuple[int, int, int]:
        """(page, start, end) of the first occurrence of `quote`, whitespace-insensitive."""
        pattern = re.compile(r"\s+".join(re.escape(w) for w in quote.split()))
        for page in self.pages[start_page - 1:]:
            match = pattern.search(page.text)
            if match:
                return page.number, match.start(), match.end()
        raise PassageError(f"{self.path}: quote not found: {quote[:60]!r}")


# A margin number, or two ("20 21" where a heading sat between two lines), at the start of a line and
# followed by a space: a tab after a number is a table of contents ("1\tIntroduction\t4"), not a margin.
_MARGIN = re.compile(r"^(\d{1,2})(?: +(\d{1,2}))?(?= |$) *")
MIN_RUN = 5  # shorter runs of numbered lines are ordinary text ("7 Barriers, facilitators ...")


def _runs(lines: list[str]) -> list[list[tuple[int, int, int]]]:
    """Runs of lines whose leading numbers count up by 1 or 2 (or repeat): (line index, first, last number)."""
    runs: list[list[tuple[int, int, int]]] = []
    current: list[tuple[int, int, int]] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        match = _MARGIN.match(line)
        if not match:
            if current:
                runs.append(current)
                current = []
            continue
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if last < first or last - first > 1 or last > 99:
            if current:
                runs.append(current)
            current = []
            continue
        if current and 0 <= first - current[-1][2] <= 2:
            current.append((i, first, last))
        else:
            if current:
                runs.append(current)
            current = [(i, first, last)]
    if current:
        runs.append(current)
    return [r for r in runs if len(r) >= MIN_RUN]


def strip_margin_numbers(text: str) -> tuple[str, list[int]]:
    """Text without page-margin line numbers, and the character offsets where numbering restarted at 1."""
    lines = text.split("\n")
    stripped: dict[int, str] = {}
    restarts: set[int] = set()
    previous_last = None
    for run in _runs(lines):
        for position, (i, first, last) in enumerate(run):
            rest = _MARGIN.sub("", lines[i], count=1)
            stripped[i] = rest
            if first == 1 and (position > 0 or (previous_last is not None and previous_last > 1)):
                restarts.add(i)
            if position == 0 and first == 1 and previous_last is not None:
                restarts.add(i)
        previous_last = run[-1][2]
    out: list[str] = []
    breaks: list[int] = []
    offset = 0
    for i, line in enumerate(lines):
        if i in restarts:
            breaks.append(offset)
        if i in stripped:
            line = stripped[i]
            if not line.strip():
                continue  # a line that held only its number
        out.append(line)
        offset += len(line) + 1
    return "\n".join(out), breaks


def _tidy(text: str) -> str:
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def from_text(text: str, path: str = "<text>") -> Document:
    """Pages of a plain text: form feeds separate pages; without them, a restart of margin numbering does."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\f" in text:
        pages = [_tidy(strip_margin_numbers(chunk)[0]) for chunk in text.split("\f")]
        return Document(path, [Page(i, t) for i, t in enumerate(pages, start=1)])
    body, breaks = strip_margin_numbers(text)
    if not breaks:
        return Document(path, [Page(1, _tidy(body))])
    bounds = [0, *[b for b in breaks if b > 0], len(body)]
    chunks = [body[a:b] for a, b in zip(bounds, bounds[1:])]
    while len(chunks) > 1 and not chunks[-1].strip():
        chunks.pop()
    return Document(path, [Page(i, _tidy(c), "page inferred from margin line numbers")
                           for i, c in enumerate(chunks, start=1)])


def from_pdf(path: str | Path) -> Document:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        labels = list(reader.page_labels)
        texts = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, OSError, ValueError) as exc:
        raise PassageError(f"{path}: cannot read the PDF: {exc}") from None
    pages = []
    for i, text in enumerate(texts, start=1):
        body = _tidy(strip_margin_numbers(text.replace("\r\n", "\n"))[0])
        label = labels[i - 1] if i - 1 < len(labels) else ""
        pages.append(Page(i, body, f"printed page {label}" if label and label != str(i) else ""))
    return Document(str(path), pages)


def extract(path: str | Path) -> Document:
    """A full text file (PDF, or plain text in UTF-8 or Latin-1) as pages."""
    path = Path(path)
    if not path.exists():
        raise PassageError(f"full text file not found: {path}")
    if path.suffix.lower() == ".pdf":
        return from_pdf(path)
    data = path.read_bytes()
    if data.startswith(b"%PDF"):
        return from_pdf(path)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return from_text(text, str(path))


def full_text_path(review: "Review", record_id: int) -> Path:
    from review import screening

    state = screening.ScreeningState.load(review)
    cluster = state.cluster_of(int(record_id))
    location = state.full_texts.get(cluster)
    if location is None:
        raise PassageError(f"record {record_id} has no full text attached")
    if location.lower().startswith(("http://", "https://")):
        raise PassageError(f"record {record_id}: the full text is a URL ({location}); download it and attach the file")
    path = Path(location)
    return path if path.is_absolute() else review.path / path


def for_record(review: "Review", record_id: int) -> Document:
    """The attached full text of a record (its cluster), as pages."""
    return extract(full_text_path(review, record_id))
