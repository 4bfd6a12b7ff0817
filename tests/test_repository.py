"""CrossAccountImageRepo: synthesized policy, defaults, warnings, errors and scanners.

One app holds every scenario as its own stack and is synthesized once (with the cdk-nag packs
attached), so the whole module pays for a single synth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from support import (
    REGION,
    REGISTRY,
    WORKLOAD,
    WORKLOAD_2,
    acknowledge,
    acknowledgements,
    cfn_lint,
    checkov,
    describe,
    env,
    new_app,
    skip_checkov,
    synth_with_nag,
    warnings_of,
)

from ecr_lambda_access import (
    CrossAccountImageRepo,
    EcrLambdaAccessError,
    ImagePullPolicy,
    InvalidConsumerError,
    InvalidOrganizationIdError,
    InvalidRepositoryError,
    LambdaConsumer,
    PolicyTooLargeError,
)

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
ORG = "o-abcdefghij"


class Scenarios:
    """Every scenario's stack, built in one app."""

    def __init__(self, outdir: Path) -> None:
        self.app = app = new_app(outdir)

        def stack(name: str, **kwargs: Any) -> cdk.Stack:
            return cdk.Stack(app, name, env=kwargs.pop("env", env(REGISTRY)), **kwargs)

        self.single = CrossAccountImageRepo(
            stack("Single"), "Images", repository_name="shared/orders", consumers=[WORKLOAD]
        )
        self.prefixes = CrossAccountImageRepo(
            stack("Prefixes"),
            "Images",
            repository_name="shared/prefixed",
            consumers=[
                LambdaConsumer(account=WORKLOAD, function_name_prefix="orders-"),
                LambdaConsumer(account=WORKLOAD_2, function_name_prefix="billing-"),
                LambdaConsumer(account=WORKLOAD_2, function_name="billing-api"),  # covered
                REGISTRY,  # the repository's own account: service statement only
            ],
        )
        self.organization = CrossAccountImageRepo(
            stack("Organization"),
            "Images",
            repository_name="shared/org",
            consumers=[WORKLOAD],
            organization_id=ORG,
        )
        self.late = CrossAccountImageRepo(stack("Late"), "Images", repository_name="shared/late")
        self.late.add_consumer("444444444444")
        self.late.add_consumer(LambdaConsumer(account=WORKLOAD, function_name="worker"))
        self.empty = CrossAccountImageRepo(stack("Empty"), "Images", repository_name="shared/e")
        self.user = CrossAccountImageRepo(
            stack("UserStatements"), "Images", repository_name="shared/user", consumers=[WORKLOAD]
        )
        self.user.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid="DescribeForAuditors",
                actions=["ecr:DescribeImages"],
                principals=[iam.AccountPrincipal("555555555555")],
            )
        )
        agnostic = cdk.Stack(app, "Agnostic")
        self.agnostic = CrossAccountImageRepo(agnostic, "Images", consumers=[WORKLOAD])
        tokens = stack("TokenAccount")
        account_param = cdk.CfnParameter(tokens, "ConsumerAccount", type="String")
        self.token = CrossAccountImageRepo(
            tokens,
            "Images",
            repository_name="shared/token",
            consumers=[account_param.value_as_string],
        )
        key_stack = stack("Props")
        key = kms.Key(key_stack, "Key", enable_key_rotation=True)
        self.props = CrossAccountImageRepo(
            key_stack,
            "Images",
            repository_name="shared/props",
            consumers=[WORKLOAD],
            encryption=ecr.RepositoryEncryption.KMS,
            encryption_key=key,
            lifecycle_rules=[ecr.LifecycleRule(max_image_count=50)],
            repository_props=ecr.RepositoryProps(
                repository_name="ignored/overridden", image_scan_on_push=False
            ),
        )
        existing_stack = stack("Existing")
        mine = ecr.Repository(
            existing_stack,
            "Mine",
            repository_name="shared/mine",
            image_tag_mutability=ecr.TagMutability.MUTABLE,
            image_scan_on_push=True,
        )
        self.existing = ImagePullPolicy(
            existing_stack, "PullPolicy", repository=mine, consumers=[WORKLOAD]
        )
        # Read the warnings, then do what a user does with a warning they have read:
        # acknowledge it by id, with a reason (which removes it from the construct).
        self.organization_warnings = warnings_of(self.organization)
        self.props_warnings = warnings_of(self.props)
        self.existing_warnings = warnings_of(self.existing)
        acknowledge(
            self.organization,
            "ecr-lambda-access:organizationNotDocumented",
            "test scenario: organization mode is exercised on purpose to check its statements",
        )
        on_purpose = "test scenario: set on purpose to check the warning it gives"
        for warning in ("lifecycleDeletesImages", "kmsCrossAccountUndocumented"):
            acknowledge(self.props, f"ecr-lambda-access:{warning}", on_purpose)
        acknowledge(self.existing, "ecr-lambda-access:mutableTags", on_purpose)
        skip_checkov(
            self.props.repository, "CKV_AWS_163", "test scenario: scan on push is off on purpose"
        )
        skip_checkov(
            self.existing.repository, "CKV_AWS_51", "test scenario: mutable tags on purpose"
        )
        # ImagePullPolicy writes the policy only: the repository's encryption stays the
        # user's choice, and so does acknowledging checkov's finding about it.
        skip_checkov(
            self.existing.repository, "CKV_AWS_136", "test scenario: the user's own repository"
        )
        self.outdir, self.violations, self.assembly = synth_with_nag(app)

    def template(self, name: str) -> dict[str, Any]:
        return self.assembly.get_stack_by_name(name).template  # type: ignore[no-any-return]

    def repository(self, name: str) -> dict[str, Any]:
        (resource,) = [
            r
            for r in self.template(name)["Resources"].values()
            if r["Type"] == "AWS::ECR::Repository"
        ]
        return resource  # type: ignore[no-any-return]

    def statements(self, name: str) -> list[dict[str, Any]]:
        return self.repository(name)["Properties"]["RepositoryPolicyText"]["Statement"]  # type: ignore[no-any-return]

    def warnings(self, name: str) -> list[str]:
        return [
            str(m.entry.data)
            for m in self.assembly.get_stack_by_name(name).messages
            if m.level == cdk.cx_api.SynthesisMessageLevel.WARNING
        ]


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> Scenarios:
    return Scenarios(tmp_path_factory.mktemp("repo-assembly"))


# ---------------------------------------------------------------------------------------------
# The policy as synthesized
# ---------------------------------------------------------------------------------------------


def test_single_consumer_gets_root_and_conditioned_service_statements(
    scenarios: Scenarios,
) -> None:
    assert scenarios.statements("Single") == [
        {
            "Sid": "CrossAccountPermission",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"},
            "Action": PULL,
        },
        {
            "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": PULL,
            "Condition": {
                "StringLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:*"}
            },
        },
    ]


def test_prefix_consumers_and_own_account(scenarios: Scenarios) -> None:
    root, service = scenarios.statements("Prefixes")
    assert root["Principal"]["AWS"] == [
        f"arn:aws:iam::{WORKLOAD}:root",
        f"arn:aws:iam::{WORKLOAD_2}:root",
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{REGION}:{REGISTRY}:function:*",
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:orders-*",
        f"arn:aws:lambda:{REGION}:{WORKLOAD_2}:function:billing-*",
    ]


def test_organization_mode_adds_org_conditioned_pair_and_warns(scenarios: Scenarios) -> None:
    sids = [s["Sid"] for s in scenarios.statements("Organization")]
    assert sids == [
        "CrossAccountPermission",
        "LambdaECRImageCrossAccountRetrievalPolicy",
        "OrganizationPermission",
        "LambdaECRImageOrganizationRetrievalPolicy",
    ]
    org_root, org_service = scenarios.statements("Organization")[2:]
    assert org_root["Principal"] == {"AWS": "*"}
    assert org_root["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ORG}}
    assert org_service["Condition"] == {"StringEquals": {"aws:SourceOrgID": ORG}}
    (warning,) = scenarios.organization_warnings
    assert "not documented by AWS" in warning and "organizationNotDocumented" in warning


def test_consumers_added_after_construction_are_included(scenarios: Scenarios) -> None:
    root, service = scenarios.statements("Late")
    assert root["Principal"]["AWS"] == [
        f"arn:aws:iam::{WORKLOAD}:root",
        "arn:aws:iam::444444444444:root",
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:worker",
        f"arn:aws:lambda:{REGION}:444444444444:function:*",
    ]
    assert scenarios.late.consumers == (
        LambdaConsumer("444444444444"),
        LambdaConsumer(WORKLOAD, function_name="worker"),
    )


def test_no_consumers_means_no_repository_policy(scenarios: Scenarios) -> None:
    assert "RepositoryPolicyText" not in scenarios.repository("Empty")["Properties"]


def test_statements_added_to_the_repository_are_kept_after_ours(scenarios: Scenarios) -> None:
    statements = scenarios.statements("UserStatements")
    assert [s.get("Sid") for s in statements] == [
        "CrossAccountPermission",
        "LambdaECRImageCrossAccountRetrievalPolicy",
        "DescribeForAuditors",
    ]
    assert statements[2]["Action"] == "ecr:DescribeImages"


def test_env_agnostic_stack_uses_region_and_partition_tokens(scenarios: Scenarios) -> None:
    root, service = scenarios.statements("Agnostic")
    source = service["Condition"]["StringLike"]["aws:SourceArn"]
    assert source == {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":lambda:",
                {"Ref": "AWS::Region"},
                f":{WORKLOAD}:function:*",
            ],
        ]
    }
    # the repository's account is unknown, so the consumer is treated as another account
    assert root["Principal"]["AWS"] == {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::{WORKLOAD}:root"]]
    }


def test_token_account_is_accepted_and_resolved(scenarios: Scenarios) -> None:
    root, service = scenarios.statements("TokenAccount")
    assert root["Principal"]["AWS"] == {
        "Fn::Join": ["", ["arn:aws:iam::", {"Ref": "ConsumerAccount"}, ":root"]]
    }
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == {
        "Fn::Join": [
            "",
            [f"arn:aws:lambda:{REGION}:", {"Ref": "ConsumerAccount"}, ":function:*"],
        ]
    }


def test_secure_defaults(scenarios: Scenarios) -> None:
    repository = scenarios.repository("Single")
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert repository["Properties"]["ImageScanningConfiguration"] == {"ScanOnPush": True}
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["UpdateReplacePolicy"] == "Retain"
    assert scenarios.warnings("Single") == []


def test_explicit_arguments_override_repository_props_and_warn(scenarios: Scenarios) -> None:
    properties = scenarios.repository("Props")["Properties"]
    assert properties["RepositoryName"] == "shared/props"
    assert properties["ImageScanningConfiguration"] == {"ScanOnPush": False}
    assert properties["EncryptionConfiguration"]["EncryptionType"] == "KMS"
    assert "LifecyclePolicy" in properties
    warnings = " ".join(scenarios.props_warnings)
    assert "ecr-lambda-access:lifecycleDeletesImages" in warnings
    assert "ecr-lambda-access:kmsCrossAccountUndocumented" in warnings


def test_image_pull_policy_writes_the_policy_of_an_existing_repository(
    scenarios: Scenarios,
) -> None:
    (warning,) = scenarios.existing_warnings
    assert "ecr-lambda-access:mutableTags" in warning and "IMMUTABLE" in warning
    assert scenarios.existing.repository.node.path == "Existing/Mine"
    assert ImagePullPolicy.of(scenarios.existing.repository) is scenarios.existing
    # The repository keeps its own logical id (no replacement when a deployed app adopts it).
    (logical_id,) = [
        k
        for k, r in scenarios.template("Existing")["Resources"].items()
        if r["Type"] == "AWS::ECR::Repository"
    ]
    assert logical_id.startswith("Mine")
    properties = scenarios.repository("Existing")["Properties"]
    assert properties["RepositoryName"] == "shared/mine"
    assert [s["Sid"] for s in properties["RepositoryPolicyText"]["Statement"]] == [
        "CrossAccountPermission",
        "LambdaECRImageCrossAccountRetrievalPolicy",
    ]


def test_snapshots(scenarios: Scenarios, snapshot_json: Any) -> None:
    for name in ("Single", "Prefixes", "Organization"):
        assert scenarios.template(name) == snapshot_json(name=name)


# ---------------------------------------------------------------------------------------------
# Scanners: cdk-nag (AwsSolutions + Serverless), cfn-lint, checkov
# ---------------------------------------------------------------------------------------------


def test_cdk_nag_reports_no_violations(scenarios: Scenarios) -> None:
    assert scenarios.violations == [], describe(scenarios.violations)
    for path, rules in acknowledgements(scenarios.outdir).items():
        for rule, reason in rules.items():
            assert len(reason) > 40, f"{path}: {rule} is acknowledged without a real reason"


def test_organization_mode_acknowledges_ecr1_with_the_condition_as_reason(
    scenarios: Scenarios,
) -> None:
    acks = acknowledgements(scenarios.outdir)
    reason = acks["/Organization/Images"]["AwsSolutions::AwsSolutions-ECR1"]
    assert f"aws:PrincipalOrgID = {ORG}" in reason
    # ...and only there: the per-account policies need no acknowledgement at all
    assert not any("ECR1" in rule for p, r in acks.items() if "Organization" not in p for rule in r)


def test_cfn_lint_is_clean(scenarios: Scenarios) -> None:
    templates = sorted(scenarios.outdir.glob("*.template.json"))
    assert len(templates) == 10
    assert cfn_lint(templates) == []


def test_checkov_is_clean(scenarios: Scenarios) -> None:
    report = checkov(scenarios.outdir)
    failed = report["results"]["failed_checks"]
    assert failed == [], [(f["check_id"], f["resource"], f["file_path"]) for f in failed]
    assert report["summary"]["passed"] > 0


# ---------------------------------------------------------------------------------------------
# Bad input, raised at construction / add_consumer, all violations in one error
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def registry_stack() -> cdk.Stack:
    return cdk.Stack(new_app(), "Registry", env=env(REGISTRY))


def test_all_bad_consumers_of_one_call_are_reported_together(registry_stack: cdk.Stack) -> None:
    with pytest.raises(EcrLambdaAccessError) as caught:
        CrossAccountImageRepo(
            registry_stack,
            "Images",
            consumers=["12345", LambdaConsumer("222222222222", "orders/"), 12],  # type: ignore[list-item]
            organization_id="o-SHOUT",
        )
    error = caught.value
    assert isinstance(error, ValueError)
    assert len(error.violations) == 4
    message = str(error)
    assert "consumers[0]" in message and "'12345'" in message
    assert "consumers[1].function_name_prefix" in message and "'orders/'" in message
    assert "consumers[2]" in message and "12 (int)" in message
    assert "organization_id" in message and "'o-SHOUT'" in message


def test_add_consumer_validates_the_same_way(registry_stack: cdk.Stack) -> None:
    repo = CrossAccountImageRepo(registry_stack, "Images", consumers=[WORKLOAD])
    with pytest.raises(InvalidConsumerError, match=r"add_consumer\(consumer\).*'\*'"):
        repo.add_consumer("*")
    assert repo.consumers == (LambdaConsumer(WORKLOAD),)


def test_bad_organization_id_alone_raises_its_own_class(registry_stack: cdk.Stack) -> None:
    with pytest.raises(InvalidOrganizationIdError, match="'r-abcd'"):
        CrossAccountImageRepo(registry_stack, "Images", organization_id="r-abcd")


def test_a_single_string_for_consumers_is_caught(registry_stack: cdk.Stack) -> None:
    with pytest.raises(InvalidConsumerError, match=r"consumers=\['222222222222'\]"):
        CrossAccountImageRepo(registry_stack, "Images", consumers=WORKLOAD)  # type: ignore[arg-type]


def test_image_pull_policy_refuses_imported_and_self_managed_repositories(
    registry_stack: cdk.Stack,
) -> None:
    imported = ecr.Repository.from_repository_name(registry_stack, "Imported", "shared/other")
    with pytest.raises(InvalidRepositoryError, match="required_repository_policy") as caught:
        ImagePullPolicy(registry_stack, "Policy", repository=imported)  # type: ignore[arg-type]
    assert caught.value.construct_path == "Registry/Policy"
    ours = CrossAccountImageRepo(registry_stack, "Images")
    with pytest.raises(InvalidRepositoryError, match="add_consumer"):
        ImagePullPolicy(registry_stack, "Twice", repository=ours)
    mine = ecr.Repository(registry_stack, "Mine")
    ImagePullPolicy(registry_stack, "First", repository=mine)
    with pytest.raises(InvalidRepositoryError, match="already has an ImagePullPolicy"):
        ImagePullPolicy(registry_stack, "Second", repository=mine)


def test_errors_name_the_construct_path(registry_stack: cdk.Stack) -> None:
    with pytest.raises(InvalidConsumerError) as caught:
        CrossAccountImageRepo(registry_stack, "Images", consumers=["12345"])
    assert caught.value.construct_path == "Registry/Images"
    assert str(caught.value).startswith("[Registry/Images] consumers[0]")


def test_a_call_with_mixed_violations_raises_an_instance_of_each_class(
    registry_stack: cdk.Stack,
) -> None:
    with pytest.raises(InvalidConsumerError) as caught:
        CrossAccountImageRepo(registry_stack, "Images", consumers=["12345"], organization_id="x")
    error = caught.value
    assert isinstance(error, InvalidOrganizationIdError)
    assert isinstance(error, EcrLambdaAccessError) and isinstance(error, ValueError)
    assert len(error.violations) == 2


def test_too_many_consumers_fail_before_deploy(registry_stack: cdk.Stack) -> None:
    repo = CrossAccountImageRepo(registry_stack, "Images")
    ids = [f"{i:012d}" for i in range(1, 115)]
    repo.add_consumer(*ids)  # 114 accounts fit
    with pytest.raises(PolicyTooLargeError) as caught:
        repo.add_consumer("999999999999")
    assert "10,240" in str(caught.value) and "organization_id" in str(caught.value)
    assert len(repo.consumers) == 114  # the failed call changed nothing


def test_oversized_policy_from_added_statements_fails_synth(tmp_path: Path) -> None:
    app = new_app(tmp_path)
    stack = cdk.Stack(app, "Registry", env=env(REGISTRY))
    repo = CrossAccountImageRepo(stack, "Images", consumers=[WORKLOAD])
    for index in range(80):
        repo.repository.add_to_resource_policy(
            iam.PolicyStatement(
                sid=f"Extra{index}",
                actions=["ecr:DescribeImages"],
                principals=[iam.AccountPrincipal(f"{index + 100:012d}")],
            )
        )
    with pytest.raises(RuntimeError, match=r"characters, over ECR's limit of 10,240"):
        app.synth()
