"""``ImagePullMonitor``: the registry account knows before a function breaks.

A checker function in the registry account and Region runs on a schedule and at once on the
events that break pulls, judges every registered consumer of the watched repositories against
what is deployed (the live check's judge, :mod:`ecr_lambda_access.monitor_check`), and tells
CloudWatch, EventBridge and its log. ``ImagePullMonitorReadRole`` is the read-only role a
workload account gives it. This module only wires: see ``docs/monitor.md``.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import (
    Acknowledgment,
    Aspects,
    Duration,
    IAspect,
    IStableAnyProducer,
    IStableStringProducer,
    Lazy,
    RemovalPolicy,
    Stack,
    Token,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_assets as s3_assets
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct, IValidation

from . import monitor_check, scanner_hints
from ._annotations import skip_checkov
from ._shared import literal_name
from .errors import EcrLambdaAccessError, InvalidRepositoryError, raise_if_violations
from .policy import LambdaConsumer, replica_consumers
from .policy.size import partition_of_region
from .validation import is_unresolved

__all__ = ["ImagePullMonitor", "ImagePullMonitorReadRole", "BREAKING_API_CALLS"]

BREAKING_API_CALLS = (
    "SetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "DeleteRepository",
    "PutReplicationConfiguration",
    "PutLifecyclePolicy",
)
"""The ECR API calls (CloudTrail management events) that start a check at once."""

DEFAULT_SCHEDULE = Duration.hours(1)
MEMORY_SIZE = 256
TIMEOUT = Duration.minutes(5)
_PACKAGE = Path(__file__).resolve().parent
_CDK_IMPORT = re.compile(r"^\s*(?:from|import)\s+(?:aws_cdk|jsii|constructs|cdk_nag)\b", re.M)
_READ_ACTIONS = ("lambda:GetFunction", "cloudformation:DescribeStackResource")


def bundle_sources() -> dict[str, bytes]:
    """The library's pure modules (relative path -> content): what the checker's asset holds.

    Every module of the package that imports neither jsii nor aws-cdk-lib nor constructs.
    """
    found: dict[str, bytes] = {}
    for path in sorted(_PACKAGE.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        content = path.read_bytes()
        if _CDK_IMPORT.search(content.decode("utf-8")):
            continue
        found[str(Path("ecr_lambda_access") / path.relative_to(_PACKAGE))] = content
    return found


def stage_bundle(config: dict[str, Any], directory: Path) -> Path:
    """Write the checker's code (pure modules + ``monitor.json``) into ``directory``."""
    for relative, content in bundle_sources().items():
        target = directory / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    (directory / monitor_check.CONFIG_FILE).write_text(
        json.dumps(config, sort_keys=True, indent=1) + "\n", encoding="utf-8"
    )
    return directory


@jsii.implements(IStableStringProducer)
class _Later:
    """A string known once the monitor has gathered what it watches (at synth)."""

    def __init__(self, monitor: ImagePullMonitor, attribute: str) -> None:
        self._monitor = monitor
        self._attribute = attribute

    def produce(self) -> str | None:
        asset = self._monitor._asset
        if asset is None:
            raise EcrLambdaAccessError(
                f"ImagePullMonitor {self._monitor.node.path}: its code was not staged (the "
                "stack was resolved before synth's prepare phase)"
            )
        return str(getattr(asset, self._attribute))


class _MonitorCode(lambda_.Code):
    """The checker's code: an S3 asset staged at synth with what the app registered by then."""

    def __init__(self, monitor: ImagePullMonitor) -> None:
        super().__init__()
        self._monitor = monitor

    @property
    def is_inline(self) -> bool:
        return False

    def bind(self, scope: Construct) -> lambda_.CodeConfig:
        bucket = Lazy.string(_Later(self._monitor, "s3_bucket_name"))
        key = Lazy.string(_Later(self._monitor, "s3_object_key"))
        return lambda_.CodeConfig(s3_location=s3.Location(bucket_name=bucket, object_key=key))


@jsii.implements(IAspect)
class _Gather:
    """At synth (prepare): gather the watched repositories and stage the checker's code."""

    def __init__(self, monitor: ImagePullMonitor) -> None:
        self._monitor = monitor

    def visit(self, node: IConstruct) -> None:
        if node is self._monitor or node.node.path == self._monitor.node.path:
            self._monitor._gather()


@jsii.implements(IValidation)
class _Problems:
    def __init__(self, monitor: ImagePullMonitor) -> None:
        self._monitor = monitor

    def validate(self) -> list[str]:
        return list(self._monitor._problems)


class ImagePullMonitor(Construct):
    """Watches repositories of the registry account and tells when a function cannot pull.

    A Python Lambda function (``.function``, arm64) checks, read-only, every consumer
    registered on the watched repositories at synth: the deployed repository policy against
    each consumer with the audit's evaluator (``drifted``, ``missing-root``...), each function's
    tag or digest (``image-missing``), a replica's replication status, and with
    ``consumer_read_role_name`` each function's state (``function-failed``). It runs every
    ``schedule``, on ECR's ``ECR Image Action`` DELETE events of the watched repositories, and
    on the CloudTrail events of :data:`BREAKING_API_CALLS` on them (those need a CloudTrail trail
    in the account: EventBridge receives management events only where a trail records them).

    It publishes ``FunctionsThatCannotPull`` (namespace ``EcrLambdaAccess``, dimension
    ``Repository``, and ``Repository=ALL`` for the total) on every run, raises ``.alarm`` when
    the total is 1 or more, puts an event (``detail-type`` ``Image Pull Check``) on the default
    bus listing each function that cannot pull, and logs one JSON line per run.

    Parameters
    ----------
    repositories:
        The ``CrossAccountImageRepo`` s to watch, in this stack's account and Region, each with
        a literal ``repository_name``. Default: every ``CrossAccountImageRepo`` (replicas
        included) of the app in this stack's account and Region, found at synth.
    schedule:
        How often the check runs. Default: 1 hour.
    alarm_topic:
        An SNS topic for the alarm's and OK actions. Default: none.
    consumer_read_role_name:
        The name of the read-only role (:class:`ImagePullMonitorReadRole`) in each consumer
        account: the checker assumes it to read the functions' state. Default: None (no
        cross-account access; the function state is not checked).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        repositories: Sequence[Any] | None = None,
        schedule: Duration | None = None,
        alarm_topic: sns.ITopic | None = None,
        consumer_read_role_name: str | None = None,
    ) -> None:
        from .repository import CrossAccountImageRepo

        super().__init__(scope, id)
        stack = Stack.of(self)
        path = self.node.path
        found = []
        if is_unresolved(stack.account) or is_unresolved(stack.region):
            found.append(
                (
                    EcrLambdaAccessError,
                    f"the stack {stack.stack_name} is environment-agnostic: ImagePullMonitor "
                    "watches the repositories of one account and Region; give the stack "
                    "env=Environment(account=..., region=...)",
                )
            )
        for index, repository in enumerate(repositories or ()):
            if not isinstance(repository, CrossAccountImageRepo):
                found.append(
                    (
                        InvalidRepositoryError,
                        f"repositories[{index}] is {type(repository).__name__}, not a "
                        "CrossAccountImageRepo: the monitor knows the consumers and functions "
                        "of a CrossAccountImageRepo only",
                    )
                )
                continue
            where = Stack.of(repository)
            if (where.account, where.region) != (stack.account, stack.region):
                found.append(
                    (
                        InvalidRepositoryError,
                        f"repositories[{index}] ({repository.node.path}) is in "
                        f"{where.account}/{where.region}, not in the monitor's "
                        f"{stack.account}/{stack.region}: put a monitor in each registry "
                        "account and Region",
                    )
                )
            if literal_name(repository) is None:
                found.append(
                    (
                        InvalidRepositoryError,
                        f"repositories[{index}] ({repository.node.path}) has no literal "
                        "repository_name: give it one (repository_name='team/app') so the "
                        "checker can name it",
                    )
                )
        if consumer_read_role_name is not None and not re.fullmatch(
            r"[\w+=,.@-]{1,64}", consumer_read_role_name
        ):
            found.append(
                (
                    EcrLambdaAccessError,
                    f"consumer_read_role_name={consumer_read_role_name!r} is not an IAM role "
                    "name (1-64 of letters, digits and +=,.@_-)",
                )
            )
        raise_if_violations(found, construct_path=path)

        self._repositories = list(repositories) if repositories is not None else None
        self.consumer_read_role_name = consumer_read_role_name
        self.schedule: Duration = schedule or DEFAULT_SCHEDULE
        self._asset: s3_assets.Asset | None = None
        self._problems: list[str] = []
        self._gathered = False
        self.config: dict[str, Any] = {}
        """The checker's configuration (``monitor.json``), filled at synth."""
        self.account: str = stack.account
        self.region: str = stack.region
        self.partition: str = _partition(stack)
        digest = hashlib.sha256(path.encode()).hexdigest()[:10]
        self.role_name: str = f"ImagePullMonitor-{self.region}-{digest}"
        """The checker role's name (a literal, so that consumer accounts can trust it)."""
        self.role_arn: str = f"arn:{self.partition}:iam::{self.account}:role/{self.role_name}"

        self.log_group = logs.LogGroup(
            self,
            "LogGroup",
            retention=logs.RetentionDays.ONE_YEAR,
            removal_policy=RemovalPolicy.DESTROY,
        )
        skip_checkov(
            _cfn(self.log_group),
            "CKV_AWS_158",
            "The checker logs statuses, function ARNs and policy details, no secrets; CloudWatch "
            "Logs encrypts every log group at rest with its own keys.",
        )
        self.role = iam.Role(
            self,
            "Role",
            role_name=self.role_name,
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="ImagePullMonitor checker: reads repository policies and images",
        )
        self.policy = iam.Policy(
            self,
            "CheckPolicy",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="WriteLogs",
                    actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                    resources=[self.log_group.log_group_arn],
                ),
                iam.PolicyStatement(
                    sid="PublishMetric",
                    actions=["cloudwatch:PutMetricData"],
                    resources=["*"],
                    conditions={"StringEquals": {"cloudwatch:namespace": monitor_check.NAMESPACE}},
                ),
                iam.PolicyStatement(
                    sid="PutEvents",
                    actions=["events:PutEvents"],
                    resources=[
                        f"arn:{self.partition}:events:{self.region}:{self.account}:"
                        "event-bus/default"
                    ],
                ),
            ],
        )
        scanner_hints.acknowledge(
            self.policy,
            scanner_hints.log_streams_acknowledgment(stack.resolve(self.log_group.log_group_arn)),
        )
        scanner_hints.acknowledge(
            self.policy,
            _ack(
                "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                "cloudwatch:PutMetricData has no resource-level permissions (AWS requires "
                "Resource '*'); the statement is limited by the cloudwatch:namespace condition "
                "to EcrLambdaAccess.",
            ),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            handler="ecr_lambda_access.monitor_check.handler",
            code=_MonitorCode(self),
            memory_size=MEMORY_SIZE,
            timeout=TIMEOUT,
            role=self.role,
            log_group=self.log_group,
            tracing=lambda_.Tracing.ACTIVE,
            description="ImagePullMonitor: can every registered function still pull its image?",
        )
        self.function.node.add_dependency(self.policy)
        default_policy = self.role.node.try_find_child("DefaultPolicy")
        if default_policy is not None:
            scanner_hints.acknowledge(default_policy, scanner_hints.ACK_XRAY)
        scanner_hints.acknowledge(
            self.function,
            _ack(
                "Serverless::Serverless-LambdaDLQ",
                "A failed check needs no replay: the next scheduled run checks everything "
                "again, and a failed run shows in the function's Errors metric.",
            ),
        )
        cfn_function = _cfn(self.function)
        for check_id, reason in (
            (
                "CKV_AWS_115",
                "No reserved concurrency: reserving even 1 fails in accounts whose concurrency "
                "limit is the new-account minimum; runs are short and rare (hourly + events).",
            ),
            (
                "CKV_AWS_116",
                "A failed check needs no dead-letter queue: the next scheduled run checks "
                "everything again; failures show in the function's Errors metric.",
            ),
            (
                "CKV_AWS_117",
                "The checker calls only AWS APIs (ECR, STS, CloudWatch, EventBridge); a VPC "
                "would add NAT or endpoints and no protection.",
            ),
            (
                "CKV_AWS_173",
                "The function has no environment variables: its configuration is a file of "
                "its code asset.",
            ),
            (
                "CKV_AWS_272",
                "The code is the library's own modules staged at synth by CDK; code signing "
                "would need a signing profile the library cannot assume.",
            ),
        ):
            skip_checkov(cfn_function, check_id, reason)

        rate = events.Schedule.rate(self.schedule)
        self.schedule_rule = events.Rule(self, "Schedule", schedule=rate)
        self.schedule_rule.add_target(targets.LambdaFunction(self.function, retry_attempts=0))
        names = Lazy.any(_Names(self))
        self.image_delete_rule = events.Rule(
            self,
            "ImageDeleted",
            event_pattern=events.EventPattern(
                source=["aws.ecr"],
                detail_type=["ECR Image Action"],
                detail={"action-type": ["DELETE"], "repository-name": names},
            ),
        )
        self.image_delete_rule.add_target(targets.LambdaFunction(self.function, retry_attempts=2))
        repository_calls = [c for c in BREAKING_API_CALLS if c != "PutReplicationConfiguration"]
        self.api_call_rule = events.Rule(
            self,
            "RepositoryChanged",
            event_pattern=events.EventPattern(
                source=["aws.ecr"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={
                    "eventSource": ["ecr.amazonaws.com"],
                    "eventName": repository_calls,
                    "requestParameters": {"repositoryName": names},
                },
            ),
        )
        """CloudTrail: the repository calls of :data:`BREAKING_API_CALLS` on the watched ones."""
        self.api_call_rule.add_target(targets.LambdaFunction(self.function, retry_attempts=2))
        self.replication_rule = events.Rule(
            self,
            "ReplicationChanged",
            event_pattern=events.EventPattern(
                source=["aws.ecr"],
                detail_type=["AWS API Call via CloudTrail"],
                detail={
                    "eventSource": ["ecr.amazonaws.com"],
                    "eventName": ["PutReplicationConfiguration"],
                },
            ),
        )
        """CloudTrail: PutReplicationConfiguration (registry-wide: it names no repository)."""
        self.replication_rule.add_target(targets.LambdaFunction(self.function, retry_attempts=2))
        for rule in (
            self.schedule_rule,
            self.image_delete_rule,
            self.api_call_rule,
            self.replication_rule,
        ):
            scanner_hints.acknowledge(
                rule,
                _ack(
                    "Serverless::Serverless-EventBusDLQ",
                    "A lost trigger needs no dead-letter queue: the checker reads the whole "
                    "state on each run, and the schedule runs it again within the hour.",
                ),
            )

        period = min(self.schedule.to_seconds(), 86400)
        self.metric = cloudwatch.Metric(
            namespace=monitor_check.NAMESPACE,
            metric_name=monitor_check.METRIC_NAME,
            dimensions_map={monitor_check.DIMENSION: monitor_check.ALL_REPOSITORIES},
            statistic="Maximum",
            period=Duration.seconds(period),
        )
        """The run's total (``Repository=ALL``): functions that cannot pull."""
        self.alarm = self.metric.create_alarm(
            self,
            "Alarm",
            threshold=1,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.MISSING,
            alarm_description=(
                "A Lambda function registered on a repository of this registry cannot pull its "
                "image (drifted policy, deleted image, failed replication or function): see the "
                "'Image Pull Check' event or the checker's log"
            ),
        )
        if alarm_topic is not None:
            action = cloudwatch_actions.SnsAction(alarm_topic)
            self.alarm.add_alarm_action(action)
            self.alarm.add_ok_action(action)

        Aspects.of(self).add(_Gather(self))
        self.node.add_validation(_Problems(self))

    # ----------------------------------------------------------------------------------------

    def watched(self) -> list[Any]:
        """The repositories watched (known for certain at synth)."""
        from .repository import CrossAccountImageRepo

        if self._repositories is not None:
            return list(self._repositories)
        return [
            c
            for c in self.node.root.node.find_all()
            if isinstance(c, CrossAccountImageRepo)
            and (Stack.of(c).account, Stack.of(c).region) == (self.account, self.region)
        ]

    def _gather(self) -> None:
        if self._gathered:
            return
        self._gathered = True
        repositories = []
        consumer_accounts: set[str] = set()
        sources: set[str] = set()
        for repository in self.watched():
            name = literal_name(repository)
            if name is None:
                self._problems.append(
                    f"{repository.node.path} has no literal repository_name, so the monitor "
                    "cannot name it: give it repository_name=, or pass repositories= without it"
                )
                continue
            entry = self._repository_entry(repository, name)
            repositories.append(entry)
            consumer_accounts.update(f["account"] for f in entry["functions"])
            if entry.get("replica_source"):
                account, region = entry["replica_source"]
                sources.add(f"arn:{self.partition}:ecr:{region}:{account}:repository/{name}")
        repositories.sort(key=lambda r: r["name"])
        arns = [
            f"arn:{self.partition}:ecr:{self.region}:{self.account}:repository/{r['name']}"
            for r in repositories
        ]
        read_role = (
            f"arn:{self.partition}:iam::{{account}}:role/{self.consumer_read_role_name}"
            if self.consumer_read_role_name
            else None
        )
        self.config = {
            "version": monitor_check.CONFIG_VERSION,
            "account": self.account,
            "region": self.region,
            "partition": self.partition,
            "url_suffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
            "consumer_read_role": read_role,
            "repositories": repositories,
        }
        if arns:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadRepositories",
                    actions=[
                        "ecr:DescribeImageReplicationStatus",
                        "ecr:DescribeImages",
                        "ecr:GetRepositoryPolicy",
                    ],
                    resources=arns,
                )
            )
        extra = sorted(sources - set(arns))
        if extra:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadReplicationSources",
                    actions=["ecr:DescribeImageReplicationStatus"],
                    resources=extra,
                )
            )
        others = sorted(consumer_accounts - {self.account})
        if read_role is not None and others:
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="AssumeConsumerReadRoles",
                    actions=["sts:AssumeRole"],
                    resources=[read_role.replace("{account}", a) for a in others],
                )
            )
        if read_role is not None and self.account in consumer_accounts:
            # functions of the registry account itself: read with the checker's own role
            self.policy.add_statements(
                iam.PolicyStatement(
                    sid="ReadOwnFunctions",
                    actions=list(_READ_ACTIONS),
                    resources=[
                        f"arn:{self.partition}:lambda:{self.region}:{self.account}:function:*",
                        f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:"
                        "stack/*/*",
                    ],
                )
            )
            scanner_hints.acknowledge(
                self.policy,
                _ack(
                    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:"
                    f"{self.partition}:lambda:{self.region}:{self.account}:function:*]",
                    "Read-only lambda:GetFunction on this account's functions: names that "
                    "CloudFormation generates are not known at synth.",
                ),
            )
            scanner_hints.acknowledge(
                self.policy,
                _ack(
                    "AwsSolutions::AwsSolutions-IAM5[Resource::arn:"
                    f"{self.partition}:cloudformation:{self.region}:{self.account}:stack/*/*]",
                    "Read-only cloudformation:DescribeStackResource: the physical name of a "
                    "function CloudFormation named, in the stack that holds it.",
                ),
            )
        staging = Path(tempfile.mkdtemp(prefix="ecr-lambda-access-monitor-"))
        # CDK copies the directory into the cloud assembly; with staging disabled (SAM) the
        # assembly points at it, so it must stay.
        keep = bool(self.node.try_get_context("aws:cdk:disable-asset-staging"))
        try:
            stage_bundle(self.config, staging)
            self._asset = s3_assets.Asset(self, "Code", path=str(staging))
        finally:
            if not keep:
                shutil.rmtree(staging, ignore_errors=True)
        self._asset.add_resource_metadata(_cfn(self.function), "Code")

    def _repository_entry(self, repository: Any, name: str) -> dict[str, Any]:
        stack = Stack.of(repository)
        pull = repository._pull_policy
        document = stack.resolve(pull.render())
        source = repository.replica_of
        replica_source = None
        if source is not None and Stack.of(source).account == self.account:
            replica_source = [self.account, Stack.of(source).region]
        functions = []
        known: set[tuple[str, str]] = set()
        for function in repository._functions:
            fstack = Stack.of(function)
            reference = function.image_digest or function.tag_or_digest
            if reference is not None and is_unresolved(reference):
                reference = None
            literal = function.literal_function_name
            functions.append(
                {
                    "function": function.node.path,
                    "stack": fstack.node.path,
                    "stack_name": fstack.stack_name,
                    "logical_id": fstack.resolve(fstack.get_logical_id(_cfn(function))),
                    "account": fstack.account,
                    "region": fstack.region,
                    "function_name": literal,
                    "reference": reference,
                }
            )
            known.add((fstack.account, literal if literal is not None else "*"))
        consumers: list[LambdaConsumer] = list(pull.consumers)
        if pull.replica_source is not None:
            consumers = replica_consumers(
                pull.replica_source._declared_consumers(),
                source_account=Stack.of(pull.replica_source).account,
                replica_account=stack.account,
                consumers=pull.consumers,
            )
        declared = []
        for consumer in consumers:
            key = (consumer.account, consumer.pattern)
            if key in known or is_unresolved(consumer.account):
                continue
            known.add(key)
            declared.append({"account": consumer.account, "pattern": consumer.pattern})
        return {
            "name": name,
            "organization_id": repository.organization_id,
            "policy": document,
            "replica_source": replica_source,
            "functions": sorted(functions, key=lambda f: f["function"]),
            "consumers": sorted(declared, key=lambda c: (c["account"], c["pattern"])),
        }


@jsii.implements(IStableAnyProducer)
class _Names:
    """The watched repository names, for the event patterns (known at synth)."""

    def __init__(self, monitor: ImagePullMonitor) -> None:
        self._monitor = monitor

    def produce(self) -> Any:
        self._monitor._gather()
        return [r["name"] for r in self._monitor.config.get("repositories", ())] or [
            "ecr-lambda-access-no-repository"
        ]


class ImagePullMonitorReadRole(Construct):
    """The read-only role an :class:`ImagePullMonitor` assumes in a consumer (workload) account.

    Trusted by the monitor's role only (the registry account's root principal, limited by
    ``aws:PrincipalArn`` to the checker's role ARN, so the role can be created before the
    monitor's). Allows ``lambda:GetFunction`` on the functions of this stack's account and
    Region and ``cloudformation:DescribeStackResource`` (the name of a function CloudFormation
    named), nothing else.

    Parameters
    ----------
    monitor:
        The monitor (of the same app) that assumes this role.
    role_name:
        Default: the monitor's ``consumer_read_role_name`` (required there).
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        monitor: ImagePullMonitor,
        role_name: str | None = None,
    ) -> None:
        super().__init__(scope, id)
        name = role_name or monitor.consumer_read_role_name
        if name is None:
            raise_if_violations(
                [
                    (
                        EcrLambdaAccessError,
                        "the monitor has no consumer_read_role_name and role_name is not given: "
                        "give the monitor consumer_read_role_name='ImagePullMonitorRead'",
                    )
                ],
                construct_path=f"{scope.node.path}/{id}".lstrip("/"),
            )
        stack = Stack.of(self)
        partition = _partition(stack)
        self.role = iam.Role(
            self,
            "Role",
            role_name=name,
            assumed_by=iam.AccountPrincipal(monitor.account).with_conditions(
                {"ArnEquals": {"aws:PrincipalArn": monitor.role_arn}}
            ),
            description="Read-only: lets the registry's ImagePullMonitor read function states",
            inline_policies={
                "ReadFunctions": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(
                            sid="ReadFunctions",
                            actions=list(_READ_ACTIONS),
                            resources=[
                                f"arn:{partition}:lambda:{stack.region}:{stack.account}:function:*",
                                f"arn:{partition}:cloudformation:{stack.region}:{stack.account}:"
                                "stack/*/*",
                            ],
                        )
                    ]
                )
            },
        )
        scanner_hints.acknowledge(
            self.role,
            _ack(
                "AwsSolutions::AwsSolutions-IAM5[Resource::arn:"
                f"{partition}:lambda:{stack.region}:{stack.account}:function:*]",
                "Read-only lambda:GetFunction on this account's functions in this Region: the "
                "monitor reads the state of the functions registered at synth, whose names "
                "CloudFormation may generate.",
            ),
        )
        scanner_hints.acknowledge(
            self.role,
            _ack(
                "AwsSolutions::AwsSolutions-IAM5[Resource::arn:"
                f"{partition}:cloudformation:{stack.region}:{stack.account}:stack/*/*]",
                "Read-only cloudformation:DescribeStackResource: the physical name of a "
                "function CloudFormation named, in the stack that holds it.",
            ),
        )
        self.role_arn: str = f"arn:{partition}:iam::{stack.account}:role/{name}"


def _cfn(construct: Construct) -> Any:
    return construct.node.default_child


def _ack(rule: str, reason: str) -> Acknowledgment:
    return Acknowledgment(id=rule, reason=reason)


def _partition(stack: Stack) -> str:
    region = stack.region
    return "aws" if Token.is_unresolved(region) else partition_of_region(region)
