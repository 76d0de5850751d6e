"""docs/architecture.md stays true to the code."""

from pathlib import Path

from review import events

REPO = Path(__file__).resolve().parents[1]


def test_architecture_note_lists_every_event_kind_with_its_class():
    note = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    missing = [f"{kind} ({cls.__name__})" for kind, cls in sorted(events.KINDS.items())
               if f"`{kind}`" not in note or f"`{cls.__name__}`" not in note]
    assert missing == [], "add these to the event table in docs/architecture.md"


def test_readme_links_the_architecture_note():
    assert "docs/architecture.md" in (REPO / "README.md").read_text(encoding="utf-8")
