"""The finding ``policy-too-large``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, RepositoryFacts, Rule

ID = "policy-too-large"

RULE: Rule = Rule(
    ID,
    "finding",
    "the repository policy is over ECR's 10,240-character limit",
    (
        "Admit whole accounts instead of many function names, split consumers across "
        "repositories, or admit an AWS Organization."
    ),
    ERROR,
)


def check(facts: RepositoryFacts) -> str | None:
    if facts.size <= facts.limit:
        return None
    return (
        f"repository {facts.path}: the repository policy is {facts.size:,} characters, over "
        f"ECR's limit of {facts.limit:,}: SetRepositoryPolicy will reject it at deploy. Admit "
        "whole accounts (function:*) instead of many function names, split consumers across "
        "repositories, or admit an AWS Organization"
    )
