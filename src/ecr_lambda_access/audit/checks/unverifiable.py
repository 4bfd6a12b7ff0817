"""The function status ``unverifiable``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import WARNING, Rule

ID = "unverifiable"

RULE: Rule = Rule(
    ID,
    "status",
    "the answer depends on values known only at deploy time",
    ("Give stacks an explicit environment and functions a FunctionName, or check after deploy."),
    WARNING,
)
