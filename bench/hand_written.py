"""Case 1's baseline: the cross-account example's resources wired by hand with aws-cdk-lib only.

The same stacks as ``examples/cross_account.py`` (a registry account, two workload accounts with
an SQS-triggered container-image function each, the same queues), written the way a careful
user would without this library:

* the registry's ``ecr.Repository`` (same name and properties) gets the documented pair of
  statements (the seed's two statements: every workload account's root, and
  ``lambda.amazonaws.com`` limited by ``aws:SourceArn``) with ``add_to_resource_policy``;
* each workload imports the repository by ARN (no export crosses accounts) and runs
  ``aws_lambda.DockerImageFunction`` with ``DockerImageCode.from_ecr(...)``, a one-month log
  group and X-Ray tracing, and an ``aws_lambda_event_sources.SqsEventSource``;
* each workload stack depends on the registry stack (the policy must exist first).
"""

from __future__ import annotations

from aws_cdk import App, Duration, Environment, RemovalPolicy, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs

from examples.queues import work_queue
from examples.settings import EXAMPLE_DIGEST, Settings

REPOSITORY_NAME = "shared/orders"
FUNCTION_NAME = "orders-worker"
PULL_ACTIONS = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def build(app: App, settings: Settings) -> tuple[Stack, list[Stack]]:
    """The registry stack and the two workload stacks, like ``examples.cross_account.build``."""
    region = settings.region
    workload_accounts = [settings.workload_account, settings.second_workload_account]

    registry = Stack(
        app, "Registry", env=Environment(account=settings.registry_account, region=region)
    )
    repository = ecr.Repository(
        registry,
        "Images",
        repository_name=REPOSITORY_NAME,
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        image_scan_on_push=True,
        removal_policy=RemovalPolicy.RETAIN,
    )
    repository.add_to_resource_policy(
        iam.PolicyStatement(
            sid="CrossAccountPermission",
            actions=PULL_ACTIONS,
            principals=[iam.ArnPrincipal(f"arn:aws:iam::{a}:root") for a in workload_accounts],
        )
    )
    repository.add_to_resource_policy(
        iam.PolicyStatement(
            sid="LambdaECRImageCrossAccountRetrievalPolicy",
            actions=PULL_ACTIONS,
            principals=[iam.ServicePrincipal("lambda.amazonaws.com")],
            conditions={
                "StringLike": {
                    "aws:SourceArn": [
                        f"arn:aws:lambda:{region}:{a}:function:{FUNCTION_NAME}"
                        for a in workload_accounts
                    ]
                }
            },
        )
    )
    repository_arn = (
        f"arn:aws:ecr:{region}:{settings.registry_account}:repository/{REPOSITORY_NAME}"
    )

    workloads: list[Stack] = []
    for name, account in zip(("Workload", "Workload2"), workload_accounts, strict=True):
        stack = Stack(app, name, env=Environment(account=account, region=region))
        stack.add_stack_dependency(registry, "the repository policy must allow the function first")
        timeout = Duration.seconds(60)
        imported = ecr.Repository.from_repository_arn(stack, "Images", repository_arn)
        function = lambda_.DockerImageFunction(
            stack,
            "Worker",
            code=lambda_.DockerImageCode.from_ecr(imported, tag_or_digest=EXAMPLE_DIGEST),
            timeout=timeout,
            memory_size=1024,
            function_name=FUNCTION_NAME,
            environment={"ORDERS_TABLE": "orders"},
            tracing=lambda_.Tracing.ACTIVE,
            log_group=logs.LogGroup(
                stack,
                "WorkerLogs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.RETAIN,
            ),
        )
        queue = work_queue(stack, "Orders", function_timeout=timeout)
        function.add_event_source(event_sources.SqsEventSource(queue, batch_size=5))
        workloads.append(stack)
    return registry, workloads
