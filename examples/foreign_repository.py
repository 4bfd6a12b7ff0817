"""Example 3: a function running an image from a repository owned elsewhere (by ARN).

Nothing can be written to another account's repository from here, so the function says what its
owner must add (required_repository_policy) and what this account's deploy role needs
(deployer_statements). Run `python -m examples.foreign_repository` to print both.
"""

from __future__ import annotations

import json

from aws_cdk import App, Duration, Environment, Stack
from constructs import Construct

from ecr_lambda_access import ContainerFunction

from .choices import acknowledge_sqs_worker
from .queues import work_queue
from .settings import EXAMPLE_DIGEST, Settings


class ForeignRepositoryStack(Stack):
    def __init__(self, scope: Construct, id: str, *, env: Environment, repository_arn: str) -> None:
        super().__init__(scope, id, env=env)
        timeout = Duration.seconds(120)
        self.worker = ContainerFunction(
            self,
            "Reports",
            repository=repository_arn,
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            memory_size=1024,
            function_name="reports-generator",
        )
        self.worker.add_sqs_source(work_queue(self, "ReportRequests", function_timeout=timeout))
        acknowledge_sqs_worker(self.worker)


def build(app: App, settings: Settings) -> ForeignRepositoryStack:
    arn = f"arn:aws:ecr:{settings.region}:{settings.registry_account}:repository/partners/reports"
    return ForeignRepositoryStack(
        app,
        "ForeignRepository",
        env=Environment(account=settings.workload_account, region=settings.region),
        repository_arn=arn,
    )


def main() -> None:
    import pathlib

    context = json.loads((pathlib.Path(__file__).parent.parent / "cdk.json").read_text())["context"]
    app = App(context=context)
    stack = build(app, Settings.from_context(app))
    print("# The repository owner must add this repository policy:")
    print(json.dumps(stack.worker.required_repository_policy(), indent=2))
    print("# This account's CloudFormation execution role needs:")
    for statement in stack.worker.deployer_statements():
        print(json.dumps(stack.resolve(statement.to_statement_json()), indent=2))


if __name__ == "__main__":
    main()
