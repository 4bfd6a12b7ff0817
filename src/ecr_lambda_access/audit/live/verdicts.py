"""What AWS said (the observations the engine collects) and how it is judged: the static status
of an evaluation, a function's problems in order of severity, the details of a difference
between policies, of a failed function and of a replica.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ...policy import Access, PullAccess
from ..rules import (
    DENIED,
    FAILING_STATUSES,
    INVALID_POLICY,
    MISSING_ROOT,
    MISSING_SERVICE,
    OK,
    REGION_MISMATCH,
    UNVERIFIABLE,
)
from .report import DRIFTED, FUNCTION_FAILED, IMAGE_MISSING
from .targets import ImageRef, parse_image_uri

_PRECEDENCE = (
    REGION_MISMATCH,
    FUNCTION_FAILED,
    IMAGE_MISSING,
    DRIFTED,
    *sorted(FAILING_STATUSES - {REGION_MISMATCH}),
    UNVERIFIABLE,
)
"""Which problem names a function's status when it has several (the detail lists them all)."""


@dataclass(frozen=True)
class _Policy:
    exists: bool = True
    """False when the repository does not exist."""
    document: Mapping[str, Any] | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Deployed:
    name: str | None = None
    arn: str | None = None
    state: str | None = None
    state_reason: str | None = None
    state_reason_code: str | None = None
    last_update_status: str | None = None
    last_update_reason_code: str | None = None
    image_uri: str | None = None
    resolved_image_uri: str | None = None
    missing: bool = False
    error: str | None = None


@dataclass(frozen=True)
class _Image:
    present: bool | None
    digest: str | None = None
    error: str | None = None


def _canonical(statement: Mapping[str, Any]) -> str:
    """A statement as comparable text: keys sorted, lists of strings as sorted sets."""

    def norm(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {str(k): norm(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
        if isinstance(value, (list, tuple)):
            items = [norm(v) for v in value]
            if all(isinstance(i, str) for i in items):
                items = sorted(set(items))
                return items[0] if len(items) == 1 else items
            return items
        return value

    return json.dumps(norm(statement), sort_keys=True)


def _statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    raw = (document or {}).get("Statement")
    items = raw if isinstance(raw, list) else [raw] if raw is not None else []
    return [s for s in items if isinstance(s, Mapping)]


def _named(
    statements: Sequence[Mapping[str, Any]], names: Iterable[str]
) -> list[Mapping[str, Any]]:
    """The statements with these Sids (or positions ``#N``, as the evaluator names them)."""
    found = []
    for name in names:
        for index, statement in enumerate(statements):
            if statement.get("Sid") == name or (not statement.get("Sid") and name == f"#{index}"):
                found.append(statement)
                break
    return found


def _pull_verdict(access: PullAccess) -> tuple[str, str]:
    """A static status for an evaluation that does not let the function pull."""
    root, service = access.root, access.service
    if Access.INVALID in (root.access, service.access):
        return INVALID_POLICY, (service if service.access is Access.INVALID else root).detail
    if Access.DENIED in (root.access, service.access):
        denied = [g for g in (root, service) if g.access is Access.DENIED]
        return DENIED, "; ".join(g.detail for g in denied)
    if root.access is Access.MISSING:
        return MISSING_ROOT, root.detail
    if service.access is Access.MISSING:
        return MISSING_SERVICE, service.detail
    unknown = [g.detail for g in (root, service) if g.access is Access.UNKNOWN]
    return UNVERIFIABLE, "; ".join(unknown)


def _digest_of(uri: str | None) -> str | None:
    image = parse_image_uri(uri)
    return image.digest if image is not None else None


class _Verdict:
    """Collects the problems and warnings of one function."""

    def __init__(self) -> None:
        self.problems: list[tuple[str, str]] = []
        self.warnings: list[str] = []

    def problem(self, status: str, detail: str) -> None:
        self.problems.append((status, detail))

    def status(self) -> tuple[str, str]:
        if not self.problems:
            return OK, ""
        ordered = sorted(self.problems, key=lambda p: _PRECEDENCE.index(p[0]))
        return ordered[0][0], "; ".join(d for _, d in ordered)


def _failure_hint(code: str | None) -> str:
    return {
        "ImageAccessDenied": ": the repository policy does not let Lambda pull (check it, then "
        "update the function's code or configuration to bring it back)",
        "ImageDeleted": ": the image was deleted from the repository; deploy an image that exists",
        "InvalidImage": ": the image is not a valid Lambda image for this function",
    }.get(code or "", "")


def _replication_detail(
    image: ImageRef,
    source: tuple[str, str, str, str],
    statuses: list[Mapping[str, Any]] | str | None,
) -> str:
    account, region = source[0], source[1]
    where = f" (a replica of {account}/{region}"
    if statuses is None:
        return where + ")"
    if isinstance(statuses, str):
        return where + f"; its replication status cannot be read: {statuses})"
    for status in statuses:
        if status.get("region") == image.region and status.get("registryId") == image.account:
            code = status.get("failureCode")
            return (
                where
                + f"; replication to {image.region}/{image.account}: {status.get('status')}"
                + (f" ({code})" if code else "")
                + ")"
            )
    return (
        where + f"; the source lists no replication of this image to {image.region}/"
        f"{image.account}: only images pushed after replication is configured are replicated)"
    )


def _difference(synthesized: Mapping[str, Any], deployed: Mapping[str, Any]) -> str:
    """Which statements differ, by Sid: changed, added, or not deployed."""
    before = {_canonical(s): s for s in _statements(synthesized)}
    after = {_canonical(s): s for s in _statements(deployed)}

    def sids(items: Iterable[Mapping[str, Any]]) -> list[str]:
        return [str(s.get("Sid") or "(no Sid)") for s in items]

    added = sids(s for k, s in after.items() if k not in before)
    removed = sids(s for k, s in before.items() if k not in after)
    changed = [sid for sid in dict.fromkeys(added) if sid in removed and sid != "(no Sid)"]
    parts = [
        f"{what}: {', '.join(names)}"
        for what, names in (
            ("changed", changed),
            ("added", [n for n in added if n not in changed]),
            ("not deployed", [n for n in removed if n not in changed]),
        )
        if names
    ]
    return "; ".join(parts)
