"""The IAM evaluator (policy/evaluate.py), case by case: each case of issue 10 and each operator
family, with the request context of each side. Pure Python (no jsii): fast, and the tests that
`make mutation` runs against the evaluator."""

from __future__ import annotations

from typing import Any

import pytest

from ecr_lambda_access.policy import (
    ECR_PULL_ACTIONS,
    Access,
    Grant,
    evaluate_pull,
    evaluate_request,
    policy_problems,
)
from ecr_lambda_access.policy.evaluate import (
    MAYBE_PRESENT,
    UNKNOWN_VALUE,
    deployer_request,
    glob_match,
    lambda_pull_request,
)

REPO, FUNC, OTHER = "111111111111", "222222222222", "333333333333"
REGION = "us-east-1"
FN_ARN = f"arn:aws:lambda:{REGION}:{FUNC}:function:orders-api"
REPO_ARN = f"arn:aws:ecr:{REGION}:{REPO}:repository/team/app"
ORG = "o-abcdefghij"
SERVICE = {"Service": "lambda.amazonaws.com"}
PULL = list(ECR_PULL_ACTIONS)


def doc(*statements: dict[str, Any], version: str | None = "2012-10-17") -> dict[str, Any]:
    document: dict[str, Any] = {"Statement": list(statements)}
    if version is not None:
        document["Version"] = version
    return document


def service_stmt(condition: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": SERVICE, "Action": PULL}
    if condition is not None:
        statement["Condition"] = condition
    statement.update(extra)
    return statement


def root_stmt(**extra: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{FUNC}:root"},
        "Action": PULL,
    }
    statement.update(extra)
    return statement


def service(policy: dict[str, Any], *, org: str | None = None, arn: str = FN_ARN) -> Access:
    return evaluate_pull(
        policy,
        function_arn=arn,
        function_account=arn.split(":")[4],
        repository_account=REPO,
        organization_id=org,
        repository_arn=REPO_ARN,
    ).service.access


def root(policy: dict[str, Any], *, org: str | None = None, account: str = FUNC) -> Access:
    return evaluate_pull(
        policy,
        function_arn=f"arn:aws:lambda:{REGION}:{account}:function:orders-api",
        function_account=account,
        repository_account=REPO,
        organization_id=org,
        repository_arn=REPO_ARN,
    ).root.access


# ---------------------------------------------------------------------------------------------
# The request context of each side, written down once
# ---------------------------------------------------------------------------------------------


def test_lambda_pull_request_carries_source_keys_and_no_principal_keys() -> None:
    request = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    assert request.value("aws:SourceArn") == FN_ARN
    assert request.value("AWS:SOURCEACCOUNT") == FUNC  # keys are case-insensitive
    assert request.value("aws:PrincipalIsAWSService") == "true"
    assert request.value("aws:PrincipalServiceName") == "lambda.amazonaws.com"
    assert request.value("aws:PrincipalOrgID") is None
    assert request.value("aws:PrincipalTag/team") is None
    assert request.value("aws:SourceOrgID") is MAYBE_PRESENT
    assert request.value("aws:SecureTransport") is MAYBE_PRESENT
    with_org = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC, organization_id=ORG)
    assert with_org.value("aws:SourceOrgID") == ORG
    assert request.side == "service" and request.service == "lambda.amazonaws.com"


def test_deployer_request_carries_principal_keys_and_no_source_keys() -> None:
    request = deployer_request(function_account=FUNC)
    assert request.value("aws:PrincipalAccount") == FUNC
    assert request.value("aws:PrincipalArn") is UNKNOWN_VALUE
    assert request.value("aws:PrincipalIsAWSService") == "false"
    assert request.value("aws:PrincipalOrgID") is MAYBE_PRESENT
    for key in ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID", "aws:SourceOrgPaths"):
        assert request.value(key) is None
    assert (
        deployer_request(function_account=FUNC, organization_id=ORG).value("aws:principalorgid")
        == ORG
    )
    assert request.side == "deployer" and request.service is None


# ---------------------------------------------------------------------------------------------
# Issue 10: grants where IAM denies
# ---------------------------------------------------------------------------------------------


def test_deny_with_not_principal_denies_the_lambda_service() -> None:
    policy = doc(
        service_stmt({"StringLike": {"aws:SourceArn": f"arn:aws:lambda:*:{FUNC}:function:*"}}),
        {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{FUNC}:root"}, "Action": "ecr:*"},
    )
    assert service(policy) is Access.DENIED


def test_deny_with_not_principal_listing_the_service_does_not_deny_it() -> None:
    policy = doc(
        service_stmt(),
        {"Effect": "Deny", "NotPrincipal": SERVICE, "Action": "ecr:*"},
    )
    assert service(policy) is Access.GRANTED


def test_deny_not_principal_naming_the_account_leaves_the_deployer_unknown() -> None:
    policy = doc(
        root_stmt(),
        {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{FUNC}:root"}, "Action": "ecr:*"},
    )
    assert root(policy) is Access.UNKNOWN
    # a NotPrincipal that does not name the account at all denies its deployer
    other = doc(
        root_stmt(),
        {"Effect": "Deny", "NotPrincipal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": "*"},
    )
    assert root(other) is Access.DENIED
    assert root(
        doc(root_stmt(), {"Effect": "Deny", "NotPrincipal": {"AWS": "*"}, "Action": "*"})
    ) is (Access.GRANTED)


def test_allow_with_not_principal_is_never_a_grant() -> None:
    policy = doc(
        {"Effect": "Allow", "NotPrincipal": {"AWS": f"arn:aws:iam::{OTHER}:root"}, "Action": PULL}
    )
    assert service(policy) is Access.UNKNOWN
    assert root(policy) is Access.UNKNOWN


@pytest.mark.parametrize("operator", ["ArnLike", "ArnEquals"])
def test_arn_operators_match_component_by_component(operator: str) -> None:
    spanning = doc(service_stmt({operator: {"aws:SourceArn": "arn:aws:lambda:*:function:*"}}))
    assert service(spanning) is Access.MISSING
    each = doc(service_stmt({operator: {"aws:SourceArn": "arn:aws:lambda:*:*:function:*"}}))
    assert service(each) is Access.GRANTED
    exact = doc(service_stmt({operator: {"aws:SourceArn": FN_ARN}}))
    assert service(exact) is Access.GRANTED
    # StringLike globs the whole string, so the same spanning pattern matches there
    assert service(
        doc(service_stmt({"StringLike": {"aws:SourceArn": "arn:aws:lambda:*:function:*"}}))
    ) is (Access.GRANTED)


def test_arn_like_wildcard_stays_within_the_resource_component() -> None:
    policy = doc(service_stmt({"ArnLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{FUNC}:*"}}))
    assert service(policy) is Access.GRANTED  # the sixth component holds the rest, colons too
    wrong_region = doc(
        service_stmt({"ArnLike": {"aws:SourceArn": f"arn:aws:lambda:eu-west-1:{FUNC}:*"}})
    )
    assert service(wrong_region) is Access.MISSING


@pytest.mark.parametrize("operator", ["ArnLike", "ArnNotLike", "ArnEquals", "ArnNotEquals"])
def test_arn_operator_on_a_key_that_is_not_an_arn_matches_nothing(operator: str) -> None:
    policy = doc(service_stmt({operator: {"aws:SourceAccount": "*"}}))
    assert service(policy) is Access.MISSING


def test_arn_operator_with_a_pattern_that_is_not_an_arn_is_unknown() -> None:
    assert service(doc(service_stmt({"ArnLike": {"aws:SourceArn": "*"}}))) is Access.UNKNOWN


def test_policy_admitting_every_account_grants_a_stranger() -> None:
    for principal in ("*", {"AWS": "*"}):
        policy = doc({"Effect": "Allow", "Principal": principal, "Action": PULL})
        assert root(policy, account=OTHER) is Access.GRANTED
        assert service(policy) is Access.GRANTED


# ---------------------------------------------------------------------------------------------
# Absent keys, IfExists, ForAnyValue/ForAllValues, Null, Bool
# ---------------------------------------------------------------------------------------------


def test_the_classic_org_guard_denies_the_lambda_service() -> None:
    policy = doc(
        service_stmt({"StringLike": {"aws:SourceArn": f"arn:aws:lambda:*:{FUNC}:function:*"}}),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
        },
    )
    assert service(policy) is Access.DENIED
    assert service(policy, org=ORG) is Access.DENIED  # the service principal carries no org


def test_org_guard_with_if_exists_also_denies_the_service() -> None:
    guard = {"Effect": "Deny", "Principal": "*", "Action": "ecr:*"}
    if_exists = doc(
        service_stmt(),
        {**guard, "Condition": {"StringNotEqualsIfExists": {"aws:PrincipalOrgID": ORG}}},
    )
    assert service(if_exists) is Access.DENIED  # IfExists on an absent key is true
    spared = doc(
        service_stmt(),
        {
            **guard,
            "Condition": {
                "StringNotEquals": {"aws:PrincipalOrgID": ORG},
                "Null": {"aws:PrincipalOrgID": "false"},
            },
        },
    )
    assert service(spared) is Access.GRANTED  # the documented fix: only when the key is present


def test_organization_mode_with_a_known_different_organization_is_missing() -> None:
    policy = doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ORG}},
        },
        service_stmt({"StringEquals": {"aws:SourceOrgID": ORG}}),
    )
    assert root(policy, org="o-zzzzzzzzzz") is Access.MISSING
    assert service(policy, org="o-zzzzzzzzzz") is Access.MISSING
    assert root(policy, org=ORG) is Access.GRANTED
    assert service(policy, org=ORG) is Access.GRANTED
    assert root(policy) is Access.UNKNOWN  # organization not given: truly unknown
    assert service(policy) is Access.UNKNOWN


TAG = "aws:PrincipalTag/team"


@pytest.mark.parametrize(
    ("operator", "key", "expected"),
    [
        ("StringEquals", TAG, Access.MISSING),
        ("StringNotEquals", TAG, Access.GRANTED),
        ("StringEqualsIfExists", TAG, Access.GRANTED),
        ("StringNotEqualsIfExists", TAG, Access.GRANTED),
        ("StringLike", TAG, Access.MISSING),
        ("StringNotLike", TAG, Access.GRANTED),
        ("ForAnyValue:StringEquals", TAG, Access.MISSING),
        ("ForAnyValue:StringNotEquals", TAG, Access.MISSING),
        ("ForAllValues:StringEquals", TAG, Access.GRANTED),
        ("ForAllValues:StringNotLike", TAG, Access.GRANTED),
        ("ArnNotLike", TAG, Access.GRANTED),
        ("ArnLike", TAG, Access.MISSING),
        ("ArnLikeIfExists", TAG, Access.GRANTED),
        ("NumericLessThan", "aws:MultiFactorAuthAge", Access.MISSING),
        ("DateGreaterThan", "aws:TokenIssueTime", Access.MISSING),
        ("IpAddress", "aws:SourceIp", Access.MISSING),
        ("NotIpAddress", "aws:SourceIp", Access.GRANTED),
        ("BinaryEquals", "x:blob", Access.MISSING),  # a key of no known type
        ("Bool", "aws:MultiFactorAuthPresent", Access.MISSING),
        ("BoolIfExists", "aws:MultiFactorAuthPresent", Access.GRANTED),
    ],
)
def test_allow_conditioned_on_a_key_the_request_never_carries(
    operator: str, key: str, expected: Access
) -> None:
    from ecr_lambda_access.policy.evaluate import Request

    request = Request(
        side="service",
        account=FUNC,
        partition="aws",
        service="lambda.amazonaws.com",
        keys={},
        absent=frozenset({key.lower()}),
    )
    assert evaluate_request(doc(service_stmt({operator: {key: "1"}})), request).access is expected
    if key == TAG:  # aws:PrincipalTag/... is absent from the Lambda service's request
        assert service(doc(service_stmt({operator: {key: "1"}}))) is expected


@pytest.mark.parametrize(
    ("value", "expected"), [("true", Access.GRANTED), ("false", Access.MISSING)]
)
def test_null_tests_whether_a_key_is_absent(value: str, expected: Access) -> None:
    assert service(doc(service_stmt({"Null": {"aws:PrincipalOrgID": value}}))) is expected
    opposite = Access.MISSING if expected is Access.GRANTED else Access.GRANTED
    assert service(doc(service_stmt({"Null": {"aws:SourceArn": value}}))) is opposite


def test_null_on_a_key_that_may_be_absent_is_unknown() -> None:
    assert service(doc(service_stmt({"Null": {"aws:SourceOrgID": "true"}}))) is Access.UNKNOWN


def test_bool_compares_case_insensitively() -> None:
    assert service(doc(service_stmt({"Bool": {"aws:PrincipalIsAWSService": "TRUE"}}))) is (
        Access.GRANTED
    )
    assert service(doc(service_stmt({"Bool": {"aws:PrincipalIsAWSService": "false"}}))) is (
        Access.MISSING
    )
    assert service(doc(service_stmt({"Bool": {"aws:PrincipalIsAWSService": True}}))) is (
        Access.GRANTED
    )
    assert root(doc(root_stmt(Condition={"Bool": {"aws:PrincipalIsAWSService": "false"}}))) is (
        Access.GRANTED
    )


def test_unknown_value_on_a_present_key_is_unknown_even_negated() -> None:
    condition = {"StringNotEquals": {"aws:PrincipalArn": "arn:aws:iam::1:role/x"}}
    assert root(doc(root_stmt(Condition=condition))) is Access.UNKNOWN


def test_numeric_date_ip_and_binary_operators_on_known_values() -> None:
    age = "aws:MultiFactorAuthAge"
    request = custom(
        aws_multifactorauthage=FUNC, aws_epochtime="x", aws_sourceip="not-an-ip", x_blob=FUNC
    )
    cases = [
        ({"NumericEquals": {age: FUNC}}, Access.GRANTED),
        ({"NumericNotEquals": {age: FUNC}}, Access.MISSING),
        ({"NumericLessThan": {age: "300000000000"}}, Access.GRANTED),
        ({"NumericLessThanEquals": {age: FUNC}}, Access.GRANTED),
        ({"NumericGreaterThan": {age: FUNC}}, Access.MISSING),
        ({"NumericGreaterThanEquals": {age: FUNC}}, Access.GRANTED),
        ({"NumericEquals": {"aws:EpochTime": "1"}}, Access.MISSING),  # not a number
        ({"NumericEquals": {age: "x"}}, Access.UNKNOWN),
        ({"NumericEquals": {age: "1"}}, Access.MISSING),
        ({"NumericEquals": {age: "300000000000"}}, Access.MISSING),
        ({"DateEquals": {"aws:EpochTime": "2020-01-01T00:00:00Z"}}, Access.MISSING),
        ({"DateLessThan": {"aws:EpochTime": "garbage"}}, Access.UNKNOWN),
        ({"BinaryEquals": {"x:blob": FUNC}}, Access.GRANTED),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, Access.MISSING),
        ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, Access.GRANTED),
    ]
    for condition, expected in cases:
        got = evaluate_request(doc(service_stmt(condition)), request).access
        assert got is expected, condition


def test_date_and_epoch_values_compare_as_times() -> None:
    from ecr_lambda_access.policy.evaluate import Request

    request = Request(
        side="service",
        account=FUNC,
        partition="aws",
        service="lambda.amazonaws.com",
        keys={"aws:currenttime": "2026-01-02T00:00:00Z", "aws:sourceip": "10.1.2.3"},
        absent=frozenset(),
    )
    for condition, expected in [
        ({"DateGreaterThan": {"aws:CurrentTime": "2026-01-01T00:00:00Z"}}, Access.GRANTED),
        ({"DateLessThan": {"aws:CurrentTime": "2026-01-01"}}, Access.MISSING),
        ({"DateLessThanEquals": {"aws:CurrentTime": "1767312000"}}, Access.GRANTED),
        ({"DateGreaterThanEquals": {"aws:CurrentTime": "1767312001"}}, Access.MISSING),
        ({"DateNotEquals": {"aws:CurrentTime": "2026-01-02T00:00:00+00:00"}}, Access.MISSING),
        ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, Access.GRANTED),
        ({"IpAddress": {"aws:SourceIp": "192.168.0.0/16"}}, Access.MISSING),
        ({"NotIpAddress": {"aws:SourceIp": "10.1.2.3"}}, Access.MISSING),
    ]:
        assert evaluate_request(doc(service_stmt(condition)), request).access is expected, condition


# ---------------------------------------------------------------------------------------------
# Keys, values, variables, wildcards
# ---------------------------------------------------------------------------------------------


def test_keys_are_case_insensitive_values_case_sensitive() -> None:
    assert service(doc(service_stmt({"StringEquals": {"AWS:SOURCEARN": FN_ARN}}))) is Access.GRANTED
    assert service(doc(service_stmt({"StringEquals": {"aws:SourceArn": FN_ARN.upper()}}))) is (
        Access.MISSING
    )
    assert (
        service(doc(service_stmt({"StringEqualsIgnoreCase": {"aws:SourceArn": FN_ARN.upper()}})))
        is Access.GRANTED
    )
    assert (
        service(doc(service_stmt({"StringNotEqualsIgnoreCase": {"aws:SourceArn": FN_ARN.upper()}})))
        is Access.MISSING
    )


def test_string_equals_treats_star_literally_and_string_like_as_a_wildcard() -> None:
    assert service(doc(service_stmt({"StringEquals": {"aws:SourceArn": "*"}}))) is Access.MISSING
    assert service(doc(service_stmt({"StringLike": {"aws:SourceArn": "*"}}))) is Access.GRANTED
    assert service(doc(service_stmt({"StringLike": {"aws:SourceArn": FN_ARN[:-1] + "?"}}))) is (
        Access.GRANTED
    )
    assert service(doc(service_stmt({"StringNotLike": {"aws:SourceArn": "*orders*"}}))) is (
        Access.MISSING
    )


def test_policy_variables_are_substituted_in_2012_10_17_policies() -> None:
    pattern = f"arn:aws:lambda:{REGION}:${{aws:SourceAccount}}:function:*"
    assert service(doc(service_stmt({"StringLike": {"aws:SourceArn": pattern}}))) is Access.GRANTED
    other = FN_ARN.replace(FUNC, OTHER)
    assert service(doc(service_stmt({"StringLike": {"aws:SourceArn": pattern}})), arn=other) is (
        Access.GRANTED
    )
    old = doc(service_stmt({"StringLike": {"aws:SourceArn": pattern}}), version="2008-10-17")
    assert service(old) is Access.MISSING  # no variables before 2012-10-17: literal text
    unversioned = doc(service_stmt({"StringLike": {"aws:SourceArn": pattern}}), version=None)
    assert service(unversioned) is Access.MISSING


def test_policy_variable_values_are_literal_and_special_forms() -> None:
    # ${*} is a literal '*', not a wildcard
    assert service(doc(service_stmt({"StringLike": {"aws:SourceArn": "${*}"}}))) is Access.MISSING
    assert (
        service(
            doc(
                service_stmt(
                    {"StringEquals": {"aws:SourceAccount": "${aws:PrincipalOrgID, '" + FUNC + "'}"}}
                )
            )
        )
        is Access.GRANTED
    )  # absent key: the default
    assert (
        service(doc(service_stmt({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalOrgID}"}})))
        is Access.UNKNOWN
    )  # absent without a default
    assert (
        service(doc(service_stmt({"StringEquals": {"aws:SourceAccount": "${aws:SourceOrgID}"}})))
        is Access.UNKNOWN
    )  # not known here
    assert (
        service(
            doc(
                service_stmt(
                    {"Bool": {"aws:PrincipalIsAWSService": "${aws:PrincipalIsAWSService}"}}
                )
            )
        )
        is Access.GRANTED
    )


def test_arn_operator_with_a_colon_variable_is_unknown() -> None:
    pattern = f"arn:aws:lambda:{REGION}:${{aws:SourceAccount}}:function:*"
    assert service(doc(service_stmt({"ArnLike": {"aws:SourceArn": pattern}}))) is Access.UNKNOWN
    simple = f"arn:aws:lambda:{REGION}:{FUNC}:function:${{*}}"
    assert service(doc(service_stmt({"ArnLike": {"aws:SourceArn": simple}}))) is Access.UNKNOWN


def test_action_names_are_case_insensitive_and_not_action_works() -> None:
    lower = service_stmt()
    lower["Action"] = ["ecr:batchgetimage", "ECR:GETDOWNLOADURLFORLAYER"]
    assert service(doc(lower)) is Access.GRANTED
    partial = service_stmt()
    partial["Action"] = "ecr:BatchGetImage"
    assert service(doc(partial)) is Access.MISSING
    not_action = {"Effect": "Allow", "Principal": SERVICE, "NotAction": "ecr:PutImage"}
    assert service(doc(not_action)) is Access.GRANTED
    not_pull = {"Effect": "Allow", "Principal": SERVICE, "NotAction": "ecr:BatchGetImage"}
    assert service(doc(not_pull)) is Access.MISSING


def test_resource_and_not_resource_are_matched_against_the_repository() -> None:
    assert service(doc(service_stmt(Resource=REPO_ARN))) is Access.GRANTED
    assert service(doc(service_stmt(Resource=f"arn:aws:ecr:*:{REPO}:repository/team/*"))) is (
        Access.GRANTED
    )
    assert service(doc(service_stmt(Resource="arn:aws:ecr:*:*:repository/other"))) is Access.MISSING
    assert service(doc(service_stmt(NotResource="arn:aws:ecr:*:*:repository/other"))) is (
        Access.GRANTED
    )
    assert service(doc(service_stmt(NotResource=REPO_ARN))) is Access.MISSING
    unknown_repo = evaluate_pull(
        doc(service_stmt(Resource=REPO_ARN)),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    )
    assert unknown_repo.service.access is Access.UNKNOWN
    star = evaluate_pull(
        doc(service_stmt(Resource="*")),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    )
    assert star.service.access is Access.GRANTED


def test_principal_forms() -> None:
    assert root(doc(root_stmt(Principal={"AWS": FUNC}))) is Access.GRANTED  # bare account id
    assert root(doc(root_stmt(Principal={"AWS": OTHER}))) is Access.MISSING
    assert root(doc(root_stmt(Principal={"AWS": f"arn:aws:iam::{FUNC}:role/deployer"}))) is (
        Access.UNKNOWN
    )  # the deployer may or may not be that role
    assert root(doc(root_stmt(Principal={"AWS": f"arn:aws-cn:iam::{FUNC}:root"}))) is Access.MISSING
    assert root(doc(root_stmt(Principal={"Service": "lambda.amazonaws.com"}))) is Access.MISSING
    assert root(doc(root_stmt(Principal={"AWS": "${Token[TOKEN.1]}"}))) is Access.UNKNOWN
    assert (
        service(doc(service_stmt(Principal={"Service": ["ecs.amazonaws.com"]}))) is Access.MISSING
    )
    assert (
        service(doc(service_stmt(Principal={"AWS": f"arn:aws:iam::{FUNC}:root"}))) is Access.MISSING
    )
    assert service(
        doc(service_stmt(Principal={"Federated": "cognito-identity.amazonaws.com"}))
    ) is (Access.MISSING)


def test_deny_beats_allow_and_names_the_deciding_statement() -> None:
    policy = doc(
        service_stmt(Sid="Allow"),
        {"Sid": "Block", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"},
    )
    result = evaluate_pull(
        policy, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    ).service
    assert result.access is Access.DENIED
    assert result.statements == ("Block",)
    granted = evaluate_pull(
        doc(service_stmt(Sid="Allow")),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    ).service
    assert granted.statements == ("Allow",)


def test_a_deny_that_may_apply_makes_the_answer_unknown() -> None:
    policy = doc(
        service_stmt(),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:*",
            "Condition": {"StringNotEquals": {"aws:SourceOrgID": ORG}},
        },
    )
    assert service(policy) is Access.UNKNOWN
    assert service(policy, org=ORG) is Access.GRANTED
    assert service(policy, org="o-zzzzzzzzzz") is Access.DENIED


def test_same_account_deployer_needs_no_grant_but_a_deny_still_blocks() -> None:
    def own(policy: dict[str, Any]) -> Access:
        return root(policy, account=REPO)

    assert own(doc(service_stmt())) is Access.NOT_NEEDED
    assert own(doc({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"})) is Access.DENIED
    maybe = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": "ecr:*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    }
    assert own(doc(maybe)) is Access.UNKNOWN
    assert root(doc(maybe), account=REPO, org=ORG) is Access.NOT_NEEDED


def test_multi_valued_keys_need_a_set_operator() -> None:
    from ecr_lambda_access.policy.evaluate import Request

    request = Request(
        side="service",
        account=FUNC,
        partition="aws",
        service="lambda.amazonaws.com",
        keys={"aws:tagkeys": ("a", "b")},
        absent=frozenset(),
    )
    for condition, expected in [
        ({"StringEquals": {"aws:TagKeys": "a"}}, Access.MISSING),
        ({"ForAnyValue:StringEquals": {"aws:TagKeys": "a"}}, Access.GRANTED),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": "a"}}, Access.MISSING),
        ({"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}}, Access.GRANTED),
        ({"ForAnyValue:StringNotEquals": {"aws:TagKeys": "a"}}, Access.GRANTED),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": "c"}}, Access.GRANTED),
        ({"ForAllValues:StringNotEquals": {"aws:TagKeys": "a"}}, Access.MISSING),
    ]:
        assert evaluate_request(doc(service_stmt(condition)), request).access is expected, condition


# ---------------------------------------------------------------------------------------------
# Invalid policies
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"Effect": "allow", "Principal": SERVICE, "Action": PULL}, "Effect 'allow'"),
        ({"Principal": SERVICE, "Action": PULL}, "Effect None"),
        ({"Effect": "Allow", "Action": PULL}, "Principal and NotPrincipal"),
        (
            {"Effect": "Deny", "Principal": "*", "NotPrincipal": SERVICE, "Action": PULL},
            "exactly one",
        ),
        ({"Effect": "Allow", "Principal": SERVICE}, "Action and NotAction"),
        (
            {"Effect": "Allow", "Principal": SERVICE, "Action": PULL, "NotAction": PULL},
            "exactly one",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Resource": "*",
                "NotResource": "*",
            },
            "both Resource and NotResource",
        ),
        ({"Effect": "Allow", "Principal": SERVICE, "Action": "BatchGetImage"}, "service:action"),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Condition": {"StringEqualz": {}},
            },
            "unknown condition operator",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Condition": {"NullIfExists": {}},
            },
            "unknown condition operator",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Condition": {"ForSome:StringEquals": {}},
            },
            "unknown condition operator",
        ),
        (
            {"Effect": "Allow", "Principal": SERVICE, "Action": PULL, "Condition": "x"},
            "not an object",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Condition": {"StringEquals": "x"},
            },
            "not an object",
        ),
        (
            {
                "Effect": "Allow",
                "Principal": SERVICE,
                "Action": PULL,
                "Condition": {"StringEquals": {"k": {"a": 1}}},
            },
            "not a string",
        ),
        ({"Effect": "Allow", "Principal": "lambda", "Action": PULL}, "neither"),
        ({"Effect": "Allow", "Principal": {"Aws": "*"}, "Action": PULL}, "unknown principal type"),
        ("not a statement", "not an object"),
    ],
)
def test_invalid_policies_are_reported_and_grant_nothing(statement: Any, problem: str) -> None:
    policy = doc(statement)
    problems = policy_problems(policy)
    assert problems and problem in problems[0]
    result = evaluate_pull(
        policy, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    )
    assert result.service.access is Access.INVALID
    assert result.root.access is Access.INVALID
    assert problem in result.service.detail
    assert not result.ok


def test_invalid_documents() -> None:
    assert policy_problems(None) == []
    assert "no Statement" in policy_problems({"Version": "2012-10-17"})[0]
    assert "Version" in policy_problems({"Version": "2020-01-01", "Statement": []})[0]
    assert "not a JSON object" in policy_problems(["x"])[0]  # type: ignore[arg-type]
    assert policy_problems(doc(service_stmt(), version="2008-10-17")) == []
    assert policy_problems({"Statement": service_stmt()}) == []  # one statement, not a list


def test_no_policy_grants_nothing() -> None:
    result = evaluate_pull(
        None, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    )
    assert result.service.access is Access.MISSING
    assert result.root.access is Access.MISSING


def test_glob_match_is_iam_string_like() -> None:
    assert glob_match("a*c", "abbbc")
    assert glob_match("a?c", "abc")
    assert not glob_match("a?c", "ac")
    assert not glob_match("A*", "abc")
    assert glob_match("A*", "abc", ignore_case=True)
    assert glob_match("a.c", "a.c") and not glob_match("a.c", "abc")


def test_unconditioned_service_statements_are_named() -> None:
    from ecr_lambda_access.policy import unconditioned_service_statements

    policy = doc(
        service_stmt(Sid="Bare"),
        service_stmt({"StringEquals": {"aws:SourceAccount": FUNC}}, Sid="Account"),
        service_stmt({"ArnLike": {"AWS:SOURCEARN": FN_ARN}}, Sid="Arn"),
        service_stmt({"StringEquals": {"aws:SourceOrgID": ORG}}, Sid="Org"),
        service_stmt({"StringEquals": {"aws:PrincipalOrgID": ORG}}, Sid="NotASourceKey"),
        {"Effect": "Deny", "Principal": SERVICE, "Action": "ecr:*"},
        root_stmt(Sid="Root"),
        service_stmt(),
    )
    assert unconditioned_service_statements(policy) == ["Bare", "NotASourceKey", "#7"]
    assert unconditioned_service_statements(None) == []


# ---------------------------------------------------------------------------------------------
# Pinned exactly: each side's context, each detail text, and the corners of each operator
# ---------------------------------------------------------------------------------------------


def test_each_sides_request_context_exactly() -> None:
    from ecr_lambda_access.policy.evaluate import Request

    assert lambda_pull_request(function_arn=FN_ARN, function_account=FUNC) == Request(
        side="service",
        account=FUNC,
        partition="aws",
        service="lambda.amazonaws.com",
        keys={
            "aws:sourcearn": FN_ARN,
            "aws:sourceaccount": FUNC,
            "aws:principalisawsservice": "true",
            "aws:principalservicename": "lambda.amazonaws.com",
            "aws:sourceorgid": MAYBE_PRESENT,
            "aws:sourceorgpaths": MAYBE_PRESENT,
            "aws:principaltype": UNKNOWN_VALUE,
            "aws:userid": UNKNOWN_VALUE,
        },
        absent=frozenset(
            {
                "aws:principalaccount",
                "aws:principalarn",
                "aws:principalorgid",
                "aws:principalorgpaths",
                "aws:principaltag/",
                "aws:username",
                "aws:sourceidentity",
                "aws:federatedprovider",
                "aws:tokenissuetime",
                "aws:multifactorauthpresent",
                "aws:multifactorauthage",
                "aws:requesttag/",
                "aws:tagkeys",
            }
        ),
    )
    assert deployer_request(function_account=FUNC) == Request(
        side="deployer",
        account=FUNC,
        partition="aws",
        service=None,
        keys={
            "aws:principalaccount": FUNC,
            "aws:principalarn": UNKNOWN_VALUE,
            "aws:principalisawsservice": "false",
            "aws:principalorgid": MAYBE_PRESENT,
            "aws:principalorgpaths": MAYBE_PRESENT,
            "aws:principaltype": UNKNOWN_VALUE,
            "aws:userid": UNKNOWN_VALUE,
        },
        absent=frozenset(
            {
                "aws:sourcearn",
                "aws:sourceaccount",
                "aws:sourceorgid",
                "aws:sourceorgpaths",
                "aws:sourceowner",
                "aws:principalservicename",
            }
        ),
    )
    assert deployer_request(function_account=FUNC, partition="aws-cn").partition == "aws-cn"
    pull = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC, partition="aws-cn")
    assert pull.partition == "aws-cn"


def test_detail_texts_exactly() -> None:
    def pull(policy: dict[str, Any], account: str = FUNC, org: str | None = None) -> Any:
        return evaluate_pull(
            policy,
            function_arn=FN_ARN.replace(FUNC, account),
            function_account=account,
            repository_account=REPO,
            partition="aws",
            organization_id=org,
        )

    pair = doc(root_stmt(), service_stmt())
    granted = pull(pair)
    assert granted.root.detail == (
        f"account {FUNC} may pull (ecr:BatchGetImage and ecr:GetDownloadUrlForLayer)"
    )
    assert granted.service.detail == f"lambda.amazonaws.com may pull for {FN_ARN}"
    assert granted.ok and granted.root.ok and granted.service.ok
    denied = pull(
        doc(root_stmt(), service_stmt(), {"Effect": "Deny", "Principal": "*", "Action": "*"})
    )
    assert denied.root.detail == (
        f"a Deny statement blocks account {FUNC}: remove it or exclude the account"
    )
    assert denied.service.detail == f"a Deny statement blocks lambda.amazonaws.com for {FN_ARN}"
    assert not denied.ok
    org = {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    unknown = pull(
        doc(root_stmt(Condition=org), service_stmt({"StringEquals": {"aws:SourceOrgID": ORG}}))
    )
    assert unknown.root.detail == (
        f"whether account {FUNC} may pull cannot be checked here (statement #0: StringEquals on "
        "aws:PrincipalOrgID: the deployer's request may or may not carry aws:PrincipalOrgID): "
        "make sure the account meets the policy"
    )
    assert unknown.service.detail == (
        f"whether lambda.amazonaws.com may pull for {FN_ARN} cannot be checked here (statement "
        "#1: StringEquals on aws:SourceOrgID: the service's request may or may not carry "
        "aws:SourceOrgID)"
    )
    missing = pull(doc())
    assert missing.root.detail == (
        f"the repository policy does not allow arn:aws:iam::{FUNC}:root to ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer: add the account to the repository policy "
        "(CrossAccountImageRepo consumers=[...])"
    )
    assert missing.service.detail == (
        f"no statement allows lambda.amazonaws.com to pull with an aws:SourceArn matching "
        f"{FN_ARN}: add it to the statement's StringLike aws:SourceArn list"
    )
    own = pull(doc(service_stmt()), account=REPO)
    assert own.root == Grant(Access.NOT_NEEDED, "the function is in the repository's account")
    invalid = pull(doc({"Effect": "allow", "Principal": "*", "Action": "*"}))
    assert (
        invalid.root.detail
        == invalid.service.detail
        == (
            "the repository policy is invalid: statement #0 has Effect 'allow': IAM accepts "
            'exactly "Allow" or "Deny"'
        )
    )


def test_null_on_a_key_present_with_an_unknown_value() -> None:
    assert root(doc(root_stmt(Condition={"Null": {"aws:PrincipalArn": "false"}}))) is Access.GRANTED
    assert root(doc(root_stmt(Condition={"Null": {"aws:PrincipalArn": "true"}}))) is Access.MISSING


def test_token_condition_values_are_unknown() -> None:
    condition = {"StringEquals": {"aws:SourceAccount": ["${Token[AWS.AccountId.1]}"]}}
    assert service(doc(service_stmt(condition))) is Access.UNKNOWN
    # without policy variables (2008-10-17) the token is not mistaken for one either
    assert service(doc(service_stmt(condition), version="2008-10-17")) is Access.UNKNOWN


def test_json_booleans_and_numbers_in_conditions() -> None:
    assert service(doc(service_stmt({"StringEquals": {"aws:PrincipalIsAWSService": True}}))) is (
        Access.GRANTED
    )
    assert service(doc(service_stmt({"StringEquals": {"aws:PrincipalIsAWSService": False}}))) is (
        Access.MISSING
    )
    age = custom(aws_multifactorauthage=FUNC)
    assert answer({"NumericEquals": {"aws:MultiFactorAuthAge": int(FUNC)}}, age) is Access.GRANTED
    assert service(doc(service_stmt({"Bool": {"aws:PrincipalIsAWSService": False}}))) is (
        Access.MISSING
    )


def custom(**keys: Any) -> Any:
    from ecr_lambda_access.policy.evaluate import Request

    return Request(
        side="service",
        account=FUNC,
        partition="aws",
        service="lambda.amazonaws.com",
        keys={k.replace("_", ":", 1).lower(): v for k, v in keys.items()},
        absent=frozenset({"aws:username"}),
    )


def answer(condition: dict[str, Any], request: Any) -> Access:
    return evaluate_request(doc(service_stmt(condition)), request).access


def test_variable_values_are_literal_and_the_rest_stays_a_pattern() -> None:
    request = custom(aws_userid="a*", aws_sourceaccount=FUNC, aws_sourcearn="x-a*-y")
    # the request's "a*" is literal text, not a wildcard
    assert answer({"StringLike": {"aws:SourceArn": "x-${aws:userid}-y"}}, request) is Access.GRANTED
    assert answer({"StringLike": {"aws:SourceArn": "*-${aws:userid}-?"}}, request) is Access.GRANTED
    other = custom(aws_userid="a*", aws_sourcearn="x-abc-y")
    assert answer({"StringLike": {"aws:SourceArn": "x-${aws:userid}-y"}}, other) is Access.MISSING
    default = custom(aws_sourcearn="x-a*-y")
    assert answer({"StringLike": {"aws:SourceArn": "x-${aws:username, 'a*'}-y"}}, default) is (
        Access.GRANTED
    )
    assert answer({"StringLike": {"aws:SourceArn": "x-${aws:username, 'abc'}-y"}}, default) is (
        Access.MISSING
    )


def test_special_variables_and_several_variables_in_one_value() -> None:
    request = custom(aws_sourcearn="*?$-" + FUNC, aws_sourceaccount=FUNC)
    value = "${*}${?}${$}-${aws:SourceAccount}"
    assert answer({"StringEquals": {"aws:SourceArn": value}}, request) is Access.GRANTED
    assert answer({"StringLike": {"aws:SourceArn": value}}, request) is Access.GRANTED
    wildcard = custom(aws_sourcearn="abc-" + FUNC, aws_sourceaccount=FUNC)
    assert answer({"StringLike": {"aws:SourceArn": value}}, wildcard) is Access.MISSING


def test_for_any_value_negated_needs_one_value_that_matches_none() -> None:
    request = custom(aws_tagkeys=("a", "b"))
    condition = {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["a", "b"]}}
    assert answer(condition, request) is Access.MISSING
    assert answer({"ForAllValues:StringNotEquals": {"aws:TagKeys": ["c"]}}, request) is (
        Access.GRANTED
    )


def test_binary_and_ip_corners() -> None:
    request = custom(x_blob="YQ==", aws_sourceip="10.9.9.9", x_text="not*b64")
    assert answer({"BinaryEquals": {"x:blob": "YQ=="}}, request) is Access.GRANTED
    assert answer({"BinaryEquals": {"x:blob": "YQ==!"}}, request) is Access.MISSING
    assert answer({"BinaryEquals": {"x:text": "not*b64"}}, request) is Access.GRANTED
    assert answer({"BinaryEquals": {"x:text": "other"}}, request) is Access.MISSING
    # a network written with host bits set still names the network
    assert answer({"IpAddress": {"aws:SourceIp": "10.1.2.3/8"}}, request) is Access.GRANTED
    assert answer({"IpAddress": {"aws:SourceIp": "not an address"}}, request) is Access.MISSING


def test_dates_with_zone_and_without() -> None:
    request = custom(aws_currenttime="2026-01-02T00:00:00Z")
    assert answer({"DateEquals": {"aws:CurrentTime": "2026-01-02T00:00:00"}}, request) is (
        Access.GRANTED
    )
    assert answer({"DateEquals": {"aws:CurrentTime": "2026-01-02T01:00:00+01:00"}}, request) is (
        Access.GRANTED
    )
    assert answer({"DateLessThan": {"aws:CurrentTime": "2026-01-02T00:00:01Z"}}, request) is (
        Access.GRANTED
    )


def test_not_action_is_case_insensitive() -> None:
    statement = {"Effect": "Allow", "Principal": SERVICE, "NotAction": "ECR:BATCHGETIMAGE"}
    assert service(doc(statement)) is Access.MISSING


def test_actions_resource_and_partition_reach_both_sides() -> None:
    only_batch = doc(
        root_stmt(Action="ecr:BatchGetImage"), service_stmt(Action="ecr:BatchGetImage")
    )
    one = evaluate_pull(
        only_batch,
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
        actions=["ecr:BatchGetImage"],
    )
    assert (one.root.access, one.service.access) == (Access.GRANTED, Access.GRANTED)
    both = evaluate_pull(
        only_batch, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    )
    assert (both.root.access, both.service.access) == (Access.MISSING, Access.MISSING)
    own_deny = doc(
        {"Effect": "Deny", "Principal": "*", "Action": "ecr:GetDownloadUrlForLayer"},
        service_stmt(),
    )
    only = evaluate_pull(
        own_deny,
        function_arn=FN_ARN,
        function_account=REPO,
        repository_account=REPO,
        actions=["ecr:BatchGetImage"],
    )
    assert only.root.access is Access.NOT_NEEDED
    # the repository ARN is matched on both sides, the deployer's Deny included
    elsewhere = "arn:aws:ecr:us-east-1:111111111111:repository/other"
    scoped = doc(root_stmt(Resource=elsewhere), service_stmt(Resource=elsewhere))
    assert root(scoped) is Access.MISSING and service(scoped) is Access.MISSING
    deny_here = doc(
        service_stmt(), {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": REPO_ARN}
    )
    assert root(deny_here, account=REPO) is Access.DENIED
    deny_there = doc(
        service_stmt(), {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": elsewhere}
    )
    assert root(deny_there, account=REPO) is Access.NOT_NEEDED
    # the partition of the principal ARN
    china = doc(root_stmt(Principal={"AWS": f"arn:aws-cn:iam::{FUNC}:root"}))
    cn = evaluate_pull(
        china,
        function_arn=FN_ARN.replace("arn:aws:", "arn:aws-cn:"),
        function_account=FUNC,
        repository_account=REPO,
        partition="aws-cn",
    )
    assert cn.root.access is Access.GRANTED
    assert cn.root.detail == (
        f"account {FUNC} may pull (ecr:BatchGetImage and ecr:GetDownloadUrlForLayer)"
    )
    missing_cn = evaluate_pull(
        doc(),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
        partition="aws-cn",
    )
    assert f"arn:aws-cn:iam::{FUNC}:root" in missing_cn.root.detail


def test_deciding_statement_names() -> None:
    request = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    split = doc(
        {"Effect": "Allow", "Principal": SERVICE, "Action": "s3:*"},
        service_stmt(Sid="Zulu", Action="ecr:GetDownloadUrlForLayer"),
        service_stmt(Sid="Alpha", Action="ecr:BatchGetImage"),
    )
    assert evaluate_request(split, request).statements == ("Alpha", "Zulu")
    denied = doc(
        service_stmt(),
        {"Sid": "Zed", "Effect": "Deny", "Principal": "*", "Action": "ecr:BatchGetImage"},
        {"Sid": "Alf", "Effect": "Deny", "Principal": "*", "Action": "ecr:*"},
    )
    assert evaluate_request(denied, request).statements == ("Zed", "Alf")
    maybe = doc(
        service_stmt(
            Sid="A", Action="ecr:BatchGetImage", Condition={"Null": {"aws:SourceOrgID": "false"}}
        ),
        service_stmt(
            Sid="B",
            Action="ecr:GetDownloadUrlForLayer",
            Condition={"Null": {"aws:SourceOrgID": "false"}},
        ),
    )
    assert evaluate_request(maybe, request).statements == ("A", "B")
    unnamed = doc({"Effect": "Allow", "Principal": "*", "Action": "s3:*"}, service_stmt())
    assert evaluate_request(unnamed, request).statements == ("#1",)
    assert evaluate_request(doc(service_stmt()), request, actions=[]).access is Access.GRANTED
    invalid = evaluate_request(doc({"Effect": "allow"}), request)
    assert (invalid.access, invalid.statements) == (Access.INVALID, ())


def test_principal_corners() -> None:
    # an AWS principal never names a service, whatever its text
    assert service(doc(service_stmt(Principal={"AWS": "lambda.amazonaws.com"}))) is Access.MISSING
    assert service(doc(service_stmt(Principal={"Service": "${Token[TOKEN.1]}"}))) is Access.UNKNOWN
    assert service(doc(service_stmt(Principal={"Federated": "${Token[TOKEN.1]}"}))) is (
        Access.UNKNOWN
    )
    assert root(doc(root_stmt(Principal={"Service": "${Token[TOKEN.1]}"}))) is Access.UNKNOWN
    canonical = doc(service_stmt(Principal={"CanonicalUser": "79a59df900b949e55d96a1e698fbace"}))
    assert policy_problems(canonical) == []
    assert service(canonical) is Access.MISSING


def test_resource_tokens_and_variables() -> None:
    assert service(doc(service_stmt(Resource="${Token[TOKEN.1]}"))) is Access.UNKNOWN
    token_repo = evaluate_pull(
        doc(service_stmt(Resource=REPO_ARN)),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
        repository_arn="arn:aws:ecr:us-east-1:111111111111:repository/${Token[TOKEN.1]}",
    )
    assert token_repo.service.access is Access.UNKNOWN
    request = custom(aws_userid="team")
    team = doc(service_stmt(Resource="arn:aws:ecr:*:*:repository/${aws:userid}/*"))
    # a variable (its name holds a colon) inside an ARN: where IAM cuts the ARN is not documented
    assert evaluate_request(team, request, resource=REPO_ARN).access is Access.UNKNOWN
    old = doc(
        service_stmt(Resource="arn:aws:ecr:*:*:repository/${aws:userid}/*"), version="2008-10-17"
    )
    assert evaluate_request(old, request, resource=REPO_ARN).access is Access.MISSING


def test_exact_invalid_policy_messages() -> None:
    cases = [
        (
            doc({"Effect": "Allow", "Action": PULL}),
            "statement #0 must have exactly one of Principal and NotPrincipal (a repository "
            "policy is a resource-based policy)",
        ),
        (
            doc({"Sid": "S", "Effect": "Allow", "Principal": "*"}),
            "statement S must have exactly one of Action and NotAction",
        ),
        (
            doc({"Effect": "Allow", "Principal": "*", "NotAction": "GetObject"}),
            "statement #0: NotAction 'GetObject' is not service:action",
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Resource": "*",
                    "NotResource": "*",
                }
            ),
            "statement #0 has both Resource and NotResource",
        ),
        (
            doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"Foo": {}}}),
            "statement #0: unknown condition operator 'Foo'",
        ),
        (
            doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": []}),
            "statement #0: Condition is not an object",
        ),
        (
            doc({"Effect": "Allow", "Principal": "*", "Action": "*", "Condition": {"Bool": 1}}),
            "statement #0: condition Bool is not an object",
        ),
        (
            doc(
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "*",
                    "Condition": {"Bool": {"k": [None]}},
                }
            ),
            "statement #0: condition value None is not a string",
        ),
        (
            doc({"Effect": "Allow", "Principal": 3, "Action": "*"}),
            'statement #0: Principal 3 is neither "*" nor an object',
        ),
        (
            doc({"Effect": "Allow", "Principal": {"User": "x"}, "Action": "*"}),
            "statement #0: unknown principal type 'User'",
        ),
        (doc("x"), "statement #0 is not an object"),
        (["x"], "the policy is not a JSON object"),
        ({}, "the policy has no Statement"),
        ({"Version": "1", "Statement": []}, "Version '1' is not 2012-10-17 or 2008-10-17"),
    ]
    for policy, message in cases:
        assert policy_problems(policy) == [message]  # type: ignore[arg-type]


def test_more_operator_corners() -> None:
    # a default is literal text too
    default = custom(aws_sourcearn="x-abc-y")
    assert answer({"StringLike": {"aws:SourceArn": "x-${aws:username, 'a*'}-y"}}, default) is (
        Access.MISSING
    )
    # not an ARN, though it starts like one: as a request value and as a pattern
    partial = custom(aws_sourcearn="arn:aws:lambda")
    assert answer({"ArnLike": {"aws:SourceArn": "arn:*:*:*:*:*"}}, partial) is Access.MISSING
    assert answer({"ArnLike": {"aws:SourceArn": "arn:aws"}}, custom(aws_sourcearn=FN_ARN)) is (
        Access.UNKNOWN
    )
    # strict and non-strict comparisons
    number = custom(aws_multifactorauthage=FUNC)
    age = "aws:MultiFactorAuthAge"
    assert answer({"NumericLessThan": {age: FUNC}}, number) is Access.MISSING
    assert answer({"NumericLessThanEquals": {age: "300000000000"}}, number) is Access.GRANTED
    assert answer({"NumericGreaterThan": {age: "100000000000"}}, number) is Access.GRANTED
    assert answer({"NumericGreaterThanEquals": {age: "300000000000"}}, number) is Access.MISSING
    # binary: the request's value must be valid base64 too
    binary = custom(x_blob="YQ==!")
    assert answer({"BinaryEquals": {"x:blob": "YQ=="}}, binary) is Access.MISSING
    # ForAnyValue needs one request value matching a policy value
    tags = custom(aws_tagkeys=("a", "b"))
    assert answer({"ForAnyValue:StringEquals": {"aws:TagKeys": ["a", "b"]}}, tags) is (
        Access.GRANTED
    )
    assert answer({"ForAnyValue:StringEquals": {"aws:TagKeys": ["c"]}}, tags) is Access.MISSING
    # JSON false is the text "false"
    assert root(
        doc(root_stmt(Condition={"StringEquals": {"aws:PrincipalIsAWSService": False}}))
    ) is (Access.GRANTED)


def test_same_account_deny_detail_and_names() -> None:
    own = evaluate_pull(
        doc(service_stmt(), {"Sid": "Guard", "Effect": "Deny", "Principal": "*", "Action": "*"}),
        function_arn=FN_ARN.replace(FUNC, REPO),
        function_account=REPO,
        repository_account=REPO,
    )
    assert own.root == Grant(
        Access.DENIED,
        f"a Deny statement blocks account {REPO}: remove it or exclude the account",
        ("Guard",),
    )
    cross = evaluate_pull(
        doc(root_stmt(Sid="Root"), service_stmt(Sid="Service")),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    )
    assert cross.root.statements == ("Root",)
    assert cross.service.statements == ("Service",)


def test_granted_names_are_sorted_and_deny_names_keep_their_order() -> None:
    request = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    two = doc(service_stmt(Sid="Zulu"), service_stmt(Sid="Alpha"))
    assert evaluate_request(two, request).statements == ("Alpha", "Zulu")
    deny = {"Effect": "Deny", "Principal": "*", "Action": "*"}
    both = doc(service_stmt(), {**deny, "Sid": "Zed"}, {**deny, "Sid": "Alf"})
    assert evaluate_request(both, request).statements == ("Zed", "Alf")


def test_token_in_a_resource_pattern_is_unknown_without_variables() -> None:
    pattern = "arn:aws:ecr:us-east-1:111111111111:repository/${Token[TOKEN.1]}"
    for version in ("2012-10-17", "2008-10-17"):
        assert service(doc(service_stmt(Resource=pattern), version=version)) is Access.UNKNOWN


# ---------------------------------------------------------------------------------------------
# Issue 16: the evaluator's last corners
# ---------------------------------------------------------------------------------------------

ECR_ARN = f"arn:aws:ecr:{REGION}:{REPO}"


@pytest.mark.parametrize(
    ("pattern", "where"),
    [
        (f"{ECR_ARN}:*/team/app", "resource type"),
        (f"{ECR_ARN}:repositor?/team/app", "resource type"),
        (f"{ECR_ARN}:repo*", "resource type"),
        (f"{ECR_ARN}:*:team/app", "resource type"),
        (f"arn:aws:ec*:{REGION}:{REPO}:repository/team/app", "service"),
        (f"arn:aws:*:{REGION}:{REPO}:repository/team/app", "service"),
    ],
)
def test_a_wildcard_in_the_resource_type_or_service_is_neither_a_match_nor_a_miss(
    pattern: str, where: str
) -> None:
    allow = doc(root_stmt(Resource=pattern), service_stmt(Resource=pattern))
    assert (root(allow), service(allow)) == (Access.UNKNOWN, Access.UNKNOWN)
    deny = doc(
        root_stmt(),
        service_stmt(),
        {"Sid": "Guard", "Effect": "Deny", "Principal": "*", "Action": "*", "Resource": pattern},
    )
    assert (root(deny), service(deny)) == (Access.UNKNOWN, Access.UNKNOWN)
    not_resource = doc(service_stmt(NotResource=pattern))
    assert service(not_resource) is Access.UNKNOWN
    detail = evaluate_pull(
        deny,
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
        repository_arn=REPO_ARN,
    ).service.detail
    assert (
        f"statement Guard: Resource {pattern} has a wildcard in the {where}, where AWS's ARN "
        "reference does not allow one"
    ) in detail


def test_wildcards_where_the_arn_reference_allows_them_still_match() -> None:
    for pattern in (
        f"{ECR_ARN}:*",
        f"{ECR_ARN}:repository/*",
        f"{ECR_ARN}:repository/team/*",
        "arn:aws:ecr:*:*:repository/team/ap?",
        f"arn:*:ecr:us-*:{REPO[:3]}*:repository/*app",
    ):
        assert service(doc(service_stmt(Resource=pattern))) is Access.GRANTED, pattern
    for pattern in (
        f"{ECR_ARN}:repository/other*",
        f"arn:aws:eXr:{REGION}:{REPO}:repository/team/app",  # no wildcard: a plain miss
        f"{ECR_ARN}:Xrepository/team/app",
    ):
        assert service(doc(service_stmt(Resource=pattern))) is Access.MISSING, pattern


@pytest.mark.parametrize(
    ("effect", "operator", "key", "value"),
    [
        ("Allow", "Bool", "aws:SourceAccount", FUNC),
        ("Allow", "BoolIfExists", "aws:SourceAccount", FUNC),
        ("Allow", "NumericEquals", "aws:SourceAccount", FUNC),
        ("Allow", "ForAnyValue:NumericEquals", "aws:SourceAccount", FUNC),
        ("Allow", "NotIpAddress", "aws:SourceAccount", "10.0.0.0/8"),
        ("Allow", "BinaryEquals", "aws:SourceAccount", FUNC),
        ("Allow", "DateNotEquals", "aws:SourceArn", "2020-01-01T00:00:00Z"),
        ("Allow", "NumericNotEquals", "aws:SourceArn", "1"),
        ("Allow", "NotIpAddress", "aws:PrincipalArn", "10.0.0.0/8"),
        ("Allow", "DateNotEqualsIfExists", "aws:PrincipalOrgID", "2020-01-01"),
        ("Deny", "DateNotEquals", "aws:SourceArn", "2020-01-01T00:00:00Z"),
        ("Deny", "IpAddress", "aws:PrincipalArn", "10.0.0.0/8"),
        ("Deny", "NumericNotEquals", "aws:SourceArn", "1"),
        ("Deny", "Bool", "aws:SourceAccount", FUNC),
    ],
)
def test_bool_date_numeric_ip_operators_on_string_or_arn_keys_are_unknown(
    effect: str, operator: str, key: str, value: str
) -> None:
    condition = {operator: {key: value}}
    if effect == "Allow":
        policy = doc(root_stmt(Condition=condition), service_stmt(condition))
    else:
        guard = {"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": condition}
        policy = doc(root_stmt(), service_stmt(), guard)
    result = evaluate_pull(
        policy,
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
        organization_id=ORG,
    )
    assert (result.root.access, result.service.access) == (Access.UNKNOWN, Access.UNKNOWN)
    for grant in (result.root, result.service):
        assert f"{operator} on {key}: the IAM docs define " in grant.detail
        assert f"operators for {key}, not " in grant.detail


def test_typed_operators_on_keys_of_their_type_are_still_decided() -> None:
    request = custom(
        aws_sourceip="10.1.2.3", aws_epochtime="1767312000", aws_securetransport="true"
    )
    assert answer({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, request) is Access.GRANTED
    assert answer({"NumericEquals": {"aws:EpochTime": "1767312000"}}, request) is Access.GRANTED
    assert answer({"DateEquals": {"aws:EpochTime": "1767312000"}}, request) is Access.GRANTED
    assert answer({"Bool": {"aws:SecureTransport": "true"}}, request) is Access.GRANTED
    assert answer({"NumericEquals": {"aws:SecureTransport": "1"}}, request) is Access.UNKNOWN
    assert answer({"DateEquals": {"aws:SourceIp": "1"}}, request) is Access.UNKNOWN
    # tag keys are strings; string and ARN operators keep their meaning on every key
    tags = custom(aws_principaltag__team="a")
    assert answer({"NumericEquals": {"aws:PrincipalTag/team": "1"}}, tags) is Access.UNKNOWN
    for condition, reason in [
        (
            {"NumericEquals": {"aws:PrincipalTag/team": "1"}},
            "NumericEquals on aws:PrincipalTag/team: the IAM docs define string operators for "
            "aws:PrincipalTag/team, not numeric",
        ),
        (
            {"Bool": {"aws:EpochTime": "true"}},
            "Bool on aws:EpochTime: the IAM docs define date or numeric operators for "
            "aws:EpochTime, not bool",
        ),
    ]:
        decision = evaluate_request(doc(service_stmt(condition)), tags)
        assert decision.problem == f"statement #0: {reason}"
    assert service(doc(service_stmt({"StringEquals": {"aws:PrincipalIsAWSService": "true"}}))) is (
        Access.GRANTED
    )


@pytest.mark.parametrize(
    "variable",
    [
        "${aws:PrincipalAccount,'" + FUNC + "'}",
        "${aws:PrincipalAccount ,'" + FUNC + "'}",
        "${aws:PrincipalAccount,  '" + FUNC + "'}",
        "${ aws:PrincipalAccount, '" + FUNC + "' }",
        "${aws:PrincipalAccount, " + FUNC + "}",
        '${aws:PrincipalAccount, "' + FUNC + '"}',
        "${ aws:SourceAccount }",
    ],
)
def test_a_variable_default_without_the_documented_comma_and_space_is_not_taken(
    variable: str,
) -> None:
    policy = doc(service_stmt({"StringEquals": {"aws:SourceAccount": variable}}))
    assert service(policy) is Access.UNKNOWN
    detail = evaluate_pull(
        policy, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    ).service.detail
    assert "StringEquals on aws:SourceAccount" in detail


def test_the_documented_default_is_taken() -> None:
    default = "${aws:PrincipalAccount, '" + FUNC + "'}"
    assert service(doc(service_stmt({"StringEquals": {"aws:SourceAccount": default}}))) is (
        Access.GRANTED
    )
    assert service(
        doc(service_stmt({"StringEquals": {"aws:SourceAccount": "${aws:sourceaccount}"}}))
    ) is (Access.GRANTED)


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        (
            service_stmt(Condtion={"StringEquals": {"aws:SourceAccount": OTHER}}),
            "statement #0 has the element 'Condtion', which the IAM policy grammar does not know",
        ),
        (
            {**service_stmt(), "condition": {"StringEquals": {"aws:SourceAccount": OTHER}}},
            "element 'condition'",
        ),
        (service_stmt(Resources=f"{ECR_ARN}:repository/other"), "element 'Resources'"),
        (service_stmt(Id="x"), "element 'Id'"),
        (service_stmt(Notes="x"), "element 'Notes'"),
    ],
)
def test_an_element_outside_the_grammar_makes_the_policy_invalid(
    statement: dict[str, Any], problem: str
) -> None:
    policy = doc(statement)
    assert problem in policy_problems(policy)[0]
    result = evaluate_pull(
        policy, function_arn=FN_ARN, function_account=FUNC, repository_account=REPO
    )
    assert (result.root.access, result.service.access) == (Access.INVALID, Access.INVALID)
    assert problem in result.service.detail


def test_an_unknown_top_level_element_makes_the_policy_invalid() -> None:
    for element in ("Versoin", "Statements", "Sid", "Condition"):
        policy = {**doc(service_stmt()), element: "x"}
        assert policy_problems(policy) == [
            f"the policy has the element {element!r}, which the IAM policy grammar does not know "
            "(a policy holds only Version, Id, Statement)"
        ]
    assert policy_problems({**doc(service_stmt()), "Id": "my-policy"}) == []


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:PrincipalType": "Service"}}, Access.UNKNOWN),
        ({"StringNotEqualsIfExists": {"aws:PrincipalType": "AssumedRole"}}, Access.UNKNOWN),
        ({"StringLike": {"aws:userid": "*"}}, Access.UNKNOWN),
        ({"StringNotLike": {"aws:userid": "AROA*"}}, Access.UNKNOWN),
        ({"Null": {"aws:userid": "false"}}, Access.GRANTED),  # present in every request
        ({"Null": {"aws:PrincipalType": "true"}}, Access.MISSING),
    ],
)
def test_principal_type_and_userid_are_present_with_values_not_known(
    condition: dict[str, Any], expected: Access
) -> None:
    assert service(doc(service_stmt(condition))) is expected
    assert root(doc(root_stmt(Condition=condition))) is expected
    guard = {"Effect": "Deny", "Principal": "*", "Action": "*", "Condition": condition}
    denied = Access.DENIED if expected is Access.GRANTED else Access.UNKNOWN
    if expected is Access.MISSING:
        denied = Access.GRANTED  # the guard never applies
    assert service(doc(service_stmt(), guard)) is denied


def test_the_request_contexts_carry_principal_type_and_userid() -> None:
    for request in (
        lambda_pull_request(function_arn=FN_ARN, function_account=FUNC),
        deployer_request(function_account=FUNC),
    ):
        assert request.value("aws:PrincipalType") is UNKNOWN_VALUE
        assert request.value("aws:userid") is UNKNOWN_VALUE
    service_side = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    assert service_side.value("aws:username") is None  # IAM users only
    assert service_side.value("aws:PrincipalArn") is None


def test_an_undecidable_statement_names_its_key_and_operator() -> None:
    guard = {
        "Sid": "OfficeOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
    }
    result = evaluate_pull(
        doc(root_stmt(), service_stmt(), guard),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    )
    assert result.service.detail == (
        f"whether lambda.amazonaws.com may pull for {FN_ARN} cannot be checked here (statement "
        "OfficeOnly: NotIpAddress on aws:SourceIp: the service's request may or may not carry "
        "aws:SourceIp)"
    )
    assert "statement OfficeOnly: NotIpAddress on aws:SourceIp: the deployer's request" in (
        result.root.detail
    )
    assert "PrincipalOrgID" not in result.root.detail


def test_each_kind_of_undecidable_statement_is_explained() -> None:
    def reason(policy: dict[str, Any], **kwargs: Any) -> str:
        request = kwargs.pop("request", deployer_request(function_account=FUNC))
        decision = evaluate_request(policy, request, **kwargs)
        assert decision.access is Access.UNKNOWN
        return decision.problem

    role = {"AWS": f"arn:aws:iam::{FUNC}:role/deployer"}
    assert reason(doc(root_stmt(Principal=role))) == (
        "statement #0: whether its Principal names the deployer cannot be told here (a principal "
        "not resolved at synth time, or a role or user of the account)"
    )
    assert "whether its NotPrincipal names the deployer" in reason(
        doc(root_stmt(), {"Effect": "Deny", "NotPrincipal": {"AWS": FUNC}, "Action": "*"})
    )
    assert reason(doc(root_stmt(Resource=f"{ECR_ARN}:repository/*"))) == (
        "statement #0: Resource is matched against the repository's ARN, which is not known here"
    )
    assert reason(
        doc(root_stmt(NotResource="arn:aws:ecr:*:${aws:PrincipalAccount}:repository/x")),
        resource=REPO_ARN,
    ) == (
        "statement #0: NotResource holds a value not resolved at synth time, or a policy "
        "variable in an ARN"
    )
    token = {"StringEquals": {"aws:PrincipalAccount": "${Token[AWS.AccountId.1]}"}}
    assert reason(doc(root_stmt(Condition=token))) == (
        "statement #0: StringEquals on aws:PrincipalAccount: its value is not resolved at synth "
        "time"
    )
    arn = {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}}
    assert reason(doc(root_stmt(Condition=arn))) == (
        "statement #0: StringLike on aws:PrincipalArn: the deployer's request carries "
        "aws:PrincipalArn with a value not known here"
    )
    variable = {"StringEquals": {"aws:PrincipalAccount": "${aws:PrincipalOrgID}"}}
    assert reason(doc(root_stmt(Condition=variable))) == (
        "statement #0: StringEquals on aws:PrincipalAccount: a policy variable or pattern in its "
        "value that cannot be read here"
    )
    not_principal = {"Sid": "Odd", "Effect": "Allow", "NotPrincipal": {"AWS": OTHER}, "Action": "*"}
    assert (
        reason(
            doc(not_principal),
            request=lambda_pull_request(function_arn=FN_ARN, function_account=FUNC),
        )
        == "statement Odd: Allow with NotPrincipal, which AWS does not support in a resource policy"
    )


def test_the_example_in_docs_evaluator_md_is_what_the_evaluator_says() -> None:
    import json
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "docs" / "evaluator.md").read_text()
    (guard,) = re.findall(r"```json\n(.*?)```", text, flags=re.DOTALL)
    (said,) = re.findall(r"```text\n(.*?)```", text, flags=re.DOTALL)
    result = evaluate_pull(
        doc(root_stmt(), service_stmt(), json.loads(guard)),
        function_arn=FN_ARN,
        function_account=FUNC,
        repository_account=REPO,
    )
    assert result.service.detail == " ".join(said.split())


# ---------------------------------------------------------------------------------------------
# What the audit says about these policies (a hand-written cloud assembly, no jsii)
# ---------------------------------------------------------------------------------------------


def _audit(tmp_path: Any, statements: list[dict[str, Any]]) -> tuple[str, str]:
    import json

    from ecr_lambda_access.audit import audit_assembly

    registry = {
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": "team/app",
                    "RepositoryPolicyText": {"Version": "2012-10-17", "Statement": statements},
                },
            }
        }
    }
    image = f"{REPO}.dkr.ecr.{REGION}.amazonaws.com/team/app@sha256:{'a' * 64}"
    consumer = {
        "Resources": {
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Code": {"ImageUri": image},
                    "PackageType": "Image",
                    "FunctionName": "orders-api",
                },
            }
        }
    }
    artifacts = {}
    for name, account, template in (("Registry", REPO, registry), ("Consumer", FUNC, consumer)):
        (tmp_path / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": f"aws://{account}/{REGION}",
            "properties": {"templateFile": f"{name}.template.json"},
        }
    (tmp_path / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    (function,) = audit_assembly(tmp_path).functions
    return function.status, function.detail


def test_the_audit_calls_a_misspelt_condition_an_invalid_policy(tmp_path: Any) -> None:
    condition = {"StringLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{OTHER}:function:*"}}
    status, detail = _audit(tmp_path, [root_stmt(), service_stmt(Condtion=condition)])
    assert status == "invalid-policy"
    assert "'Condtion'" in detail
    status, _ = _audit(tmp_path, [root_stmt(), service_stmt(Condition=condition)])
    assert status == "missing-service-grant"


def test_the_audit_detail_names_the_undecidable_key(tmp_path: Any) -> None:
    guard = {
        "Sid": "OfficeOnly",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
    }
    status, detail = _audit(tmp_path, [root_stmt(), service_stmt(), guard])
    assert status == "unverifiable"
    assert "statement OfficeOnly: NotIpAddress on aws:SourceIp" in detail
    assert "aws:PrincipalOrgID" not in detail
    typed = service_stmt({"Bool": {"aws:SourceAccount": FUNC}})
    status, detail = _audit(tmp_path, [root_stmt(), typed])
    assert status == "unverifiable"
    assert "Bool on aws:SourceAccount: the IAM docs define string operators" in detail


def test_the_reason_is_the_undecidable_part_of_the_statement() -> None:
    statement = service_stmt(
        {
            "StringEquals": {"aws:SourceAccount": FUNC},
            "NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"},
        },
        Resource=REPO_ARN,
    )
    request = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    decision = evaluate_request(doc(statement), request, resource=REPO_ARN)
    assert decision.problem == (
        "statement #0: NotIpAddress on aws:SourceIp: the service's request may or may not carry "
        "aws:SourceIp"
    )


def test_reasons_are_joined_and_only_for_unknown_answers() -> None:
    request = lambda_pull_request(function_arn=FN_ARN, function_account=FUNC)
    two = doc(
        service_stmt({"StringEquals": {"aws:SourceOrgID": ORG}}, Sid="Org"),
        service_stmt({"StringEquals": {"aws:userid": "x"}}, Sid="User"),
    )
    assert evaluate_request(two, request).problem == (
        "statement Org: StringEquals on aws:SourceOrgID: the service's request may or may not "
        "carry aws:SourceOrgID; statement User: StringEquals on aws:userid: the service's "
        "request carries aws:userid with a value not known here"
    )
    for policy in (doc(service_stmt()), doc(), doc(service_stmt(Effect="Deny"))):
        decision = evaluate_request(policy, request)
        assert decision.access is not Access.UNKNOWN
        assert decision.problem == ""


def test_same_account_unknown_deny_names_its_key() -> None:
    guard = {
        "Sid": "Guard",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "*",
        "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
    }
    own = evaluate_pull(
        doc(service_stmt(), guard),
        function_arn=FN_ARN.replace(FUNC, REPO),
        function_account=REPO,
        repository_account=REPO,
    )
    assert own.root == Grant(
        Access.UNKNOWN,
        f"whether account {REPO} may pull cannot be checked here (statement Guard: "
        "StringNotEquals on aws:PrincipalOrgID: the deployer's request may or may not carry "
        "aws:PrincipalOrgID): make sure the account meets the policy",
        ("Guard", "identity"),
    )


def test_the_unknown_element_messages_exactly() -> None:
    assert policy_problems(doc(service_stmt(Notes="x"))) == [
        "statement #0 has the element 'Notes', which the IAM policy grammar does not know (a "
        "statement holds only Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, "
        "NotResource, Condition)"
    ]
