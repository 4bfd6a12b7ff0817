"""The audit's report: every verdict, repository and finding of one assembly, and whether the check
fails (:class:`AuditReport`). The per-function, per-repository and finding records are in
:mod:`.results` (below the checks that build them) and importable from here as before."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .load import TemplateLines
from .results import Finding, FunctionReport, RepositoryReport
from .rules import ERROR, FAILING_STATUSES, STRICT_FAILING_STATUSES, WARNING

__all__ = ["FunctionReport", "RepositoryReport", "Finding", "AuditReport"]


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
