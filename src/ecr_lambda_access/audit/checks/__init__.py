"""The registry of checks, the cfn-lint / cdk-nag way: one module per function status and per
finding, each with its id, severity, texts and help link (:class:`.base.Rule`) beside its logic.

A new finding is one new module here, listed in :data:`RULES`: the formatters (SARIF rules, JUnit),
the plugin and the command read :data:`RULES`; the failing status sets are derived from the
severities (``error`` fails, ``warning`` fails with ``--strict``), written once per module.
"""

from __future__ import annotations

from . import (
    any_account,
    denied,
    execution_role_ecr_actions,
    external,
    invalid_policy,
    invalid_repository_policy,
    latest_tag,
    missing_root_grant,
    missing_service_grant,
    no_policy,
    not_replicated,
    ok,
    policy_too_large,
    region_mismatch,
    unconditioned_service_principal,
    unreadable_template,
    unsupported_image,
    unverifiable,
)
from .base import ERROR, HELP_URI, NOTE, WARNING, RepositoryFacts, Rule, help_uri

__all__ = [
    "Rule",
    "RULES",
    "ERROR",
    "WARNING",
    "NOTE",
    "HELP_URI",
    "help_uri",
    "REPOSITORY_CHECKS",
    "RepositoryFacts",
    "failing_statuses",
    "strict_failing_statuses",
]

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        ok.RULE,
        missing_root_grant.RULE,
        missing_service_grant.RULE,
        region_mismatch.RULE,
        denied.RULE,
        no_policy.RULE,
        external.RULE,
        unverifiable.RULE,
        invalid_policy.RULE,
        not_replicated.RULE,
        unsupported_image.RULE,
        policy_too_large.RULE,
        unconditioned_service_principal.RULE,
        execution_role_ecr_actions.RULE,
        any_account.RULE,
        invalid_repository_policy.RULE,
        unreadable_template.RULE,
        latest_tag.RULE,
    )
}
"""Every status and finding kind by id, in the order the documentation lists them."""


REPOSITORY_CHECKS = (
    policy_too_large,
    invalid_repository_policy,
    any_account,
    unconditioned_service_principal,
)
"""The checks of each repository, in order: each module's ``check(RepositoryFacts)`` returns the
finding's message or None; its ``RULE`` gives the id and severity."""


def failing_statuses() -> frozenset[str]:
    """Definite problems: the statuses of severity ``error``."""
    return frozenset(r.id for r in RULES.values() if r.kind == "status" and r.severity == ERROR)


def strict_failing_statuses() -> frozenset[str]:
    """With ``--strict``, the statuses of severity ``warning`` fail too."""
    return failing_statuses() | frozenset(
        r.id for r in RULES.values() if r.kind == "status" and r.severity == WARNING
    )
