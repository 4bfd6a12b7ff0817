"""``--format text``: a readable table of functions with each verdict's detail."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TextIO

from ...policy import ECR_POLICY_MAX_CHARS
from ..load import printable
from ..report import AuditReport
from ..rules import FAILING_STATUSES, STRICT_FAILING_STATUSES
from .base import Formatter

__all__ = ["TextFormatter", "render_text", "wrap"]


class TextFormatter(Formatter):
    """The report as aligned tables, each detail wrapped at 100 columns."""

    name = "text"

    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        render_text(report, path, strict=strict, out=out)


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines with aligned columns."""
    rows = [[printable(cell) for cell in row] for row in rows]  # no raw control characters
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def wrap(text: str, indent: str = "    ") -> str:
    """The text wrapped at 100 columns, indented (ARNs are never broken); control characters
    (from a stranger's template: a logical id with an escape sequence) are shown escaped."""
    return textwrap.fill(
        printable(text),
        width=100,
        initial_indent=indent,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )


def render_text(report: AuditReport, path: str, *, strict: bool, out: TextIO) -> None:
    """The ``--format text`` output: a table of functions with each verdict's detail."""
    failing = STRICT_FAILING_STATUSES if strict else FAILING_STATUSES
    write = out.write
    write(f"ecr-lambda-access audit {printable(path)}\n\n")
    if report.functions:
        write(f"Functions ({len(report.functions)})\n")
        rows: list[Sequence[str]] = [
            ("", "FUNCTION", "STACK", "ACCOUNT", "REGION", "STATUS", "IMAGE")
        ]
        for f in report.functions:
            mark = "x" if f.status in failing else ("?" if f.status != "ok" else " ")
            rows.append(
                (
                    mark,
                    f.function,
                    f.stack,
                    f.account or "(env-agnostic)",
                    f.region or "(env-agnostic)",
                    f.status,
                    f.image or "-",
                )
            )
        lines = _table(rows)
        write(lines[0] + "\n")
        for line, f in zip(lines[1:], report.functions, strict=True):
            write(line + "\n")
            write(wrap(f.detail) + "\n")
    else:
        write("No container-image Lambda functions in the assembly.\n")
    if report.repositories:
        write(f"\nRepositories ({len(report.repositories)})\n")
        rows = [("REPOSITORY", "STACK", "POLICY", "CONSUMERS")]  # a new table
        for r in report.repositories:
            size = f"{r.policy_size:,}/{ECR_POLICY_MAX_CHARS:,}" if r.has_policy else "none"
            rows.append((r.path, r.stack, size, ", ".join(r.consumers) or "-"))
        for line in _table(rows):
            write(line + "\n")
    if report.findings:
        write(f"\nFindings ({len(report.findings)})\n")
        for finding in report.findings:
            write(f"{finding.severity:<8} {finding.code}  {printable(finding.resource)}\n")
            write(wrap(finding.message) + "\n")
    counts = report.counts()
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "none"
    errors, warnings = len(report.errors()), len(report.warnings())
    verdict = "FAILED" if report.failed(strict=strict) else "passed"
    write(
        f"\n{verdict}: {len(report.functions)} function(s): {summary}; {errors} error(s), "
        f"{warnings} warning(s)"
    )
    unchecked = sum(counts.get(s, 0) for s in ("external", "unverifiable"))
    if unchecked and not strict:
        write(f" ({unchecked} image(s) could not be checked: --strict fails on them)")
    write("\n")
