"""What to check: the container-image functions of a static audit report, as plain data
(:class:`LiveTarget`, each with its parsed :class:`ImageRef`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...registry.image_ref import ImageRef, UnsupportedImage, read_image
from ..load import StackTemplate
from ..report import AuditReport
from ..resolve import partition_of

__all__ = ["ImageRef", "LiveTarget", "parse_image_uri", "targets_from_report"]


def parse_image_uri(uri: str | None) -> ImageRef | None:
    """The parts of a private ECR image URI, or None (unresolved, or not ECR): the one parser of
    the package, :meth:`ImageRef.parse` (a FIPS URI parses; its ``fips`` says Lambda refuses it)."""
    return ImageRef.parse(uri)


@dataclass(frozen=True)
class LiveTarget:
    """One container-image function to check against what is deployed."""

    function: str
    """The construct path (as in the static report)."""
    stack: str
    stack_name: str
    logical_id: str
    account: str | None
    region: str | None
    function_name: str | None
    """The ``FunctionName`` of the template; None when it is not known before deploy (generated
    by CloudFormation, or a parameter): the check reads it from the deployed stack."""
    image: ImageRef | None
    synthesized_policy: Mapping[str, Any] | None = None
    """The repository's synthesized policy (resolved), when the assembly defines the repository."""
    replica_source: tuple[str, str] | None = None
    """(account, Region) of the registry the image is replicated from, when known."""
    image_deployed: bool = False
    """True when ``image`` is the deployed function's: the template's is known only at deploy."""
    synthesized_policy_state: str | None = None
    """The model's state of the synthesized policy: ``valid``, ``invalid``, ``absent``,
    ``unknown``; None when the assembly does not define the repository."""
    unsupported: str | None = None
    """Why Lambda refuses the synthesized image (a FIPS endpoint, a registry that is not private
    ECR), as the static audit's ``unsupported-image`` says it; None for an image it accepts."""

    @property
    def partition(self) -> str:
        return partition_of(self.region or "")


def targets_from_report(
    report: AuditReport,
    stacks: Sequence[StackTemplate] = (),
    *,
    policies: Mapping[str, Mapping[str, Any] | None] | None = None,
    replica_sources: Mapping[str, tuple[str, str]] | None = None,
    policy_states: Mapping[str, str] | None = None,
) -> list[LiveTarget]:
    """A target per function of a static report.

    ``policies``: repository ARN -> synthesized (resolved) policy, for repositories the assembly
    defines; ``replica_sources``: repository ARN -> (account, Region) of its replication source.
    """
    stack_names = {(s.template_path, s.display_name): s.stack_name for s in stacks}
    targets = []
    for f in report.functions:
        reading = read_image(f.image)
        unsupported = reading.detail if isinstance(reading, UnsupportedImage) else None
        image = reading if isinstance(reading, ImageRef) else None
        arn = image.repository_arn if image is not None else f.repository
        targets.append(
            LiveTarget(
                function=f.function,
                stack=f.stack,
                stack_name=stack_names.get((f.template_path, f.stack), f.stack),
                logical_id=f.logical_id,
                account=f.account,
                region=f.region,
                function_name=f.function_name,
                image=image,
                synthesized_policy=(policies or {}).get(arn or ""),
                replica_source=(replica_sources or {}).get(arn or ""),
                synthesized_policy_state=(policy_states or {}).get(arn or ""),
                unsupported=unsupported,
            )
        )
    return targets
