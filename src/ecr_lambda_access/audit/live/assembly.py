"""From a cloud assembly: the static audit, and what the live check needs of it (the synthesized
repository policies, and the sources of replicas from the replication configurations).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..load import load_assembly
from ..report import AuditReport
from ..resolve import Assembly, has_marker
from ..verdicts import audit_stacks
from .targets import ImageRef, LiveTarget, parse_image_uri, targets_from_report


def audit_with_targets(
    path: str, *, organization_id: str | None = None
) -> tuple[AuditReport, list[LiveTarget]]:
    """The static audit of the assembly at ``path``, and a live target per function.

    The synthesized repository policies and replication configurations are resolved with the
    static audit's resolver (:mod:`.resolve`); values known only at deploy time leave a policy
    out (the live check then judges the deployed policy on its own).
    """
    stacks = load_assembly(path)
    report = audit_stacks(stacks, organization_id=organization_id)
    assembly = Assembly(stacks)
    policies: dict[str, Mapping[str, Any]] = {}
    configurations: list[tuple[str | None, str | None, Any]] = []
    for index, stack in enumerate(stacks):
        resolver = assembly.resolvers[index]
        for logical_id, resource in stack.resources.items():
            kind = resource.get("Type") if isinstance(resource, Mapping) else None
            if kind == "AWS::ECR::ReplicationConfiguration":
                configurations.append((stack.account, stack.region, resolver.resolve(resource)))
            if kind != "AWS::ECR::Repository":
                continue
            properties = resource.get("Properties") or {}
            document = resolver.resolve(properties.get("RepositoryPolicyText"))
            if isinstance(document, str) and not has_marker(document):
                try:
                    document = json.loads(document)
                except json.JSONDecodeError:
                    document = None
            arn = resolver.get_att(logical_id, "Arn", 0)
            if (
                isinstance(document, Mapping)
                and isinstance(arn, str)
                and not has_marker(arn + json.dumps(document, ensure_ascii=False))
            ):
                policies[arn] = document
    rules = replication_rules(configurations)
    sources = {
        image.repository_arn: source
        for image in (parse_image_uri(f.image) for f in report.functions)
        if image is not None and (source := replica_source(rules, image)) is not None
    }
    return report, targets_from_report(report, stacks, policies=policies, replica_sources=sources)


@dataclass(frozen=True)
class ReplicationRule:
    """One destination of a registry's replication configuration (plain data)."""

    source_account: str
    source_region: str
    destination_account: str
    destination_region: str
    prefixes: tuple[str, ...]
    """``PREFIX_MATCH`` filters; empty: every repository."""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def replication_rules(
    configurations: Iterable[tuple[str | None, str | None, Any]],
) -> list[ReplicationRule]:
    """The rules of ``AWS::ECR::ReplicationConfiguration`` resources (resolved), by source."""
    found = []
    for account, region, resource in configurations:
        properties = resource.get("Properties") if isinstance(resource, Mapping) else None
        configuration = (properties or {}).get("ReplicationConfiguration") or {}
        if not account or not region or not isinstance(configuration, Mapping):
            continue
        for rule in _list(configuration.get("Rules")):
            if not isinstance(rule, Mapping):
                continue
            prefixes = tuple(
                str(f.get("Filter"))
                for f in _list(rule.get("RepositoryFilters"))
                if isinstance(f, Mapping) and f.get("FilterType", "PREFIX_MATCH") == "PREFIX_MATCH"
            )
            for destination in _list(rule.get("Destinations")):
                if isinstance(destination, Mapping):
                    found.append(
                        ReplicationRule(
                            account,
                            region,
                            str(destination.get("RegistryId")),
                            str(destination.get("Region")),
                            prefixes,
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
