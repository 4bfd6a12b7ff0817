"""The function status ``region-mismatch``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "region-mismatch"

RULE: Rule = Rule(
    ID,
    "status",
    "the image is in another Region than the function",
    (
        "Lambda runs images only from its own Region: replicate the repository and use "
        "the replica's URI."
    ),
    ERROR,
)
