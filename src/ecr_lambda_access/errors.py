"""The library's exceptions: one small hierarchy rooted in :class:`ValueError`.

Every error is raised in Python, before anything is deployed, and its message names the
argument, the bad value and the fix. A call that finds several problems reports all of them
in one error (``error.violations`` holds them one per item). Errors raised by a construct carry
its path (``error.construct_path``, also at the start of the message), as aws-cdk's own
``ValidationError`` does.

When one call finds problems of several kinds, the error is an instance of *each* of their
classes: a class deriving from all of them is made for that combination (and reused), so
``except RegionMismatchError`` and ``except QueueConfigurationError`` both catch an error that
holds one violation of each.
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
    "error_class",
    "raise_if_violations",
]


class EcrLambdaAccessError(ValueError):
    """Base class of every error this library raises for bad input.

    ``violations`` lists each problem found by the call (at least one).
    """

    def __init__(
        self, violations: str | Sequence[str], *, construct_path: str | None = None
    ) -> None:
        items = [violations] if isinstance(violations, str) else list(violations)
        if not items:
            raise TypeError("an EcrLambdaAccessError needs at least one violation")
        self.violations: tuple[str, ...] = tuple(items)
        self.construct_path: str | None = construct_path
        """The path of the construct whose arguments are wrong (None outside constructs)."""
        prefix = f"[{construct_path}] " if construct_path else ""
        if len(items) == 1:
            message = prefix + items[0]
        else:
            message = f"{prefix}{len(items)} problems:\n" + "\n".join(f"  - {v}" for v in items)
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


_COMBINED: dict[tuple[type[EcrLambdaAccessError], ...], type[EcrLambdaAccessError]] = {}


def error_class(classes: Iterable[type[EcrLambdaAccessError]]) -> type[EcrLambdaAccessError]:
    """The class of an error holding violations of these classes.

    One class: itself. Several: a class deriving from each of them (the most specific first,
    in a stable order), made once per combination, so the error is an instance of every class
    it holds. A class already covered by a subclass in the set is dropped.
    """
    unique = set(classes)
    kept = [c for c in unique if not any(o is not c and issubclass(o, c) for o in unique)]
    kept.sort(key=lambda c: c.__name__)
    if not kept:
        return EcrLambdaAccessError
    if len(kept) == 1:
        return kept[0]
    key = tuple(kept)
    combined = _COMBINED.get(key)
    if combined is None:
        combined = type(
            "And".join(c.__name__ for c in kept),
            key,
            {
                "__module__": __name__,
                "__doc__": "Violations of several kinds: an instance of "
                + ", ".join(c.__name__ for c in kept)
                + ".",
            },
        )
        _COMBINED[key] = combined
    return combined


def raise_if_violations(
    violations: Iterable[Violation], *, construct_path: str | None = None
) -> None:
    """Raise one error holding every violation, or do nothing when there are none.

    The error is an instance of every violation's class (see :func:`error_class`); every class
    derives from :class:`EcrLambdaAccessError`, so ``except EcrLambdaAccessError`` always
    catches it. ``construct_path`` names the construct whose arguments are wrong.
    """
    found = list(violations)
    if not found:
        return
    cls = error_class(c for c, _ in found)
    raise cls([message for _, message in found], construct_path=construct_path)


# Replicas (issue 11).
class ReplicaConfigurationError(EcrLambdaAccessError):
    """``add_replica`` cannot create this replica (its environment, its name, a duplicate)."""


class ReplicationLimitError(EcrLambdaAccessError):
    """The registry's replication configuration would exceed one of ECR's limits."""


__all__ += ["ReplicaConfigurationError", "ReplicationLimitError"]
