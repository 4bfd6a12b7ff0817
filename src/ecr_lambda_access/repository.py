"""``CrossAccountImageRepo``: an ECR repository whose images Lambda functions in other accounts run.

This module only wires: the policy itself comes from :mod:`ecr_lambda_access.policy`.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    IStableAnyProducer,
    Lazy,
    PhysicalName,
    RemovalPolicy,
    Stack,
    Token,
    Validations,
)
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from constructs import Construct, IValidation

from . import policy
from ._annotations import skip_checkov, warn
from .errors import (
    EcrLambdaAccessError,
    InvalidConsumerError,
    InvalidRepositoryError,
    PolicyTooLargeError,
    Violation,
    raise_if_violations,
)
from .policy import LambdaConsumer, replica_consumers
from .validation import check_organization_id

__all__ = ["CrossAccountImageRepo"]

_REPOSITORY_PROP_NAMES = tuple(
    name for name in inspect.signature(ecr.RepositoryProps.__init__).parameters if name != "self"
)


@jsii.implements(IStableAnyProducer)
class _PolicyProducer:
    """Renders the repository policy at synth time, so consumers added late are included."""

    def __init__(self, owner: CrossAccountImageRepo) -> None:
        self._owner = owner

    def produce(self) -> Any:
        return self._owner._render_policy()


@jsii.implements(IValidation)
class _PolicySizeValidation:
    """Fails synth when the rendered policy (ours and any added to the repository) is too big."""

    def __init__(self, owner: CrossAccountImageRepo) -> None:
        self._owner = owner

    def validate(self) -> list[str]:
        rendered = Stack.of(self._owner).resolve(self._owner._render_policy())
        found = policy.check_policy_size(rendered, f"CrossAccountImageRepo {self._owner.node.path}")
        return [message for _, message in found]


class CrossAccountImageRepo(Construct):
    """An ECR repository whose images Lambda functions in the listed accounts can run.

    Writes the repository policy AWS documents for Lambda pulls (see the README): one statement
    lets each consumer account's root principal pull (so the account can create and update
    functions from the images), one lets ``lambda.amazonaws.com`` pull on behalf of exactly the
    consumers' functions (``aws:SourceArn``, StringLike). Actions are exactly
    ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer``. With no consumers and no
    organization the repository has no policy: no one outside the account can pull.

    The policy is rendered at synth time: consumers added later (:meth:`add_consumer`, or a
    :class:`~ecr_lambda_access.ContainerFunction` of the same app that runs from this repository)
    are included. Synth fails if it would exceed ECR's 10,240 characters.

    Functions must run in this repository's Region (the stack's Region); other accounts are fine.

    Parameters
    ----------
    repository_name:
        The repository's physical name, e.g. ``"shared/orders"``. Default: a name CloudFormation
        generates, or CDK generates when another account's stack refers to it
        (``PhysicalName.GENERATE_IF_NEEDED``). Give one: consumer accounts refer to it by name.
    consumers:
        Who may run the images: account id strings (every function of that account) or
        :class:`LambdaConsumer` (a function-name prefix, or one function). Default: none.
    organization_id:
        Opt-in: admit every account of this AWS Organization (``o-...``) with a ``*`` principal
        limited by ``aws:PrincipalOrgID`` and a service statement limited by ``aws:SourceOrgID``.
        AWS documents listing each account; this form is reported to work by a third party but
        is **not documented by AWS**. Default: None (accounts are listed one by one).
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
    repository_props:
        Any other ``aws_ecr.RepositoryProps``; the arguments above take precedence. Default: None.
    existing_repository:
        Use this ``aws_ecr.Repository`` (owned by this app) instead of creating one. Mutually
        exclusive with ``repository_props`` and the repository arguments. Default: None.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository_name: str | None = None,
        consumers: Sequence[LambdaConsumer | str] = (),
        organization_id: str | None = None,
        image_tag_mutability: ecr.TagMutability | None = None,
        image_scan_on_push: bool | None = None,
        removal_policy: RemovalPolicy | None = None,
        lifecycle_rules: Sequence[ecr.LifecycleRule] | None = None,
        encryption: ecr.RepositoryEncryption | None = None,
        encryption_key: kms.IKey | None = None,
        repository_props: ecr.RepositoryProps | None = None,
        existing_repository: ecr.Repository | None = None,
    ) -> None:
        super().__init__(scope, id)
        self._replicas: list[CrossAccountImageRepo] = []
        self._replica_of: CrossAccountImageRepo | None = None
        self._function_consumers: list[LambdaConsumer] = []
        explicit: dict[str, Any] = {
            "repository_name": repository_name,
            "image_tag_mutability": image_tag_mutability,
            "image_scan_on_push": image_scan_on_push,
            "removal_policy": removal_policy,
            "lifecycle_rules": list(lifecycle_rules) if lifecycle_rules is not None else None,
            "encryption": encryption,
            "encryption_key": encryption_key,
        }
        explicit = {k: v for k, v in explicit.items() if v is not None}

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
        if existing_repository is not None:
            if repository_props is not None or explicit:
                names = sorted(explicit) + (["repository_props"] if repository_props else [])
                found.append(
                    (
                        EcrLambdaAccessError,
                        f"existing_repository is set, so {', '.join(names)} cannot be: configure "
                        "the existing repository itself, or drop existing_repository",
                    )
                )
            if not isinstance(existing_repository, ecr.Repository):
                found.append(
                    (
                        InvalidRepositoryError,
                        f"existing_repository must be an aws_ecr.Repository defined in this app, "
                        f"got {existing_repository!r}: an imported repository's policy cannot be "
                        "written from here; ContainerFunction.required_repository_policy() gives "
                        "the policy its owner must add",
                    )
                )
        raise_if_violations(found)

        self._consumers: list[LambdaConsumer] = [policy.as_consumer(c) for c in consumers]
        self._organization_id = organization_id

        if existing_repository is not None:
            self.repository: ecr.Repository = existing_repository
        else:
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
            self.repository = ecr.Repository(self, "Repository", **props)
            self._warn_about_props(props)

        cfn = self.repository.node.default_child
        if not isinstance(cfn, ecr.CfnRepository):
            raise InvalidRepositoryError(
                f"existing_repository {self.repository.node.path} has no AWS::ECR::Repository "
                "resource as its default child: pass an aws_ecr.Repository"
            )
        if cfn.image_tag_mutability == "MUTABLE":
            warn(
                self,
                "mutableTags",
                "the repository's image tags are MUTABLE: Lambda resolves a tag to a digest "
                "once, at create/update, so moving a tag does not change running functions. "
                "Keep tags IMMUTABLE or deploy functions by digest.",
            )
        if cfn.encryption_configuration is None:
            # AES-256 on purpose: see kmsCrossAccountUndocumented.
            skip_checkov(
                cfn,
                "CKV_AWS_136",
                "AES-256 (ECR's default) on purpose: AWS does not document what a cross-account "
                "Lambda pull needs from a KMS key policy (ecr-lambda-access README, KMS).",
            )
        # The L2 keeps statements added with repository.add_to_resource_policy() (grants) in the
        # L1 property; keep rendering them, after ours.
        self._user_policy = cfn.repository_policy_text
        cfn.repository_policy_text = Lazy.any(_PolicyProducer(self))
        self.node.add_validation(_PolicySizeValidation(self))
        if organization_id is not None:
            warn(
                self,
                "organizationNotDocumented",
                "organization_id admits every account of the organization with a '*' principal "
                "limited by aws:PrincipalOrgID and lambda.amazonaws.com limited by "
                "aws:SourceOrgID. AWS documents listing each consumer account; this form is "
                "reported to work but is not documented by AWS. Test a deploy before relying "
                "on it.",
            )
            Validations.of(self.repository).acknowledge(
                Acknowledgment(
                    id="AwsSolutions::AwsSolutions-ECR1",
                    reason=(
                        f"The only '*' principal (statement {policy.SID_ORG_ROOT}) is limited by "
                        f"aws:PrincipalOrgID = {organization_id}: only accounts of that "
                        "organization can pull, which is what organization_id asks for."
                    ),
                )
            )
        self._check_size()

    # ----------------------------------------------------------------------------------------
    # Public API
    # ----------------------------------------------------------------------------------------

    @property
    def consumers(self) -> tuple[LambdaConsumer, ...]:
        """The consumers given so far, as :class:`LambdaConsumer` (in the order given)."""
        return tuple(self._consumers)

    @property
    def organization_id(self) -> str | None:
        return self._organization_id

    @property
    def repository_arn(self) -> str:
        return self.repository.repository_arn

    @property
    def repository_name(self) -> str:
        return self.repository.repository_name

    def add_consumer(self, *consumers: LambdaConsumer | str) -> None:
        """Let these consumers' functions run the repository's images.

        Same rules as ``consumers=`` at construction; included when the policy is rendered at
        synth time. Raises :class:`~ecr_lambda_access.InvalidConsumerError` for bad input and
        :class:`~ecr_lambda_access.PolicyTooLargeError` if the policy would exceed ECR's limit.
        """
        found: list[Violation] = []
        for index, consumer in enumerate(consumers):
            argument = (
                "add_consumer(consumer)" if len(consumers) == 1 else f"add_consumer(#{index})"
            )
            found += policy.check_consumer(consumer, argument)
        raise_if_violations(found)
        added = [policy.as_consumer(c) for c in consumers]
        self._consumers.extend(added)
        try:
            self._check_size()
            for replica in self._replicas:
                replica._check_size()
        except PolicyTooLargeError:
            del self._consumers[len(self._consumers) - len(added) :]
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
        from .replication import add_replica

        replica: CrossAccountImageRepo = add_replica(
            self, scope, id, consumers=consumers, organization_id=organization_id
        )
        return replica

    @property
    def replicas(self) -> tuple[CrossAccountImageRepo, ...]:
        """The replicas added with :meth:`add_replica`, in the order added."""
        return tuple(self._replicas)

    def replica_for(self, *, account: str, region: str) -> CrossAccountImageRepo | None:
        """The replica in this account and Region, or None."""
        for replica in self._replicas:
            stack = Stack.of(replica)
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

    def _add_replica_record(self, replica: CrossAccountImageRepo) -> None:
        self._replicas.append(replica)

    def _register_function(self, consumer: LambdaConsumer) -> None:
        """A ContainerFunction of this app registers itself (not inherited by replicas)."""
        self.add_consumer(consumer)
        self._function_consumers.append(consumer)

    def _declared_consumers(self) -> list[LambdaConsumer]:
        """The consumers given by the user (not the functions registered on the repository)."""
        registered = list(self._function_consumers)
        declared = []
        for consumer in self._consumers:
            if consumer in registered:
                registered.remove(consumer)
            else:
                declared.append(consumer)
        return declared

    def _literal_repository_name(self) -> str | None:
        cfn = self.repository.node.default_child
        if isinstance(cfn, ecr.CfnRepository):
            name = cfn.repository_name
            if isinstance(name, str) and not Token.is_unresolved(name):
                return name
        return None

    def policy_statements(self) -> list[dict[str, Any]]:
        """The statements this construct writes (CDK tokens unresolved for env-agnostic stacks)."""
        stack = Stack.of(self)
        source = self._replica_of
        consumers: Sequence[LambdaConsumer] = self._consumers
        if source is not None:
            # A replica: whom it admits is decided in one place (replication_plan).
            consumers = replica_consumers(
                source._declared_consumers(),
                source_account=Stack.of(source).account,
                replica_account=stack.account,
                consumers=self._consumers,
            )
        return policy.repository_policy_statements(
            consumers,
            repository_account=stack.account,
            region=stack.region,
            partition=stack.partition,
            organization_id=self._organization_id,
        )

    # ----------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------

    def _document(self, extra: Sequence[Any] = ()) -> dict[str, Any] | None:
        statements = [*self.policy_statements(), *extra]
        return {"Version": policy.POLICY_VERSION, "Statement": statements} if statements else None

    def _check_size(self) -> None:
        # Unresolved tokens ("${Token[AWS.Region.7]}") are longer than any value they stand
        # for, so this text's length bounds the deployed policy's from above.
        raise_if_violations(
            policy.check_policy_size(self._document(), f"CrossAccountImageRepo {self.node.path}")
        )

    def _render_policy(self) -> dict[str, Any] | None:
        """Our statements, then those added to the repository (grants), at synth time."""
        extra: list[Any] = []
        if self._user_policy is not None:
            resolved = Stack.of(self).resolve(self._user_policy)
            if isinstance(resolved, dict):
                extra = list(resolved.get("Statement", []))
        return self._document(extra)

    def _warn_about_props(self, props: dict[str, Any]) -> None:
        if props.get("lifecycle_rules"):
            warn(
                self,
                "lifecycleDeletesImages",
                "lifecycle rules expire images; a Lambda function whose image is deleted stops "
                "working (ImageDeleted). Keep the images deployed functions use out of the rules.",
            )
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
