"""What the audit reports, by name: each function status and finding kind (the constants the
formatters, the plugin and the command use). Each is declared once, in its module of
:mod:`.checks` (id, severity, texts, help link); this module only names them."""

from __future__ import annotations

__all__ = [
    "Rule",
    "DOCS_URI",
    "docs_uri",
    "HELP_URI",
    "RULES",
    "STATUSES",
    "FINDINGS",
    "FAILING_STATUSES",
    "STRICT_FAILING_STATUSES",
    "ERROR",
    "WARNING",
    "OK",
    "MISSING_ROOT",
    "MISSING_SERVICE",
    "REGION_MISMATCH",
    "DENIED",
    "NO_POLICY",
    "EXTERNAL",
    "UNVERIFIABLE",
    "INVALID_POLICY",
    "ANY_ACCOUNT",
    "INVALID_REPOSITORY_POLICY",
    "UNREADABLE_TEMPLATE",
    "NOT_REPLICATED",
    "UNSUPPORTED_IMAGE",
    "help_uri",
    "POLICY_TOO_LARGE",
    "CONFUSED_DEPUTY",
    "EXECUTION_ROLE_ECR",
    "LATEST_TAG",
]

from . import checks
from .checks import (
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
from .checks.base import DOCS_URI, ERROR, HELP_URI, WARNING, Rule, docs_uri, help_uri

# Function statuses (each id is written in its check module, audit/checks/)
OK = ok.ID
MISSING_ROOT = missing_root_grant.ID
MISSING_SERVICE = missing_service_grant.ID
REGION_MISMATCH = region_mismatch.ID
DENIED = denied.ID
NO_POLICY = no_policy.ID
EXTERNAL = external.ID
UNVERIFIABLE = unverifiable.ID
INVALID_POLICY = invalid_policy.ID
NOT_REPLICATED = not_replicated.ID
UNSUPPORTED_IMAGE = unsupported_image.ID

# Finding codes
POLICY_TOO_LARGE = policy_too_large.ID
CONFUSED_DEPUTY = unconditioned_service_principal.ID
EXECUTION_ROLE_ECR = execution_role_ecr_actions.ID
LATEST_TAG = latest_tag.ID
"""The same id as the construct's warning (acknowledge it once, with this id)."""
ANY_ACCOUNT = any_account.ID
INVALID_REPOSITORY_POLICY = invalid_repository_policy.ID
UNREADABLE_TEMPLATE = unreadable_template.ID

RULES: dict[str, Rule] = dict(checks.RULES)
"""Every status and finding kind by id."""

STATUSES: dict[str, str] = {r.id: r.text for r in RULES.values() if r.kind == "status"}
"""Every function status and what it means."""

FINDINGS: dict[str, str] = {r.id: r.text for r in RULES.values() if r.kind == "finding"}
"""Every finding kind and what it means."""

FAILING_STATUSES = checks.failing_statuses()
"""Definite problems (severity ``error``): the audit exits 1 when a function has one of these."""

STRICT_FAILING_STATUSES = checks.strict_failing_statuses()
"""With ``--strict``, images that cannot be checked (severity ``warning``) fail too."""
