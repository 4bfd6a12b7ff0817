"""The constructs are the CDK types they stand for: a Function, a Repository.

One app holds the scenarios that need a synthesized template (one synth for the module); the
error cases build small apps that are never synthesized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_codeguruprofiler as codeguruprofiler
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as events_targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from support import DIGEST, REGION, REGISTRY, WORKLOAD, env, new_app, warnings_of

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    EcrLambdaAccessError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    RegionMismatchError,
)

pytestmark = pytest.mark.synth

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


@dataclass
class World:
    app: cdk.App
    assembly: cdk.cx_api.CloudAssembly
    functions: dict[str, ContainerFunction]
    repos: dict[str, CrossAccountImageRepo]
    stacks: dict[str, cdk.Stack]

    def template(self, stack: cdk.Stack) -> dict[str, Any]:
        artifact = self.assembly.get_stack_artifact(stack.artifact_id)
        if isinstance(stack.node.scope, cdk.Stage) and not isinstance(stack.node.scope, cdk.App):
            artifact = stack.node.scope.synth().get_stack_artifact(stack.artifact_id)
        return artifact.template  # type: ignore[no-any-return]

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        template = self.template(self.stacks[stack])
        return {k: v for k, v in template["Resources"].items() if v["Type"] == type_}


class RegistryStage(cdk.Stage):
    def __init__(self, scope: cdk.App, id: str) -> None:
        super().__init__(scope, id, env=env(REGISTRY))
        self.stack = cdk.Stack(self, "Registry")
        self.images = CrossAccountImageRepo(self.stack, "Images", repository_name="shared/staged")


class WorkloadStage(cdk.Stage):
    def __init__(self, scope: cdk.App, id: str, images: CrossAccountImageRepo) -> None:
        super().__init__(scope, id, env=env(WORKLOAD))
        self.stack = cdk.Stack(self, "Workload")
        self.worker = ContainerFunction(
            self.stack, "Worker", repository=images, tag_or_digest="v1", function_name="staged"
        )


@pytest.fixture(scope="module")
def world() -> World:
    app = new_app()
    stacks: dict[str, cdk.Stack] = {}
    functions: dict[str, ContainerFunction] = {}
    repos: dict[str, CrossAccountImageRepo] = {}

    registry = stacks["Registry"] = cdk.Stack(app, "Registry", env=env(REGISTRY))
    repos["shared"] = CrossAccountImageRepo(
        registry, "Images", repository_name="shared/orders", consumers=[WORKLOAD]
    )
    # CDK's own code path: DockerImageCode.from_ecr calls repository.grant_pull(lambda).
    code = lambda_.DockerImageCode.from_ecr(repos["shared"], tag_or_digest="v1")
    lambda_.DockerImageFunction(registry, "Plain", code=code, function_name="plain-cdk")
    repos["shared"].grant_pull(iam.ServicePrincipal("codebuild.amazonaws.com"))

    workload = stacks["Workload"] = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    fn = functions["api"] = ContainerFunction(
        workload, "Api", repository=repos["shared"], tag_or_digest=DIGEST, function_name="api"
    )
    events.Rule(
        workload,
        "Hourly",
        schedule=events.Schedule.rate(cdk.Duration.hours(1)),
        targets=[events_targets.LambdaFunction(fn)],
    )
    rest = apigateway.RestApi(workload, "Rest")
    rest.root.add_method("GET", apigateway.LambdaIntegration(fn))
    outbox = sqs.Queue(workload, "Outbox", enforce_ssl=True)
    outbox.grant_send_messages(fn)
    fn.add_alias("live")
    assert isinstance(fn.current_version, lambda_.Version)
    fn.add_environment("STAGE", "prod")
    fn.metric_errors()
    inbox = sqs.Queue(workload, "Inbox", visibility_timeout=cdk.Duration.seconds(180))
    fn.add_event_source(event_sources.SqsEventSource(inbox))

    # A digest held in tokens, a tag held in a token.
    tokens = stacks["Tokens"] = cdk.Stack(app, "Tokens", env=env(WORKLOAD))
    digest_param = cdk.CfnParameter(tokens, "ImageDigest", type="String")
    functions["param"] = ContainerFunction(
        tokens,
        "FromParameter",
        repository=repos["shared"],
        image_digest=digest_param.value_as_string,
        function_name="from-parameter",
    )
    functions["ssm"] = ContainerFunction(
        tokens,
        "FromSsm",
        repository=repos["shared"],
        image_digest=ssm.StringParameter.value_for_string_parameter(tokens, "/images/orders"),
        function_name="from-ssm",
    )
    tag_param = cdk.CfnParameter(tokens, "ImageTag", type="String")
    functions["tag"] = ContainerFunction(
        tokens,
        "FromTag",
        repository=repos["shared"],
        tag_or_digest=tag_param.value_as_string,
        function_name="from-tag",
    )

    # A role of the user's own; profiling; initial_policy; an unnamed (CloudFormation-named)
    # function.
    own = stacks["OwnRole"] = cdk.Stack(app, "OwnRole", env=env(WORKLOAD))
    role = iam.Role(own, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    functions["role"] = ContainerFunction(
        own,
        "WithRole",
        repository=repos["shared"],
        tag_or_digest=DIGEST,
        function_name="with-role",
        role=role,
        initial_policy=[
            iam.PolicyStatement(actions=["s3:GetObject"], resources=["arn:aws:s3:::b/*"])
        ],
    )
    functions["profiled"] = ContainerFunction(
        own,
        "Profiled",
        repository=repos["shared"],
        tag_or_digest=DIGEST,
        cloudformation_generated_name=True,
        profiling=True,
    )

    # A repository passed by ARN that a CrossAccountImageRepo of this app manages.
    by_arn = stacks["ByArn"] = cdk.Stack(app, "ByArn", env=env(WORKLOAD))
    functions["by_arn"] = ContainerFunction(
        by_arn,
        "Reader",
        repository=f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/orders",
        tag_or_digest=DIGEST,
        function_name="by-arn",
    )

    # CDK Pipelines' layout: the registry and the workload in two stages.
    registry_stage = RegistryStage(app, "RegistryStage")
    workload_stage = WorkloadStage(app, "WorkloadStage", registry_stage.images)
    stacks["StagedRegistry"] = registry_stage.stack
    stacks["StagedWorkload"] = workload_stage.stack
    functions["staged"] = workload_stage.worker
    repos["staged"] = registry_stage.images

    return World(app, app.synth(), functions, repos, stacks)


def policy_of(world: World, stack: str) -> dict[str, Any]:
    (repo,) = world.resources(stack, "AWS::ECR::Repository").values()
    return repo["Properties"]["RepositoryPolicyText"]  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# ContainerFunction is an aws_lambda.Function
# --------------------------------------------------------------------------------------------


def test_container_function_is_a_function_wherever_cdk_expects_one(world: World) -> None:
    fn = world.functions["api"]
    assert isinstance(fn, lambda_.Function)
    assert fn.function is fn
    template = world.template(world.stacks["Workload"])
    (function_id,) = world.resources("Workload", "AWS::Lambda::Function")
    assert function_id.startswith("Api")
    # events_targets.LambdaFunction and LambdaIntegration grant invoke through add_permission.
    permissions = world.resources("Workload", "AWS::Lambda::Permission")
    principals = sorted(p["Properties"]["Principal"] for p in permissions.values())
    assert principals == [
        "apigateway.amazonaws.com",
        "apigateway.amazonaws.com",
        "events.amazonaws.com",
    ]
    # add_alias and current_version.
    (alias,) = world.resources("Workload", "AWS::Lambda::Alias").values()
    assert alias["Properties"]["Name"] == "live"
    assert len(world.resources("Workload", "AWS::Lambda::Version")) == 1
    # queue.grant_send_messages(fn) grants the function's role.
    role_policies = [
        s
        for p in world.resources("Workload", "AWS::IAM::Policy").values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    send = [s for s in role_policies if "sqs:SendMessage" in s["Action"]]
    assert len(send) == 1
    assert "Outbox" in json.dumps(send[0]["Resource"])
    # add_environment.
    props = template["Resources"][function_id]["Properties"]
    assert props["Environment"] == {"Variables": {"STAGE": "prod"}}


def test_sqs_event_source_through_cdk_warns_what_it_bypasses(world: World) -> None:
    warnings = " ".join(warnings_of(world.functions["api"]))
    assert "ecr-lambda-access:sqsEventSourceUnchecked" in warnings
    assert "add_sqs_source" in warnings


def test_own_role_has_no_managed_policy_and_no_ecr_action(world: World) -> None:
    for stack in ("Workload", "Tokens", "ByArn", "StagedWorkload"):
        template = world.template(world.stacks[stack])
        for role in (r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"):
            assert "ManagedPolicyArns" not in role["Properties"], stack
        assert '"ecr:' not in json.dumps(
            [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
        )


def test_a_role_passed_in_is_the_users_and_gets_only_the_functions_statements(
    world: World,
) -> None:
    fn = world.functions["role"]
    assert not fn.owns_role
    template = world.template(world.stacks["OwnRole"])
    roles = world.resources("OwnRole", "AWS::IAM::Role")
    mine = next(v for k, v in roles.items() if k.startswith("Mine"))
    assert "ManagedPolicyArns" not in mine["Properties"]
    statements = [
        s
        for k, p in world.resources("OwnRole", "AWS::IAM::Policy").items()
        if k.startswith("Mine")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = sorted(
        a
        for s in statements
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == ["logs:CreateLogStream", "logs:PutLogEvents", "s3:GetObject"]
    assert "Role" in json.dumps(template)


def test_profiling_grants_publish_on_the_group_and_sets_the_agent_environment(
    world: World,
) -> None:
    fn = world.functions["profiled"]
    assert isinstance(fn.profiling_group, codeguruprofiler.ProfilingGroup)
    functions = world.resources("OwnRole", "AWS::Lambda::Function")
    profiled = next(v for k, v in functions.items() if k.startswith("Profiled"))
    variables = profiled["Properties"]["Environment"]["Variables"]
    assert variables["AWS_CODEGURU_PROFILER_ENABLED"] == "TRUE"
    assert "AWS_CODEGURU_PROFILER_GROUP_ARN" in variables
    statements = [
        s
        for k, p in world.resources("OwnRole", "AWS::IAM::Policy").items()
        if k.startswith("Profiled")
        for s in p["Properties"]["PolicyDocument"]["Statement"]
    ]
    publish = [s for s in statements if "codeguru-profiler:PostAgentProfile" in s["Action"]]
    assert sorted(publish[0]["Action"]) == [
        "codeguru-profiler:ConfigureAgent",
        "codeguru-profiler:PostAgentProfile",
    ]


def test_cloudformation_named_function_has_no_name_and_admits_its_account(world: World) -> None:
    fn = world.functions["profiled"]
    assert fn.literal_function_name is None
    functions = world.resources("OwnRole", "AWS::Lambda::Function")
    profiled = next(v for k, v in functions.items() if k.startswith("Profiled"))
    assert "FunctionName" not in profiled["Properties"]
    service = next(
        s
        for s in policy_of(world, "Registry")["Statement"]
        if s["Principal"] == {"Service": "lambda.amazonaws.com"}
    )
    assert (
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:*"
        in service["Condition"]["StringLike"]["aws:SourceArn"]
    )


# --------------------------------------------------------------------------------------------
# Tokens: a digest in a token renders '@'
# --------------------------------------------------------------------------------------------


def _image_uri(world: World, key: str) -> Any:
    fn = world.functions[key]
    stack = cdk.Stack.of(fn)
    template = world.template(stack)
    cfn = fn.node.default_child
    return template["Resources"][stack.get_logical_id(cfn)]["Properties"]["Code"]["ImageUri"]


def test_image_digest_token_renders_repository_at_digest(world: World) -> None:
    uri = _image_uri(world, "param")
    assert uri == {
        "Fn::Join": [
            "",
            [
                f"{REGISTRY}.dkr.ecr.{REGION}.",
                {"Ref": "AWS::URLSuffix"},
                "/shared/orders@",
                {"Ref": "ImageDigest"},
            ],
        ]
    }
    ssm_parts = _image_uri(world, "ssm")["Fn::Join"][1]
    assert ssm_parts[-2] == "/shared/orders@"
    assert list(ssm_parts[-1]) == ["Ref"]  # the SSM parameter's CloudFormation parameter
    assert world.functions["param"].image_digest is not None
    assert world.functions["param"].tag_or_digest is None


def test_tag_token_stays_a_tag(world: World) -> None:
    parts = _image_uri(world, "tag")["Fn::Join"][1]
    assert parts[-2:] == ["/shared/orders:", {"Ref": "ImageTag"}]


def test_image_digest_and_tag_are_exclusive_and_checked() -> None:
    stack = cdk.Stack(new_app(), "S", env=env(WORKLOAD))
    arn = f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/x"
    with pytest.raises(InvalidImageReferenceError, match="exactly one"):
        ContainerFunction(stack, "Both", repository=arn, tag_or_digest="v1", image_digest=DIGEST)
    with pytest.raises(InvalidImageReferenceError, match="exactly one"):
        ContainerFunction(stack, "Neither", repository=arn)
    with pytest.raises(InvalidImageReferenceError, match="image_digest must be 'sha256:'"):
        ContainerFunction(stack, "Tag", repository=arn, image_digest="v1")
    with pytest.raises(InvalidImageReferenceError, match="64 lowercase hex"):
        ContainerFunction(stack, "Short", repository=arn, image_digest="sha256:abc")


# --------------------------------------------------------------------------------------------
# CrossAccountImageRepo is an aws_ecr.Repository
# --------------------------------------------------------------------------------------------


def test_docker_image_code_from_ecr_keeps_the_policy_conditioned(world: World) -> None:
    repo = world.repos["shared"]
    assert isinstance(repo, ecr.Repository)
    assert repo.repository is repo
    statements = policy_of(world, "Registry")["Statement"]
    for statement in statements:
        principal = statement["Principal"]
        if "Service" in principal:
            assert "Condition" in statement, statement
    service = next(s for s in statements if s["Principal"] == {"Service": "lambda.amazonaws.com"})
    assert service["Action"] == PULL
    arns = service["Condition"]["StringLike"]["aws:SourceArn"]
    # from_ecr's grant: this account's functions (the repository's own), nothing unconditioned.
    assert f"arn:aws:lambda:{REGION}:{REGISTRY}:function:*" in arns
    codebuild = next(
        s for s in statements if s["Principal"] == {"Service": "codebuild.amazonaws.com"}
    )
    assert codebuild["Condition"] == {"StringEquals": {"aws:SourceAccount": REGISTRY}}
    uri = cdk.Stack.of(repo).resolve(repo.repository_uri_for_digest(DIGEST))
    assert json.dumps(uri).endswith(f'@{DIGEST}"]]}}')


# --------------------------------------------------------------------------------------------
# Stages (CDK Pipelines)
# --------------------------------------------------------------------------------------------


def test_a_function_in_another_stage_registers_without_a_cross_stage_dependency(
    world: World,
) -> None:
    repo = world.repos["staged"]
    staged_policy = cdk.Stack.of(repo).resolve(repo.node.default_child.repository_policy_text)  # type: ignore[union-attr]
    by_sid = {s["Sid"]: s for s in staged_policy["Statement"]}
    assert by_sid["CrossAccountPermission"]["Principal"] == {"AWS": f"arn:aws:iam::{WORKLOAD}:root"}
    assert (
        by_sid["LambdaECRImageCrossAccountRetrievalPolicy"]["Condition"]["StringLike"][
            "aws:SourceArn"
        ]
        == f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:staged"
    )
    fn = world.functions["staged"]
    infos = [str(m.data) for m in fn.node.metadata if m.type == "aws:cdk:info"]
    assert any("another Stage" in i and "deploy the repository's stage first" in i for i in infos)
    assert cdk.Stack.of(fn).dependencies == []
    uri = json.dumps(_image_uri(world, "staged"))
    assert f"{REGISTRY}.dkr.ecr.{REGION}." in uri and "/shared/staged:v1" in uri


def test_arn_of_a_repository_managed_in_this_app_is_said_so(world: World) -> None:
    fn = world.functions["by_arn"]
    infos = [str(m.data) for m in fn.node.metadata if m.type == "aws:cdk:info"]
    (info,) = [i for i in infos if "passed by ARN" in i]
    assert "CrossAccountImageRepo Registry/Images" in info
    assert "not managed by" not in info


# --------------------------------------------------------------------------------------------
# Errors, required_repository_policy
# --------------------------------------------------------------------------------------------


def test_errors_carry_the_construct_path_and_every_class() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY, "eu-west-1"))
    repo = CrossAccountImageRepo(registry, "Images", repository_name="rr")
    stack = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    for id in ("One", "Two"):
        with pytest.raises(EcrLambdaAccessError) as caught:
            ContainerFunction(
                stack, id, repository=repo, tag_or_digest="bad tag!", function_name="bad name"
            )
        error = caught.value
        assert error.construct_path == f"Workload/{id}"
        assert str(error).startswith(f"[Workload/{id}] 3 problems")
        assert isinstance(error, InvalidImageReferenceError)
        assert isinstance(error, InvalidFunctionNameError)
        assert isinstance(error, RegionMismatchError)


def test_options_that_cannot_apply_to_an_image_are_refused_with_the_reason() -> None:
    stack = cdk.Stack(new_app(), "S", env=env(WORKLOAD))
    arn = f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/x"
    with pytest.raises(EcrLambdaAccessError) as caught:
        ContainerFunction(
            stack,
            "Fn",
            repository=arn,
            tag_or_digest="v1",
            snap_start=lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS,
            insights_version=lambda_.LambdaInsightsVersion.VERSION_1_0_229_0,
            initial_policy=[iam.PolicyStatement(actions=["ecr:*"], resources=["*"])],
        )
    message = str(caught.value)
    assert "snap_start is not supported" in message
    assert "insights_version needs role=" in message
    assert "initial_policy[0] grants ['ecr:*']" in message


def test_an_ecr_action_added_to_the_role_later_fails_synth() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env(WORKLOAD))
    fn = ContainerFunction(
        stack, "Fn", repository=f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/x", image_digest=DIGEST
    )
    # fn.add_to_role_policy raises at once (test_adoption.py); the role itself is checked at synth
    assert fn.role is not None
    fn.role.add_to_principal_policy(
        iam.PolicyStatement(actions=["ecr:BatchGetImage"], resources=["*"])
    )
    with pytest.raises(RuntimeError, match="never needs an ecr: action") as caught:
        app.synth()
    assert str(caught.value).count("S/Fn]") == 1


def test_required_repository_policy_has_no_token_text() -> None:
    app = new_app()
    agnostic = cdk.Stack(app, "Agnostic")
    fn = ContainerFunction(
        agnostic,
        "Fn",
        repository="arn:aws-cn:ecr:cn-north-1:111111111111:repository/x",
        image_digest=DIGEST,
        function_name="fn",
    )
    text = json.dumps(fn.required_repository_policy())
    assert "${Token[" not in text
    # The Region (and so the partition) comes from the repository ARN; the account is unknown.
    assert "arn:aws-cn:lambda:cn-north-1:${AWS::AccountId}:function:fn" in text
    china = cdk.Stack(app, "China", env=cdk.Environment(account=WORKLOAD, region="cn-north-1"))
    fn = ContainerFunction(
        china,
        "Fn",
        repository="arn:aws-cn:ecr:cn-north-1:111111111111:repository/x",
        image_digest=DIGEST,
        function_name="fn",
    )
    text = json.dumps(fn.required_repository_policy())
    assert "arn:aws-cn:lambda:cn-north-1:222222222222:function:fn" in text
    assert "arn:aws-cn:iam::222222222222:root" in text


def test_consumers_added_after_the_registry_stage_was_synthesized_are_refused() -> None:
    app = new_app()
    registry = RegistryStage(app, "RegistryStage")
    registry.synth()  # what pipeline.add_stage(registry) does
    with pytest.raises(EcrLambdaAccessError, match="before adding the repository's stage"):
        WorkloadStage(app, "WorkloadStage", registry.images)


def test_retention_table_matches_cdk() -> None:
    from ecr_lambda_access.function import _RETENTION_DAYS

    stack = cdk.Stack(new_app(), "S")
    for index, retention in enumerate(logs.RetentionDays):
        group = logs.LogGroup(stack, f"G{index}", retention=retention)
        cfn = group.node.default_child
        assert isinstance(cfn, logs.CfnLogGroup)
        assert _RETENTION_DAYS.get(retention.name) == cfn.retention_in_days, retention


def test_without_the_cdk_managed_log_group_flag_a_log_group_is_wired_by_logging_config() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env(WORKLOAD))
    stack.node.set_context("@aws-cdk/aws-lambda:useCdkManagedLogGroup", False)
    fn = ContainerFunction(
        stack,
        "Fn",
        repository=f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/x",
        image_digest=DIGEST,
        logging_format=lambda_.LoggingFormat.JSON,
        log_retention=logs.RetentionDays.ONE_WEEK,
    )
    assert fn.log_group.node.path == "S/Fn/LogGroup"
    template = app.synth().get_stack_by_name("S").template["Resources"]
    (group_id,) = [k for k, r in template.items() if r["Type"] == "AWS::Logs::LogGroup"]
    assert "LogGroupName" not in template[group_id]["Properties"]
    assert template[group_id]["Properties"]["RetentionInDays"] == 7
    function = template[stack.get_logical_id(fn.node.default_child)]
    assert function["Properties"]["LoggingConfig"] == {
        "LogFormat": "JSON",
        "LogGroup": {"Ref": group_id},
    }
    assert not any(r["Type"] == "Custom::LogRetention" for r in template.values())
    statements = [
        s
        for r in template.values()
        if r["Type"] == "AWS::IAM::Policy"
        for s in r["Properties"]["PolicyDocument"]["Statement"]
    ]
    logs_statement = next(s for s in statements if "logs:PutLogEvents" in s["Action"])
    assert logs_statement["Resource"] == {"Fn::GetAtt": [group_id, "Arn"]}


def test_every_docker_image_function_prop_is_an_argument_and_documented() -> None:
    import inspect

    from support import ROOT

    props = {
        name
        for name in inspect.signature(lambda_.DockerImageFunctionProps.__init__).parameters
        if name != "self"
    }
    arguments = set(inspect.signature(ContainerFunction.__init__).parameters)
    assert props - arguments == {"code"}  # replaced by repository + tag_or_digest/image_digest
    guide = (ROOT / "docs" / "constructs.md").read_text()
    table = guide.split("Every `DockerImageFunctionProps` argument and what happens to it:")[1]
    table = table.split("\n\n")[1]
    assert {name for name in props if f"`{name}`" not in table} == set()
