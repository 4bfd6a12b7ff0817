"""The function status ``external``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import WARNING, Rule

ID = "external"

RULE: Rule = Rule(
    ID,
    "status",
    "the repository is not in the assembly: its owner must grant the pull",
    ("Hand the repository's owner the statements in required_statements (--format json)."),
    WARNING,
)
