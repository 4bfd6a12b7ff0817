"""The finding ``invalid-repository-policy``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, RepositoryFacts, Rule

ID = "invalid-repository-policy"

RULE: Rule = Rule(
    ID,
    "finding",
    "the repository policy is invalid (ECR rejects it at deploy)",
    (
        "Fix the policy: Effect is exactly Allow or Deny, one of Principal/NotPrincipal "
        "and of Action/NotAction per statement, known condition operators."
    ),
    ERROR,
)


def check(facts: RepositoryFacts) -> str | None:
    if not facts.problems:
        return None
    return (
        f"repository {facts.path}: the repository policy is invalid ({facts.problems[0]}): ECR's "
        "SetRepositoryPolicy rejects it at deploy, and no function can pull"
    )
