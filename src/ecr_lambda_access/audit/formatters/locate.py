"""Where a resource is defined in its template: the line of its logical id under ``Resources``.

The loader keeps parsed templates, not lines; the SARIF and JUnit formatters need a line to point
at. This reads the template's text again and finds the key of the resource *at the right depth*
(a key of the top-level ``Resources`` object), so the same id appearing in a ``Ref``, a
``DependsOn`` or another resource's name never matches. JSON is scanned token by token (strings,
escapes and nesting handled); a template that is not JSON (a YAML file given to the plugin) is
searched line by line for an indented ``LogicalId:`` key after a ``Resources:`` line.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from ..load import read_regular_text

__all__ = ["resource_lines", "resource_line"]

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)


def _json_resource_lines(text: str) -> dict[str, int] | None:
    """Logical id -> line of its key in ``Resources``, or None when the text is not JSON."""
    if not text.lstrip().startswith("{"):
        return None
    found: dict[str, int] = {}
    depth = 0
    line = 1
    in_resources = False
    expecting_key = False
    last_top_key: str | None = None
    i = 0
    length = len(text)
    while i < length:
        char = text[i]
        if char == "\n":
            line += 1
        elif char == '"':
            match = _STRING.match(text, i)
            if match is None:
                return None
            token = match.group(0)
            try:
                value = json.loads(token)
            except json.JSONDecodeError:
                return None
            if expecting_key:
                if depth == 1:
                    last_top_key = value
                elif depth == 2 and in_resources:
                    found.setdefault(value, line)
            line += token.count("\n")
            i = match.end()
            expecting_key = False
            continue
        elif char in "{[":
            if char == "{" and depth == 1:
                in_resources = last_top_key == "Resources"
            depth += 1
            expecting_key = char == "{"
        elif char in "}]":
            depth -= 1
            if depth == 1:
                in_resources = False
            expecting_key = False
        elif char == ",":
            # after a comma inside an object comes a key; inside an array a value (the
            # distinction does not matter at depths 1-2 where only objects are of interest)
            expecting_key = True
        elif char == ":":
            expecting_key = False
        i += 1
    return found if depth == 0 else None


def _yaml_resource_lines(text: str) -> dict[str, int]:
    found: dict[str, int] = {}
    in_resources = False
    indent: int | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        stripped = raw.lstrip(" ")
        level = len(raw) - len(stripped)
        if level == 0:
            in_resources = stripped.rstrip().startswith("Resources:")
            indent = None
            continue
        if not in_resources:
            continue
        if indent is None:
            indent = level
        if level == indent:
            key = re.match(r"""^(["']?)([A-Za-z0-9]+)\1\s*:""", stripped)
            if key:
                found.setdefault(key.group(2), number)
    return found


@lru_cache(maxsize=256)
def resource_lines(template_path: str) -> dict[str, int]:
    """Logical id -> 1-based line of its definition; empty when the file cannot be read."""
    try:  # a regular file only, within the loader's size cap (never a FIFO or a device)
        text = read_regular_text(Path(template_path), "the template", OSError)
    except OSError:
        return {}
    found = _json_resource_lines(text)
    return found if found is not None else _yaml_resource_lines(text)


def resource_line(template_path: str, logical_id: str) -> int | None:
    """The line where ``logical_id`` is defined in the template, or None when not found."""
    if not logical_id:
        return None
    return resource_lines(template_path).get(logical_id)
