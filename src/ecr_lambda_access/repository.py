"""``CrossAccountImageRepo`` (an ``aws_ecr.Repository``) and ``ImagePullPolicy`` (the same pull
policy on an ``aws_ecr.Repository`` the app already has).

This module only wires: the policy itself comes from :mod:`ecr_lambda_access.policy`.
"""

from __future__ import annotations

import inspect
import json
import weakref
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    Annotations,
    Duration,
    IStableAnyProducer,
    Lazy,
    PhysicalName,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct, IValidation

from . import policy
from ._annotations import skip_checkov, warn
from ._shared import literal_name, registers_itself
from ._stack_facts import facts_of
from .errors import (
    EcrLambdaAccessError,
    InvalidConsumerError,
    InvalidRepositoryError,
    PolicyTooLargeError,
    Violation,
    raise_if_violations,
)
from .policy import LAMBDA_SERVICE_PRINCIPAL, LambdaConsumer, replica_consumers
from .replication import add_replica
from .validation import check_organization_id

__all__ = ["CrossAccountImageRepo", "ImagePullPolicy"]

_REPOSITORY_PROP_NAMES = tuple(
    name for name in inspect.signature(ecr.RepositoryProps.__init__).parameters if name != "self"
)
_PULL_ACTIONS_OF_GRANT_PULL = (
    "ecr:BatchCheckLayerAvailability",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchGetImage",
)
"""What ``aws_ecr.Repository.grant_pull`` puts in the repository policy."""


class _PullPolicy:
    """The pull policy of one ``AWS::ECR::Repository``: consumers, organization, rendering.

    Shared by :class:`CrossAccountImageRepo` and :class:`ImagePullPolicy`; ``owner`` is the
    construct that carries the annotations and the synth-time size check.
    """

    def __init__(
        self,
        owner: Construct,
        repository: ecr.Repository,
        consumers: Sequence[LambdaConsumer | str],
        organization_id: str | None,
    ) -> None:
        self.owner = owner
        self.repository = repository
        self.stack = Stack.of(repository)
        """The repository's stack (read once: every registration needs it)."""
        self.owner_path: str = owner.node.path
        self.repository_path: str = self.owner_path if repository is owner else repository.node.path
        self._names: tuple[str, str, str | None] | None = None
        self.consumers: list[LambdaConsumer] = [policy.as_consumer(c) for c in consumers]
        self.organization_id = organization_id
        self.replica_source: Any = None
        """For a replica (``add_replica``): its source, whose consumers it may admit too."""
        self.rendered = False
        """True once the policy was synthesized (later consumers would be missing from it)."""
        cfn = repository.node.default_child
        if not isinstance(cfn, ecr.CfnRepository):
            raise InvalidRepositoryError(
                f"repository {self.repository_path} has no AWS::ECR::Repository resource as its "
                "default child: pass an aws_ecr.Repository",
                construct_path=self.owner_path,
            )
        self.cfn = cfn
        if cfn.image_tag_mutability in ("MUTABLE", "MUTABLE_WITH_EXCLUSION"):
            warn(
                owner,
                "mutableTags",
                f"the image tags of {self.repository_path} are mutable: Lambda resolves a tag "
                "to a digest once, at create/update, so moving a tag does not change running "
                "functions. Make tags IMMUTABLE or deploy functions by digest.",
            )
        # The L2 keeps statements added with repository.add_to_resource_policy() (grants) in
        # the L1 property; keep rendering them, after ours.
        self.user_policy = cfn.repository_policy_text
        cfn.repository_policy_text = Lazy.any(_PolicyProducer(self))
        owner.node.add_validation(_PolicySizeValidation(self))
        if organization_id is not None:
            warn(
                owner,
                "organizationNotDocumented",
                "organization_id admits every account of the organization with a '*' principal "
                "limited by aws:PrincipalOrgID and lambda.amazonaws.com limited by "
                "aws:SourceOrgID. AWS documents listing each consumer account; this form is "
                "reported to work but is not documented by AWS. Test a deploy before relying "
                "on it.",
            )
            Validations.of(repository).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-ECR1",
                    reason=(
                        f"The only '*' principal (statement {policy.SID_ORG_ROOT}) is limited by "
                        f"aws:PrincipalOrgID = {organization_id}: only accounts of that "
                        "organization can pull, which is what organization_id asks for."
                    ),
                )
            )
        self._size = _SizeBound(self)
        self.check_size()

    @property
    def label(self) -> str:
        return f"{type(self.owner).__name__} {self.owner_path}"

    def names(self) -> tuple[str, str, str | None]:
        """The repository's ARN and name (tokens), and its literal name or None; read once
        (the L2's attributes are fixed at construction)."""
        if self._names is None:
            repository = self.repository
            self._names = (
                repository.repository_arn,
                repository.repository_name,
                literal_name(repository),
            )
        return self._names

    def add_consumer(self, consumers: Sequence[LambdaConsumer | str]) -> None:
        if self.rendered:
            raise EcrLambdaAccessError(
                f"{self.label}: its policy was already synthesized, so consumers added now "
                f"({', '.join(repr(c) for c in consumers)}) would be missing from it. A Stage "
                "is synthesized when it is added to a pipeline (pipeline.add_stage): create "
                "the functions that use this repository (the workload stages) before adding "
                "the repository's stage",
                construct_path=self.owner_path,
            )
        found: list[Violation] = []
        for index, consumer in enumerate(consumers):
            argument = (
                "add_consumer(consumer)" if len(consumers) == 1 else f"add_consumer(#{index})"
            )
            found += policy.check_consumer(consumer, argument)
        raise_if_violations(found, construct_path=self.owner_path)
        added = [policy.as_consumer(c) for c in consumers]
        self.consumers.extend(added)
        try:
            self._size.added(added)
        except PolicyTooLargeError:
            del self.consumers[len(self.consumers) - len(added) :]
            raise

    def statements(self) -> list[dict[str, Any]]:
        stack = facts_of(self.stack)
        consumers: Sequence[LambdaConsumer] = self.consumers
        source = self.replica_source
        if source is not None:
            # A replica: whom it admits is decided in one place (policy.build).
            consumers = replica_consumers(
                source._declared_consumers(),
                source_account=facts_of(source._pull_policy.stack).account,
                replica_account=stack.account,
                consumers=self.consumers,
            )
        return policy.repository_policy_statements(
            consumers,
            repository_account=stack.account,
            region=stack.region,
            partition=stack.partition,
            organization_id=self.organization_id,
        )

    def document(self, extra: Sequence[Any] = ()) -> dict[str, Any] | None:
        statements = [*self.statements(), *extra]
        return {"Version": policy.POLICY_VERSION, "Statement": statements} if statements else None

    def check_size(self) -> None:
        """Render the policy and raise if it can exceed ECR's limit; restart the running bound."""
        # Tokens are measured with the longest value they can take (policy/size.py).
        document = self.document()
        region = facts_of(self.stack).region
        raise_if_violations(
            policy.check_policy_size(document, self.label, region=region),
            construct_path=self.owner_path,
        )
        self._size.reset(policy.policy_length_bound(document, region=region))

    def render(self) -> dict[str, Any] | None:
        """Our statements, then those added to the repository (grants), at synth time."""
        extra: list[Any] = []
        if self.user_policy is not None:
            resolved = self.stack.resolve(self.user_policy)
            if isinstance(resolved, dict):
                extra = list(resolved.get("Statement", []))
        return self.document(extra)


@jsii.implements(IStableAnyProducer)
class _PolicyProducer:
    """Renders the repository policy at synth time, so consumers added late are included."""

    def __init__(self, pull_policy: _PullPolicy) -> None:
        self._policy = pull_policy

    def produce(self) -> Any:
        self._policy.rendered = True
        return self._policy.render()


@jsii.implements(IValidation)
class _PolicySizeValidation:
    """Fails synth when the rendered policy (ours and any added to the repository) is too big."""

    def __init__(self, pull_policy: _PullPolicy) -> None:
        self._policy = pull_policy

    def validate(self) -> list[str]:
        rendered = self._policy.stack.resolve(self._policy.render())
        found = policy.check_policy_size(
            rendered, self._policy.label, region=facts_of(self._policy.stack).region
        )
        return [message for _, message in found]


class _SizeBound:
    """A running upper bound of a pull policy's length, so that adding a consumer costs what
    that consumer adds, not a render of the whole policy (which made registering N functions
    cost N renders of up to N consumers).

    Adding a consumer can lengthen the merged policy by at most its root principal (only for an
    account not listed yet), its ``aws:SourceArn`` pattern (only for a pattern not listed yet),
    their quotes and separators, the brackets of a value turning into a list, and, the first
    time, the statements themselves. Merging (covered patterns) only shortens the policy. While
    the bound stays under ECR's limit the policy surely fits; when it does not, the policy is
    rendered and measured exactly (:meth:`_PullPolicy.check_size`), which raises the same error
    as before or restarts the bound from the exact length.
    """

    _SEPARATORS = 2 * (len('"", ') + len("[]"))
    """Per consumer: quotes and ", " of two list items, and brackets if a value becomes a list."""
    _STATEMENTS = 400
    """More than the root and service statements' fixed text (their Sid, actions, keys)."""

    def __init__(self, pull_policy: _PullPolicy) -> None:
        self._policy = pull_policy
        self._length = 0
        self._accounts: set[str] = set()
        self._patterns: set[tuple[str, str]] = set()

    def reset(self, exact: int) -> None:
        self._length = exact
        self._accounts = set()
        self._patterns = set()
        for consumer in self._policy.consumers:
            self._accounts.add(consumer.account)
            self._patterns.add((consumer.account, consumer.pattern))

    def added(self, consumers: Sequence[LambdaConsumer]) -> None:
        pull_policy = self._policy
        if pull_policy.replica_source is not None:
            # A replica's policy also depends on its source's consumers: render it.
            pull_policy.check_size()
            return
        stack = facts_of(pull_policy.stack)
        growth = 0
        for consumer in consumers:
            key = (consumer.account, consumer.pattern)
            if key in self._patterns:
                continue
            if not self._patterns:
                growth += self._STATEMENTS
            self._patterns.add(key)
            texts = [
                policy.function_arn_pattern(
                    consumer.account,
                    consumer.pattern,
                    region=stack.region,
                    partition=stack.partition,
                )
            ]
            if consumer.account not in self._accounts:
                self._accounts.add(consumer.account)
                texts.append(policy.root_arn(consumer.account, stack.partition))
            growth += (
                policy.policy_length_bound({"": texts}, region=stack.region)
                - len('{"": []}')
                + self._SEPARATORS
            )
        if growth == 0:
            return
        self._length += growth
        if self._length > policy.ECR_POLICY_MAX_CHARS:
            pull_policy.check_size()


def _check_arguments(
    consumers: Sequence[LambdaConsumer | str], organization_id: str | None
) -> tuple[Sequence[LambdaConsumer | str], list[Violation]]:
    found: list[Violation] = []
    if isinstance(consumers, (str, LambdaConsumer)):
        found.append(
            (
                InvalidConsumerError,
                f"consumers must be a list, got {consumers!r}: write consumers=[{consumers!r}]",
            )
        )
        consumers = ()
    for index, consumer in enumerate(consumers):
        found += policy.check_consumer(consumer, f"consumers[{index}]")
    found += check_organization_id(organization_id)
    return consumers, found


class CrossAccountImageRepo(ecr.Repository):
    """An ECR repository (an ``aws_ecr.Repository``) whose images Lambda functions in the listed
    accounts can run.

    Writes the repository policy AWS documents for Lambda pulls (docs/constructs.md): one statement
    lets each consumer account's root principal pull (so the account can create and update
    functions from the images), one lets ``lambda.amazonaws.com`` pull on behalf of exactly the
    consumers' functions (``aws:SourceArn``, StringLike). Actions are exactly
    ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer``. With no consumers and no
    organization the repository has no policy: no one outside the account can pull.

    The policy is rendered at synth time: consumers added later (:meth:`add_consumer`, or a
    :class:`~ecr_lambda_access.ContainerFunction` of the same app that runs from this repository)
    are included. Synth fails if it would exceed ECR's 10,240 characters.

    It is a repository wherever CDK expects one: ``DockerImageCode.from_ecr(repo)`` works, and
    :meth:`grant_pull` to ``lambda.amazonaws.com`` adds a conditioned statement (this account's
    functions), never CDK's unconditioned one.

    Functions must run in this repository's Region (the stack's Region); other accounts are fine.

    Parameters
    ----------
    consumers:
        Who may run the images: account id strings (every function of that account) or
        :class:`LambdaConsumer` (a function-name prefix, or one function). Default: none.
    organization_id:
        Opt-in: admit every account of this AWS Organization (``o-...``) with a ``*`` principal
        limited by ``aws:PrincipalOrgID`` and a service statement limited by ``aws:SourceOrgID``.
        AWS documents listing each account; this form is reported to work by a third party but
        is **not documented by AWS**. Default: None (accounts are listed one by one).
    repository_name:
        The repository's physical name, e.g. ``"shared/orders"``. Default: a name CloudFormation
        generates, or CDK generates when another account's stack refers to it
        (``PhysicalName.GENERATE_IF_NEEDED``). Give one: consumer accounts refer to it by name.
    image_tag_mutability:
        Default: ``IMMUTABLE``: a tag cannot be moved to another image (Lambda resolves a tag
        once, at create/update, so a moved tag would silently not deploy).
    image_scan_on_push:
        Default: True.
    removal_policy:
        Default: ``RemovalPolicy.RETAIN``: deleting the stack keeps the images functions run.
    lifecycle_rules:
        Default: none. An expired image breaks the functions that run it (``ImageDeleted``).
    encryption, encryption_key:
        Default: ``AES_256``. With KMS, note that AWS does not document what a cross-account
        Lambda pull needs from the key policy.
    auto_delete_images, empty_on_delete, image_tag_mutability_exclusion_filters,
    lifecycle_registry_id:
        Passed to ``aws_ecr.Repository``. Defaults: CDK's.
    repository_props:
        ``aws_ecr.RepositoryProps`` as one object; the arguments above take precedence.
        Default: None.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        consumers: Sequence[LambdaConsumer | str] = (),
        organization_id: str | None = None,
        repository_name: str | None = None,
        image_tag_mutability: ecr.TagMutability | None = None,
        image_scan_on_push: bool | None = None,
        removal_policy: RemovalPolicy | None = None,
        lifecycle_rules: Sequence[ecr.LifecycleRule] | None = None,
        encryption: ecr.RepositoryEncryption | None = None,
        encryption_key: kms.IKey | None = None,
        auto_delete_images: bool | None = None,
        empty_on_delete: bool | None = None,
        image_tag_mutability_exclusion_filters: Sequence[ecr.ImageTagMutabilityExclusionFilter]
        | None = None,
        lifecycle_registry_id: str | None = None,
        repository_props: ecr.RepositoryProps | None = None,
    ) -> None:
        explicit: dict[str, Any] = {
            "repository_name": repository_name,
            "image_tag_mutability": image_tag_mutability,
            "image_scan_on_push": image_scan_on_push,
            "removal_policy": removal_policy,
            "lifecycle_rules": list(lifecycle_rules) if lifecycle_rules is not None else None,
            "encryption": encryption,
            "encryption_key": encryption_key,
            "auto_delete_images": auto_delete_images,
            "empty_on_delete": empty_on_delete,
            "image_tag_mutability_exclusion_filters": list(image_tag_mutability_exclusion_filters)
            if image_tag_mutability_exclusion_filters is not None
            else None,
            "lifecycle_registry_id": lifecycle_registry_id,
        }
        explicit = {k: v for k, v in explicit.items() if v is not None}
        consumers, found = _check_arguments(consumers, organization_id)
        raise_if_violations(found, construct_path=f"{scope.node.path}/{id}".lstrip("/"))

        props: dict[str, Any] = {
            "repository_name": PhysicalName.GENERATE_IF_NEEDED,
            "image_tag_mutability": ecr.TagMutability.IMMUTABLE,
            "image_scan_on_push": True,
            "removal_policy": RemovalPolicy.RETAIN,
        }
        if repository_props is not None:
            props.update(
                {
                    name: getattr(repository_props, name)
                    for name in _REPOSITORY_PROP_NAMES
                    if getattr(repository_props, name) is not None
                }
            )
        props.update(explicit)
        super().__init__(scope, id, **props)
        self._replicas: list[CrossAccountImageRepo] = []
        self._replica_of: CrossAccountImageRepo | None = None
        self._function_consumers: list[LambdaConsumer] = []
        self._functions: list[Any] = []
        """The ContainerFunctions of this app that run from it (read by ImagePullMonitor)."""
        self._warn_about_props(props)
        cfn = self.node.default_child
        assert isinstance(cfn, ecr.CfnRepository)
        if cfn.encryption_configuration is None:
            # AES-256 on purpose: see kmsCrossAccountUndocumented.
            skip_checkov(
                cfn,
                "CKV_AWS_136",
                "AES-256 (ECR's default) on purpose: AWS does not document what a cross-account "
                "Lambda pull needs from a KMS key policy (ecr-lambda-access README, KMS).",
            )
        self._pull_policy = _PullPolicy(self, self, consumers, organization_id)

    # ----------------------------------------------------------------------------------------
    # Public API
    # ----------------------------------------------------------------------------------------

    @property
    def repository(self) -> CrossAccountImageRepo:
        """The repository itself (kept from the versions that wrapped an ``aws_ecr.Repository``)."""
        return self

    @property
    def consumers(self) -> tuple[LambdaConsumer, ...]:
        """The consumers given so far, as :class:`LambdaConsumer` (in the order given)."""
        return tuple(self._pull_policy.consumers)

    @property
    def organization_id(self) -> str | None:
        return self._pull_policy.organization_id

    def add_consumer(self, *consumers: LambdaConsumer | str) -> None:
        """Let these consumers' functions run the repository's images.

        Same rules as ``consumers=`` at construction; included when the policy is rendered at
        synth time. Raises :class:`~ecr_lambda_access.InvalidConsumerError` for bad input and
        :class:`~ecr_lambda_access.PolicyTooLargeError` if the policy would exceed ECR's limit.
        """
        self._pull_policy.add_consumer(consumers)
        try:
            for replica in self._replicas:
                replica._pull_policy.check_size()
        except PolicyTooLargeError:
            del self._pull_policy.consumers[len(self._pull_policy.consumers) - len(consumers) :]
            raise

    def add_replica(
        self,
        scope: Construct,
        id: str | None = None,
        *,
        consumers: Sequence[LambdaConsumer | str] = (),
        organization_id: str | None = None,
    ) -> CrossAccountImageRepo:
        """Replicate this repository's images to the registry of ``scope``'s stack.

        The replica is a ``CrossAccountImageRepo`` in ``scope`` (a stack, or a construct in one,
        whose account and Region are literal) with the same repository name and defaults (and
        this repository's tag mutability), created by CloudFormation so that its policy keeps
        tracking its consumers. Whom it admits:

        * in this repository's account (another Region): this repository's consumers, with the
          replica's Region in their function ARNs, plus ``consumers``;
        * in another account: ``consumers`` only (and that account's functions that run from it);
          never this repository's other consumers.

        The source registry's replication configuration
        (:class:`~ecr_lambda_access.replication.RegistryReplication`) gains a rule for the
        destination, and a destination in another account gets a registry policy
        (:class:`~ecr_lambda_access.replication.ReplicationRegistryPolicy`) letting this
        account replicate into this repository name only. Both replace what the registry had
        (warnings say so). The replica's stack deploys before the replication configuration's.
        A :class:`~ecr_lambda_access.ContainerFunction` with ``repository=`` this repository
        runs from the replica of its own account and Region, else of its Region.

        Only images pushed after the replication configuration is deployed are replicated.

        Parameters
        ----------
        scope:
            Where the replica is created; its stack's environment is the destination.
        id:
            The replica's construct id. Default: this construct's id + ``"Replica"``.
        consumers:
            Who else may run the images from the replica (as ``consumers=`` of this class).
        organization_id:
            As ``organization_id=`` of this class. Default: this repository's for a replica in
            the same account, None in another account.

        Raises :class:`~ecr_lambda_access.ReplicaConfigurationError` (every problem at once) for
        the source's own environment, a duplicate destination, an environment-agnostic stack or
        a repository without a literal name, and
        :class:`~ecr_lambda_access.ReplicationLimitError` past ECR's replication limits.
        """
        replica: CrossAccountImageRepo = add_replica(
            self,
            scope,
            id,
            consumers=consumers,
            organization_id=organization_id,
            replica_class=CrossAccountImageRepo,
        )
        return replica

    @property
    def replicas(self) -> tuple[CrossAccountImageRepo, ...]:
        """The replicas added with :meth:`add_replica`, in the order added."""
        return tuple(self._replicas)

    def replica_for(self, *, account: str, region: str) -> CrossAccountImageRepo | None:
        """The replica in this account and Region, or None."""
        for replica in self._replicas:
            stack = facts_of(replica._pull_policy.stack)
            if stack.account == account and stack.region == region:
                return replica
        return None

    @property
    def replica_of(self) -> CrossAccountImageRepo | None:
        """The repository this one is a replica of (None unless made by ``add_replica``)."""
        return self._replica_of

    def _become_replica_of(self, source: CrossAccountImageRepo) -> None:
        """Made by ``source.add_replica``: whom it admits now depends on ``source`` too."""
        self._replica_of = source
        self._pull_policy.replica_source = source

    def _add_replica_record(self, replica: CrossAccountImageRepo) -> None:
        self._replicas.append(replica)

    def _register_function(self, consumer: LambdaConsumer) -> None:
        """A ContainerFunction of this app registers itself (not inherited by replicas)."""
        # Replicas inherit declared consumers only, so their policies do not change here.
        self._pull_policy.add_consumer((consumer,))
        self._function_consumers.append(consumer)

    def _declared_consumers(self) -> list[LambdaConsumer]:
        """The consumers given by the user (not the functions registered on the repository)."""
        registered = list(self._function_consumers)
        declared = []
        for consumer in self._pull_policy.consumers:
            if consumer in registered:
                registered.remove(consumer)
            else:
                declared.append(consumer)
        return declared

    def policy_statements(self) -> list[dict[str, Any]]:
        """The statements this construct writes (CDK tokens unresolved for env-agnostic stacks)."""
        return self._pull_policy.statements()

    def add_lifecycle_rule(
        self,
        *,
        description: str | None = None,
        max_image_age: Duration | None = None,
        max_image_count: float | None = None,
        rule_priority: float | None = None,
        tag_pattern_list: Sequence[str] | None = None,
        tag_prefix_list: Sequence[str] | None = None,
        tag_status: ecr.TagStatus | None = None,
    ) -> None:
        """``aws_ecr.Repository.add_lifecycle_rule``, with the ``lifecycleDeletesImages`` warning
        that ``lifecycle_rules=`` gets (once per repository)."""
        super().add_lifecycle_rule(
            description=description,
            max_image_age=max_image_age,
            max_image_count=max_image_count,
            rule_priority=rule_priority,
            tag_pattern_list=tag_pattern_list,
            tag_prefix_list=tag_prefix_list,
            tag_status=tag_status,
        )
        self._warn_lifecycle()

    def _warn_lifecycle(self) -> None:
        if getattr(self, "_lifecycle_warned", False):
            return
        self._lifecycle_warned = True
        warn(
            self,
            "lifecycleDeletesImages",
            "lifecycle rules expire images; a Lambda function whose image is deleted stops "
            "working (ImageDeleted). Keep the images deployed functions use out of the rules.",
        )

    def grant_pull(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let ``grantee`` pull images; never an unconditioned service-principal statement.

        * ``lambda.amazonaws.com`` (what ``DockerImageCode.from_ecr`` passes): this repository's
          own account becomes a consumer, so every function of this account in this Region may
          pull (``aws:SourceArn`` ``function:*``). A function in another account needs its
          account listed (``add_consumer``, or a :class:`~ecr_lambda_access.ContainerFunction`).
        * another service principal: the statement CDK writes, limited by
          ``aws:SourceAccount`` = this account.
        * any other principal: ``aws_ecr.Repository.grant_pull``.
        """
        services = _service_principals(self, grantee)
        if not services:
            return super().grant_pull(grantee)
        stack = Stack.of(self)
        if LAMBDA_SERVICE_PRINCIPAL in services:
            self.add_consumer(stack.account)
            if not getattr(self, "_checks_foreign_functions", False):
                self._checks_foreign_functions = True
                self.node.add_validation(_ForeignImageFunctions(self))
            Annotations.of(self).add_info(
                "grant_pull(lambda.amazonaws.com) (DockerImageCode.from_ecr) admits every "
                "function of this repository's account in its Region (aws:SourceArn "
                "function:*). Functions of other accounts need add_consumer(...) or a "
                "ContainerFunction."
            )
        others = [s for s in services if s != LAMBDA_SERVICE_PRINCIPAL]
        if others:
            self.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(s) for s in others],
                    actions=list(_PULL_ACTIONS_OF_GRANT_PULL),
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                )
            )
        return iam.Grant.drop(grantee, f"pull images of {self.node.path}")

    # ----------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------

    def _warn_about_props(self, props: dict[str, Any]) -> None:
        if props.get("lifecycle_rules"):
            self._warn_lifecycle()
        encryption = props.get("encryption")
        if props.get("encryption_key") is not None or (
            encryption is not None and encryption != ecr.RepositoryEncryption.AES_256
        ):
            warn(
                self,
                "kmsCrossAccountUndocumented",
                "the repository is encrypted with KMS: AWS does not document what a "
                "cross-account Lambda pull needs from the key policy. Test a cross-account "
                "deploy before relying on it, or keep the default AES_256.",
            )


@jsii.implements(IValidation)
class _ForeignImageFunctions:
    """At synth: warn on each plain ``aws_lambda`` function of another account that runs this
    repository's images (``DockerImageCode.from_ecr``) while that account is not a consumer.

    ``grant_pull(lambda.amazonaws.com)`` does not say which function asked, so the functions are
    found once, at synth, and only for a repository that got that grant.
    """

    def __init__(self, repository: CrossAccountImageRepo) -> None:
        self._repository = repository

    def validate(self) -> list[str]:
        from aws_cdk import aws_lambda as lambda_

        repository = self._repository
        own = Stack.of(repository)
        if repository.organization_id is not None or Token.is_unresolved(own.account):
            return []
        admitted = {c.account for c in repository.consumers}
        name = literal_name(repository)
        for construct in repository.node.root.node.find_all():
            if not isinstance(construct, lambda_.Function) or registers_itself(construct):
                continue  # a ContainerFunction registers itself: its own checks apply
            stack = Stack.of(construct)
            account = stack.account
            if Token.is_unresolved(account) or account == own.account or account in admitted:
                continue
            cfn = construct.node.default_child
            if not isinstance(cfn, lambda_.CfnFunction):
                continue
            code = json.dumps(stack.resolve(cfn.code))
            repo_name = name if name is not None else stack.resolve(repository.repository_name)
            if not isinstance(repo_name, str) or not any(
                f"/{repo_name}{sep}" in code for sep in ("@", ":")
            ):
                continue
            warn(
                construct,
                "dockerImageFunctionOtherAccount",
                f"{construct.node.path} (account {account}) runs an image of "
                f"CrossAccountImageRepo {repository.node.path} (account {own.account}) through "
                "DockerImageCode.from_ecr, whose grant admits only the repository's own "
                f"account: the deploy fails (Lambda cannot pull). Use a ContainerFunction (it "
                f"registers its account on the repository), or list the account: "
                f"{repository.node.id}.add_consumer({account!r})",
            )
        return []


class ImagePullPolicy(Construct):
    """The library's pull policy on an ``aws_ecr.Repository`` the app already has.

    The way in for a deployed registry: the repository keeps its construct id, logical id and
    physical name (nothing is replaced); its ``RepositoryPolicyText`` becomes the documented
    pair for the consumers (see :class:`CrossAccountImageRepo`), followed by statements added
    to the repository. A :class:`~ecr_lambda_access.ContainerFunction` given that repository
    registers itself here. The repository's other settings stay as they are: mutable tags get
    a warning (``ecr-lambda-access:mutableTags``).

    Parameters
    ----------
    repository:
        An ``aws_ecr.Repository`` defined in this app (an imported one has no policy to write:
        ``ContainerFunction.required_repository_policy()`` gives what its owner must add).
    consumers, organization_id:
        As for :class:`CrossAccountImageRepo`.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: ecr.Repository,
        consumers: Sequence[LambdaConsumer | str] = (),
        organization_id: str | None = None,
    ) -> None:
        path = f"{scope.node.path}/{id}".lstrip("/")
        consumers, found = _check_arguments(consumers, organization_id)
        if not isinstance(repository, ecr.Repository):
            found.append(
                (
                    InvalidRepositoryError,
                    f"repository must be an aws_ecr.Repository defined in this app, got "
                    f"{repository!r}: an imported repository's policy cannot be written from "
                    "here; ContainerFunction.required_repository_policy() gives the policy its "
                    "owner must add",
                )
            )
        elif isinstance(repository, CrossAccountImageRepo):
            found.append(
                (
                    InvalidRepositoryError,
                    f"repository {repository.node.path} is a CrossAccountImageRepo, which "
                    "manages its own policy: use its add_consumer()",
                )
            )
        elif _POLICIES.get(repository) is not None:
            found.append(
                (
                    InvalidRepositoryError,
                    f"repository {repository.node.path} already has an ImagePullPolicy "
                    f"({_POLICIES[repository].node.path}): add consumers to that one",
                )
            )
        raise_if_violations(found, construct_path=path)
        super().__init__(scope, id)
        self.repository: ecr.Repository = repository
        """The repository whose policy this construct writes."""
        self._pull_policy = _PullPolicy(self, repository, consumers, organization_id)
        _POLICIES[repository] = self

    @staticmethod
    def of(repository: ecr.IRepository) -> ImagePullPolicy | None:
        """The ImagePullPolicy of this app that manages ``repository``'s policy, if any."""
        return _POLICIES.get(repository)

    @property
    def consumers(self) -> tuple[LambdaConsumer, ...]:
        """The consumers given so far, as :class:`LambdaConsumer` (in the order given)."""
        return tuple(self._pull_policy.consumers)

    @property
    def organization_id(self) -> str | None:
        return self._pull_policy.organization_id

    def add_consumer(self, *consumers: LambdaConsumer | str) -> None:
        """As :meth:`CrossAccountImageRepo.add_consumer`."""
        self._pull_policy.add_consumer(consumers)

    def policy_statements(self) -> list[dict[str, Any]]:
        """The statements this construct writes (CDK tokens unresolved for env-agnostic stacks)."""
        return self._pull_policy.statements()


_POLICIES: weakref.WeakKeyDictionary[Any, ImagePullPolicy] = weakref.WeakKeyDictionary()
"""Repository -> the ImagePullPolicy managing it (jsii keeps one Python object per construct)."""


def _service_principals(scope: Construct, grantee: iam.IGrantable) -> list[str]:
    fragment = Stack.of(scope).resolve(grantee.grant_principal.policy_fragment.principal_json)
    services = fragment.get("Service", []) if isinstance(fragment, dict) else []
    return [services] if isinstance(services, str) else list(services)
