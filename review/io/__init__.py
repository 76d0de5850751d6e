"""Readers and writers, one module per format behind one interface.

Each format module has:
    FORMAT      its name ("ris", "bibtex", ...)
    EXTENSIONS  file endings it claims
    sniff(text) -> bool        whether text looks like this format
    read(text, path) -> list[Reference]   raises ParseError with file:line
and, where the format can be written, write(references) -> str.
"""

from __future__ import annotations

import os
from pathlib import Path

from review.io import bibtex, endnote_xml, medline, ris, tabular
from review.io.base import ParsedFile, ParseError, decode, refuse_nul

READERS = {m.FORMAT: m for m in (ris, bibtex, medline, endnote_xml, tabular)}
WRITERS = {"ris": ris, "bibtex": bibtex, "csv": tabular}
FORMATS = tuple(READERS)

__all__ = ["ParseError", "ParsedFile", "READERS", "WRITERS", "FORMATS", "read_file", "read_bytes", "detect_format"]


def detect_format(text: str, path: str | os.PathLike = "") -> str:
    """Pick a reader by content first, by file ending second.

    Content wins because exports are often misnamed (Web of Science tagged text
    saved as .ris, MEDLINE saved as .txt).
    """
    for name in ("endnote-xml", "medline", "ris", "bibtex", "csv"):
        module = READERS[name]
        if module.sniff(text):
            return name
    suffix = Path(path).suffix.lower()
    for name, module in READERS.items():
        if suffix in module.EXTENSIONS:
            return name
    raise ParseError(str(path), None, "cannot tell the format of this file; give --format")


def read_bytes(data: bytes, path: str | os.PathLike, format: str = "auto", **options) -> ParsedFile:
    text, encoding = decode(data, str(path))
    refuse_nul(text, str(path))
    if format in (None, "", "auto"):
        format = detect_format(text, path)
    if format not in READERS:
        raise ParseError(str(path), None, f"unknown format {format!r}; known: {', '.join(FORMATS)}")
    warnings: list[str] = []
    references = READERS[format].read(text, str(path), warnings=warnings, **options)
    return ParsedFile(path=str(path), format=format, encoding=encoding, references=references, warnings=warnings)


def read_file(path: str | os.PathLike, format: str = "auto", **options) -> ParsedFile:
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ParseError(str(path), None, f"cannot read file: {exc.strerror}") from None
    return read_bytes(data, path, format, **options)
