"""Policy: not known before deploy, or absent (no policy admits nothing)."""

from __future__ import annotations

from ..checks.context import AuditContext
from ..checks.no_policy import ID as NO_POLICY
from ..checks.unverifiable import ID as UNVERIFIABLE
from ..model import PolicyState
from ..results import FunctionReport
from ..values import Unknown
from .draft import Draft

__all__ = ["stage_policy"]


def stage_policy(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    repository, account = draft.repo, draft.env.account
    arn = str(repository.arn)
    unknown = repository.policy.unknown
    if unknown is not None:
        return draft.report(
            UNVERIFIABLE,
            f"the policy of repository {repository.path} is not known before deploy: "
            f"{unknown.reason}",
            repository=arn,
        )
    if repository.policy.state is PolicyState.ABSENT:
        # No policy admits nothing, whatever account and Region the stacks deploy to: this
        # needs no environment, so env-agnostic stacks get the verdict too.
        same = repository.account == account
        needed = (
            "lambda.amazonaws.com limited by aws:SourceArn to the function"
            if same
            else f"the root of account {account} and lambda.amazonaws.com "
            "limited by aws:SourceArn to the function"
            + (
                " (the root only if the accounts differ)"
                if isinstance(repository.account, Unknown) or isinstance(account, Unknown)
                else ""
            )
        )
        return draft.report(
            NO_POLICY,
            f"repository {repository.path} has no repository policy: allow {needed} "
            "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer). Do not rely on Lambda adding a "
            "statement itself: it does so only when the deployer may SetRepositoryPolicy, and "
            "a later policy update drops it",
            repository=arn,
        )
    return None
