"""Replicas in the audit: is a function's repository a replica, and does replication fill it?

Read from the assembly: every ``AWS::ECR::ReplicationConfiguration`` and
``AWS::ECR::RegistryPolicy`` (both registry-wide: one per account and Region), and the
``replicaOf`` metadata ``add_replica`` records on a replica's ``AWS::ECR::Repository``. The
arithmetic (does a rule cover a repository and a destination, does a registry policy let the
source replicate) is :mod:`ecr_lambda_access.registry.replication`'s, shared with the constructs and
their property tests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..policy import root_arn
from ..registry.replication import (
    REPLICATE_ACTION,
    Destination,
    Replication,
    parse_replication_configuration,
    registry_policy_allows,
    rules_replicating,
)
from .values import Value

__all__ = [
    "REGISTRY_RESOURCE_TYPES",
    "RegistryResource",
    "ReplicaVerdict",
    "replica_of",
    "replica_source",
    "replica_verdict",
]

REGISTRY_RESOURCE_TYPES = {
    "AWS::ECR::ReplicationConfiguration": "ReplicationConfiguration",
    "AWS::ECR::RegistryPolicy": "PolicyText",
}
"""The registry-wide resources the audit reads, and the property that holds their value."""


def replica_of(resource: Mapping[str, Any]) -> str | None:
    """The source repository ARN ``add_replica`` recorded in a repository's metadata, or None."""
    metadata = resource.get("Metadata")
    ours = metadata.get("ecr-lambda-access") if isinstance(metadata, Mapping) else None
    value = ours.get("replicaOf") if isinstance(ours, Mapping) else None
    return value if isinstance(value, str) else None


@dataclass(frozen=True)
class RegistryResource:
    """A registry-wide resource read from a template: where it is deployed and its resolved value.

    ``value`` is the ``ReplicationConfiguration`` or ``PolicyText`` property, resolved; None when
    the audit could not read it. ``where`` names it in messages (stack and construct path).
    """

    account: Value
    region: Value
    value: Any
    where: str


@dataclass(frozen=True)
class ReplicaVerdict:
    """``ok`` (True), or the failing/unverifiable reason for a function's replica repository."""

    ok: bool
    verifiable: bool
    detail: str


def replica_source(
    *,
    name: str,
    account: str,
    region: str,
    declared_source: str | None,
    configurations: Sequence[RegistryResource],
) -> tuple[Value, Value] | None:
    """The (account, Region) of the registry a repository is a replica of, or None.

    ``declared_source`` is the ``replicaOf`` ARN ``add_replica`` records in the repository's
    metadata; without it, a replication configuration of the assembly whose rule sends ``name`` to
    this registry makes the repository a replica of that configuration's registry.
    """
    if declared_source:
        parts = declared_source.split(":")
        if len(parts) >= 6:
            return parts[4], parts[3]
    destination = Destination(account, region)
    for resource in configurations:
        rules = parse_replication_configuration(resource.value)
        if rules is not None and rules_replicating(rules, name, destination) is Replication.YES:
            return resource.account, resource.region
    return None


def replica_verdict(
    *,
    name: str,
    arn: str,
    account: str,
    region: str,
    source: tuple[Value, Value],
    declared: bool,
    configurations: Sequence[RegistryResource],
    registry_policies: Sequence[RegistryResource],
    partition: str = "aws",
) -> ReplicaVerdict:
    """Does replication bring images from ``source`` into this replica repository?

    Two things must hold: a rule of the source registry's replication configuration covers the
    repository name and this registry, and, across accounts, this registry's policy lets the
    source account ``ecr:ReplicateImage`` into the repository. Both resources are registry-wide:
    the one in the assembly is the one that will be deployed, so a missing rule or statement is a
    definite failure. When the assembly holds none, a replica made by ``add_replica``
    (``declared``) fails, since the library always writes both; any other is unverifiable (it may
    be configured outside this app). A repository not made by ``add_replica`` whose registry
    policy does not admit the source is unverifiable too: its images may be pushed to it directly.
    """
    source_account, source_region = source
    destination = Destination(account, region)
    own = [c for c in configurations if (c.account, c.region) == source]
    if not own:
        text = (
            f"no replication configuration of the registry {source_account}/{source_region} is "
            f"in the assembly, so nothing brings the images of {name} to {destination}"
        )
        if declared:
            return ReplicaVerdict(
                False, True, f"{text}: the source's add_replica writes one; restore it"
            )
        return ReplicaVerdict(
            False, False, f"{text} (it may be configured outside this app: check it there)"
        )
    if len(own) > 1:
        return ReplicaVerdict(
            False,
            False,
            f"the registry {source_account}/{source_region} has {len(own)} replication "
            f"configurations in the assembly ({', '.join(c.where for c in own)}): each replaces "
            "the others, so which one holds depends on deployment order; keep one",
        )
    (configuration,) = own
    rules = parse_replication_configuration(configuration.value)
    if rules is None:
        return ReplicaVerdict(
            False, False, f"the replication configuration {configuration.where} cannot be read"
        )
    answer = rules_replicating(rules, name, destination)
    if answer is Replication.UNKNOWN:
        return ReplicaVerdict(
            False,
            False,
            f"the rules of {configuration.where} use values known only at deploy time",
        )
    if answer is not Replication.YES:
        return ReplicaVerdict(
            False,
            True,
            f"no rule of the replication configuration {configuration.where} sends {name} to "
            f"{destination}: images never arrive in this replica. Add a rule with the filter "
            f"{name!r} (PREFIX_MATCH) and the destination {destination} "
            "(CrossAccountImageRepo.add_replica does)",
        )
    if account == source_account:
        return ReplicaVerdict(True, True, f"replicated from {source_account}/{source_region}")
    policies = [p for p in registry_policies if (p.account, p.region) == (account, region)]
    if not policies:
        text = (
            f"the registry {destination} has no registry policy in the assembly letting "
            f"{source_account} replicate into it (ecr:ReplicateImage)"
        )
        if declared:
            return ReplicaVerdict(
                False, True, f"{text}: add_replica writes one in the replica's stack; restore it"
            )
        return ReplicaVerdict(
            False, False, f"{text} (it may be set outside this app: check it there)"
        )
    if len(policies) > 1:
        return ReplicaVerdict(
            False,
            False,
            f"the registry {destination} has {len(policies)} registry policies in the assembly "
            f"({', '.join(p.where for p in policies)}): each replaces the others; keep one",
        )
    (registry,) = policies
    document = registry.value if isinstance(registry.value, Mapping) else None
    allowed = registry_policy_allows(
        document, source_account=str(source_account), repository_arn=arn, partition=partition
    )
    if allowed is Replication.YES:
        return ReplicaVerdict(
            True, True, f"replicated from {source_account}/{source_region} ({registry.where})"
        )
    if allowed is Replication.UNKNOWN or document is None:
        return ReplicaVerdict(
            False,
            False,
            f"the registry policy {registry.where} admits {source_account} only under a "
            "condition or value the audit cannot check",
        )
    verb = "denies" if allowed is Replication.DENIED else "does not allow"
    detail = (
        f"the registry policy {registry.where} {verb} {root_arn(str(source_account), partition)} "
        f"{REPLICATE_ACTION} on {arn}: replication into this registry fails. Allow it "
        "(CrossAccountImageRepo.add_replica writes the statement)"
    )
    if declared:
        return ReplicaVerdict(False, True, detail)
    # Not made by add_replica: its images may be pushed to it directly, not replicated.
    return ReplicaVerdict(False, False, f"{detail}; unless its images are pushed to it directly")
