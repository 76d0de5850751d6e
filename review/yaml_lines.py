"""Line numbers for YAML errors: people fix a file faster when told where."""

from __future__ import annotations

import yaml


def compose(text: str) -> yaml.Node | None:
    """The node tree of a YAML text (safe loader; no objects are built)."""
    return yaml.compose(text, Loader=yaml.SafeLoader)


def duplicate_key(root: yaml.Node | None) -> tuple[str, int, int] | None:
    """(key, its line, line of its first use) for the first key repeated in one mapping.

    YAML forbids duplicate keys, but PyYAML keeps the last value silently, so a
    protocol edited by two people could lose a setting without a word.
    """
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in seen:
                        return k.value, k.start_mark.line + 1, seen[k.value]
                    seen[k.value] = k.start_mark.line + 1
                stack.append(v)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def line_of(root: yaml.Node | None, path, key: bool = False) -> int | None:
    """1-based line of the node at `path` (of its key if `key`), or of the nearest parent that exists."""
    node, line = root, (root.start_mark.line + 1 if root is not None else None)
    path = tuple(path)
    for i, step in enumerate(path):
        match = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if getattr(k, "value", None) == str(step):
                    match = k if key and i == len(path) - 1 else v
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            match = node.value[step]
        if match is None:
            break
        node, line = match, match.start_mark.line + 1
    return line
