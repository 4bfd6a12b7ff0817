"""The ``ecr-lambda-access`` command line: ``ecr-lambda-access audit [PATH]``.

Exit status: 0 when every function that can be checked can pull its image, 1 when at least one
definite problem is found (with ``--strict``, also images that cannot be checked), 2 for a usage
error (bad arguments, a missing directory, not a cloud assembly), with one line on stderr.

Imports no jsii and no aws-cdk-lib: it starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__
from .audit import STATUSES, AssemblyError, AuditReport, audit_assembly
from .audit.formatters import FORMATTERS, render_text
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
        choices=tuple(FORMATTERS),
        default="text",
        help=(
            "text (a readable table, the default), json, sarif (SARIF 2.1.0 for GitHub code "
            "scanning) or junit (JUnit XML for CodeBuild report groups, GitLab, Jenkins)"
        ),
    )
    audit.add_argument(
        "--output",
        metavar="FILE",
        help=(
            "write the --format report to FILE (directories are created) and print the text "
            "report on stdout, so one run shows the table and writes SARIF or JUnit"
        ),
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


def _write_report(report: AuditReport, args: argparse.Namespace) -> None:
    """The --format report into --output (written whole, then renamed into place)."""
    target = Path(args.output)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            FORMATTERS[args.format]().write(report, out, path=args.path, strict=args.strict)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


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
    except RecursionError:
        print(
            f"{PROG}: error: {args.path}: the assembly is nested too deeply to be a cloud assembly",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        if args.output is not None:
            try:
                _write_report(report, args)
            except OSError as error:
                print(
                    f"{PROG}: error: cannot write --output {args.output}: {error}", file=sys.stderr
                )
                return EXIT_USAGE
            render_text(report, args.path, strict=args.strict, out=sys.stdout)
        else:
            FORMATTERS[args.format]().write(report, sys.stdout, path=args.path, strict=args.strict)
        sys.stdout.flush()
    except BrokenPipeError:
        # the reader went away (`... | head`): no traceback; Python's documented recipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PROBLEMS if report.failed(strict=args.strict) else EXIT_OK
