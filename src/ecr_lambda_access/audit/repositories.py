"""Each repository of the model: its report (policy size, consumers, unconditioned service
statements) and its findings, from the repository checks of :data:`.checks.REPOSITORY_CHECKS`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from .. import policy
from ..policy import Access
from .checks import REPOSITORY_CHECKS, RepositoryFacts
from .model import AssemblyModel, ModelRepository, PolicyState
from .results import Finding, RepositoryReport
from .values import Unknown, render

__all__ = ["repository_reports", "admits_every_account"]


def repository_reports(
    model: AssemblyModel, consumers: Mapping[tuple[int, str], list[str]]
) -> tuple[list[RepositoryReport], list[Finding]]:
    """A report per repository of the model, and the findings of the repository checks."""
    reports: list[RepositoryReport] = []
    findings: list[Finding] = []
    for repository in model.repositories:
        stack = model.stacks[repository.index]
        document = repository.document
        size = estimated_length(repository)
        unconditioned = tuple(policy.unconditioned_service_statements(document))

        finding = partial(
            Finding,
            resource=repository.path,
            stack=stack.display_name,
            logical_id=repository.logical_id,
            template_path=stack.template_path,
        )
        facts = RepositoryFacts(
            path=repository.path,
            size=size,
            limit=policy.ECR_POLICY_MAX_CHARS,
            problems=tuple(policy_problems(document)),
            unconditioned=unconditioned,
            admits_every_account=partial(admits_every_account, repository),
        )
        for check in REPOSITORY_CHECKS:
            message = check.check(facts)
            if message is not None:
                findings.append(
                    finding(severity=check.RULE.severity, code=check.RULE.id, message=message)
                )
        reports.append(
            RepositoryReport(
                repository=str(repository.arn),
                name=None if isinstance(repository.name, Unknown) else repository.name,
                path=repository.path,
                stack=stack.display_name,
                account=stack.account,
                region=stack.region,
                has_policy=repository.policy.state is not PolicyState.ABSENT,
                policy_size=size,
                unconditioned_service_statements=unconditioned,
                consumers=tuple(consumers.get((repository.index, repository.logical_id), ())),
                logical_id=repository.logical_id,
                template_path=stack.template_path,
                replica_of=repository.replica_of,
            )
        )
    return reports, findings


def admits_every_account(repository: ModelRepository) -> bool:
    """True when a stranger's account (not in any organization we know, in no condition)
    surely gets a pull action: a policy open to every AWS account."""
    document = repository.document
    if document is None:
        return False
    stranger = "000000000000" if repository.account != "000000000000" else "000000000001"
    return any(
        policy.evaluate_pull(
            document,
            function_arn=f"arn:aws:lambda:us-east-1:{stranger}:function:stranger",
            function_account=stranger,
            repository_account=render(repository.account),
            actions=[action],
        ).root.access
        is Access.GRANTED
        for action in policy.ECR_PULL_ACTIONS
    )


def estimated_length(repository: ModelRepository) -> int:
    """The policy's length as ECR counts it (an unknown value as 14 characters); an invalid
    policy's stand-in document counts as its text."""
    if repository.policy.state is PolicyState.VALID:
        return repository.policy.estimated_length
    document = repository.document
    return 0 if document is None else len(policy.policy_text(document))


def policy_problems(document: Mapping[str, Any] | None) -> list[str]:
    if document is None:
        return []
    if "_unreadable" in document:
        return [str(document["_unreadable"])]
    return policy.policy_problems(document)
