"""The app's own decisions about its functions, acknowledged where scanners flag them.

ecr-lambda-access acknowledges only what the library itself decides (docs/scanners.md,
"Scanner findings that are yours"). These workers are the app's: each is triggered only by its
SQS queue, runs outside a VPC and has no reserved concurrency. Acknowledging that, with the
reason, is the app owner's call; here is how the examples do it.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations

from ecr_lambda_access import ContainerFunction

SQS_ONLY = (
    "Invoked only by its SQS event source mapping (synchronously): messages that keep failing "
    "move to the source queue's redrive dead-letter queue; a function DLQ would stay empty."
)


def acknowledge_sqs_worker(worker: ContainerFunction) -> None:
    """The app's choices for a function triggered only by its SQS queue."""
    function = worker.node.default_child
    assert isinstance(function, CfnResource)
    Validations.of(function).acknowledge(
        Acknowledgment(id="Serverless::Serverless-LambdaDLQ", reason=SQS_ONLY)
    )
    skip_checkov(function, "CKV_AWS_116", SQS_ONLY)
    acknowledge_function_choices(worker, kind="worker")


def acknowledge_function_choices(function: ContainerFunction, *, kind: str = "function") -> None:
    """What every example function chooses: no VPC, no reserved concurrency, no log group key."""
    resource = function.node.default_child
    assert isinstance(resource, CfnResource)
    skip_checkov(
        resource, "CKV_AWS_117", "Reaches only AWS APIs over the internet: no VPC resources."
    )
    skip_checkov(
        resource,
        "CKV_AWS_115",
        f"No reserved concurrency: the {kind} shares the account's unreserved pool.",
    )
    log_group = function.log_group.node.default_child
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
