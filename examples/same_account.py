"""Example 1: the repository and an SQS-triggered function in one account.

The repository policy lists the function's exact ARN for lambda.amazonaws.com (no root
statement: same account); the execution role holds logs, X-Ray and the three SQS actions.
"""

from __future__ import annotations

from aws_cdk import App, Duration, Environment, Stack
from constructs import Construct

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo

from .choices import acknowledge_sqs_worker
from .queues import work_queue
from .settings import EXAMPLE_DIGEST, Settings


class SameAccountStack(Stack):
    def __init__(self, scope: Construct, id: str, *, env: Environment) -> None:
        super().__init__(scope, id, env=env)
        self.images = CrossAccountImageRepo(self, "Images", repository_name="examples/same-account")
        timeout = Duration.seconds(30)
        self.worker = ContainerFunction(
            self,
            "Worker",
            repository=self.images,
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            memory_size=512,
            function_name="same-account-worker",
        )
        self.queue = work_queue(self, "Jobs", function_timeout=timeout)
        self.worker.add_sqs_source(self.queue, batch_size=10)
        acknowledge_sqs_worker(self.worker)


def build(app: App, settings: Settings) -> SameAccountStack:
    return SameAccountStack(
        app,
        "SameAccount",
        env=Environment(account=settings.workload_account, region=settings.region),
    )
