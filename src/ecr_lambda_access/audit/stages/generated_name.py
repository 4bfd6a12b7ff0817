"""The verdict for a function whose name CloudFormation generates (or is a deploy-time value).

CloudFormation generates a name for a function without ``FunctionName`` (in practice
``STACK-LOGICALID-RANDOM``, a format AWS does not document). Such a function is ``ok`` only when
the policy admits every function name of its account (``function:*``); a policy that admits names
by pattern makes it ``unverifiable`` when a pattern could match a generated name, and
``missing-service-grant`` when no pattern can.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, lru_cache
from typing import Any

from ... import policy
from ..checks.context import AuditContext
from ..checks.missing_service_grant import ID as MISSING_SERVICE
from ..checks.unverifiable import ID as UNVERIFIABLE
from ..model import as_list
from ..values import Value

__all__ = ["GENERATED", "generated_name_verdict", "glob_may_match_prefix", "statements"]

GENERATED = "<name-generated-by-CloudFormation>"


@lru_cache(maxsize=8192)
def glob_may_match_prefix(pattern: str, prefix: str) -> bool:
    """True when some value starting with ``prefix`` matches the StringLike ``pattern``."""

    @cache
    def step(i: int, j: int) -> bool:
        if j == len(prefix):
            return True
        if i == len(pattern):
            return False
        char = pattern[i]
        if char == "*":
            return step(i + 1, j) or step(i, j + 1)
        if char == "?" or char == prefix[j]:
            return step(i + 1, j + 1)
        return False

    return step(0, 0)


def statements(document: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    if not isinstance(document, Mapping):
        return []
    return [s for s in as_list(document.get("Statement")) if isinstance(s, Mapping)]


def source_arn_patterns(document: Mapping[str, Any] | None) -> list[tuple[str, bool]]:
    """(value, is_wildcard) of every aws:SourceArn condition of Allow statements for Lambda."""
    found: list[tuple[str, bool]] = []
    for statement in statements(document):
        if str(statement.get("Effect", "")).lower() != "allow":
            continue
        principal = statement.get("Principal")
        services = principal.get("Service") if isinstance(principal, Mapping) else None
        if principal != "*" and policy.LAMBDA_SERVICE_PRINCIPAL not in as_list(services):
            continue
        condition = statement.get("Condition")
        for operator, block in (condition if isinstance(condition, Mapping) else {}).items():
            if not isinstance(block, Mapping):
                continue
            wildcard = "like" in str(operator).lower()
            for key, values in block.items():
                if str(key).lower() == "aws:sourcearn":
                    found += [(str(v), wildcard) for v in as_list(values)]
    return found


def generated_name_verdict(
    audit: AuditContext,
    index: int,
    document: Any,
    function_arn: str,
    logical_id: str,
    name: Value | None,
) -> tuple[str, str]:
    """``unverifiable`` when an ``aws:SourceArn`` of the policy may match the generated name,
    ``missing-service-grant`` when none can. ``document`` and ``function_arn`` are the
    evaluator's (:func:`.evaluate.evaluate`)."""
    stack = audit.model.stacks[index]
    describe = audit.model.describe
    arn_prefix = function_arn[: -len(GENERATED)]
    if name is not None:
        prefix = ""
        what = f"its name is a deploy-time value ({name})"
    else:
        guess = f"{stack.stack_name}-{logical_id}-"
        prefix = guess if len(guess) + 12 <= 64 else ""
        what = "it has no FunctionName, so CloudFormation generates one" + (
            f" (like {guess}RANDOM)" if prefix else ""
        )
    target = arn_prefix + prefix
    may_match = [
        value
        for value, wildcard in source_arn_patterns(document)
        if (glob_may_match_prefix(value, target) if wildcard else value.startswith(target))
    ]
    if may_match:
        return UNVERIFIABLE, (
            f"{what}; the policy admits lambda.amazonaws.com only for named functions "
            f"({', '.join(describe(v) for v in may_match)}), which may or may not "
            "match the generated name: give the function a FunctionName and admit it, or "
            "admit function:* of the account"
        )
    return MISSING_SERVICE, (
        f"{what}, and no aws:SourceArn of the policy can match it: give the function a "
        f"FunctionName and admit it, or admit {describe(arn_prefix)}*"
    )
