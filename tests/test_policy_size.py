"""ECR's 10,240 characters, bounded with real values (policy/size.py), never token text.

The pure bound first, then the construct in a plain ``App()`` (no cdk.json, so the partition is a
token): with a literal us-east-1 it accepts the 114 whole-account consumers that fit when
deployed, and an environment-agnostic stack accepts the README's bound (93)."""

from __future__ import annotations

import pytest

from ecr_lambda_access import policy
from ecr_lambda_access.errors import PolicyTooLargeError
from ecr_lambda_access.policy.size import (
    ECR_POLICY_MAX_CHARS,
    LONGEST_PARTITION,
    LONGEST_REGION,
    partition_of_region,
    policy_length,
    policy_length_bound,
    url_suffix_of_region,
)

ENV_AGNOSTIC_BOUND = 93
"""Whole-account consumers that fit in any partition and Region (stated in the README)."""


def accounts(count: int) -> list[str]:
    return [f"{100000000000 + i:012d}" for i in range(count)]


def document(count: int, *, region: str, partition: str, repository: str) -> dict[str, object]:
    statements = policy.repository_policy_statements(
        accounts(count), repository_account=repository, region=region, partition=partition
    )
    return {"Version": "2012-10-17", "Statement": statements}


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        ("us-east-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
        ("us-iso-east-1", "aws-iso"),
        ("us-isob-east-1", "aws-iso-b"),
        ("us-isof-south-1", "aws-iso-f"),
        ("eu-isoe-west-1", "aws-iso-e"),
        ("eusc-de-east-1", "aws-eusc"),
        ("ap-southeast-5", "aws"),
    ],
)
def test_partition_of_region(region: str, partition: str) -> None:
    assert partition_of_region(region) == partition


def test_url_suffix_and_longest_names() -> None:
    assert url_suffix_of_region("cn-north-1") == "amazonaws.com.cn"
    assert url_suffix_of_region("us-east-1") == "amazonaws.com"
    assert LONGEST_PARTITION == "aws-us-gov"
    assert len(LONGEST_REGION) == 14


def test_tokens_are_measured_with_the_values_they_stand_for() -> None:
    tokens = document(
        10, region="${Token[AWS.Region.7]}", partition="${Token[AWS.Partition.9]}", repository="1"
    )
    literal = document(10, region="us-east-1", partition="aws", repository="1")
    assert policy_length_bound(tokens, region="us-east-1") == policy_length(literal)
    worst = document(10, region=LONGEST_REGION, partition=LONGEST_PARTITION, repository="1")
    assert policy_length_bound(tokens) == policy_length(worst)
    assert policy_length_bound(tokens, region="${Token[AWS.Region.7]}") == policy_length(worst)
    assert policy_length_bound(None) == 0


def test_resolved_intrinsics_are_measured_with_real_values() -> None:
    resolved = {
        "Statement": [
            {
                "Principal": {
                    "AWS": {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::1:root"]]}
                },
                "Resource": {
                    "Fn::Join": [":", [{"Ref": "AWS::Region"}, {"Ref": "AWS::AccountId"}]]
                },
                "Other": {"Ref": "AWS::URLSuffix"},
                "Unknown": {"Fn::GetAtt": ["X", "Arn"]},
                "Token": "x${Token[Foo.Bar.1]}y",
            }
        ]
    }
    plain = {
        "Statement": [
            {
                "Principal": {"AWS": "arn:aws-cn:iam::1:root"},
                "Resource": "cn-north-1:000000000000",
                "Other": "amazonaws.com.cn",
                "Unknown": "",
                "Token": "xy",
            }
        ]
    }
    assert policy_length_bound(resolved, region="cn-north-1") == policy_length(plain)


def test_the_limit_itself_is_allowed() -> None:
    padded = {"S": "x" * (ECR_POLICY_MAX_CHARS - len('{"S": ""}'))}
    assert policy_length(padded) == ECR_POLICY_MAX_CHARS
    assert policy.check_policy_size(padded, "p") == []
    over = {"S": "x" * (ECR_POLICY_MAX_CHARS + 1 - len('{"S": ""}'))}
    ((error, message),) = policy.check_policy_size(over, "p")
    assert error is PolicyTooLargeError and "10,241" in message


def test_env_agnostic_bound_is_the_readme_number() -> None:
    def fits(count: int) -> bool:
        doc = document(
            count,
            region="${Token[AWS.Region.7]}",
            partition="${Token[AWS.Partition.9]}",
            repository="${Token[AWS.AccountId.3]}",
        )
        return not policy.check_policy_size(doc, "p")

    assert fits(ENV_AGNOSTIC_BOUND) and not fits(ENV_AGNOSTIC_BOUND + 1)


@pytest.mark.synth
def test_plain_app_with_literal_us_east_1_accepts_114_whole_accounts() -> None:
    import aws_cdk as cdk

    from ecr_lambda_access import CrossAccountImageRepo

    # an App() without cdk.json's @aws-cdk/core:enablePartitionLiterals: the partition is a token
    app = cdk.App(post_cli_context={"@aws-cdk/core:enablePartitionLiterals": False})
    stack = cdk.Stack(app, "Registry", env=cdk.Environment(region="us-east-1"))
    assert cdk.Token.is_unresolved(stack.partition)
    repo = CrossAccountImageRepo(stack, "Images", consumers=accounts(114))
    with pytest.raises(PolicyTooLargeError):
        repo.add_consumer("999999999999")
    agnostic = cdk.Stack(app, "Agnostic")
    other = CrossAccountImageRepo(agnostic, "Images", consumers=accounts(ENV_AGNOSTIC_BOUND))
    with pytest.raises(PolicyTooLargeError):
        other.add_consumer("999999999999")
    app.synth()  # the synth-time size validation agrees


def test_every_pseudo_token_and_intrinsic_has_its_own_bound() -> None:
    def length(value: object, region: str | None) -> int:
        return policy_length_bound({"v": value}, region=region) - len('{"v": ""}')

    for region in ("us-east-1", None, "${Token[AWS.Region.1]}"):
        assert length("${Token[AWS.AccountId.3]}", region) == 12
        assert length({"Ref": "AWS::AccountId"}, region) == 12
    assert length("${Token[AWS.URLSuffix.5]}", "us-east-1") == len("amazonaws.com")
    assert length({"Ref": "AWS::URLSuffix"}, "us-east-1") == len("amazonaws.com")
    assert length({"Ref": "AWS::URLSuffix"}, "${Token[AWS.Region.1]}") == len("amazonaws.com.cn")
    assert length("${Token[AWS.URLSuffix.5]}", None) == len("amazonaws.com.cn")
    assert length("${Token[AWS.Region.5]}", "eu-west-1") == len("eu-west-1")
    assert length("${Token[AWS.Partition.5]}", "cn-north-1") == len("aws-cn")
    assert length({"Ref": "SomeResource"}, "us-east-1") == 0
    assert length({"Fn::Select": ["0", ["x", "y"]]}, "us-east-1") == 0
    assert length({"Fn::Join": ["", "not a list"]}, "us-east-1") == 0
    assert length({"Fn::Join": [["not a str"], ["x"]]}, "us-east-1") == 0
    assert length({"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}, "eu-west-1") == len(
        "a-eu-west-1"
    )


def test_check_policy_size_uses_the_region_and_says_what_to_do() -> None:
    tokens = document(
        114,
        region="${Token[AWS.Region.7]}",
        partition="${Token[AWS.Partition.9]}",
        repository="1",
    )
    assert policy.check_policy_size(tokens, "Repo", region="us-east-1") == []
    ((error, message),) = policy.check_policy_size(tokens, "Repo")
    length = policy_length_bound(tokens)
    assert error is PolicyTooLargeError
    assert message == (
        f"Repo: the repository policy would be {length:,} characters, over ECR's limit of "
        "10,240 characters: admit whole accounts instead of many function names, split "
        "consumers across repositories, or use organization_id='o-...' to admit every account "
        "of your AWS Organization in two statements"
    )
