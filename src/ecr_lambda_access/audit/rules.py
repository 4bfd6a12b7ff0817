"""One registry of what the audit reports: each function status and finding kind, with its id,
a one-line text and help (what to do), used by the command, the formatters and the plugin."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Rule",
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

HELP_URI = "https://github.com/ecr-lambda-access/ecr-lambda-access#the-pipeline-check"
"""Where every status and finding is documented. The one place to change: every rule's help link
(SARIF ``helpUri``, JUnit, the plugin) comes from :func:`help_uri`."""


def help_uri(rule_id: str) -> str:
    """The help link of a status or finding (today one section for all of them)."""
    del rule_id  # one documentation section lists every id
    return HELP_URI


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
UNSUPPORTED_IMAGE = "unsupported-image"

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
    help_uri: str = ""

    def __post_init__(self) -> None:
        if not self.help_uri:
            object.__setattr__(self, "help_uri", help_uri(self.id))


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
        UNSUPPORTED_IMAGE,
        "status",
        "Lambda refuses this image URI: it is not a private ECR image on the standard endpoint "
        "(a FIPS endpoint dkr.ecr-fips, public.ecr.aws, Docker Hub, GHCR or another registry)",
        "Copy the image into a private ECR repository of the function's Region and use its "
        "standard URI ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME (not dkr.ecr-fips).",
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
        UNSUPPORTED_IMAGE,
    }
)
"""Definite problems: the audit exits 1 when a function has one of these."""

STRICT_FAILING_STATUSES = FAILING_STATUSES | {EXTERNAL, UNVERIFIABLE}
"""With ``--strict``, images that cannot be checked fail too."""
