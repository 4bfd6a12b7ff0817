"""ECR's 10,240-character limit on a repository policy's text."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ..errors import PolicyTooLargeError, Violation

ECR_POLICY_MAX_CHARS = 10_240
"""ECR's limit on a repository policy's text (SetRepositoryPolicy ``policyText``)."""


def policy_text(policy: Mapping[str, Any]) -> str:
    """The policy as the JSON text ECR receives (keys kept in order, ', ' and ': ' separators).

    The separators make the count a little larger than compact JSON, so a policy that passes
    here also passes ECR however the text is serialized on the way.
    """
    return json.dumps(policy)


def policy_length(policy: Mapping[str, Any] | None) -> int:
    """How many characters of ECR's 10,240 the policy uses (0 for no policy)."""
    return 0 if policy is None else len(policy_text(policy))


def check_policy_size(policy: Mapping[str, Any] | None, argument: str) -> list[Violation]:
    """A violation when the policy text exceeds ECR's 10,240-character limit."""
    length = policy_length(policy)
    if length <= ECR_POLICY_MAX_CHARS:
        return []
    return [
        (
            PolicyTooLargeError,
            f"{argument}: the repository policy would be {length:,} characters, over ECR's limit "
            f"of {ECR_POLICY_MAX_CHARS:,} characters: admit whole accounts instead of many "
            "function names, split consumers across repositories, or use "
            "organization_id='o-...' to admit every account of your AWS Organization in two "
            "statements",
        )
    ]
