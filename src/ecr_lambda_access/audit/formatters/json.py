"""``--format json``: the report's JSON form (``functions``, ``repositories``, ``findings``,
``summary``)."""

from __future__ import annotations

import json
from typing import TextIO

from ..report import AuditReport
from .base import Formatter

__all__ = ["JsonFormatter"]


class JsonFormatter(Formatter):
    """The report as one JSON object, indented, with a final newline."""

    name = "json"

    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        json.dump(report.to_json(strict=strict), out, indent=2)
        out.write("\n")
