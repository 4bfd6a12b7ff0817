"""Records of the assembly model (:mod:`.model`): where a stack deploys, a function's image, an
IAM role. Each string in them is a :data:`.values.Value`: literal, or an :class:`.values.Unknown`
that carries its reason."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..registry.image_ref import ImageRef, UnsupportedImage
from .values import Unknown, Value

__all__ = ["Environment", "ModelImage", "ImageReading", "ModelRole"]


@dataclass(frozen=True)
class Environment:
    """Where a stack deploys: its account, Region and partition (each may be unknown)."""

    account: Value
    region: Value
    partition: Value


@dataclass(frozen=True)
class ModelImage:
    """A function's private ECR image (:class:`~ecr_lambda_access.registry.image_ref.ImageRef`,
    read by ``ImageRef.parse``), with each part a model value: unknown before deploy or not.
    Its endpoint is the standard one: a FIPS URI is an ``UnsupportedImage``."""

    uri: Value
    account: Value
    region: Value
    repository: Value
    tag: Value | None
    digest: Value | None
    ref: ImageRef | None = field(default=None, compare=False)
    """The parsed reference when every part is known before deploy (what ``image_check`` and
    the report's ``image_ref`` read), else None."""

    @property
    def tag_or_digest(self) -> Value | None:
        """The digest when there is one, else the tag; None when the URI names neither."""
        return self.digest or self.tag

    def repository_arn(self, partition: Value) -> Value:
        """``arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`` (unknown when a part is)."""
        parts: list[str | Unknown] = ["arn:", partition, ":ecr:", self.region, ":"]
        parts += [self.account, ":repository/", self.repository]
        if not any(isinstance(p, Unknown) for p in parts):
            return "".join(str(p) for p in parts)
        return Unknown.partial(parts)

    @property
    def known(self) -> bool:
        """True when account, Region and repository name are known before deploy."""
        return not any(isinstance(v, Unknown) for v in (self.account, self.region, self.repository))


ImageReading = ModelImage | UnsupportedImage | None
"""A function's image: a private ECR image, one Lambda refuses, or None (not a string, or its
registry is known only at deploy time)."""


@dataclass(frozen=True)
class ModelRole:
    """An ``AWS::IAM::Role``: the policies written on it. (The policies attached to it by other
    resources are in :attr:`AssemblyModel.role_policies`.)"""

    index: int
    logical_id: str
    inline_policies: tuple[tuple[Any, Any], ...] = ()
    """(PolicyName, PolicyDocument) of each entry of ``Policies``, as written."""
    managed_policies: tuple[tuple[str | None, Any], ...] = ()
    """Each entry of ``ManagedPolicyArns`` in order: (logical id, PolicyDocument) for an
    ``AWS::IAM::ManagedPolicy`` of the stack, (None, the ARN resolved: a :data:`Value`) for any
    other (AWS managed policies, imports...)."""
