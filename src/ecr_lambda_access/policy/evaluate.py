"""Reading policies: does a repository policy let one function pull its image?

:func:`evaluate_pull` answers, for one function, whether a policy (any policy, not only ours) lets
its account create the function and lets the Lambda service pull the image.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from ..validation import is_unresolved
from .build import ECR_PULL_ACTIONS, LAMBDA_SERVICE_PRINCIPAL, root_arn


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
