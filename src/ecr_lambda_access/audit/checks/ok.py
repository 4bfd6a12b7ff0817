"""The function status ``ok``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import NOTE, Rule

ID = "ok"

RULE: Rule = Rule(
    ID,
    "status",
    "the function can pull its image",
    "Nothing to do.",
    NOTE,
)
