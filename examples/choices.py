"""The app's own decisions about its functions, acknowledged where scanners flag them.

ecr-lambda-access acknowledges only what the library itself decides (README: "Scanner findings
that are yours"). These workers are the app's: each is triggered only by its SQS queue, runs
outside a VPC and has no reserved concurrency. Acknowledging that, with the reason, is the app
owner's call; here is how the examples do it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations

from ecr_lambda_access import ContainerFunction

SQS_ONLY = (
    "Invoked only by its SQS event source mapping (synchronously): messages that keep failing "
    "move to the source queue's redrive dead-letter queue; a function DLQ would stay empty."
)


def acknowledge_sqs_worker(worker: ContainerFunction) -> None:
    function = worker.node.default_child
    assert isinstance(function, CfnResource)
    Validations.of(function).acknowledge(
        Acknowledgment(id="Serverless::Serverless-LambdaDLQ", reason=SQS_ONLY)
    )
    skip_checkov(function, "CKV_AWS_116", SQS_ONLY)
    skip_checkov(
        function, "CKV_AWS_117", "Reaches only AWS APIs over the internet: no VPC resources."
    )
    skip_checkov(
        function,
        "CKV_AWS_115",
        "No reserved concurrency: the worker shares the account's unreserved pool.",
    )
    log_group = worker.log_group.node.default_child
    if isinstance(log_group, CfnResource):
        skip_checkov(
            log_group,
            "CKV_AWS_158",
            "Log data is encrypted at rest by CloudWatch Logs; the logs hold no secrets.",
        )


def skip_checkov(resource: CfnResource, check: str, comment: str) -> None:
    """Add a reasoned checkov skip (``Metadata.checkov.skip``) next to the existing ones."""
    current = resource.get_metadata("checkov") or {}
    skips = [s for s in current.get("skip", []) if s.get("id") != check]
    resource.add_metadata("checkov", {"skip": [*skips, {"id": check, "comment": comment}]})
