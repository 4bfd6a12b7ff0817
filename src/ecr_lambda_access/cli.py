"""The ``ecr-lambda-access`` command line: ``ecr-lambda-access audit [PATH]``.

Exit status: 0 when every function that can be checked can pull its image, 1 when at least one
definite problem is found (with ``--strict``, also images that cannot be checked), 2 for a usage
error (bad arguments, a missing directory, not a cloud assembly), with one line on stderr.

Imports no jsii and no aws-cdk-lib: it starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from collections.abc import Sequence
from typing import NoReturn, TextIO

from . import __version__
from .audit import (
    FAILING_STATUSES,
    STATUSES,
    STRICT_FAILING_STATUSES,
    AssemblyError,
    AuditReport,
    audit_assembly,
)
from .policy import ECR_POLICY_MAX_CHARS
from .validation import check_organization_id

__all__ = ["main", "render_text"]

PROG = "ecr-lambda-access"
EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see --help)\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Checks for Lambda functions that run container images from Amazon ECR.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    audit = commands.add_parser(
        "audit",
        help="check a synthesized cloud assembly: can every container-image function pull?",
        description=(
            "Reads a cloud assembly (cdk.out, CDK Pipelines stages included) and reports, for "
            "every container-image Lambda function, whether the repository policy lets its "
            "account and the Lambda service pull the image. Statuses: "
            + "; ".join(f"{name}: {meaning}" for name, meaning in STATUSES.items())
            + ". Exit status: 0 all checkable functions can pull, 1 a definite problem "
            "(or, with --strict, an image that cannot be checked), 2 a usage error."
        ),
    )
    audit.add_argument(
        "path",
        nargs="?",
        default="cdk.out",
        metavar="PATH",
        help="the cloud assembly directory (default: cdk.out)",
    )
    audit.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (a readable table, the default) or json",
    )
    audit.add_argument(
        "--strict",
        action="store_true",
        help="external and unverifiable images fail the check too",
    )
    audit.add_argument(
        "--organization-id",
        metavar="o-...",
        help=(
            "the AWS Organization every account of the assembly belongs to, so that "
            "aws:PrincipalOrgID / aws:SourceOrgID conditions can be checked"
        ),
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command != "audit":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.organization_id is not None:
        problems = check_organization_id(args.organization_id, "--organization-id")
        if problems:
            print(f"{PROG}: error: {problems[0][1]}", file=sys.stderr)
            return EXIT_USAGE
    try:
        report = audit_assembly(args.path, organization_id=args.organization_id)
    except AssemblyError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    if args.format == "json":
        json.dump(report.to_json(strict=args.strict), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        render_text(report, args.path, strict=args.strict, out=sys.stdout)
    return EXIT_PROBLEMS if report.failed(strict=args.strict) else EXIT_OK


def _table(rows: Sequence[Sequence[str]]) -> list[str]:
    """Rows as lines with aligned columns."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _wrap(text: str, indent: str = "    ") -> str:
    """The text wrapped at 100 columns, indented (ARNs are never broken)."""
    return textwrap.fill(
        text,
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
    write(f"ecr-lambda-access audit {path}\n\n")
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
            write(_wrap(f.detail) + "\n")
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
            write(f"{finding.severity:<8} {finding.code}  {finding.resource}\n")
            write(_wrap(finding.message) + "\n")
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
