"""The finding ``unreadable-template``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "unreadable-template"

RULE: Rule = Rule(
    ID,
    "finding",
    "a template of the assembly cannot be read",
    "Synthesize again; a template written by hand must be valid JSON or YAML.",
    ERROR,
)
