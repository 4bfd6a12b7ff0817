"""A function's verdict, as an ordered list of small stages.

Image reference, Region, locate the repository and its source, policy, environment, evaluate,
replication: each stage is a function ``(audit, draft) -> FunctionReport | None`` in its own
module, reading the model (:mod:`..model`) and what the earlier stages found (:class:`.Draft`).
The first stage that returns a report decides; the last always does. A status's id, severity and
texts are its module's in :mod:`..checks`.
"""

from __future__ import annotations

from ..checks.context import AuditContext
from ..results import FunctionReport
from .draft import Draft, Stage
from .environment import stage_environment
from .evaluate import evaluate, stage_evaluate
from .image import stage_image
from .locate import bootstrap_repository_policy, stage_locate
from .policy import stage_policy
from .region import stage_region
from .replication import stage_replication

__all__ = [
    "FUNCTION_STAGES",
    "Draft",
    "Stage",
    "run_stages",
    "evaluate",
    "bootstrap_repository_policy",
]

FUNCTION_STAGES: tuple[Stage, ...] = (
    stage_image,
    stage_region,
    stage_locate,
    stage_policy,
    stage_environment,
    stage_evaluate,
    stage_replication,
)
"""A function's verdict: image reference, Region, locate the repository and its source, policy,
environment, evaluate, replication. The first stage that returns a report decides."""


def run_stages(audit: AuditContext, draft: Draft) -> FunctionReport:
    """The verdict for one way a function's values go: the first stage that decides."""
    for stage in FUNCTION_STAGES:
        verdict = stage(audit, draft)
        if verdict is not None:
            return verdict
    raise AssertionError("the last stage always decides")  # pragma: no cover
