"""From a cloud assembly: the static audit, and what the live check needs of it (the synthesized
repository policies, and the sources of replicas from the replication configurations).

Both come from the one model of the assembly (:mod:`..model`): the live check sees exactly the
repositories, policies and replication rules the static audit judged (a repository under a false
Condition is in neither; an unreadable policy is the same ``invalid`` state in both; a filter type
other than ``PREFIX_MATCH`` makes a configuration unreadable in both).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from ...policy.size import partition_of_region
from ...registry.image_ref import ImageRef
from ...registry.replication import parse_replication_configuration
from ..load import load_assembly
from ..model import AssemblyModel, ModelImage, PolicyState, build_model
from ..replicas import replica_source as _replica_source
from ..report import AuditReport
from ..values import Unknown, Value
from ..verdicts import audit_model
from .targets import LiveTarget, targets_from_report

__all__ = [
    "ReplicationRule",
    "audit_with_targets",
    "model_targets",
    "replica_source",
    "replication_rules",
]


def audit_with_targets(
    path: str, *, organization_id: str | None = None
) -> tuple[AuditReport, list[LiveTarget]]:
    """The static audit of the assembly at ``path``, and a live target per function.

    Both read one model of the assembly; values known only at deploy time leave a policy out
    (the live check then judges the deployed policy on its own).
    """
    model = build_model(load_assembly(path))
    report = audit_model(model, organization_id=organization_id)
    return report, model_targets(model, report)


def model_targets(model: AssemblyModel, report: AuditReport) -> list[LiveTarget]:
    """A live target per function of ``report`` (the static audit of ``model``)."""
    policies: dict[str, Mapping[str, Any] | None] = {}
    states: dict[str, str] = {}
    for repository in model.repositories:
        arn = repository.arn
        if isinstance(arn, Unknown) or arn in states:
            continue  # the first of a name, as the static audit finds it
        states[arn] = repository.policy.state.value
        document = repository.policy.document
        if repository.policy.state is PolicyState.VALID and not repository.policy.has_unknowns:
            policies[arn] = document
    sources: dict[str, tuple[str, str]] = {}
    for function in model.functions:
        image = function.image
        if not isinstance(image, ModelImage):
            continue
        name, account, region = image.repository, image.account, image.region
        if isinstance(name, Unknown) or isinstance(account, Unknown) or isinstance(region, Unknown):
            continue
        declared = next(
            (
                r.replica_of
                for r in model.by_name.get(name, ())
                if (r.account, r.region) == (account, region)
            ),
            None,
        )
        source = _replica_source(
            name=name,
            account=account,
            region=region,
            declared_source=declared,
            configurations=[
                c
                for c in model.replication_configurations
                if (c.account, c.region) != (account, region)
            ],
        )
        if source is not None and _known(source):
            sources[str(image.repository_arn(partition_of_region(region)))] = source
    return targets_from_report(
        report, model.stacks, policies=policies, replica_sources=sources, policy_states=states
    )


def _known(source: tuple[Value, Value]) -> TypeGuard[tuple[str, str]]:
    """A replica's source registry the live check can ask (neither part unknown)."""
    return not any(isinstance(v, Unknown) for v in source)


@dataclass(frozen=True)
class ReplicationRule:
    """One destination of a registry's replication configuration (plain data)."""

    source_account: str
    source_region: str
    destination_account: str
    destination_region: str
    prefixes: tuple[str, ...]
    """``PREFIX_MATCH`` filters; empty: every repository."""


def replication_rules(
    configurations: Iterable[tuple[str | None, str | None, Any]],
) -> list[ReplicationRule]:
    """The rules of ``AWS::ECR::ReplicationConfiguration`` resources (resolved), by source.

    Read by :func:`ecr_lambda_access.registry.replication.parse_replication_configuration`, as
    the static audit reads them: a configuration with a filter type other than ``PREFIX_MATCH``
    (or any value that is not the documented shape) is unreadable and gives no rule.
    """
    found = []
    for account, region, resource in configurations:
        properties = resource.get("Properties") if isinstance(resource, Mapping) else None
        value = (
            properties.get("ReplicationConfiguration") if isinstance(properties, Mapping) else None
        )
        if not account or not region:
            continue
        for rule in parse_replication_configuration(value) or []:
            for destination in rule.destinations:
                found.append(
                    ReplicationRule(
                        account, region, destination.account, destination.region, rule.prefixes
                    )
                )
    return found


def replica_source(rules: Sequence[ReplicationRule], image: ImageRef) -> tuple[str, str] | None:
    """(account, Region) of the registry that replicates the image's repository, if one does."""
    for rule in rules:
        if (
            (rule.destination_account, rule.destination_region) == (image.account, image.region)
            and (rule.source_account, rule.source_region) != (image.account, image.region)
            and (not rule.prefixes or any(image.repository.startswith(p) for p in rule.prefixes))
        ):
            return rule.source_account, rule.source_region
    return None
