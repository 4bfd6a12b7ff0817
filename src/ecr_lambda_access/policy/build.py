"""Writing repository policies: the documented pair, merged, and the opt-in organization pair.

Pure Python, plain data in, statement dicts out (see ``DOMAIN.md``): one statement with every
cross-account root principal, one for ``lambda.amazonaws.com`` whose ``aws:SourceArn`` lists each
consumer's functions, and with ``organization_id`` the organization pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidConsumerError, Violation
from ..validation import (
    check_account_id,
    check_function_name,
    check_function_name_prefix,
    is_unresolved,
)

ECR_PULL_ACTIONS: tuple[str, str] = ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")
"""What the Lambda service (and the consumer account's deployer) needs on the repository."""

LAMBDA_SERVICE_PRINCIPAL = "lambda.amazonaws.com"

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
    """True when every function matched by ``specific`` (another pattern) is matched by
    ``general``; never for patterns holding tokens (their values are not known)."""
    if not general.endswith("*") or is_unresolved(general + specific):
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


# --------------------------------------------------------------------------------------------
# Replicas: one builder, a Region per replica
# --------------------------------------------------------------------------------------------
# A replica's policy is built by repository_policy_statements like any other, with the replica's
# own account and Region (so a consumer's function ARNs name the replica's Region); only whom it
# admits is decided here.


def replica_consumers(
    source_consumers: Iterable[LambdaConsumer | str],
    *,
    source_account: str,
    replica_account: str,
    consumers: Iterable[LambdaConsumer | str] = (),
) -> list[LambdaConsumer]:
    """Whom a replica admits (before the functions that register on it).

    A replica in the source's own account is the same distribution point in another Region: it
    admits the source's consumers plus ``consumers``. A replica in another account is that
    account's own registry: it admits ``consumers`` only (its own functions register on it), never
    the source's other consumers.
    """
    own = [as_consumer(c) for c in consumers]
    if replica_account == source_account:
        return [*map(as_consumer, source_consumers), *own]
    return own
