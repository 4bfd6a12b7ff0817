"""Example 4: a CDK Pipelines app rolling the registry and two workloads out to their accounts.

The pipeline lives in a tools account; its stages deploy the registry (one account) and, after
it, a wave of workload stages (one per account). Each workload stage is given the
CrossAccountImageRepo object itself: its function registers on it (the registry's policy lists
the function's exact ARN and its account's root), and nothing crosses the stages but plain
strings (no cross-stage reference or dependency: the wave after the registry stage orders the
deployments). `cross_account_keys=True` gives the artifact bucket a KMS key the other accounts'
deploy roles can use.
"""

from __future__ import annotations

from aws_cdk import App, Duration, Environment, Stack, Stage, pipelines
from constructs import Construct

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo, ImagePullAuditStep

from .choices import acknowledge_sqs_worker
from .queues import work_queue
from .settings import EXAMPLE_DIGEST, Settings

REPOSITORY_NAME = "shared/pipeline-orders"
FUNCTION_PREFIX = "orders-"


class RegistryStage(Stage):
    def __init__(self, scope: Construct, id: str, *, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        stack = Stack(self, "Registry")
        # No consumers listed here: each workload's function registers itself.
        self.images = CrossAccountImageRepo(stack, "Images", repository_name=REPOSITORY_NAME)


class WorkloadStage(Stage):
    def __init__(
        self, scope: Construct, id: str, *, env: Environment, images: CrossAccountImageRepo
    ) -> None:
        super().__init__(scope, id, env=env)
        stack = Stack(self, "Workload")
        timeout = Duration.seconds(60)
        self.worker = ContainerFunction(
            stack,
            "Worker",
            repository=images,  # the object, across stages
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            memory_size=1024,
            function_name=f"{FUNCTION_PREFIX}worker",
        )
        self.worker.add_sqs_source(work_queue(stack, "Orders", function_timeout=timeout))
        acknowledge_sqs_worker(self.worker)


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
        )
        # The workload stages first: their functions register on the repository, and
        # pipeline.add_stage synthesizes a stage (its policy must list them by then).
        self.workloads = [
            WorkloadStage(
                self,
                f"Workload{index}",
                env=Environment(account=account, region=settings.region),
                images=self.registry.images,
            )
            for index, account in enumerate(workloads, start=1)
        ]
        # The pipeline check on the synthesized assembly, before anything is deployed: a function
        # that could not pull its image stops the pipeline here (JUnit report in CodeBuild).
        self.audit = ImagePullAuditStep("AuditImagePulls", input=self.pipeline.synth)
        self.pipeline.add_stage(self.registry, pre=[self.audit])
        wave = self.pipeline.add_wave("Workloads")
        for stage in self.workloads:
            wave.add_stage(stage)


def build(app: App, settings: Settings) -> PipelineStack:
    return PipelineStack(
        app,
        "Pipeline",
        env=Environment(account=settings.tools_account, region=settings.region),
        settings=settings,
    )
