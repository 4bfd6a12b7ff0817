"""Example 4: a CDK Pipelines app rolling the registry and two workloads out to their accounts.

The pipeline lives in a tools account; its stages deploy the registry (one account) and, after
it, a wave of workload stages (one per account). Stages exchange plain strings only: the
registry lists the workload accounts (with a function-name prefix), the workloads name the
repository by ARN. `cross_account_keys=True` gives the artifact bucket a KMS key the other
accounts' deploy roles can use.
"""

from __future__ import annotations

from aws_cdk import App, Duration, Environment, Stack, Stage, pipelines
from constructs import Construct

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    ImagePullAuditStep,
    LambdaConsumer,
)

from .queues import work_queue
from .settings import EXAMPLE_DIGEST, Settings

REPOSITORY_NAME = "shared/pipeline-orders"
FUNCTION_PREFIX = "orders-"


class RegistryStage(Stage):
    def __init__(
        self, scope: Construct, id: str, *, env: Environment, consumer_accounts: list[str]
    ) -> None:
        super().__init__(scope, id, env=env)
        stack = Stack(self, "Registry")
        self.images = CrossAccountImageRepo(
            stack,
            "Images",
            repository_name=REPOSITORY_NAME,
            consumers=[
                LambdaConsumer(account=account, function_name_prefix=FUNCTION_PREFIX)
                for account in consumer_accounts
            ],
        )


class WorkloadStage(Stage):
    def __init__(self, scope: Construct, id: str, *, env: Environment, repository_arn: str) -> None:
        super().__init__(scope, id, env=env)
        stack = Stack(self, "Workload")
        timeout = Duration.seconds(60)
        self.worker = ContainerFunction(
            stack,
            "Worker",
            repository=repository_arn,
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            memory_size=1024,
            function_name=f"{FUNCTION_PREFIX}worker",
        )
        self.worker.add_sqs_source(work_queue(stack, "Orders", function_timeout=timeout))


class PipelineStack(Stack):
    def __init__(self, scope: Construct, id: str, *, env: Environment, settings: Settings) -> None:
        super().__init__(scope, id, env=env)
        workloads = [settings.workload_account, settings.second_workload_account]
        source = pipelines.CodePipelineSource.connection(
            "example-org/orders-platform",
            "main",
            connection_arn=(
                f"arn:aws:codeconnections:{settings.region}:{settings.tools_account}:"
                "connection/00000000-0000-0000-0000-000000000000"
            ),
        )
        self.pipeline = pipelines.CodePipeline(
            self,
            "Pipeline",
            cross_account_keys=True,
            synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"]),
        )
        self.registry = RegistryStage(
            self,
            "Registry",
            env=Environment(account=settings.registry_account, region=settings.region),
            consumer_accounts=workloads,
        )
        # The pipeline check on the synthesized assembly, before anything is deployed: a function
        # that could not pull its image stops the pipeline here (JUnit report in CodeBuild).
        self.audit = ImagePullAuditStep("AuditImagePulls", input=self.pipeline.synth)
        self.pipeline.add_stage(self.registry, pre=[self.audit])
        repository_arn = (
            f"arn:aws:ecr:{settings.region}:{settings.registry_account}:"
            f"repository/{REPOSITORY_NAME}"
        )
        wave = self.pipeline.add_wave("Workloads")
        self.workloads = [
            WorkloadStage(
                self,
                f"Workload{index}",
                env=Environment(account=account, region=settings.region),
                repository_arn=repository_arn,
            )
            for index, account in enumerate(workloads, start=1)
        ]
        for stage in self.workloads:
            wave.add_stage(stage)


def build(app: App, settings: Settings) -> PipelineStack:
    return PipelineStack(
        app,
        "Pipeline",
        env=Environment(account=settings.tools_account, region=settings.region),
        settings=settings,
    )
