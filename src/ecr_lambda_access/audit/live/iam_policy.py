"""The IAM policy the live check needs (``ecr-lambda-access live-policy``): the read-only policy
of the roles it uses, what that policy cannot cover, and the policy of the caller that
assumes them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..resolve import partition_of
from .credentials import role_arn_for
from .targets import LiveTarget


def _one_or_list(values: Iterable[str]) -> str | list[str]:
    items = sorted(set(values))
    return items[0] if len(items) == 1 else items


def required_policy(targets: Sequence[LiveTarget], *, account: str | None = None) -> dict[str, Any]:
    """The least-privilege read-only policy for the live check of these targets.

    Attach it to the role (or profile principal) the check uses in each account; ``account``
    keeps only that account's resources. Exactly the actions the check calls, on the repositories,
    functions and stacks involved (``sts:GetCallerIdentity`` needs no permission).
    """
    mine = [t for t in targets if t.account and t.region]

    def keep(owner: str) -> bool:
        return account is None or owner == account

    repositories = {
        t.image.repository_arn for t in mine if t.image is not None and keep(t.image.account)
    }
    sources = {
        f"arn:{partition_of(t.replica_source[1])}:ecr:{t.replica_source[1]}:{t.replica_source[0]}:"
        f"repository/{t.image.repository}"
        for t in mine
        if t.image is not None and t.replica_source is not None and keep(t.replica_source[0])
    }
    named = {
        f"arn:{t.partition}:lambda:{t.region}:{t.account}:function:{t.function_name}"
        for t in mine
        if t.function_name and keep(str(t.account))
    }
    generated = [t for t in mine if not t.function_name and keep(str(t.account))]
    functions = named | {
        f"arn:{t.partition}:lambda:{t.region}:{t.account}:function:*" for t in generated
    }
    stacks = {
        f"arn:{t.partition}:cloudformation:{t.region}:{t.account}:stack/{t.stack_name}/*"
        for t in generated
    }
    statements: list[dict[str, Any]] = []
    if repositories:
        statements.append(
            {
                "Sid": "ReadRepositoryPolicyAndImages",
                "Effect": "Allow",
                "Action": ["ecr:DescribeImages", "ecr:GetRepositoryPolicy"],
                "Resource": _one_or_list(repositories),
            }
        )
    if sources:
        statements.append(
            {
                "Sid": "ReadReplicationStatus",
                "Effect": "Allow",
                "Action": "ecr:DescribeImageReplicationStatus",
                "Resource": _one_or_list(sources),
            }
        )
    if functions:
        statements.append(
            {
                "Sid": "ReadFunctions",
                "Effect": "Allow",
                "Action": "lambda:GetFunction",
                "Resource": _one_or_list(functions),
            }
        )
    if stacks:
        statements.append(
            {
                "Sid": "ReadGeneratedFunctionNames",
                "Effect": "Allow",
                "Action": "cloudformation:DescribeStackResource",
                "Resource": _one_or_list(stacks),
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def policy_gaps(targets: Sequence[LiveTarget]) -> list[str]:
    """What :func:`required_policy` cannot cover: functions whose account, Region or image is
    known only at deploy time (their resources are not in the policy)."""
    gaps = []
    for t in targets:
        if not t.account or not t.region:
            gaps.append(
                f"{t.function}: the stack is env-agnostic, so its function and repository are not "
                "in the policy (the live check reports it unverifiable)"
            )
        elif t.image is None:
            gaps.append(
                f"{t.function}: its image URI is known only at deploy time, so its repository is "
                "not in the policy: add the repository's ARN to ReadRepositoryPolicyAndImages"
            )
    return gaps


def caller_policy(targets: Sequence[LiveTarget], role_arn_template: str) -> dict[str, Any]:
    """The policy of the principal that runs the check with ``--assume-role-arn``."""
    accounts = {t.account for t in targets if t.account and t.region}
    accounts |= {t.image.account for t in targets if t.image is not None and t.account}
    accounts |= {t.replica_source[0] for t in targets if t.replica_source is not None}
    roles = [role_arn_for(role_arn_template, a) for a in sorted(a for a in accounts if a)]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AssumeTheReadOnlyRoles",
                "Effect": "Allow",
                "Action": "sts:AssumeRole",
                "Resource": _one_or_list(roles),
            }
        ]
        if roles
        else [],
    }
