"""The replication stage of a function's verdict: is the repository a replica replication fills
(``not-replicated``), one replication creates (judged by the creation template that applies, or
``no-policy``), or one in a Region no rule reaches? The arithmetic is the registry layer's
(:mod:`ecr_lambda_access.registry`); the statuses' rules are in their own modules."""

from __future__ import annotations

from collections.abc import Callable

from ...registry.image_ref import ImageRef
from ...registry.replication import (
    Destination,
    Replication,
    parse_replication_configuration,
    rules_covering,
    rules_replicating,
)
from ...registry.templates import (
    REPLICATION,
    UNCONFIRMED_REGIONS,
    applying_template,
    templates_confirmed,
)
from ..model import ModelRepository, ParsedPolicy, PolicyState
from ..replicas import replica_source, replica_verdict
from ..resolve import Resolver, has_marker, partition_of
from ..results import FunctionReport
from .context import AuditContext
from .invalid_policy import ID as INVALID_POLICY
from .no_policy import ID as NO_POLICY
from .not_replicated import ID as NOT_REPLICATED
from .ok import ID as OK
from .unverifiable import ID as UNVERIFIABLE

__all__ = ["replica_status", "replicating_sources", "created_by_replication", "unreached_replica"]


def replica_status(audit: AuditContext, repository: ModelRepository) -> tuple[str, str] | None:
    """NOT_REPLICATED (or UNVERIFIABLE) when the repository is a replica nothing fills."""
    if any(has_marker(v) for v in (repository.name, repository.account, repository.region)):
        return None
    source = replica_source(
        name=repository.name,
        account=repository.account,
        region=repository.region,
        declared_source=repository.replica_of,
        configurations=audit.replication_configurations,
    )
    if source is None:
        return unreached_replica(audit, repository)
    verdict = replica_verdict(
        name=repository.name,
        arn=repository.arn,
        account=repository.account,
        region=repository.region,
        source=source,
        declared=repository.replica_of is not None,
        configurations=audit.replication_configurations,
        registry_policies=audit.registry_policies,
        partition=partition_of(repository.region),
    )
    if verdict.ok:
        return None
    status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
    return status, f"repository {repository.path} is a replica: {verdict.detail}"


def replicating_sources(
    audit: AuditContext, name: str, account: str, region: str
) -> tuple[list[tuple[str, str, str]], bool]:
    """The registries of the assembly whose replication rules send repository ``name`` to
    ``account``/``region``: (source account, source Region, where); and whether a rule
    could but depends on deploy-time values."""
    found: list[tuple[str, str, str]] = []
    unknown = False
    destination = Destination(account, region)
    for configuration in audit.replication_configurations:
        if (configuration.account, configuration.region) == (account, region):
            continue
        rules = parse_replication_configuration(configuration.value)
        if rules is None:
            continue
        answer = rules_replicating(rules, name, destination)
        if answer is Replication.YES:
            found.append((configuration.account, configuration.region, configuration.where))
        elif answer is Replication.UNKNOWN:
            unknown = True
    return found, unknown


def created_by_replication(
    audit: AuditContext,
    report: Callable[..., FunctionReport],
    image: ImageRef,
    resolver: Resolver,
    name: str | None,
    logical_id: str,
) -> FunctionReport | None:
    """A repository in no template that a replication rule of the assembly creates: ECR
    creates it with no policy, or with the policy of the creation template that applies."""
    if any(has_marker(v) for v in (image.account, image.region, image.repository)):
        return None
    sources, _ = replicating_sources(audit, image.repository, image.account, image.region)
    if not sources:
        return None
    source_account, source_region, where = sources[0]
    arn = (
        f"arn:{partition_of(image.region)}:ecr:{image.region}:{image.account}"
        f":repository/{image.repository}"
    )
    created = (
        f"repository {image.repository} is in no template of the assembly, but the "
        f"replication configuration {where} sends it from {source_account}/{source_region} "
        f"to {image.account}/{image.region}: ECR creates it there on the first replication"
    )
    templates = audit.model.creation_templates
    template = applying_template(
        templates,
        account=image.account,
        region=image.region,
        name=image.repository,
        cause=REPLICATION,
    )
    doubtful = [
        t for t in templates if not t.known or any(has_marker(v) for v in (t.account, t.region))
    ]
    if template is None or not template.known:
        if doubtful or (template is not None and not template.known):
            which = (template or doubtful[0]).where
            return report(
                UNVERIFIABLE,
                f"{created}; whether the creation template {which} applies (and with what "
                "policy) depends on values known only at deploy time",
                repository=arn,
            )
        return report(
            NO_POLICY,
            f"{created}, with no repository policy: no repository creation template of "
            f"{image.account}/{image.region} with AppliedFor REPLICATION matches the name. "
            "Create the replica in a stack (CrossAccountImageRepo.add_replica) or add a "
            "creation template whose RepositoryPolicy admits the function",
            repository=arn,
        )
    at_creation = (
        f"the policy of creation template {template.where} (prefix {template.prefix}), "
        "which applies only when ECR creates the repository: a later change of the template "
        "does not reach an existing repository"
    )
    if not templates_confirmed(image.region):
        # neither confirmed nor excluded by AWS there: a failure stands either way (no policy
        # is no better), an ok would rest on the unconfirmed part
        at_creation += (
            f" (AWS's documentation does not confirm that ECR applies creation templates in "
            f"{UNCONFIRMED_REGIONS}; where it does not, the repository gets no policy at all)"
        )
    if template.policy_problem is not None:
        return report(
            INVALID_POLICY,
            f"{created}, with {at_creation}; that policy is invalid: {template.policy_problem}",
            repository=arn,
        )
    if template.repository_policy is None:
        return report(
            NO_POLICY,
            f"{created}, with no repository policy: the creation template {template.where} "
            "that applies sets no RepositoryPolicy",
            repository=arn,
        )
    replica = ModelRepository(
        index=resolver.index,
        logical_id="",
        name=image.repository,
        arn=arn,
        account=image.account,
        region=image.region,
        path=f"{image.repository} (created by replication)",
        policy=ParsedPolicy(PolicyState.VALID, document=template.repository_policy),
    )
    status, detail = audit.evaluate(resolver, replica, name, logical_id)
    if status == OK:
        verdict = replica_verdict(
            name=image.repository,
            arn=arn,
            account=image.account,
            region=image.region,
            source=(source_account, source_region),
            declared=False,
            configurations=audit.replication_configurations,
            registry_policies=audit.registry_policies,
            partition=partition_of(image.region),
        )
        if not verdict.ok:
            status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
            detail = verdict.detail
    if status == OK and not templates_confirmed(image.region):
        return report(
            UNVERIFIABLE,
            f"{created}, with {at_creation}. That policy admits the function ({detail}), but "
            f"only if the template applies in {image.region}: check the created repository's "
            "policy after the first replication (ecr-lambda-access audit --live), or create the "
            "replica in a stack (CrossAccountImageRepo.add_replica)",
            repository=arn,
        )
    return report(status, f"{created}, with {at_creation}: {detail}", repository=arn)


def unreached_replica(audit: AuditContext, repository: ModelRepository) -> tuple[str, str] | None:
    """A repository named like a source repository whose registry replicates elsewhere but
    not here: NOT_REPLICATED when a rule of that registry matches the name (without this
    destination), UNVERIFIABLE when none does (only direct pushes fill it)."""
    for source in audit.by_name.get(repository.name, ()):
        if (source.account, source.region) == (repository.account, repository.region):
            continue
        if not source.known:
            continue
        outgoing, _ = replicating_sources(audit, source.name, source.account, source.region)
        if any((a, r) == (repository.account, repository.region) for a, r, _ in outgoing):
            continue  # this repository is the other's source, not its replica
        own = [
            c
            for c in audit.replication_configurations
            if (c.account, c.region) == (source.account, source.region)
        ]
        if len(own) != 1:
            continue
        rules = parse_replication_configuration(own[0].value)
        if rules is None:
            continue
        here = f"{repository.account}/{repository.region}"
        covering = rules_covering(rules, repository.name)
        if covering:
            targets = sorted({str(d) for r in covering for d in r.destinations})
            return NOT_REPLICATED, (
                f"repository {repository.path} is a replica of {source.path} "
                f"({source.account}/{source.region}): the rules of {own[0].where} that match "
                f"{repository.name} send it to {', '.join(targets) or 'no destination'}, not "
                f"to {here}: images never arrive here. Add the destination {here} "
                "(CrossAccountImageRepo.add_replica does)"
            )
        return UNVERIFIABLE, (
            f"repository {repository.path} has the name of {source.path} "
            f"({source.account}/{source.region}), whose registry replicates ({own[0].where}) "
            f"but no rule of which matches {repository.name}: nothing replicates images to "
            f"{here}, so only direct pushes fill this repository"
        )
    return None
