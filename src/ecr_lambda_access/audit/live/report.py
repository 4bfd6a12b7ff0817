"""What the live check reports: its own statuses (:data:`LIVE_RULES`), the verdict per function
(:class:`LiveFunctionReport`), the whole :class:`LiveReport`, and its text output.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

from ..formatters.text import wrap
from ..rules import ERROR, FAILING_STATUSES, OK, UNVERIFIABLE, Rule
from .credentials import AccountAccess

DRIFTED = "drifted"
IMAGE_MISSING = "image-missing"
FUNCTION_FAILED = "function-failed"

LIVE_RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            DRIFTED,
            "status",
            "the deployed repository policy no longer lets the function pull, though the "
            "synthesized one does (the detail shows the missing or denying statement)",
            "Redeploy the repository's stack, and find what changed the policy outside "
            "CloudFormation (another pipeline, the console, Lambda's own statement).",
            ERROR,
        ),
        Rule(
            IMAGE_MISSING,
            "status",
            "the image (the synthesized tag or digest, or the digest the deployed function runs) "
            "is not in the deployed repository",
            "Push the image again, or deploy an image that exists; exclude deployed digests from "
            "lifecycle rules; for a replica, check the replication of the digest.",
            ERROR,
        ),
        Rule(
            FUNCTION_FAILED,
            "status",
            "the deployed function is Failed or Inactive for an image reason (AWS's reason code "
            "in the detail)",
            "Fix the repository policy or the image, then update the function's code or "
            "configuration to bring it back.",
            ERROR,
        ),
    )
}
"""The statuses only the live check gives (the same :class:`Rule` shape as ``rules.RULES``)."""

LIVE_STATUSES: dict[str, str] = {rule.id: rule.text for rule in LIVE_RULES.values()}
"""The statuses only the live check gives, and what they mean."""

LIVE_FAILING_STATUSES = frozenset({DRIFTED, IMAGE_MISSING, FUNCTION_FAILED}) | FAILING_STATUSES
"""Live verdicts that fail the check. The static statuses appear too, for a deployed policy of a
repository the assembly does not define (or whose synthesized policy already failed)."""

IMAGE_REASON_CODES = frozenset({"ImageDeleted", "ImageAccessDenied", "InvalidImage"})
"""Lambda's ``StateReasonCode``/``LastUpdateStatusReasonCode`` values about the image."""


@dataclass(frozen=True)
class LiveFunctionReport:
    """The live verdict for one function."""

    function: str
    stack: str
    account: str | None
    region: str | None
    function_name: str | None
    status: str
    detail: str
    problems: tuple[tuple[str, str], ...] = ()
    """Every (status, detail) found; ``status`` is the first by severity."""
    warnings: tuple[str, ...] = ()
    state: str | None = None
    state_reason_code: str | None = None
    deployed_image: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "stack": self.stack,
            "account": self.account,
            "region": self.region,
            "function_name": self.function_name,
            "status": self.status,
            "detail": self.detail,
            "problems": [{"status": s, "detail": d} for s, d in self.problems],
            "warnings": list(self.warnings),
            "state": self.state,
            "state_reason_code": self.state_reason_code,
            "deployed_image": self.deployed_image,
        }


@dataclass(frozen=True)
class LiveReport:
    """What the live check found."""

    functions: tuple[LiveFunctionReport, ...]
    accounts: tuple[AccountAccess, ...]
    calls: Mapping[str, int] = field(default_factory=dict)
    """How many times each API operation was called (``service:Operation``; botocore's retries
    not counted)."""
    seconds: float = 0.0

    def failures(self, *, strict: bool = False) -> list[LiveFunctionReport]:
        failing = LIVE_FAILING_STATUSES | ({UNVERIFIABLE} if strict else set())
        return [f for f in self.functions if f.status in failing]

    def failed(self, *, strict: bool = False) -> bool:
        return bool(self.failures(strict=strict))

    def counts(self) -> dict[str, int]:
        return dict(Counter(f.status for f in self.functions))

    def warnings(self) -> list[tuple[str, str]]:
        return [(f.function, w) for f in self.functions for w in f.warnings]

    def to_json(self, *, strict: bool = False) -> dict[str, Any]:
        return {
            "functions": [f.to_json() for f in self.functions],
            "accounts": [a.to_json() for a in self.accounts],
            "calls": dict(sorted(self.calls.items())),
            "summary": {
                "functions": len(self.functions),
                "statuses": self.counts(),
                "warnings": len(self.warnings()),
                "unreachable_accounts": sum(not a.reachable for a in self.accounts),
                "strict": strict,
                "failed": self.failed(strict=strict),
                "seconds": round(self.seconds, 3),
            },
        }


def render_text(report: LiveReport, *, strict: bool, out: TextIO) -> None:
    """The live section of ``--format text``: accounts, then each function's verdict."""
    write = out.write
    write(f"\nLive check (deployed): {len(report.functions)} function(s)\n")
    unreachable = [a for a in report.accounts if not a.reachable]
    for access in report.accounts:
        state = "reached" if access.reachable else "NOT REACHED"
        write(f"  account {access.account}: {state} via {access.via}\n")
        if access.error:
            write(wrap(access.error) + "\n")
    failing = LIVE_FAILING_STATUSES | ({UNVERIFIABLE} if strict else set())
    for f in report.functions:
        mark = "x" if f.status in failing else ("?" if f.status != OK else " ")
        where = f"{f.account or '-'} {f.region or '-'}"
        write(f"{mark} {f.function}  {where}  {f.status}\n")
        write(wrap(f.detail) + "\n")
        for warning in f.warnings:
            write(wrap("warning: " + warning) + "\n")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(report.counts().items())) or "none"
    verdict = "FAILED" if report.failed(strict=strict) else "passed"
    calls = sum(report.calls.values())
    write(
        f"live {verdict}: {counts}; {len(report.warnings())} warning(s); "
        f"{len(unreachable)} unreachable account(s); {calls} AWS call(s) in "
        f"{report.seconds:.1f} s\n"
    )
