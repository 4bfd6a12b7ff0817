"""Environment: an env-agnostic account or Region on either side."""

from __future__ import annotations

from ..checks.context import AuditContext
from ..checks.unverifiable import ID as UNVERIFIABLE
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
        return draft.report(
            UNVERIFIABLE, agnostic_detail(audit, draft), repository=str(repository.arn)
        )
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
