"""The pure policy functions: examples from DOMAIN.md and hypothesis properties.

No jsii here: these run in milliseconds and prove the invariants for any valid input.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecr_lambda_access import policy
from ecr_lambda_access.errors import (
    EcrLambdaAccessError,
    InvalidConsumerError,
    InvalidOrganizationIdError,
    PolicyTooLargeError,
    raise_if_violations,
)
from ecr_lambda_access.policy import (
    ECR_POLICY_MAX_CHARS,
    ECR_PULL_ACTIONS,
    Access,
    LambdaConsumer,
    evaluate_pull,
    policy_length,
    repository_policy,
)
from ecr_lambda_access.validation import check_organization_id

REPO_ACCOUNT = "111111111111"
REGION = "us-east-1"

# ---------------------------------------------------------------------------------------------
# Strategies
# ---------------------------------------------------------------------------------------------

accounts = st.from_regex(r"[0-9]{12}", fullmatch=True)
# A small pool makes collisions (same account, overlapping prefixes) likely.
pooled_accounts = st.sampled_from(
    [REPO_ACCOUNT, "222222222222", "333333333333", "012345678901", "999999999999"]
)
name_chars = st.sampled_from("abcAB01-_")
prefixes = st.text(name_chars, min_size=1, max_size=8)
names = st.text(name_chars, min_size=1, max_size=12)


@st.composite
def consumers_st(draw: st.DrawFn) -> LambdaConsumer | str:
    account = draw(st.one_of(pooled_accounts, accounts))
    kind = draw(st.sampled_from(["account", "whole", "prefix", "name"]))
    if kind == "account":
        return account
    if kind == "prefix":
        return LambdaConsumer(account=account, function_name_prefix=draw(prefixes))
    if kind == "name":
        return LambdaConsumer(account=account, function_name=draw(names))
    return LambdaConsumer(account=account)


consumer_lists = st.lists(consumers_st(), max_size=12)
org_ids = st.none() | st.from_regex(r"o-[a-z0-9]{10,32}", fullmatch=True)
regions = st.sampled_from(["us-east-1", "eu-west-1", "ap-southeast-5", "us-gov-west-1"])
partitions = st.sampled_from(["aws", "aws-cn", "aws-us-gov"])


def covers(consumer: LambdaConsumer | str, account: str, name: str) -> bool:
    c = policy.as_consumer(consumer)
    if c.account != account:
        return False
    if c.function_name is not None:
        return c.function_name == name
    if c.function_name_prefix is not None:
        return name.startswith(c.function_name_prefix)
    return True


def statements_of(doc: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [] if doc is None else list(doc["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# ---------------------------------------------------------------------------------------------
# Examples: the documented pair, exactly
# ---------------------------------------------------------------------------------------------


def test_single_cross_account_consumer_gets_the_documented_pair() -> None:
    doc = repository_policy(["123456789012"], repository_account=REPO_ACCOUNT, region=REGION)
    assert doc == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CrossAccountPermission",
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            },
            {
                "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {
                    "StringLike": {
                        "aws:SourceArn": "arn:aws:lambda:us-east-1:123456789012:function:*"
                    }
                },
            },
        ],
    }


def test_several_accounts_are_merged_into_one_statement_each_side() -> None:
    doc = repository_policy(
        ["333333333333", "222222222222", LambdaConsumer("444444444444", "orders-")],
        repository_account=REPO_ACCOUNT,
        region=REGION,
    )
    root, service = statements_of(doc)
    assert root["Principal"]["AWS"] == [
        "arn:aws:iam::222222222222:root",
        "arn:aws:iam::333333333333:root",
        "arn:aws:iam::444444444444:root",
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        "arn:aws:lambda:us-east-1:222222222222:function:*",
        "arn:aws:lambda:us-east-1:333333333333:function:*",
        "arn:aws:lambda:us-east-1:444444444444:function:orders-*",
    ]


def test_repository_account_as_consumer_gets_only_the_service_statement() -> None:
    doc = repository_policy([REPO_ACCOUNT], repository_account=REPO_ACCOUNT, region=REGION)
    (only,) = statements_of(doc)
    assert only["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert only["Condition"]["StringLike"]["aws:SourceArn"] == (
        f"arn:aws:lambda:us-east-1:{REPO_ACCOUNT}:function:*"
    )


def test_no_consumers_and_no_organization_means_no_policy_at_all() -> None:
    assert repository_policy([], repository_account=REPO_ACCOUNT, region=REGION) is None
    assert policy_length(None) == 0


def test_exact_function_name_and_covered_patterns_collapse() -> None:
    doc = repository_policy(
        [
            LambdaConsumer("222222222222", function_name="orders-api"),
            LambdaConsumer("222222222222", function_name_prefix="orders-"),
            LambdaConsumer("222222222222", function_name_prefix="orders-a"),
            LambdaConsumer("222222222222", function_name="billing"),
            LambdaConsumer("222222222222", function_name="billing"),
        ],
        repository_account=REPO_ACCOUNT,
        region=REGION,
    )
    assert statements_of(doc)[1]["Condition"]["StringLike"]["aws:SourceArn"] == [
        "arn:aws:lambda:us-east-1:222222222222:function:billing",
        "arn:aws:lambda:us-east-1:222222222222:function:orders-*",
    ]


def test_organization_mode_adds_the_conditioned_pair() -> None:
    doc = repository_policy(
        [], repository_account=REPO_ACCOUNT, region=REGION, organization_id="o-abcdefghij"
    )
    root, service = statements_of(doc)
    assert root["Principal"] == {"AWS": "*"}
    assert root["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}
    assert service["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert service["Condition"] == {"StringEquals": {"aws:SourceOrgID": "o-abcdefghij"}}


def test_partition_and_region_are_used_in_every_arn() -> None:
    doc = repository_policy(
        ["222222222222"], repository_account=REPO_ACCOUNT, region="cn-north-1", partition="aws-cn"
    )
    text = policy.policy_text(doc or {})
    assert "arn:aws-cn:iam::222222222222:root" in text
    assert "arn:aws-cn:lambda:cn-north-1:222222222222:function:*" in text
    assert "arn:aws:" not in text


def test_most_accounts_that_fit_is_over_a_hundred() -> None:
    count = 1
    while True:
        ids = [f"{i:012d}" for i in range(1, count + 2)]
        doc = repository_policy(ids, repository_account=REPO_ACCOUNT, region=REGION)
        if policy_length(doc) > ECR_POLICY_MAX_CHARS:
            break
        count += 1
    assert count == 114


def test_oversized_policy_is_reported_with_size_limit_and_organization_hint() -> None:
    ids = [f"{i:012d}" for i in range(1, 200)]
    doc = repository_policy(ids, repository_account=REPO_ACCOUNT, region=REGION)
    with pytest.raises(PolicyTooLargeError) as caught:
        raise_if_violations(policy.check_policy_size(doc, "consumers"))
    message = str(caught.value)
    assert f"{policy_length(doc):,} characters" in message
    assert "10,240" in message
    assert "organization_id" in message


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(consumer_lists, org_ids, regions, partitions)
def test_policy_invariants_hold_for_any_valid_consumers(
    consumers: list[LambdaConsumer | str], org: str | None, region: str, partition: str
) -> None:
    doc = repository_policy(
        consumers,
        repository_account=REPO_ACCOUNT,
        region=region,
        partition=partition,
        organization_id=org,
    )
    if not consumers and org is None:
        assert doc is None
        return
    assert doc is not None
    for statement in doc["Statement"]:
        assert statement["Effect"] == "Allow"
        assert statement["Action"] == list(ECR_PULL_ACTIONS)
        keys = {k.lower() for block in statement.get("Condition", {}).values() for k in block}
        principal = statement["Principal"]
        if "Service" in principal:
            # never a service principal without a source condition
            assert keys & {"aws:sourcearn", "aws:sourceorgid"}, statement
        if principal.get("AWS") == "*" or "*" in as_list(principal.get("AWS", [])):
            # never a '*' principal without an organization condition
            assert "aws:principalorgid" in keys, statement
    assert policy.unconditioned_service_statements(doc) == []

    # exactly those principals and source ARNs
    wanted_accounts = {policy.as_consumer(c).account for c in consumers}
    roots = {
        p
        for s in doc["Statement"]
        if s["Sid"] == "CrossAccountPermission"
        for p in as_list(s["Principal"]["AWS"])
    }
    assert roots == {f"arn:{partition}:iam::{a}:root" for a in wanted_accounts if a != REPO_ACCOUNT}
    sources = {
        a
        for s in doc["Statement"]
        if s["Sid"] == "LambdaECRImageCrossAccountRetrievalPolicy"
        for a in as_list(s["Condition"]["StringLike"]["aws:SourceArn"])
    }
    assert sources == {
        f"arn:{partition}:lambda:{region}:{account}:function:{pattern}"
        for account, patterns in policy.consumer_patterns(consumers).items()
        for pattern in patterns
    }


@settings(max_examples=300, deadline=None)
@given(consumer_lists, st.one_of(pooled_accounts, accounts), names)
def test_evaluating_the_written_policy_grants_exactly_what_consumers_cover(
    consumers: list[LambdaConsumer | str], account: str, name: str
) -> None:
    doc = repository_policy(consumers, repository_account=REPO_ACCOUNT, region=REGION)
    result = evaluate_pull(
        doc,
        function_arn=f"arn:aws:lambda:{REGION}:{account}:function:{name}",
        function_account=account,
        repository_account=REPO_ACCOUNT,
    )
    admitted = any(covers(c, account, name) for c in consumers)
    assert (result.service.access is Access.GRANTED) == admitted
    if account == REPO_ACCOUNT:
        assert result.root.access is Access.NOT_NEEDED
    else:
        listed = any(policy.as_consumer(c).account == account for c in consumers)
        assert (result.root.access is Access.GRANTED) == listed
    assert result.ok == (admitted and (account == REPO_ACCOUNT or listed))
    # ...and never for the same function in another Region
    elsewhere = evaluate_pull(
        doc,
        function_arn=f"arn:aws:lambda:eu-west-1:{account}:function:{name}",
        function_account=account,
        repository_account=REPO_ACCOUNT,
    )
    assert not elsewhere.service.ok


@settings(max_examples=200, deadline=None)
@given(consumer_lists, st.randoms(use_true_random=False))
def test_output_does_not_depend_on_the_order_consumers_are_given(
    consumers: list[LambdaConsumer | str], rnd: Any
) -> None:
    shuffled = list(consumers)
    rnd.shuffle(shuffled)
    one = repository_policy(consumers, repository_account=REPO_ACCOUNT, region=REGION)
    two = repository_policy(shuffled + consumers, repository_account=REPO_ACCOUNT, region=REGION)
    assert json.dumps(one) == json.dumps(two)


@settings(max_examples=50, deadline=None)
@given(st.lists(accounts, min_size=1, max_size=130, unique=True), regions, partitions)
def test_policy_grows_by_at_most_the_documented_characters_per_account(
    ids: list[str], region: str, partition: str
) -> None:
    ids = [a for a in ids if a != REPO_ACCOUNT] or ["222222222222"]

    def length(n: int) -> int:
        doc = repository_policy(
            ids[:n], repository_account=REPO_ACCOUNT, region=region, partition=partition
        )
        return policy_length(doc)

    per_account = 71 + 2 * len(partition) + len(region)  # root ARN + source ARN, quoted
    assert length(len(ids)) <= length(1) + 4 + per_account * (len(ids) - 1)
    if partition == "aws" and region == "us-east-1":
        assert per_account <= 90


# ---------------------------------------------------------------------------------------------
# Bad input: one error per call, naming argument, value and fix
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad",
    [
        "12345",
        "1234567890123",
        "12345678901a",
        "*",
        "",
        " 123456789012",
        "123456789012 ",
        "12345678901\u0660",  # an Arabic-Indic zero: a Unicode digit, not an account id digit
    ],
)
def test_malformed_account_ids_are_rejected_with_the_value(bad: str) -> None:
    found = policy.check_consumer(bad, "consumers[0]")
    assert [cls for cls, _ in found] == [InvalidConsumerError]
    message = found[0][1]
    assert "consumers[0]" in message and repr(bad) in message and "12-digit" in message


def test_account_with_spaces_suggests_the_stripped_value() -> None:
    ((_, message),) = policy.check_consumer(" 123456789012", "consumers[1]")
    assert "remove the surrounding spaces: '123456789012'" in message


def test_star_account_points_to_organization_id() -> None:
    ((_, message),) = policy.check_consumer("*", "consumers[0]")
    assert "organization_id" in message


@pytest.mark.parametrize("bad", [123456789012, None, 1.5, b"123456789012"])
def test_non_string_accounts_are_rejected(bad: object) -> None:
    ((cls, message),) = policy.check_consumer(LambdaConsumer(bad), "consumers[3]")  # type: ignore[arg-type]
    assert cls is InvalidConsumerError
    assert "consumers[3].account" in message and repr(bad) in message


@pytest.mark.parametrize("bad", ["orders/", "orders*", "my orders", "x" * 65, "é"])
def test_bad_function_name_prefixes_are_rejected(bad: str) -> None:
    found = policy.check_consumer(LambdaConsumer("222222222222", bad), "consumers[0]")
    ((cls, message),) = found
    assert cls is InvalidConsumerError
    assert "consumers[0].function_name_prefix" in message and repr(bad) in message


def test_prefix_and_name_together_are_rejected() -> None:
    found = policy.check_consumer(
        LambdaConsumer("222222222222", function_name_prefix="a", function_name="b"), "c"
    )
    assert any("set one of them" in m for _, m in found)


def test_every_violation_of_a_call_is_reported_in_one_error() -> None:
    found = [
        *policy.check_consumer("12", "consumers[0]"),
        *policy.check_consumer(LambdaConsumer("x", "a/b"), "consumers[1]"),
        *check_organization_id("org-1"),
    ]
    with pytest.raises(EcrLambdaAccessError) as caught:
        raise_if_violations(found)
    assert len(caught.value.violations) == 4
    text = str(caught.value)
    for value in ("'12'", "'x'", "'a/b'", "'org-1'"):
        assert value in text
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", ["o-short", "O-ABCDEFGHIJ", "r-abcd", "ou-abcd-12345678", ""])
def test_bad_organization_ids_are_rejected(bad: str) -> None:
    ((cls, message),) = check_organization_id(bad)
    assert cls is InvalidOrganizationIdError
    assert repr(bad) in message and "o-[a-z0-9]{10,32}" in message


def test_unresolved_tokens_are_accepted_not_checked() -> None:
    token = "${Token[AWS.AccountId.7]}"
    assert policy.check_consumer(token, "consumers[0]") == []
    assert policy.check_consumer(LambdaConsumer(token, "${Token[TOKEN.12]}"), "c") == []
    assert check_organization_id("${Token[TOKEN.99]}") == []


def test_arn_helpers_default_to_the_aws_partition() -> None:
    assert policy.root_arn("123456789012") == "arn:aws:iam::123456789012:root"
    assert policy.function_arn_pattern("123456789012", "f*", region="eu-west-1") == (
        "arn:aws:lambda:eu-west-1:123456789012:function:f*"
    )
    default = policy.repository_policy_statements(
        ["222222222222"], repository_account=REPO_ACCOUNT, region=REGION
    )
    assert default[0]["Principal"] == {"AWS": "arn:aws:iam::222222222222:root"}


def test_extra_statements_are_copied_after_ours() -> None:
    extra = {"Sid": "Mine", "Effect": "Deny", "Principal": "*", "Action": "ecr:DeleteRepository"}
    document = repository_policy(
        ["222222222222"], repository_account=REPO_ACCOUNT, region=REGION, extra_statements=[extra]
    )
    assert document is not None
    assert document["Statement"][-1] == extra
    assert document["Statement"][-1] is not extra


def test_token_patterns_are_never_merged() -> None:
    token = "${Token[TOKEN.5]}"
    kept = policy.consumer_patterns(
        [
            LambdaConsumer("222222222222", function_name_prefix=token),
            LambdaConsumer("222222222222", function_name=token + "x"),
            LambdaConsumer("333333333333", function_name_prefix="a"),
            LambdaConsumer("333333333333", function_name="a" + token),
            LambdaConsumer("444444444444", function_name="b"),
            LambdaConsumer("444444444444", function_name="c"),
        ]
    )
    assert kept == {
        "222222222222": tuple(sorted([token + "*", token + "x"])),
        "333333333333": tuple(sorted(["a*", "a" + token])),
        "444444444444": ("b", "c"),
    }
    same = policy.consumer_patterns([LambdaConsumer("222222222222", function_name_prefix="a")] * 2)
    assert same == {"222222222222": ("a*",)}
