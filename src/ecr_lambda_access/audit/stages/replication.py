"""Replication: does replication fill the repository the policy admits the function to?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..checks import replica
from ..report import FunctionReport
from .draft import Draft
from .evaluate import finish

if TYPE_CHECKING:
    from ..verdicts import _Audit

__all__ = ["stage_replication"]


def stage_replication(audit: _Audit, draft: Draft) -> FunctionReport | None:
    """``not-replicated`` (or ``unverifiable``) for a replica nothing fills, else the policy's
    verdict (the last stage: it always decides)."""
    assert draft.evaluated is not None, "the evaluate stage runs first"
    status, detail = draft.evaluated
    replicated = replica.replica_status(audit, draft.repo)
    if replicated is not None:
        status, detail = replicated
    return finish(draft, status, detail)
