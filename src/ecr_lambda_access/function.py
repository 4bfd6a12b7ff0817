"""``ContainerFunction``: an ``aws_lambda.Function`` that runs a container image from ECR, with a
least-privilege execution role.

The consumer side. The Lambda *service* pulls the image (through the repository policy); the
execution role never holds an ``ecr:`` action. Unless ``role=`` is passed, the role holds
exactly:

* ``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the function's own log group;
* with tracing (the default): ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` on ``*``
  (X-Ray has no resource-level permissions);
* per SQS source: ``sqs:ReceiveMessage``, ``sqs:DeleteMessage``, ``sqs:GetQueueAttributes`` on the
  queue, plus ``kms:Decrypt`` on the queue's customer-managed key when it has one;
* what the options the caller chose require (VPC network interfaces, a dead-letter queue, EFS,
  an environment encryption key, a profiling group, ``initial_policy``), added by the same rules.

This module wires: which repository (:mod:`.sources`), the SQS source (:mod:`.sqs`) and the
scanner acknowledgements (:mod:`.scanner_hints`) live in their own modules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Annotations,
    ArnFormat,
    Duration,
    FeatureFlags,
    Lazy,
    Names,
    RemovalPolicy,
    Size,
    Stack,
    Token,
)
from aws_cdk import aws_codeguruprofiler as codeguruprofiler
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.region_info import RegionInfo
from constructs import Construct, Node

from . import policy, scanner_hints
from ._annotations import warn
from ._own_role import Checked, OwnRolesCheck, WithoutManagedPolicies, is_ecr_action
from ._stack_facts import context_value, facts_of, flag_enabled, path_of, stack_state
from .errors import (
    EcrLambdaAccessError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    Violation,
    raise_if_violations,
)
from .policy import ECR_PULL_ACTIONS, LambdaConsumer
from .sources import RepositoryLike, image_uri, register, resolve_repository
from .sqs import SQS_ACTIONS
from .sqs import add_sqs_source as _add_sqs_source
from .validation import (
    check_account_id,
    check_function_name,
    check_tag_or_digest,
    is_digest,
    is_unresolved,
)

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


DEFAULT_TIMEOUT: Duration  # made on first use by the module's __getattr__ (below)
DEFAULT_TIMEOUT_SECONDS = 30
"""``DEFAULT_TIMEOUT`` (``Duration.seconds(30)``) is made on first use (PEP 562): importing the
module sends nothing to the jsii kernel, whose first request waits for aws-cdk-lib to load."""
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

_CDK_MANAGED_LOG_GROUP = "@aws-cdk/aws-lambda:useCdkManagedLogGroup"
_CUSTOMIZE_ROLES = "@aws-cdk/iam:customizeRoles"
"""The context ``iam.Role.customize_roles`` sets: roles then report their policies instead of
synthesizing them, and a policy is attached through the role only."""

_RETENTION_DAYS = {
    "ONE_DAY": 1, "THREE_DAYS": 3, "FIVE_DAYS": 5, "ONE_WEEK": 7, "TWO_WEEKS": 14,
    "ONE_MONTH": 30, "TWO_MONTHS": 60, "THREE_MONTHS": 90, "FOUR_MONTHS": 120,
    "FIVE_MONTHS": 150, "SIX_MONTHS": 180, "ONE_YEAR": 365, "THIRTEEN_MONTHS": 400,
    "EIGHTEEN_MONTHS": 545, "TWO_YEARS": 731, "THREE_YEARS": 1096, "FIVE_YEARS": 1827,
    "SIX_YEARS": 2192, "SEVEN_YEARS": 2557, "EIGHT_YEARS": 2922, "NINE_YEARS": 3288,
    "TEN_YEARS": 3653,
}  # fmt: skip
"""``logs.RetentionDays`` member -> RetentionInDays (``INFINITE``: no property), as
``aws_logs.LogGroup`` renders them (a test compares every member)."""

_TRACING_MODES = {lambda_.Tracing.ACTIVE: "Active", lambda_.Tracing.PASS_THROUGH: "PassThrough"}

_NOT_FOR_IMAGES = {
    "layers": "Lambda layers cannot be added to a container-image function: copy the layer's "
    "content into the image (Dockerfile COPY)",
    "adot_instrumentation": "the ADOT Lambda layer cannot be added to a container-image "
    "function: install the ADOT collector in the image",
    "params_and_secrets": "the Parameters and Secrets extension is a layer: install the "
    "extension in the image and grant its reads with initial_policy",
    "snap_start": "SnapStart is not available for container-image functions",
    "runtime_management_mode": "runtime management applies to managed runtimes; an image "
    "brings its own runtime",
    "log_retention_retry_options": "ContainerFunction sets the retention on the log group "
    "itself and never creates CDK's LogRetention custom resource; pass log_retention only",
    "log_retention_role": "ContainerFunction sets the retention on the log group itself and "
    "never creates CDK's LogRetention custom resource; pass log_retention only",
}
"""FunctionOptions that have no meaning for a container image here: a clear error instead of
CDK's (or Lambda's) later one."""

_NEED_OWN_ROLE = {
    "insights_version": "CDK grants Lambda Insights through the AWS managed policy "
    "CloudWatchLambdaInsightsExecutionRolePolicy",
    "durable_config": "CDK grants durable execution through the AWS managed policy "
    "AWSLambdaBasicDurableExecutionRolePolicy",
}
"""Options whose permissions CDK grants with an AWS managed policy: accepted with ``role=``
(the role is then yours), refused on the library's least-privilege role."""


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


@dataclass
class _Made:
    """The constructs ``aws_lambda.Function`` made under a new function, found with one
    ``node.find_all()``: each kind only when exactly one was made (otherwise read the old way)."""

    cfn_function: lambda_.CfnFunction | None = None
    role: iam.Role | None = None
    cfn_role: iam.CfnRole | None = None
    log_groups: list[logs.LogGroup] = field(default_factory=list)
    cfn_log_groups: list[logs.CfnLogGroup] = field(default_factory=list)
    policies: list[iam.Policy] = field(default_factory=list)

    @staticmethod
    def of(node: Node) -> _Made:
        functions: list[lambda_.CfnFunction] = []
        roles: list[iam.Role] = []
        cfn_roles: list[iam.CfnRole] = []
        made = _Made()
        for construct in node.find_all():
            if isinstance(construct, lambda_.CfnFunction):
                functions.append(construct)
            elif isinstance(construct, iam.CfnRole):
                cfn_roles.append(construct)
            elif isinstance(construct, iam.Role):
                roles.append(construct)
            elif isinstance(construct, logs.CfnLogGroup):
                made.cfn_log_groups.append(construct)
            elif isinstance(construct, logs.LogGroup):
                made.log_groups.append(construct)
            elif isinstance(construct, iam.Policy):
                made.policies.append(construct)
        if len(functions) == 1:
            made.cfn_function = functions[0]
        if len(roles) == 1 and len(cfn_roles) == 1:
            made.role, made.cfn_role = roles[0], cfn_roles[0]
        return made


def _logs_statement(stack: Stack, literal_name: str) -> tuple[iam.PolicyStatement, Any]:
    """The ``WriteLogs`` statement on ``/aws/lambda/<literal_name>:*``, and its resource as
    the template holds it."""
    facts = facts_of(stack)
    resource_name = f"/aws/lambda/{literal_name}:*"
    if facts.account_unresolved or facts.region_unresolved:
        arn = stack.format_arn(
            service="logs",
            resource="log-group",
            resource_name=resource_name,
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
            partition=facts.arn_partition,
        )
        resolved_arn = stack.resolve(arn)
    else:
        # What format_arn writes for a literal environment, without the round trips.
        arn = resolved_arn = (
            f"arn:{facts.arn_partition}:logs:{facts.region}:{facts.account}:"
            f"log-group:{resource_name}"
        )
    statement = iam.PolicyStatement(sid="WriteLogs", actions=list(LOG_ACTIONS), resources=[arn])
    return statement, resolved_arn


def _image_code(
    stack: Stack,
    uri: str,
    cmd: Sequence[str] | None,
    entrypoint: Sequence[str] | None,
    working_directory: str | None,
) -> _ImageUriCode:
    """One :class:`_ImageUriCode` per image and options in a stack, shared by the functions
    that run it (it holds nothing but those values, and ``bind`` reads nothing of the
    function), as one ``Code.from_asset`` object serves many functions."""
    codes: dict[tuple[Any, ...], _ImageUriCode] = stack_state(
        stack, "ecr-lambda-access:image-codes", dict
    )
    key = (
        uri,
        None if cmd is None else tuple(cmd),
        None if entrypoint is None else tuple(entrypoint),
        working_directory,
    )
    code = codes.get(key)
    if code is None:
        code = codes[key] = _ImageUriCode(
            uri, cmd=cmd, entrypoint=entrypoint, working_directory=working_directory
        )
    return code


def _path_of(scope: Construct, id: str, stack: Stack) -> str:
    """The path of the construct ``id`` made in ``scope`` (the scope's path read once)."""
    base = facts_of(stack).path if scope is stack else path_of(scope)
    return f"{base}/{id}" if base else id


def _own_role(function: lambda_.Function) -> iam.IRole:
    role = function.role
    assert role is not None
    return role


def _pre_construction_name(scope: Construct, id: str) -> str:
    """The name ``Names.unique_resource_name`` gives the construct ``scope/id``, before it exists.

    The image URI and the function name are needed to construct the function; the name depends
    on the construct's path only, so it is computed on a placeholder at that path.
    """
    placeholder = Construct(scope, id)
    try:
        return Names.unique_resource_name(
            placeholder, max_length=64, separator="-", allowed_special_characters="-_"
        )
    finally:
        scope.node.try_remove_child(id)


class ContainerFunction(lambda_.Function):
    """A Lambda function (an ``aws_lambda.Function``) that runs a container image from ECR.

    It goes wherever CDK expects a function (``IFunction``, ``IGrantable``: event targets, API
    integrations, ``grant_*``, aliases, versions, metrics). The image may live in this account or
    another one, in the function's Region. Unless ``role=`` is passed, the execution role is the
    function's own and holds only what the function uses (see the module docstring): no AWS
    managed policy, and no ``ecr:`` action ever (synth fails if one is added): pulling is the
    Lambda service's job, allowed by the repository policy.

    * ``repository`` a :class:`~ecr_lambda_access.CrossAccountImageRepo` (or an
      ``aws_ecr.Repository`` under an :class:`~ecr_lambda_access.ImagePullPolicy`) of the same
      CDK app: the function registers itself on it (its account and exact name), so the
      repository policy lists the function's ARN and, when the accounts differ, this account's
      root principal. In the same ``Stage`` this stack then depends on the repository's stack;
      across stages (CDK Pipelines) nothing crosses the stages and an info annotation says the
      registry must deploy first.
    * any other repository (an ARN string or an ``aws_ecr.IRepository``): its policy cannot be
      written from here; :meth:`required_repository_policy` gives the exact policy its owner
      must add and an info annotation says so.

    Parameters (ours; every other ``aws_lambda.FunctionOptions`` argument is passed through,
    see the table in docs/constructs.md)
    ----------
    repository:
        A ``CrossAccountImageRepo``, an ``aws_ecr.IRepository`` (imported or owned) or a literal
        repository ARN ``arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME``, in this stack's
        Region.
    tag_or_digest:
        The image tag (Lambda resolves it to a digest once, at create/update; ``"latest"`` gets
        a warning), or a literal ``"sha256:"`` digest. An unresolved token is a tag.
    image_digest:
        The image digest, ``"sha256:"`` + 64 lowercase hex digits, literal or a token (an SSM
        parameter, a ``CfnParameter``, a pipeline variable): renders ``repository@digest``.
        Exactly one of ``tag_or_digest`` and ``image_digest``.
    function_name:
        Default: generated, deterministic, at most 64 characters (``Names.unique_resource_name``
        of this construct's path), so the repository policy can name this exact function.
    cloudformation_generated_name:
        Keep the function unnamed, as ``aws_lambda.DockerImageFunction`` leaves it, so that
        CloudFormation names it (adopting a deployed function without replacing it). The
        repository policy cannot name the function then: it admits every function of this
        account in the Region (``function:*``). Default: False.
    timeout, memory_size:
        Defaults: 30 seconds, 512 MiB.
    cmd, entrypoint, working_directory:
        Override the image's ``CMD``, ``ENTRYPOINT`` and ``WORKDIR``. Default: the image's.
    tracing:
        Default: ``Tracing.ACTIVE``, in a policy of its own. ``Tracing.DISABLED`` adds nothing.
    log_group:
        An existing log group (the role gets the two logs actions on it). Default: a log group
        in this stack: ``/aws/lambda/<name>`` (the one ``aws_lambda.Function`` creates under the
        ``@aws-cdk/aws-lambda:useCdkManagedLogGroup`` flag), or a CloudFormation-named one wired
        through ``LoggingConfig`` without that flag.
    log_retention, log_removal_policy, log_encryption_key:
        Of the log group created here (not CDK's LogRetention custom resource). Defaults:
        ``ONE_MONTH``, ``RETAIN``, none (CloudWatch Logs' own encryption).
    role:
        Use this role instead of the function's own. The role is then yours: the library adds
        the statements the function needs (logs, X-Ray, SQS, VPC) to it when it can, and
        attaches or checks nothing else (docs/constructs.md: "Passing role=").
    profiling, profiling_group:
        CodeGuru Profiler (the agent must be in the image): the role gets
        ``codeguru-profiler:ConfigureAgent`` and ``PostAgentProfile`` on the group. Default: off.
    events:
        Event sources added at construction (``add_event_source``). An ``SqsEventSource`` goes
        through CDK's own path with a warning: prefer :meth:`add_sqs_source`.
    """

    _registers_on_its_repository = True
    """It registers itself on its repository (``_shared.registers_itself``)."""

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repository: RepositoryLike,
        tag_or_digest: str | None = None,
        image_digest: str | None = None,
        cloudformation_generated_name: bool = False,
        cmd: Sequence[str] | None = None,
        entrypoint: Sequence[str] | None = None,
        working_directory: str | None = None,
        log_encryption_key: kms.IKey | None = None,
        # aws_lambda.FunctionOptions
        function_name: str | None = None,
        timeout: Duration | None = None,
        memory_size: int | None = None,
        description: str | None = None,
        environment: Mapping[str, str] | None = None,
        environment_encryption: kms.IKey | None = None,
        architecture: lambda_.Architecture | None = None,
        ephemeral_storage_size: Size | None = None,
        reserved_concurrent_executions: int | None = None,
        recursive_loop: lambda_.RecursiveLoop | None = None,
        role: iam.IRole | None = None,
        initial_policy: Sequence[iam.PolicyStatement] | None = None,
        tracing: lambda_.Tracing | None = None,
        log_group: logs.ILogGroup | None = None,
        log_retention: logs.RetentionDays | None = None,
        log_removal_policy: RemovalPolicy | None = None,
        log_format: str | None = None,
        logging_format: lambda_.LoggingFormat | None = None,
        application_log_level: str | None = None,
        application_log_level_v2: lambda_.ApplicationLogLevel | None = None,
        system_log_level: str | None = None,
        system_log_level_v2: lambda_.SystemLogLevel | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        allow_public_subnet: bool | None = None,
        allow_all_outbound: bool | None = None,
        allow_all_ipv6_outbound: bool | None = None,
        ipv6_allowed_for_dual_stack: bool | None = None,
        filesystem: lambda_.FileSystem | None = None,
        dead_letter_queue: sqs.IQueue | None = None,
        dead_letter_queue_enabled: bool | None = None,
        dead_letter_topic: sns.ITopic | None = None,
        on_failure: lambda_.IDestination | None = None,
        on_success: lambda_.IDestination | None = None,
        max_event_age: Duration | None = None,
        retry_attempts: int | None = None,
        current_version_options: lambda_.VersionOptions | None = None,
        code_signing_config: lambda_.ICodeSigningConfig | None = None,
        events: Sequence[lambda_.IEventSource] | None = None,
        profiling: bool | None = None,
        profiling_group: codeguruprofiler.IProfilingGroup | None = None,
        tenancy_config: lambda_.TenancyConfig | None = None,
        insights_version: lambda_.LambdaInsightsVersion | None = None,
        durable_config: lambda_.DurableConfig | None = None,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        adot_instrumentation: lambda_.AdotInstrumentationConfig | None = None,
        params_and_secrets: lambda_.ParamsAndSecretsLayerVersion | None = None,
        snap_start: lambda_.SnapStartConf | None = None,
        runtime_management_mode: lambda_.RuntimeManagementMode | None = None,
        log_retention_retry_options: lambda_.LogRetentionRetryOptions | None = None,
        log_retention_role: iam.IRole | None = None,
    ) -> None:
        stack = scope if isinstance(scope, Stack) else Stack.of(scope)

        found: list[Violation] = []
        if (tag_or_digest is None) == (image_digest is None):
            found.append(
                (
                    InvalidImageReferenceError,
                    "pass exactly one of tag_or_digest and image_digest, got "
                    + (
                        "neither: name the image (tag_or_digest='v1.2.3' or "
                        "image_digest='sha256:...')"
                        if tag_or_digest is None
                        else f"both ({tag_or_digest!r} and {image_digest!r}): keep one"
                    ),
                )
            )
        if tag_or_digest is not None:
            found += check_tag_or_digest(tag_or_digest, "tag_or_digest")
        if image_digest is not None:
            found += check_tag_or_digest(image_digest, "image_digest")
            if (
                isinstance(image_digest, str)
                and not is_unresolved(image_digest)
                and not is_digest(image_digest)
                and not image_digest.lower().startswith("sha")
            ):
                found.append(
                    (
                        InvalidImageReferenceError,
                        f"image_digest must be 'sha256:' followed by 64 lowercase hex "
                        f"digits, got {image_digest!r}: for a tag use tag_or_digest",
                    )
                )
        if function_name is not None:
            found += check_function_name(function_name, "function_name")
            if cloudformation_generated_name:
                found.append(
                    (
                        InvalidFunctionNameError,
                        f"function_name={function_name!r} and cloudformation_generated_name="
                        "True exclude each other: keep the name, or let CloudFormation name "
                        "the function",
                    )
                )
        log_options: tuple[tuple[str, object], ...] = (
            ("log_retention", log_retention),
            ("log_encryption_key", log_encryption_key),
            ("log_removal_policy", log_removal_policy),
        )
        for name, value in log_options:
            if log_group is not None and value is not None:
                found.append(
                    (
                        EcrLambdaAccessError,
                        f"log_group and {name} cannot both be set: configure the existing log "
                        "group itself, or drop log_group to let ContainerFunction create one",
                    )
                )
        unsupported: dict[str, object] = {
            "layers": layers,
            "adot_instrumentation": adot_instrumentation,
            "params_and_secrets": params_and_secrets,
            "snap_start": snap_start,
            "runtime_management_mode": runtime_management_mode,
            "log_retention_retry_options": log_retention_retry_options,
            "log_retention_role": log_retention_role,
        }
        for name, value in unsupported.items():
            if value is not None:
                found.append(
                    (EcrLambdaAccessError, f"{name} is not supported: {_NOT_FOR_IMAGES[name]}")
                )
        for name, value in (
            ("insights_version", insights_version),
            ("durable_config", durable_config),
        ):
            if value is not None and role is None:
                found.append(
                    (
                        EcrLambdaAccessError,
                        f"{name} needs role=: {_NEED_OWN_ROLE[name]}, which the function's "
                        "own least-privilege role never gets. Pass a role of your own "
                        "(CDK then attaches the managed policy to it), or drop "
                        f"{name}",
                    )
                )
        if role is None:
            for index, statement in enumerate(initial_policy or ()):
                bad = [a for a in statement.actions if is_ecr_action(a)]
                if bad and statement.effect == iam.Effect.ALLOW:
                    found.append(
                        (
                            EcrLambdaAccessError,
                            f"initial_policy[{index}] grants {bad}: the Lambda service pulls "
                            "the image through the repository policy and the execution role "
                            "never needs an ecr: action; remove it",
                        )
                    )
        # The function's own stack: its account goes into the repository policy (reported
        # here, against the function, before anything registers it on the repository).
        facts = facts_of(stack)
        if not facts.account_unresolved:
            found += check_account_id(
                facts.account, f"the account of the function's stack {facts.stack_name} (env=)"
            )
        ref, repo_found = resolve_repository(repository, stack, function_name)
        found += repo_found
        if found:
            raise_if_violations(found, construct_path=f"{scope.node.path}/{id}".lstrip("/"))
        assert ref is not None

        literal_name: str | None
        if cloudformation_generated_name:
            literal_name = None
        elif function_name is not None:
            literal_name = function_name
        else:
            literal_name = _pre_construction_name(scope, id)
        reference = image_digest if image_digest is not None else tag_or_digest
        assert reference is not None
        uri = image_uri(ref, stack, reference, digest=image_digest is not None)
        timeout = timeout if timeout is not None else _static("timeout", _default_timeout)
        # The logs statement of the function's own role, when it names the log group
        # aws_lambda.Function will make (/aws/lambda/<literal name>): passed as the last
        # statement of initial_policy, which Function adds to the role's default policy after
        # the caller's own. Options that make Function add statements after initial_policy (a
        # dead-letter queue or topic, destinations) keep it where _grant_logs adds it, after
        # theirs.
        early_logs: tuple[iam.PolicyStatement, Any] | None = None
        if (
            role is None
            and log_group is None
            and literal_name is not None
            and dead_letter_queue is None
            and dead_letter_topic is None
            and not dead_letter_queue_enabled
            and on_failure is None
            and on_success is None
            and flag_enabled(scope, _CDK_MANAGED_LOG_GROUP)
        ):
            early_logs = _logs_statement(stack, literal_name)
            initial_policy = [*(initial_policy or ()), early_logs[0]]

        super().__init__(
            scope,
            id,
            code=_image_code(stack, uri, cmd, entrypoint, working_directory),
            handler=_static("handler", lambda: lambda_.Handler.FROM_IMAGE),
            runtime=_static("runtime", lambda: lambda_.Runtime.FROM_IMAGE),
            function_name=literal_name,
            timeout=timeout,
            memory_size=memory_size if memory_size is not None else DEFAULT_MEMORY_SIZE,
            description=description,
            environment=dict(environment) if environment is not None else None,
            environment_encryption=environment_encryption,
            architecture=architecture,
            ephemeral_storage_size=ephemeral_storage_size,
            reserved_concurrent_executions=reserved_concurrent_executions,
            recursive_loop=recursive_loop,
            role=role,
            initial_policy=list(initial_policy) if initial_policy is not None else None,
            log_group=log_group,
            log_format=log_format,
            logging_format=logging_format,
            application_log_level=application_log_level,
            application_log_level_v2=application_log_level_v2,
            system_log_level=system_log_level,
            system_log_level_v2=system_log_level_v2,
            vpc=vpc,
            vpc_subnets=vpc_subnets,
            security_groups=list(security_groups) if security_groups is not None else None,
            allow_public_subnet=allow_public_subnet,
            allow_all_outbound=allow_all_outbound,
            allow_all_ipv6_outbound=allow_all_ipv6_outbound,
            ipv6_allowed_for_dual_stack=ipv6_allowed_for_dual_stack,
            filesystem=filesystem,
            dead_letter_queue=dead_letter_queue,
            dead_letter_queue_enabled=dead_letter_queue_enabled,
            dead_letter_topic=dead_letter_topic,
            on_failure=on_failure,
            on_success=on_success,
            max_event_age=max_event_age,
            retry_attempts=retry_attempts,
            current_version_options=current_version_options,
            code_signing_config=code_signing_config,
            tenancy_config=tenancy_config,
            insights_version=insights_version,
            durable_config=durable_config,
        )

        self._ref = ref
        self._stack = stack
        self._literal_name = literal_name
        self.tag_or_digest: str | None = tag_or_digest
        """The image tag or digest the function runs (None when ``image_digest`` is set)."""
        self.image_digest: str | None = image_digest
        """The image digest the function runs (None when ``tag_or_digest`` is set)."""
        self.image_uri: str = uri
        """``ACCOUNT.dkr.ecr.REGION.URLSUFFIX/NAME@sha256:...`` (or ``:tag``)."""
        self.owns_role: bool = role is None
        """True when the execution role is the function's own (no ``role=``)."""
        node = self.node
        # What aws_lambda.Function made, in one request rather than a read per object.
        made = _Made.of(node)
        cfn_function = made.cfn_function
        if cfn_function is None:
            default_child = node.default_child
            assert isinstance(default_child, lambda_.CfnFunction)
            cfn_function = default_child
        self._cfn_function = cfn_function
        execution_role: iam.IRole
        if role is not None:
            execution_role = role
        else:
            execution_role = made.role if made.role is not None else _own_role(self)

        self._checked: Checked | None = None
        if self.owns_role:
            cfn_role = made.cfn_role if made.role is not None else None
            if cfn_role is None:
                default_child = execution_role.node.default_child
                assert isinstance(default_child, iam.CfnRole)
                cfn_role = default_child
            # On the L1 property itself (not an override), so that what reads the L1 (cdk-nag,
            # other aspects) sees what is deployed.
            cfn_role.managed_policy_arns = Lazy.list(
                WithoutManagedPolicies(stack, cfn_role.managed_policy_arns), omit_empty=True
            )
            # One check for every function of the stack (no validation per function).
            self._checked = Checked(node, _path_of(scope, id, stack))
            OwnRolesCheck.of(stack).functions.append(self._checked)

        self._container_log_group = self._configure_log_group(
            log_group, log_retention, log_removal_policy, log_encryption_key, scope=scope, made=made
        )
        if early_logs is not None:
            assert self._log_group_named_after_function
            self._acknowledge_log_streams(made, execution_role, early_logs[1])
        else:
            self._grant_logs(execution_role, cdk_managed=self._log_group_named_after_function)

        self.vpc_access_policy: iam.Policy | None = None
        """The policy with :data:`VPC_ACTIONS` when the function runs in a VPC, else None."""
        if vpc is not None:
            self.vpc_access_policy = self._star_policy(
                "VpcAccessPolicy",
                "ManageNetworkInterfaces",
                VPC_ACTIONS,
                scanner_hints.ACK_VPC,
                role=execution_role,
                scope=scope,
            )
            scanner_hints.skip_vpc_policy_checks(self.vpc_access_policy)
            # CreateFunction with a VpcConfig checks the role's EC2 permissions.
            cfn_function.node.add_dependency(self.vpc_access_policy)

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
                "TracingPolicy",
                "WriteTraces",
                TRACING_ACTIONS,
                scanner_hints.ACK_XRAY,
                role=execution_role,
                scope=scope,
            )
            # Traces of the first invocations need the permission too.
            cfn_function.node.add_dependency(self.tracing_policy)

        self.profiling_group: codeguruprofiler.IProfilingGroup | None = None
        """The CodeGuru Profiler group the function reports to, if profiling is on."""
        if profiling_group is not None or profiling:
            self.profiling_group = profiling_group or codeguruprofiler.ProfilingGroup(
                self,
                "ProfilingGroup",
                compute_platform=codeguruprofiler.ComputePlatform.AWS_LAMBDA,
            )
            self.profiling_group.grant_publish(execution_role)
            variables: dict[str, str] = {
                "AWS_CODEGURU_PROFILER_GROUP_NAME": self.profiling_group.profiling_group_name,
                "AWS_CODEGURU_PROFILER_TARGET_REGION": self.profiling_group.env.region,
                "AWS_CODEGURU_PROFILER_GROUP_ARN": self.profiling_group.profiling_group_arn,
                "AWS_CODEGURU_PROFILER_ENABLED": "TRUE",
            }
            for key, variable in variables.items():
                self.add_environment(key, variable)

        for source in events or ():
            self.add_event_source(source)
        register(self, ref, stack)
        self._annotate_image(tag_or_digest)

    # ----------------------------------------------------------------------------------------
    # Public API
    # ----------------------------------------------------------------------------------------

    @property
    def function(self) -> ContainerFunction:
        """The function itself (kept from the versions that wrapped an ``aws_lambda.Function``)."""
        return self

    @property
    def log_group(self) -> logs.ILogGroup:
        """Where the function logs: ``log_group=``, or the log group created in this stack."""
        return self._container_log_group

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
        """True when the repository is managed in this app (a CrossAccountImageRepo or an
        ImagePullPolicy) and lists this function in its policy."""
        return self._ref.wired_to is not None

    @property
    def literal_function_name(self) -> str | None:
        """The function's name as a plain string (None when CloudFormation names it).

        ``function_name`` is CDK's (a reference to the function); this is the name the
        repository policy uses.
        """
        return self._literal_name

    def add_to_role_policy(self, statement: iam.PolicyStatement) -> None:
        """``aws_lambda.Function.add_to_role_policy``; an ``ecr:`` action on the function's own
        role is refused here, in Python, with one error (the image is pulled by the Lambda
        service through the repository policy). With ``role=`` the role is yours: anything goes.
        """
        if getattr(self, "owns_role", False) and statement.effect == iam.Effect.ALLOW:
            bad = [a for a in statement.actions if is_ecr_action(a)]
            if bad:
                raise_if_violations(
                    [
                        (
                            EcrLambdaAccessError,
                            f"add_to_role_policy: the statement grants {bad} to the function's "
                            "own execution role: the Lambda service pulls the image through the "
                            "repository policy, and an execution role never needs an ecr: "
                            "action. Remove it, or pass role= a role of your own",
                        )
                    ],
                    construct_path=self.node.path,
                )
        super().add_to_role_policy(statement)

    def add_event_source(self, source: lambda_.IEventSource) -> None:
        """Add an event source (``aws_lambda.Function.add_event_source``).

        An ``SqsEventSource`` takes CDK's path: ``queue.grant_consume_messages`` (five actions)
        and none of :meth:`add_sqs_source`'s checks; a warning says so. Prefer
        :meth:`add_sqs_source`.
        """
        if isinstance(source, event_sources.SqsEventSource):
            warn(
                self,
                "sqsEventSourceUnchecked",
                f"add_event_source(SqsEventSource(...)) on {self.node.path} bypasses "
                "ContainerFunction.add_sqs_source: CDK grants the role the five actions of "
                "grant_consume_messages (add_sqs_source grants three) and nothing checks the "
                "queue's visibility timeout, Region, redrive policy or batching options. Use "
                "add_sqs_source(queue, ...) instead.",
            )
        super().add_event_source(source)

    def required_repository_policy(self) -> dict[str, Any]:
        """The repository policy the repository must hold for this function to run its image.

        For a foreign repository (an ARN or an ``IRepository`` not managed in this app): the
        documented pair for exactly this function, to hand to the repository's owner. The
        root-principal statement (this account may create and update functions from the image)
        appears only when the repository is in another account; the ``lambda.amazonaws.com``
        statement is limited by ``aws:SourceArn`` to this function's ARN (to every function of
        this account with ``cloudformation_generated_name``). Actions are exactly
        ``ecr:BatchGetImage`` and ``ecr:GetDownloadUrlForLayer``.

        For a repository managed in this app: the policy it renders, which covers this function
        (and its other consumers).

        The partition comes from the Region. Values an env-agnostic stack does not know appear
        as ``${AWS::AccountId}``, ``${AWS::Region}`` and ``${AWS::Partition}``: substitute them
        before sending the policy to anyone.
        """
        owner = self._ref.wired_to
        if owner is not None:
            document: dict[str, Any] | None = {
                "Version": policy.POLICY_VERSION,
                "Statement": owner.policy_statements(),
            }
        else:
            document = policy.repository_policy(
                [self._consumer()],
                repository_account=self._ref.account,
                region=self._ref.region,
                partition=_partition_of(self._ref.region, self._ref.partition),
            )
        assert document is not None  # one consumer always yields the service statement
        return _without_tokens(document)

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
        return _add_sqs_source(
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

    def _configure_log_group(
        self,
        log_group: logs.ILogGroup | None,
        retention: logs.RetentionDays | None,
        removal_policy: RemovalPolicy | None,
        encryption_key: kms.IKey | None,
        *,
        scope: Construct | None = None,
        made: _Made | None = None,
    ) -> logs.ILogGroup:
        """The log group the function writes to, configured when it is created here.

        Under ``@aws-cdk/aws-lambda:useCdkManagedLogGroup`` ``aws_lambda.Function`` already made
        ``LogGroup`` (``/aws/lambda/<name>``, what DockerImageFunction makes): it gets the
        retention, key and removal policy. Without the flag a CloudFormation-named log group is
        created and wired through ``LoggingConfig``.
        """
        self._log_group_named_after_function = False
        if log_group is not None:
            return log_group
        retention_days = retention or DEFAULT_LOG_RETENTION
        created: Any
        if made is not None and len(made.log_groups) <= 1:
            # find_all saw the function's whole subtree: no LogGroup there, none named LogGroup
            created = made.log_groups[0] if made.log_groups else None
        else:
            created = self.node.try_find_child("LogGroup")
        if isinstance(created, logs.LogGroup) and (
            flag_enabled(scope, _CDK_MANAGED_LOG_GROUP)
            if scope is not None
            else FeatureFlags.of(self).is_enabled(_CDK_MANAGED_LOG_GROUP)
        ):
            if made is not None and len(made.log_groups) == 1 and len(made.cfn_log_groups) == 1:
                cfn_log_group: Any = made.cfn_log_groups[0]
            else:
                cfn_log_group = created.node.default_child
            assert isinstance(cfn_log_group, logs.CfnLogGroup)
            cfn_log_group.retention_in_days = _RETENTION_DAYS.get(retention_days.name)
            if encryption_key is not None:
                cfn_log_group.kms_key_id = encryption_key.key_arn
                encryption_key.grant_encrypt_decrypt(
                    iam.ServicePrincipal(f"logs.{facts_of(self._stack).region}.amazonaws.com")
                )
            if removal_policy is not None and removal_policy != RemovalPolicy.RETAIN:
                # aws_logs.LogGroup already retains by default.
                created.apply_removal_policy(removal_policy)
            self._log_group_named_after_function = True
            return created
        own = logs.LogGroup(
            self,
            "LogGroup",
            retention=retention_days,
            removal_policy=removal_policy or RemovalPolicy.RETAIN,
            encryption_key=encryption_key,
        )
        config = self._cfn_function.logging_config
        resolved = self._stack.resolve(config) if config is not None else {}
        # The L1 holds aws_lambda.Function's own (camelCase) value.
        self._cfn_function.logging_config = lambda_.CfnFunction.LoggingConfigProperty(
            log_group=own.log_group_name,
            log_format=resolved.get("logFormat"),
            application_log_level=resolved.get("applicationLogLevel"),
            system_log_level=resolved.get("systemLogLevel"),
        )
        return own

    def _grant_logs(self, role: iam.IRole, *, cdk_managed: bool) -> None:
        """``logs:CreateLogStream`` and ``logs:PutLogEvents`` on the function's log group.

        The log group aws_lambda.Function creates is named after the function (a reference to
        it), and the function depends on its role's default policy: the statement there names
        the group by its literal ARN. Without a literal function name it goes into a policy of
        its own (``LogsPolicy``), which the function does not depend on.
        """
        if cdk_managed and self._literal_name is not None:
            statement, resolved_arn = _logs_statement(self._stack, self._literal_name)
            if self.owns_role and isinstance(role, iam.Role):
                # Role.add_to_policy: add_to_principal_policy's result without reading it back
                role.add_to_policy(statement)
                default_policy = role.node.try_find_child("DefaultPolicy")
                if default_policy is not None:
                    self._made_policy(default_policy)
                    scanner_hints.acknowledge(
                        default_policy, scanner_hints.log_streams_acknowledgment(resolved_arn)
                    )
            else:
                role.add_to_principal_policy(statement)
            return
        statement = iam.PolicyStatement(
            sid="WriteLogs",
            actions=list(LOG_ACTIONS),
            resources=[self._container_log_group.log_group_arn],
        )
        if cdk_managed:
            # attached by the role itself: an immutable role attaches nothing
            logs_policy = iam.Policy(self, "LogsPolicy", statements=[statement])
            self._made_policy(logs_policy)
            role.attach_inline_policy(logs_policy)
            return
        role.add_to_principal_policy(statement)

    def _acknowledge_log_streams(self, made: _Made, role: iam.IRole, resolved_arn: Any) -> None:
        """The log streams' acknowledgement on the default policy ``initial_policy`` made."""
        default_policy: Any
        if len(made.policies) <= 1:
            # find_all saw the whole subtree: the role's default policy is its only Policy
            default_policy = made.policies[0] if made.policies else None
        else:
            default_policy = role.node.try_find_child("DefaultPolicy")
        if default_policy is not None:
            self._made_policy(default_policy)
            scanner_hints.acknowledge(
                default_policy, scanner_hints.log_streams_acknowledgment(resolved_arn)
            )

    def _made_policy(self, made: Any) -> None:
        """``made`` is a Policy in this function's subtree (the stack's check then needs no path
        read for its Resource)."""
        if self._checked is not None and isinstance(made, iam.Policy):
            self._checked.policies.append(made)

    def _star_policy(
        self,
        id: str,
        sid: str,
        actions: Sequence[str],
        acknowledgment: Acknowledgment,
        *,
        role: iam.IRole | None = None,
        scope: Construct | None = None,
    ) -> iam.Policy:
        """A policy of its own for actions that only work on Resource '*', so that the cdk-nag
        acknowledgement of that '*' covers nothing else."""
        role = role if role is not None else self.role
        assert role is not None
        statements = [iam.PolicyStatement(sid=sid, actions=list(actions), resources=["*"])]
        if (
            self.owns_role
            and isinstance(role, iam.Role)
            and context_value(scope if scope is not None else self, _CUSTOMIZE_ROLES) is None
        ):
            # The function's own Role attaches what names it (Policy.attach_to_role calls
            # role.attach_inline_policy): the same as below, in one request.
            return self._acknowledged(
                iam.Policy(self, id, statements=statements, roles=[role]), acknowledgment
            )
        star = iam.Policy(self, id, statements=statements)
        # The role attaches it: an imported immutable role (mutable=False) attaches nothing, as
        # it adds nothing from aws_lambda.Function's own add_to_role_policy (the policy is then
        # not rendered); nor does a role of iam.Role.customize_roles (its policies are
        # reported, not synthesized).
        role.attach_inline_policy(star)
        return self._acknowledged(star, acknowledgment)

    def _acknowledged(self, star: iam.Policy, acknowledgment: Acknowledgment) -> iam.Policy:
        self._made_policy(star)
        scanner_hints.acknowledge(star, acknowledgment)
        return star

    def _consumer(self) -> LambdaConsumer:
        account = facts_of(self._stack).account
        if self._literal_name is None:
            return LambdaConsumer(account=account)
        return LambdaConsumer(account=account, function_name=self._literal_name)

    def _annotate_image(self, tag_or_digest: str | None) -> None:
        if tag_or_digest is None or is_unresolved(tag_or_digest) or is_digest(tag_or_digest):
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


def _default_timeout() -> Duration:
    return Duration.seconds(DEFAULT_TIMEOUT_SECONDS)


def __getattr__(name: str) -> Any:
    if name == "DEFAULT_TIMEOUT":
        return _static("timeout", _default_timeout)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_STATICS: dict[str, Any] = {}
"""aws-cdk-lib's static constants (``Handler.FROM_IMAGE``, ``Runtime.FROM_IMAGE``) and
``DEFAULT_TIMEOUT``, made once per process: the same immutable values in every app."""


def _static(name: str, read: Any) -> Any:
    value = _STATICS.get(name)
    if value is None:
        value = _STATICS[name] = read()
    return value


def _partition_of(region: str, fallback: str) -> str:
    """The partition of a literal Region (``aws``, ``aws-cn``, ``aws-us-gov``, ...)."""
    if Token.is_unresolved(region):
        return fallback
    found = RegionInfo.get(region).partition
    return found if found else fallback


def _without_tokens(document: dict[str, Any]) -> dict[str, Any]:
    """The document with CDK pseudo-parameter tokens written as ``${AWS::AccountId}`` etc."""
    from aws_cdk import Aws

    text = json.dumps(document)
    for placeholder, token in (
        ("${AWS::AccountId}", Aws.ACCOUNT_ID),
        ("${AWS::Region}", Aws.REGION),
        ("${AWS::Partition}", Aws.PARTITION),
        ("${AWS::URLSuffix}", Aws.URL_SUFFIX),
    ):
        text = text.replace(token, placeholder)
    result: dict[str, Any] = json.loads(text)
    return result
