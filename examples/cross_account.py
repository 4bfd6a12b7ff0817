"""Example 2: a registry account and two workload accounts, in one CDK app.

The functions are wired to the repository by passing the CrossAccountImageRepo itself: each
function registers on it, so the registry's policy lists each workload account's root and each
function's exact ARN, and each workload stack deploys after the registry stack. Only plain
strings (the repository name and ARN) cross accounts; no CloudFormation export is used.
"""

from __future__ import annotations

from aws_cdk import App, CfnResource, Duration, Environment, Stack
from constructs import Construct

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo

from .choices import acknowledge_sqs_worker, skip_checkov
from .queues import work_queue
from .settings import EXAMPLE_DIGEST, Settings


class RegistryStack(Stack):
    """The central registry account: owns the repository and its policy."""

    def __init__(self, scope: Construct, id: str, *, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        self.images = CrossAccountImageRepo(self, "Images", repository_name="shared/orders")


class WorkloadStack(Stack):
    """A workload account: an SQS-triggered function running the registry's image."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        images: CrossAccountImageRepo,
        function_name: str,
    ) -> None:
        super().__init__(scope, id, env=env)
        timeout = Duration.seconds(60)
        self.worker = ContainerFunction(
            self,
            "Worker",
            repository=images,
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            memory_size=1024,
            function_name=function_name,
            environment={"ORDERS_TABLE": "orders"},
        )
        function = self.worker.node.default_child  # ContainerFunction is the Function
        assert isinstance(function, CfnResource)
        skip_checkov(
            function,
            "CKV_AWS_173",
            "The environment holds a table name, no secret; Lambda encrypts it at rest with "
            "its AWS managed key.",
        )
        self.queue = work_queue(self, "Orders", function_timeout=timeout)
        self.worker.add_sqs_source(self.queue, batch_size=5)
        acknowledge_sqs_worker(self.worker)


def build(app: App, settings: Settings) -> tuple[RegistryStack, list[WorkloadStack]]:
    registry = RegistryStack(
        app, "Registry", env=Environment(account=settings.registry_account, region=settings.region)
    )
    workloads = [
        WorkloadStack(
            app,
            name,
            env=Environment(account=account, region=settings.region),
            images=registry.images,
            function_name="orders-worker",
        )
        for name, account in (
            ("Workload", settings.workload_account),
            ("Workload2", settings.second_workload_account),
        )
    ]
    return registry, workloads
