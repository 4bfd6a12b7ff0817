"""The examples (what `make synth` builds): they synthesize, scan clean and wire accounts right.

One synth of the whole example app (with the cdk-nag packs attached) serves every test here,
plus one run of the real, pinned `cdk synth` CLI.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import (
    CDK_CONTEXT,
    ROOT,
    acknowledgements,
    assert_checkov_clean,
    cfn_lint,
    checkov,
    describe,
    new_app,
    synth_with_nag,
)

import app as example_app
from examples import foreign_repository
from examples.settings import EXAMPLE_DIGEST

REGISTRY = CDK_CONTEXT["registry_account"]
WORKLOAD = CDK_CONTEXT["workload_account"]
WORKLOAD_2 = CDK_CONTEXT["second_workload_account"]
TOOLS = CDK_CONTEXT["tools_account"]
REGION = CDK_CONTEXT["region"]

TOP_LEVEL_APPLICATION_STACKS = [
    "SameAccount",
    "Registry",
    "Workload",
    "Workload2",
    "ForeignRepository",
]
MULTI_REGION_STACKS = [  # examples/multi_region.py (replicas): scanned below, on their own
    "MultiRegionRegistry",
    "MultiRegionReplicaEu",
    "MultiRegionWorkloadApSe2",
    "MultiRegionWorkloadUse1",
    "MultiRegionWorkloadEuw1",
]
MONITOR_STACKS = [  # examples/monitoring.py (ImagePullMonitor): scanned below, on their own
    "RegistryMonitor",
    "WorkloadMonitorRead",
    "Workload2MonitorRead",
    "MultiRegionMonitor",
    "MultiRegionMonitorEu",
]
STAGE_ASSEMBLIES = {
    "assembly-Pipeline-Registry": REGISTRY,
    "assembly-Pipeline-Workload1": WORKLOAD,
    "assembly-Pipeline-Workload2": WORKLOAD_2,
}
PIPELINE_TOOLS_PREFIX = "Pipeline/Pipeline/"  # CDK Pipelines' own constructs, not ours


class Examples:
    def __init__(self, outdir: Path) -> None:
        self.app = example_app.build(new_app(outdir))
        self.outdir, violations, self.assembly = synth_with_nag(self.app)
        rows = [(v, c["constructPath"]) for v in violations for c in v["violatingConstructs"]]
        self.ours = [
            {**v, "violatingConstructs": [{"constructPath": path}]}
            for v, path in rows
            if not path.startswith(PIPELINE_TOOLS_PREFIX)
        ]
        self.tools_findings = [
            v["ruleName"] for v, path in rows if path.startswith(PIPELINE_TOOLS_PREFIX)
        ]

    def application_templates(self) -> dict[str, Path]:
        found = {
            name: self.outdir / f"{name}.template.json" for name in TOP_LEVEL_APPLICATION_STACKS
        }
        for directory in STAGE_ASSEMBLIES:
            (template,) = (self.outdir / directory).glob("*.template.json")
            found[f"{directory}/{template.name}"] = template
        return found

    def template(self, relative: str) -> dict[str, Any]:
        return json.loads((self.outdir / relative).read_text())  # type: ignore[no-any-return]

    @staticmethod
    def resources(template: dict[str, Any], kind: str) -> list[dict[str, Any]]:
        return [r for r in template["Resources"].values() if r["Type"] == kind]


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory) -> Examples:
    return Examples(tmp_path_factory.mktemp("examples"))


def test_every_example_stack_is_synthesized(examples: Examples) -> None:
    for name, path in examples.application_templates().items():
        assert path.exists(), name
    manifest = json.loads((examples.outdir / "manifest.json").read_text())
    assert {
        name
        for name, artifact in manifest["artifacts"].items()
        if artifact["type"] == "aws:cloudformation:stack"
    } == {*TOP_LEVEL_APPLICATION_STACKS, *MULTI_REGION_STACKS, *MONITOR_STACKS, "Pipeline"}


def test_application_stacks_pass_cdk_nag_with_reasoned_acknowledgements(examples: Examples) -> None:
    assert examples.ours == [], describe(examples.ours)
    acks = acknowledgements(examples.outdir)
    assert acks, "the examples acknowledge the rules that do not apply; none were found"
    for path, rules in acks.items():
        for rule, reason in rules.items():
            assert len(reason) > 40 and "TODO" not in reason, f"{path}: {rule}: {reason!r}"


def test_pipeline_tools_stack_findings_match_the_readme(examples: Examples) -> None:
    readme = (ROOT / "docs" / "scanners.md").read_text()
    match = re.search(
        r"cdk-nag reports \*\*(\d+)\*\* findings on the pipeline's own tools stack", readme
    )
    assert match, "docs/scanners.md must state the pipeline tools stack's cdk-nag findings count"
    assert len(examples.tools_findings) == int(match.group(1)), sorted(examples.tools_findings)


def test_pipeline_tools_stack_lint_and_checkov_counts_match_the_readme(
    examples: Examples, tmp_path: Path
) -> None:
    readme = (ROOT / "docs" / "scanners.md").read_text()
    template = examples.outdir / "Pipeline.template.json"
    rules = sorted(f["Rule"]["Id"] for f in cfn_lint([template]))
    assert rules == ["E3703", "E3703", "E3703", "W3005"]
    assert "cfn-lint\n  reports 3 E3703" in readme and "and 1 W3005" in readme
    shutil.copy(template, tmp_path / template.name)
    failed = sorted(f["check_id"] for f in checkov(tmp_path)["results"]["failed_checks"])
    assert failed == ["CKV_AWS_111", "CKV_AWS_18", "CKV_AWS_21", "CKV_AWS_7"]
    assert "checkov 4 failed checks" in readme
    for check in failed:
        assert check in readme


def test_the_apps_own_choices_match_the_readme(examples: Examples) -> None:
    # Application stacks are clean (tests above) only because the app acknowledges its own
    # choices (examples/choices.py); the README states what they are without those.
    readme = (ROOT / "docs" / "scanners.md").read_text()
    functions = [
        r
        for path in examples.application_templates().values()
        for r in json.loads(path.read_text())["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    ]
    dlq_acks = [
        path
        for path, rules in acknowledgements(examples.outdir).items()
        if "Serverless::Serverless-LambdaDLQ" in rules
        and path.lstrip("/").split("/")[0] not in MULTI_REGION_STACKS  # counted on their own
        and path.lstrip("/").split("/")[0] not in MONITOR_STACKS
    ]
    assert len(functions) == len(dlq_acks) == 6
    users = {"CKV_AWS_115", "CKV_AWS_116", "CKV_AWS_117"}
    for function in functions:
        skipped = {s["id"] for s in function["Metadata"]["checkov"]["skip"]}
        assert users <= skipped
    log_groups = [
        r
        for path in examples.application_templates().values()
        for r in json.loads(path.read_text())["Resources"].values()
        if r["Type"] == "AWS::Logs::LogGroup"
    ]
    assert len(log_groups) == 6
    assert all(
        {s["id"] for s in g["Metadata"]["checkov"]["skip"]} == {"CKV_AWS_158"} for g in log_groups
    )
    assert "6 functions" in readme
    assert "app's to decide: cdk-nag 6" in readme and "checkov 24" in readme


def test_application_templates_pass_cfn_lint(examples: Examples) -> None:
    # W3005 (a DependsOn already implied by GetAtt) is how CDK orders a role's policy before
    # the function: a known false positive for CDK templates.
    findings = cfn_lint(sorted(examples.application_templates().values()), ignore=["W3005"])
    assert findings == [], [(f["Rule"]["Id"], f["Filename"], f["Message"]) for f in findings]


def test_application_templates_pass_checkov(examples: Examples, tmp_path: Path) -> None:
    for name, path in examples.application_templates().items():
        shutil.copy(path, tmp_path / name.replace("/", "--"))
    report = checkov(tmp_path)
    failed = report["results"]["failed_checks"]
    assert failed == [], [(f["check_id"], f["resource"], f["file_path"]) for f in failed]
    skipped = report["results"]["skipped_checks"]
    assert skipped, "the examples skip checks that do not apply, with reasons; none were seen"
    for skip in skipped:
        assert len(skip["check_result"]["suppress_comment"]) > 30, skip


def test_snapshots_of_application_stacks(examples: Examples, snapshot_json: Any) -> None:
    for name, path in examples.application_templates().items():
        assert json.loads(path.read_text()) == snapshot_json(name=name.replace("/", "--"))


# ---------------------------------------------------------------------------------------------
# What the examples show
# ---------------------------------------------------------------------------------------------


def test_cross_account_registry_lists_both_workloads_exact_functions(examples: Examples) -> None:
    (repository,) = examples.resources(
        examples.template("Registry.template.json"), "AWS::ECR::Repository"
    )
    root, service = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert root["Principal"]["AWS"] == [
        f"arn:aws:iam::{WORKLOAD}:root",
        f"arn:aws:iam::{WORKLOAD_2}:root",
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:orders-worker",
        f"arn:aws:lambda:{REGION}:{WORKLOAD_2}:function:orders-worker",
    ]
    manifest = json.loads((examples.outdir / "manifest.json").read_text())
    for workload in ("Workload", "Workload2"):
        assert "Registry" in manifest["artifacts"][workload]["dependencies"]


def test_same_account_policy_has_no_root_statement(examples: Examples) -> None:
    (repository,) = examples.resources(
        examples.template("SameAccount.template.json"), "AWS::ECR::Repository"
    )
    (only,) = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert only["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert only["Condition"]["StringLike"]["aws:SourceArn"] == (
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:same-account-worker"
    )


def test_no_example_role_holds_an_ecr_action(examples: Examples) -> None:
    for name, path in examples.application_templates().items():
        text = json.dumps(
            [
                r
                for r in json.loads(path.read_text())["Resources"].values()
                if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::Role", "AWS::IAM::ManagedPolicy")
            ]
        )
        assert '"ecr:' not in text, name


def test_pipeline_stages_land_in_their_accounts(examples: Examples) -> None:
    for directory, account in STAGE_ASSEMBLIES.items():
        manifest = json.loads((examples.outdir / directory / "manifest.json").read_text())
        environments = {
            artifact["environment"]
            for artifact in manifest["artifacts"].values()
            if artifact["type"] == "aws:cloudformation:stack"
        }
        assert environments == {f"aws://{account}/{REGION}"}, directory
    pipeline_manifest = json.loads((examples.outdir / "manifest.json").read_text())
    assert pipeline_manifest["artifacts"]["Pipeline"]["environment"] == f"aws://{TOOLS}/{REGION}"


def test_pipeline_deploys_workloads_after_the_registry(examples: Examples) -> None:
    (pipeline,) = examples.resources(
        examples.template("Pipeline.template.json"), "AWS::CodePipeline::Pipeline"
    )
    stages = [stage["Name"] for stage in pipeline["Properties"]["Stages"]]
    assert stages.index("Registry") < stages.index("Workloads"), stages
    workloads = next(s for s in pipeline["Properties"]["Stages"] if s["Name"] == "Workloads")
    roles = json.dumps([action.get("RoleArn") for action in workloads["Actions"]])
    assert f":{WORKLOAD}:role/" in roles and f":{WORKLOAD_2}:role/" in roles


def test_pipeline_workloads_register_across_stages(examples: Examples) -> None:
    # examples/pipeline.py passes the CrossAccountImageRepo object to the workload stages.
    (template,) = (examples.outdir / "assembly-Pipeline-Registry").glob("*.template.json")
    (repository,) = examples.resources(json.loads(template.read_text()), "AWS::ECR::Repository")
    root, service = repository["Properties"]["RepositoryPolicyText"]["Statement"]
    assert root["Principal"]["AWS"] == [
        f"arn:aws:iam::{WORKLOAD}:root",
        f"arn:aws:iam::{WORKLOAD_2}:root",
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:orders-worker",
        f"arn:aws:lambda:{REGION}:{WORKLOAD_2}:function:orders-worker",
    ]
    for directory in ("assembly-Pipeline-Workload1", "assembly-Pipeline-Workload2"):
        manifest = json.loads((examples.outdir / directory / "manifest.json").read_text())
        stacks = [a for a in manifest["artifacts"].values() if a["type"].endswith("stack")]
        # Only the stack's own asset manifest: no dependency on another stage's stack.
        for stack in stacks:
            assert all(d.endswith(".assets") for d in stack.get("dependencies", [])), directory


def test_foreign_repository_example_prints_the_owner_policy(
    capsys: pytest.CaptureFixture[str],
) -> None:
    foreign_repository.main()
    out = capsys.readouterr().out
    owner_policy = json.loads(out.split("# This account's")[0].split("\n", 1)[1])
    sids = [s["Sid"] for s in owner_policy["Statement"]]
    assert sids == ["CrossAccountPermission", "LambdaECRImageCrossAccountRetrievalPolicy"]
    assert f"arn:aws:lambda:{REGION}:{WORKLOAD}:function:reports-generator" in out
    assert f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/partners/reports" in out


def test_example_digest_is_a_valid_digest() -> None:
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", EXAMPLE_DIGEST)


# ---------------------------------------------------------------------------------------------
# The real CLI, as `make synth` runs it
# ---------------------------------------------------------------------------------------------


def test_real_cdk_cli_synthesizes_the_app_offline(tmp_path: Path) -> None:
    cli = ROOT / "node_modules" / "aws-cdk" / "bin" / "cdk"
    assert cli.exists(), "run `make setup` first: the pinned CDK CLI is installed by npm ci"
    version = json.loads((ROOT / "node_modules" / "aws-cdk" / "package.json").read_text())[
        "version"
    ]
    assert version.startswith("2.") and version != "3.0.0"
    environment = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "CDK_DISABLE_CLI_TELEMETRY": "true",
    }
    for key in (
        "CDK_CONTEXT_JSON",
        "AWS_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    ):
        environment.pop(key, None)
    result = subprocess.run(
        [
            os.environ["JSII_NODE"],
            str(cli),
            "synth",
            "--quiet",
            "--no-notices",
            "--output",
            str(tmp_path / "cdk.out"),
            "-c",
            "workload_account=555555555555",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "end-of-life" not in result.stderr and "Node 20" not in result.stderr
    manifest = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())
    # -c overrides cdk.json's placeholder account
    assert manifest["artifacts"]["Workload"]["environment"] == f"aws://555555555555/{REGION}"
    registry = json.loads((tmp_path / "cdk.out" / "Registry.template.json").read_text())
    assert "arn:aws:iam::555555555555:root" in json.dumps(registry)


# ---------------------------------------------------------------------------------------------
# The pipeline check in the pipeline (ImagePullAuditStep)
# ---------------------------------------------------------------------------------------------


def test_pipeline_runs_the_image_pull_audit_before_its_first_deploy(examples: Examples) -> None:
    from ecr_lambda_access import __version__

    template = examples.template("Pipeline.template.json")
    (pipeline,) = examples.resources(template, "AWS::CodePipeline::Pipeline")
    actions = [
        (index, action)
        for index, stage in enumerate(pipeline["Properties"]["Stages"])
        for action in stage["Actions"]
    ]

    def position(index: int, action: dict[str, Any]) -> tuple[int, int]:
        return index, action.get("RunOrder", 1)

    deploys = [
        position(i, a)
        for i, a in actions
        if a["ActionTypeId"]["Provider"] == "CloudFormation"
        and a["Configuration"].get("ActionMode") in ("CHANGE_SET_REPLACE", "CREATE_UPDATE")
    ]
    (audit,) = [(i, a) for i, a in actions if a["Name"] == "AuditImagePulls"]
    assert audit[1]["ActionTypeId"]["Provider"] == "CodeBuild"
    assert position(*audit) < min(deploys), (position(*audit), sorted(deploys))
    # it reads the synth step's output (the cloud assembly)
    synth_outputs = {
        o["Name"] for _, a in actions if a["Name"] == "Synth" for o in a["OutputArtifacts"]
    }
    assert {i["Name"] for i in audit[1]["InputArtifacts"]} <= synth_outputs
    # and runs the audit of this version, publishing JUnit to a report group
    project_id = audit[1]["Configuration"]["ProjectName"]["Ref"]
    spec = json.loads(template["Resources"][project_id]["Properties"]["Source"]["BuildSpec"])
    install = " ".join(spec["phases"]["install"]["commands"])
    assert f"--no-deps ecr-lambda-access=={__version__}" in install
    (command,) = spec["phases"]["build"]["commands"]
    assert command == (
        "python3 -m ecr_lambda_access audit . --format junit --output image-pull-audit.xml"
    )
    assert spec["reports"] == {
        "image-pull-audit": {"files": ["image-pull-audit.xml"], "file-format": "JUNITXML"}
    }


# ---------------------------------------------------------------------------------------------
# examples/multi_region.py (replicas): cdk-nag above (the whole app); cfn-lint, checkov, snapshots
# ---------------------------------------------------------------------------------------------


def multi_region_templates(examples: Examples) -> dict[str, Path]:
    return {name: examples.outdir / f"{name}.template.json" for name in MULTI_REGION_STACKS}


def test_multi_region_templates_pass_cfn_lint(examples: Examples) -> None:
    findings = cfn_lint(sorted(multi_region_templates(examples).values()), ignore=["W3005"])
    assert findings == [], [(f["Rule"]["Id"], f["Filename"], f["Message"]) for f in findings]


def test_multi_region_templates_pass_checkov(examples: Examples, tmp_path: Path) -> None:
    assert_checkov_clean(multi_region_templates(examples).values(), tmp_path)


def test_snapshots_of_multi_region_stacks(examples: Examples, snapshot_json: Any) -> None:
    for name, path in multi_region_templates(examples).items():
        assert json.loads(path.read_text()) == snapshot_json(name=name)


# ---------------------------------------------------------------------------------------------
# examples/monitoring.py (ImagePullMonitor): cdk-nag above (the whole app); cfn-lint, checkov,
# snapshots with the code asset's hash written out (it changes with the library's source)
# ---------------------------------------------------------------------------------------------


def monitor_templates(examples: Examples) -> dict[str, Path]:
    return {name: examples.outdir / f"{name}.template.json" for name in MONITOR_STACKS}


def test_monitor_templates_pass_cfn_lint(examples: Examples) -> None:
    findings = cfn_lint(sorted(monitor_templates(examples).values()), ignore=["W3005"])
    assert findings == [], [(f["Rule"]["Id"], f["Filename"], f["Message"]) for f in findings]


def test_monitor_templates_pass_checkov(examples: Examples, tmp_path: Path) -> None:
    assert_checkov_clean(monitor_templates(examples).values(), tmp_path)


def test_snapshots_of_monitor_stacks(examples: Examples, snapshot_json: Any) -> None:
    for name, path in monitor_templates(examples).items():
        text = re.sub(r"\b[0-9a-f]{64}\b", "<asset-hash>", path.read_text())
        assert json.loads(text) == snapshot_json(name=name)


def test_the_monitors_watch_the_examples_repositories(examples: Examples) -> None:
    for name, repository in (
        ("RegistryMonitor", "shared/orders"),
        ("MultiRegionMonitor", "shared/payments"),
        ("MultiRegionMonitorEu", "shared/payments"),
    ):
        template = examples.template(f"{name}.template.json")
        (function,) = Examples.resources(template, "AWS::Lambda::Function")
        key = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
        config = json.loads((examples.outdir / f"asset.{key}" / "monitor.json").read_text())
        (watched,) = config["repositories"]
        assert watched["name"] == repository
        assert watched["functions"], f"{name}: no registered function"
