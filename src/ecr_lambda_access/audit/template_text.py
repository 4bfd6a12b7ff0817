"""A template's text read with the line of each resource: JSON walked once with the C decoder,
duplicate keys refused (the loader, :mod:`.load`, holds the text; the formatters point at the
lines and open nothing)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

__all__ = ["NO_LINES", "TemplateLines", "parse_json", "parse_json_template"]


@dataclass(frozen=True)
class TemplateLines:
    """Where a template defines its resources: 1-based lines, recorded while it is parsed.

    ``resources`` is the line of the ``Resources`` key (None when there is none);
    ``by_id`` maps each logical id to the line of its key *under* ``Resources`` (never a
    ``Ref``, a ``DependsOn`` or an ``Outputs`` entry of the same name). Both are read from the
    text the loader already holds, once; the formatters point at them and open nothing.
    """

    resources: int | None = None
    by_id: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))

    def of(self, logical_id: str) -> int | None:
        """The line where ``logical_id`` is defined, or None when it is not known."""
        return self.by_id.get(logical_id) if logical_id else None


NO_LINES = TemplateLines()


def _duplicate_keys_refused(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def parse_json(text: str) -> Any:
    """JSON with duplicate keys refused (which would otherwise silently keep the last)."""
    return json.loads(text, object_pairs_hook=_duplicate_keys_refused)


_scan_string: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_DECODER = json.JSONDecoder(object_pairs_hook=_duplicate_keys_refused)
_JSON_SPACE = re.compile(r"[ \t\n\r]*")


class _NotWalked(Exception):
    """The fast walk gave up: the text is parsed the plain way (which names any error)."""


def parse_json_template(text: str) -> tuple[Any, TemplateLines]:
    """A JSON template, and the line of each resource's key under ``Resources``.

    The top-level object and ``Resources`` are walked here, key by key, and every value is
    decoded by the C decoder from where it starts (:meth:`json.JSONDecoder.raw_decode`): the text
    is decoded once, as :func:`json.loads` would, and the lines are counted up to each key
    (``str.count`` over the text already in memory, once in all). Whatever the walk does not
    expect (not an object at the top, a syntax error, a duplicate key) is left to
    :func:`parse_json`, which raises the same error it always did, or parses it without lines.
    """
    try:
        return _walk_json_template(text)
    except (_NotWalked, ValueError, IndexError):
        return parse_json(text), NO_LINES


def _walk_json_template(text: str) -> tuple[dict[str, Any], TemplateLines]:
    def skip(at: int) -> int:
        """The position of the first character at or after ``at`` that is not JSON space."""
        match = _JSON_SPACE.match(text, at)
        return at if match is None else match.end()

    counted, line = 0, 1

    def line_at(position: int) -> int:
        nonlocal counted, line
        line += text.count("\n", counted, position)
        counted = position
        return line

    def walk_object(
        start: int, on_key: Callable[[str, int, int], tuple[Any, int]]
    ) -> tuple[dict[str, Any], int]:
        """The object at ``start`` (its ``{``), each value read by ``on_key(key, key position,
        value position)``; returns it and the position after its ``}``."""
        found: dict[str, Any] = {}
        at = skip(start + 1)
        if text[at] == "}":
            return found, at + 1
        while True:
            if text[at] != '"':
                raise _NotWalked
            key, after = _scan_string(text, at + 1)
            after = skip(after)
            if text[after] != ":":
                raise _NotWalked
            value_at = skip(after + 1)
            if key in found:
                raise _NotWalked  # json.loads names the duplicate
            found[key], at = on_key(key, at, value_at)
            at = skip(at)
            if text[at] == ",":
                at = skip(at + 1)
            elif text[at] == "}":
                return found, at + 1
            else:
                raise _NotWalked

    by_id: dict[str, int] = {}
    resources_line: int | None = None

    def resource(key: str, key_at: int, value_at: int) -> tuple[Any, int]:
        by_id[key] = line_at(key_at)
        return _DECODER.raw_decode(text, value_at)

    def section(key: str, key_at: int, value_at: int) -> tuple[Any, int]:
        nonlocal resources_line
        if key != "Resources" or text[value_at] != "{":
            return _DECODER.raw_decode(text, value_at)
        resources_line = line_at(key_at)
        return walk_object(value_at, resource)

    start = skip(0)
    if text[start : start + 1] != "{":
        raise _NotWalked
    template, end = walk_object(start, section)
    if skip(end) != len(text):
        raise _NotWalked  # extra data: json.loads says where
    return template, TemplateLines(resources_line, MappingProxyType(by_id))
