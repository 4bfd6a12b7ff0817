"""The registry's ImagePullMonitor, added to the cross-account and multi-Region examples
(app.py calls :func:`build` with what those examples built; they stay unchanged, so the synth
benchmark of ``examples/cross_account.py`` still compares the same stacks).

* ``RegistryMonitorStack``: in a registry account and Region, an :class:`ImagePullMonitor` of the
  repositories given (the example's own; by default it would watch every
  ``CrossAccountImageRepo`` of the app in that account and Region). Its own stack, so the
  registry's stack and the monitor's code deploy on their own.
* ``MonitorReadStack``: in a workload account, the read-only role the monitor assumes to read the
  functions' state (``function-failed``). It trusts the registry account's root limited to the
  monitor role's ARN, so it deploys before or after the monitor's stack.

The monitor's EventBridge rules on ECR API calls need a CloudTrail trail in the registry account
(docs/monitor.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import App, Environment, Stack
from constructs import Construct

from ecr_lambda_access import CrossAccountImageRepo, ImagePullMonitor, ImagePullMonitorReadRole

from .cross_account import RegistryStack, WorkloadStack
from .multi_region import SourceRegistryStack
from .settings import Settings

READ_ROLE_NAME = "ImagePullMonitorRead"


class RegistryMonitorStack(Stack):
    """The registry's monitor: the repositories' consumers checked every hour and on change."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        env: Environment,
        repositories: Sequence[CrossAccountImageRepo],
        read_role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id, env=env)
        self.monitor = ImagePullMonitor(
            self,
            "ImagePullMonitor",
            repositories=repositories,
            consumer_read_role_name=read_role_name,
        )


class MonitorReadStack(Stack):
    """A workload account's read-only role for the registry's monitor."""

    def __init__(
        self, scope: Construct, id: str, *, env: Environment, monitor: ImagePullMonitor
    ) -> None:
        super().__init__(scope, id, env=env)
        self.read_role = ImagePullMonitorReadRole(self, "ImagePullMonitorRead", monitor=monitor)


def build(
    app: App,
    settings: Settings,
    *,
    cross_account: tuple[RegistryStack, Sequence[WorkloadStack]],
    multi_region: SourceRegistryStack,
) -> dict[str, Stack]:
    """The monitors of both examples' registries, and the read roles of the cross-account one."""
    registry, workloads = cross_account
    stacks: dict[str, Stack] = {}
    monitor = RegistryMonitorStack(
        app,
        "RegistryMonitor",
        env=Environment(account=settings.registry_account, region=settings.region),
        repositories=[registry.images],
        read_role_name=READ_ROLE_NAME,
    )
    stacks["RegistryMonitor"] = monitor
    for workload in workloads:
        name = f"{workload.node.id}MonitorRead"
        stacks[name] = MonitorReadStack(
            app,
            name,
            env=Environment(account=workload.account, region=settings.region),
            monitor=monitor.monitor,
        )
    # A monitor in each Region of the multi-Region registry: the source, and its replica in the
    # same account (the eu-west-1 one reads the replica's replication status in the source).
    source = multi_region.images
    stacks["MultiRegionMonitor"] = RegistryMonitorStack(
        app,
        "MultiRegionMonitor",
        env=Environment(account=settings.registry_account, region=settings.region),
        repositories=[source],
    )
    for replica in source.replicas:
        replica_stack = Stack.of(replica)
        if replica_stack.account != settings.registry_account:
            continue  # the workload account's own replica: its own registry's monitor
        name = f"MultiRegionMonitor{replica_stack.region.split('-')[0].capitalize()}"
        stacks[name] = RegistryMonitorStack(
            app,
            name,
            env=Environment(account=replica_stack.account, region=replica_stack.region),
            repositories=[replica],
        )
    return stacks
