"""A fleet of container-image functions for the live check's tests and benchmark.

* :func:`write_fleet` writes a cloud assembly as data (manifest + templates, no synth): a
  registry account with one repository per Region whose policy comes from the library's own
  builder (``policy.repository_policy``), and workload accounts whose functions run its image.
* :func:`deploy` "deploys" that assembly into moto (``mock_aws``): repositories with the
  synthesized policy and an image, execution roles and functions, each in its own account (moto
  puts the resources of an assumed role's session in the role's account).
* :class:`MotoGaps` is the **test double** for what moto 5.2.5 cannot do, registered on the
  boto3 sessions the check's session factory makes (botocore events, so every other call still
  goes to moto):

  - Lambda resolving a tag to a digest at deploy (moto's ``ResolvedImageUri`` is a hash of the
    URI string): the digest recorded at :func:`deploy` time is returned;
  - a function's ``State``/``StateReasonCode`` (moto's functions are always ``Active``);
  - a role that cannot be assumed (moto does not enforce trust policies by default):
    ``AccessDenied`` as STS answers it;
  - ``ecr:DescribeImageReplicationStatus`` (not implemented by moto);
  - ``cloudformation:DescribeStackResource`` (moto's CloudFormation needs extras we do not
    install): the physical name of a function without ``FunctionName``.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ecr_lambda_access.policy import LambdaConsumer, repository_policy

REGISTRY = "111111111111"
REPOSITORY = "fleet/app"
TAG = "v1"
ROLE_NAME = "ImagePullAudit"
ROLE_TEMPLATE = "arn:aws:iam::{account}:role/" + ROLE_NAME
LAYER = "sha256:" + "ab" * 32


def accounts(count: int, first: int = 200_000_000_000) -> list[str]:
    return [f"{first + i:012d}" for i in range(count)]


def manifest(layer: str = LAYER) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1,
                "digest": "sha256:" + "cd" * 32,
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 1,
                    "digest": layer,
                }
            ],
        }
    )


def image_uri(region: str, reference: str = TAG, repository: str = REPOSITORY) -> str:
    separator = "@" if reference.startswith("sha256:") else ":"
    return f"{REGISTRY}.dkr.ecr.{region}.amazonaws.com/{repository}{separator}{reference}"


@dataclass(frozen=True)
class Function:
    account: str
    region: str
    name: str | None
    image: str
    stack: str
    logical_id: str

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account}:function:{self.name}"


@dataclass
class Fleet:
    assembly: Path
    registry_regions: list[str]
    policies: dict[str, dict[str, Any]]
    """Region -> the synthesized repository policy there."""
    functions: list[Function] = field(default_factory=list)


def write_assembly(directory: Path, stacks: Mapping[str, tuple[str, dict[str, Any]]]) -> Path:
    """A cloud assembly: stack name -> (environment, template)."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (environment, template) in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json", "stackName": name},
        }
    (directory / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return directory


def write_fleet(
    directory: Path,
    workload_accounts: Sequence[str],
    regions: Sequence[str],
    functions_per_account: int,
    *,
    unnamed: int = 0,
) -> Fleet:
    """Each workload account in one Region (round robin), with its functions in one stack.

    The first ``unnamed`` functions of each account have no FunctionName (CloudFormation would
    generate it).
    """
    stacks: dict[str, tuple[str, dict[str, Any]]] = {}
    policies = {}
    for region in regions:
        consumers = [
            LambdaConsumer(account=a)
            for i, a in enumerate(workload_accounts)
            if regions[i % len(regions)] == region
        ]
        document = repository_policy(consumers, repository_account=REGISTRY, region=region)
        policies[region] = document
        stacks[f"Registry-{region}"] = (
            f"aws://{REGISTRY}/{region}",
            {
                "Resources": {
                    "Repo": {
                        "Type": "AWS::ECR::Repository",
                        "Properties": {
                            "RepositoryName": REPOSITORY,
                            "RepositoryPolicyText": document,
                        },
                    }
                }
            },
        )
    fleet = Fleet(directory, list(regions), policies)
    for i, account in enumerate(workload_accounts):
        region = regions[i % len(regions)]
        stack = f"Workload-{account}"
        resources: dict[str, Any] = {}
        for n in range(functions_per_account):
            logical_id = f"Fn{n}"
            name = None if n < unnamed else f"svc-{n}"
            properties: dict[str, Any] = {
                "PackageType": "Image",
                "Code": {"ImageUri": image_uri(region)},
            }
            if name is not None:
                properties["FunctionName"] = name
            resources[logical_id] = {"Type": "AWS::Lambda::Function", "Properties": properties}
            fleet.functions.append(
                Function(account, region, name, image_uri(region), stack, logical_id)
            )
        stacks[stack] = (f"aws://{account}/{region}", {"Resources": resources})
    write_assembly(directory, stacks)
    return fleet


_LOADER: list[Any] = []


def new_session(**kwargs: Any) -> Any:
    """A boto3 session sharing one botocore loader: service models are read once per process."""
    import boto3
    import botocore.session

    core = botocore.session.get_session()
    if _LOADER:
        core.register_component("data_loader", _LOADER[0])
    else:
        _LOADER.append(core.get_component("data_loader"))
    return boto3.session.Session(botocore_session=core, **kwargs)


# --------------------------------------------------------------------------------------------
# The test double for moto's gaps
# --------------------------------------------------------------------------------------------


@dataclass
class MotoGaps:
    """What moto cannot do, answered at the session-factory seam (see the module docstring)."""

    resolved: dict[str, str] = field(default_factory=dict)
    """Function ARN -> the digest Lambda resolved at deploy."""
    states: dict[str, dict[str, str]] = field(default_factory=dict)
    """Function name -> Configuration fields to report (State, StateReasonCode, ...)."""
    denied_roles: set[str] = field(default_factory=set)
    replication: dict[tuple[str, str, str], list[dict[str, str]]] = field(default_factory=dict)
    """(registry, repository, digest) -> replicationStatuses."""
    physical_names: dict[tuple[str, str], str] = field(default_factory=dict)
    """(stack name, logical id) -> the name CloudFormation generated."""
    sessions: int = 0

    def session_factory(self, **kwargs: Any) -> Any:
        self.sessions += 1
        session = new_session(**kwargs)
        events = session.events
        # before-call handlers see the serialized request: keep the API parameters for them
        events.register("before-parameter-build", self._keep_parameters)
        events.register("after-call.lambda.GetFunction", self._get_function)
        events.register("before-call.sts.AssumeRole", self._assume_role)
        events.register("before-call.ecr.DescribeImageReplicationStatus", self._replication_status)
        events.register("before-call.cloudformation.DescribeStackResource", self._stack_resource)
        return session

    @staticmethod
    def _keep_parameters(params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["api_params"] = dict(params)

    @staticmethod
    def _response(status: int) -> Any:
        from botocore.awsrequest import AWSResponse

        return AWSResponse("https://test-double.invalid/", status, {}, None)

    def _get_function(self, parsed: dict[str, Any], **_: Any) -> None:
        configuration = parsed.get("Configuration") or {}
        code = parsed.get("Code") or {}
        digest = self.resolved.get(str(configuration.get("FunctionArn")))
        if digest is not None and code.get("ImageUri"):
            repository = str(code["ImageUri"]).split("@")[0].rsplit(":", 1)[0]
            code["ResolvedImageUri"] = f"{repository}@{digest}"
        configuration.update(self.states.get(str(configuration.get("FunctionName")), {}))

    def _assume_role(self, context: Mapping[str, Any], **_: Any) -> Any:
        params = context.get("api_params") or {}
        arn = params.get("RoleArn")
        if arn not in self.denied_roles:
            return None
        return self._response(403), {
            "Error": {
                "Code": "AccessDenied",
                "Message": f"User: arn:aws:iam::123456789012:user/ci is not authorized to "
                f"perform: sts:AssumeRole on resource: {arn}",
            },
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    def _replication_status(self, context: Mapping[str, Any], **_: Any) -> Any:
        params = context.get("api_params") or {}
        digest = (params.get("imageId") or {}).get("imageDigest")
        key = (str(params.get("registryId")), str(params.get("repositoryName")), str(digest))
        return self._response(200), {
            "repositoryName": params.get("repositoryName"),
            "imageId": {"imageDigest": digest},
            "replicationStatuses": self.replication.get(key, []),
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }

    def _stack_resource(self, context: Mapping[str, Any], **_: Any) -> Any:
        params = context.get("api_params") or {}
        key = (str(params.get("StackName")), str(params.get("LogicalResourceId")))
        if key not in self.physical_names:
            return self._response(400), {
                "Error": {"Code": "ValidationError", "Message": f"Stack '{key[0]}' does not exist"},
                "ResponseMetadata": {"HTTPStatusCode": 400},
            }
        return self._response(200), {
            "StackResourceDetail": {
                "StackName": key[0],
                "LogicalResourceId": key[1],
                "PhysicalResourceId": self.physical_names[key],
                "ResourceType": "AWS::Lambda::Function",
                "ResourceStatus": "CREATE_COMPLETE",
            },
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }


# --------------------------------------------------------------------------------------------
# Deploying the fleet into moto
# --------------------------------------------------------------------------------------------


_BASE: list[Any] = []


@dataclass(frozen=True)
class AccountSession:
    """Clients in one account and Region, from one shared base session (fast to make)."""

    credentials: Mapping[str, str]
    region: str

    def client(self, service: str) -> Any:
        return _BASE[0].client(service, region_name=self.region, **self.credentials)


def account_session(account: str, region: str) -> AccountSession:
    """Clients in ``account`` (moto: an assumed role's resources live in the role's account)."""
    if not _BASE:
        _BASE.append(new_session())
    sts = _BASE[0].client("sts", region_name=region)
    credentials = sts.assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/deployer", RoleSessionName="deploy"
    )["Credentials"]
    return AccountSession(
        {
            "aws_access_key_id": credentials["AccessKeyId"],
            "aws_secret_access_key": credentials["SecretAccessKey"],
            "aws_session_token": credentials["SessionToken"],
        },
        region,
    )


def deploy(fleet: Fleet, gaps: MotoGaps, *, generated_suffix: str = "-AbCdEf123456") -> None:
    """Create in moto what the fleet's assembly describes (call inside ``mock_aws``)."""
    digests: dict[str, str] = {}
    for region in fleet.registry_regions:
        ecr = account_session(REGISTRY, region).client("ecr")
        ecr.create_repository(repositoryName=REPOSITORY)
        ecr.set_repository_policy(
            repositoryName=REPOSITORY, policyText=json.dumps(fleet.policies[region])
        )
        image = ecr.put_image(repositoryName=REPOSITORY, imageManifest=manifest(), imageTag=TAG)
        digests[region] = image["image"]["imageId"]["imageDigest"]
    by_account: dict[tuple[str, str], list[Function]] = {}
    for function in fleet.functions:
        by_account.setdefault((function.account, function.region), []).append(function)
    for (account, region), functions in by_account.items():
        session = account_session(account, region)
        role = session.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")[
            "Role"
        ]["Arn"]
        lambda_ = session.client("lambda")
        for function in functions:
            name = function.name
            if name is None:
                name = f"{function.stack}-{function.logical_id}{generated_suffix}"[:64]
                gaps.physical_names[(function.stack, function.logical_id)] = name
            lambda_.create_function(
                FunctionName=name,
                PackageType="Image",
                Code={"ImageUri": function.image},
                Role=role,
            )
            arn = f"arn:aws:lambda:{region}:{account}:function:{name}"
            gaps.resolved[arn] = digests[region]


def statuses(report: Any) -> dict[str, str]:
    return {f.function: f.status for f in report.functions}


def only(items: Iterable[Any]) -> Any:
    (item,) = list(items)
    return item


@pytest.fixture(autouse=True)
def offline_aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fake credentials, no shared config, no network at all; moto's mock_aws around the test.

    Import it into a test module to apply it to every test there.
    """
    from moto import mock_aws

    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a test tried to open a network connection: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    with mock_aws():
        yield
