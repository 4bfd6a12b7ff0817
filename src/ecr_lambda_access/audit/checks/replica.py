"""The replication stage of a function's verdict: is the repository a replica replication fills
(``not-replicated``), one replication creates (judged by the creation template that applies, or
``no-policy``), or one in a Region no rule reaches? The arithmetic is the registry layer's
(:mod:`ecr_lambda_access.registry`); the statuses' rules are in their own modules."""

from __future__ import annotations

from typing import TYPE_CHECKING

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
from ..model import ModelImage, ModelRepository, ParsedPolicy, PolicyState
from ..replicas import replica_source, replica_verdict
from ..resolve import partition_of
from ..results import FunctionReport
from ..values import Unknown, Value, reasons
from .context import AuditContext
from .invalid_policy import ID as INVALID_POLICY
from .no_policy import ID as NO_POLICY
from .not_replicated import ID as NOT_REPLICATED
from .ok import ID as OK
from .unverifiable import ID as UNVERIFIABLE

if TYPE_CHECKING:
    from ..stages.draft import Draft

__all__ = ["replica_status", "replicating_sources", "created_by_replication", "unreached_replica"]


def replica_status(audit: AuditContext, repository: ModelRepository) -> tuple[str, str] | None:
    """NOT_REPLICATED (or UNVERIFIABLE) when the repository is a replica nothing fills."""
    name, account, region = repository.name, repository.account, repository.region
    if isinstance(name, Unknown) or isinstance(account, Unknown) or isinstance(region, Unknown):
        if repository.replica_of is None:
            return None  # not known to be a replica: its images may be pushed to it directly
        return UNVERIFIABLE, (
            f"repository {repository.path} is a replica of {repository.replica_of} "
            f"(add_replica), but its name, account or Region is known only at deploy time "
            f"({reasons(name, account, region)}): whether replication fills it cannot be checked"
        )
    source = replica_source(
        name=name,
        account=account,
        region=region,
        declared_source=repository.replica_of,
        configurations=audit.replication_configurations,
    )
    if source is None:
        return unreached_replica(audit, repository)
    verdict = replica_verdict(
        name=name,
        arn=str(repository.arn),
        account=account,
        region=region,
        source=source,
        declared=repository.replica_of is not None,
        configurations=audit.replication_configurations,
        registry_policies=audit.registry_policies,
        partition=partition_of(region),
    )
    if verdict.ok:
        return None
    status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
    return status, f"repository {repository.path} is a replica: {verdict.detail}"


def replicating_sources(
    audit: AuditContext, name: str, account: str, region: str
) -> tuple[list[tuple[Value, Value, str]], bool]:
    """The registries of the assembly whose replication rules send repository ``name`` to
    ``account``/``region``: (source account, source Region, where); and whether a rule
    could but depends on deploy-time values."""
    found: list[tuple[Value, Value, str]] = []
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
    audit: AuditContext, draft: Draft, image: ModelImage
) -> FunctionReport | None:
    """A repository in no template that a replication rule of the assembly creates: ECR
    creates it with no policy, or with the policy of the creation template that applies."""
    name, account, region = image.repository, image.account, image.region
    if isinstance(name, Unknown) or isinstance(account, Unknown) or isinstance(region, Unknown):
        return None
    report = draft.report
    sources, _ = replicating_sources(audit, name, account, region)
    if not sources:
        return None
    source_account, source_region, where = sources[0]
    arn = f"arn:{partition_of(region)}:ecr:{region}:{account}:repository/{name}"
    created = (
        f"repository {name} is in no template of the assembly, but the "
        f"replication configuration {where} sends it from {source_account}/{source_region} "
        f"to {account}/{region}: ECR creates it there on the first replication"
    )
    templates = audit.model.creation_templates
    template = applying_template(
        templates, account=account, region=region, name=name, cause=REPLICATION
    )
    # the model marks a template whose registry, prefix or policy is a deploy-time value
    doubtful = [t for t in templates if not t.known]
    if template is None or not template.known:
        if doubtful or (template is not None and not template.known):
            which = template or doubtful[0]
            why = f" ({which.unknown_reason})" if which.unknown_reason else ""
            return report(
                UNVERIFIABLE,
                f"{created}; whether the creation template {which.where} applies (and with what "
                f"policy) depends on values known only at deploy time{why}",
                repository=arn,
            )
        return report(
            NO_POLICY,
            f"{created}, with no repository policy: no repository creation template of "
            f"{account}/{region} with AppliedFor REPLICATION matches the name. "
            "Create the replica in a stack (CrossAccountImageRepo.add_replica) or add a "
            "creation template whose RepositoryPolicy admits the function",
            repository=arn,
        )
    at_creation = (
        f"the policy of creation template {template.where} (prefix {template.prefix}), "
        "which applies only when ECR creates the repository: a later change of the template "
        "does not reach an existing repository"
    )
    if not templates_confirmed(region):
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
        index=draft.index,
        logical_id="",
        name=name,
        arn=arn,
        account=account,
        region=region,
        path=f"{name} (created by replication)",
        policy=ParsedPolicy(PolicyState.VALID, document=template.repository_policy),
    )
    status, detail = audit.evaluate(draft.index, replica, draft.name, draft.function.logical_id)
    if status == OK:
        verdict = replica_verdict(
            name=name,
            arn=arn,
            account=account,
            region=region,
            source=(source_account, source_region),
            declared=False,
            configurations=audit.replication_configurations,
            registry_policies=audit.registry_policies,
            partition=partition_of(region),
        )
        if not verdict.ok:
            status = NOT_REPLICATED if verdict.verifiable else UNVERIFIABLE
            detail = verdict.detail
    if status == OK and not templates_confirmed(region):
        return report(
            UNVERIFIABLE,
            f"{created}, with {at_creation}. That policy admits the function ({detail}), but "
            f"only if the template applies in {region}: check the created repository's "
            "policy after the first replication (ecr-lambda-access audit --live), or create the "
            "replica in a stack (CrossAccountImageRepo.add_replica)",
            repository=arn,
        )
    return report(status, f"{created}, with {at_creation}: {detail}", repository=arn)


def unreached_replica(audit: AuditContext, repository: ModelRepository) -> tuple[str, str] | None:
    """A repository named like a source repository whose registry replicates elsewhere but
    not here: NOT_REPLICATED when a rule of that registry matches the name (without this
    destination), UNVERIFIABLE when none does (only direct pushes fill it)."""
    for source in audit.by_name.get(str(repository.name), ()):
        if (source.account, source.region) == (repository.account, repository.region):
            continue
        if (
            isinstance(source.name, Unknown)
            or isinstance(source.account, Unknown)
            or isinstance(source.region, Unknown)
        ):
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
        covering = rules_covering(rules, str(repository.name))
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
