"""The audit on assemblies synthesized with plain aws-cdk-lib (and one CrossAccountImageRepo).

One App with many stacks is synthesized once per module; each test audits that assembly (or one
of its stage assemblies) in-process or with the command line as a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from support import DIGEST, REGION, REGISTRY, WORKLOAD, WORKLOAD_2, env, new_app

from ecr_lambda_access import CrossAccountImageRepo, LambdaConsumer, cli
from ecr_lambda_access.audit import AuditReport, FunctionReport, audit_assembly

pytestmark = pytest.mark.synth

WEST = "us-west-2"
STRANGER = "444444444444"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def root_statement(*accounts: str) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="CrossAccountPermission",
        actions=PULL,
        principals=[iam.AccountPrincipal(a) for a in accounts],
    )


def service_statement(*source_arns: str, key: str = "aws:sourceARN") -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid="LambdaECRImageCrossAccountRetrievalPolicy",
        actions=PULL,
        principals=[iam.ServicePrincipal("lambda.amazonaws.com")],
        conditions={"StringLike": {key: list(source_arns)}} if source_arns else None,
    )


def functions_of(account: str, pattern: str = "*", region: str = REGION) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{pattern}"


def repo(stack: cdk.Stack, name: str, *statements: iam.PolicyStatement) -> ecr.Repository:
    repository = ecr.Repository(stack, name.replace("/", "-"), repository_name=name)
    for statement in statements:
        repository.add_to_resource_policy(statement)
    return repository


def image_function(
    stack: cdk.Stack,
    id: str,
    repository_arn: str,
    *,
    function_name: str | None = None,
    tag: str = "v1",
) -> lambda_.DockerImageFunction:
    imported = ecr.Repository.from_repository_arn(stack, f"{id}Repo", repository_arn)
    return lambda_.DockerImageFunction(
        stack,
        id,
        function_name=function_name,
        code=lambda_.DockerImageCode.from_ecr(imported, tag_or_digest=tag),
    )


def arn(name: str, account: str = REGISTRY, region: str = REGION) -> str:
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def build(outdir: Path) -> None:
    app = new_app(outdir=outdir)

    # -- the registry account: hand-written policies, right and wrong ------------------------
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    repo(
        registry, "shared/good", root_statement(WORKLOAD), service_statement(functions_of(WORKLOAD))
    )
    repo(registry, "shared/no-root", service_statement(functions_of(WORKLOAD)))
    repo(
        registry,
        "shared/wrong-source",
        root_statement(WORKLOAD),
        service_statement(functions_of(WORKLOAD_2)),
    )
    repo(registry, "shared/unconditioned", root_statement(WORKLOAD), service_statement())
    repo(
        registry,
        "shared/named",
        root_statement(WORKLOAD),
        service_statement(functions_of(WORKLOAD, "orders-*"), key="aws:SourceArn"),
    )
    # 120 accounts, each with a root and a source ARN: about 10,500 characters.
    many = [f"{n:012d}" for n in range(500000000000, 500000000120)]
    repo(
        registry,
        "shared/big",
        root_statement(WORKLOAD, *many),
        service_statement(functions_of(WORKLOAD), *(functions_of(a) for a in many)),
    )
    CrossAccountImageRepo(
        registry,
        "Library",
        repository_name="shared/library",
        consumers=[WORKLOAD, LambdaConsumer(account=WORKLOAD_2, function_name_prefix="billing-")],
    )
    west = cdk.Stack(app, "RegistryWest", env=env(REGISTRY, WEST))
    repo(
        west,
        "shared/west",
        root_statement(WORKLOAD),
        service_statement(functions_of(WORKLOAD, region=WEST)),
    )

    # -- the workload account ----------------------------------------------------------------
    consumer = cdk.Stack(app, "Consumer", env=env(WORKLOAD))
    image_function(consumer, "Good", arn("shared/good"), function_name="good-fn", tag=DIGEST)
    image_function(consumer, "NoRoot", arn("shared/no-root"), function_name="no-root")
    image_function(
        consumer, "WrongSource", arn("shared/wrong-source"), function_name="wrong-source"
    )
    image_function(consumer, "Unconditioned", arn("shared/unconditioned"), function_name="uncond")
    image_function(consumer, "Orders", arn("shared/named"), function_name="orders-api")
    image_function(consumer, "Billing", arn("shared/named"), function_name="billing-api")
    image_function(consumer, "Generated", arn("shared/named"))
    image_function(consumer, "West", arn("shared/west", region=WEST), function_name="west-fn")
    image_function(consumer, "External", arn("elsewhere", account=STRANGER), function_name="ext-fn")
    image_function(consumer, "Big", arn("shared/big"), function_name="big-fn")
    image_function(consumer, "Library", arn("shared/library"), tag="latest")
    with_role = image_function(consumer, "WithRole", arn("shared/good"), function_name="with-role")
    ecr.Repository.from_repository_arn(consumer, "Granted", arn("shared/good")).grant_pull(
        with_role
    )

    billing = cdk.Stack(app, "Billing", env=env(WORKLOAD_2))
    image_function(billing, "Api", arn("shared/library"), function_name="billing-api")
    image_function(billing, "Other", arn("shared/library"), function_name="reports")

    # -- env-agnostic --------------------------------------------------------------------------
    agnostic = cdk.Stack(app, "Agnostic")
    image_function(agnostic, "Imported", arn("shared/good"), function_name="agnostic-fn")
    own = ecr.Repository(agnostic, "Own")
    lambda_.DockerImageFunction(
        agnostic, "FromOwn", code=lambda_.DockerImageCode.from_ecr(own, tag_or_digest="v1")
    )

    # -- aws-cdk's documented pattern: from_ecr with a CfnParameter tag (Fn::If on IsDigest) ----
    params = cdk.Stack(app, "Params", env=env(REGISTRY))
    tag = cdk.CfnParameter(params, "Tag", type="String")
    lambda_.DockerImageFunction(
        params,
        "FromParameter",
        code=lambda_.DockerImageCode.from_ecr(
            ecr.Repository(params, "Own", repository_name="params/own"),
            tag_or_digest=tag.value_as_string,
        ),
    )

    # -- a function in a NestedStack, in a nested stack ------------------------------------------
    parent = cdk.Stack(app, "Parent", env=env(WORKLOAD))
    inner = cdk.NestedStack(cdk.NestedStack(parent, "Outer"), "Inner")
    image_function(inner, "Deep", arn("shared/no-root"), function_name="deep-fn")

    # -- a CDK Pipelines-like stage: its own assembly directory ----------------------------------
    prod = cdk.Stage(app, "Prod", env=env(WORKLOAD))
    service = cdk.Stack(prod, "Service")
    image_function(service, "Api", arn("shared/good"), function_name="prod-api")
    image_function(service, "Broken", arn("shared/no-root"), function_name="prod-broken")

    # -- a stage whose wiring is all correct (audited on its own: exit 0) ----------------------
    good = cdk.Stage(app, "Good")
    good_registry = cdk.Stack(good, "Registry", env=env(REGISTRY))
    repo(
        good_registry,
        "team/app",
        root_statement(WORKLOAD),
        service_statement(functions_of(WORKLOAD, "app-*")),
    )
    good_consumer = cdk.Stack(good, "Consumer", env=env(WORKLOAD))
    image_function(good_consumer, "App", arn("team/app"), function_name="app-api", tag=DIGEST)
    app.synth()


@pytest.fixture(scope="module")
def outdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("audit") / "cdk.out"
    build(directory)
    return directory


@pytest.fixture(scope="module")
def report(outdir: Path) -> AuditReport:
    return audit_assembly(outdir)


@pytest.fixture(scope="module")
def results(report: AuditReport) -> dict[str, FunctionReport]:
    return {f.function: f for f in report.functions}


def status(results: dict[str, FunctionReport], function: str) -> str:
    return results[function].status


def test_the_documented_pair_lets_the_function_pull(results: dict[str, FunctionReport]) -> None:
    good = results["Consumer/Good"]
    assert good.status == "ok", good.detail
    assert (good.account, good.region) == (WORKLOAD, REGION)
    assert good.repository == arn("shared/good")
    assert good.image == f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/good@{DIGEST}"
    assert good.tag_or_digest == DIGEST
    assert "CrossAccountPermission" in good.detail
    assert "LambdaECRImageCrossAccountRetrievalPolicy" in good.detail


def test_missing_root_grant(results: dict[str, FunctionReport]) -> None:
    result = results["Consumer/NoRoot"]
    assert result.status == "missing-root-grant"
    assert (
        f"the repository policy does not allow arn:aws:iam::{WORKLOAD}:root to ecr:BatchGetImage "
        "and ecr:GetDownloadUrlForLayer: add the account to the repository policy"
    ) in result.detail


def test_service_grant_for_another_account_is_missing(results: dict[str, FunctionReport]) -> None:
    result = results["Consumer/WrongSource"]
    assert result.status == "missing-service-grant"
    assert (
        "no statement allows lambda.amazonaws.com to pull with an aws:SourceArn matching "
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:wrong-source"
    ) in result.detail


def test_unconditioned_service_statement_pulls_but_is_a_confused_deputy(
    results: dict[str, FunctionReport], report: AuditReport
) -> None:
    assert status(results, "Consumer/Unconditioned") == "ok"
    (finding,) = [
        f
        for f in report.findings
        if f.code == "unconditioned-service-principal"
        and f.resource == "Registry/shared-unconditioned"
    ]
    assert finding.severity == "warning"
    assert "LambdaECRImageCrossAccountRetrievalPolicy" in finding.message
    assert "confused deputy" in finding.message


def test_source_arn_patterns_admit_only_matching_names(results: dict[str, FunctionReport]) -> None:
    assert status(results, "Consumer/Orders") == "ok"
    assert status(results, "Consumer/Billing") == "missing-service-grant"
    generated = results["Consumer/Generated"]
    assert generated.status == "missing-service-grant"
    assert generated.function_name is None
    assert "CloudFormation generates one" in generated.detail


def test_wrong_region(results: dict[str, FunctionReport]) -> None:
    result = results["Consumer/West"]
    assert result.status == "region-mismatch"
    assert f"the image is in {WEST} but the function runs in {REGION}" in result.detail
    assert result.repository == arn("shared/west", region=WEST)


def test_external_repository_says_what_its_owner_must_grant(
    results: dict[str, FunctionReport],
) -> None:
    result = results["Consumer/External"]
    assert result.status == "external"
    assert result.repository == arn("elsewhere", account=STRANGER)
    assert f"its owner must grant the root of account {WORKLOAD}" in result.detail
    assert [s["Sid"] for s in result.required_statements] == [
        "CrossAccountPermission",
        "LambdaECRImageCrossAccountRetrievalPolicy",
    ]
    assert result.required_statements[1]["Condition"] == {
        "StringLike": {"aws:SourceArn": functions_of(WORKLOAD, "ext-fn")}
    }


def test_policy_over_ecr_limit_is_an_error(
    results: dict[str, FunctionReport], report: AuditReport
) -> None:
    assert status(results, "Consumer/Big") == "ok"
    (big,) = [r for r in report.repositories if r.name == "shared/big"]
    assert big.policy_size > 10_240
    (finding,) = [f for f in report.findings if f.code == "policy-too-large"]
    assert finding.severity == "error"
    assert (
        f"the repository policy is {big.policy_size:,} characters, over ECR's limit of 10,240"
        in (finding.message)
    )


def test_cross_account_image_repo_consumers(
    results: dict[str, FunctionReport], report: AuditReport
) -> None:
    assert status(results, "Consumer/Library") == "ok"  # the whole account, generated name
    assert status(results, "Billing/Api") == "ok"  # billing-* of the second account
    assert status(results, "Billing/Other") == "missing-service-grant"
    (library,) = [r for r in report.repositories if r.name == "shared/library"]
    assert library.unconditioned_service_statements == ()
    assert set(library.consumers) == {"Consumer/Library", "Billing/Api", "Billing/Other"}
    latest = [f for f in report.findings if f.code == "ecr-lambda-access:latestTag"]
    assert [f.resource for f in latest] == ["Consumer/Library"]


def test_ecr_actions_on_the_execution_role_are_a_warning(report: AuditReport) -> None:
    roles = [f for f in report.findings if f.code == "execution-role-ecr-actions"]
    assert [f.resource for f in roles] == ["Consumer/WithRole/ServiceRole"]
    assert roles[0].severity == "warning"
    assert "ecr:BatchGetImage" in roles[0].message
    assert "the Lambda service pulls the image with the repository policy" in roles[0].message


def test_env_agnostic_stacks(results: dict[str, FunctionReport]) -> None:
    imported = results["Agnostic/Imported"]
    assert imported.status == "unverifiable"
    assert imported.account is None and imported.region is None
    assert "env-agnostic" in imported.detail
    # a repository of the same stack: same account and Region whatever they turn out to be
    assert status(results, "Agnostic/FromOwn") == "ok"


def test_pipeline_stage_functions_are_audited(results: dict[str, FunctionReport]) -> None:
    assert status(results, "Prod/Service/Api") == "ok"
    assert results["Prod/Service/Api"].stack == "Prod/Service"
    assert status(results, "Prod/Service/Broken") == "missing-root-grant"


def test_documented_from_ecr_with_a_parameter_tag_is_checked(
    results: dict[str, FunctionReport],
) -> None:
    checked = results["Params/FromParameter"]
    assert checked.status == "ok", checked.detail
    assert checked.repository == f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/params/own"


def test_functions_in_nested_stacks_are_audited(results: dict[str, FunctionReport]) -> None:
    (deep,) = [f for f in results.values() if f.function.endswith("Inner/Deep")]
    assert deep.status == "missing-root-grant"
    assert deep.template_path.endswith(".nested.template.json")
    assert deep.account == WORKLOAD


def test_every_function_is_reported(report: AuditReport) -> None:
    assert len(report.functions) == 21
    assert report.counts() == {
        "ok": 11,
        "missing-root-grant": 3,
        "missing-service-grant": 4,
        "region-mismatch": 1,
        "external": 1,
        "unverifiable": 1,
    }


def test_cli_exit_codes_and_json(outdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["audit", str(outdir), "--format", "json"]) == 1
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    entry = next(f for f in data["functions"] if f["function"] == "Consumer/NoRoot")
    assert {k: entry[k] for k in ("stack", "account", "region", "repository", "status")} == {
        "stack": "Consumer",
        "account": WORKLOAD,
        "region": REGION,
        "repository": arn("shared/no-root"),
        "status": "missing-root-grant",
    }
    assert entry["image"] == f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/no-root:v1"
    good = next(r for r in data["repositories"] if r["name"] == "shared/good")
    assert good["policy_limit"] == 10_240 and 0 < good["policy_size"] < 10_240
    assert set(good["consumers"]) >= {"Consumer/Good", "Prod/Service/Api"}
    assert data["summary"]["failed"] is True
    # the stage with correct wiring passes, also strictly
    stage = outdir / "assembly-Good"
    assert cli.main(["audit", str(stage)]) == 0
    text = capsys.readouterr().out
    assert "Good/Consumer/App" in text and "passed: 1 function(s): 1 ok" in text
    assert cli.main(["audit", str(stage), "--strict"]) == 0
    capsys.readouterr()


def test_strict_fails_on_external_and_unverifiable(tmp_path: Path, outdir: Path) -> None:
    # Only the external and env-agnostic stacks: passes, fails with --strict.
    manifest = json.loads((outdir / "manifest.json").read_text())
    keep = {"Agnostic", "Agnostic.assets"}
    manifest["artifacts"] = {k: v for k, v in manifest["artifacts"].items() if k in keep}
    for name in ("Agnostic.template.json", "Agnostic.metadata.json"):
        (tmp_path / name).write_text((outdir / name).read_text())
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    command = [sys.executable, "-m", "ecr_lambda_access", "audit", str(tmp_path)]
    lenient = subprocess.run(command, capture_output=True, text=True, check=False)
    assert lenient.returncode == 0, lenient.stdout + lenient.stderr
    assert "1 image(s) could not be checked: --strict fails on them" in lenient.stdout
    strict = subprocess.run([*command, "--strict"], capture_output=True, text=True, check=False)
    assert strict.returncode == 1
    assert "FAILED" in strict.stdout and "Agnostic/Imported" in strict.stdout
