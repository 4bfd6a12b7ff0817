"""Test helpers: apps that synthesize what `cdk synth` does, and the scanners.

Imported by conftest.py (which sets JSII_NODE first) and by test modules.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import aws_cdk as cdk

ROOT = Path(__file__).resolve().parent.parent
CDK_JSON = json.loads((ROOT / "cdk.json").read_text())
# Feature flags (and the examples' placeholder accounts) exactly as `cdk synth` sees them.
CDK_CONTEXT: dict[str, Any] = dict(CDK_JSON["context"])

REGISTRY = "111111111111"
WORKLOAD = "222222222222"
WORKLOAD_2 = "333333333333"
REGION = "us-east-1"
DIGEST = "sha256:" + "a1" * 32


def new_app(outdir: str | os.PathLike[str] | None = None, **context: Any) -> cdk.App:
    """An App with cdk.json's feature flags, no bootstrap-version rule, no version reporting."""
    return cdk.App(
        context={**CDK_CONTEXT, **context},
        outdir=None if outdir is None else str(outdir),
        analytics_reporting=False,
        stack_traces=False,
        default_stack_synthesizer=cdk.DefaultStackSynthesizer(
            generate_bootstrap_version_rule=False
        ),
    )


def env(account: str = REGISTRY, region: str = REGION) -> cdk.Environment:
    return cdk.Environment(account=account, region=region)


def template_json(stack: cdk.Stack) -> dict[str, Any]:
    from aws_cdk.assertions import Template

    return Template.from_stack(stack).to_json()  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# cdk-nag 3.x: a real synth with Validations plugins, then read validation-report.json
# --------------------------------------------------------------------------------------------


def synth_with_nag(
    app: cdk.App,
) -> tuple[Path, list[dict[str, Any]], cdk.cx_api.CloudAssembly]:
    """Synthesize with cdk-nag's AwsSolutions and Serverless packs.

    Returns (outdir, violations, assembly). A failed validation raises in CDK (RuntimeError
    through jsii) after writing the assembly and validation-report.json, so both are read from
    the output directory either way.
    """
    from cdk_nag import AwsSolutionsChecks, ServerlessChecks

    cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app), ServerlessChecks(app))
    outdir = Path(app.outdir)
    try:
        assembly = app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        assembly = cdk.cx_api.CloudAssembly(str(outdir))
    report = json.loads((outdir / "validation-report.json").read_text())
    violations = [
        {"plugin": plugin["pluginName"], **violation}
        for plugin in report["pluginReports"]
        for violation in plugin.get("violations", [])
    ]
    return outdir, violations, assembly


def acknowledge(construct: Any, rule: str, reason: str) -> None:
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def warnings_of(construct: Any) -> list[str]:
    """Warnings added to this construct (read from its metadata: no synth needed)."""
    return [str(entry.data) for entry in construct.node.metadata if entry.type == "aws:cdk:warning"]


def acknowledgements(outdir: Path) -> dict[str, dict[str, str]]:
    """Construct path -> {rule id: reason} for every Validations.acknowledge in the assembly."""
    found: dict[str, dict[str, str]] = {}
    for metadata_file in outdir.rglob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.setdefault(path, {}).update(entry["data"])
    manifest = json.loads((outdir / "manifest.json").read_text())
    for artifact in manifest.get("artifacts", {}).values():
        for path, entries in artifact.get("metadata", {}).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.setdefault(path, {}).update(entry["data"])
    return found


def describe(violations: Iterable[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['ruleName']} at {', '.join(c['constructPath'] for c in v['violatingConstructs'])}"
        for v in violations
    )


# --------------------------------------------------------------------------------------------
# cfn-lint and checkov on synthesized templates
# --------------------------------------------------------------------------------------------


def cfn_lint(templates: Sequence[Path], ignore: Sequence[str] = ()) -> list[dict[str, Any]]:
    """cfn-lint's findings (JSON) for the templates; ``ignore`` takes rule ids."""
    command = [str(Path(sys.executable).parent / "cfn-lint"), *map(str, templates), "-f", "json"]
    if ignore:
        command += ["--ignore-checks", *ignore]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode not in (0, 2, 4, 6, 8, 10, 12, 14):
        raise AssertionError(f"cfn-lint failed to run ({result.returncode}): {result.stderr}")
    return json.loads(result.stdout or "[]")  # type: ignore[no-any-return]


def skip_checkov(construct: Any, check_id: str, comment: str) -> None:
    """Skip one checkov check on a construct's CloudFormation resource, with the reason."""
    resource = construct.node.default_child
    existing = resource.get_metadata("checkov") or {"skip": []}
    existing["skip"].append({"id": check_id, "comment": comment})
    resource.add_metadata("checkov", existing)


CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


def checkov(directory: Path) -> dict[str, Any]:
    """checkov's CloudFormation results for every template in ``directory``."""
    if not CHECKOV.exists():
        raise AssertionError(f"{CHECKOV} is missing: run `make setup` (it installs checkov)")
    result = subprocess.run(
        [
            str(CHECKOV),
            "--directory",
            str(directory),
            "--framework",
            "cloudformation",
            "--output",
            "json",
            "--compact",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false"},
    )
    if result.returncode not in (0, 1):
        raise AssertionError(f"checkov failed to run ({result.returncode}): {result.stderr}")
    data = json.loads(result.stdout or "{}")
    if isinstance(data, list):  # one entry per framework
        data = data[0] if data else {}
    return data  # type: ignore[no-any-return]


def assert_checkov_clean(templates: Iterable[Path], directory: Path) -> None:
    """checkov on copies of ``templates`` in ``directory``: no failed check, and every skip
    with a real reason."""
    for template in templates:
        shutil.copy(template, directory / template.name)
    report = checkov(directory)
    failed = report["results"]["failed_checks"]
    assert failed == [], [(f["check_id"], f["resource"], f["file_path"]) for f in failed]
    for skip in report["results"]["skipped_checks"]:
        assert len(skip["check_result"]["suppress_comment"]) > 30, skip
