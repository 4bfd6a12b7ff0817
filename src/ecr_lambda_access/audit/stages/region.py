"""Region: Lambda runs images only from its own Region."""

from __future__ import annotations

from ..checks.context import AuditContext
from ..checks.region_mismatch import ID as REGION_MISMATCH
from ..results import FunctionReport
from ..values import Unknown
from .draft import Draft

__all__ = ["stage_region"]


def stage_region(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    """The image's Region against the function's (when both are known)."""
    image, region = draft.ref, draft.env.region
    if (
        image.region != region
        and not isinstance(image.region, Unknown)
        and not isinstance(region, Unknown)
    ):
        return draft.report(
            REGION_MISMATCH,
            f"the image is in {image.region} but the function runs in {region}: Lambda "
            f"runs images only from its own Region. Replicate the repository to {region} "
            "(ECR replication) and use the replica's URI",
            repository=str(image.repository_arn(draft.env.partition)),
        )
    return None
