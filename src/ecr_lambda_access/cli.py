"""The ``ecr-lambda-access`` command line: ``ecr-lambda-access audit [PATH]``.

Exit status: 0 when every function that can be checked can pull its image, 1 when at least one
definite problem is found (with ``--strict``, also images that cannot be checked), 2 for a usage
error (bad arguments, a missing directory, not a cloud assembly), with one line on stderr.

Imports no jsii and no aws-cdk-lib: it starts in a fraction of a second. ``--live`` (after
deploy: what is deployed against what the functions need) imports boto3, the ``[live]`` extra;
``ecr-lambda-access live-policy [PATH]`` prints the read-only IAM policy it needs.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ._version import __version__
from .audit import STATUSES, AssemblyError, AuditReport, audit_assembly
from .audit.formatters import FORMATTERS, render_text
from .audit.load import printable
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
            "scanning), junit (JUnit XML for CodeBuild report groups, GitLab, Jenkins) or "
            "markdown (a verdict table and a Mermaid graph of who can pull what, for a GitHub "
            "job summary or a merge-request comment)"
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
    _add_live_arguments(audit)
    _add_live_policy_command(commands)
    _add_diff_command(commands)
    return parser


def _write_report(
    report: AuditReport,
    args: argparse.Namespace,
    write: Callable[[TextIO], None] | None = None,
) -> None:
    """The --format report into --output.

    A regular file (or a new one) is written whole to ``.NAME.partial`` and renamed into place,
    so a reader never sees half a report; the partial file is removed on any failure and on
    SIGTERM. An existing symbolic link or non-regular file (``/dev/null``, ``/dev/stdout``, a
    pipe) is written through, never replaced. ``write`` writes something else than the static
    report in its format (``--live``'s JSON).
    """

    def write_to(out: TextIO) -> None:
        if write is None:
            FORMATTERS[args.format]().write(report, out, path=args.path, strict=args.strict)
        else:
            write(out)

    target = Path(args.output)
    if target.is_symlink() or (target.exists() and not target.is_file()):
        with target.open("w", encoding="utf-8", newline="\n") as out:
            write_to(out)
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")

    def terminated(signum: int, frame: object) -> NoReturn:
        raise SystemExit(128 + signum)

    main_thread = threading.current_thread() is threading.main_thread()  # signals: main only
    previous = signal.signal(signal.SIGTERM, terminated) if main_thread else None
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            write_to(out)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status.

    Whatever the assembly holds, the command ends with an exit status and at most one line on
    stderr, never a traceback: an unexpected failure is a usage error (2), named as a bug.
    """
    try:
        return _main(argv)
    except (KeyboardInterrupt, SystemExit):
        raise
    except RecursionError:
        return _usage("the assembly is nested too deeply to be a cloud assembly")
    except MemoryError:
        return _usage("the assembly is too large to audit in the memory available")
    except Exception as error:  # the last line of defence of a CI gate
        from .audit.live.credentials import redact  # no boto3: a message without credentials

        return _usage(
            f"the audit stopped on an input it does not handle ({type(error).__name__}: "
            f"{redact(str(error))}); this is a bug in {PROG} {__version__}: please report it "
            "with the assembly's shape"
        )


def _main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "live-policy":
        return _live_policy(args)
    if args.command == "diff":
        return _diff(args)
    if args.command != "audit":
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.organization_id is not None:
        problems = check_organization_id(args.organization_id, "--organization-id")
        if problems:
            print(f"{PROG}: error: {problems[0][1]}", file=sys.stderr)
            return EXIT_USAGE
    if args.live or args.profile or args.assume_role_arn:
        return _audit_live(args)
    try:
        report = audit_assembly(args.path, organization_id=args.organization_id)
    except AssemblyError as error:
        return _usage(str(error))
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


# --------------------------------------------------------------------------------------------
# The live check: `audit PATH --live` and `live-policy` (imports boto3 only with --live)
# --------------------------------------------------------------------------------------------

_MAX_TIMEOUT = 86_400.0
"""The longest --timeout: a deadline further away than the clock can wait for is a usage error."""
_PROFILE = re.compile(r"(?P<account>\d{12})=(?P<profile>\S+)")
_ROLE_TEMPLATE = re.compile(r"arn:aws[a-z-]*:iam::\{account\}:role/[\w+=,.@/-]+")


def _add_live_arguments(audit: argparse.ArgumentParser) -> None:
    live = audit.add_argument_group(
        "live check (after deploy; needs the extra: pip install 'ecr-lambda-access[live]')"
    )
    live.add_argument(
        "--live",
        action="store_true",
        help=(
            "after the static checks, ask AWS (read-only) whether every deployed function can "
            "still pull its image: statuses drifted, image-missing, function-failed"
        ),
    )
    live.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="ACCOUNT=PROFILE",
        help="credentials for one account from a named profile (repeat for each account)",
    )
    live.add_argument(
        "--assume-role-arn",
        metavar="'arn:aws:iam::{account}:role/NAME'",
        help="assume this read-only role in every account without a --profile",
    )
    live.add_argument(
        "--timeout",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help=(
            "the live check's deadline (default 300): what is not checked by then is "
            "unverifiable, with the reason; each AWS call also has connect and read timeouts"
        ),
    )
    live.add_argument(
        "--concurrency",
        type=int,
        default=16,
        metavar="N",
        help="at most N AWS calls at once (default 16)",
    )


def _add_live_policy_command(commands: Any) -> None:
    command = commands.add_parser(
        "live-policy",
        help="print the read-only IAM policy `audit --live` needs for a cloud assembly",
        description=(
            "Prints, as JSON, the least-privilege IAM policy the live check needs: exactly the "
            "read actions it calls, on the repositories, functions (and, for functions without "
            "a FunctionName, stacks) of the assembly. Attach it to the role or profile the "
            "check uses in each account. With --caller, prints instead the policy of the "
            "principal that runs the check and assumes the --assume-role-arn roles."
        ),
    )
    command.add_argument(
        "path", nargs="?", default="cdk.out", metavar="PATH", help="default: cdk.out"
    )
    command.add_argument("--account", metavar="ACCOUNT", help="only the resources of this account")
    command.add_argument(
        "--caller",
        action="store_true",
        help="the caller's policy: sts:AssumeRole on the role of each account",
    )
    command.add_argument("--assume-role-arn", metavar="'arn:aws:iam::{account}:role/NAME'")


def _usage(message: str) -> int:
    print(f"{PROG}: error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _check_role_template(template: str | None) -> str | None:
    if template is not None and not _ROLE_TEMPLATE.fullmatch(template):
        return (
            f"--assume-role-arn must be an IAM role ARN with {{account}} for the account id, "
            f"like 'arn:aws:iam::{{account}}:role/ImagePullAudit', got {template!r}"
        )
    return None


def _audit_live(args: argparse.Namespace) -> int:
    from .audit import live

    if not args.live:
        return _usage("--profile and --assume-role-arn go with --live")
    profiles: dict[str, str] = {}
    for value in args.profile:
        match = _PROFILE.fullmatch(value)
        if match is None:
            return _usage(
                f"--profile must be ACCOUNT=PROFILE with a 12-digit account id, got {value!r}"
            )
        profiles[match["account"]] = match["profile"]
    problem = _check_role_template(args.assume_role_arn)
    if problem:
        return _usage(problem)
    if args.concurrency < 1:
        return _usage(f"--concurrency must be at least 1, got {args.concurrency}")
    if not 0 < args.timeout <= _MAX_TIMEOUT:  # also NaN and infinity
        return _usage(
            f"--timeout must be a number of seconds above 0 and at most {_MAX_TIMEOUT:g} "
            f"(a day), got {args.timeout}"
        )
    try:
        live.require_boto3()
        report, targets = live.audit_with_targets(args.path, organization_id=args.organization_id)
    except (AssemblyError, live.LiveUnavailableError) as error:
        return _usage(str(error))
    except RecursionError:
        return _usage(f"{args.path}: the assembly is nested too deeply to be a cloud assembly")
    from botocore.exceptions import BotoCoreError

    try:
        credentials = live.AccountCredentials(
            profiles=profiles,
            role_arn_template=args.assume_role_arn,
            max_workers=args.concurrency,
        )
    except BotoCoreError as error:  # e.g. AWS_PROFILE names no profile
        return _usage(live.redact(f"--live cannot start an AWS session: {error}"))
    checked = live.LiveCheck(
        credentials,
        organization_id=args.organization_id,
        max_workers=args.concurrency,
        timeout=args.timeout,
    ).run(targets)

    def write_json(out: TextIO) -> None:  # never a credential (an endpoint URL's user info)
        data = report.to_json(strict=args.strict)
        data["live"] = checked.to_json(strict=args.strict)
        out.write(live.redact(json.dumps(data, indent=2)))
        out.write("\n")

    def write_live_text(out: TextIO) -> None:
        text = io.StringIO()
        live.render_text(checked, strict=args.strict, out=text)
        lines = live.redact(text.getvalue()).split("\n")  # no raw control characters either
        out.write("\n".join(printable(line) for line in lines))

    if args.output is not None:  # the --format report (JSON: with the live object) to the file
        try:
            _write_report(report, args, write_json if args.format == "json" else None)
        except OSError as error:
            return _usage(f"cannot write --output {args.output}: {error}")
    try:
        if args.output is not None:
            render_text(report, args.path, strict=args.strict, out=sys.stdout)
            write_live_text(sys.stdout)
        elif args.format == "json":
            write_json(sys.stdout)
        else:  # text; another format (SARIF, JUnit): the static report, the live part on stderr
            FORMATTERS[args.format]().write(report, sys.stdout, path=args.path, strict=args.strict)
            write_live_text(sys.stdout if args.format == "text" else sys.stderr)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`... | head`), as for the static audit
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    failed = report.failed(strict=args.strict) or checked.failed(strict=args.strict)
    return EXIT_PROBLEMS if failed else EXIT_OK


def _live_policy(args: argparse.Namespace) -> int:
    from .audit import live

    problem = _check_role_template(args.assume_role_arn)
    if problem:
        return _usage(problem)
    if args.caller and args.assume_role_arn is None:
        return _usage("--caller needs --assume-role-arn (the roles the caller assumes)")
    if args.account is not None and not re.fullmatch(r"\d{12}", args.account):
        return _usage(f"--account must be a 12-digit AWS account id, got {args.account!r}")
    try:
        _, targets = live.audit_with_targets(args.path)
    except AssemblyError as error:
        return _usage(str(error))
    if args.caller:
        document = live.caller_policy(targets, args.assume_role_arn)
    else:
        document = live.required_policy(targets, account=args.account)
    json.dump(document, sys.stdout, indent=2)
    sys.stdout.write("\n")
    if not args.caller:
        for gap in live.policy_gaps(targets):
            print(f"{PROG}: note: {gap}", file=sys.stderr)
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# `diff OLD NEW`: what deploying NEW over OLD does to the resources a port must keep
# --------------------------------------------------------------------------------------------


def _add_diff_command(commands: Any) -> None:
    diff = commands.add_parser(
        "diff",
        help="compare two cloud assemblies: is a function, repository, log group or role replaced?",
        description=(
            "Compares two synthesized cloud assemblies (the app before and after a change, e.g. "
            "adopting this library) resource by resource, matched by stack and logical id, for "
            "the resources whose replacement you would regret (functions, repositories, log "
            "groups, roles, queues, buckets, tables, topics, keys, secrets): kept, changed in "
            "place, REPLACED (naming the property that forces it, by CloudFormation's rules), "
            "added or REMOVED. Exit status: 0 nothing replaced or removed, 1 a resource is "
            "replaced or removed (unless --allow-replacement), 2 a usage error."
        ),
    )
    diff.add_argument("old", metavar="OLD_ASSEMBLY", help="the assembly deployed today")
    diff.add_argument("new", metavar="NEW_ASSEMBLY", help="the assembly about to be deployed")
    diff.add_argument("--format", choices=("text", "json"), default="text")
    diff.add_argument(
        "--allow-replacement",
        action="store_true",
        help="exit 0 even when a resource is replaced or removed (the report still says so)",
    )


def _diff(args: argparse.Namespace) -> int:
    from .diff import diff_assemblies, render_json
    from .diff import render_text as render_diff

    try:
        result = diff_assemblies(args.old, args.new)
    except AssemblyError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RecursionError:
        print(f"{PROG}: error: an assembly is nested too deeply to be read", file=sys.stderr)
        return EXIT_USAGE
    try:
        if args.format == "json":
            render_json(result, sys.stdout)
        else:
            render_diff(result, sys.stdout, old=args.old, new=args.new)
        sys.stdout.flush()
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_PROBLEMS if result.failing and not args.allow_replacement else EXIT_OK
