"""The registry's ImagePullMonitor, added to the cross-account and multi-Region examples.

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

from aws_cdk import Environment, Stack
from constructs import Construct

from ecr_lambda_access import CrossAccountImageRepo, ImagePullMonitor, ImagePullMonitorReadRole

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
