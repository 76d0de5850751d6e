"""Safe HTML for widgets: every piece of record text is escaped before it is shown."""

from __future__ import annotations

import difflib
import html
import re

_TOKENS = re.compile(r"\s+|[^\s]+")


def escape(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = "; ".join(str(v) for v in value)
    return html.escape(str(value), quote=True)


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
