"""The finding ``ecr-lambda-access:latestTag``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import WARNING, Rule

ID = "ecr-lambda-access:latestTag"

RULE: Rule = Rule(
    ID,
    "finding",
    "the function runs the 'latest' tag",
    "Deploy by digest (sha256:...) or by an immutable tag.",
    WARNING,
)


def check(function: str, tag_or_digest: str | None) -> str | None:
    """The message for a function running ``latest``, or None."""
    if tag_or_digest != "latest":
        return None
    return (
        f"function {function} runs the 'latest' tag: Lambda resolves a tag to a digest once, at "
        "create/update, so pushing 'latest' again changes nothing until the next code update. "
        "Deploy by digest (sha256:...) or by an immutable tag"
    )
