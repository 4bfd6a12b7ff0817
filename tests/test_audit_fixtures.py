"""The audit on material nobody on this project wrote: aws-cdk's integration-test snapshots and the
CDK bootstrap template (tests/fixtures/README.md names their sources and licences), assembled
into cloud assemblies with nested stacks, a stage assembly and a YAML template, and mutations of
them. The manifests are ours (integ snapshots do not always carry one)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecr_lambda_access.audit import audit_assembly
from ecr_lambda_access.audit.load import read_template

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BOOTSTRAP = FIXTURES / "bootstrap" / "bootstrap-template.yaml"
DOCKER = FIXTURES / "aws-cdk" / "lambda-docker" / "lambda-ecr-docker.template.json"
ECR_BASIC = FIXTURES / "aws-cdk" / "ecr-basic" / "aws-ecr-integ-stack.template.json"
NESTED = FIXTURES / "aws-cdk" / "nested-stack"
ACCOUNT, OTHER, REGION = "111111111111", "222222222222", "eu-west-1"


def artifact(template_file: str, environment: str) -> dict[str, Any]:
    return {
        "type": "aws:cloudformation:stack",
        "environment": environment,
        "properties": {"templateFile": template_file},
    }


def manifest(directory: Path, artifacts: dict[str, Any]) -> None:
    (directory / "manifest.json").write_text(
        json.dumps({"version": "52.0.0", "artifacts": artifacts})
    )


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    """The real templates as one assembly: the bootstrap stack (YAML) of ACCOUNT, the docker
    integ stack in ACCOUNT and (a stage) in OTHER and env-agnostic, the ECR integ stack, and the
    nested-stack integ app whose nested stack also runs the docker function."""
    out = tmp_path / "cdk.out"
    out.mkdir()
    shutil.copy(BOOTSTRAP, out / "CDKToolkit.template.yaml")
    shutil.copy(DOCKER, out / "lambda-ecr-docker.template.json")
    shutil.copy(DOCKER, out / "lambda-ecr-docker-agnostic.template.json")
    shutil.copy(ECR_BASIC, out / "aws-ecr-integ-stack.template.json")
    for file in NESTED.iterdir():
        shutil.copy(file, out / file.name)
    # a mutation: the nested stack also runs the docker integ's image function
    nested = out / "nestedstackstestNestedStack1C289F6D5.nested.template.json"
    data = json.loads(nested.read_text())
    docker = json.loads(DOCKER.read_text())["Resources"]["MyLambdaCCE802FB"]
    data["Resources"]["ImageFn"] = docker
    nested.write_text(json.dumps(data, indent=1))
    stage = out / "assembly-Prod"
    stage.mkdir()
    shutil.copy(DOCKER, stage / "ProdDocker.template.json")
    manifest(stage, {"ProdDocker": artifact("ProdDocker.template.json", f"aws://{OTHER}/{REGION}")})
    env = f"aws://{ACCOUNT}/{REGION}"
    manifest(
        out,
        {
            "CDKToolkit": artifact("CDKToolkit.template.yaml", env),
            "lambda-ecr-docker": artifact("lambda-ecr-docker.template.json", env),
            "lambda-ecr-docker-agnostic": artifact(
                "lambda-ecr-docker-agnostic.template.json", "aws://unknown-account/unknown-region"
            ),
            "aws-ecr-integ-stack": artifact("aws-ecr-integ-stack.template.json", env),
            "nested-stacks-test": artifact("nested-stacks-test.template.json", env),
            "assembly-Prod": {
                "type": "cdk:cloud-assembly",
                "properties": {"directoryName": "assembly-Prod", "displayName": "Prod"},
            },
        },
    )
    return out


def templates(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.rglob("*")):
        if path.name.endswith((".template.json", ".template.yaml")):
            yield path


def image_functions(path: Path) -> list[str]:
    resources = read_template(path).get("Resources") or {}
    return [
        logical_id
        for logical_id, resource in resources.items()
        if resource.get("Type") == "AWS::Lambda::Function"
        and (resource.get("Properties") or {}).get("PackageType") == "Image"
    ]


def test_every_image_function_of_every_template_is_in_the_report(assembly: Path) -> None:
    expected = sorted(
        (str(path.resolve()), logical_id)
        for path in templates(assembly)
        for logical_id in image_functions(path)
    )
    report = audit_assembly(assembly)
    listed = sorted((str(Path(f.template_path).resolve()), f.logical_id) for f in report.functions)
    assert listed == expected
    assert len(expected) == 4  # top-level, env-agnostic, stage, nested
    assert not [f for f in report.findings if f.code == "unreadable-template"]


def test_verdicts_on_the_real_templates(assembly: Path) -> None:
    report = audit_assembly(assembly)
    by_template = {(Path(f.template_path).name, f.logical_id): f for f in report.functions}
    own = by_template[("lambda-ecr-docker.template.json", "MyLambdaCCE802FB")]
    nested = by_template[("nestedstackstestNestedStack1C289F6D5.nested.template.json", "ImageFn")]
    agnostic = by_template[("lambda-ecr-docker-agnostic.template.json", "MyLambdaCCE802FB")]
    # the bootstrap repository is in the assembly (the real template, read from YAML): its
    # own account's functions pass on its real policy
    assert own.status == "ok", own.detail
    assert nested.status == "ok", nested.detail
    assert own.repository == (
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/cdk-hnb659fds-container-assets-"
        f"{ACCOUNT}-{REGION}"
    )
    assert "customized bootstrap" not in own.detail  # its policy was read, not assumed
    # env-agnostic: the image is its own environment's bootstrap repository
    assert agnostic.status == "ok", agnostic.detail
    # the stage in OTHER uses OTHER's bootstrap repository, not in the assembly: assumed policy
    (stage,) = [f for f in report.functions if f.stack.startswith("ProdDocker")]
    assert stage.status == "ok" and "customized bootstrap" in stage.detail


def test_the_ecr_integ_repository_open_to_every_account_is_an_error(assembly: Path) -> None:
    report = audit_assembly(assembly)
    found = [(f.code, f.logical_id) for f in report.findings if f.code == "any-account"]
    assert found == [("any-account", "Repo02AC86CF")]


def test_bootstrap_policy_without_its_lambda_statement_fails_the_function(
    assembly: Path,
) -> None:
    # aws/aws-cdk#18473: the bootstrap repository with its Lambda statement removed
    path = assembly / "CDKToolkit.template.yaml"
    text = path.read_text()
    start = text.index("          - Sid: LambdaECRImageRetrievalPolicy")
    end = text.index("          # Necessary for EMR Serverless")
    path.write_text(text[:start] + text[end:])
    report = audit_assembly(assembly)
    own = [
        f
        for f in report.functions
        if Path(f.template_path).name == "lambda-ecr-docker.template.json"
    ]
    assert [f.status for f in own] == ["missing-service-grant"]


def test_function_of_another_account_in_the_bootstrap_repository_is_missing_root(
    assembly: Path,
) -> None:
    path = assembly / "assembly-Prod" / "ProdDocker.template.json"
    data = json.loads(path.read_text())
    code = data["Resources"]["MyLambdaCCE802FB"]["Properties"]["Code"]
    code["ImageUri"] = (
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/cdk-hnb659fds-container-assets-{ACCOUNT}-"
        f"{REGION}:768d7b6c1d41b85135f498fe0cca69fea410be3c3322c69cf08690aaad29a610"
    )
    path.write_text(json.dumps(data))
    report = audit_assembly(assembly)
    (stage,) = [f for f in report.functions if f.stack.startswith("ProdDocker")]
    assert stage.status == "missing-root-grant", stage.detail


def test_the_bootstrap_template_reads_as_cloudformation() -> None:
    template = read_template(BOOTSTRAP)
    repository = template["Resources"]["ContainerAssetsRepository"]["Properties"]
    assert repository["RepositoryName"]["Fn::If"][0] == "HasCustomContainerAssetsRepositoryName"
    assert repository["RepositoryPolicyText"]["Version"] == "2012-10-17"  # a string, not a date
