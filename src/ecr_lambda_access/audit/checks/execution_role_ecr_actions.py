"""The finding ``execution-role-ecr-actions``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import WARNING, Rule

ID = "execution-role-ecr-actions"

RULE = Rule(
    ID,
    "finding",
    "the execution role holds ECR permissions it does not need for the pull",
    "Remove ECR actions from the execution role unless the function's code calls ECR.",
    WARNING,
)
