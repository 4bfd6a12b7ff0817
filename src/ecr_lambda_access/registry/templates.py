"""Repository creation templates (``AWS::ECR::RepositoryCreationTemplate``), as ECR applies them.

ECR user guide, "Repository creation templates": when ECR itself creates a repository (replication,
a pull-through cache rule, create-on-push), the template whose ``Prefix`` matches the new
repository's name and whose ``AppliedFor`` lists that cause gives it its settings, among them its
``RepositoryPolicy``, **only at creation**: a later change of the template never reaches a
repository that exists. A ``Prefix`` is a namespace: ``prod`` applies to ``prod/orders``, not to
``prod-orders``; the prefix ``ROOT`` applies to every repository no other template matches. When
several prefixes match, the longest (most specific) one applies. A replication rule's
``PREFIX_MATCH`` filter, by contrast, is a plain string prefix (:mod:`.replication`).

The China (``cn-``) and GovCloud (``us-gov-``) Regions: CloudFormation offers the resource type
there (it is in the Region's resource schemas, e.g. cfn-lint's ``providers/cn-north-1.json``),
but the ECR user guide's template pages are written for the commercial Regions and we found no AWS
statement either way about templates applying there. So a template is read in every Region, and
where it is not confirmed (:func:`templates_confirmed`) a verdict that would rest on it applying
is never ``ok``: the audit says it cannot confirm it.
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
    "templates_confirmed",
    "templates_supported",
    "UNCONFIRMED_REGIONS",
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


UNCONFIRMED_REGIONS = "the China and AWS GovCloud (US) Regions"
"""Where AWS's documentation does not confirm that ECR applies creation templates."""


def templates_confirmed(region: str) -> bool:
    """True where AWS's documentation confirms that ECR applies creation templates; False in the
    China and GovCloud Regions, where it neither confirms nor excludes it (see the module)."""
    return not region.startswith(("cn-", "us-gov-"))


def templates_supported(region: str) -> bool:
    """The earlier name of :func:`templates_confirmed` (same answer). It is False where
    templates are not *confirmed*, not where AWS says they are unavailable: it says nothing of
    the kind."""
    return templates_confirmed(region)


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
