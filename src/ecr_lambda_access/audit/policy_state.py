"""A resource policy read once (repository, creation template): valid, invalid with the reason,
absent, or unknown before deploy (:class:`ParsedPolicy`). Part of the model (:mod:`.model`)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ..policy import policy_text
from .resolve import MARK, has_marker
from .values import Unknown

__all__ = ["PolicyState", "ParsedPolicy", "parse_policy"]


class PolicyState(Enum):
    VALID = "valid"
    INVALID = "invalid"
    ABSENT = "absent"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ParsedPolicy:
    """A resource policy read once: its state, its document when valid, why otherwise."""

    state: PolicyState
    document: Mapping[str, Any] | None = None
    """The document, plain JSON: a value known only at deploy time in it is CDK-token text
    (``${Token[...]}``), which every policy function treats as unknown."""
    reason: str | None = None
    source: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The document as the resolver wrote it (with its placeholders): read only by
    :meth:`evaluable` and :attr:`estimated_length`."""

    @property
    def unknown(self) -> Unknown | None:
        return Unknown(self.reason or "") if self.state is PolicyState.UNKNOWN else None

    @property
    def has_unknowns(self) -> bool:
        """True when the (valid) document holds values known only at deploy time."""
        return self.source is not None

    def evaluable(self, keep: frozenset[Unknown]) -> Mapping[str, Any] | None:
        """The document for the evaluator: the unknowns in ``keep`` (values the function shares,
        e.g. its stack's account) as the same opaque literal :func:`.values.render` writes for
        them, every other unknown as CDK-token text."""
        if self.source is None:
            return self.document
        keys = {str(u.key) for u in keep if u.key is not None}
        result: Mapping[str, Any] = _tokenize(self.source, keys)
        return result

    @property
    def estimated_length(self) -> int:
        """The policy's length in ECR's count; an unknown value counts as 14 characters (the
        longest Region name; a 12-digit account id is shorter)."""
        document = self.source if self.source is not None else self.document
        if document is None:
            return 0
        return len(MARK.sub("x" * 14, policy_text(document)))


def parse_policy(value: Any, describe: Any = None) -> ParsedPolicy:
    """A resolved ``RepositoryPolicyText`` / ``PolicyText`` / ``RepositoryPolicy`` value."""
    if value is None:
        return ParsedPolicy(PolicyState.ABSENT)
    if isinstance(value, str):
        if has_marker(value):
            text = describe(value) if callable(describe) else value
            return ParsedPolicy(
                PolicyState.UNKNOWN,
                reason=f"the policy text is built from values known only at deploy time ({text})",
            )
        try:
            value = json.loads(value)
        except (json.JSONDecodeError, RecursionError) as error:
            return ParsedPolicy(PolicyState.INVALID, reason=f"the policy text is not JSON: {error}")
    if not isinstance(value, dict):
        return ParsedPolicy(
            PolicyState.INVALID, reason="the policy is neither an object nor JSON text"
        )
    document = _tokenize(value)
    if document != value:  # it holds values known only at deploy time
        return ParsedPolicy(PolicyState.VALID, document=document, source=value)
    return ParsedPolicy(PolicyState.VALID, document=value)


def _tokenize(value: Any, keep: frozenset[str] | set[str] = frozenset()) -> Any:
    """Placeholders become CDK-token text (the policy evaluator treats it as unknown), but for
    those of unknowns numbered in ``keep``, which stay one opaque literal each."""
    if isinstance(value, str):
        if not has_marker(value):
            return value
        return MARK.sub(
            lambda m: m.group(0) if m.group(1) in keep else "${Token[AUDIT." + m.group(1) + "]}",
            value,
        )
    if isinstance(value, list):
        return [_tokenize(v, keep) for v in value]
    if isinstance(value, Mapping):
        return {k: _tokenize(v, keep) for k, v in value.items()}
    return value
