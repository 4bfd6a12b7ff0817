"""ImagePullAuditStep: what it installs and runs, where its report goes, and its errors."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import CfnWaitConditionHandle, Environment, Stack, Stage, pipelines
from aws_cdk import aws_codebuild as codebuild
from aws_cdk.assertions import Template
from support import new_app

from ecr_lambda_access import EcrLambdaAccessError, ImagePullAuditStep, __version__
from ecr_lambda_access.pipelines import InvalidAuditStepError

TOOLS = Environment(account="444444444444", region="us-east-1")


def pipeline_with(make_step: Any) -> tuple[Stack, dict[str, Any]]:
    """A small pipeline whose first stage runs the step first; its template and the build spec."""
    app = new_app()
    tools = Stack(app, "Tools", env=TOOLS)
    source = pipelines.CodePipelineSource.connection(
        "example-org/app",
        "main",
        connection_arn="arn:aws:codeconnections:us-east-1:444444444444:connection/"
        "00000000-0000-0000-0000-000000000000",
    )
    pipeline = pipelines.CodePipeline(
        tools, "Pipeline", synth=pipelines.ShellStep("Synth", input=source, commands=["make synth"])
    )
    stage = Stage(tools, "App", env=TOOLS)
    CfnWaitConditionHandle(Stack(stage, "Workload"), "Placeholder")
    pipeline.add_stage(stage, pre=[make_step(pipeline)])
    template = Template.from_stack(tools).to_json()
    (spec,) = [
        build_spec(r["Properties"]["Source"]["BuildSpec"])
        for r in template["Resources"].values()
        if r["Type"] == "AWS::CodeBuild::Project"
        and "ecr_lambda_access" in json.dumps(r["Properties"]["Source"]["BuildSpec"])
    ]
    return tools, {"template": template, "spec": spec}


def token_text(token: Any) -> str:
    return "<TOKEN " + re.sub(r"[^A-Za-z0-9:.]", "", json.dumps(token)) + ">"


def build_spec(value: Any) -> dict[str, Any]:
    """The build spec; in an ``Fn::Join`` (a token inside) each token is ``<TOKEN ...>``."""
    if isinstance(value, dict):
        separator, parts = value["Fn::Join"]
        value = separator.join(p if isinstance(p, str) else token_text(p) for p in parts)
    return json.loads(value)  # type: ignore[no-any-return]


def test_step_with_an_owned_report_group_reports_there_and_may_write_to_it() -> None:
    groups: list[codebuild.ReportGroup] = []

    def make(pipeline: pipelines.CodePipeline) -> ImagePullAuditStep:
        group = codebuild.ReportGroup(Stack.of(pipeline), "Reports")
        groups.append(group)
        return ImagePullAuditStep(
            "Audit",
            input=pipeline.synth,
            report_group=group,
            organization_id="o-abcdefghij",
            package_spec="ecr-lambda-access @ https://example.com/ecr_lambda_access.whl",
            python="python3.12",
        )

    tools, built = pipeline_with(make)
    spec = built["spec"]
    (key,) = spec["reports"]
    logical_id = tools.get_logical_id(groups[0].node.default_child)
    assert key.startswith("<TOKEN") and logical_id in key, key
    assert spec["reports"][key] == {"files": ["image-pull-audit.xml"], "file-format": "JUNITXML"}
    assert spec["phases"]["install"]["commands"] == [
        "python3.12 -m pip install --disable-pip-version-check --no-deps "
        "'ecr-lambda-access @ https://example.com/ecr_lambda_access.whl'"
    ]
    assert spec["phases"]["build"]["commands"] == [
        "python3.12 -m ecr_lambda_access audit . --format junit --output image-pull-audit.xml "
        "--organization-id o-abcdefghij"
    ]
    policies = [
        r["Properties"]["PolicyDocument"]["Statement"]
        for r in built["template"]["Resources"].values()
        if r["Type"] == "AWS::IAM::Policy"
    ]
    writes = [
        s
        for statements in policies
        for s in statements
        if "codebuild:BatchPutTestCases" in s["Action"] and "Reports" in json.dumps(s["Resource"])
    ]
    assert len(writes) == 1 and "Reports" in json.dumps(writes[0]["Resource"])


def test_default_step_installs_this_version_without_dependencies() -> None:
    step = ImagePullAuditStep("Audit", input=pipelines.FileSet("Assembly"))
    assert step.package_spec == f"ecr-lambda-access=={__version__}"
    assert step.install_commands == [
        "python3 -m pip install --disable-pip-version-check --no-deps "
        f"ecr-lambda-access=={__version__}"
    ]
    assert step.commands == [step.audit_command]
    assert step.audit_command == (
        "python3 -m ecr_lambda_access audit . --format junit --output image-pull-audit.xml"
    )


def test_every_bad_argument_is_reported_in_one_error() -> None:
    with pytest.raises(EcrLambdaAccessError) as raised:
        ImagePullAuditStep(
            "Audit",
            input=pipelines.FileSet("Assembly"),
            organization_id="r-abcd",
            report_group="no spaces allowed",
            report_file="/tmp/report.json",
            assembly_directory="/abs",
            package_spec=" ",
        )
    violations = raised.value.violations
    assert len(violations) == 5, violations
    for argument in ("organization_id", "report_group", "report_file", "assembly_directory"):
        assert any(v.startswith(argument) for v in violations), argument
    assert "'no spaces allowed'" in str(raised.value) and "'/tmp/report.json'" in str(raised.value)


def test_a_single_bad_argument_raises_the_step_error() -> None:
    with pytest.raises(InvalidAuditStepError, match="report_file must be a relative path"):
        ImagePullAuditStep("Audit", input=pipelines.FileSet("Assembly"), report_file="out.txt")
