"""The audit's results as plain data: one report per function and repository, and findings."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..policy import ECR_POLICY_MAX_CHARS
from ..registry.image_ref import ImageRef
from .load import TemplateLines
from .rules import ERROR, FAILING_STATUSES, STRICT_FAILING_STATUSES, WARNING

__all__ = ["FunctionReport", "RepositoryReport", "Finding", "AuditReport"]


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


@dataclass(frozen=True)
class AuditReport:
    """Everything the audit found in one assembly."""

    functions: tuple[FunctionReport, ...]
    repositories: tuple[RepositoryReport, ...]
    findings: tuple[Finding, ...]
    lines: Mapping[str, TemplateLines] = field(default_factory=dict)
    """Template path -> where that template defines its resources, as the loader recorded it
    while parsing (the SARIF and JUnit formatters point at these lines and open no file)."""

    def line_of(self, template_path: str, logical_id: str) -> int | None:
        """The line where ``logical_id`` is defined in the template, or None when not known."""
        lines = self.lines.get(template_path)
        return None if lines is None else lines.of(logical_id)

    def failures(self, *, strict: bool = False) -> list[FunctionReport]:
        """The functions whose status fails the check."""
        failing = STRICT_FAILING_STATUSES if strict else FAILING_STATUSES
        return [f for f in self.functions if f.status in failing]

    def errors(self) -> list[Finding]:
        """Findings that fail the check (a policy ECR would reject)."""
        return [f for f in self.findings if f.severity == ERROR]

    def warnings(self) -> list[Finding]:
        """Findings that do not fail the check."""
        return [f for f in self.findings if f.severity == WARNING]

    def failed(self, *, strict: bool = False) -> bool:
        """True when the pipeline should stop: a definite problem (or, strict, an unchecked one)."""
        return bool(self.failures(strict=strict) or self.errors())

    def counts(self) -> dict[str, int]:
        """How many functions have each status."""
        return dict(Counter(f.status for f in self.functions))

    def to_json(self, *, strict: bool = False) -> dict[str, Any]:
        """The CLI's ``--format json`` object."""
        return {
            "functions": [f.to_json() for f in self.functions],
            "repositories": [r.to_json() for r in self.repositories],
            "findings": [f.to_json() for f in self.findings],
            "summary": {
                "functions": len(self.functions),
                "statuses": self.counts(),
                "errors": len(self.errors()),
                "warnings": len(self.warnings()),
                "strict": strict,
                "failed": self.failed(strict=strict),
            },
        }
