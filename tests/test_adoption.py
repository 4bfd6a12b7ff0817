"""What hurt when real apps adopted the library (issue 19), each pinned by a test.

An immutable role gets nothing of ours; a plain DockerImageFunction pulling from our repository
in another account is a warning; a lifecycle rule added later warns like one passed in; an
``ecr:`` action on the function's own role is one clean Python error; image assets work with a
readable note; smaller message fixes.
"""

from __future__ import annotations

import json
import traceback
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Annotations, Match, Template
from support import DIGEST, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo
from ecr_lambda_access.errors import EcrLambdaAccessError, InvalidImageReferenceError

pytestmark = pytest.mark.synth


def warnings(stack: cdk.Stack, warning_id: str) -> list[Any]:
    return Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp(f"ecr-lambda-access:{warning_id}")
    )


def infos(stack: cdk.Stack) -> list[str]:
    return [
        str(m.entry.data) for m in Annotations.from_stack(stack).find_info("*", Match.any_value())
    ]


def test_an_immutable_role_gets_no_policy_of_ours() -> None:
    """CDK's own Function adds nothing to an immutable role (addToPrincipalPolicy is a no-op);
    neither do we: no X-Ray policy, no VPC policy, nothing names the role."""
    app = new_app()
    stack = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    role = iam.Role.from_role_arn(
        stack, "Given", f"arn:aws:iam::{WORKLOAD}:role/platform/runner", mutable=False
    )
    vpc = ec2.Vpc(stack, "Vpc", max_azs=1, nat_gateways=0, subnet_configuration=[
        ec2.SubnetConfiguration(name="a", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)
    ])  # fmt: skip
    fn = ContainerFunction(
        stack,
        "Fn",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        image_digest=DIGEST,
        role=role,
        vpc=vpc,
    )
    template = Template.from_stack(stack).to_json()
    policies = [r for r in template["Resources"].values() if r["Type"] in ("AWS::IAM::Policy",)]
    assert policies == []
    own = stack.get_logical_id(fn.node.default_child)  # type: ignore[arg-type]
    function = template["Resources"][own]
    assert "runner" not in json.dumps({k: v for k, v in template["Resources"].items() if k != own})
    assert function["Properties"]["TracingConfig"] == {"Mode": "Active"}
    assert fn.tracing == lambda_.Tracing.ACTIVE


def test_a_mutable_imported_role_still_gets_the_tracing_policy() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    role = iam.Role.from_role_arn(stack, "Given", f"arn:aws:iam::{WORKLOAD}:role/runner")
    ContainerFunction(
        stack,
        "Fn",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        image_digest=DIGEST,
        role=role,
    )
    policies = Template.from_stack(stack).find_resources("AWS::IAM::Policy")
    assert any(
        "xray:PutTraceSegments" in json.dumps(p) and p["Properties"]["Roles"] == ["runner"]
        for p in policies.values()
    )


def test_a_docker_image_function_from_our_repository_in_another_account_is_a_warning() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(registry, "Images", repository_name="shared/orders")
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    lambda_.DockerImageFunction(
        workload, "Plain", code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST)
    )
    same = lambda_.DockerImageFunction(
        registry, "Home", code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST)
    )
    # ours, by ARN (so not registered on the repository): it says what it needs itself
    ContainerFunction(
        workload,
        "Ours",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        image_digest=DIGEST,
    )
    app.synth()
    (warning,) = warnings(workload, "dockerImageFunctionOtherAccount")
    text = str(warning.entry.data)
    assert "Workload/Plain" in warning.id or "/Workload/Plain" in warning.id
    assert WORKLOAD in text and "ContainerFunction" in text and "add_consumer" in text
    assert warnings(registry, "dockerImageFunctionOtherAccount") == []
    assert same is not None


def test_a_listed_consumer_account_silences_the_warning() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(
        registry, "Images", repository_name="shared/orders", consumers=[WORKLOAD]
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    lambda_.DockerImageFunction(
        workload, "Plain", code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST)
    )
    app.synth()
    assert warnings(workload, "dockerImageFunctionOtherAccount") == []


def test_add_lifecycle_rule_warns_like_lifecycle_rules() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(stack, "Images", repository_name="shared/orders")
    assert warnings(stack, "lifecycleDeletesImages") == []
    images.add_lifecycle_rule(max_image_count=10)
    images.add_lifecycle_rule(tag_prefix_list=["dev"], max_image_count=3)
    assert len(warnings(stack, "lifecycleDeletesImages")) == 1
    rules = Template.from_stack(stack).to_json()
    assert "LifecyclePolicy" in json.dumps(rules)


def test_an_ecr_action_on_the_own_role_is_one_clean_python_error() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    fn = ContainerFunction(
        stack,
        "Fn",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        image_digest=DIGEST,
    )
    statement = iam.PolicyStatement(actions=["ecr:BatchGetImage"], resources=["*"])
    with pytest.raises(EcrLambdaAccessError) as raised:
        fn.add_to_role_policy(statement)
    message = str(raised.value)
    assert message.count("Workload/Fn") == 1
    assert "ecr:BatchGetImage" in message and "role=" in message
    frames = "".join(traceback.format_exception(raised.value))
    assert "jsii" not in frames.split("add_to_role_policy", 1)[1]
    # a non-ECR statement still lands on the role
    fn.add_to_role_policy(iam.PolicyStatement(actions=["s3:GetObject"], resources=["*"]))
    assert "s3:GetObject" in json.dumps(Template.from_stack(stack).to_json())


def test_with_a_role_of_your_own_an_ecr_action_is_yours() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    role = iam.Role(stack, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    fn = ContainerFunction(
        stack,
        "Fn",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        image_digest=DIGEST,
        role=role,
    )
    fn.add_to_role_policy(iam.PolicyStatement(actions=["ecr:ListImages"], resources=["*"]))
    assert "ecr:ListImages" in json.dumps(Template.from_stack(stack).to_json())


def test_a_function_from_a_local_dockerfile_synthesizes_without_docker(tmp_path: Path) -> None:
    """The image-asset recipe: CDK stages the directory at synth; the image is built and pushed
    at publish (cdk deploy), so synth needs no Docker."""
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "Dockerfile").write_text(
        'FROM public.ecr.aws/lambda/python:3.12\nCMD ["app.handler"]\n'
    )
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Service", env=env(WORKLOAD))
    asset = ecr_assets.DockerImageAsset(stack, "Image", directory=str(tmp_path / "image"))
    ContainerFunction(stack, "Fn", repository=asset.repository, tag_or_digest=asset.image_tag)
    assembly = app.synth()
    template = assembly.get_stack_by_name("Service").template
    (function,) = [
        r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    ]
    uri = json.dumps(function["Properties"]["Code"]["ImageUri"])
    assert f"{WORKLOAD}.dkr.ecr.us-east-1" in uri and "container-assets" in uri
    assert asset.asset_hash in uri
    (note,) = [n for n in infos(stack) if "container-assets" in n or "bootstrap" in n]
    assert f"cdk-hnb659fds-container-assets-{WORKLOAD}-us-east-1" in note
    assert "${Token" not in note


def test_an_env_agnostic_image_asset_note_has_a_readable_placeholder(tmp_path: Path) -> None:
    (tmp_path / "image").mkdir()
    (tmp_path / "image" / "Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.12\n")
    app = new_app(tmp_path / "out")
    stack = cdk.Stack(app, "Service")
    asset = ecr_assets.DockerImageAsset(stack, "Image", directory=str(tmp_path / "image"))
    ContainerFunction(stack, "Fn", repository=asset.repository, tag_or_digest=asset.image_tag)
    app.synth()
    notes = infos(stack)
    assert notes and not any("${Token" in n for n in notes)
    assert any("${AWS::AccountId}" in n for n in notes)


def test_no_other_stage_note_for_a_top_level_repository_stack() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(registry, "Images", repository_name="shared/orders")
    stage = cdk.Stage(app, "Prod")
    stack = cdk.Stack(stage, "Service", env=env(WORKLOAD))
    ContainerFunction(stack, "Fn", repository=images, image_digest=DIGEST)
    app.synth()
    notes = infos(stack)
    assert not any("another Stage" in n for n in notes)
    (note,) = [n for n in notes if "Registry" in n]
    assert "top-level stack Registry" in note and "deploy it before" in note


def test_a_malformed_account_on_the_functions_stack_is_reported_against_the_function() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(registry, "Images", repository_name="shared/orders")
    stack = cdk.Stack(
        app, "Service", env=cdk.Environment(account="22222222222", region="us-east-1")
    )
    with pytest.raises(EcrLambdaAccessError) as raised:
        ContainerFunction(stack, "Fn", repository=images, image_digest=DIGEST)
    message = str(raised.value)
    assert message.startswith("[Service/Fn]") and "22222222222" in message
    assert "Registry/Images" not in message.split("]", 1)[0]
    assert "add_consumer" not in message and "_register_function" not in message


def test_sha265_gets_a_did_you_mean() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Service", env=env(WORKLOAD))
    with pytest.raises(InvalidImageReferenceError) as raised:
        ContainerFunction(
            stack,
            "Fn",
            repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
            image_digest="sha265:" + "a1" * 32,
        )
    assert "did you mean 'sha256:" in str(raised.value)
