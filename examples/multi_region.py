"""Example: one image source, functions in three Regions and two accounts (replicas).

* ``MultiRegionRegistry`` (registry account, us-east-1): the source repository ``shared/payments``,
  open to the second workload account, and the registry's replication configuration.
* ``MultiRegionReplicaEu`` (registry account, eu-west-1): a replica in the same account. It admits
  the source's consumers (with eu-west-1 in their function ARNs).
* ``MultiRegionWorkloadApSe2`` (workload account, ap-southeast-2): a replica in the workload
  account's own registry, its registry policy (the registry account may replicate into
  ``shared/payments`` only), and an SQS-triggered function running from it.
* ``MultiRegionWorkloadUse1`` / ``MultiRegionWorkloadEuw1`` (second workload account): a function
  in us-east-1 runs from the source, one in eu-west-1 from the eu-west-1 replica. Each passes the
  *source* repository: ``ContainerFunction`` picks the replica of its own Region.

Deploy order (stack dependencies): the replica stacks, then the registry stack (its replication
configuration must not send images before the replicas and the registry policy exist), then the
function stacks. Images pushed before the replication configuration is deployed are never
replicated: push (or re-push) the image after, and check it arrived before deploying functions
(``python -m ecr_lambda_access.image_check cdk.out``, README "Replicas").
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, CfnResource, Duration, Environment, Stack, Validations
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    RegistryReplication,
    ReplicationRegistryPolicy,
)

from .choices import acknowledge_function_choices, acknowledge_sqs_worker
from .queues import _SSE_SQS_SKIP, work_queue
from .settings import EXAMPLE_DIGEST, Settings

REPLICA_REGION = "eu-west-1"
WORKLOAD_REGION = "ap-southeast-2"


class SourceRegistryStack(Stack):
    """The registry account's source repository (and, added by add_replica, its replication)."""

    def __init__(
        self, scope: Construct, id: str, *, env: Environment, consumers: list[str]
    ) -> None:
        super().__init__(scope, id, env=env)
        self.images = CrossAccountImageRepo(
            self, "Images", repository_name="shared/payments", consumers=consumers
        )


class ReplicaStack(Stack):
    """A stack in another Region of the registry account, holding the replica."""


class FunctionStack(Stack):
    """A workload account's function running the shared image (from its Region's replica)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        images: CrossAccountImageRepo,
        function_name: str,
        own_replica: bool = False,
        with_queue: bool = False,
    ) -> None:
        super().__init__(scope, id, env=env)
        self.replica: CrossAccountImageRepo | None = None
        if own_replica:
            # This account's own registry receives the images: it admits only this account's
            # functions, never the source's other consumers.
            self.replica = images.add_replica(self)
        timeout = Duration.seconds(30)
        self.function = ContainerFunction(
            self,
            "Payments",
            repository=images,
            tag_or_digest=EXAMPLE_DIGEST,
            timeout=timeout,
            function_name=function_name,
            # Invoked asynchronously (events), or by an SQS queue: failed events are kept.
            dead_letter_queue=None if with_queue else failed_events(self),
        )
        if with_queue:
            queue = work_queue(self, "PaymentsQueue", function_timeout=timeout)
            self.function.add_sqs_source(queue, batch_size=5)
            acknowledge_sqs_worker(self.function)
        else:
            acknowledge_function_choices(self.function)


def failed_events(scope: Construct) -> sqs.Queue:
    """The dead-letter queue of an asynchronously invoked function (encrypted, TLS only)."""
    queue = sqs.Queue(
        scope,
        "FailedEvents",
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=Duration.days(14),
    )
    Validations.of(queue).acknowledge(
        Acknowledgment(
            id="Serverless::Serverless-SQSRedrivePolicy",
            reason="This queue is the function's dead-letter queue for failed asynchronous "
            "invocations: events stay 14 days for inspection and replay. A DLQ of a DLQ "
            "would only move the same events again.",
        )
    )
    resource = queue.node.default_child
    assert isinstance(resource, CfnResource)
    resource.add_metadata("checkov", {"skip": [_SSE_SQS_SKIP]})
    return queue


def _acknowledge_registry_wide(stacks: list[Stack]) -> None:
    """The example's registries have no replication configuration or registry policy of their
    own: the ones written here are the whole of it (README, Replicas: keeping an existing one)."""
    for stack in stacks:
        for child in stack.node.children:
            if isinstance(child, RegistryReplication):
                rule = "replicationReplacesRegistryConfiguration"
            elif isinstance(child, ReplicationRegistryPolicy):
                rule = "registryPolicyReplacesExisting"
            else:
                continue
            Validations.of(child).acknowledge(
                Acknowledgment(
                    id=f"Annotation::ecr-lambda-access:{rule}",
                    reason="The example's registries have no replication configuration or "
                    "registry policy of their own: this one is the registry's whole "
                    "configuration, as intended.",
                )
            )


def build(app: App, settings: Settings) -> dict[str, Stack]:
    registry_account = settings.registry_account
    workload_account = settings.workload_account
    second_account = settings.second_workload_account
    source = SourceRegistryStack(
        app,
        "MultiRegionRegistry",
        env=Environment(account=registry_account, region=settings.region),
        consumers=[second_account],
    )
    replica_eu = ReplicaStack(
        app,
        "MultiRegionReplicaEu",
        env=Environment(account=registry_account, region=REPLICA_REGION),
    )
    # The same registry account in another Region: the source's consumers are admitted there.
    source.images.add_replica(replica_eu)

    # The workload account's own registry in ap-southeast-2, with its SQS-triggered function.
    workload = FunctionStack(
        app,
        "MultiRegionWorkloadApSe2",
        env=Environment(account=workload_account, region=WORKLOAD_REGION),
        images=source.images,
        function_name="payments-worker",
        own_replica=True,
        with_queue=True,
    )
    use1 = FunctionStack(
        app,
        "MultiRegionWorkloadUse1",
        env=Environment(account=second_account, region=settings.region),
        images=source.images,
        function_name="payments-api",
    )
    euw1 = FunctionStack(
        app,
        "MultiRegionWorkloadEuw1",
        env=Environment(account=second_account, region=REPLICA_REGION),
        images=source.images,
        function_name="payments-api",
    )
    _acknowledge_registry_wide([source, workload])
    return {
        "MultiRegionRegistry": source,
        "MultiRegionReplicaEu": replica_eu,
        "MultiRegionWorkloadApSe2": workload,
        "MultiRegionWorkloadUse1": use1,
        "MultiRegionWorkloadEuw1": euw1,
    }
