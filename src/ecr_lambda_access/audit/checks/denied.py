"""The function status ``denied``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "denied"

RULE: Rule = Rule(
    ID,
    "status",
    "a Deny statement of the repository policy blocks the pull",
    (
        "Remove the Deny statement or exclude the function's account and "
        "lambda.amazonaws.com from it."
    ),
    ERROR,
)
