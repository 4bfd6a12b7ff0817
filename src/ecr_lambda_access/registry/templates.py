"""Repository creation templates (``AWS::ECR::RepositoryCreationTemplate``), as ECR applies them.

ECR user guide, "Repository creation templates": when ECR itself creates a repository (replication,
a pull-through cache rule, create-on-push), the template whose ``Prefix`` matches the new
repository's name and whose ``AppliedFor`` lists that cause gives it its settings, among them its
``RepositoryPolicy``, **only at creation**: a later change of the template never reaches a
repository that exists. A ``Prefix`` is a namespace: ``prod`` applies to ``prod/orders``, not to
``prod-orders``; the prefix ``ROOT`` applies to every repository no other template matches. When
several prefixes match, the longest (most specific) one applies. Templates are not available in the
China or GovCloud Regions. A replication rule's ``PREFIX_MATCH`` filter, by contrast, is a plain
string prefix (:mod:`.replication`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ROOT",
    "REPLICATION",
    "PULL_THROUGH_CACHE",
    "CREATE_ON_PUSH",
    "APPLIED_FOR",
    "CreationTemplate",
    "prefix_covers",
    "applying_template",
    "templates_supported",
]

ROOT = "ROOT"
REPLICATION = "REPLICATION"
PULL_THROUGH_CACHE = "PULL_THROUGH_CACHE"
CREATE_ON_PUSH = "CREATE_ON_PUSH"
APPLIED_FOR = (REPLICATION, PULL_THROUGH_CACHE, CREATE_ON_PUSH)


@dataclass(frozen=True)
class CreationTemplate:
    """One creation template of a registry (account and Region), as plain data.

    ``repository_policy``: the policy document the created repository gets (a mapping), None when
    the template sets none, or a string saying why it cannot be read (``policy_problem``).
    """

    account: str
    region: str
    prefix: str
    applied_for: tuple[str, ...]
    repository_policy: Any = None
    policy_problem: str | None = None
    where: str = ""
    known: bool = True
    """False when a value that decides whether it applies (prefix, AppliedFor, its existence)
    is known only at deploy time."""
    unknown_reason: str | None = None
    """When not ``known``: which values are unknown (the parameter, the condition...)."""


def prefix_covers(prefix: str, name: str) -> bool:
    """Does a template's ``Prefix`` cover repository ``name``? (A namespace, ``ROOT``: all.)"""
    if prefix == ROOT:
        return True
    prefix = prefix.rstrip("/")
    return bool(prefix) and (name == prefix or name.startswith(prefix + "/"))


def templates_supported(region: str) -> bool:
    """Creation templates are not available in the China and GovCloud Regions."""
    return not region.startswith(("cn-", "us-gov-"))


def applying_template(
    templates: Sequence[CreationTemplate], *, account: str, region: str, name: str, cause: str
) -> CreationTemplate | None:
    """The template ECR applies when ``cause`` creates repository ``name`` in this registry.

    Only the registry's own templates listing ``cause`` count; the longest matching namespace
    wins, ``ROOT`` only when no other matches.
    """
    own = [
        t
        for t in templates
        if (t.account, t.region) == (account, region) and cause in t.applied_for
    ]
    named = [t for t in own if t.prefix != ROOT and prefix_covers(t.prefix, name)]
    if named:
        return max(named, key=lambda t: len(t.prefix.rstrip("/")))
    roots = [t for t in own if t.prefix == ROOT]
    return roots[0] if roots else None
