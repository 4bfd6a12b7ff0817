"""Exact-value tests of the audit's pure modules, written against `make mutation` (issue 16).

The registry layer (image URIs, replication, creation templates), the checks and the assembly
model are read by every verdict of the audit: these tests pin each documented answer exactly (the
registry named, the fix, the statement written, the verdict) so that a change of one branch or
one literal fails a test. Pure Python: no jsii, no assembly on disk.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from test_audit_registry import DOCS, creation_template, pair, replicated_fleet, source_stack
from test_audit_registry import registry_policy as registry_policy_resource
from test_audit_unit import env, function, write_assembly
from test_audit_unit import repository as repository_resource

from ecr_lambda_access.audit import audit_assembly, checks, model
from ecr_lambda_access.audit.checks import (
    any_account,
    invalid_repository_policy,
    latest_tag,
    policy_too_large,
    unconditioned_service_principal,
)
from ecr_lambda_access.audit.checks.base import RepositoryFacts, Rule, docs_uri
from ecr_lambda_access.audit.load import StackTemplate, load_assembly
from ecr_lambda_access.audit.model import (
    ParsedPolicy,
    PolicyState,
    Unknown,
    build_model,
    parse_policy,
)
from ecr_lambda_access.errors import ReplicationLimitError
from ecr_lambda_access.policy.size import partition_of_region
from ecr_lambda_access.registry import image_ref
from ecr_lambda_access.registry.image_ref import ImageRef, UnsupportedImage, read_image
from ecr_lambda_access.registry.replication import (
    Destination,
    Replication,
    ReplicationRule,
    check_replication_limits,
    over_matches,
    parse_replication_configuration,
    registry_policy,
    registry_policy_allows,
    registry_policy_statements,
    replication_rules,
    rules_replicating,
)
from ecr_lambda_access.registry.templates import (
    REPLICATION,
    CreationTemplate,
    prefix_covers,
    templates_confirmed,
    templates_supported,
)

SOURCE, DEST = "111111111111", "222222222222"
TOKEN = "${Token[TOKEN.12]}"
ARN = f"arn:aws:ecr:us-west-2:{DEST}:repository/prod/orders"
COPY = image_ref._COPY
INVALID_ECR_FIX = "write the URI as ACCOUNT.dkr.ecr.REGION.amazonaws.com/NAME:TAG (or @sha256:...)"

# --------------------------------------------------------------------------------------------
# Image URIs
# --------------------------------------------------------------------------------------------

FOREIGN = {
    # Docker Hub: no registry host (the first part has no '.' or ':' and is not localhost)
    "python:3.12": ("Docker Hub", COPY),
    "owner/app:v1": ("Docker Hub", COPY),
    "docker.io/library/python:3.12": ("Docker Hub", COPY),
    "index.docker.io/library/python:3.12": ("Docker Hub", COPY),
    "registry-1.docker.io/library/python:3.12": ("Docker Hub", COPY),
    "public.ecr.aws/lambda/python:3.12": ("Amazon ECR Public (public.ecr.aws)", COPY),
    "PUBLIC.ECR.AWS/lambda/python:3.12": ("Amazon ECR Public (public.ecr.aws)", COPY),
    "ghcr.io/owner/app:v1": ("GitHub Container Registry (ghcr.io)", COPY),
    # a host with a port, and localhost, are registry hosts
    "localhost:5000/app:v1": ("the registry localhost:5000, not private Amazon ECR", COPY),
    "localhost/app:v1": ("the registry localhost, not private Amazon ECR", COPY),
    "registry.example.com/app:v1": (
        "the registry registry.example.com, not private Amazon ECR",
        COPY,
    ),
    # a placeholder after the host does not make the registry unknown
    "registry.example.com/\u27e61\u27e7/app:v1": (
        "the registry registry.example.com, not private Amazon ECR",
        COPY,
    ),
    # looks like private ECR but is not a valid URI of it
    "12345.dkr.ecr.us-east-1.amazonaws.com/app:v1": (
        "a registry host that is not a valid private ECR URI "
        "(12345.dkr.ecr.us-east-1.amazonaws.com)",
        INVALID_ECR_FIX,
    ),
    "12345.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1": (
        "a registry host that is not a valid private ECR URI "
        "(12345.dkr.ecr.cn-north-1.amazonaws.com.cn)",
        INVALID_ECR_FIX,
    ),
    # an amazonaws.com host without dkr.ecr, or dkr.ecr elsewhere, is just another registry
    "example.amazonaws.com/app:v1": (
        "the registry example.amazonaws.com, not private Amazon ECR",
        COPY,
    ),
    "x.dkr.ecr.example.com/app:v1": (
        "the registry x.dkr.ecr.example.com, not private Amazon ECR",
        COPY,
    ),
}


@pytest.mark.parametrize("uri", sorted(FOREIGN))
def test_a_foreign_uri_names_its_registry_and_the_fix_exactly(uri: str) -> None:
    registry, fix = FOREIGN[uri]
    assert read_image(uri) == UnsupportedImage(uri, registry, fix)


@pytest.mark.parametrize("uri", ["", "app :v1", "\u27e61\u27e7.example.com/app:v1"])
def test_an_empty_spaced_or_unknown_host_uri_is_not_judged(uri: str) -> None:
    assert read_image(uri) is None


def test_the_parts_of_a_china_and_a_fips_uri() -> None:
    china = ImageRef.parse(f"{DEST}.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1")
    assert china is not None
    assert (china.endpoint, china.url_suffix, china.partition) == (
        "dkr.ecr",
        "amazonaws.com.cn",
        "aws-cn",
    )
    assert china.repository_arn == f"arn:aws-cn:ecr:cn-north-1:{DEST}:repository/app"
    uri = f"{DEST}.dkr.ecr-fips.us-west-2.amazonaws.com/app:v1"
    fips = ImageRef.parse(uri)
    assert fips is not None and fips.url_suffix == "amazonaws.com"
    assert read_image(uri) == UnsupportedImage(
        uri,
        f"the ECR FIPS endpoint {DEST}.dkr.ecr-fips.us-west-2",
        f"use the standard endpoint: {DEST}.dkr.ecr.us-west-2.amazonaws.com/app:v1",
    )


# --------------------------------------------------------------------------------------------
# Creation templates
# --------------------------------------------------------------------------------------------


def test_a_prefix_with_a_trailing_slash_is_the_same_namespace() -> None:
    assert prefix_covers("prod/", "prod/orders") and prefix_covers("prod/", "prod")
    assert not prefix_covers("prod/", "prod-orders")
    assert not prefix_covers("/", "prod")
    # only slashes are stripped: a prefix keeps its other last characters
    assert prefix_covers("teamX", "teamX/app") and not prefix_covers("teamX", "team/app")


@pytest.mark.parametrize(
    ("region", "confirmed"),
    [
        ("us-east-1", True),
        ("cn-north-1", False),
        ("cn-northwest-1", False),
        ("us-gov-west-1", False),
    ],
)
def test_templates_are_not_confirmed_in_china_or_govcloud(region: str, confirmed: bool) -> None:
    assert templates_confirmed(region) is confirmed
    assert templates_supported(region) is confirmed  # the earlier name


# --------------------------------------------------------------------------------------------
# Registry policy: writing
# --------------------------------------------------------------------------------------------


def test_the_registry_policy_statements_exactly() -> None:
    statements = registry_policy_statements(
        {"000000000000": [], SOURCE: ["b", "a", "a"], "333333333333": ["c"]},
        account=DEST,
        region="us-west-2",
    )
    assert statements == [
        {
            "Sid": f"ReplicationFrom{SOURCE}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{SOURCE}:root"},
            "Action": "ecr:ReplicateImage",
            "Resource": [
                f"arn:aws:ecr:us-west-2:{DEST}:repository/a",
                f"arn:aws:ecr:us-west-2:{DEST}:repository/b",
            ],
        },
        {
            "Sid": "ReplicationFrom333333333333",
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
            "Action": "ecr:ReplicateImage",
            "Resource": f"arn:aws:ecr:us-west-2:{DEST}:repository/c",
        },
    ]


def test_an_unresolved_source_gets_the_plain_sid_and_the_partition_is_used() -> None:
    (statement,) = registry_policy_statements(
        {TOKEN: ["app"]}, account=DEST, region="cn-north-1", partition="aws-cn"
    )
    assert statement["Sid"] == "ReplicationFrom"
    assert statement["Principal"] == {"AWS": f"arn:aws-cn:iam::{TOKEN}:root"}
    assert statement["Resource"] == f"arn:aws-cn:ecr:cn-north-1:{DEST}:repository/app"


def test_the_registry_policy_document_keeps_extra_statements_first() -> None:
    extra = {"Sid": "Theirs", "Effect": "Allow", "Principal": "*", "Action": "ecr:X"}
    document = registry_policy(
        {SOURCE: ["app"]},
        account=DEST,
        region="cn-north-1",
        partition="aws-cn",
        extra_statements=[extra],
    )
    assert document == {
        "Version": "2012-10-17",
        "Statement": [
            extra,
            {
                "Sid": f"ReplicationFrom{SOURCE}",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws-cn:iam::{SOURCE}:root"},
                "Action": "ecr:ReplicateImage",
                "Resource": f"arn:aws-cn:ecr:cn-north-1:{DEST}:repository/app",
            },
        ],
    }
    assert registry_policy({}, account=DEST, region="us-west-2") is None


# --------------------------------------------------------------------------------------------
# Registry policy: reading
# --------------------------------------------------------------------------------------------


def allow(**fields: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{SOURCE}:root"},
        "Action": "ecr:ReplicateImage",
        "Resource": ARN,
    }
    statement.update(fields)
    return {k: v for k, v in statement.items() if v is not None}


def allows(*statements: dict[str, Any], partition: str = "aws") -> Replication:
    return registry_policy_allows(
        {"Statement": list(statements)},
        source_account=SOURCE,
        repository_arn=ARN,
        partition=partition,
    )


READINGS = {
    "outright": ([allow()], Replication.YES),
    "any principal": ([allow(Principal="*")], Replication.YES),
    "any AWS principal": ([allow(Principal={"AWS": "*"})], Replication.YES),
    "the action in another case": ([allow(Action="ECR:replicateimage")], Replication.YES),
    "a principal that is a plain string is no grant": ([allow(Principal=SOURCE)], Replication.NO),
    "an unknown effect is skipped, not the end": (
        [{"Effect": "Maybe"}, allow()],
        Replication.YES,
    ),
    "another action is skipped, not the end": (
        [allow(Action="ecr:BatchGetImage"), allow()],
        Replication.YES,
    ),
    "another resource is skipped, not the end": (
        [allow(Resource="arn:aws:ecr:us-west-2:222222222222:repository/x"), allow()],
        Replication.YES,
    ),
    "another principal is skipped, not the end": (
        [allow(Principal={"AWS": "arn:aws:iam::999999999999:root"}), allow()],
        Replication.YES,
    ),
    "NotAction Allow is undecided": ([allow(Action=None, NotAction="ecr:X")], Replication.UNKNOWN),
    "NotResource Allow is undecided": (
        [allow(Resource=None, NotResource="arn:aws:ecr:*:*:repository/x")],
        Replication.UNKNOWN,
    ),
    "a NotResource Deny makes an Allow undecided": (
        [allow(Effect="Deny", Resource=None, NotResource="arn:x"), allow()],
        Replication.UNKNOWN,
    ),
    "a NotAction Allow does not stop a later Deny": (
        [allow(Action=None, NotAction="ecr:X"), allow(Effect="Deny")],
        Replication.DENIED,
    ),
    "an unresolved principal is undecided": (
        [allow(Principal={"AWS": TOKEN})],
        Replication.UNKNOWN,
    ),
    "an unresolved resource is undecided": ([allow(Resource=TOKEN)], Replication.UNKNOWN),
    "a condition is undecided": (
        [allow(Condition={"StringEquals": {"aws:SourceAccount": SOURCE}})],
        Replication.UNKNOWN,
    ),
    "an outright Deny": ([allow(), allow(Effect="Deny")], Replication.DENIED),
    "nothing": ([], Replication.NO),
}


@pytest.mark.parametrize("case", sorted(READINGS))
def test_registry_policy_allows_reads_each_statement_shape(case: str) -> None:
    statements, expected = READINGS[case]
    assert allows(*statements) is expected


def test_registry_policy_allows_uses_the_partition_of_the_root() -> None:
    statement = allow(
        Principal={"AWS": f"arn:aws-cn:iam::{SOURCE}:root"},
        Resource="arn:aws-cn:ecr:*",
    )
    assert (
        registry_policy_allows(
            {"Statement": [statement]},
            source_account=SOURCE,
            repository_arn="arn:aws-cn:ecr:cn-north-1:222222222222:repository/a",
            partition="aws-cn",
        )
        is Replication.YES
    )


# --------------------------------------------------------------------------------------------
# Replication: ECR's limits, reading a configuration
# --------------------------------------------------------------------------------------------


def destinations(count: int, account: str = DEST) -> tuple[Destination, ...]:
    return tuple(
        Destination(f"{n:012d}" if account == "many" else account, f"r-{n}") for n in range(count)
    )


def test_each_limit_at_its_value_is_accepted() -> None:
    rules = [
        ReplicationRule(destinations(25, "many"), tuple(f"p{n}" for n in range(100))),
        *[ReplicationRule((Destination(SOURCE, f"x-{n}"),), ("q",)) for n in range(9)],
    ]
    assert check_replication_limits(rules, source_account=SOURCE) == []


def test_each_limit_over_its_value_is_one_exact_message() -> None:
    cross = destinations(26, "many")
    rules = [
        ReplicationRule(cross, tuple(f"p{n}" for n in range(101))),
        ReplicationRule((), ("q",)),
        *[ReplicationRule((Destination(SOURCE, f"x-{n}"),), ("q",)) for n in range(9)],
    ]
    listed = ", ".join(str(d) for d in sorted(cross))
    assert [message for _, message in check_replication_limits(rules, source_account=SOURCE)] == [
        f"replication: the registry of account {SOURCE} would need 11 replication rules, over "
        "ECR's limit of 10 per registry: give repositories that replicate to the same "
        "destinations the same replicas (they then share one rule), or replicate fewer distinct "
        "sets of Regions and accounts",
        "replication: rule 0 has 101 repository filters, over ECR's limit of 100: split its "
        "repositories over several rules",
        "replication: rule 0 has 26 destinations, over ECR's limit of 25: split them over "
        "several rules",
        "replication: rule 1 has no destination: give it at least one Destination(account, region)",
        f"replication: the registry of account {SOURCE} would replicate to 26 cross-account "
        f"destinations ({listed}), over ECR's limit of 25: serve the remaining accounts from a "
        "replica in the source account (one replica per Region can list up to about 114 "
        "consumer accounts), or from a second source registry",
    ]
    assert all(
        kind is ReplicationLimitError
        for kind, _ in check_replication_limits(rules, source_account=SOURCE)
    )


def test_replication_rules_name_the_argument_in_their_error() -> None:
    repositories = {f"app{n}": [Destination(f"{n:012d}", "us-west-2")] for n in range(26)}
    with pytest.raises(ReplicationLimitError) as default:
        replication_rules(repositories, source_account=SOURCE)
    assert str(default.value).count("replication: ") >= 2
    with pytest.raises(ReplicationLimitError) as named:
        replication_rules(repositories, source_account=SOURCE, argument="add_replica(fleet)")
    assert "add_replica(fleet): the registry of account" in str(named.value)
    assert "replication: " not in str(named.value)


def test_an_over_match_of_a_name_that_is_no_filter_names_every_destination() -> None:
    rule = ReplicationRule((Destination(DEST, "us-west-2"),), ("shared/orders",))
    assert over_matches([rule], ["shared/orders", "shared/orders-legacy"]) == [
        ("shared/orders", "shared/orders-legacy", (Destination(DEST, "us-west-2"),))
    ]


def configuration(filters: list[Any], destination: Any = None) -> dict[str, Any]:
    return {
        "Rules": [
            {
                "Destinations": [destination or {"RegistryId": DEST, "Region": "us-west-2"}],
                "RepositoryFilters": filters,
            }
        ]
    }


def test_a_filter_without_a_type_is_a_prefix_match_and_another_type_is_unreadable() -> None:
    assert parse_replication_configuration(configuration([{"Filter": "prod"}])) == [
        ReplicationRule((Destination(DEST, "us-west-2"),), ("prod",))
    ]
    assert (
        parse_replication_configuration(
            configuration([{"Filter": "prod", "FilterType": "SUFFIX_MATCH"}])
        )
        is None
    )
    assert (
        parse_replication_configuration(
            configuration([{"Filter": "prod"}], {"RegistryId": DEST, "Region": 5})
        )
        is None
    )
    assert (
        parse_replication_configuration(
            configuration([{"Filter": "prod"}], {"RegistryId": 5, "Region": "us-west-2"})
        )
        is None
    )


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (Destination(TOKEN, "us-west-2"), Replication.UNKNOWN),
        (Destination(DEST, TOKEN), Replication.UNKNOWN),
        (Destination(DEST, "eu-west-1"), Replication.NO),
    ],
)
def test_a_rule_to_an_unresolved_registry_may_replicate(
    destination: Destination, expected: Replication
) -> None:
    rules = [ReplicationRule((destination,), ("prod",))]
    assert rules_replicating(rules, "prod/app", Destination(DEST, "us-west-2")) is expected


# --------------------------------------------------------------------------------------------
# The checks: rules, failing sets, each repository finding's exact message
# --------------------------------------------------------------------------------------------


def test_the_failing_status_sets_are_the_documented_ones() -> None:
    failing = {
        "denied",
        "invalid-policy",
        "missing-root-grant",
        "missing-service-grant",
        "no-policy",
        "not-replicated",
        "region-mismatch",
        "unsupported-image",
    }
    assert checks.failing_statuses() == failing
    assert checks.strict_failing_statuses() == failing | {"external", "unverifiable"}


def test_every_rule_links_its_guide_section() -> None:
    guide = "https://github.com/ecr-lambda-access/ecr-lambda-access/blob/main/docs/audit.md"
    assert checks.help_uri("any-account") == guide + "#the-pipeline-check"
    assert docs_uri("audit.md", "x") == guide + "#x"
    assert docs_uri("registry.md") == guide.replace("audit.md", "registry.md")
    assert Rule("x", "finding", "t", "h", checks.ERROR).help_uri == guide + "#the-pipeline-check"
    assert Rule("x", "finding", "t", "h", checks.ERROR, help_uri="u").help_uri == "u"


def facts(**fields: Any) -> RepositoryFacts:
    values: dict[str, Any] = {
        "path": "Stack/Repo",
        "size": 100,
        "limit": 10240,
        "problems": (),
        "unconditioned": (),
        "admits_every_account": lambda: False,
    }
    values.update(fields)
    return RepositoryFacts(**values)


def test_a_clean_repository_has_no_finding() -> None:
    assert [check.check(facts()) for check in checks.REPOSITORY_CHECKS] == [None] * 4
    assert policy_too_large.check(facts(size=10240)) is None


def test_the_repository_findings_exactly() -> None:
    assert policy_too_large.check(facts(size=12345)) == (
        "repository Stack/Repo: the repository policy is 12,345 characters, over ECR's limit of "
        "10,240: SetRepositoryPolicy will reject it at deploy. Admit whole accounts (function:*) "
        "instead of many function names, split consumers across repositories, or admit an AWS "
        "Organization"
    )
    assert invalid_repository_policy.check(facts(problems=("first", "second"))) == (
        "repository Stack/Repo: the repository policy is invalid (first): ECR's "
        "SetRepositoryPolicy rejects it at deploy, and no function can pull"
    )
    assert any_account.check(facts(admits_every_account=lambda: True)) == (
        "repository Stack/Repo: the repository policy lets every AWS account pull its images "
        '(a Principal "*" or {"AWS": "*"} statement with no condition that limits it): admit the '
        "consumer accounts by id, or limit the statement with aws:PrincipalOrgID"
    )
    # an invalid policy is reported as invalid, not as admitting every account
    assert any_account.check(facts(problems=("x",), admits_every_account=lambda: True)) is None
    assert unconditioned_service_principal.check(facts(unconditioned=("A", "B"))) == (
        "repository Stack/Repo: statement(s) A, B allow a service principal with no "
        "aws:SourceArn/aws:SourceAccount condition, so the service may pull on behalf of any "
        "account (confused deputy): limit lambda.amazonaws.com with aws:SourceArn "
        "arn:PARTITION:lambda:REGION:ACCOUNT:function:* (DockerImageCode.from_ecr on an owned "
        "repository writes such a statement)"
    )


def test_the_latest_tag_finding_exactly() -> None:
    assert latest_tag.check("Stack/Fn", "v1") is None
    assert latest_tag.check("Stack/Fn", None) is None
    assert latest_tag.check("Stack/Fn", "latest") == (
        "function Stack/Fn runs the 'latest' tag: Lambda resolves a tag to a digest once, at "
        "create/update, so pushing 'latest' again changes nothing until the next code update. "
        "Deploy by digest (sha256:...) or by an immutable tag"
    )


# --------------------------------------------------------------------------------------------
# The execution-role check, on a hand-written assembly
# --------------------------------------------------------------------------------------------


def doc(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ROLE = {
    "Type": "AWS::IAM::Role",
    "Properties": {
        "AssumeRolePolicyDocument": doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
        "Policies": [
            {
                "PolicyName": "Inline",
                "PolicyDocument": doc(
                    {
                        "Effect": "Allow",
                        "Action": [
                            "ecr:BatchGetImage",
                            "logs:CreateLogGroup",
                            "ECR:GetAuthorizationToken",
                            "ecr:BatchGetImage",
                        ],
                        "Resource": "*",
                    },
                    {"Effect": "Deny", "Action": "ecr:DeleteRepository", "Resource": "*"},
                    "not a statement",
                    {"Effect": "allow", "Action": "ecr:DescribeImages", "Resource": "*"},
                ),
            },
            {
                "PolicyName": "Logs",
                "PolicyDocument": doc({"Effect": "Allow", "Action": "logs:*", "Resource": "*"}),
            },
            "not a policy",
            {"PolicyName": "Text", "PolicyDocument": "not a document"},
        ],
        "ManagedPolicyArns": [
            {"Ref": "Managed"},
            {"Ref": "NotAPolicy"},
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            {
                "Fn::Join": [
                    "",
                    [
                        "arn:",
                        {"Ref": "AWS::Partition"},
                        ":iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
                    ],
                ]
            },
            "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerRegistryPowerUser",
            "AmazonEC2ContainerRegistryFullAccess",
            {"Ref": "Missing"},
        ],
    },
}
ROLE_STACK = {
    "Role": ROLE,
    "Managed": {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "PolicyDocument": doc(
                {"Effect": "Allow", "Action": "ecr:GetDownloadUrlForLayer", "Resource": "*"}
            )
        },
    },
    # a resource with a policy document that is no managed policy: not read as one
    "NotAPolicy": {
        "Type": "AWS::SQS::QueuePolicy",
        "Properties": {"PolicyDocument": doc({"Effect": "Allow", "Action": "ecr:X"})},
    },
    "Attached": {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "a",
            "Roles": [{"Ref": "Role"}, "external-role"],
            "PolicyDocument": doc(
                {"Effect": "Allow", "Action": "ecr:BatchCheckLayerAvailability", "Resource": "*"}
            ),
        },
    },
    "RolePol": {
        "Type": "AWS::IAM::RolePolicy",
        "Properties": {
            "PolicyName": "b",
            "RoleName": {"Ref": "Role"},
            "PolicyDocument": doc(
                {"Effect": "Allow", "Action": ["ecr:ListImages"], "Resource": "*"}
            ),
        },
    },
    "ManagedByRoles": {
        "Type": "AWS::IAM::ManagedPolicy",
        "Properties": {
            "Roles": [{"Ref": "Role"}],
            "PolicyDocument": doc({"Effect": "Allow", "Action": "ecr:DescribeRepositories"}),
        },
    },
    # a user is no execution role, whatever its policies
    "User": {
        "Type": "AWS::IAM::User",
        "Properties": {
            "Policies": [
                {"PolicyName": "U", "PolicyDocument": doc({"Effect": "Allow", "Action": "ecr:*"})}
            ]
        },
    },
    "Fn5": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn5",
        role={"Fn::GetAtt": ["User", "Arn"]},
    ),
    "Fn6": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn6",
        role={"Fn::GetAtt": ["Missing", "Arn"]},
    ),
    "Fn": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn",
        role={"Fn::GetAtt": ["Role", "Arn"]},
    ),
    "Fn2": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn2",
        role={"Fn::GetAtt": "Role.Arn"},
    ),
    "Role2": {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Policies": [
                {
                    "PolicyName": "P",
                    "PolicyDocument": doc({"Effect": "Allow", "Action": "ecr:*", "Resource": "*"}),
                }
            ]
        },
    },
    "Fn3": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn3",
        role={"Fn::GetAtt": "Role2.Arn"},
    ),
    "Fn4": function(
        f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1",
        name="fn4",
        role={"Fn::GetAtt": ["NotAPolicy", "Arn"]},
    ),
}


def test_every_ecr_grant_of_an_execution_role_is_named_once_per_role(tmp_path: Path) -> None:
    out = write_assembly(tmp_path / "out", {"Stack": (env(DEST), {"Resources": ROLE_STACK})})
    findings = [f.to_json() for f in audit_assembly(out).findings]
    assert [(f["code"], f["severity"], f["resource"], f["logical_id"]) for f in findings] == [
        ("execution-role-ecr-actions", "warning", "Stack/Role", "Role"),
        ("execution-role-ecr-actions", "warning", "Stack/Role2", "Role2"),
    ]
    tail = (
        "the Lambda service pulls the image with the repository policy, not with the execution "
        "role; remove them unless the function's code calls ECR (repository.grant_pull(function) "
        "adds them)"
    )
    assert findings[0]["message"] == (
        "execution role Stack/Role of function Stack/Fn holds ECR permissions (inline policy "
        "Inline: ecr:BatchGetImage, ECR:GetAuthorizationToken, ecr:DescribeImages; managed policy "
        "Managed: ecr:GetDownloadUrlForLayer; AWS managed policy "
        "AmazonEC2ContainerRegistryReadOnly; AWS managed policy "
        "AmazonEC2ContainerRegistryPullOnly; AWS managed policy "
        "AmazonEC2ContainerRegistryPowerUser; AWS managed policy "
        "AmazonEC2ContainerRegistryFullAccess; policy Attached: ecr:BatchCheckLayerAvailability; "
        "policy RolePol: ecr:ListImages; policy ManagedByRoles: ecr:DescribeRepositories): " + tail
    )
    assert findings[1]["message"] == (
        "execution role Stack/Role2 of function Stack/Fn3 holds ECR permissions (inline policy "
        "P: ecr:*): " + tail
    )
    assert findings[0]["template"] == str(out / "Stack.template.json")
    assert [f["stack"] for f in findings] == ["Stack", "Stack"]


# --------------------------------------------------------------------------------------------
# The model: policies parsed once, registry resources, creation templates, functions
# --------------------------------------------------------------------------------------------


def test_parse_policy_states_and_reasons() -> None:
    assert parse_policy(None) == ParsedPolicy(PolicyState.ABSENT)
    assert parse_policy({"Version": "2012-10-17"}) == ParsedPolicy(
        PolicyState.VALID, document={"Version": "2012-10-17"}
    )
    assert parse_policy('{"Version": "2012-10-17"}').document == {"Version": "2012-10-17"}
    unknown = "{\u27e61\u27e7}"
    assert parse_policy(unknown, lambda text: "DESCRIBED") == ParsedPolicy(
        PolicyState.UNKNOWN,
        reason="the policy text is built from values known only at deploy time (DESCRIBED)",
    )
    assert parse_policy(unknown) == ParsedPolicy(
        PolicyState.UNKNOWN,
        reason=f"the policy text is built from values known only at deploy time ({unknown})",
    )
    assert parse_policy(unknown).unknown == Unknown(
        f"the policy text is built from values known only at deploy time ({unknown})"
    )
    assert parse_policy("{nope") == ParsedPolicy(
        PolicyState.INVALID,
        reason="the policy text is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)",
    )
    for value in ([1], "[1]", 5):
        assert parse_policy(value) == ParsedPolicy(
            PolicyState.INVALID, reason="the policy is neither an object nor JSON text"
        )


def test_placeholders_become_token_text_the_evaluator_treats_as_unknown() -> None:
    assert model._tokenize("plain") == "plain"
    assert model._tokenize(["a\u27e63\u27e7b", {"k": "\u27e612\u27e7"}, 5]) == [
        "a${Token[AUDIT.3]}b",
        {"k": "${Token[AUDIT.12]}"},
        5,
    ]


URI = f"{DEST}.dkr.ecr.us-east-1.amazonaws.com/app:v1"
MODEL_STACK = {
    "Parameters": {"Stage": {"Type": "String"}, "Account": {"Type": "String"}},
    "Conditions": {
        "Yes": {"Fn::Equals": ["a", "a"]},
        "No": {"Fn::Equals": ["a", "b"]},
        "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
        "IsBlue": {"Fn::Equals": [{"Ref": "Stage"}, "blue"]},
    },
    "Resources": {
        "Kept": {
            "Type": "AWS::ECR::Repository",
            "Condition": "Yes",
            "Properties": {"RepositoryName": "kept"},
            "Metadata": {
                "ecr-lambda-access": {"replicaOf": "arn:aws:ecr:us-west-2:1:repository/k"}
            },
        },
        "Dropped": {
            "Type": "AWS::ECR::Repository",
            "Condition": "No",
            "Properties": {"RepositoryName": "dropped"},
        },
        "Unknown": {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": "unknown",
                "RepositoryPolicyText": {"Fn::Join": ["", ['{"V": "', {"Ref": "Stage"}, '"}']]},
            },
        },
        "Replication": {
            "Type": "AWS::ECR::ReplicationConfiguration",
            "Condition": "Yes",
            "Properties": {
                "ReplicationConfiguration": {
                    "Rules": [
                        {
                            "Destinations": [
                                {"RegistryId": {"Ref": "Account"}, "Region": "us-west-2"}
                            ]
                        }
                    ]
                }
            },
        },
        "MaybePolicy": {
            "Type": "AWS::ECR::RegistryPolicy",
            "Condition": "IsProd",
            "Properties": {"PolicyText": {"Version": "2012-10-17", "Statement": []}},
        },
        "DroppedPolicy": {
            "Type": "AWS::ECR::RegistryPolicy",
            "Condition": "No",
            "Properties": {"PolicyText": {"Version": "2012-10-17", "Statement": []}},
        },
        "TextPolicy": {
            "Type": "AWS::ECR::RegistryPolicy",
            "Properties": {"PolicyText": '{"Version": "2012-10-17"}'},
        },
        "BadText": {"Type": "AWS::ECR::RegistryPolicy", "Properties": {"PolicyText": "{nope"}},
        "Template": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Condition": "Yes",
            "Properties": {
                "Prefix": "prod",
                "AppliedFor": ["REPLICATION", "OTHER"],
                "RepositoryPolicy": "{nope",
            },
        },
        "DroppedTemplate": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Condition": "No",
            "Properties": {"Prefix": "x", "AppliedFor": ["REPLICATION"]},
        },
        "NumberApplied": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": "n", "AppliedFor": ["REPLICATION", 5]},
        },
        "UnknownPrefix": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": {"Ref": "Stage"}, "AppliedFor": ["REPLICATION"]},
        },
        "UnknownApplied": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": "a", "AppliedFor": [{"Ref": "Stage"}]},
        },
        "AppliedNotList": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": "b", "AppliedFor": "REPLICATION"},
        },
        "PrefixNotString": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": 5, "AppliedFor": ["REPLICATION"]},
        },
        "UnknownPolicy": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {
                "Prefix": "c",
                "AppliedFor": ["REPLICATION"],
                "RepositoryPolicy": {"Fn::Join": ["", ["{", {"Ref": "Stage"}, "}"]]},
            },
        },
        "MaybeTemplate": {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Condition": "IsProd",
            "Properties": {"Prefix": "d", "AppliedFor": ["REPLICATION"]},
        },
        "Zip": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"Code": {"ZipFile": "x"}, "Handler": "h", "PackageType": "Zip"},
        },
        "NoType": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"ImageUri": URI}}},
        "CodeText": {
            "Type": "AWS::Lambda::Function",
            "Properties": {"PackageType": "Image", "Code": "text"},
        },
        "Branches": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "PackageType": "Image",
                "Code": {"ImageUri": {"Fn::If": ["IsProd", URI, URI.replace("v1", "dev")]}},
                "FunctionName": {"Fn::If": ["IsBlue", "blue-fn", "green-fn"]},
                "Role": {"Fn::GetAtt": "Role.Arn"},
            },
        },
        "Role": {"Type": "AWS::IAM::Role", "Properties": {}},
    },
}


def test_the_model_reads_each_resource_once_as_documented(tmp_path: Path) -> None:
    out = write_assembly(tmp_path / "out", {"Stack": (env(DEST), MODEL_STACK)})
    built = build_model(load_assembly(out))
    assert built.problems == ()
    kept, unknown = built.repositories
    assert (kept.logical_id, kept.name, kept.arn, kept.path) == (
        "Kept",
        "kept",
        f"arn:aws:ecr:us-east-1:{DEST}:repository/kept",
        "Stack/Kept",
    )
    assert kept.replica_of == "arn:aws:ecr:us-west-2:1:repository/k"
    assert kept.policy == ParsedPolicy(PolicyState.ABSENT)
    assert unknown.policy.reason == (
        "the policy text is built from values known only at deploy time "
        '({"V": "<parameter Stage of stack Stack>"})'
    )
    (configuration,) = built.replication_configurations
    assert configuration.where == "Stack/Replication (stack Stack)"
    ((destination,),) = [r["Destinations"] for r in configuration.value["Rules"]]
    assert destination["RegistryId"].startswith("${Token[AUDIT.")
    assert [(p.where, p.value) for p in built.registry_policies] == [
        ("Stack/MaybePolicy (stack Stack)", None),  # created under an unknown condition
        ("Stack/TextPolicy (stack Stack)", {"Version": "2012-10-17"}),
        ("Stack/BadText (stack Stack)", None),
    ]
    not_json = (
        "the policy text is not JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )
    templates = {t.where.split(" ")[0]: t for t in built.creation_templates}
    assert sorted(templates) == sorted(
        f"Stack/{n}"
        for n in (
            "Template",
            "NumberApplied",
            "UnknownPrefix",
            "UnknownApplied",
            "AppliedNotList",
            "PrefixNotString",
            "UnknownPolicy",
            "MaybeTemplate",
        )
    )
    assert templates["Stack/Template"] == CreationTemplate(
        account=DEST,
        region="us-east-1",
        prefix="prod",
        applied_for=("REPLICATION",),
        repository_policy=None,
        policy_problem=not_json,
        where="Stack/Template (stack Stack)",
        known=True,
    )
    assert templates["Stack/UnknownPolicy"].policy_problem == (
        "the policy text is built from values known only at deploy time "
        "({<parameter Stage of stack Stack>})"
    )
    assert templates["Stack/PrefixNotString"].prefix == ""
    assert templates["Stack/UnknownApplied"].applied_for == ()
    assert templates["Stack/AppliedNotList"].applied_for == ("REPLICATION",)
    assert {where: t.known for where, t in templates.items()} == {
        "Stack/Template": True,
        "Stack/NumberApplied": False,
        "Stack/UnknownPrefix": False,
        "Stack/UnknownApplied": False,
        "Stack/AppliedNotList": False,
        "Stack/PrefixNotString": False,
        "Stack/UnknownPolicy": False,
        "Stack/MaybeTemplate": False,
    }
    no_type, code_text, branches = built.functions
    assert (no_type.logical_id, no_type.image_uri, no_type.role_id) == ("NoType", URI, None)
    assert (code_text.logical_id, code_text.image_uri, code_text.image) == ("CodeText", None, None)
    assert branches.role_id == "Role"
    assert branches.open_conditions == ("IsBlue", "IsProd")
    assert [(s.assumptions, s.image_uri, s.function_name) for s in branches.scenarios] == [
        ((("IsBlue", True), ("IsProd", True)), URI, "blue-fn"),
        ((("IsBlue", True), ("IsProd", False)), URI.replace("v1", "dev"), "blue-fn"),
        ((("IsBlue", False), ("IsProd", True)), URI, "green-fn"),
        ((("IsBlue", False), ("IsProd", False)), URI.replace("v1", "dev"), "green-fn"),
    ]


# --------------------------------------------------------------------------------------------
# The replica checks: each verdict's exact detail
# --------------------------------------------------------------------------------------------

CREATED = (
    "repository prod/orders is in no template of the assembly, but the replication "
    "configuration Source/Replication (stack Source) sends it from 111111111111/us-east-1 to "
    "222222222222/us-west-2: ECR creates it there on the first replication"
)
AT_CREATION = (
    ", with the policy of creation template Destination/Template (stack Destination) (prefix "
    "prod), which applies only when ECR creates the repository: a later change of the template "
    "does not reach an existing repository"
)


def fleets() -> dict[str, dict[str, tuple[str, dict[str, Any]]]]:
    policy = DOCS["creation_template_repository_policy"]

    def with_template(template: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any]]]:
        return replicated_fleet({"Resources": {"Template": template}})

    prod_dash = with_template(creation_template("prod", [REPLICATION], policy))
    prod_dash["Destination"][1]["Resources"]["Registry"] = registry_policy_resource(
        DOCS["registry_policy_prod_dash"]
    )
    declared = replicated_fleet({})
    declared["Destination"][1]["Resources"]["Repo"] = repository_resource(
        "prod/orders", pair(DEST, "us-west-2")
    )
    del declared["Destination"][1]["Resources"]["Registry"]
    unknown_prefix = replicated_fleet(
        {
            "Parameters": {"P": {"Type": "String"}},
            "Resources": {
                "Template": {
                    "Type": "AWS::ECR::RepositoryCreationTemplate",
                    "Properties": {"Prefix": {"Ref": "P"}, "AppliedFor": [REPLICATION]},
                }
            },
        }
    )
    invalid = with_template(
        {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {"Prefix": "prod", "AppliedFor": [REPLICATION], "RepositoryPolicy": "{"},
        }
    )
    third_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::333333333333:root"},
                "Action": "ecr:ReplicateImage",
                "Resource": "*",
            }
        ],
    }
    source_arn = f"arn:aws:ecr:us-east-1:{SOURCE}:repository/prod/orders"
    add_replica = copy.deepcopy(declared)
    add_replica["Destination"][1]["Resources"]["Repo"]["Metadata"] = {
        "ecr-lambda-access": {"replicaOf": source_arn}
    }
    refused = copy.deepcopy(add_replica)
    refused["Destination"][1]["Resources"]["Registry"] = registry_policy_resource(third_only)
    # the destination's own configuration and a third registry's unreadable one come first
    others_first = replicated_fleet({})
    others_first["Destination"][1]["Resources"]["Own"] = {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {
            "ReplicationConfiguration": {
                "Rules": [{"Destinations": [{"RegistryId": DEST, "Region": "eu-west-1"}]}]
            }
        },
    }
    unreadable = {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {"ReplicationConfiguration": {"Rules": "not a list"}},
    }
    others_first = {
        "Third": (env("333333333333", "us-east-1"), {"Resources": {"Replication": unreadable}}),
        "Destination": others_first["Destination"],
        "Source": others_first["Source"],
    }
    return {
        "other configurations first": others_first,
        "add_replica without registry policy": add_replica,
        "add_replica refused by the registry policy": refused,
        "no template": replicated_fleet({}),
        "template policy": with_template(creation_template("prod", [REPLICATION], policy)),
        "template without policy": with_template(creation_template("prod", [REPLICATION], None)),
        "template with invalid policy": invalid,
        "template of unknown prefix": unknown_prefix,
        "registry policy of prod-": prod_dash,
        "declared replica": declared,
    }


REPLICA_VERDICTS = {
    # a replica add_replica declared fails when replication surely cannot fill it
    "add_replica without registry policy": (
        "not-replicated",
        "repository Destination/Repo is a replica: the registry 222222222222/us-west-2 has no "
        "registry policy in the assembly letting 111111111111 replicate into it "
        "(ecr:ReplicateImage): add_replica writes one in the replica's stack; restore it",
    ),
    "add_replica refused by the registry policy": (
        "not-replicated",
        "repository Destination/Repo is a replica: the registry policy Destination/Registry "
        "(stack Destination) does not allow arn:aws:iam::111111111111:root ecr:ReplicateImage on "
        "arn:aws:ecr:us-west-2:222222222222:repository/prod/orders: replication into this "
        "registry fails. Allow it (CrossAccountImageRepo.add_replica writes the statement)",
    ),
    "other configurations first": (
        "no-policy",
        CREATED + ", with no repository policy: no repository creation template of "
        "222222222222/us-west-2 with AppliedFor REPLICATION matches the name. Create the replica "
        "in a stack (CrossAccountImageRepo.add_replica) or add a creation template whose "
        "RepositoryPolicy admits the function",
    ),
    "no template": (
        "no-policy",
        CREATED + ", with no repository policy: no repository creation template of "
        "222222222222/us-west-2 with AppliedFor REPLICATION matches the name. Create the replica "
        "in a stack (CrossAccountImageRepo.add_replica) or add a creation template whose "
        "RepositoryPolicy admits the function",
    ),
    "template policy": (
        "ok",
        CREATED + AT_CREATION + ": the function is in the repository's account; "
        "lambda.amazonaws.com may pull for arn:aws:lambda:us-west-2:222222222222:function:fn "
        "(statement LambdaECRImageCrossAccountRetrievalPolicy)",
    ),
    "template without policy": (
        "no-policy",
        CREATED + ", with no repository policy: the creation template Destination/Template "
        "(stack Destination) that applies sets no RepositoryPolicy",
    ),
    "template with invalid policy": (
        "invalid-policy",
        CREATED + AT_CREATION + "; that policy is invalid: the policy text is not JSON: "
        "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
    ),
    "template of unknown prefix": (
        "unverifiable",
        CREATED + "; whether the creation template Destination/Template (stack Destination) "
        "applies (and with what policy) depends on values known only at deploy time "
        "(parameter P of stack Destination)",
    ),
    "registry policy of prod-": (
        "unverifiable",
        CREATED + AT_CREATION + ": the registry policy Destination/Registry (stack Destination) "
        "does not allow arn:aws:iam::111111111111:root ecr:ReplicateImage on "
        "arn:aws:ecr:us-west-2:222222222222:repository/prod/orders: replication into this "
        "registry fails. Allow it (CrossAccountImageRepo.add_replica writes the statement); "
        "unless its images are pushed to it directly",
    ),
    "declared replica": (
        "unverifiable",
        "repository Destination/Repo is a replica: the registry 222222222222/us-west-2 has no "
        "registry policy in the assembly letting 111111111111 replicate into it "
        "(ecr:ReplicateImage) (it may be set outside this app: check it there)",
    ),
}


@pytest.mark.parametrize("case", sorted(REPLICA_VERDICTS))
def test_each_replica_verdict_exactly(tmp_path: Path, case: str) -> None:
    (result,) = audit_assembly(write_assembly(tmp_path / "out", fleets()[case])).functions
    assert (result.status, result.detail) == REPLICA_VERDICTS[case]
    assert result.repository == f"arn:aws:ecr:us-west-2:{DEST}:repository/prod/orders"


UNREACHED = {
    "prod/orders": (
        "not-replicated",
        "repository Replica/Repo is a replica of Source/Repo (111111111111/us-east-1): the rules "
        "of Source/Replication (stack Source) that match prod/orders send it to "
        "222222222222/us-west-2, not to 222222222222/eu-west-1: images never arrive here. Add "
        "the destination 222222222222/eu-west-1 (CrossAccountImageRepo.add_replica does)",
    ),
    "dev/orders": (
        "unverifiable",
        "repository Replica/Repo has the name of Source/Repo (111111111111/us-east-1), whose "
        "registry replicates (Source/Replication (stack Source)) but no rule of which matches "
        "dev/orders: nothing replicates images to 222222222222/eu-west-1, so only direct pushes "
        "fill this repository",
    ),
}


@pytest.mark.parametrize("name", sorted(UNREACHED))
def test_a_region_or_name_no_rule_reaches_exactly(tmp_path: Path, name: str) -> None:
    uri = f"{DEST}.dkr.ecr.eu-west-1.amazonaws.com/{name}:v1"
    stacks = {
        "Source": (env(SOURCE, "us-east-1"), source_stack(name)),
        "Replica": (
            env(DEST, "eu-west-1"),
            {
                "Resources": {
                    "Repo": repository_resource(name, pair(DEST, "eu-west-1")),
                    "Fn": function(uri, name="fn"),
                }
            },
        ),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == UNREACHED[name]
    assert result.repository == f"arn:aws:ecr:eu-west-1:{DEST}:repository/{name}"


def image_function(role: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Lambda::Function",
        "Properties": {"PackageType": "Image", "Code": {"ImageUri": URI}, "Role": role},
    }


def test_the_role_of_a_function_is_read_from_its_getatt_only() -> None:
    roles = {
        "Nested": {"Fn::GetAtt": "Nested.Outputs.RoleArn"},
        "Odd": {"Fn::GetAtt": {"x": 1}},
        "Number": {"Fn::GetAtt": [5, "Arn"]},
        "Empty": {"Fn::GetAtt": []},
        "Text": "arn:aws:iam::222222222222:role/r",
    }
    resources: dict[str, Any] = {"Junk": "not a resource"}
    resources.update({k: image_function(v) for k, v in roles.items()})
    # load_assembly refuses a template with such a resource; audit_stacks takes StackTemplates
    stack = StackTemplate("S", "S", "S", DEST, "us-east-1", {"Resources": resources}, "S.json")
    built = build_model([stack])
    assert built.problems == ()
    assert {f.logical_id: f.role_id for f in built.functions} == {
        "Nested": "Nested",
        "Odd": None,
        "Number": None,
        "Empty": None,
        "Text": None,
    }
    assert [f.properties for f in built.functions] == [
        image_function(v)["Properties"] for v in roles.values()
    ]


def test_a_resource_that_cannot_be_read_is_a_problem_and_the_rest_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: Any, index: int, logical_id: str, *args: Any) -> None:
        if logical_id == "Broken":
            raise TypeError("boom")

    monkeypatch.setattr(model._Builder, "repository", broken)
    stack = {
        "Resources": {
            "Broken": {"Type": "AWS::ECR::Repository", "Properties": {}},
            "Fn": image_function({"Fn::GetAtt": ["Role", "Arn"]}),
        }
    }
    built = build_model(load_assembly(write_assembly(tmp_path / "out", {"S": (env(DEST), stack)})))
    assert built.problems == ((0, "Broken", "TypeError: boom"),)
    assert [f.logical_id for f in built.functions] == ["Fn"]


def test_the_model_describes_its_placeholders(tmp_path: Path) -> None:
    out = write_assembly(tmp_path / "out", {"Stack": (env(DEST), MODEL_STACK)})
    built = build_model(load_assembly(out))
    (template,) = [t for t in built.creation_templates if t.where.startswith("Stack/UnknownPrefix")]
    assert built.describe(f"prefix {template.prefix}") == "prefix <parameter Stage of stack Stack>"


def replicating_source(destinations: list[tuple[str, str]]) -> dict[str, Any]:
    rule = {
        "Destinations": [{"RegistryId": a, "Region": r} for a, r in destinations],
        "RepositoryFilters": [{"Filter": "prod", "FilterType": "PREFIX_MATCH"}],
    }
    return {
        "Resources": {
            "Repo": repository_resource("prod/orders", pair(DEST, "us-east-1")),
            "Replication": {
                "Type": "AWS::ECR::ReplicationConfiguration",
                "Properties": {"ReplicationConfiguration": {"Rules": [rule]}},
            },
        }
    }


@pytest.mark.parametrize(
    ("destinations", "sent_to"),
    [
        (
            [(DEST, "us-west-2"), (DEST, "ap-south-1")],
            "222222222222/ap-south-1, 222222222222/us-west-2",
        ),
        ([], "no destination"),
    ],
)
def test_an_unreached_replica_names_every_destination_of_the_matching_rules(
    tmp_path: Path, destinations: list[tuple[str, str]], sent_to: str
) -> None:
    replica = {
        "Resources": {
            "Repo": repository_resource("prod/orders", pair(DEST, "eu-west-1")),
            "Fn": function(f"{DEST}.dkr.ecr.eu-west-1.amazonaws.com/prod/orders:v1", name="fn"),
        }
    }
    # before the source, the model lists the replica itself, a repository of the same name in
    # an unknown environment, one in a registry without replication and one in a registry
    # whose replication cannot be read: none of them is the replica's source
    same_name = {"Repo": repository_resource("prod/orders", None)}
    unreadable = {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {"ReplicationConfiguration": {"Rules": "not a list"}},
    }
    stacks = {
        "Replica": (env(DEST, "eu-west-1"), replica),
        "Unknown": ("aws://unknown-account/unknown-region", {"Resources": same_name}),
        "Plain": (env("333333333333", "us-east-2"), {"Resources": same_name}),
        "Unreadable": (
            env("333333333333", "us-east-1"),
            {"Resources": {**same_name, "Replication": unreadable}},
        ),
        "Source": (env(SOURCE, "us-east-1"), replicating_source(destinations)),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "not-replicated",
        "repository Replica/Repo is a replica of Source/Repo (111111111111/us-east-1): the rules "
        f"of Source/Replication (stack Source) that match prod/orders send it to {sent_to}, not "
        "to 222222222222/eu-west-1: images never arrive here. Add the destination "
        "222222222222/eu-west-1 (CrossAccountImageRepo.add_replica does)",
    )


def _replicated_by_template(
    tmp_path: Path, source_region: str, region: str, template_policy: Any
) -> Any:
    """A source registry replicating prod/ into DEST/``region``, where a function runs
    prod/orders: a repository replication creates, under creation template ``prod`` (none when
    ``template_policy`` is None)."""
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"
    rule = {"Destinations": [{"RegistryId": DEST, "Region": region}]}
    source = {
        "Resources": {
            "Repo": repository_resource("prod/orders", None),
            "Replication": {
                "Type": "AWS::ECR::ReplicationConfiguration",
                "Properties": {"ReplicationConfiguration": {"Rules": [rule]}},
            },
        }
    }
    resources: dict[str, Any] = {
        "Registry": registry_policy_resource(
            _documented_policy_in(
                partition_of_region(region), region, "registry_policy_all_repositories"
            )
        ),
        "Fn": function(f"{DEST}.dkr.ecr.{region}.{suffix}/prod/orders:v1", name="fn"),
    }
    if template_policy is not None:
        resources["Template"] = creation_template("prod", [REPLICATION], template_policy)
    stacks = {
        "Source": (env(SOURCE, source_region), source),
        "Destination": (env(DEST, region), {"Resources": resources}),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    return result


def _documented_policy_in(
    partition: str, region: str, example: str = "creation_template_repository_policy"
) -> Any:
    """AWS's policy example, in ``partition`` and ``region`` (the documented one is us-west-2)."""
    text = json.dumps(DOCS[example])
    return json.loads(text.replace("arn:aws:", f"arn:{partition}:").replace("us-west-2", region))


def test_a_creation_template_that_admits_the_function_is_unverifiable_in_the_china_regions(
    tmp_path: Path,
) -> None:
    """AWS's documentation neither confirms nor excludes creation templates in the China (and
    GovCloud) Regions; CloudFormation offers the resource type there. A verdict that rests on
    the template applying is not ``ok`` there, and the detail says why (not that no template
    matched: one does)."""
    china = _replicated_by_template(
        tmp_path / "cn",
        "cn-north-1",
        "cn-northwest-1",
        _documented_policy_in("aws-cn", "cn-northwest-1"),
    )
    assert china.status == "unverifiable"
    assert china.repository == f"arn:aws-cn:ecr:cn-northwest-1:{DEST}:repository/prod/orders"
    assert (
        "creation template Destination/Template (stack Destination) (prefix prod)" in china.detail
    )
    assert (
        "AWS's documentation does not confirm that ECR applies creation templates in the China "
        "and AWS GovCloud (US) Regions; where it does not, the repository gets no policy at all"
    ) in china.detail
    assert china.detail.endswith(
        "but only if the template applies in cn-northwest-1: check the created repository's "
        "policy after the first replication (ecr-lambda-access audit --live), or create the "
        "replica in a stack (CrossAccountImageRepo.add_replica)"
    )
    assert "no repository creation template" not in china.detail
    gov = _replicated_by_template(
        tmp_path / "gov",
        "us-gov-east-1",
        "us-gov-west-1",
        _documented_policy_in("aws-us-gov", "us-gov-west-1"),
    )
    assert gov.status == "unverifiable" and "only if the template applies" in gov.detail
    # the control: the same template in a commercial Region is judged as ECR documents it
    commercial = _replicated_by_template(
        tmp_path / "aws", "us-east-1", "us-west-2", _documented_policy_in("aws", "us-west-2")
    )
    assert commercial.status == "ok", commercial.detail
    assert "does not confirm" not in commercial.detail


def test_in_the_china_regions_a_failure_stands_whether_or_not_templates_apply(
    tmp_path: Path,
) -> None:
    # no template of the assembly matches: no policy, and the detail says just that (true
    # whether or not ECR applies templates there)
    none = _replicated_by_template(tmp_path / "none", "cn-north-1", "cn-northwest-1", None)
    assert none.status == "no-policy"
    assert none.detail.endswith(
        "ECR creates it there on the first replication, with no repository policy: no "
        "repository creation template of 222222222222/cn-northwest-1 with AppliedFor "
        "REPLICATION matches the name. Create the replica in a stack "
        "(CrossAccountImageRepo.add_replica) or add a creation template whose RepositoryPolicy "
        "admits the function"
    )
    # a template whose policy does not admit the function (the example's commercial ARNs): it
    # fails if the template applies, and with no policy if it does not
    wrong = _replicated_by_template(
        tmp_path / "wrong",
        "cn-north-1",
        "cn-northwest-1",
        DOCS["creation_template_repository_policy"],
    )
    assert wrong.status == "missing-service-grant"
    assert "does not confirm that ECR applies creation templates" in wrong.detail


def test_a_declared_replica_whose_source_replicates_nothing_is_not_replicated(
    tmp_path: Path,
) -> None:
    repo = repository_resource("prod/orders", pair(DEST, "us-west-2"))
    repo["Metadata"] = {
        "ecr-lambda-access": {"replicaOf": f"arn:aws:ecr:us-east-1:{SOURCE}:repository/prod/orders"}
    }
    fn = function(f"{DEST}.dkr.ecr.us-west-2.amazonaws.com/prod/orders:v1", name="fn")
    stacks = {"Destination": (env(DEST, "us-west-2"), {"Resources": {"Repo": repo, "Fn": fn}})}
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "not-replicated",
        "repository Destination/Repo is a replica: no replication configuration of the registry "
        "111111111111/us-east-1 is in the assembly, so nothing brings the images of prod/orders "
        "to 222222222222/us-west-2: the source's add_replica writes one; restore it",
    )


def test_the_source_of_a_replica_that_replicates_onward_is_no_replica(tmp_path: Path) -> None:
    # prod/orders: SOURCE/us-east-1 -> DEST/us-west-2 -> DEST/eu-west-1; the function pulls
    # from the source, which is the replica's source, not a replica the onward rule misses
    onward = {
        "Rules": [
            {
                "Destinations": [{"RegistryId": DEST, "Region": "eu-west-1"}],
                "RepositoryFilters": [{"Filter": "prod", "FilterType": "PREFIX_MATCH"}],
            }
        ]
    }
    destination = {
        "Resources": {
            "Repo": repository_resource("prod/orders", pair(DEST, "us-west-2")),
            "Registry": registry_policy_resource(DOCS["registry_policy_all_repositories"]),
            "Onward": {
                "Type": "AWS::ECR::ReplicationConfiguration",
                "Properties": {"ReplicationConfiguration": onward},
            },
        }
    }
    fn = function(f"{SOURCE}.dkr.ecr.us-east-1.amazonaws.com/prod/orders:v1", name="fn")
    stacks = {
        "Source": (env(SOURCE, "us-east-1"), source_stack()),
        "Destination": (env(DEST, "us-west-2"), destination),
        "Workload": (env(DEST, "us-east-1"), {"Resources": {"Fn": fn}}),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "ok", result.detail


def test_an_unnamed_function_of_a_created_replica_is_judged_by_its_generated_name(
    tmp_path: Path,
) -> None:
    policy = copy.deepcopy(DOCS["creation_template_repository_policy"])
    policy["Statement"][1]["Condition"]["StringLike"]["aws:sourceARN"] = (
        f"arn:aws:lambda:us-west-2:{DEST}:function:Destination-Fn-*"
    )
    stacks = replicated_fleet(
        {"Resources": {"Template": creation_template("prod", [REPLICATION], policy)}}
    )
    stacks["Destination"][1]["Resources"]["Fn"] = function(
        f"{DEST}.dkr.ecr.us-west-2.amazonaws.com/prod/orders:v1"
    )
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "unverifiable",
        CREATED + AT_CREATION + ": it has no FunctionName, so CloudFormation generates one (like "
        "Destination-Fn-RANDOM); the policy admits lambda.amazonaws.com only for named functions "
        "(arn:aws:lambda:us-west-2:222222222222:function:Destination-Fn-*), which may or may not "
        "match the generated name: give the function a FunctionName and admit it, or admit "
        "function:* of the account",
    )


def test_a_china_replica_is_replicated_under_the_aws_cn_registry_policy(tmp_path: Path) -> None:
    region, source_region = "cn-northwest-1", "cn-north-1"
    service = {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {
            "StringLike": {"aws:sourceArn": f"arn:aws-cn:lambda:{region}:{DEST}:function:*"}
        },
    }
    repo = repository_resource("prod/orders", [service])
    repo["Metadata"] = {
        "ecr-lambda-access": {
            "replicaOf": f"arn:aws-cn:ecr:{source_region}:{SOURCE}:repository/prod/orders"
        }
    }
    admits_source = admits_replication_from(SOURCE, "aws-cn", region)
    source = replicating_everything_to(DEST, region)
    destination = {
        "Resources": {
            "Repo": repo,
            "Registry": registry_policy_resource(admits_source),
            "Fn": function(f"{DEST}.dkr.ecr.{region}.amazonaws.com.cn/prod/orders:v1", name="fn"),
        }
    }
    stacks = {
        "Source": (env(SOURCE, source_region), source),
        "Destination": (env(DEST, region), destination),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "ok",
        "the function is in the repository's account; lambda.amazonaws.com may pull for "
        f"arn:aws-cn:lambda:{region}:{DEST}:function:fn (statement S)",
    )


@pytest.mark.parametrize(
    ("resource", "status"),
    [("repository/prod/*", "ok"), ("repository/dev/*", "missing-service-grant")],
)
def test_a_created_replica_is_matched_by_its_own_arn(
    tmp_path: Path, resource: str, status: str
) -> None:
    policy = copy.deepcopy(DOCS["creation_template_repository_policy"])
    for statement in policy["Statement"]:
        statement["Resource"] = f"arn:aws:ecr:us-west-2:{DEST}:{resource}"
    stacks = replicated_fleet(
        {"Resources": {"Template": creation_template("prod", [REPLICATION], policy)}}
    )
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == status, result.detail


def deep_name(joins: int) -> dict[str, Any]:
    value: Any = "app"
    for _ in range(joins):
        value = {"Fn::Join": ["", [value]]}
    return {"Fn::Sub": ["${X}", {"X": value}]}


def deep_condition(nots: int) -> dict[str, Any]:
    value: Any = {"Fn::Equals": ["a", "a"]}
    for _ in range(nots):
        value = {"Fn::Not": [{"Fn::Not": [value]}]}
    return dict(value)


def test_values_nested_up_to_the_resolvers_depth_limit_are_read() -> None:
    # the resolver reads 40 levels of nesting (resolve._MAX_DEPTH), counted from the resource
    document = {"Version": "2012-10-17", "Statement": []}
    resources: dict[str, Any] = {
        "Deepest": {
            "Type": "AWS::ECR::Repository",
            "Properties": {"RepositoryName": deep_name(19)},
        },
        "TooDeep": {
            "Type": "AWS::ECR::Repository",
            "Properties": {"RepositoryName": deep_name(20)},
        },
        "Registry": {
            "Type": "AWS::ECR::RegistryPolicy",
            "Condition": "Deepest",
            "Properties": {"PolicyText": document},
        },
        "Unsure": {
            "Type": "AWS::ECR::RegistryPolicy",
            "Condition": "TooDeep",
            "Properties": {"PolicyText": document},
        },
    }
    template = {
        "Conditions": {"Deepest": deep_condition(19), "TooDeep": deep_condition(20)},
        "Resources": resources,
    }
    built = build_model([StackTemplate("S", "S", "S", DEST, "us-east-1", template, "S.json")])
    deepest, too_deep = built.repositories
    assert (deepest.name, deepest.arn) == ("app", f"arn:aws:ecr:us-east-1:{DEST}:repository/app")
    assert deepest.known and not too_deep.known
    assert [p.value for p in built.registry_policies] == [document, None]


def test_a_replica_created_in_another_partition_is_judged_in_that_partition(
    tmp_path: Path,
) -> None:
    # creation templates exist outside the China and GovCloud Regions, e.g. in aws-iso
    region, source_region = "us-iso-west-1", "us-iso-east-1"
    service = {
        "Sid": "S",
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {
            "StringLike": {"aws:sourceArn": f"arn:aws-iso:lambda:{region}:{DEST}:function:*"}
        },
    }
    template = creation_template(
        "prod", [REPLICATION], {"Version": "2012-10-17", "Statement": [service]}
    )
    admits_source = admits_replication_from(SOURCE, "aws-iso", region)
    source = replicating_everything_to(DEST, region)
    destination = {
        "Resources": {
            "Template": template,
            "Registry": registry_policy_resource(admits_source),
            "Fn": function(f"{DEST}.dkr.ecr.{region}.amazonaws.com/prod/orders:v1", name="fn"),
        }
    }
    stacks = {
        "Source": (env(SOURCE, source_region), source),
        "Destination": (env(DEST, region), destination),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "ok", result.detail
    assert result.repository == f"arn:aws-iso:ecr:{region}:{DEST}:repository/prod/orders"


def test_a_replication_source_named_like_another_registrys_repository_is_judged_by_the_rule(
    tmp_path: Path,
) -> None:
    """Issue 16's rule, pinned: a same-named repository is shown to be a replica when a rule of
    another registry matches its name without a destination there, even when its own registry
    replicates it onward. The repository itself is listed first and never its own source."""
    own = replicating_source([(DEST, "eu-west-1")])["Resources"]
    own["Repo"] = repository_resource("prod/orders", pair(DEST, "us-west-2"))
    own["Fn"] = function(f"{DEST}.dkr.ecr.us-west-2.amazonaws.com/prod/orders:v1", name="fn")
    stacks = {
        "Own": (env(DEST, "us-west-2"), {"Resources": own}),
        "Other": (env("333333333333", "us-east-1"), replicating_source([(DEST, "ap-south-1")])),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "not-replicated"
    assert "is a replica of Other/Repo (333333333333/us-east-1)" in result.detail


@pytest.mark.parametrize("missing_first", [True, False])
def test_a_replica_one_source_fills_is_not_unreached_because_another_does_not(
    tmp_path: Path, missing_first: bool
) -> None:
    """prod/orders reaches DEST/us-west-2 from SOURCE/us-east-1; a registry elsewhere also has a
    prod/orders whose rule sends it to DEST/ap-south-1 only. Images arrive from the first: the
    second does not make the replica `not-replicated`, whichever the model lists first."""
    replica = {
        "Resources": {
            "Repo": repository_resource("prod/orders", pair(DEST, "us-west-2")),
            "Registry": registry_policy_resource(DOCS["registry_policy_all_repositories"]),
            "Fn": function(f"{DEST}.dkr.ecr.us-west-2.amazonaws.com/prod/orders:v1", name="fn"),
        }
    }
    filling = ("Source", (env(SOURCE, "us-east-1"), replicating_source([(DEST, "us-west-2")])))
    missing = ("Other", (env("333333333333", "eu-central-1"), source_of([(DEST, "ap-south-1")])))
    alone = {"Replica": (env(DEST, "us-west-2"), replica), filling[0]: filling[1]}
    (expected,) = audit_assembly(write_assembly(tmp_path / "alone", alone)).functions
    assert expected.status == "ok", expected.detail
    pair_of_sources = [missing, filling] if missing_first else [filling, missing]
    stacks = {"Replica": (env(DEST, "us-west-2"), replica), **dict(pair_of_sources)}
    (result,) = audit_assembly(write_assembly(tmp_path / "both", stacks)).functions
    assert (result.status, result.detail) == (expected.status, expected.detail)


def source_of(destinations: list[tuple[str, str]]) -> dict[str, Any]:
    """replicating_source's stack, its repository without a repository policy."""
    stack = replicating_source(destinations)
    stack["Resources"]["Repo"] = repository_resource("prod/orders", None)
    return stack


def test_the_pinned_rule_looks_past_this_repositorys_own_replica(tmp_path: Path) -> None:
    """The rule pinned above, with this repository's own replica (DEST/eu-west-1, filled from
    here) listed before the other registry: its own replica is skipped, the other registry's
    rule still decides."""
    own = replicating_source([(DEST, "eu-west-1")])["Resources"]
    own["Repo"] = repository_resource("prod/orders", pair(DEST, "us-west-2"))
    own["Fn"] = function(f"{DEST}.dkr.ecr.us-west-2.amazonaws.com/prod/orders:v1", name="fn")
    stacks = {
        "Own": (env(DEST, "us-west-2"), {"Resources": own}),
        "AReplica": (
            env(DEST, "eu-west-1"),
            {"Resources": {"Repo": repository_resource("prod/orders", None)}},
        ),
        "Other": (env("333333333333", "us-east-1"), replicating_source([(DEST, "ap-south-1")])),
    }
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "not-replicated"
    assert "is a replica of Other/Repo (333333333333/us-east-1)" in result.detail


def admits_replication_from(account: str, partition: str, region: str) -> dict[str, Any]:
    """A registry policy of DEST in ``region`` that lets ``account`` replicate into it."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": "ecr:ReplicateImage",
        "Resource": f"arn:{partition}:ecr:{region}:{DEST}:repository/*",
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def replicating_everything_to(account: str, region: str) -> dict[str, Any]:
    """A source stack: prod/orders (no policy) and a rule sending every repository to
    ``account``/``region``."""
    rule = {"Destinations": [{"RegistryId": account, "Region": region}]}
    replication = {"Rules": [rule]}
    return {
        "Resources": {
            "Repo": repository_resource("prod/orders", None),
            "Replication": {
                "Type": "AWS::ECR::ReplicationConfiguration",
                "Properties": {"ReplicationConfiguration": replication},
            },
        }
    }
