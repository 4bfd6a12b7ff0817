"""Replication: does replication fill the repository the policy admits the function to?"""

from __future__ import annotations

from ..checks import replica
from ..checks.context import AuditContext
from ..results import FunctionReport
from .draft import Draft
from .evaluate import finish

__all__ = ["stage_replication"]


def stage_replication(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    """``not-replicated`` (or ``unverifiable``) for a replica nothing fills, else the policy's
    verdict (the last stage: it always decides)."""
    assert draft.evaluated is not None, "the evaluate stage runs first"
    status, detail = draft.evaluated
    replicated = replica.replica_status(audit, draft.repo)
    if replicated is not None:
        status, detail = replicated
    return finish(draft, status, detail)
