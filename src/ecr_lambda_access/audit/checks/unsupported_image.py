"""The function status ``unsupported-image``: its id, severity, texts and help link."""

from __future__ import annotations

from .base import ERROR, Rule

ID = "unsupported-image"

RULE: Rule = Rule(
    ID,
    "status",
    (
        "Lambda refuses this image URI: it is not a private ECR image on the standard "
        "endpoint (a FIPS endpoint dkr.ecr-fips, public.ecr.aws, Docker Hub, GHCR or "
        "another registry)"
    ),
    (
        "Copy the image into a private ECR repository of the function's Region and use "
        "its standard URI ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME (not dkr.ecr-fips)."
    ),
    ERROR,
)
