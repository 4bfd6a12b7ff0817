"""``ContainerFunction``: a container-image Lambda function with a least-privilege execution role.

The consumer side. The Lambda *service* pulls the image (through the repository policy); the
execution role never holds an ``ecr:`` action. The role holds exactly:

* ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the function's own log group;
* with tracing (the default): ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` on ``*``
  (X-Ray has no resource-level permissions);
* per SQS source: ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the
  queue, plus ``kms:Decrypt`` on the queue's customer-managed key when it has one;
* what the options the caller chose require (VPC network interfaces, a dead-letter queue, EFS,
  an environment encryption key), added by the same rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Annotations,
    Duration,
    Names,
    RemovalPolicy,
    Size,
    Stack,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from . import policy, scanner_hints
from ._annotations import warn
from .errors import EcrLambdaAccessError, Violation, raise_if_violations
from .policy import ECR_PULL_ACTIONS, LAMBDA_SERVICE_PRINCIPAL, LambdaConsumer
from .sources import RepositoryLike, image_uri, register, resolve_repository
from .sqs import SQS_ACTIONS, add_sqs_source
from .validation import check_function_name, check_tag_or_digest, is_digest, is_unresolved

__all__ = [
    "ContainerFunction",
    "RepositoryLike",
    "DEFAULT_TIMEOUT",
    "DEFAULT_MEMORY_SIZE",
    "DEFAULT_LOG_RETENTION",
    "LOG_ACTIONS",
    "TRACING_ACTIONS",
    "SQS_ACTIONS",
    "VPC_ACTIONS",
]


DEFAULT_TIMEOUT = Duration.seconds(30)
DEFAULT_MEMORY_SIZE = 512
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH

LOG_ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")
TRACING_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
VPC_ACTIONS = (
    "ec2:AssignPrivateIpAddresses",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:UnassignPrivateIpAddresses",
)
"""What Lambda needs from the execution role to attach the function to a VPC (the actions of
the AWS managed policy ``AWSLambdaVPCAccessExecutionRole``, without its logs actions)."""

_TRACING_MODES = {lambda_.Tracing.ACTIVE: "Active", lambda_.Tracing.PASS_THROUGH: "PassThrough"}


class _ImageUriCode(lambda_.Code):
    """Lambda code that is a literal image URI: unlike ``Code.from_ecr_image`` it calls no
    ``grant_pull``, so CDK writes nothing into the repository's policy."""

    def __init__(
        self,
        image_uri: str,
        *,
        cmd: Sequence[str] | None,
        entrypoint: Sequence[str] | None,
        working_directory: str | None,
    ) -> None:
        super().__init__()
        self._image_uri = image_uri
        self._cmd = list(cmd) if cmd is not None else None
        self._entrypoint = list(entrypoint) if entrypoint is not None else None
        self._working_directory = working_directory

    @property
    def is_inline(self) -> bool:
        return False

    def bind(self, scope: Construct) -> lambda_.CodeConfig:
        return lambda_.CodeConfig(
            image=lambda_.CodeImageConfig(
                image_uri=self._image_uri,
                cmd=self._cmd,
                entrypoint=self._entrypoint,
                working_directory=self._working_directory,
            )
        )


def _stack_of(construct: Construct) -> Stack:
    return Stack.of(construct)


class ContainerFunction(Construct):
    """A Lambda function that runs a container image from a private ECR repository.

    The image may live in this account or another one, in the function's Region. The execution
    role is the function's own and holds only what the function uses (see the module docstring);
    no AWS managed policy is attached and no ``ecr:`` action is ever granted to it: pulling is
    the Lambda service's job, allowed by the repository policy.

    * ``repository`` a :class:`~ecr_lambda_access.CrossAccountImageRepo` of the same CDK app: the
      function registers itself on it (:class:`~ecr_lambda_access.LambdaConsumer` with this
      account and this function's exact name), so the repository policy lists the function's ARN
      and, when the accounts differ, this account's root principal. This stack then depends on
      the repository's stack (the policy must exist before ``CreateFunction``).
    * any other repository (an ARN string or an ``aws_ecr.IRepository``): its policy cannot be
      written from here; :meth:`required_repository_policy` gives the exact policy its owner must
      add and an info annotation says so. Lambda's own auto-attach of a (broader) statement at
      create time is never relied on.

    Parameters
    ----------
    scope, id:
        The construct's scope and id.
    repository:
        A ``CrossAccountImageRepo``, an ``aws_ecr.IRepository`` (imported or owned) or a literal
        repository ARN ``arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME``. It must be in this
        stack's Region.
    tag_or_digest:
        The image: ``"sha256:"`` + 64 lowercase hex digits (recommended: every image change is a
        template change), or a tag. Lambda resolves a tag to a digest once, at create/update: a
        moved tag changes nothing until the next code update (``"latest"`` gets a warning). An
        unresolved token is a tag unless written as ``"sha256:" + token``.
    timeout:
        Default: 30 seconds (Lambda's own default, 3 seconds, is rarely right for an image).
    memory_size:
        In MiB. Default: 512.
    function_name:
        Default: generated, deterministic, at most 64 characters: the stack name, the construct
        path and an 8-character hash (``Names.unique_resource_name``). A literal name is needed
        for the repository policy to name this exact function. Renaming replaces the function.
    description, environment, environment_encryption, architecture, ephemeral_storage_size,
    reserved_concurrent_executions, recursive_loop:
        Passed to ``aws_lambda.Function``. Defaults: Lambda's (no description, no environment,
        the AWS managed key, ``X86_64`` (the image must match), 512 MiB ephemeral storage,
        unreserved concurrency, ``Terminate``).
    cmd, entrypoint, working_directory:
        Override the image's ``CMD``, ``ENTRYPOINT`` and ``WORKDIR``. Default: the image's.
    tracing:
        Default: ``Tracing.ACTIVE`` (adds the two X-Ray put actions). ``Tracing.DISABLED`` opts
        out and adds nothing.
    log_group:
        An existing log group to log to; the role gets the two logs actions on it. Default: a new
        ``AWS::Logs::LogGroup`` in this stack (its name generated by CloudFormation).
    log_retention:
        Retention of the new log group. Default: ``RetentionDays.ONE_MONTH``. Cannot be combined
        with ``log_group`` (set the retention on that group).
    log_removal_policy:
        Removal policy of the new log group. Default: ``RemovalPolicy.RETAIN`` (logs outlive the
        stack until the retention expires them).
    log_encryption_key:
        A customer-managed KMS key for the new log group; its key policy must allow the
        ``logs.REGION.amazonaws.com`` service principal. Default: none (CloudWatch Logs encrypts
        log data at rest with a key it manages).
    logging_format, application_log_level, system_log_level:
        Lambda's logging controls (``LoggingFormat.JSON`` is needed for the levels). Default:
        text format, Lambda's default levels.
    vpc, vpc_subnets, security_groups, allow_public_subnet, allow_all_outbound:
        Run the function in a VPC. The role then also gets Lambda's six network-interface
        actions (:data:`VPC_ACTIONS`) in a policy of their own. Default: no VPC.
    filesystem:
        An EFS access point mount (requires ``vpc``); CDK grants the mount actions. Default: none.
    dead_letter_queue, dead_letter_queue_enabled, dead_letter_topic, on_failure, on_success,
    max_event_age, retry_attempts:
        Asynchronous-invocation handling, passed through (the role gets ``sqs:SendMessage`` or
        ``sns:Publish`` on a dead-letter target). Default: none; Lambda retries twice and keeps
        events 6 hours. For SQS-triggered functions use the source queue's redrive policy.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: RepositoryLike,
        tag_or_digest: str,
        timeout: Duration | None = None,
        memory_size: int | None = None,
        function_name: str | None = None,
        description: str | None = None,
        environment: Mapping[str, str] | None = None,
        environment_encryption: kms.IKey | None = None,
        architecture: lambda_.Architecture | None = None,
        ephemeral_storage_size: Size | None = None,
        reserved_concurrent_executions: int | None = None,
        recursive_loop: lambda_.RecursiveLoop | None = None,
        cmd: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        working_directory: str | None = None,
        tracing: lambda_.Tracing | None = None,
        log_group: logs.ILogGroup | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_removal_policy: RemovalPolicy | None = None,
        log_encryption_key: kms.IKey | None = None,
        logging_format: lambda_.LoggingFormat | None = None,
        application_log_level: lambda_.ApplicationLogLevel | None = None,
        system_log_level: lambda_.SystemLogLevel | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        allow_public_subnet: bool | None = None,
        allow_all_outbound: bool | None = None,
        filesystem: lambda_.FileSystem | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        dead_letter_queue_enabled: bool | None = None,
        dead_letter_topic: sns.ITopic | None = None,
        on_failure: lambda_.IDestination | None = None,
        on_success: lambda_.IDestination | None = None,
        max_event_age: Duration | None = None,
        retry_attempts: int | None = None,
    ) -> None:
        super().__init__(scope, id)
        stack = _stack_of(self)

        found: list[Violation] = list(check_tag_or_digest(tag_or_digest, "tag_or_digest"))
        if function_name is not None:
            found += check_function_name(function_name, "function_name")
        if log_group is not None and log_retention is not None:
            found.append(
                (
                    EcrLambdaAccessError,
                    "log_group and log_retention cannot both be set: set the retention on the "
                    "existing log group, or drop log_group to let ContainerFunction create one",
                )
            )
        if log_group is not None and log_encryption_key is not None:
            found.append(
                (
                    EcrLambdaAccessError,
                    "log_group and log_encryption_key cannot both be set: set the key on the "
                    "existing log group",
                )
            )
        if log_group is not None and log_removal_policy is not None:
            found.append(
                (
                    EcrLambdaAccessError,
                    "log_group and log_removal_policy cannot both be set: set the removal policy "
                    "on the existing log group",
                )
            )
        ref, repo_found = resolve_repository(repository, stack, function_name)
        found += repo_found
        raise_if_violations(found)
        assert ref is not None

        self._stack = stack
        self._ref = ref
        self.tag_or_digest: str = tag_or_digest
        """The image tag or digest the function runs."""
        self.function_name: str = function_name or Names.unique_resource_name(
            self, max_length=64, separator="-", allowed_special_characters="-_"
        )
        """The function's name (literal unless a token was passed)."""
        self.timeout: Duration = timeout if timeout is not None else DEFAULT_TIMEOUT
        """The function's timeout."""
        self.image_uri: str = image_uri(ref, stack, tag_or_digest)
        """``ACCOUNT.dkr.ecr.REGION.URLSUFFIX/NAME@sha256:...`` (or ``:tag``)."""
        self._sqs_sources: dict[str, lambda_.EventSourceMapping] = {}

        self.role: iam.Role = iam.Role(
            self,
            "ServiceRole",
            assumed_by=iam.ServicePrincipal(LAMBDA_SERVICE_PRINCIPAL),
            description=f"Execution role of the Lambda function {self.function_name}",
        )
        """The execution role: no managed policy, no ``ecr:`` action."""

        self.log_group: logs.ILogGroup = log_group or logs.LogGroup(
            self,
            "LogGroup",
            retention=log_retention or DEFAULT_LOG_RETENTION,
            removal_policy=log_removal_policy or RemovalPolicy.RETAIN,
            encryption_key=log_encryption_key,
        )
        """Where the function logs (``LoggingConfig.LogGroup``)."""
        self.role.add_to_policy(
            iam.PolicyStatement(
                sid="WriteLogs",
                actions=list(LOG_ACTIONS),
                resources=[self.log_group.log_group_arn],
            )
        )

        self.vpc_access_policy: iam.Policy | None = None
        """The policy with :data:`VPC_ACTIONS` when the function runs in a VPC, else None."""
        if vpc is not None:
            self.vpc_access_policy = self._star_policy(
                "VpcAccessPolicy", "ManageNetworkInterfaces", VPC_ACTIONS, scanner_hints.ACK_VPC
            )
            scanner_hints.skip_vpc_policy_checks(self.vpc_access_policy)

        self.function: lambda_.Function = lambda_.Function(
            self,
            "Resource",
            code=_ImageUriCode(
                self.image_uri,
                cmd=cmd,
                entrypoint=entrypoint,
                working_directory=working_directory,
            ),
            handler=lambda_.Handler.FROM_IMAGE,
            runtime=lambda_.Runtime.FROM_IMAGE,
            function_name=self.function_name,
            role=self.role,
            timeout=self.timeout,
            memory_size=memory_size if memory_size is not None else DEFAULT_MEMORY_SIZE,
            description=description,
            environment=dict(environment) if environment is not None else None,
            environment_encryption=environment_encryption,
            architecture=architecture,
            ephemeral_storage_size=ephemeral_storage_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            recursive_loop=recursive_loop,
            log_group=self.log_group,
            logging_format=logging_format,
            application_log_level_v2=application_log_level,
            system_log_level_v2=system_log_level,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) if security_groups is not None else None,
            allow_public_subnet=allow_public_subnet,
            allow_all_outbound=allow_all_outbound,
            filesystem=filesystem,
            dead_letter_queue=dead_letter_queue,
            dead_letter_queue_enabled=dead_letter_queue_enabled,
            dead_letter_topic=dead_letter_topic,
            on_failure=on_failure,
            on_success=on_success,
            max_event_age=max_event_age,
            retry_attempts=retry_attempts,
        )
        """The Lambda function (``aws_lambda.Function``; every ``IFunction`` method works)."""
        cfn_function = self.function.node.default_child
        assert isinstance(cfn_function, lambda_.CfnFunction)
        self._cfn_function = cfn_function
        if self.vpc_access_policy is not None:
            # CreateFunction with a VpcConfig checks the role's EC2 permissions.
            self.function.node.add_dependency(self.vpc_access_policy)

        # Tracing is rendered here rather than by aws_lambda.Function so that the X-Ray
        # statement lives in a policy of its own, the only place its Resource '*' is
        # acknowledged.
        self.tracing: lambda_.Tracing = tracing if tracing is not None else lambda_.Tracing.ACTIVE
        """The function's tracing mode."""
        self.tracing_policy: iam.Policy | None = None
        """The policy with :data:`TRACING_ACTIONS`, or None when tracing is disabled."""
        if self.tracing != lambda_.Tracing.DISABLED:
            cfn_function.tracing_config = lambda_.CfnFunction.TracingConfigProperty(
                mode=_TRACING_MODES[self.tracing]
            )
            self.tracing_policy = self._star_policy(
                "TracingPolicy", "WriteTraces", TRACING_ACTIONS, scanner_hints.ACK_XRAY
            )
            # Traces of the first invocations need the permission too.
            self.function.node.add_dependency(self.tracing_policy)

        scanner_hints.skip_choice_checks(
            cfn_function,
            self.log_group,
            log_group_created=log_group is None,
            log_encrypted=log_encryption_key is not None,
            in_vpc=vpc is not None,
            reserved=reserved_concurrent_executions is not None,
        )
        register(self, ref, stack)
        self._annotate_image(tag_or_digest)

    # ----------------------------------------------------------------------------------------
    # Public API
    # ----------------------------------------------------------------------------------------

    @property
    def repository_arn(self) -> str:
        """The ARN of the repository the image comes from."""
        return self._ref.arn

    @property
    def repository_name(self) -> str:
        """The name of the repository the image comes from."""
        return self._ref.name

    @property
    def repository_account(self) -> str:
        """The account that owns the repository."""
        return self._ref.account

    @property
    def is_wired(self) -> bool:
        """True when the repository is a CrossAccountImageRepo of this app that lists this
        function in its policy."""
        return self._ref.wired_to is not None

    @property
    def function_arn(self) -> str:
        """The function's ARN."""
        return self.function.function_arn

    def required_repository_policy(self) -> dict[str, Any]:
        """The repository policy the repository must hold for this function to run its image.

        For a foreign repository (an ARN or an ``IRepository`` not managed by a
        :class:`~ecr_lambda_access.CrossAccountImageRepo` of this app): the documented pair for
        exactly this function, to hand to the repository's owner. The root-principal statement
        (this account may create and update functions from the image) appears only when the
        repository is in another account; the ``lambda.amazonaws.com`` statement is limited by
        ``aws:SourceArn`` to this function's ARN. Actions are exactly ``ecr:BatchGetImage`` and
        ``ecr:GetDownloadUrlForLayer``.

        For a wired ``CrossAccountImageRepo``: the policy that repository renders, which covers
        this function (and its other consumers).

        Values this stack does not know literally (an env-agnostic stack's account) appear as
        CDK token strings.
        """
        owner = self._ref.wired_to
        if owner is not None:
            return {"Version": policy.POLICY_VERSION, "Statement": owner.policy_statements()}
        document = policy.repository_policy(
            [self._consumer()],
            repository_account=self._ref.account,
            region=self._ref.region,
            partition=self._ref.partition,
        )
        assert document is not None  # one consumer always yields the service statement
        return document

    def deployer_statements(self) -> list[iam.PolicyStatement]:
        """Identity statements the principal that creates/updates this function needs for the image.

        Returns one statement: ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer`` on the
        repository ARN. ``lambda:CreateFunction`` and ``UpdateFunctionCode`` check that the
        *caller* may read the image; for a repository in another account the repository
        policy's root-principal statement is the other half of this check. The CDK bootstrap
        default (``AdministratorAccess``) already has it; a locked-down CloudFormation execution
        policy (``cdk bootstrap --cloudformation-execution-policies``) needs this statement.

        Deliberately not included:

        * ``ecr:GetAuthorizationToken``: it issues a Docker registry login; ``CreateFunction``
          takes the image URI and never involves a registry login by the caller.
        * ``ecr:GetRepositoryPolicy`` and ``ecr:SetRepositoryPolicy``: Lambda uses them only to
          add its own (broader, three-action) repository statement when the policy is missing.
          Without them a missing repository policy fails the deployment ("Lambda does not have
          permission to access the ECR image") instead of being silently patched.

        Needed for any Lambda function, image or not, and so not listed here: the ``lambda:``
        actions on the function (create, get, update code and configuration, delete, tags) and
        ``iam:PassRole`` on the execution role (condition ``iam:PassedToService`` =
        ``lambda.amazonaws.com``), plus what the other resources of the stack need.
        """
        return [
            iam.PolicyStatement(
                sid="ReadFunctionImage",
                actions=list(ECR_PULL_ACTIONS),
                resources=[self._ref.arn],
            )
        ]

    def add_sqs_source(
        self,
        queue: sqs.IQueue,
        *,
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        report_batch_item_failures: bool = True,
        enabled: bool | None = None,
        max_concurrency: int | None = None,
        filters: Sequence[Mapping[str, Any]] | None = None,
    ) -> lambda_.EventSourceMapping:
        """Trigger the function from an SQS queue; returns the event source mapping.

        The role gets exactly ``sqs:ReceiveMessage``, ``sqs:DeleteMessage`` and
        ``sqs:GetQueueAttributes`` on the queue ARN (not the five actions of CDK's
        ``grant_consume_messages``), and ``kms:Decrypt`` on the queue's key when the queue is
        encrypted with a customer-managed KMS key (``queue.encryption_master_key``; the
        ``aws/sqs`` key needs no IAM permission).

        Raises :class:`~ecr_lambda_access.QueueConfigurationError` (every problem at once) when
        the function's timeout exceeds the queue's visibility timeout (Lambda rejects the
        mapping), the queue is in another Region, the queue is already a source of this
        function, or the batching options are out of Lambda's ranges. Warns when the visibility
        timeout is under 6 times the function's timeout (AWS's recommendation), when the queue
        has no redrive policy (dead-letter queue), or ``maxReceiveCount`` is under 5. For an
        imported queue (``Queue.from_queue_arn``/``from_queue_attributes``) the visibility
        timeout and redrive policy cannot be read: a warning says so.

        Parameters
        ----------
        queue:
            The source queue (of this app or imported).
        batch_size:
            Messages per invocation, 1 to 10,000 (10 for FIFO). Above 10 needs
            ``max_batching_window``. Default: 10 (Lambda's).
        max_batching_window:
            Up to 5 minutes; not for FIFO queues. Default: none (Lambda's default, 0).
        report_batch_item_failures:
            Let the function report failed messages individually (``ReportBatchItemFailures``).
            Default: True.
        enabled:
            Default: True (Lambda's).
        max_concurrency:
            Concurrent invocations this source may use, 2 to 1,000. Default: no limit.
        filters:
            Event filter patterns (``aws_lambda.FilterCriteria.filter(...)``). Default: none.
        """
        return add_sqs_source(
            self,
            queue,
            batch_size=batch_size,
            max_batching_window=max_batching_window,
            report_batch_item_failures=report_batch_item_failures,
            enabled=enabled,
            max_concurrency=max_concurrency,
            filters=filters,
        )

    # ----------------------------------------------------------------------------------------
    # Internals
    # ----------------------------------------------------------------------------------------

    def _star_policy(
        self, id: str, sid: str, actions: Sequence[str], acknowledgment: Acknowledgment
    ) -> iam.Policy:
        """A policy of its own for actions that only work on Resource '*', so that the cdk-nag
        acknowledgement of that '*' covers nothing else."""
        star = iam.Policy(
            self,
            id,
            roles=[self.role],
            statements=[iam.PolicyStatement(sid=sid, actions=list(actions), resources=["*"])],
        )
        scanner_hints.acknowledge(star, acknowledgment)
        return star

    def _consumer(self) -> LambdaConsumer:
        return LambdaConsumer(account=self._stack.account, function_name=self.function_name)

    def _annotate_image(self, tag_or_digest: str) -> None:
        if is_unresolved(tag_or_digest) or is_digest(tag_or_digest):
            return
        if tag_or_digest == "latest":
            warn(
                self,
                "latestTag",
                "tag_or_digest is 'latest': Lambda resolves a tag to an image digest once, when "
                "the function is created or its code updated. Pushing a new 'latest' changes "
                "nothing until the next code update, and an unchanged template never triggers "
                "one. Deploy by digest ('sha256:...') or by an immutable version tag.",
            )
            return
        Annotations.of(self).add_info(
            f"tag_or_digest is the tag {tag_or_digest!r}: Lambda resolves it to a digest at "
            "create/update only; moving the tag later does not change the function. A digest "
            "makes every image change a template change."
        )
