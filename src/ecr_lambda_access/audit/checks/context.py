"""What a check reads of the audit under way: :class:`AuditContext`.

The static audit (:class:`ecr_lambda_access.audit.verdicts._Audit`) implements it; a check names
this protocol, never the audit's class, so the checks sit below the verdicts and no import (not
even one for type checking) runs back up.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from ..model import AssemblyModel, ModelRepository
from ..replicas import RegistryResource
from ..resolve import Assembly
from ..results import Finding
from ..values import Value

__all__ = ["AuditContext"]


class AuditContext(Protocol):
    """The model, what the audit has found so far, and its evaluation of one pull."""

    @property
    def model(self) -> AssemblyModel: ...

    @property
    def assembly(self) -> Assembly: ...

    @property
    def by_name(self) -> Mapping[str, tuple[ModelRepository, ...]]: ...

    @property
    def replication_configurations(self) -> tuple[RegistryResource, ...]: ...

    @property
    def registry_policies(self) -> tuple[RegistryResource, ...]: ...

    @property
    def findings(self) -> list[Finding]:
        """The findings so far (a check appends its own)."""
        ...

    @property
    def _checked_roles(self) -> dict[int, set[str]]:
        """Stack index -> execution roles already checked (each role is checked once)."""
        ...

    @property
    def organization_id(self) -> str | None:
        """``--organization-id``: the organization the consumers are in, when given."""
        ...

    @property
    def consumers(self) -> dict[tuple[int, str], list[str]]:
        """(stack index, repository logical id) -> the functions that pull from it so far."""
        ...

    def evaluate(
        self, index: int, repository: ModelRepository, name: Value | None, logical_id: str
    ) -> tuple[str, str]:
        """The status and detail of a pull from ``repository`` by the function named ``name``
        (of stack ``index``)."""
        ...
