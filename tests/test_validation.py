"""The pure input checks (validation.py) at their boundaries, without jsii: account ids, function
names and prefixes, organization ids, tags and digests, repository ARNs."""

from __future__ import annotations

import pytest

from ecr_lambda_access.errors import (
    InvalidConsumerError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    InvalidOrganizationIdError,
    InvalidRepositoryError,
)
from ecr_lambda_access.validation import (
    FUNCTION_NAME_MAX,
    TAG_MAX,
    RepositoryArn,
    check_account_id,
    check_function_name,
    check_function_name_prefix,
    check_organization_id,
    check_repository_arn,
    check_tag_or_digest,
    is_digest,
    is_unresolved,
    parse_repository_arn,
)

TOKEN = "${Token[TOKEN.12]}"


def test_tokens_are_recognized() -> None:
    assert is_unresolved(TOKEN)
    assert is_unresolved("#{Token[TOKEN.3]}")
    assert is_unresolved(f"prefix-{TOKEN}-suffix")
    assert not is_unresolved("${aws:SourceAccount}")
    assert not is_unresolved(12)


@pytest.mark.parametrize("good", ["123456789012", "000000000000"])
def test_account_ids_of_twelve_digits_pass(good: str) -> None:
    assert check_account_id(good, "a") == []


@pytest.mark.parametrize("bad", ["12345678901", "1234567890123", "12345678901a", "١٢٣٤٥٦٧٨٩٠١٢"])
def test_account_ids_not_twelve_ascii_digits_fail(bad: str) -> None:
    ((error, message),) = check_account_id(bad, "consumers[0]")
    assert error is InvalidConsumerError
    assert message.startswith("consumers[0] must be a 12-digit AWS account id, got ")
    assert repr(bad) in message and "use the 12-digit id" in message


def test_account_id_fixes() -> None:
    ((_, spaced),) = check_account_id(" 123456789012 ", "a")
    assert "remove the surrounding spaces: '123456789012'" in spaced
    for value in ("", "*"):
        ((_, message),) = check_account_id(value, "a")
        assert "organization_id='o-...'" in message
    ((error, message),) = check_account_id(123456789012, "a")
    assert error is InvalidConsumerError and "(int)" in message and "start with 0" in message
    assert check_account_id(TOKEN, "a") == []


def test_function_names_up_to_64_characters() -> None:
    assert check_function_name("a" * FUNCTION_NAME_MAX, "n") == []
    assert check_function_name("Orders_api-2", "n") == []
    ((error, message),) = check_function_name("a" * (FUNCTION_NAME_MAX + 1), "n")
    assert error is InvalidFunctionNameError
    assert "it is 65 characters long" in message and "1 to 64" in message
    ((_, message),) = check_function_name("a b*", "n")
    assert "it holds ' ', '*'" in message
    ((_, message),) = check_function_name("", "n")
    assert "it is empty" in message
    ((error, _),) = check_function_name(5, "n", InvalidConsumerError)
    assert error is InvalidConsumerError
    assert check_function_name(TOKEN, "n") == []


def test_function_name_prefixes() -> None:
    assert check_function_name_prefix("orders-", "p") == []
    assert check_function_name_prefix("a" * FUNCTION_NAME_MAX, "p") == []
    ((error, message),) = check_function_name_prefix("", "p")
    assert error is InvalidConsumerError and "function_name_prefix=None" in message
    ((_, message),) = check_function_name_prefix("orders-*", "p")
    assert "the '*' is added for you" in message and "'*'" in message
    ((_, message),) = check_function_name_prefix("a" * 65, "p")
    assert "65 characters" in message
    ((_, message),) = check_function_name_prefix(3, "p")
    assert "(int)" in message
    assert check_function_name_prefix(TOKEN, "p") == []


def test_organization_id_boundaries() -> None:
    assert check_organization_id("o-" + "a" * 10) == []
    assert check_organization_id("o-" + "a1" * 16) == []  # 32
    assert check_organization_id(None) == []
    assert check_organization_id(TOKEN) == []
    for bad in ("o-" + "a" * 9, "o-" + "a" * 33, "o-ABCDEFGHIJ", "r-abcdefghij", 5):
        ((error, message),) = check_organization_id(bad, "--organization-id")
        assert error is InvalidOrganizationIdError
        assert message.startswith("--organization-id must be an AWS Organizations id")
        assert "'ou-' unit id" in message


def test_digests_and_tags() -> None:
    digest = "sha256:" + "0123456789abcdef" * 4
    assert is_digest(digest) and not is_digest("v1")
    assert check_tag_or_digest(digest) == []
    ((error, message),) = check_tag_or_digest("sha256:" + "A" * 64)
    assert error is InvalidImageReferenceError and "64 characters after 'sha256:'" in message
    ((_, message),) = check_tag_or_digest("sha256:abc")
    assert "3 characters after" in message
    assert check_tag_or_digest("v1.2_3-rc") == []
    assert check_tag_or_digest("_x") == []
    assert check_tag_or_digest("a" * TAG_MAX) == []
    ((_, message),) = check_tag_or_digest("a" * (TAG_MAX + 1))
    assert "129 characters long (at most 128)" in message
    ((_, message),) = check_tag_or_digest("")
    assert "it is empty" in message
    ((_, message),) = check_tag_or_digest("-x")
    assert "starts with a letter" in message
    ((_, message),) = check_tag_or_digest(1)
    assert "(int)" in message and message.startswith("tag_or_digest must be a string")
    assert check_tag_or_digest(TOKEN) == []


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("sha265:" + "a1" * 32, "sha256:" + "a1" * 32),  # a typo of the algorithm
        ("SHA256:" + "b2" * 32, "sha256:" + "b2" * 32),  # the right algorithm, upper case
        ("sha512:abc", "sha256:abc"),  # another algorithm: ECR digests are sha256
        ("sha1:ab:cd", "sha256:ab:cd"),  # everything after the first ':'
    ],
)
def test_a_digest_of_another_algorithm_gets_a_did_you_mean(value: str, suggestion: str) -> None:
    ((error, message),) = check_tag_or_digest(value, "image_digest")
    assert error is InvalidImageReferenceError
    assert message == (
        f"image_digest must be an image tag or a 'sha256:' digest, got {value!r}: did you "
        f"mean '{suggestion}'? (ECR digests are sha256)"
    )


@pytest.mark.parametrize("value", ["shaky tag", "v1:sha256", "md5:abc", "sha-tag!"])
def test_no_did_you_mean_without_a_sha_algorithm_before_a_colon(value: str) -> None:
    ((_, message),) = check_tag_or_digest(value)
    assert "did you mean" not in message
    assert message.endswith("holds only letters, digits, '_', '.', '-'")


def test_repository_arns() -> None:
    arn = "arn:aws:ecr:us-east-1:123456789012:repository/team/app"
    parsed = parse_repository_arn(arn)
    assert parsed == RepositoryArn("aws", "us-east-1", "123456789012", "team/app")
    assert parsed is not None and parsed.arn == arn
    assert parse_repository_arn("arn:aws-us-gov:ecr:us-gov-west-1:123456789012:repository/a") == (
        RepositoryArn("aws-us-gov", "us-gov-west-1", "123456789012", "a")
    )
    assert check_repository_arn(arn) == []
    assert check_repository_arn(TOKEN) == []
    for bad in (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app",
        "arn:aws:ecr:us-east-1:12345678901:repository/a",
        "arn:aws:ecr:us-east-1:123456789012:repository/Team",
        "arn:aws:s3:::bucket",
        None,
    ):
        ((error, message),) = check_repository_arn(bad, "repository")
        assert error is InvalidRepositoryError
        assert message.startswith("repository must be an ECR repository ARN")
        assert repr(bad) in message


# ---------------------------------------------------------------------------------------------
# Exact messages: what users read is behaviour too (and the mutation test says so)
# ---------------------------------------------------------------------------------------------


def test_exact_messages() -> None:
    from ecr_lambda_access import policy
    from ecr_lambda_access.policy import LambdaConsumer

    cases = [
        (
            check_account_id(" 123 ", "a"),
            "a must be a 12-digit AWS account id, got ' 123 ': use the 12-digit id of the "
            "account that runs the functions",
        ),
        (
            check_account_id("*", "a"),
            "a must be a 12-digit AWS account id, got '*': list each consumer account id; to "
            "admit a whole AWS Organization use organization_id='o-...'",
        ),
        (
            check_account_id(1, "a"),
            "a must be a string of 12 digits, got 1 (int); write account ids as strings: they "
            "can start with 0",
        ),
        (
            check_function_name(1, "n"),
            "n must be a string, got 1 (int)",
        ),
        (
            check_function_name("", "n"),
            "n must be a Lambda function name (1 to 64 letters, digits, '-' or '_'), got '': "
            "it is empty",
        ),
        (
            check_function_name("*" * 65, "n"),
            "n must be a Lambda function name (1 to 64 letters, digits, '-' or '_'), got "
            f"'{'*' * 65}': it is 65 characters long; it holds '*'",
        ),
        (
            check_function_name_prefix("", "p"),
            "p must not be empty: pass function_name_prefix=None to admit every function of "
            "the account",
        ),
        (
            check_function_name_prefix("a/", "p"),
            "p must be the start of a Lambda function name (1 to 64 letters, digits, '-' or '_'; "
            "the '*' is added for you), got 'a/': it holds '/'",
        ),
        (
            check_function_name_prefix(1, "p"),
            "p must be a string, got 1 (int)",
        ),
        (
            check_organization_id("x"),
            "organization_id must be an AWS Organizations id matching o-[a-z0-9]{10,32}, got "
            "'x': copy it from the Organizations console or `aws organizations "
            "describe-organization` (an 'r-' root or 'ou-' unit id is not an organization id)",
        ),
        (
            check_tag_or_digest("sha256:ab"),
            "tag_or_digest must be 'sha256:' followed by 64 lowercase hex digits, got "
            "'sha256:ab' (2 characters after 'sha256:'): copy the digest from `docker buildx "
            "imagetools inspect` or `aws ecr describe-images`",
        ),
        (
            check_tag_or_digest(""),
            "tag_or_digest must be an image tag or a 'sha256:' digest, got '': it is empty",
        ),
        (
            check_tag_or_digest("-" + "a" * (TAG_MAX - 1)),
            "tag_or_digest must be an image tag or a 'sha256:' digest, got "
            f"'{'-' + 'a' * (TAG_MAX - 1)}': a tag starts with a letter, digit or '_' and holds "
            "only letters, digits, '_', '.', '-'",
        ),
        (
            check_repository_arn("x"),
            "repository must be an ECR repository ARN 'arn:PARTITION:ecr:REGION:ACCOUNT:"
            "repository/NAME', got 'x': pass the repository's ARN (not its URI or name), an "
            "aws_ecr.IRepository or a CrossAccountImageRepo",
        ),
        (
            policy.check_consumer(LambdaConsumer("123456789012", function_name="a b"), "c[0]"),
            "c[0].function_name must be a Lambda function name (1 to 64 letters, digits, '-' or "
            "'_'), got 'a b': it holds ' '",
        ),
        (
            policy.check_consumer(3, "c[1]"),
            "c[1] must be an account id string or a LambdaConsumer, got 3 (int)",
        ),
    ]
    for found, message in cases:
        assert [m for _, m in found] == [message]
    ((error, _),) = policy.check_consumer(LambdaConsumer("123456789012", function_name="a b"), "c")
    assert error is InvalidConsumerError
    assert check_repository_arn(None, "repository")[0][0] is InvalidRepositoryError
