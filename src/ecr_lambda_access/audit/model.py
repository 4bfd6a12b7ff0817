"""One immutable model of a cloud assembly, built once by ``load`` + ``resolve``.

Every reader of an assembly reads this and nothing else: the static audit (:mod:`.verdicts`), the
live check's targets (:mod:`.live.assembly`), ``image_check`` and the plugin (through the audit's
report). What it holds:

* the stacks and their environments (account, Region, partition). Every value known only at
  deploy time is an :class:`~.values.Unknown` that carries its reason (which parameter, which
  import, which condition, which generated name); the resolver's placeholder text is converted
  once, here, and no reader of the model sees it;
* repositories (CloudFormation would create them: a false ``Condition`` leaves one out), each with
  its policy parsed once: :class:`PolicyState` valid, invalid (with the reason), absent or unknown;
* functions with their image read once (:func:`ecr_lambda_access.registry.image_ref.read_image`),
  and the conditions their image or name depend on as explicit scenarios (each a fresh resolver
  with its assumptions: nothing shared is mutated);
* the registry layer: replication configurations, registry policies, creation templates;
* per stack, the IAM policies attached to each role (indexed once, not scanned per function).

Wrong-typed input (numbers where strings belong, lists where mappings are) never raises here: the
value becomes unknown or unreadable, and a resource that cannot be read at all is listed in
``problems``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..registry.image_ref import ImageRef, UnsupportedImage, read_image
from ..registry.templates import APPLIED_FOR, CreationTemplate
from .load import StackTemplate
from .policy_state import ParsedPolicy, PolicyState, parse_policy
from .policy_state import _tokenize as _tokenize
from .records import Environment, ImageReading, ModelImage, ModelRole
from .replicas import REGISTRY_RESOURCE_TYPES, RegistryResource, replica_of
from .resolve import Assembly, Resolver, has_marker
from .values import Unknown, Value

__all__ = [
    "Unknown",
    "Value",
    "Environment",
    "ModelImage",
    "ImageReading",
    "PolicyState",
    "ParsedPolicy",
    "ModelRepository",
    "ModelRole",
    "Scenario",
    "ModelFunction",
    "AssemblyModel",
    "build_model",
    "parse_policy",
    "MAX_OPEN_CONDITIONS",
]

MAX_OPEN_CONDITIONS = 4
"""At most 2**4 scenarios are tried for one function."""

_SAFE = (TypeError, ValueError, KeyError, AttributeError, IndexError, RecursionError)


@dataclass(frozen=True)
class ModelRepository:
    """An ``AWS::ECR::Repository`` CloudFormation creates (not under a false Condition)."""

    index: int
    logical_id: str
    name: Value
    arn: Value
    account: Value
    region: Value
    path: str
    policy: ParsedPolicy
    replica_of: str | None = None
    """The source repository ARN ``add_replica`` recorded in the resource's metadata."""

    @property
    def document(self) -> dict[str, Any] | None:
        """The policy the verdicts evaluate: the document, an ``_unreadable`` marker document
        for an invalid one, None when absent or unknown."""
        if self.policy.state is PolicyState.VALID:
            return dict(self.policy.document or {})
        if self.policy.state is PolicyState.INVALID:
            return {"_unreadable": self.policy.reason}
        return None

    def evaluable(self, keep: frozenset[Unknown]) -> dict[str, Any] | None:
        """:attr:`document` for the evaluator, the unknowns in ``keep`` shared with the function
        (:meth:`ParsedPolicy.evaluable`)."""
        if self.policy.state is PolicyState.VALID:
            return dict(self.policy.evaluable(keep) or {})
        return self.document

    @property
    def known(self) -> bool:
        """True when name, account and Region are known before deploy."""
        return not any(isinstance(v, Unknown) for v in (self.name, self.account, self.region))


@dataclass(frozen=True)
class Scenario:
    """One way the conditions a function's image or name depend on can go."""

    assumptions: tuple[tuple[str, bool], ...]
    image_uri: Any
    function_name: Any
    image: ImageReading = None


@dataclass(frozen=True)
class ModelFunction:
    """An ``AWS::Lambda::Function`` with a container image that CloudFormation creates."""

    index: int
    logical_id: str
    path: str
    properties: Mapping[str, Any]
    image_uri: Any
    """Resolved ``Code.ImageUri``: a :data:`Value`, or anything else the template holds."""
    function_name: Any
    """Resolved ``FunctionName``: a :data:`Value`, None, or anything else the template holds."""
    image: ImageReading
    role_id: str | None
    open_conditions: tuple[str, ...] = ()
    scenarios: tuple[Scenario, ...] = ()


@dataclass(frozen=True)
class AssemblyModel:
    """The assembly, read once."""

    stacks: tuple[StackTemplate, ...]
    assembly: Assembly
    repositories: tuple[ModelRepository, ...]
    functions: tuple[ModelFunction, ...]
    replication_configurations: tuple[RegistryResource, ...]
    registry_policies: tuple[RegistryResource, ...]
    creation_templates: tuple[CreationTemplate, ...]
    role_policies: Mapping[tuple[int, str], tuple[tuple[str, Any], ...]]
    """(stack index, role logical id) -> (policy logical id, PolicyDocument) of the
    ``AWS::IAM::Policy`` / ``ManagedPolicy`` / ``RolePolicy`` resources attached to the role."""
    problems: tuple[tuple[int, str, str], ...] = ()
    """(stack index, logical id, why) of resources the model could not read."""
    roles: Mapping[tuple[int, str], ModelRole] = field(default_factory=dict)
    """(stack index, logical id) -> the ``AWS::IAM::Role``."""
    by_name: Mapping[str, tuple[ModelRepository, ...]] = field(default_factory=dict)
    by_target: Mapping[tuple[int, str], ModelRepository] = field(default_factory=dict)
    environments: tuple[Environment, ...] = ()
    """Per stack index: where the stack deploys."""

    def describe(self, text: str) -> str:
        """Text the policy evaluator wrote about :func:`.values.render` literals, with each
        unknown named as ``<what it is>``."""
        return self.assembly.unknowns.describe(text)

    def environment(self, index: int) -> Environment:
        return self.environments[index]

    def resolver(self, index: int) -> Resolver:
        return self.assembly.resolvers[index]


def as_list(value: Any) -> list[Any]:
    """A template value as a list: None is empty, a scalar is one item."""
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def ref_target(value: Any) -> str | None:
    """The logical id a ``{"Ref": ...}`` names, or None."""
    if isinstance(value, Mapping) and isinstance(value.get("Ref"), str):
        return str(value["Ref"])
    return None


class _Builder:
    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = tuple(stacks)
        self.assembly = Assembly(stacks)
        self.repositories: list[ModelRepository] = []
        self.functions: list[ModelFunction] = []
        self.configurations: list[RegistryResource] = []
        self.registry_policies: list[RegistryResource] = []
        self.templates: list[CreationTemplate] = []
        self.role_policies: dict[tuple[int, str], list[tuple[str, Any]]] = {}
        self.roles: dict[tuple[int, str], ModelRole] = {}
        self.problems: list[tuple[int, str, str]] = []

    def value(self, resolved: Any) -> Any:
        """A resolved value at the model boundary: text becomes a :data:`Value` (placeholders
        become :class:`Unknown` with their reason); anything else is kept as it is."""
        if isinstance(resolved, str):
            return self.assembly.unknowns.value_of(resolved)
        return resolved

    def text(self, resolved: str) -> Value:
        return self.assembly.unknowns.value_of(resolved)

    def image(self, uri: Any) -> ImageReading:
        """The one reading of an image URI (:func:`read_image`), its parts as model values."""
        read = read_image(uri)
        describe = self.assembly.unknowns.describe
        if isinstance(read, UnsupportedImage):
            return UnsupportedImage(
                uri=describe(read.uri), registry=describe(read.registry), fix=describe(read.fix)
            )
        if not isinstance(read, ImageRef):
            return None
        image = ModelImage(
            uri=self.text(read.uri),
            account=self.text(read.account),
            region=self.text(read.region),
            repository=self.text(read.repository),
            tag=None if read.tag is None else self.text(read.tag),
            digest=None if read.digest is None else self.text(read.digest),
        )
        parts = (image.uri, image.account, image.region, image.repository, image.tag, image.digest)
        if any(isinstance(part, Unknown) for part in parts):
            return image
        return replace(image, ref=read)

    def created(self, index: int, resource: Mapping[str, Any]) -> bool | None:
        condition = resource.get("Condition")
        if condition is None:
            return True
        if not isinstance(condition, str):
            return None
        return self.assembly.resolvers[index].condition(condition, 0)

    def build(self) -> AssemblyModel:
        for index, stack in enumerate(self.stacks):
            for logical_id, resource in stack.resources.items():
                if not isinstance(resource, Mapping):
                    continue
                try:
                    self.read(index, str(logical_id), resource)
                except _SAFE as error:
                    self.problems.append(
                        (index, str(logical_id), f"{type(error).__name__}: {error}")
                    )
        by_name: dict[str, list[ModelRepository]] = {}
        by_target: dict[tuple[int, str], ModelRepository] = {}
        for repository in self.repositories:
            by_target[(repository.index, repository.logical_id)] = repository
            if not isinstance(repository.name, Unknown):
                by_name.setdefault(repository.name, []).append(repository)
        environments = tuple(
            Environment(
                account=self.text(resolver.account),
                region=self.text(resolver.region),
                partition=self.text(resolver.partition),
            )
            for resolver in self.assembly.resolvers
        )
        return AssemblyModel(
            stacks=self.stacks,
            assembly=self.assembly,
            repositories=tuple(self.repositories),
            functions=tuple(self.functions),
            replication_configurations=tuple(self.configurations),
            registry_policies=tuple(self.registry_policies),
            creation_templates=tuple(self.templates),
            role_policies={k: tuple(v) for k, v in self.role_policies.items()},
            roles=self.roles,
            problems=tuple(self.problems),
            by_name={k: tuple(v) for k, v in by_name.items()},
            by_target=by_target,
            environments=environments,
        )

    def read(self, index: int, logical_id: str, resource: Mapping[str, Any]) -> None:
        kind = resource.get("Type")
        properties = resource.get("Properties")
        properties = properties if isinstance(properties, Mapping) else {}
        if kind in REGISTRY_RESOURCE_TYPES:
            self.registry_resource(index, logical_id, str(kind), resource, properties)
        elif kind == "AWS::ECR::RepositoryCreationTemplate":
            self.creation_template(index, logical_id, resource, properties)
        elif kind == "AWS::ECR::Repository":
            self.repository(index, logical_id, resource, properties)
        elif kind == "AWS::Lambda::Function":
            self.function(index, logical_id, resource, properties)
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            for role in as_list(properties.get("Roles")):
                target = ref_target(role)
                if target is not None:
                    self.attach(index, target, logical_id, properties.get("PolicyDocument"))
        elif kind == "AWS::IAM::RolePolicy":
            target = ref_target(properties.get("RoleName"))
            if target is not None:
                self.attach(index, target, logical_id, properties.get("PolicyDocument"))
        elif kind == "AWS::IAM::Role":
            self.role(index, logical_id, properties)

    def role(self, index: int, logical_id: str, properties: Mapping[str, Any]) -> None:
        inline = tuple(
            (policy.get("PolicyName"), policy.get("PolicyDocument"))
            for policy in as_list(properties.get("Policies"))
            if isinstance(policy, Mapping)
        )
        managed: list[tuple[str | None, Any]] = []
        resolver = self.assembly.resolvers[index]
        for arn in as_list(properties.get("ManagedPolicyArns")):
            target = ref_target(arn)
            if target is not None:
                resource = resolver.resource(target)
                if resource is not None and resource.get("Type") == "AWS::IAM::ManagedPolicy":
                    written = resource.get("Properties") or {}
                    managed.append((target, written.get("PolicyDocument")))
                continue
            resolved = resolver.resolve(arn)
            if isinstance(resolved, str):
                managed.append((None, self.text(resolved)))
        self.roles[(index, logical_id)] = ModelRole(index, logical_id, inline, tuple(managed))

    def attach(self, index: int, role_id: str, policy_id: str, document: Any) -> None:
        self.role_policies.setdefault((index, role_id), []).append((policy_id, document))

    def repository(
        self,
        index: int,
        logical_id: str,
        resource: Mapping[str, Any],
        properties: Mapping[str, Any],
    ) -> None:
        if self.created(index, resource) is False:
            return
        resolver = self.assembly.resolvers[index]
        stack = self.stacks[index]
        document = resolver.resolve(properties.get("RepositoryPolicyText"))
        self.repositories.append(
            ModelRepository(
                index=index,
                logical_id=logical_id,
                name=self.text(str(resolver.ref(logical_id, 0))),
                arn=self.text(str(resolver.get_att(logical_id, "Arn", 0))),
                account=self.text(resolver.account),
                region=self.text(resolver.region),
                path=stack.path_of(logical_id),
                policy=parse_policy(document, self.assembly.unknowns.describe),
                replica_of=replica_of(resource),
            )
        )

    def registry_resource(
        self,
        index: int,
        logical_id: str,
        kind: str,
        resource: Mapping[str, Any],
        properties: Mapping[str, Any],
    ) -> None:
        """A replication configuration or registry policy (registry-wide, one per registry)."""
        created = self.created(index, resource)
        if created is False:
            return
        resolver = self.assembly.resolvers[index]
        stack = self.stacks[index]
        value = resolver.resolve(properties.get(REGISTRY_RESOURCE_TYPES[kind]))
        if created is not True:
            value = None  # created only under a condition not known here: cannot be relied on
        if isinstance(value, str) and not has_marker(value):
            try:
                value = json.loads(value)
            except (json.JSONDecodeError, RecursionError):
                value = None
        found = RegistryResource(
            account=self.text(resolver.account),
            region=self.text(resolver.region),
            value=_tokenize(value),
            where=f"{stack.path_of(logical_id)} (stack {stack.display_name})",
        )
        if kind == "AWS::ECR::RegistryPolicy":
            self.registry_policies.append(found)
        else:
            self.configurations.append(found)

    def creation_template(
        self,
        index: int,
        logical_id: str,
        resource: Mapping[str, Any],
        properties: Mapping[str, Any],
    ) -> None:
        created = self.created(index, resource)
        if created is False:
            return
        resolver = self.assembly.resolvers[index]
        stack = self.stacks[index]
        prefix = resolver.resolve(properties.get("Prefix"))
        applied = resolver.resolve(properties.get("AppliedFor"))
        applied_for = tuple(
            str(v) for v in as_list(applied) if isinstance(v, str) and v in APPLIED_FOR
        )
        policy = parse_policy(
            resolver.resolve(properties.get("RepositoryPolicy")),
            self.assembly.unknowns.describe,
        )
        account, region = self.text(resolver.account), self.text(resolver.region)
        doubts: list[str] = []
        if created is not True:
            condition = resource.get("Condition")
            doubts.append(f"it exists only under condition {condition}, not known before deploy")
        if not isinstance(prefix, str):
            doubts.append("its Prefix is not text")
        if not isinstance(applied, list):
            doubts.append("its AppliedFor is not a list")
        resolved_parts = [prefix, *(applied if isinstance(applied, list) else [])]
        doubts += [
            v.reason for v in (self.value(p) for p in resolved_parts) if isinstance(v, Unknown)
        ]
        if isinstance(applied, list) and not all(isinstance(v, str) for v in applied):
            doubts.append("its AppliedFor holds values that are not text")
        doubts += [v.reason for v in (account, region) if isinstance(v, Unknown)]
        problem = None
        if policy.state is PolicyState.INVALID:
            problem = policy.reason
        elif policy.state is PolicyState.UNKNOWN:
            problem = policy.reason
            doubts.append(str(policy.reason))
        known = not doubts
        self.templates.append(
            CreationTemplate(
                # an unknown registry is named for people; such a template is never ``known``
                account=str(account),
                region=str(region),
                prefix=str(self.text(prefix)) if isinstance(prefix, str) else "",
                applied_for=applied_for,
                repository_policy=policy.document,
                policy_problem=problem,
                where=f"{stack.path_of(logical_id)} (stack {stack.display_name})",
                known=known,
                unknown_reason="; ".join(dict.fromkeys(doubts)) or None,
            )
        )

    def function(
        self,
        index: int,
        logical_id: str,
        resource: Mapping[str, Any],
        properties: Mapping[str, Any],
    ) -> None:
        code = properties.get("Code")
        raw_uri = code.get("ImageUri") if isinstance(code, Mapping) else None
        if raw_uri is None and properties.get("PackageType") != "Image":
            return
        if self.created(index, resource) is False:
            return
        stack = self.stacks[index]
        resolver = Resolver(self.assembly, index)
        uri = resolver.resolve(raw_uri)
        name = resolver.resolve(properties.get("FunctionName"))
        opened = tuple(sorted(resolver.open_conditions))[:MAX_OPEN_CONDITIONS]
        scenarios = []
        if opened:
            for bits in itertools.product((True, False), repeat=len(opened)):
                way = Resolver(self.assembly, index)
                way.assumptions = dict(zip(opened, bits, strict=True))
                scenarios.append(
                    Scenario(
                        assumptions=tuple(way.assumptions.items()),
                        image_uri=self.value(way_uri := way.resolve(raw_uri)),
                        function_name=self.value(way.resolve(properties.get("FunctionName"))),
                        image=self.image(way_uri),
                    )
                )
        role = properties.get("Role")
        role_id: str | None = None
        if isinstance(role, Mapping) and "Fn::GetAtt" in role:
            parts = role["Fn::GetAtt"]
            parts = parts.split(".", 1) if isinstance(parts, str) else parts
            if isinstance(parts, list) and parts and isinstance(parts[0], str):
                role_id = parts[0]
        self.functions.append(
            ModelFunction(
                index=index,
                logical_id=logical_id,
                path=stack.path_of(logical_id),
                properties=properties,
                image_uri=self.value(uri),
                function_name=self.value(name),
                image=self.image(uri),
                role_id=role_id,
                open_conditions=opened,
                scenarios=tuple(scenarios),
            )
        )


def build_model(stacks: Sequence[StackTemplate]) -> AssemblyModel:
    """The model of these stacks (one assembly, stage assemblies and nested stacks included)."""
    return _Builder(stacks).build()
