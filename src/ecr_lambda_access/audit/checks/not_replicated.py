"""The function status ``not-replicated``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "not-replicated"

RULE: Rule = Rule(
    ID,
    "status",
    (
        "the image is in a replica that replication does not fill (no rule for the "
        "repository and destination, or no registry policy letting the source replicate)"
    ),
    (
        "Replicate with CrossAccountImageRepo.add_replica: it writes the rule and, across"
        " accounts, the destination's registry policy."
    ),
    ERROR,
)
