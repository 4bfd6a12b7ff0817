"""Pure input checks shared by the constructs and the audit (no jsii, no CDK import).

Each ``check_*`` function returns a list of :data:`~ecr_lambda_access.errors.Violation` (empty when
the value is fine) so that a caller can gather every problem of one call and raise once. Values
that are unresolved CDK tokens are accepted: they are checked by CloudFormation at deploy time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .errors import (
    InvalidConsumerError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    InvalidOrganizationIdError,
    InvalidRepositoryError,
    Violation,
)

__all__ = [
    "is_unresolved",
    "check_account_id",
    "check_function_name",
    "check_function_name_prefix",
    "check_organization_id",
    "check_tag_or_digest",
    "is_digest",
    "RepositoryArn",
    "parse_repository_arn",
    "check_repository_arn",
]

# CDK encodes unresolved string tokens as "${Token[...]}" and list tokens as "#{Token[...]}".
_TOKEN = re.compile(r"[$#]\{Token\[[^\]]+\]\}")
_ACCOUNT = re.compile(r"[0-9]{12}")
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]+")
_ORGANIZATION_ID = re.compile(r"o-[a-z0-9]{10,32}")
_DIGEST = re.compile(r"sha256:[a-f0-9]{64}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_REPOSITORY_NAME = r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*"
_REPOSITORY_ARN = re.compile(
    r"arn:(?P<partition>aws(?:-[a-z]+)*):ecr:(?P<region>[a-z]{2}(?:-[a-z]+)+-[0-9]+)"
    r":(?P<account>[0-9]{12}):repository/(?P<name>" + _REPOSITORY_NAME + r")"
)

FUNCTION_NAME_MAX = 64
TAG_MAX = 128


def is_unresolved(value: object) -> bool:
    """True when ``value`` is a string that holds an unresolved CDK token."""
    return isinstance(value, str) and _TOKEN.search(value) is not None


def check_account_id(value: object, argument: str) -> list[Violation]:
    """An AWS account id: a string of exactly 12 digits (tokens are accepted)."""
    if is_unresolved(value):
        return []
    if not isinstance(value, str):
        return [
            (
                InvalidConsumerError,
                f"{argument} must be a string of 12 digits, got {value!r} "
                f"({type(value).__name__}); write account ids as strings: they can start with 0",
            )
        ]
    if _ACCOUNT.fullmatch(value):
        return []
    if value.strip() != value and _ACCOUNT.fullmatch(value.strip()):
        fix = f"remove the surrounding spaces: {value.strip()!r}"
    elif value in ("", "*"):
        fix = (
            "list each consumer account id; to admit a whole AWS Organization use "
            "organization_id='o-...'"
        )
    else:
        fix = "use the 12-digit id of the account that runs the functions"
    return [
        (
            InvalidConsumerError,
            f"{argument} must be a 12-digit AWS account id, got {value!r}: {fix}",
        )
    ]


def check_function_name(
    value: object,
    argument: str,
    error: type[InvalidConsumerError] | type[InvalidFunctionNameError] = InvalidFunctionNameError,
) -> list[Violation]:
    """A Lambda function name: 1 to 64 of ``A-Z a-z 0-9 - _`` (tokens are accepted)."""
    if is_unresolved(value):
        return []
    if not isinstance(value, str):
        return [(error, f"{argument} must be a string, got {value!r} ({type(value).__name__})")]
    problems = _name_problems(value)
    if not problems:
        return []
    return [
        (
            error,
            f"{argument} must be a Lambda function name (1 to {FUNCTION_NAME_MAX} letters, "
            f"digits, '-' or '_'), got {value!r}: {problems}",
        )
    ]


def check_function_name_prefix(value: object, argument: str) -> list[Violation]:
    """The start of Lambda function names: 1 to 64 of ``A-Z a-z 0-9 - _``."""
    if is_unresolved(value):
        return []
    if not isinstance(value, str):
        return [
            (
                InvalidConsumerError,
                f"{argument} must be a string, got {value!r} ({type(value).__name__})",
            )
        ]
    if value == "":
        return [
            (
                InvalidConsumerError,
                f"{argument} must not be empty: pass function_name_prefix=None to admit "
                "every function of the account",
            )
        ]
    problems = _name_problems(value)
    if not problems:
        return []
    return [
        (
            InvalidConsumerError,
            f"{argument} must be the start of a Lambda function name (1 to {FUNCTION_NAME_MAX} "
            f"letters, digits, '-' or '_'; the '*' is added for you), got {value!r}: {problems}",
        )
    ]


def _name_problems(value: str) -> str:
    problems = []
    if not value:
        problems.append("it is empty")
    if len(value) > FUNCTION_NAME_MAX:
        problems.append(f"it is {len(value)} characters long")
    bad = sorted({c for c in value if not _FUNCTION_NAME.fullmatch(c)})
    if bad:
        problems.append("it holds " + ", ".join(repr(c) for c in bad))
    return "; ".join(problems)


def check_organization_id(value: object, argument: str = "organization_id") -> list[Violation]:
    """An AWS Organizations id: ``o-`` followed by 10 to 32 lowercase letters or digits."""
    if value is None or is_unresolved(value):
        return []
    if isinstance(value, str) and _ORGANIZATION_ID.fullmatch(value):
        return []
    return [
        (
            InvalidOrganizationIdError,
            f"{argument} must be an AWS Organizations id matching o-[a-z0-9]{{10,32}}, got "
            f"{value!r}: copy it from the Organizations console or `aws organizations "
            "describe-organization` (an 'r-' root or 'ou-' unit id is not an organization id)",
        )
    ]


def is_digest(value: str) -> bool:
    """True for an image digest reference (``sha256:`` prefix)."""
    return value.startswith("sha256:")


def check_tag_or_digest(value: object, argument: str = "tag_or_digest") -> list[Violation]:
    """An image tag Docker accepts, or a ``sha256:`` digest of 64 lowercase hex digits."""
    if is_unresolved(value):
        return []
    if not isinstance(value, str):
        return [
            (
                InvalidImageReferenceError,
                f"{argument} must be a string, got {value!r} ({type(value).__name__})",
            )
        ]
    if is_digest(value):
        if _DIGEST.fullmatch(value):
            return []
        hexpart = value[len("sha256:") :]
        return [
            (
                InvalidImageReferenceError,
                f"{argument} must be 'sha256:' followed by 64 lowercase hex digits, got "
                f"{value!r} ({len(hexpart)} characters after 'sha256:'): copy the digest from "
                "`docker buildx imagetools inspect` or `aws ecr describe-images`",
            )
        ]
    if _TAG.fullmatch(value):
        return []
    algorithm, colon, rest = value.partition(":")
    # 'sha256:' itself was read as a digest above: here 'SHA256:', 'sha265:', 'sha512:'...
    if colon and algorithm.lower().startswith("sha"):
        return [
            (
                InvalidImageReferenceError,
                f"{argument} must be an image tag or a 'sha256:' digest, got {value!r}: did "
                f"you mean 'sha256:{rest}'? (ECR digests are sha256)",
            )
        ]
    if value == "":
        why = "it is empty"
    elif len(value) > TAG_MAX:
        why = f"it is {len(value)} characters long (at most {TAG_MAX})"
    else:
        why = (
            "a tag starts with a letter, digit or '_' and holds only letters, digits, '_', '.', '-'"
        )
    return [
        (
            InvalidImageReferenceError,
            f"{argument} must be an image tag or a 'sha256:' digest, got {value!r}: {why}",
        )
    ]


@dataclass(frozen=True)
class RepositoryArn:
    """The parts of an ECR repository ARN."""

    partition: str
    region: str
    account: str
    name: str

    @property
    def arn(self) -> str:
        return f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{self.name}"


def parse_repository_arn(value: str) -> RepositoryArn | None:
    """The parts of a literal ECR repository ARN, or None when it is not one."""
    match = _REPOSITORY_ARN.fullmatch(value)
    if match is None:
        return None
    return RepositoryArn(**match.groupdict())


def check_repository_arn(value: object, argument: str = "repository") -> list[Violation]:
    """A literal ECR repository ARN ``arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME``."""
    if is_unresolved(value):
        return []
    if isinstance(value, str) and parse_repository_arn(value) is not None:
        return []
    return [
        (
            InvalidRepositoryError,
            f"{argument} must be an ECR repository ARN "
            f"'arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME', got {value!r}: pass the "
            "repository's ARN (not its URI or name), an aws_ecr.IRepository or a "
            "CrossAccountImageRepo",
        )
    ]
