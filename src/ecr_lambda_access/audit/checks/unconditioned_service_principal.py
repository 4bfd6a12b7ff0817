"""The finding ``unconditioned-service-principal``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import WARNING, RepositoryFacts, Rule

ID = "unconditioned-service-principal"

RULE: Rule = Rule(
    ID,
    "finding",
    "a service-principal statement has no source condition (confused deputy)",
    (
        "Limit lambda.amazonaws.com with aws:SourceArn "
        "arn:PARTITION:lambda:REGION:ACCOUNT:function:*."
    ),
    WARNING,
)


def check(facts: RepositoryFacts) -> str | None:
    if not facts.unconditioned:
        return None
    return (
        f"repository {facts.path}: statement(s) {', '.join(facts.unconditioned)} allow a service "
        "principal with no aws:SourceArn/aws:SourceAccount condition, so the service may pull on "
        "behalf of any account (confused deputy): limit lambda.amazonaws.com with aws:SourceArn "
        "arn:PARTITION:lambda:REGION:ACCOUNT:function:* (DockerImageCode.from_ecr on an owned "
        "repository writes such a statement)"
    )
