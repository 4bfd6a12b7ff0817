"""Adopting the library in a deployed app replaces nothing, and ``ecr-lambda-access diff`` says so.

The "before" app is what teams deploy without the library: an ``aws_ecr.Repository`` and
``aws_lambda.DockerImageFunction``s (one named, one named by CloudFormation) in a registry
account, and a function in a workload account. The "after" apps are docs/adoption.md's port of
it. ``diff`` compares the synthesized assemblies: every watched resource (repository, functions,
log groups, roles) keeps its logical id, and no property whose change makes CloudFormation
replace it changes. The pure comparison is tested on small hand-written templates below.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from support import DIGEST, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo, ImagePullPolicy
from ecr_lambda_access.audit.load import StackTemplate
from ecr_lambda_access.cli import main
from ecr_lambda_access.diff import REPLACEMENT_PROPERTIES, diff_assemblies, diff_stacks

LOG_FLAG = "@aws-cdk/aws-lambda:useCdkManagedLogGroup"


def before(app: cdk.App) -> list[cdk.Stack]:
    """What teams deploy without the library."""
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = ecr.Repository(registry, "Images", repository_name="shared/orders")
    lambda_.DockerImageFunction(
        registry,
        "Indexer",
        code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST),
        function_name="orders-indexer",
    )
    lambda_.DockerImageFunction(
        registry,
        "Cleaner",  # named by CloudFormation
        code=lambda_.DockerImageCode.from_ecr(images, tag_or_digest=DIGEST),
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    imported = ecr.Repository.from_repository_attributes(
        workload,
        "Images",
        repository_arn=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        repository_name="shared/orders",
    )
    lambda_.DockerImageFunction(
        workload,
        "Worker",
        code=lambda_.DockerImageCode.from_ecr(imported, tag_or_digest=DIGEST),
        function_name="orders-worker",
    )
    return [registry, workload]


def after(app: cdk.App, *, keep_generated_name: bool = True) -> list[cdk.Stack]:
    """The README's migration, step for step."""
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(
        registry,
        "Images",  # same construct id: same logical id
        repository_name="shared/orders",  # same physical name
        consumers=[WORKLOAD],
    )
    ContainerFunction(
        registry, "Indexer", repository=images, image_digest=DIGEST, function_name="orders-indexer"
    )
    ContainerFunction(
        registry,
        "Cleaner",
        repository=images,
        image_digest=DIGEST,
        cloudformation_generated_name=keep_generated_name,  # keep CloudFormation's name
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    ContainerFunction(
        workload,
        "Worker",
        repository=images,  # the object: the workload registers itself on the registry
        image_digest=DIGEST,
        function_name="orders-worker",
    )
    return [registry, workload]


def after_keeping_the_repository(app: cdk.App) -> list[cdk.Stack]:
    """The other way in: keep the ecr.Repository, give it the library's pull policy."""
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    images = ecr.Repository(registry, "Images", repository_name="shared/orders")
    ImagePullPolicy(registry, "ImagesPullPolicy", repository=images, consumers=[WORKLOAD])
    ContainerFunction(
        registry, "Indexer", repository=images, image_digest=DIGEST, function_name="orders-indexer"
    )
    ContainerFunction(
        registry,
        "Cleaner",
        repository=images,
        image_digest=DIGEST,
        cloudformation_generated_name=True,
    )
    workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
    ContainerFunction(
        workload,
        "Worker",
        repository=images,
        image_digest=DIGEST,
        function_name="orders-worker",
    )
    return [registry, workload]


def synth(build: Any, directory: Path, **kwargs: Any) -> str:
    app = new_app(directory)
    build(app, **kwargs)
    app.synth()
    return str(directory)


@pytest.fixture(scope="module")
def assemblies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The app before, and ported three ways (synthesized once for the module)."""
    root = tmp_path_factory.mktemp("migration")
    return {
        "before": synth(before, root / "before"),
        "after": synth(after, root / "after"),
        "keeping": synth(after_keeping_the_repository, root / "keeping"),
        "named": synth(after, root / "named", keep_generated_name=False),
    }


def run(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.mark.synth
@pytest.mark.parametrize("port", ["after", "keeping"])
def test_adopting_the_library_replaces_nothing_and_diff_says_so(
    port: str, assemblies: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    diff = diff_assemblies(assemblies["before"], assemblies[port])
    assert diff.failing == []
    assert diff.of("added") == [] and diff.of("removed") == []
    found = sorted((c.type, c.change) for c in diff.changes)
    # every resource of the old app is there under its logical id, updated in place at most
    assert [kind for kind, _ in found] == sorted(
        ["AWS::ECR::Repository"]
        + ["AWS::Lambda::Function", "AWS::Logs::LogGroup", "AWS::IAM::Role"] * 3
    )
    assert {change for _, change in found} <= {"kept", "changed"}
    functions = [c for c in diff.changes if c.type == "AWS::Lambda::Function"]
    assert all("FunctionName" not in c.properties for c in functions)
    assert all(not c.notes for c in diff.changes)  # no log group moves either
    status, out, _ = run("diff", assemblies["before"], assemblies[port], capsys=capsys)
    assert status == 0
    assert "0 REPLACED, 0 REPLACED?, 0 added, 0 REMOVED: nothing is replaced" in out


@pytest.mark.synth
def test_a_port_without_cloudformation_generated_name_is_a_replacement_on_function_name(
    assemblies: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    diff = diff_assemblies(assemblies["before"], assemblies["named"])
    (replaced,) = diff.failing
    assert (replaced.type, replaced.change, replaced.replacing) == (
        "AWS::Lambda::Function",
        "replaced",
        ("FunctionName",),
    )
    assert replaced.path == "Registry/Cleaner"
    assert "cloudformation_generated_name=True" in replaced.notes[0]
    status, out, _ = run("diff", assemblies["before"], assemblies["named"], capsys=capsys)
    assert status == 1
    assert "REPLACED   AWS::Lambda::Function    Registry/Cleaner" in out
    assert '-> "Registry-Cleaner-' in out
    status, out, _ = run(
        "diff", assemblies["before"], assemblies["named"], "--allow-replacement",
        "--format", "json", capsys=capsys,
    )  # fmt: skip
    assert status == 0
    report = json.loads(out)
    assert report["summary"]["replaced"] == 1
    (entry,) = [r for r in report["resources"] if r["change"] == "replaced"]
    assert entry["replacing"] == ["FunctionName"] and entry["stack"] == "Registry"


@pytest.mark.synth
def test_without_the_cdk_managed_log_group_flag_diff_says_the_logs_move(
    assemblies: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A cdk.json without useCdkManagedLogGroup: DockerImageFunction logged to Lambda's
    /aws/lambda/<name>; ContainerFunction makes its own log group and points LoggingConfig at it.
    Nothing is replaced, but the logs move, and diff says so."""
    old_app = cdk.App(outdir=str(tmp_path / "old"), post_cli_context={LOG_FLAG: False})
    before(old_app)
    old_app.synth()
    new_app_ = cdk.App(outdir=str(tmp_path / "new"), post_cli_context={LOG_FLAG: False})
    after(new_app_)
    new_app_.synth()
    diff = diff_assemblies(tmp_path / "old", tmp_path / "new")
    moved = [c for c in diff.changes if any("logs move" in n for n in c.notes)]
    assert sorted(c.path for c in moved) == [
        "Registry/Cleaner", "Registry/Indexer", "Workload/Worker"
    ]  # fmt: skip
    assert all(c.change == "changed" and "LoggingConfig" in c.properties for c in moved)
    assert LOG_FLAG in moved[0].notes[0]
    assert len([c for c in diff.of("added") if c.type == "AWS::Logs::LogGroup"]) == 3
    status, out, _ = run("diff", str(tmp_path / "old"), str(tmp_path / "new"), capsys=capsys)
    assert status == 0 and "logs move" in out


# --------------------------------------------------------------------------------------------
# The comparison on hand-written templates (no jsii)
# --------------------------------------------------------------------------------------------


def stack(resources: dict[str, Any], name: str = "App") -> StackTemplate:
    return StackTemplate(
        artifact_id=name,
        stack_name=name,
        display_name=name,
        account="111111111111",
        region="us-east-1",
        template={"Resources": resources},
        template_path=f"/nowhere/{name}.template.json",
    )


def res(kind: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties}


def test_each_replacing_property_is_a_replacement_and_others_change_in_place() -> None:
    for kind, replacing in REPLACEMENT_PROPERTIES.items():
        for prop in replacing:
            diff = diff_stacks([stack({"R": res(kind)})], [stack({"R": res(kind, **{prop: "x"})})])
            (change,) = diff.changes
            assert (change.change, change.replacing) == ("replaced", (prop,)), (kind, prop)
        diff = diff_stacks(
            [stack({"R": res(kind, Tags=[])})], [stack({"R": res(kind, Tags=[{"Key": "a"}])})]
        )
        assert diff.changes[0].change == "changed"
    same = diff_stacks([stack({"R": res("AWS::IAM::Role", RoleName="r")})] * 1,
                       [stack({"R": res("AWS::IAM::Role", RoleName="r")})])  # fmt: skip
    assert same.changes[0].change == "kept"


def test_unwatched_types_are_left_out() -> None:
    diff = diff_stacks([stack({"T": res("AWS::SNS::Subscription", Endpoint="a")})],
                       [stack({"T": res("AWS::SNS::Subscription", Endpoint="b")})])  # fmt: skip
    assert diff.changes == ()


def test_a_deploy_time_name_is_maybe_replaced_and_a_type_change_is_replaced() -> None:
    old = {
        "Q": res("AWS::SQS::Queue", QueueName={"Fn::Join": ["", ["a", {"Ref": "AWS::Region"}]]}),
        "L": res("AWS::Logs::LogGroup"),
    }
    new = {
        "Q": res("AWS::SQS::Queue", QueueName={"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}]]}),
        "L": res("AWS::SQS::Queue"),
    }
    diff = diff_stacks([stack(old)], [stack(new)])
    assert [(c.logical_id, c.change, c.replacing) for c in diff.changes] == [
        ("Q", "maybe-replaced", ("QueueName",)),
        ("L", "replaced", ("Type",)),
    ]


def test_a_removed_resource_is_deleted_or_orphaned_and_a_logical_id_change_is_named() -> None:
    old = {
        "ImagesA1": {**res("AWS::ECR::Repository"), "DeletionPolicy": "Retain"},
        "Fn": res("AWS::Lambda::Function"),
    }
    new = {"ImagesB2": res("AWS::ECR::Repository")}
    diff = diff_stacks([stack(old)], [stack(new)])
    assert [(c.logical_id, c.change) for c in diff.changes] == [
        ("ImagesA1", "removed"), ("Fn", "removed"), ("ImagesB2", "added")
    ]  # fmt: skip
    repo, fn, _ = diff.changes
    assert "orphaned" in repo.notes[0] and "override_logical_id('ImagesA1')" in repo.notes[1]
    assert fn.notes == ("deleted by CloudFormation",)
    assert len(diff.failing) == 2


def test_stacks_match_by_name_account_and_region() -> None:
    old = [stack({"F": res("AWS::Lambda::Function")}, "A")]
    new = [stack({"F": res("AWS::Lambda::Function")}, "B")]
    diff = diff_stacks(old, new)
    assert [c.change for c in diff.changes] == ["removed", "added"]
    assert any("A (A) is not in NEW" in n for n in diff.notes)


def test_the_table_is_cloudformations_create_only_properties() -> None:
    """The replacement rules are CloudFormation's: the registry schemas' createOnlyProperties
    (as cfn-lint ships them) hold exactly the properties of the table."""
    cfnlint = pytest.importorskip("cfnlint")
    schemas = Path(cfnlint.__file__).parent / "data" / "schemas"
    names = json.loads((schemas / "providers" / "us-east-1.json").read_text())
    for kind, replacing in REPLACEMENT_PROPERTIES.items():
        schema = json.loads((schemas / "resources" / f"{names[kind]}.json").read_text())
        top = {p.split("/")[2] for p in schema.get("createOnlyProperties", [])}
        assert top == set(replacing), kind


def test_the_cli_says_usage_errors_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run("diff", str(tmp_path / "missing"), str(tmp_path), capsys=capsys)
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and "no such directory" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "manifest.json").write_text("{not json")
    status, _, err = run("diff", str(tmp_path / "bad"), str(tmp_path / "bad"), capsys=capsys)
    assert status == 2 and err.startswith("ecr-lambda-access: error:")
    with pytest.raises(SystemExit) as exited:
        main(["diff", str(tmp_path)])
    assert exited.value.code == 2 and "NEW_ASSEMBLY" in capsys.readouterr().err


def asset_app(app: cdk.App, *, ported: bool, image: Path) -> None:
    """The second shape that was ported: an environment-agnostic stack, a function built from a
    local Dockerfile, a role of its own, behind API Gateway."""
    stack = cdk.Stack(app, "Service")
    role = iam.Role(stack, "Runner", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    if ported:  # docs/adoption.md, "A function built from a local Dockerfile"
        asset = ecr_assets.DockerImageAsset(stack, "Image", directory=str(image))
        function: lambda_.Function = ContainerFunction(
            stack,
            "Api",
            repository=asset.repository,
            tag_or_digest=asset.image_tag,
            role=role,
            cloudformation_generated_name=True,
        )
    else:
        function = lambda_.DockerImageFunction(
            stack, "Api", code=lambda_.DockerImageCode.from_image_asset(str(image)), role=role
        )
    apigateway.LambdaRestApi(stack, "Gateway", handler=function)


@pytest.mark.synth
def test_an_image_asset_function_behind_api_gateway_ports_without_replacement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = tmp_path / "image"
    image.mkdir()
    (image / "Dockerfile").write_text("FROM public.ecr.aws/lambda/python:3.12\n")
    for name, ported in (("old", False), ("new", True)):
        app = new_app(tmp_path / name)
        asset_app(app, ported=ported, image=image)
        app.synth()
    diff = diff_assemblies(tmp_path / "old", tmp_path / "new")
    assert diff.failing == [] and diff.of("added") == []
    (function,) = [c for c in diff.changes if c.type == "AWS::Lambda::Function"]
    # Code is written differently (Fn::Join of the repository's parts, not one Fn::Sub) for the
    # same image URI: diff compares the values, not the spelling
    assert "Code" not in function.properties and function.replacing == ()
    assert "FunctionName" not in function.properties
    status, out, _ = run("diff", str(tmp_path / "old"), str(tmp_path / "new"), capsys=capsys)
    assert status == 0, out


def test_diff_imports_no_jsii() -> None:
    """`diff` runs in CI without the jsii kernel, like `audit`."""
    code = (
        "import sys; import ecr_lambda_access.cli, ecr_lambda_access.diff; "
        "sys.exit(int('jsii' in sys.modules or 'aws_cdk' in sys.modules))"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_one_value_spelled_as_fn_sub_or_fn_join_is_kept_and_another_is_changed() -> None:
    sub = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/r:${!x}"}
    join = {
        "Fn::Join": [
            ".",
            [
                {"Ref": "AWS::AccountId"},
                "dkr",
                {"Fn::Join": ["", ["ecr.", {"Ref": "AWS::Region"}]]},
                {"Fn::Join": ["", [{"Ref": "AWS::URLSuffix"}, "/r:${x}"]]},
            ],
        ]
    }
    other = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/r:y"}
    listed = {"Fn::Join": ["", {"Ref": "Parts"}]}  # not a literal list: left as written
    kind = "AWS::Lambda::Function"
    for old, new, change in (
        (sub, join, "kept"), (sub, other, "changed"), (listed, sub, "changed"),
        (listed, listed, "kept"),
    ):  # fmt: skip
        diff = diff_stacks(
            [stack({"F": res(kind, Code={"ImageUri": old})})],
            [stack({"F": res(kind, Code={"ImageUri": new})})],
        )
        assert diff.changes[0].change == change, (old, new)
    named = diff_stacks(
        [stack({"F": res(kind, FunctionName={"Fn::Sub": "f-${AWS::Region}"})})],
        [stack({"F": res(kind, FunctionName={"Fn::Join": ["-", ["f", {"Ref": "AWS::Region"}]]})})],
    )
    assert named.changes[0].change == "kept"
