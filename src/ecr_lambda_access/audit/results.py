"""What the checks produce, as plain data: a verdict per function, a report per repository, and
findings.

Below the checks (which build these) and the report (which gathers them and knows which statuses
fail): a check imports this module, never :mod:`.report`, so no import cycle runs through the
registry of checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..policy import ECR_POLICY_MAX_CHARS
from ..registry.image_ref import ImageRef

__all__ = ["FunctionReport", "RepositoryReport", "Finding"]


@dataclass(frozen=True)
class FunctionReport:
    """The verdict for one container-image function."""

    function: str
    stack: str
    account: str | None
    region: str | None
    image: str | None
    repository: str | None
    status: str
    detail: str
    logical_id: str
    template_path: str
    function_name: str | None = None
    tag_or_digest: str | None = None
    required_statements: tuple[Mapping[str, Any], ...] = ()
    """For ``external`` images: the statements the repository's owner must have."""
    image_ref: ImageRef | None = None
    """The model's reading of the image URI (:meth:`ImageRef.parse`, once, at load): set when
    the URI is a private ECR image Lambda accepts and every part of it (account, Region,
    repository, tag, digest) is known before deploy; None otherwise (a deploy-time value, a FIPS
    endpoint, another registry). ``image_check`` and the plugin read it, never ``image``'s
    text. Not part of the JSON form (``image`` and ``tag_or_digest`` are)."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``functions`` entries)."""
        data: dict[str, Any] = {
            "function": self.function,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "image": self.image,
            "repository": self.repository,
            "status": self.status,
            "detail": self.detail,
            "function_name": self.function_name,
            "tag_or_digest": self.tag_or_digest,
            "logical_id": self.logical_id,
            "template": self.template_path,
        }
        if self.required_statements:
            data["required_statements"] = [dict(s) for s in self.required_statements]
        return data


@dataclass(frozen=True)
class RepositoryReport:
    """One ``AWS::ECR::Repository`` of the assembly."""

    repository: str
    name: str | None
    path: str
    stack: str
    account: str | None
    region: str | None
    has_policy: bool
    policy_size: int
    unconditioned_service_statements: tuple[str, ...]
    consumers: tuple[str, ...]
    logical_id: str
    template_path: str
    replica_of: str | None = None
    """The source repository's ARN when this repository is a replica ``add_replica`` wrote."""

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``repositories`` entries)."""
        return {
            "repository": self.repository,
            "name": self.name,
            "path": self.path,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "has_policy": self.has_policy,
            "policy_size": self.policy_size,
            "policy_limit": ECR_POLICY_MAX_CHARS,
            "unconditioned_service_statements": list(self.unconditioned_service_statements),
            "consumers": list(self.consumers),
            "logical_id": self.logical_id,
            "template": self.template_path,
        }


@dataclass(frozen=True)
class Finding:
    """A problem of a repository or an execution role (not of one function's pull)."""

    severity: str
    code: str
    resource: str
    stack: str
    message: str
    logical_id: str
    template_path: str

    def to_json(self) -> dict[str, Any]:
        """The JSON form (the CLI's ``findings`` entries)."""
        return {
            "severity": self.severity,
            "code": self.code,
            "resource": self.resource,
            "stack": self.stack,
            "message": self.message,
            "logical_id": self.logical_id,
            "template": self.template_path,
        }
