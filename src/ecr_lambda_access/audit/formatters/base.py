"""What every output format of the audit implements."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TextIO

from ..report import AuditReport

__all__ = ["Formatter"]


class Formatter(ABC):
    """Writes an :class:`AuditReport` in one format.

    ``path`` is the assembly the report is about (as the user gave it); ``strict`` is the
    command's ``--strict`` (which statuses fail the check).
    """

    name: str = ""
    """The ``--format`` value that selects this formatter."""

    @abstractmethod
    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        """Write the report to ``out``."""
