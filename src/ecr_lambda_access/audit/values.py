"""Values of the assembly model: a string, or an :class:`Unknown` that carries its reason.

A value known only at deploy time (the account of an env-agnostic stack, a name CloudFormation
generates, a parameter without a default, an export not in the assembly) is an :class:`Unknown`:
its ``reason`` says what it is (which parameter, which import, which condition), and two readings
of the same deploy-time value compare equal (the account of one stack is one value wherever it
appears). A string only partly known (an image URI whose account is ``Ref AWS::AccountId``) is an
:class:`Unknown` too, whose ``parts`` hold its literal and unknown pieces in order.

Every reader after the model asks ``isinstance(value, Unknown)``. The resolver
(:mod:`.resolve`) carries unknowns through intrinsics as placeholder text; :func:`encode` and
:func:`decode` are the only two places that text is written and read, and the model converts it
once (:meth:`Unknowns.value_of`). Only the policy evaluator, which compares text, gets a
rendering (:func:`render`): a value the function and the repository share stays one opaque
literal, every other unknown becomes CDK-token text the evaluator treats as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TypeAlias

__all__ = [
    "Unknown",
    "Value",
    "encode",
    "decode",
    "reasons",
    "render",
    "unknowns_in",
]

_OPEN = "\u27e6"
_CLOSE = "\u27e7"
PLACEHOLDER = re.compile(_OPEN + r"(\d+)" + _CLOSE)
"""The resolver's placeholder text for unknown number N (internal to the resolver and model)."""


@dataclass(frozen=True)
class Unknown:
    """A value the model cannot know before deploy, with the reason.

    ``key`` identifies one deploy-time value (equal keys: the same value); ``target`` is the
    (stack index, logical id) of the resource whose generated name or attribute it is. A partly
    known string has ``parts``: its literal and unknown pieces in order (``key`` is None)."""

    reason: str
    key: int | None = None
    target: tuple[int, str] | None = field(default=None, compare=False)
    parts: tuple[str | Unknown, ...] = ()

    @classmethod
    def partial(cls, parts: Iterable[str | Unknown]) -> Unknown:
        """A string of literal and unknown parts (at least one unknown), written one way only:
        partly known parts spliced in, adjacent literals joined, empty ones dropped."""
        kept: list[str | Unknown] = []
        for part in parts:
            for piece in part.parts if isinstance(part, Unknown) and part.parts else (part,):
                if isinstance(piece, str) and kept and isinstance(kept[-1], str):
                    kept[-1] += piece
                elif piece != "":
                    kept.append(piece)
        reasons = dict.fromkeys(p.reason for p in kept if isinstance(p, Unknown))
        return cls(reason="; ".join(reasons), parts=tuple(kept))

    @property
    def unknowns(self) -> tuple[Unknown, ...]:
        """The whole unknowns in this value (itself, or its unknown parts)."""
        if not self.parts:
            return (self,)
        return tuple(u for p in self.parts if isinstance(p, Unknown) for u in p.unknowns)

    def __str__(self) -> str:
        """For people: each unknown as ``<what it is>``, literal parts as they are."""
        if self.parts:
            return "".join(str(p) for p in self.parts)
        return f"<{self.reason}>"


Value: TypeAlias = "str | Unknown"
"""A string of the model: literal, or unknown before deploy (with the reason)."""


def encode(key: int) -> str:
    """The resolver's placeholder for unknown number ``key``."""
    return f"{_OPEN}{key}{_CLOSE}"


def decode(text: str, items: list[Unknown]) -> str | Unknown:
    """Resolver text as a model value: literal text, one unknown, or a partly known string."""
    if _OPEN not in text:
        return text
    pieces = PLACEHOLDER.split(text)
    if len(pieces) == 3 and pieces[0] == pieces[2] == "":
        return items[int(pieces[1])]
    parts: list[str | Unknown] = [
        items[int(piece)] if i % 2 else piece for i, piece in enumerate(pieces)
    ]
    return Unknown.partial(parts)


def unknowns_in(*values: object) -> frozenset[Unknown]:
    """The whole unknowns these values hold."""
    return frozenset(u for v in values if isinstance(v, Unknown) for u in v.unknowns)


def reasons(*values: object) -> str:
    """What the unknowns among ``values`` are, for a detail (``"parameter Tag of stack S"``)."""
    found = dict.fromkeys(u.reason for v in values if isinstance(v, Unknown) for u in v.unknowns)
    return "; ".join(found)


def render(value: str | Unknown, keep: Collection[Unknown] | None = None) -> str:
    """Text for the policy evaluator: an unknown in ``keep`` (all when None) as an opaque literal
    that equals only itself, any other as CDK-token text the evaluator treats as unknown."""
    if isinstance(value, str):
        return value
    if value.parts:
        return "".join(render(p, keep) for p in value.parts)
    if value.key is None:
        return "${Token[AUDIT.unknown]}"
    if keep is None or value in keep:
        return encode(value.key)
    return "${Token[AUDIT." + str(value.key) + "]}"
