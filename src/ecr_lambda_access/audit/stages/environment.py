"""Environment: an env-agnostic account or Region on either side."""

from __future__ import annotations

from ...policy import policy_problems
from ..checks.context import AuditContext
from ..checks.invalid_policy import ID as INVALID_POLICY
from ..checks.unverifiable import ID as UNVERIFIABLE
from ..model import PolicyState
from ..results import FunctionReport
from ..values import Unknown
from .draft import Draft

__all__ = ["stage_environment"]


def stage_environment(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    repository, env = draft.repo, draft.env
    if repository.region != env.region or (
        repository.account != env.account
        and (isinstance(repository.account, Unknown) or isinstance(env.account, Unknown))
    ):
        # An invalid policy admits nothing in any account or Region (ECR refuses it at
        # SetRepositoryPolicy): that verdict needs no environment.
        invalid = _invalid(draft)
        if invalid is not None:
            return draft.report(INVALID_POLICY, invalid, repository=str(repository.arn))
        return draft.report(
            UNVERIFIABLE, agnostic_detail(audit, draft), repository=str(repository.arn)
        )
    return None


def _invalid(draft: Draft) -> str | None:
    """Why the repository's policy is invalid whatever the environment, or None."""
    repository = draft.repo
    if repository.policy.state is PolicyState.INVALID:  # as the evaluate stage words them
        return f"the policy of repository {repository.path} is invalid: {repository.policy.reason}"
    if repository.policy.state is PolicyState.VALID:
        problems = policy_problems(repository.policy.document)
        if problems:
            return f"the repository policy is invalid: {problems[0]}"
    return None


def agnostic_detail(audit: AuditContext, draft: Draft) -> str:
    """Why a function and a repository, one of them env-agnostic, can't be checked."""
    repository = draft.repo
    agnostic = [
        f"stack {s.display_name}"
        for s in (draft.stack, audit.model.stacks[repository.index])
        if s.account is None or s.region is None
    ]
    names = list(dict.fromkeys(agnostic))
    verb = "is" if len(names) == 1 else "are"
    return (
        f"{' and '.join(names)} {verb} env-agnostic: the account and Region are "
        f"known only at deploy time, so whether the function can pull from repository "
        f"{repository.path} cannot be checked. Give the stack an explicit "
        "env=Environment(account=..., region=...)"
    )
