"""One registry of what the audit reports: each function status and finding kind, with its id,
a one-line text and help (what to do), used by the command, the formatters and the plugin."""

from __future__ import annotations

from dataclasses import dataclass

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
    "POLICY_TOO_LARGE",
    "CONFUSED_DEPUTY",
    "EXECUTION_ROLE_ECR",
    "LATEST_TAG",
]

DOCS_URI = "https://github.com/ecr-lambda-access/ecr-lambda-access/blob/main/docs/"
"""Where the guides (the repository's ``docs/*.md``) are published: help links point there."""


def docs_uri(page: str, anchor: str = "") -> str:
    """The link to a guide of ``docs/`` (``audit.md``), at a heading's or ``<a id>``'s anchor."""
    return f"{DOCS_URI}{page}" + (f"#{anchor}" if anchor else "")


HELP_URI = docs_uri("audit.md", "the-pipeline-check")
"""Every rule's help: the audit guide's status table."""

ERROR = "error"
WARNING = "warning"

# Function statuses
OK = "ok"
MISSING_ROOT = "missing-root-grant"
MISSING_SERVICE = "missing-service-grant"
REGION_MISMATCH = "region-mismatch"
DENIED = "denied"
NO_POLICY = "no-policy"
EXTERNAL = "external"
UNVERIFIABLE = "unverifiable"
INVALID_POLICY = "invalid-policy"
NOT_REPLICATED = "not-replicated"

# Finding codes
POLICY_TOO_LARGE = "policy-too-large"
CONFUSED_DEPUTY = "unconditioned-service-principal"
EXECUTION_ROLE_ECR = "execution-role-ecr-actions"
LATEST_TAG = "ecr-lambda-access:latestTag"
"""The same id as the construct's warning (acknowledge it once, with this id)."""
ANY_ACCOUNT = "any-account"
INVALID_REPOSITORY_POLICY = "invalid-repository-policy"
UNREADABLE_TEMPLATE = "unreadable-template"


@dataclass(frozen=True)
class Rule:
    """One status or finding kind: its id, what it means (``text``) and what to do (``help``)."""

    id: str
    kind: str
    """``status`` (a verdict on one function) or ``finding`` (a repository or a role)."""
    text: str
    help: str
    severity: str
    """For a status: ``error`` when it fails the check, ``warning`` when only ``--strict`` fails
    on it, ``note`` for ``ok``. For a finding: its severity."""
    help_uri: str = HELP_URI


_RULES = (
    Rule(OK, "status", "the function can pull its image", "Nothing to do.", "note"),
    Rule(
        MISSING_ROOT,
        "status",
        "the repository policy does not admit the function's account (root principal)",
        "Add the function's account to the repository policy (CrossAccountImageRepo "
        "consumers=[...]).",
        ERROR,
    ),
    Rule(
        MISSING_SERVICE,
        "status",
        "no lambda.amazonaws.com statement whose condition matches the function",
        "Allow lambda.amazonaws.com ecr:BatchGetImage and ecr:GetDownloadUrlForLayer with an "
        "aws:SourceArn condition matching the function.",
        ERROR,
    ),
    Rule(
        REGION_MISMATCH,
        "status",
        "the image is in another Region than the function",
        "Lambda runs images only from its own Region: replicate the repository and use the "
        "replica's URI.",
        ERROR,
    ),
    Rule(
        DENIED,
        "status",
        "a Deny statement of the repository policy blocks the pull",
        "Remove the Deny statement or exclude the function's account and lambda.amazonaws.com "
        "from it.",
        ERROR,
    ),
    Rule(
        NO_POLICY,
        "status",
        "the repository has no repository policy",
        "Write the repository policy explicitly; do not rely on Lambda adding a statement itself.",
        ERROR,
    ),
    Rule(
        EXTERNAL,
        "status",
        "the repository is not in the assembly: its owner must grant the pull",
        "Hand the repository's owner the statements in required_statements (--format json).",
        WARNING,
    ),
    Rule(
        UNVERIFIABLE,
        "status",
        "the answer depends on values known only at deploy time",
        "Give stacks an explicit environment and functions a FunctionName, or check after deploy.",
        WARNING,
    ),
    Rule(
        INVALID_POLICY,
        "status",
        "the repository policy is invalid: ECR rejects it, so nothing is granted",
        "Fix the policy (Effect is exactly Allow or Deny; one of Principal/NotPrincipal and of "
        "Action/NotAction per statement; known condition operators).",
        ERROR,
    ),
    Rule(
        NOT_REPLICATED,
        "status",
        "the image is in a replica that replication does not fill (no rule for the repository "
        "and destination, or no registry policy letting the source replicate)",
        "Replicate with CrossAccountImageRepo.add_replica: it writes the rule and, across "
        "accounts, the destination's registry policy.",
        ERROR,
    ),
    Rule(
        POLICY_TOO_LARGE,
        "finding",
        "the repository policy is over ECR's 10,240-character limit",
        "Admit whole accounts instead of many function names, split consumers across "
        "repositories, or admit an AWS Organization.",
        ERROR,
    ),
    Rule(
        CONFUSED_DEPUTY,
        "finding",
        "a service-principal statement has no source condition (confused deputy)",
        "Limit lambda.amazonaws.com with aws:SourceArn arn:PARTITION:lambda:REGION:ACCOUNT:"
        "function:*.",
        WARNING,
    ),
    Rule(
        EXECUTION_ROLE_ECR,
        "finding",
        "the execution role holds ECR permissions it does not need for the pull",
        "Remove ECR actions from the execution role unless the function's code calls ECR.",
        WARNING,
    ),
    Rule(
        ANY_ACCOUNT,
        "finding",
        "the repository policy lets every AWS account pull",
        "Admit the consumer accounts by id, or limit the statement with aws:PrincipalOrgID.",
        ERROR,
    ),
    Rule(
        INVALID_REPOSITORY_POLICY,
        "finding",
        "the repository policy is invalid (ECR rejects it at deploy)",
        "Fix the policy: Effect is exactly Allow or Deny, one of Principal/NotPrincipal and of "
        "Action/NotAction per statement, known condition operators.",
        ERROR,
    ),
    Rule(
        UNREADABLE_TEMPLATE,
        "finding",
        "a template of the assembly cannot be read",
        "Synthesize again; a template written by hand must be valid JSON or YAML.",
        ERROR,
    ),
    Rule(
        LATEST_TAG,
        "finding",
        "the function runs the 'latest' tag",
        "Deploy by digest (sha256:...) or by an immutable tag.",
        WARNING,
    ),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _RULES}
"""Every status and finding kind by id."""

STATUSES: dict[str, str] = {r.id: r.text for r in _RULES if r.kind == "status"}
"""Every function status and what it means."""

FINDINGS: dict[str, str] = {r.id: r.text for r in _RULES if r.kind == "finding"}
"""Every finding kind and what it means."""

FAILING_STATUSES = frozenset(
    {
        MISSING_ROOT,
        MISSING_SERVICE,
        REGION_MISMATCH,
        DENIED,
        NO_POLICY,
        INVALID_POLICY,
        NOT_REPLICATED,
    }
)
"""Definite problems: the audit exits 1 when a function has one of these."""

STRICT_FAILING_STATUSES = FAILING_STATUSES | {EXTERNAL, UNVERIFIABLE}
"""With ``--strict``, images that cannot be checked fail too."""
