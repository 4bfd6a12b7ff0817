"""What the constructs tell users and scanners: id-carrying warnings and reasoned checkov skips."""

from __future__ import annotations

from aws_cdk import Annotations, CfnResource
from constructs import IConstruct

WARNING_PREFIX = "ecr-lambda-access"
"""Every warning id is ``ecr-lambda-access:<camelCaseId>``: acknowledge one with
``Validations.of(construct).acknowledge(Acknowledgment(id=..., reason=...))``."""


def warn(scope: IConstruct, warning_id: str, message: str) -> None:
    """Add a warning with the id ``ecr-lambda-access:<warning_id>``."""
    Annotations.of(scope).add_warning_v2(f"{WARNING_PREFIX}:{warning_id}", message)


def skip_checkov(resource: CfnResource, check_id: str, comment: str) -> None:
    """Record a checkov skip with its reason (``Metadata.checkov.skip``) on a resource we create.

    A second skip of the same check replaces the first.
    """
    current = resource.get_metadata("checkov") or {}
    skips = [s for s in current.get("skip", []) if s.get("id") != check_id]
    skips.append({"id": check_id, "comment": comment})
    resource.add_metadata("checkov", {"skip": skips})
