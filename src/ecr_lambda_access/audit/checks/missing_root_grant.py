"""The function status ``missing-root-grant``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "missing-root-grant"

RULE: Rule = Rule(
    ID,
    "status",
    "the repository policy does not admit the function's account (root principal)",
    (
        "Add the function's account to the repository policy (CrossAccountImageRepo "
        "consumers=[...])."
    ),
    ERROR,
)
