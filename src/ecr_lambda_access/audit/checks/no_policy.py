"""The function status ``no-policy``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "no-policy"

RULE: Rule = Rule(
    ID,
    "status",
    "the repository has no repository policy",
    ("Write the repository policy explicitly; do not rely on Lambda adding a statement itself."),
    ERROR,
)
