"""The library's exceptions: one small hierarchy rooted in :class:`ValueError`.

Every error is raised in Python, before anything is deployed, and its message names the
argument, the bad value and the fix. A call that finds several problems reports all of them
in one error (``error.violations`` holds them one per item).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

__all__ = [
    "EcrLambdaAccessError",
    "InvalidConsumerError",
    "InvalidOrganizationIdError",
    "InvalidImageReferenceError",
    "InvalidRepositoryError",
    "InvalidFunctionNameError",
    "RegionMismatchError",
    "QueueConfigurationError",
    "PolicyTooLargeError",
    "Violation",
    "raise_if_violations",
]


class EcrLambdaAccessError(ValueError):
    """Base class of every error this library raises for bad input.

    ``violations`` lists each problem found by the call (at least one).
    """

    def __init__(self, violations: str | Sequence[str]) -> None:
        items = [violations] if isinstance(violations, str) else list(violations)
        if not items:
            raise TypeError("an EcrLambdaAccessError needs at least one violation")
        self.violations: tuple[str, ...] = tuple(items)
        if len(items) == 1:
            message = items[0]
        else:
            message = f"{len(items)} problems:\n" + "\n".join(f"  - {v}" for v in items)
        super().__init__(message)


class InvalidConsumerError(EcrLambdaAccessError):
    """A consumer (account id, function name or prefix) cannot be written into a policy."""


class InvalidOrganizationIdError(EcrLambdaAccessError):
    """``organization_id`` is not an AWS Organizations id (``o-`` + 10 to 32 characters)."""


class InvalidImageReferenceError(EcrLambdaAccessError):
    """``tag_or_digest`` is neither a valid image tag nor a ``sha256:`` digest."""


class InvalidRepositoryError(EcrLambdaAccessError):
    """``repository`` is not something a container-image function can run from."""


class InvalidFunctionNameError(EcrLambdaAccessError):
    """``function_name`` would be rejected by Lambda."""


class RegionMismatchError(EcrLambdaAccessError):
    """The repository is in another Region than the function (queues: QueueConfigurationError)."""


class QueueConfigurationError(EcrLambdaAccessError):
    """An SQS event source cannot work with this queue and function (timeouts, Region)."""


class PolicyTooLargeError(EcrLambdaAccessError):
    """The repository policy would exceed ECR's 10,240-character limit."""


Violation = tuple[type[EcrLambdaAccessError], str]
"""One problem found by a check: the error class it belongs to and its message."""


def raise_if_violations(violations: Iterable[Violation]) -> None:
    """Raise one error holding every violation, or do nothing when there are none.

    The error is of the violations' class when they share one, else :class:`EcrLambdaAccessError`
    (every specific class derives from it, so ``except EcrLambdaAccessError`` always catches it).
    """
    found = list(violations)
    if not found:
        return
    classes = {cls for cls, _ in found}
    cls = classes.pop() if len(classes) == 1 else EcrLambdaAccessError
    raise cls([message for _, message in found])


# Replicas (issue 11).
class ReplicaConfigurationError(EcrLambdaAccessError):
    """``add_replica`` cannot create this replica (its environment, its name, a duplicate)."""


class ReplicationLimitError(EcrLambdaAccessError):
    """The registry's replication configuration would exceed one of ECR's limits."""


__all__ += ["ReplicaConfigurationError", "ReplicationLimitError"]
