"""What the constructs read about a stack, read from JavaScript once per stack.

Every jsii call is a round trip to the kernel's Node process (about 0.3 ms). A stack's account,
Region, partition, path and Stage never change after it is constructed, so each is read once and
kept in Python, keyed by the stack object itself: nothing is shared between two stacks, nor
between two ``App`` objects of one process (each has its own stack objects).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_cdk import Stack, Stage, Token
from aws_cdk.region_info import RegionInfo
from constructs import Construct

__all__ = ["StackFacts", "context_value", "facts_of", "flag_enabled", "path_of", "stack_state"]


@dataclass(frozen=True)
class StackFacts:
    """A stack's environment and place in the app, as plain values (CDK tokens where the stack
    is environment-agnostic)."""

    path: str
    """``stack.node.path``: unique in the app."""
    stage_path: str | None
    """The path of the stack's ``Stage`` (``""`` for the app itself, None outside one)."""
    stack_name: str
    account: str
    region: str
    partition: str
    """``stack.partition`` (a token unless the Region is literal and known)."""
    arn_partition: str
    """The partition of a literal Region from the Region facts, else ``partition``."""
    url_suffix: str
    account_unresolved: bool
    region_unresolved: bool


_FACTS: weakref.WeakKeyDictionary[Stack, StackFacts] = weakref.WeakKeyDictionary()


def facts_of(stack: Stack) -> StackFacts:
    """The facts of ``stack`` (read from JavaScript the first time only)."""
    found = _FACTS.get(stack)
    if found is None:
        found = _read(stack)
        _FACTS[stack] = found
    return found


def _read(stack: Stack) -> StackFacts:
    account, region, partition = stack.account, stack.region, stack.partition
    region_unresolved = Token.is_unresolved(region)
    arn_partition = partition
    if not region_unresolved:
        known = RegionInfo.get(region).partition
        arn_partition = known if known else partition
    stage = Stage.of(stack)
    return StackFacts(
        path=stack.node.path,
        stage_path=stage.node.path if stage else None,
        stack_name=stack.stack_name,
        account=account,
        region=region,
        partition=partition,
        arn_partition=arn_partition,
        url_suffix=stack.url_suffix,
        account_unresolved=Token.is_unresolved(account),
        region_unresolved=region_unresolved,
    )


_FLAGS: weakref.WeakKeyDictionary[Construct, dict[str, bool]] = weakref.WeakKeyDictionary()


def flag_enabled(scope: Construct, flag: str) -> bool:
    """``FeatureFlags.of(child).is_enabled(flag)`` for a new child of ``scope``, read once per
    scope (a construct's context is its scope's until it sets its own, and a construct with
    children can no longer set context)."""
    from aws_cdk import FeatureFlags

    flags = _FLAGS.get(scope)
    if flags is None:
        flags = _FLAGS[scope] = {}
    value = flags.get(flag)
    if value is None:
        value = flags[flag] = bool(FeatureFlags.of(scope).is_enabled(flag))
    return value


_CONTEXT: weakref.WeakKeyDictionary[Construct, dict[str, Any]] = weakref.WeakKeyDictionary()


def context_value(scope: Construct, key: str) -> Any:
    """``scope.node.try_get_context(key)``, read once per scope: what a new child of ``scope``
    (and the children aws-cdk-lib makes under it) sees, for the same reason as
    :func:`flag_enabled`."""
    values = _CONTEXT.get(scope)
    if values is None:
        values = _CONTEXT[scope] = {}
    if key not in values:
        values[key] = scope.node.try_get_context(key)
    return values[key]


_PATHS: weakref.WeakKeyDictionary[Construct, str] = weakref.WeakKeyDictionary()


def path_of(construct: Construct) -> str:
    """``construct.node.path``, read once (a construct's path never changes)."""
    path = _PATHS.get(construct)
    if path is None:
        path = _PATHS[construct] = construct.node.path
    return path


_State = TypeVar("_State")
_STATE: weakref.WeakKeyDictionary[Stack, dict[str, Any]] = weakref.WeakKeyDictionary()


def stack_state(stack: Stack, key: str, make: Callable[[], _State]) -> _State:
    """What the constructs keep per stack (``make()`` the first time ``key`` is asked for):
    the stack-wide validation the functions of the stack share, the stack dependencies already
    added. Keyed by the stack object, like the facts: never shared between stacks or apps."""
    kept = _STATE.get(stack)
    if kept is None:
        kept = _STATE[stack] = {}
    found = kept.get(key)
    if found is None:
        found = kept[key] = make()
    return found
