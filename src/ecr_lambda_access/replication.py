"""Registry-level wiring of replicas: replication configurations, registry policies, replicas.

ECR replication is configured per *registry* (one account in one Region), not per repository:

* :class:`RegistryReplication` is the one ``AWS::ECR::ReplicationConfiguration`` of a source
  registry in this app. Every :meth:`CrossAccountImageRepo.add_replica
  <ecr_lambda_access.CrossAccountImageRepo.add_replica>` of that registry adds its repository and
  destination to it; the rules are rendered at synth time (:func:`~ecr_lambda_access.
  replication_plan.replication_rules`), within ECR's limits.
* :class:`ReplicationRegistryPolicy` is the one ``AWS::ECR::RegistryPolicy`` of a destination
  registry in another account: each source account's root may ``ecr:ReplicateImage`` into the
  replicated repositories only.

Both resources replace whatever the registry had (another stack's, or one set in the console):
each says so with a warning carrying an id, and both take the rules or statements to keep
(:meth:`RegistryReplication.add_rule`, :meth:`ReplicationRegistryPolicy.add_statement`).

Deployment order, as stack dependencies: every replica's stack (and the registry policy's stack)
deploys before the stack holding the source's replication configuration, so that ECR never
creates a replica repository itself (it would have no policy, and CloudFormation could no longer
create it); a function's stack deploys after the stack of the replica it runs from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import jsii
from aws_cdk import IStableAnyProducer, Lazy, Names, Stack, Stage, Token
from aws_cdk import aws_ecr as ecr
from constructs import Construct

from . import policy
from ._annotations import warn
from ._shared import literal_name
from .errors import ReplicaConfigurationError, Violation, raise_if_violations
from .policy import LambdaConsumer, replica_consumers
from .registry.replication import (
    Destination,
    ReplicationRule,
    over_matches,
    registry_policy,
    replication_configuration,
    replication_rules,
)
from .validation import check_organization_id

__all__ = [
    "Destination",
    "RegistryReplication",
    "ReplicationRegistryPolicy",
    "ReplicationRule",
    "add_replica",
]

_REGISTRIES_ATTRIBUTE = "_ecr_lambda_access_registries"


def _registries(scope: Construct) -> dict[tuple[str, str, str], Any]:
    """The table of registry singletons of ``scope``'s stage (the app, or a CDK Pipelines stage:
    each stage is deployed on its own, so each writes its own registry-wide resources)."""
    stage = Stage.of(scope) or scope.node.root
    table: dict[tuple[str, str, str], Any] | None = getattr(stage, _REGISTRIES_ATTRIBUTE, None)
    if table is None:
        table = {}
        setattr(stage, _REGISTRIES_ATTRIBUTE, table)
    return table


def _literal_env(stack: Stack) -> tuple[str, str] | None:
    if Token.is_unresolved(stack.account) or Token.is_unresolved(stack.region):
        return None
    return stack.account, stack.region


_Singleton = TypeVar("_Singleton", bound=Construct)


def _registry_singleton(cls: type[_Singleton], scope: Construct, id: str) -> _Singleton:
    """The one ``cls`` of the registry of ``scope``'s stack in its stage, created on first use."""
    stack = Stack.of(scope)
    env = _literal_env(stack)
    if env is None:
        raise ReplicaConfigurationError(
            f"{cls.__name__}.of(scope): the stack {stack.stack_name} is "
            "environment-agnostic: registry-wide resources belong to one account and Region; "
            "give the stack env=Environment(account=..., region=...)"
        )
    key = (cls.__name__, *env)
    table = _registries(scope)
    found = table.get(key)
    if found is None:
        found = cls(stack, id)
        table[key] = found
    assert isinstance(found, cls)
    return found


def _depend(dependent: Stack, dependency: Stack, reason: str) -> None:
    if dependent.node.path != dependency.node.path:
        dependent.add_stack_dependency(dependency, reason)


@jsii.implements(IStableAnyProducer)
class _Producer:
    def __init__(self, render: Any) -> None:
        self._render = render

    def produce(self) -> Any:
        return self._render()


class RegistryReplication(Construct):
    """The replication configuration of one source registry (an account in one Region).

    Get it with :meth:`of`; ``add_replica`` registers each replicated repository on it. One per
    source environment in the app, written as ``AWS::ECR::ReplicationConfiguration`` (id
    ``Resource``) in the first stack of that environment that asked for it.

    **It replaces the registry's current replication configuration.** To keep rules the registry
    already has (set in the console or by another tool), pass them in with :meth:`add_rule`.

    Each repository name becomes a ``PREFIX_MATCH`` filter, ECR's only filter type:
    ``shared/orders`` also replicates ``shared/orders-legacy`` to the same destinations. A warning
    (``ecr-lambda-access:replicationPrefixOverMatch``) names such repositories of this app (those
    defined in this registry before the ``add_replica`` call).
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        env = _literal_env(stack)
        if env is None:
            raise ReplicaConfigurationError(
                f"RegistryReplication: the stack {stack.stack_name} is environment-agnostic: a "
                "replication configuration belongs to one registry; give the stack "
                "env=Environment(account=..., region=...)"
            )
        self.account, self.region = env
        self._repositories: dict[str, set[Destination]] = {}
        self._extra_rules: list[ReplicationRule] = []
        self._warned: set[tuple[str, str]] = set()
        self.resource = ecr.CfnReplicationConfiguration(
            self,
            "Resource",
            replication_configuration=Lazy.any(_Producer(self._render)),
        )
        warn(
            self,
            "replicationReplacesRegistryConfiguration",
            f"this AWS::ECR::ReplicationConfiguration is the whole replication configuration of "
            f"the registry of account {self.account} in {self.region}: deploying it replaces any "
            "configuration the registry already has (set in the console or by another stack). "
            "Keep existing rules by passing them in: RegistryReplication.of(stack).add_rule(...).",
        )

    @classmethod
    def of(cls, scope: Construct) -> RegistryReplication:
        """The replication configuration of the registry of ``scope``'s stack (created once)."""
        return _registry_singleton(cls, scope, "EcrLambdaAccessReplication")

    @property
    def rules(self) -> list[ReplicationRule]:
        """The rules as they will be deployed (extra rules first, then the replicas')."""
        return replication_rules(
            self._repositories,
            source_account=self.account,
            extra_rules=self._extra_rules,
            argument=f"replication of registry {self.account}/{self.region}",
        )

    def add_rule(
        self, *, destinations: Sequence[Destination | tuple[str, str]], prefixes: Sequence[str] = ()
    ) -> None:
        """Keep a rule the registry already has (or add one): it is written before ours.

        ``destinations`` are ``Destination(account, region)`` or ``(account, region)`` pairs;
        ``prefixes`` the rule's ``PREFIX_MATCH`` filters (none: every repository). Raises
        :class:`~ecr_lambda_access.ReplicationLimitError` when ECR's limits would be exceeded.
        """
        rule = ReplicationRule(
            destinations=tuple(
                sorted(d if isinstance(d, Destination) else Destination(*d) for d in destinations)
            ),
            prefixes=tuple(prefixes),
        )
        self._extra_rules.append(rule)
        try:
            _ = self.rules
        except Exception:
            self._extra_rules.pop()
            raise

    def _add(self, name: str, destination: Destination, destination_stack: Stack) -> None:
        destinations = self._repositories.setdefault(name, set())
        destinations.add(destination)
        try:
            rules = self.rules
        except Exception:
            destinations.discard(destination)
            if not destinations:
                del self._repositories[name]
            raise
        _depend(
            Stack.of(self),
            destination_stack,
            f"the replica of {name} in {destination} must exist (with its policy) before the "
            "replication configuration sends images to it",
        )
        names = {*self._repositories, *self._registry_repository_names()}
        for prefix, other, extra in over_matches(rules, names):
            if (prefix, other) in self._warned:
                continue
            self._warned.add((prefix, other))
            warn(
                self,
                "replicationPrefixOverMatch",
                f"the replication filter {prefix!r} is a PREFIX_MATCH: it also replicates "
                f"{other!r} to {', '.join(map(str, extra))}. Rename one of the repositories so "
                "that neither name starts with the other, or give both the same replicas.",
            )

    def _registry_repository_names(self) -> set[str]:
        """Literal names of the repositories this app has defined so far in this registry."""
        stage = Stage.of(self) or self.node.root
        found = set()
        for construct in stage.node.find_all():
            if not isinstance(construct, ecr.CfnRepository):
                continue
            name = construct.repository_name
            if not isinstance(name, str) or Token.is_unresolved(name):
                continue
            if _literal_env(Stack.of(construct)) == (self.account, self.region):
                found.add(name)
        return found

    def _render(self) -> dict[str, Any]:
        # The L1 validates the resolved value against its camelCase property names, then writes
        # CloudFormation's PascalCase.
        rendered: dict[str, Any] = _camel(replication_configuration(self.rules))
        return rendered


def _camel(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _camel(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_camel(item) for item in value]
    return value


class ReplicationRegistryPolicy(Construct):
    """The registry policy of a destination registry that receives images from other accounts.

    Get it with :meth:`of`. One statement per source account: its root may
    ``ecr:ReplicateImage`` into exactly the replicated repositories (CloudFormation creates each
    replica beforehand, so ``ecr:CreateRepository`` is not granted). Written as
    ``AWS::ECR::RegistryPolicy`` (id ``Resource``).

    **It replaces the registry's current registry policy.** Keep existing statements by passing
    them in with :meth:`add_statement`.
    """

    def __init__(self, scope: Construct, id: str) -> None:
        super().__init__(scope, id)
        stack = Stack.of(self)
        env = _literal_env(stack)
        if env is None:
            raise ReplicaConfigurationError(
                f"ReplicationRegistryPolicy: the stack {stack.stack_name} is "
                "environment-agnostic: give it env=Environment(account=..., region=...)"
            )
        self.account, self.region = env
        self._sources: dict[str, set[str]] = {}
        self._extra: list[dict[str, Any]] = []
        self.resource = ecr.CfnRegistryPolicy(
            self, "Resource", policy_text=Lazy.any(_Producer(self._render))
        )
        warn(
            self,
            "registryPolicyReplacesExisting",
            f"this AWS::ECR::RegistryPolicy is the whole registry policy of account "
            f"{self.account} in {self.region}: deploying it replaces any registry policy the "
            "registry already has. Keep existing statements by passing them in: "
            "ReplicationRegistryPolicy.of(stack).add_statement({...}).",
        )

    @classmethod
    def of(cls, scope: Construct) -> ReplicationRegistryPolicy:
        """The registry policy of the registry of ``scope``'s stack (created once)."""
        return _registry_singleton(cls, scope, "EcrLambdaAccessRegistryPolicy")

    def add_statement(self, statement: dict[str, Any]) -> None:
        """Keep a statement the registry policy already has; it is written before ours."""
        self._extra.append(dict(statement))

    def allow_replication(self, source_account: str, repository_name: str) -> None:
        """Let ``source_account`` replicate into ``repository_name`` of this registry."""
        self._sources.setdefault(source_account, set()).add(repository_name)

    def policy_document(self) -> dict[str, Any] | None:
        return registry_policy(
            self._sources,
            account=self.account,
            region=self.region,
            partition=Stack.of(self).partition,
            extra_statements=self._extra,
        )

    def _render(self) -> dict[str, Any] | None:
        return self.policy_document()


# --------------------------------------------------------------------------------------------
# Replicas
# --------------------------------------------------------------------------------------------


def _depends_on(stack: Stack, other: Stack) -> bool:
    """True when ``stack`` deploys after ``other`` (its stack dependencies, transitively)."""
    seen: set[str] = set()
    todo = list(stack.dependencies)
    while todo:
        current = todo.pop()
        if current.node.path == other.node.path:
            return True
        if current.node.path not in seen:
            seen.add(current.node.path)
            todo.extend(current.dependencies)
    return False


def _check_order(
    source: Any, stack: Stack, env: tuple[str, str], source_env: tuple[str, str]
) -> list[Violation]:
    """The replica's stack must be able to deploy before the replication configuration's."""
    table = _registries(source)
    existing = table.get((RegistryReplication.__name__, *source_env))
    replication_stack = Stack.of(existing) if existing is not None else Stack.of(source)
    existing_policy = table.get((ReplicationRegistryPolicy.__name__, *env))
    stacks = [stack]
    if existing_policy is not None and env[0] != source_env[0]:
        stacks.append(Stack.of(existing_policy))
    return [
        (
            ReplicaConfigurationError,
            f"{source.node.path}.add_replica(scope): {_stack_env_text(candidate)} already "
            f"deploys after {replication_stack.stack_name}, which holds the replication "
            "configuration of the source registry and must deploy after the replica: put the "
            "replica in a stack of its own (or one that does not depend on "
            f"{replication_stack.stack_name})",
        )
        for candidate in stacks
        if _depends_on(candidate, replication_stack)
    ]


def _cfn_repository(repository: Any) -> Any:
    """The ``AWS::ECR::Repository`` of a CrossAccountImageRepo (its own, or ``.repository``'s)."""
    own = repository.node.default_child
    if isinstance(own, ecr.CfnRepository):
        return own
    return repository.repository.node.default_child


def _stack_env_text(stack: Stack) -> str:
    return f"the stack {stack.stack_name} ({stack.account}/{stack.region})"


def add_replica(
    source: Any,
    scope: Construct,
    id: str | None = None,
    *,
    consumers: Sequence[LambdaConsumer | str] = (),
    organization_id: str | None = None,
    replica_class: Callable[..., Any],
) -> Any:
    """What :meth:`CrossAccountImageRepo.add_replica` does (see there): ``source`` is the
    repository, ``replica_class`` the class of the replica it creates (``CrossAccountImageRepo``:
    this module is below ``repository.py`` and does not import it)."""
    found: list[Violation] = []
    source_stack = Stack.of(source)
    stack = Stack.of(scope)
    source_env = _literal_env(source_stack)
    env = _literal_env(stack)
    call = f"{source.node.path}.add_replica"
    if env is None:
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}(scope): {_stack_env_text(stack)} is environment-agnostic: a replica is "
                "in one account and Region; give the stack env=Environment(account=..., "
                "region=...) with literal values",
            )
        )
    if source_env is None:
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}: the source repository's {_stack_env_text(source_stack)} is "
                "environment-agnostic: replication is configured on one registry; give it "
                "env=Environment(account=..., region=...) with literal values",
            )
        )
    name = literal_name(source)
    if name is None:
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}: the source repository has no literal name (got "
                f"{getattr(source, 'repository_name', None)!r}): a replica has the same name as "
                "its "
                "source, so pass CrossAccountImageRepo(..., repository_name='team/app')",
            )
        )
    source_stage, stage = Stage.of(source_stack), Stage.of(stack)
    if (source_stage and source_stage.node.path) != (stage and stage.node.path):
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}(scope): {_stack_env_text(stack)} is in another Stage than the source "
                f"({source_stack.stack_name}): the replication configuration must deploy after "
                "the replica, and stack dependencies do not cross stages; create the replica in "
                "the source's stage",
            )
        )
    if env is not None and env == source_env:
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}(scope): {_stack_env_text(stack)} is the source's own environment: a "
                "replica goes to another Region or another account; pass a stack of the "
                "destination account and Region",
            )
        )
    if env is not None:
        existing = source.replica_for(account=env[0], region=env[1])
        if existing is not None:
            found.append(
                (
                    ReplicaConfigurationError,
                    f"{call}(scope): {source.node.path} already has a replica in {env[0]}/"
                    f"{env[1]} ({existing.node.path}): call add_replica once per destination "
                    "and use that replica (add_consumer for more consumers)",
                )
            )
    if isinstance(consumers, (str, LambdaConsumer)):
        found.append(
            (
                ReplicaConfigurationError,
                f"{call}: consumers must be a list, got {consumers!r}: write "
                f"consumers=[{consumers!r}]",
            )
        )
        consumers = ()
    for index, consumer in enumerate(consumers):
        found += policy.check_consumer(consumer, f"{call}: consumers[{index}]")
    found += check_organization_id(organization_id, f"{call}: organization_id")
    same_account = env is not None and source_env is not None and env[0] == source_env[0]
    if env is not None and source_env is not None:
        found += _check_order(source, stack, env, source_env)
    if same_account and env is not None and not found:
        # The replica inherits the source's consumers, with a Region name of another length.
        document = policy.repository_policy(
            replica_consumers(
                source._declared_consumers(),
                source_account=env[0],
                replica_account=env[0],
                consumers=[c for c in consumers],
            ),
            repository_account=env[0],
            region=env[1],
            partition=stack.partition,
            organization_id=organization_id or source.organization_id,
        )
        found += policy.check_policy_size(document, f"{call}(scope) in {env[1]}")
    raise_if_violations(found, construct_path=source.node.path)
    assert env is not None and source_env is not None and name is not None

    if id is None:
        id = f"{source.node.id}Replica"
        if scope.node.try_find_child(id) is not None:
            id = f"{id}{Names.unique_id(source)[-8:]}"
    source_cfn = _cfn_repository(source)
    mutability = (
        source_cfn.image_tag_mutability if isinstance(source_cfn, ecr.CfnRepository) else None
    )
    replica = replica_class(
        scope,
        id,
        repository_name=name,
        consumers=consumers,
        organization_id=organization_id
        if organization_id is not None or not same_account
        else source.organization_id,
        image_tag_mutability=ecr.TagMutability(mutability)
        if isinstance(mutability, str) and mutability in ("MUTABLE", "IMMUTABLE")
        else None,
    )
    # A replica in the source's account also admits the source's consumers (those given to it,
    # not functions of other Regions registered on it), read at synth time.
    replica._become_replica_of(source)
    source_arn = (
        f"arn:{source_stack.partition}:ecr:{source_env[1]}:{source_env[0]}:repository/{name}"
    )
    cfn = _cfn_repository(replica)
    assert isinstance(cfn, ecr.CfnRepository)
    cfn.add_metadata("ecr-lambda-access", {"replicaOf": source_arn})
    source._add_replica_record(replica)
    destination = Destination(*env)
    if not same_account:
        registry = ReplicationRegistryPolicy.of(scope)
        registry.allow_replication(source_env[0], name)
    replication = RegistryReplication.of(source)
    replication._add(name, destination, stack)
    if not same_account:
        _depend(
            Stack.of(replication),
            Stack.of(registry),
            f"the registry policy of {env[0]}/{env[1]} must let {source_env[0]} replicate "
            "before the replication configuration is deployed",
        )
    return replica
