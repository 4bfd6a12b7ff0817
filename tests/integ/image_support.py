"""What both integration tests share (not a test itself: integ-runner runs only ``integ_*.py``).

How the image gets into the repository the test deploys, with no Docker at synth time:

* ``image_stack`` holds a ``DockerImageAsset`` of ``image/`` whose synthesizer publishes it to
  *our* repository (``image_assets_repository_name``) instead of CDK's bootstrap repository.
  Synth only stages the directory; Docker runs when ``integ-runner`` deploys (cdk-assets).
* The CDK CLI publishes a stack's assets after the stacks that stack depends on are deployed, so
  the image stack depends on the registry stack: the repository exists before the push.
* The bootstrap image-publishing role may push only to CDK's own repository; the repository
  policy grants it the push (a statement added after the library's, which it keeps).
"""

from __future__ import annotations

from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ecr_lambda_access import CrossAccountImageRepo

IMAGE_DIRECTORY = Path(__file__).resolve().parent / "image"
ANSWER = "pulled from a CrossAccountImageRepo"  # what image/handler.py returns
PUSH_ACTIONS = [
    "ecr:DescribeRepositories",
    "ecr:DescribeImages",
    "ecr:BatchCheckLayerAvailability",
    "ecr:InitiateLayerUpload",
    "ecr:UploadLayerPart",
    "ecr:CompleteLayerUpload",
    "ecr:PutImage",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]


def registry(
    scope: Construct, id: str, *, repository_name: str, env: cdk.Environment | None = None
) -> tuple[cdk.Stack, CrossAccountImageRepo]:
    """The registry stack: a CrossAccountImageRepo that deletes itself when the test ends."""
    stack = cdk.Stack(scope, id, env=env)
    images = CrossAccountImageRepo(
        stack,
        "Images",
        repository_name=repository_name,
        removal_policy=cdk.RemovalPolicy.DESTROY,
        repository_props=ecr.RepositoryProps(empty_on_delete=True),
    )
    publishing_role = (
        f"arn:{cdk.Aws.PARTITION}:iam::{stack.account}:role/"
        f"cdk-{cdk.DefaultStackSynthesizer.DEFAULT_QUALIFIER}-image-publishing-role-"
        f"{stack.account}-{stack.region}"
    )
    images.repository.add_to_resource_policy(
        iam.PolicyStatement(
            sid="IntegTestImagePublishing",
            principals=[iam.ArnPrincipal(publishing_role)],
            actions=PUSH_ACTIONS,
        )
    )
    return stack, images


def image_stack(
    scope: Construct,
    id: str,
    *,
    registry_stack: cdk.Stack,
    repository_name: str,
    env: cdk.Environment | None = None,
) -> tuple[cdk.Stack, str]:
    """A stack in the registry's account whose image asset is pushed to ``repository_name``.

    Returns the stack and the image tag (the asset's hash, a plain string known at synth).
    """
    stack = cdk.Stack(
        scope,
        id,
        env=env,
        synthesizer=cdk.DefaultStackSynthesizer(image_assets_repository_name=repository_name),
    )
    stack.add_stack_dependency(registry_stack, "the image is pushed to the registry's repository")
    asset = ecr_assets.DockerImageAsset(
        stack,
        "Image",
        directory=str(IMAGE_DIRECTORY),
        platform=ecr_assets.Platform.LINUX_AMD64,
    )
    # A stack needs a resource to deploy: record which image the test pushed.
    ssm.StringParameter(
        stack,
        "ImageTag",
        string_value=asset.image_tag,
        description="The image the ecr-lambda-access integration test pushed",
    )
    return stack, asset.image_tag
