"""The finding ``any-account``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, RepositoryFacts, Rule

ID = "any-account"

RULE: Rule = Rule(
    ID,
    "finding",
    "the repository policy lets every AWS account pull",
    ("Admit the consumer accounts by id, or limit the statement with aws:PrincipalOrgID."),
    ERROR,
)


def check(facts: RepositoryFacts) -> str | None:
    """Only for a valid policy (an invalid one is reported as such)."""
    if facts.problems or not facts.admits_every_account():
        return None
    return (
        f"repository {facts.path}: the repository policy lets every AWS account pull its images "
        '(a Principal "*" or {"AWS": "*"} statement with no condition that limits it): admit the '
        "consumer accounts by id, or limit the statement with aws:PrincipalOrgID"
    )
