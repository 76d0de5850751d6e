"""The one error every expected failure of the workbench raises.

Each module keeps its own subclass (ParseError, ProtocolError, ScreeningError, ...)
so callers can catch what they expect, but all of them are `WorkbenchError`s:
the command line catches that one class and prints `file:line: [field] message`,
so a person sees where the problem is and never a traceback.

A subclass passes what it knows (`file`, `line`, `field`) to this constructor;
any of them may be None and is then left out of the text.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """A failure a user can fix: bad input, a refused decision, a missing file."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.message = message
        self.file = None if file is None else str(file)
        self.line = line
        self.field = field
        super().__init__(format_location(message, self.file, line, field))

    def __str__(self) -> str:
        return self.describe()

    def describe(self) -> str:
        """`file:line: [field] message`: what the command line prints, whatever str() a subclass keeps."""
        return format_location(self.message, self.file, self.line, self.field)


def format_location(message: str, file: str | None = None, line: int | None = None,
                    field: str | None = None) -> str:
    """`file:line: [field] message`, leaving out whatever is unknown."""
    where = ""
    if file:
        where = f"{file}:{line}: " if line else f"{file}: "
    what = f"[{field}] " if field else ""
    return f"{where}{what}{message}"
