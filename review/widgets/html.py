"""Safe HTML for widgets: every piece of record text is escaped before it is shown."""

from __future__ import annotations

import difflib
import html
import re
from datetime import datetime, timezone

_TOKENS = re.compile(r"\s+|[^\s]+")


def escape(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    return html.escape(str(value), quote=True)


def local_minute(timestamp: str | None) -> str:
    """A stored UTC time (ISO 8601) as people read it: local time, to the minute."""
    if not timestamp:
        return ""
    try:
        moment = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        return str(timestamp)
    if moment.tzinfo is None:  # stored times are UTC; a naive one is read as UTC too
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def highlight_differences(a: str, b: str) -> tuple[str, str]:
    """Escaped HTML of a and b with the words that differ wrapped in <mark>."""
    ta, tb = _TOKENS.findall(a or ""), _TOKENS.findall(b or "")
    out_a, out_b = [], []
    matcher = difflib.SequenceMatcher(None, [t.casefold() for t in ta], [t.casefold() for t in tb], autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        left, right = "".join(ta[i1:i2]), "".join(tb[j1:j2])
        if op == "equal":
            out_a.append(escape(left))
            out_b.append(escape(right))
        else:
            if left.strip():
                out_a.append(f"<mark>{escape(left)}</mark>")
            else:
                out_a.append(escape(left))
            if right.strip():
                out_b.append(f"<mark>{escape(right)}</mark>")
            else:
                out_b.append(escape(right))
    return "".join(out_a), "".join(out_b)


def term_pattern(terms: list[str]) -> re.Pattern | None:
    """A case-insensitive pattern for protocol terms; a trailing * matches any word ending."""
    parts = []
    for term in terms:
        term = term.strip()
        if not term:
            continue
        wildcard = term.endswith("*")
        body = re.escape(term.rstrip("*")).replace(r"\ ", r"\s+")
        parts.append(body + (r"\w*" if wildcard else r"\b"))
    if not parts:
        return None
    return re.compile(r"\b(?:" + "|".join(sorted(parts, key=len, reverse=True)) + ")", re.IGNORECASE)


def highlight_terms(text: str, include: re.Pattern | None, exclude: re.Pattern | None) -> str:
    """Escaped HTML of text with inclusion terms and exclusion terms marked (two classes)."""
    text = "" if text is None else str(text)
    spans = []
    for pattern, css in ((include, "rv-inc"), (exclude, "rv-exc")):
        if pattern is not None:
            spans += [(m.start(), m.end(), css) for m in pattern.finditer(text)]
    spans.sort()
    out, at = [], 0
    for start, end, css in spans:
        if start < at:  # overlapping matches: the first one wins
            continue
        out.append(escape(text[at:start]))
        out.append(f"<mark class='{css}'>{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)
