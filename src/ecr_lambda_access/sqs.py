"""The SQS event source: its checks (errors and warnings) and its exact grants."""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Duration, Names, Stack, Token
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import scanner_hints
from ._annotations import warn
from .errors import QueueConfigurationError, Violation, raise_if_violations

__all__ = [
    "SQS_ACTIONS",
    "SQS_DEFAULT_VISIBILITY_SECONDS",
    "SQS_RECOMMENDED_VISIBILITY_FACTOR",
    "SQS_RECOMMENDED_MAX_RECEIVE_COUNT",
    "add_sqs_source",
]

SQS_ACTIONS = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
SQS_DEFAULT_VISIBILITY_SECONDS = 30
SQS_RECOMMENDED_VISIBILITY_FACTOR = 6
SQS_RECOMMENDED_MAX_RECEIVE_COUNT = 5


_SOURCES: weakref.WeakKeyDictionary[lambda_.Function, dict[str, lambda_.EventSourceMapping]] = (
    weakref.WeakKeyDictionary()
)
"""The queues added to each function here (queue's unique id -> its mapping): each once."""


def add_sqs_source(
    function: lambda_.Function,
    queue: sqs.IQueue,
    *,
    batch_size: int | None,
    max_batching_window: Duration | None,
    report_batch_item_failures: bool,
    enabled: bool | None,
    max_concurrency: int | None,
    filters: Sequence[Mapping[str, Any]] | None,
) -> lambda_.EventSourceMapping:
    """See :meth:`ContainerFunction.add_sqs_source`."""
    stack = Stack.of(function)
    cfn_queue = queue.node.default_child
    owned = isinstance(queue, sqs.Queue) and isinstance(cfn_queue, sqs.CfnQueue)
    found: list[Violation] = []
    argument = f"add_sqs_source(queue={queue.node.path})"

    key = Names.node_unique_id(queue.node)
    sources = _SOURCES.setdefault(function, {})
    if key in sources:
        found.append(
            (
                QueueConfigurationError,
                f"{argument}: the queue is already a source of {function.node.path}: add each "
                "queue once",
            )
        )
    queue_region = queue.env.region
    if (
        not Token.is_unresolved(queue_region)
        and not Token.is_unresolved(stack.region)
        and queue_region != stack.region
    ):
        found.append(
            (
                QueueConfigurationError,
                f"{argument}: the queue is in {queue_region}, the function in {stack.region}: "
                "an SQS event source mapping needs the queue in the function's Region; use a "
                f"queue in {stack.region}",
            )
        )
    assert function.timeout is not None  # ContainerFunction, the caller, always sets one
    timeout_s = function.timeout.to_seconds()
    visibility_s: float | None = None
    if owned:
        assert isinstance(cfn_queue, sqs.CfnQueue)
        raw = cfn_queue.visibility_timeout
        if raw is None:
            visibility_s = SQS_DEFAULT_VISIBILITY_SECONDS
        elif not Token.is_unresolved(raw):
            visibility_s = float(raw)
    if visibility_s is not None and not Token.is_unresolved(timeout_s) and timeout_s > visibility_s:
        found.append(
            (
                QueueConfigurationError,
                f"{argument}: the function's timeout ({timeout_s:g} s) exceeds the queue's "
                f"visibility timeout ({visibility_s:g} s); Lambda rejects this mapping. Set "
                f"the queue's visibility_timeout to at least "
                f"{SQS_RECOMMENDED_VISIBILITY_FACTOR * timeout_s:g} s (6 x the function "
                "timeout, AWS's recommendation) or lower the function's timeout",
            )
        )
    found += check_batching(queue, batch_size, max_batching_window, max_concurrency)
    raise_if_violations(found, construct_path=function.node.path)

    if owned:
        assert isinstance(cfn_queue, sqs.CfnQueue)
        warn_about_queue(function, queue, cfn_queue, visibility_s, timeout_s)
    else:
        warn(
            function,
            "sqsQueueNotChecked",
            f"{queue.node.path} is an imported queue: its visibility timeout (it must be at "
            f"least the function's {timeout_s:g} s, 6 x is recommended), redrive policy "
            "(dead-letter queue) and encryption cannot be read here and were not checked. "
            "If it uses a customer-managed KMS key, import it with "
            "Queue.from_queue_attributes(key_arn=...) so kms:Decrypt is granted.",
        )

    mapping = function.add_event_source_mapping(
        f"SqsSource{key}",
        event_source_arn=queue.queue_arn,
        batch_size=batch_size,
        max_batching_window=max_batching_window,
        report_batch_item_failures=report_batch_item_failures,
        enabled=enabled,
        max_concurrency=max_concurrency,
        filters=[dict(f) for f in filters] if filters is not None else None,
    )
    sources[key] = mapping
    role = function.role
    assert role is not None  # aws_lambda.Function always has one
    grant_consume(role, queue)
    # CreateEventSourceMapping checks the role's SQS permissions.
    mapping.node.add_dependency(role)
    scanner_hints.acknowledge(mapping, scanner_hints.ACK_ESM_DESTINATION)
    return mapping


def grant_consume(role: iam.IRole, queue: sqs.IQueue) -> None:
    """Exactly what an SQS event source mapping needs from the execution role."""
    role.add_to_principal_policy(
        iam.PolicyStatement(
            actions=list(SQS_ACTIONS),
            resources=[queue.queue_arn],
        )
    )
    if queue.encryption_master_key is not None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[queue.encryption_master_key.key_arn],
            )
        )


def check_batching(
    queue: sqs.IQueue,
    batch_size: int | None,
    max_batching_window: Duration | None,
    max_concurrency: int | None,
) -> list[Violation]:
    found: list[Violation] = []
    fifo = bool(queue.fifo) if not Token.is_unresolved(queue.fifo) else False
    window_s = (
        max_batching_window.to_seconds()
        if max_batching_window is not None
        and not Token.is_unresolved(max_batching_window.to_seconds())
        else None
    )
    if batch_size is not None and not Token.is_unresolved(batch_size):
        limit = 10 if fifo else 10_000
        if not 1 <= batch_size <= limit:
            found.append(
                (
                    QueueConfigurationError,
                    f"batch_size must be 1 to {limit:,} for a{' FIFO' if fifo else 'n SQS'} "
                    f"queue, got {batch_size}",
                )
            )
        elif batch_size > 10 and not window_s:
            found.append(
                (
                    QueueConfigurationError,
                    f"batch_size={batch_size} needs max_batching_window of at least 1 second "
                    "(Lambda requires it above 10 messages): pass "
                    "max_batching_window=Duration.seconds(1) or more",
                )
            )
    if window_s is not None:
        if fifo:
            found.append(
                (
                    QueueConfigurationError,
                    f"max_batching_window={window_s:g} s is not supported for the FIFO queue "
                    f"{queue.node.path}: leave it unset",
                )
            )
        elif window_s > 300:
            found.append(
                (
                    QueueConfigurationError,
                    f"max_batching_window must be at most 300 seconds, got {window_s:g} s",
                )
            )
    if (
        max_concurrency is not None
        and not Token.is_unresolved(max_concurrency)
        and not 2 <= max_concurrency <= 1000
    ):
        found.append(
            (
                QueueConfigurationError,
                f"max_concurrency must be 2 to 1,000, got {max_concurrency}",
            )
        )
    return found


def warn_about_queue(
    scope: Construct,
    queue: sqs.IQueue,
    cfn_queue: sqs.CfnQueue,
    visibility_s: float | None,
    timeout_s: float,
) -> None:
    if (
        visibility_s is not None
        and not Token.is_unresolved(timeout_s)
        and visibility_s < SQS_RECOMMENDED_VISIBILITY_FACTOR * timeout_s
    ):
        warn(
            scope,
            "sqsVisibilityTimeout",
            f"{queue.node.path} has a visibility timeout of {visibility_s:g} s, under 6 x "
            f"the function's timeout ({timeout_s:g} s): AWS recommends at least "
            f"{SQS_RECOMMENDED_VISIBILITY_FACTOR * timeout_s:g} s so that messages of a "
            "throttled or retried batch are not received again while still in flight.",
        )
    redrive = cfn_queue.redrive_policy
    if redrive is None:
        warn(
            scope,
            "sqsNoRedrivePolicy",
            f"{queue.node.path} has no redrive policy: a message the function keeps failing "
            "on is received again until it expires. Give the queue a dead_letter_queue "
            "(sqs.DeadLetterQueue(queue=..., max_receive_count=5) or more).",
        )
        return
    resolved = Stack.of(cfn_queue).resolve(redrive)
    count = resolved.get("maxReceiveCount") if isinstance(resolved, dict) else None
    if isinstance(count, (int, float)) and count < SQS_RECOMMENDED_MAX_RECEIVE_COUNT:
        warn(
            scope,
            "sqsMaxReceiveCount",
            f"{queue.node.path} moves messages to its dead-letter queue after "
            f"{count:g} receives: AWS recommends maxReceiveCount of at least "
            f"{SQS_RECOMMENDED_MAX_RECEIVE_COUNT} for a Lambda source, so that throttled "
            "batches are retried before being dead-lettered.",
        )
