"""ECR's 10,240-character limit on a repository policy's text, bounded with real values.

A policy rendered at synth time may still hold CDK tokens (``${Token[AWS.Partition.9]}``) or,
once resolved, intrinsics (``{"Ref": "AWS::Partition"}``). Neither is the text ECR receives, and
a token's placeholder is far longer than the partition it stands for. :func:`policy_length_bound`
measures the policy with each such value replaced by the longest value it can take: the partition
a literal Region implies, or else the longest partition and Region names; 12 digits for an
account. Values nothing is known about (a generated name) count as empty: the synthesized
template is measured again, exactly, by ``ecr-lambda-access audit``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from ..errors import PolicyTooLargeError, Violation
from ..validation import is_unresolved

__all__ = [
    "ECR_POLICY_MAX_CHARS",
    "LONGEST_PARTITION",
    "LONGEST_REGION",
    "partition_of_region",
    "url_suffix_of_region",
    "policy_text",
    "policy_length",
    "policy_length_bound",
    "check_policy_size",
]

ECR_POLICY_MAX_CHARS = 10_240
"""ECR's limit on a repository policy's text (SetRepositoryPolicy ``policyText``)."""

_PARTITIONS = (
    # (Region prefix, partition), the longer prefixes first
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("eu-isoe-", "aws-iso-e"),
    ("us-iso-", "aws-iso"),
    ("us-gov-", "aws-us-gov"),
    ("cn-", "aws-cn"),
    ("eusc-", "aws-eusc"),
)
LONGEST_PARTITION = max((p for _, p in _PARTITIONS), key=len)
"""``aws-us-gov``: the longest partition name."""
LONGEST_REGION = "ap-southeast-5"
"""A Region name of the longest length (14 characters, like ``ap-northeast-3``)."""
_ACCOUNT_BOUND = "0" * 12
_LONGEST_URL_SUFFIX = "amazonaws.com.cn"


def partition_of_region(region: str) -> str:
    """The partition a Region belongs to (``aws`` for commercial Regions)."""
    for prefix, partition in _PARTITIONS:
        if region.startswith(prefix):
            return partition
    return "aws"


def url_suffix_of_region(region: str) -> str:
    """The domain suffix of a Region's endpoints."""
    return "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"


def policy_text(policy: Mapping[str, Any]) -> str:
    """The policy as the JSON text ECR receives (keys kept in order, ', ' and ': ' separators).

    The separators make the count a little larger than compact JSON, so a policy that passes
    here also passes ECR however the text is serialized on the way.
    """
    return json.dumps(policy)


def policy_length(policy: Mapping[str, Any] | None) -> int:
    """How many characters of ECR's 10,240 the policy uses (0 for no policy)."""
    return 0 if policy is None else len(policy_text(policy))


_TOKEN = re.compile(r"[$#]\{Token\[(?P<name>[^\]]+)\]\}")
_PSEUDO = {"AWS::Partition": "partition", "AWS::Region": "region", "AWS::AccountId": "account"}


class _Bounds:
    def __init__(self, region: str | None) -> None:
        known = region is not None and not is_unresolved(region)
        self.values = {
            "partition": partition_of_region(region) if known and region else LONGEST_PARTITION,
            "region": region if known and region else LONGEST_REGION,
            "account": _ACCOUNT_BOUND,
            "urlsuffix": url_suffix_of_region(region) if known and region else _LONGEST_URL_SUFFIX,
        }

    def token(self, match: re.Match[str]) -> str:
        name = match.group("name").lower()
        for kind in ("partition", "region", "accountid", "urlsuffix"):
            if name.startswith(f"aws.{kind}."):
                return self.values["account" if kind == "accountid" else kind]
        return ""  # nothing known about it: the audit measures the synthesized template

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return _TOKEN.sub(self.token, value) if is_unresolved(value) else value
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, Mapping):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key == "Ref" or str(key).startswith("Fn::"):
                    return self.intrinsic(str(key), argument)
            return {k: self.value(v) for k, v in value.items()}
        return value

    def intrinsic(self, key: str, argument: Any) -> str:
        if key == "Ref" and argument in _PSEUDO:
            return self.values[_PSEUDO[argument]]
        if key == "Ref" and argument == "AWS::URLSuffix":
            return self.values["urlsuffix"]
        if key == "Fn::Join" and isinstance(argument, list) and len(argument) == 2:
            delimiter, parts = argument
            if isinstance(delimiter, str) and isinstance(parts, list):
                return delimiter.join(str(self.value(p)) for p in parts)
        return ""


def policy_length_bound(policy: Mapping[str, Any] | None, *, region: str | None = None) -> int:
    """An upper bound of the deployed policy's length, from a policy that may hold tokens.

    ``region``: the stack's Region when it is a literal (it implies the partition); None or a
    token for an environment-agnostic stack (the longest partition and Region names are used).
    """
    if policy is None:
        return 0
    return len(policy_text(_Bounds(region).value(policy)))


def check_policy_size(
    policy: Mapping[str, Any] | None, argument: str, *, region: str | None = None
) -> list[Violation]:
    """A violation when the policy text can exceed ECR's 10,240-character limit.

    Tokens and intrinsics are measured with real values (see :func:`policy_length_bound`).
    """
    length = policy_length_bound(policy, region=region)
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
