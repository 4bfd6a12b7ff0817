"""Image reference: a private ECR URI Lambda accepts, known before deploy."""

from __future__ import annotations

from ...registry.image_ref import UnsupportedImage
from ..checks.context import AuditContext
from ..checks.unsupported_image import ID as UNSUPPORTED_IMAGE
from ..checks.unverifiable import ID as UNVERIFIABLE
from ..results import FunctionReport
from ..values import Unknown
from .draft import Draft

__all__ = ["stage_image"]


def stage_image(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    """The image the model read (``ImageRef.parse``): refused by Lambda, not known before deploy,
    or the private ECR image the next stages judge."""
    uri = draft.uri
    if not isinstance(uri, (str, Unknown)):
        return draft.report(
            UNVERIFIABLE,
            f"function {draft.function.path} has no image URI the audit can read (Code.ImageUri)",
        )
    image = draft.reading
    if isinstance(image, UnsupportedImage):
        return draft.report(UNSUPPORTED_IMAGE, image.detail)
    if image is None:
        return draft.report(
            UNVERIFIABLE,
            f"the image URI {uri} is not known before deploy: its registry "
            "(ACCOUNT.dkr.ecr.REGION.amazonaws.com) is a deploy-time value, so it cannot be "
            "checked",
        )
    draft.image = image
    reference = image.tag_or_digest
    draft.base["tag_or_digest"] = None if reference is None else str(reference)
    return None
