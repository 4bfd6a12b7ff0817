"""The policy arithmetic, in pure Python: plain data in, statement dicts out.

Nothing here imports jsii or aws-cdk-lib, so it is tested on its own and shared by the constructs
(which call it at synth time) and the audit (which reads policies from templates).

Two halves:

* **writing**: :func:`repository_policy` builds the repository policy AWS documents for Lambda
  functions that run images from a private ECR repository (see ``DOMAIN.md``): one statement with
  every cross-account root principal, one for ``lambda.amazonaws.com`` whose ``aws:SourceArn``
  lists each consumer's functions, and the opt-in organization pair;
* **reading**: :func:`evaluate_pull` answers, for one function, whether a policy (any policy, not
  only ours) lets its account create the function and lets the Lambda service pull the image.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from .errors import InvalidConsumerError, PolicyTooLargeError, Violation
from .validation import (
    check_account_id,
    check_function_name,
    check_function_name_prefix,
    is_unresolved,
)

__all__ = [
    "ECR_PULL_ACTIONS",
    "LAMBDA_SERVICE_PRINCIPAL",
    "ECR_POLICY_MAX_CHARS",
    "LambdaConsumer",
    "as_consumer",
    "check_consumer",
    "consumer_patterns",
    "repository_policy",
    "repository_policy_statements",
    "policy_text",
    "policy_length",
    "check_policy_size",
    "root_arn",
    "function_arn_pattern",
    "Access",
    "Grant",
    "PullAccess",
    "evaluate_pull",
    "glob_match",
    "unconditioned_service_statements",
]

ECR_PULL_ACTIONS: tuple[str, str] = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
"""What the Lambda service (and the consumer account's deployer) needs on the repository."""

LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"

ECR_POLICY_MAX_CHARS = 10_240
"""ECR's limit on a repository policy's text (SetRepositoryPolicy ``policyText``)."""

POLICY_VERSION = "2012-10-17"

SID_ROOT = "CrossAccountPermission"
SID_SERVICE = "LambdaECRImageCrossAccountRetrievalPolicy"
SID_ORG_ROOT = "OrganizationPermission"
SID_ORG_SERVICE = "LambdaECRImageOrganizationRetrievalPolicy"
OUR_SIDS = frozenset({SID_ROOT, SID_SERVICE, SID_ORG_ROOT, SID_ORG_SERVICE})


# --------------------------------------------------------------------------------------------
# Consumers
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LambdaConsumer:
    """Lambda functions of one account that may run images from the repository.

    Parameters
    ----------
    account:
        The 12-digit id of the account that runs the functions (a string).
    function_name_prefix:
        Admit only functions whose name starts with this. Default: None, every function
        of the account (``function:*``).
    function_name:
        Admit exactly this function. Default: None. Mutually exclusive with
        ``function_name_prefix``.
    """

    account: str
    function_name_prefix: str | None = None
    function_name: str | None = None

    @property
    def pattern(self) -> str:
        """The function-name part of the source ARN: ``*``, ``prefix*`` or the exact name."""
        if self.function_name is not None:
            return self.function_name
        if self.function_name_prefix is not None:
            return self.function_name_prefix + "*"
        return "*"


def as_consumer(value: LambdaConsumer | str) -> LambdaConsumer:
    """A consumer from an account id string or a :class:`LambdaConsumer` (returned as is)."""
    if isinstance(value, LambdaConsumer):
        return value
    return LambdaConsumer(account=value)


def check_consumer(value: object, argument: str) -> list[Violation]:
    """Every problem of one consumer (an account id string or a :class:`LambdaConsumer`)."""
    if isinstance(value, LambdaConsumer):
        found = check_account_id(value.account, f"{argument}.account")
        if value.function_name is not None and value.function_name_prefix is not None:
            found.append(
                (
                    InvalidConsumerError,
                    f"{argument} sets both function_name={value.function_name!r} and "
                    f"function_name_prefix={value.function_name_prefix!r}: set one of them",
                )
            )
        if value.function_name_prefix is not None:
            found += check_function_name_prefix(
                value.function_name_prefix, f"{argument}.function_name_prefix"
            )
        if value.function_name is not None:
            found += check_function_name(
                value.function_name, f"{argument}.function_name", InvalidConsumerError
            )
        return found
    if isinstance(value, str):
        return check_account_id(value, argument)
    return [
        (
            InvalidConsumerError,
            f"{argument} must be an account id string or a LambdaConsumer, got {value!r} "
            f"({type(value).__name__})",
        )
    ]


def _subsumes(general: str, specific: str) -> bool:
    """True when every function matched by ``specific`` is matched by ``general``."""
    if general == specific:
        return True
    if not general.endswith("*") or is_unresolved(general) or is_unresolved(specific):
        return False
    return specific.startswith(general[:-1])


def consumer_patterns(consumers: Iterable[LambdaConsumer | str]) -> dict[str, tuple[str, ...]]:
    """Account -> sorted function-name patterns, with duplicates and covered patterns removed.

    ``orders-*`` covers ``orders-api`` and ``orders-api-*``; ``*`` covers everything of the
    account. The result is sorted by account, so the policy text does not depend on the order
    in which consumers were added.
    """
    by_account: dict[str, set[str]] = {}
    for consumer in map(as_consumer, consumers):
        by_account.setdefault(consumer.account, set()).add(consumer.pattern)
    result: dict[str, tuple[str, ...]] = {}
    for account in sorted(by_account):
        patterns = by_account[account]
        kept = [p for p in patterns if not any(o != p and _subsumes(o, p) for o in patterns)]
        result[account] = tuple(sorted(kept))
    return result


def root_arn(account: str, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:root"


def function_arn_pattern(account: str, pattern: str, *, region: str, partition: str = "aws") -> str:
    return f"arn:{partition}:lambda:{region}:{account}:function:{pattern}"


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def repository_policy_statements(
    consumers: Iterable[LambdaConsumer | str],
    *,
    repository_account: str | None,
    region: str,
    partition: str = "aws",
    organization_id: str | None = None,
) -> list[dict[str, Any]]:
    """The statements a repository needs so that the consumers' functions can run its images.

    * one ``CrossAccountPermission`` statement for the root principal of every consumer account
      other than ``repository_account`` (the account creating the function must be allowed);
    * one ``LambdaECRImageCrossAccountRetrievalPolicy`` statement for ``lambda.amazonaws.com``
      limited by ``aws:SourceArn`` (StringLike) to each consumer's functions in ``region``;
    * with ``organization_id``: a ``Principal AWS "*"`` statement limited by
      ``aws:PrincipalOrgID`` and a service statement limited by ``aws:SourceOrgID``. AWS documents
      per-account listing; this form is reported to work but is not documented by AWS.

    Actions are exactly ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer``. With no
    consumers and no organization the list is empty: no access of any kind.
    """
    actions = list(ECR_PULL_ACTIONS)
    patterns = consumer_patterns(consumers)
    statements: list[dict[str, Any]] = []
    roots = [root_arn(a, partition) for a in patterns if a != repository_account]
    if roots:
        statements.append(
            {
                "Sid": SID_ROOT,
                "Effect": "Allow",
                "Principal": {"AWS": _one_or_list(roots)},
                "Action": actions,
            }
        )
    sources = [
        function_arn_pattern(account, pattern, region=region, partition=partition)
        for account, account_patterns in patterns.items()
        for pattern in account_patterns
    ]
    if sources:
        statements.append(
            {
                "Sid": SID_SERVICE,
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA_SERVICE_PRINCIPAL},
                "Action": actions,
                "Condition": {"StringLike": {"aws:SourceArn": _one_or_list(sources)}},
            }
        )
    if organization_id is not None:
        statements.append(
            {
                "Sid": SID_ORG_ROOT,
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Action": actions,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization_id}},
            }
        )
        statements.append(
            {
                "Sid": SID_ORG_SERVICE,
                "Effect": "Allow",
                "Principal": {"Service": LAMBDA_SERVICE_PRINCIPAL},
                "Action": actions,
                "Condition": {"StringEquals": {"aws:SourceOrgID": organization_id}},
            }
        )
    return statements


def repository_policy(
    consumers: Iterable[LambdaConsumer | str],
    *,
    repository_account: str | None,
    region: str,
    partition: str = "aws",
    organization_id: str | None = None,
    extra_statements: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any] | None:
    """The whole policy document, or None when it would have no statement.

    ``extra_statements`` (for example statements a user added to the repository) follow ours.
    """
    statements = repository_policy_statements(
        consumers,
        repository_account=repository_account,
        region=region,
        partition=partition,
        organization_id=organization_id,
    )
    statements += [dict(s) for s in extra_statements]
    if not statements:
        return None
    return {"Version": POLICY_VERSION, "Statement": statements}


def policy_text(policy: Mapping[str, Any]) -> str:
    """The policy as the JSON text ECR receives (keys kept in order, ', ' and ': ' separators).

    The separators make the count a little larger than compact JSON, so a policy that passes
    here also passes ECR however the text is serialized on the way.
    """
    return json.dumps(policy)


def policy_length(policy: Mapping[str, Any] | None) -> int:
    """How many characters of ECR's 10,240 the policy uses (0 for no policy)."""
    return 0 if policy is None else len(policy_text(policy))


def check_policy_size(policy: Mapping[str, Any] | None, argument: str) -> list[Violation]:
    """A violation when the policy text exceeds ECR's 10,240-character limit."""
    length = policy_length(policy)
    if length <= ECR_POLICY_MAX_CHARS:
        return []
    return [
        (
            PolicyTooLargeError,
            f"{argument}: the repository policy would be {length:,} characters, over ECR's limit "
            f"of {ECR_POLICY_MAX_CHARS:,} characters: admit whole accounts instead of many "
            "function names, split consumers across repositories, or use "
            "organization_id='o-...' to admit every account of your AWS Organization in two "
            "statements",
        )
    ]


# --------------------------------------------------------------------------------------------
# Reading: does a policy let one function pull?
# --------------------------------------------------------------------------------------------


class Access(Enum):
    """The answer of :func:`evaluate_pull` for one side (root or service)."""

    GRANTED = "granted"
    MISSING = "missing"
    DENIED = "denied"
    UNKNOWN = "unknown"
    NOT_NEEDED = "not-needed"


@dataclass(frozen=True)
class Grant:
    access: Access
    detail: str = ""
    statements: tuple[str, ...] = field(default=())
    """Sids (or positions ``#N``) of the statements that decided it."""

    @property
    def ok(self) -> bool:
        return self.access in (Access.GRANTED, Access.NOT_NEEDED)


@dataclass(frozen=True)
class PullAccess:
    root: Grant
    service: Grant

    @property
    def ok(self) -> bool:
        return self.root.ok and self.service.ok


@lru_cache(maxsize=4096)
def _glob_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob_match(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's ``StringLike`` match: ``*`` any run of characters, ``?`` exactly one."""
    return _glob_regex(pattern, ignore_case).fullmatch(value) is not None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


_STRING_OPERATORS = {
    "stringequals": (False, False),
    "stringlike": (True, False),
    "stringequalsignorecase": (False, True),
    "arnequals": (False, False),
    "arnlike": (True, False),
}
_NEGATED_OPERATORS = {
    "stringnotequals": "stringequals",
    "stringnotlike": "stringlike",
    "stringnotequalsignorecase": "stringequalsignorecase",
    "arnnotequals": "arnequals",
    "arnnotlike": "arnlike",
}


def _condition_holds(
    operator: str, key: str, expected: Any, context: Mapping[str, str | None]
) -> bool | None:
    """Tri-state: True / False, or None when the policy depends on something not known."""
    op = operator.lower()
    if_exists = op.endswith("ifexists")
    if if_exists:
        op = op[: -len("ifexists")]
    qualifier = ""
    if ":" in op:
        qualifier, op = op.split(":", 1)
    negate = op in _NEGATED_OPERATORS
    base = _NEGATED_OPERATORS.get(op, op)
    if base not in _STRING_OPERATORS or qualifier not in ("", "foranyvalue", "forallvalues"):
        return None
    k = key.lower()
    if k not in context:
        return None
    actual = context[k]
    if actual is None:
        return None  # the key applies, but its value is not known (an organization id)
    wildcard, ignore_case = _STRING_OPERATORS[base]
    values = [str(v) for v in _as_list(expected)]
    if any(is_unresolved(v) for v in values):
        return None
    if wildcard:
        matched = any(glob_match(v, actual, ignore_case=ignore_case) for v in values)
    elif ignore_case:
        matched = any(v.lower() == actual.lower() for v in values)
    else:
        matched = actual in values
    return not matched if negate else matched


def _conditions_hold(
    conditions: Mapping[str, Any] | None, context: Mapping[str, str | None]
) -> bool | None:
    result: bool | None = True
    for operator, block in (conditions or {}).items():
        if not isinstance(block, Mapping):
            return None
        for key, expected in block.items():
            holds = _condition_holds(operator, key, expected, context)
            if holds is False:
                return False
            if holds is None:
                result = None
    return result


def _action_matches(statement: Mapping[str, Any], action: str) -> bool:
    if "NotAction" in statement:
        return not any(
            glob_match(str(p), action, ignore_case=True) for p in _as_list(statement["NotAction"])
        )
    return any(
        glob_match(str(p), action, ignore_case=True) for p in _as_list(statement.get("Action"))
    )


def _principal_matches(
    principal: Any, *, aws: Sequence[str] = (), service: str = ""
) -> bool | None:
    """Tri-state: True / False, or None when an unresolved AWS principal may be the account."""
    if principal == "*":
        return True
    if not isinstance(principal, Mapping):
        return False
    if service and service in _as_list(principal.get("Service")):
        return True
    values = _as_list(principal.get("AWS"))
    if any(value == "*" or value in aws for value in values):
        return True
    return None if aws and any(is_unresolved(value) for value in values) else False


def _statement_name(statement: Mapping[str, Any], index: int) -> str:
    sid = statement.get("Sid")
    return str(sid) if sid else f"#{index}"


def _evaluate_side(
    statements: Sequence[Mapping[str, Any]],
    *,
    context: Mapping[str, str | None],
    aws: Sequence[str] = (),
    service: str = "",
) -> tuple[Access, tuple[str, ...]]:
    allowed_by: dict[str, set[str]] = {a: set() for a in ECR_PULL_ACTIONS}
    unknown_by: dict[str, set[str]] = {a: set() for a in ECR_PULL_ACTIONS}
    denied: list[str] = []
    maybe_denied: list[str] = []
    for index, statement in enumerate(statements):
        matches = _principal_matches(statement.get("Principal"), aws=aws, service=service)
        if "NotPrincipal" in statement or matches is False:
            continue
        name = _statement_name(statement, index)
        holds = _conditions_hold(statement.get("Condition"), context)
        if matches is None and holds is not False:
            holds = None  # the principal is a value not known here: it may be the account
        effect = str(statement.get("Effect", "")).lower()
        for action in ECR_PULL_ACTIONS:
            if not _action_matches(statement, action) or holds is False:
                continue
            if effect == "deny":
                (denied if holds else maybe_denied).append(name)
            elif effect == "allow":
                (allowed_by if holds else unknown_by)[action].add(name)
    if denied:
        return Access.DENIED, tuple(dict.fromkeys(denied))
    if all(allowed_by[a] for a in ECR_PULL_ACTIONS) and not maybe_denied:
        return Access.GRANTED, tuple(sorted(set().union(*allowed_by.values())))
    if all(allowed_by[a] or unknown_by[a] for a in ECR_PULL_ACTIONS):
        names = set().union(*allowed_by.values(), *unknown_by.values(), maybe_denied)
        return Access.UNKNOWN, tuple(sorted(names))
    return Access.MISSING, ()


def evaluate_pull(
    policy: Mapping[str, Any] | None,
    *,
    function_arn: str,
    function_account: str,
    repository_account: str,
    partition: str = "aws",
    organization_id: str | None = None,
) -> PullAccess:
    """Whether ``policy`` lets one function run an image from the repository.

    Two grants are needed (DOMAIN.md): the function's account (its root principal, or ``*``
    limited to its organization) when it is not the repository's account, and the Lambda
    service principal with a source condition that matches the function's ARN. ``organization_id``
    is the function account's organization when known; conditions on it are otherwise UNKNOWN.
    Condition keys are compared case-insensitively, as IAM does.
    """
    statements = [s for s in _as_list((policy or {}).get("Statement")) if isinstance(s, Mapping)]
    if function_account == repository_account:
        root = Grant(Access.NOT_NEEDED, "the function is in the repository's account")
    else:
        principal_arn = root_arn(function_account, partition)
        access, names = _evaluate_side(
            statements,
            aws=(function_account, principal_arn),
            context={
                "aws:principalaccount": function_account,
                "aws:principalarn": principal_arn,
                "aws:principalorgid": organization_id,
                "aws:principalorgpaths": None,
            },
        )
        root = Grant(access, _root_detail(access, function_account, partition), names)
    access, names = _evaluate_side(
        statements,
        service=LAMBDA_SERVICE_PRINCIPAL,
        context={
            "aws:sourcearn": function_arn,
            "aws:sourceaccount": function_account,
            "aws:sourceorgid": organization_id,
            "aws:sourceorgpaths": None,
        },
    )
    service = Grant(access, _service_detail(access, function_arn), names)
    return PullAccess(root=root, service=service)


def _root_detail(access: Access, account: str, partition: str) -> str:
    actions = " and ".join(ECR_PULL_ACTIONS)
    if access is Access.GRANTED:
        return f"account {account} may pull ({actions})"
    if access is Access.DENIED:
        return f"a Deny statement blocks account {account}: remove it or exclude the account"
    if access is Access.UNKNOWN:
        return (
            f"account {account} is admitted only under a condition that cannot be checked here "
            "(for example aws:PrincipalOrgID): make sure the account meets it"
        )
    return (
        f"the repository policy does not allow {root_arn(account, partition)} to {actions}: "
        "add the account to the repository policy (CrossAccountImageRepo consumers=[...])"
    )


def _service_detail(access: Access, function_arn: str) -> str:
    if access is Access.GRANTED:
        return f"lambda.amazonaws.com may pull for {function_arn}"
    if access is Access.DENIED:
        return f"a Deny statement blocks lambda.amazonaws.com for {function_arn}"
    if access is Access.UNKNOWN:
        return (
            f"lambda.amazonaws.com is admitted for {function_arn} only under a condition that "
            "cannot be checked here (for example aws:SourceOrgID)"
        )
    return (
        f"no statement allows lambda.amazonaws.com to pull with an aws:SourceArn matching "
        f"{function_arn}: add it to the statement's StringLike aws:SourceArn list"
    )


_SOURCE_KEYS = frozenset(
    {"aws:sourcearn", "aws:sourceaccount", "aws:sourceorgid", "aws:sourceorgpaths"}
)


def unconditioned_service_statements(policy: Mapping[str, Any] | None) -> list[str]:
    """Names of Allow statements for a service principal with no source condition.

    Such a statement lets any account's resources use the service to reach the repository
    (the confused-deputy problem); ECR's guidance is to add ``aws:SourceArn`` or
    ``aws:SourceAccount``.
    """
    found = []
    for index, statement in enumerate(_as_list((policy or {}).get("Statement"))):
        if not isinstance(statement, Mapping) or str(statement.get("Effect")).lower() != "allow":
            continue
        principal = statement.get("Principal")
        if not (isinstance(principal, Mapping) and principal.get("Service")):
            continue
        keys = {
            str(k).lower()
            for block in (statement.get("Condition") or {}).values()
            if isinstance(block, Mapping)
            for k in block
        }
        if not keys & _SOURCE_KEYS:
            found.append(_statement_name(statement, index))
    return found
