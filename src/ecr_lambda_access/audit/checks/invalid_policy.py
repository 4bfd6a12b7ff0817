"""The function status ``invalid-policy``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "invalid-policy"

RULE: Rule = Rule(
    ID,
    "status",
    "the repository policy is invalid: ECR rejects it, so nothing is granted",
    (
        "Fix the policy (Effect is exactly Allow or Deny; one of Principal/NotPrincipal "
        "and of Action/NotAction per statement; known condition operators)."
    ),
    ERROR,
)
