"""ecr-lambda-access: Lambda functions that run container images from private (cross-account) ECR.

The constructs (``CrossAccountImageRepo``, ``ContainerFunction``) import aws-cdk-lib and so start
the jsii kernel; they are loaded on first use (PEP 562), so the pure parts (policy arithmetic,
validation, the ``audit`` command) import in milliseconds without Node.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__ as __version__  # its one source, below every module
from .errors import (
    EcrLambdaAccessError,
    InvalidConsumerError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    InvalidOrganizationIdError,
    InvalidRepositoryError,
    PolicyTooLargeError,
    QueueConfigurationError,
    RegionMismatchError,
    ReplicaConfigurationError,
    ReplicationLimitError,
)
from .policy import (
    ECR_POLICY_MAX_CHARS,
    ECR_PULL_ACTIONS,
    LAMBDA_SERVICE_PRINCIPAL,
    LambdaConsumer,
    repository_policy,
)

if TYPE_CHECKING:
    from .checks import ImagePullChecks
    from .function import ContainerFunction
    from .monitor import ImagePullMonitor, ImagePullMonitorReadRole
    from .pipelines import ImagePullAuditStep
    from .replication import RegistryReplication, ReplicationRegistryPolicy
    from .repository import CrossAccountImageRepo, ImagePullPolicy


_LAZY = {
    "CrossAccountImageRepo": ".repository",
    "ImagePullPolicy": ".repository",
    "ContainerFunction": ".function",
    "ImagePullChecks": ".checks",
    "RegistryReplication": ".replication",
    "ReplicationRegistryPolicy": ".replication",
    "ImagePullAuditStep": ".pipelines",
    "ImagePullMonitor": ".monitor",
    "ImagePullMonitorReadRole": ".monitor",
}

__all__ = [
    "ContainerFunction",
    "CrossAccountImageRepo",
    "ECR_POLICY_MAX_CHARS",
    "ECR_PULL_ACTIONS",
    "EcrLambdaAccessError",
    "ImagePullAuditStep",
    "ImagePullChecks",
    "ImagePullMonitor",
    "ImagePullMonitorReadRole",
    "ImagePullPolicy",
    "InvalidConsumerError",
    "InvalidFunctionNameError",
    "InvalidImageReferenceError",
    "InvalidOrganizationIdError",
    "InvalidRepositoryError",
    "LAMBDA_SERVICE_PRINCIPAL",
    "LambdaConsumer",
    "PolicyTooLargeError",
    "QueueConfigurationError",
    "RegionMismatchError",
    "RegistryReplication",
    "ReplicaConfigurationError",
    "ReplicationLimitError",
    "ReplicationRegistryPolicy",
    "repository_policy",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
