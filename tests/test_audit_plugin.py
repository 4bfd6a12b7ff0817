"""ImagePullChecks: the audit as a CDK validation plugin fails `cdk synth` on a bad wiring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from support import DIGEST, REGION, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import ImagePullChecks, InvalidOrganizationIdError

pytestmark = pytest.mark.synth

PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def app_with(outdir: Path, *, root_grant: bool, tag: str) -> cdk.App:
    app = new_app(outdir=outdir)
    cdk.Validations.of(app).add_plugins(ImagePullChecks())
    registry = cdk.Stack(app, "Registry", env=env(REGISTRY))
    repository = ecr.Repository(registry, "Repo", repository_name="shared/app")
    if root_grant:
        repository.add_to_resource_policy(
            iam.PolicyStatement(actions=PULL, principals=[iam.AccountPrincipal(WORKLOAD)])
        )
    repository.add_to_resource_policy(
        iam.PolicyStatement(
            actions=PULL,
            principals=[iam.ServicePrincipal("lambda.amazonaws.com")],
            conditions={
                "StringLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:*"}
            },
        )
    )
    stage = cdk.Stage(app, "Prod", env=env(WORKLOAD))  # as CDK Pipelines deploys it
    service = cdk.Stack(stage, "Service")
    imported = ecr.Repository.from_repository_arn(
        service, "Shared", f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/app"
    )
    lambda_.DockerImageFunction(
        service,
        "Api",
        function_name="api",
        code=lambda_.DockerImageCode.from_ecr(imported, tag_or_digest=tag),
    )
    return app


def plugin_report(outdir: Path) -> dict[str, Any]:
    data = json.loads((outdir / "validation-report.json").read_text())
    (report,) = [r for r in data["pluginReports"] if r["pluginName"] == "ecr-lambda-access"]
    return report  # type: ignore[no-any-return]


def test_plugin_fails_synth_on_a_missing_root_grant(tmp_path: Path) -> None:
    app = app_with(tmp_path, root_grant=False, tag=DIGEST)
    with pytest.raises(RuntimeError, match="ValidationFailed") as failure:
        app.synth()
    assert "Acknowledge with 'ecr-lambda-access::missing-root-grant'" in str(failure.value)
    report = plugin_report(tmp_path)
    assert report["conclusion"] == "failure"
    (violation,) = report["violations"]
    assert violation["ruleName"] == "missing-root-grant"
    assert violation["severity"] == "error"
    assert violation["description"] == (
        "Prod/Service/Api: the repository policy does not admit the function's account "
        "(root principal)"
    )
    assert f"does not allow arn:aws:iam::{WORKLOAD}:root" in violation["suggestedFix"]
    (construct,) = violation["violatingConstructs"]
    assert construct["constructPath"] == "Prod/Service/Api/Resource"
    assert construct["cloudFormationResource"]["propertyPaths"] == ["Properties.Code.ImageUri"]


def test_plugin_passes_a_correct_wiring_and_reports_warnings(tmp_path: Path) -> None:
    app = app_with(tmp_path, root_grant=True, tag="latest")
    app.synth()  # does not raise
    report = plugin_report(tmp_path)
    assert report["conclusion"] == "success"
    assert [(v["ruleName"], v["severity"]) for v in report["violations"]] == [
        ("ecr-lambda-access:latestTag", "warning")
    ]


def test_plugin_rejects_a_bad_organization_id() -> None:
    with pytest.raises(InvalidOrganizationIdError, match="o-\\[a-z0-9\\]"):
        ImagePullChecks(organization_id="r-abcd")
    assert ImagePullChecks().name == "ecr-lambda-access"
    assert "missing-root-grant" in (ImagePullChecks().rule_ids or [])


def test_the_plugin_reads_each_template_once_and_the_model_reads_each_image_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What CDK hands the plugin (template paths, environments) goes through the loader once and
    the model once: each file is read one time, each image URI parsed one time (by the model),
    and the violations come from the report alone. No synth: a hand-written assembly."""
    from types import SimpleNamespace

    from test_audit_unit import function, write_assembly

    from ecr_lambda_access.audit import load
    from ecr_lambda_access.registry import image_ref

    fips = f"{REGISTRY}.dkr.ecr-fips.{REGION}.amazonaws.com/shared/orders:v1"
    external = f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/orders@{DIGEST}"
    out = write_assembly(
        tmp_path / "out",
        {
            "A": (f"aws://{WORKLOAD}/{REGION}", {"Resources": {"Fips": function(fips, "a")}}),
            "B": (f"aws://{WORKLOAD}/{REGION}", {"Resources": {"Ext": function(external, "b")}}),
        },
    )
    reads: list[str] = []
    parses: list[object] = []
    read = load.read_regular_text
    parse = image_ref.ImageRef.parse.__func__  # type: ignore[attr-defined]

    def counted_read(path: Path, *args: Any, **kwargs: Any) -> str:
        reads.append(Path(path).name)
        return read(path, *args, **kwargs)

    def counted_parse(cls: type, uri: object) -> Any:
        parses.append(uri)
        return parse(cls, uri)

    monkeypatch.setattr(load, "read_regular_text", counted_read)
    monkeypatch.setattr(image_ref.ImageRef, "parse", classmethod(counted_parse))
    context = SimpleNamespace(
        template_paths=[str(out / "A.template.json"), str(out / "B.template.json")],
        stack_templates=[],
    )
    report = ImagePullChecks().validate(context)  # type: ignore[arg-type]
    assert sorted(reads) == ["A.template.json", "B.template.json", "manifest.json"]
    assert sorted(map(str, parses)) == sorted([fips, external])
    assert report.success is False
    rules = sorted((v.rule_name, v.severity) for v in report.violations)
    assert rules == [("external", "warning"), ("unsupported-image", "error")]
