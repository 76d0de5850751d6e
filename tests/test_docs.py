"""docs/architecture.md stays true to the code: every event kind the package writes is listed."""

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
KIND = re.compile(r"^[a-z]+(\.[a-z_]+)?$")


def _str(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def event_kinds() -> set[str]:
    """Kinds as the code spells them: *_EVENT(S) constants (and the scheme ones), `kind = "..."` on
    event classes, and literal kinds passed to an append function."""
    kinds = set()
    for file in (REPO / "review").rglob("*.py"):
        for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
                values = [_str(v) for v in ast.walk(node.value)]
                # schemes.py names its kind constants by the verb alone (CREATE, LINK, ...)
                named_as_kind = any(n == "kind" or "EVENT" in n for n in names) or file.name == "schemes.py"
                if named_as_kind and all(n.isupper() or n == "kind" for n in names):
                    kinds |= {v for v in values if v and KIND.match(v)}
            elif isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "append_event":
                if len(node.args) >= 3 and _str(node.args[2]):
                    kinds.add(_str(node.args[2]))
    return {k for k in kinds if "." in k or k == "import"}


def test_architecture_note_lists_every_event_kind():
    note = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    kinds = event_kinds()
    assert {"import", "dedup.run", "screen.decision", "scheme.create", "extract.save"} <= kinds
    assert sorted(k for k in kinds if f"`{k}`" not in note) == []


def test_readme_links_the_architecture_note():
    assert "docs/architecture.md" in (REPO / "README.md").read_text(encoding="utf-8")
