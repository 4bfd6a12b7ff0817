"""The CI guide's (docs/ci.md) GitHub Actions workflow stays true: it is valid YAML, the
`ecr-lambda-access` commands it runs are ones the command line accepts, and it uploads the
SARIF file the audit writes, also when the audit fails the job."""

from __future__ import annotations

import re
import shlex
from typing import Any

import pytest
import yaml
from support import ROOT

from ecr_lambda_access import cli

GUIDE = (ROOT / "docs" / "ci.md").read_text()
WORKFLOWS = re.findall(r"```yaml\n(.*?)```", GUIDE, flags=re.DOTALL)


@pytest.fixture(scope="module")
def workflow() -> dict[str, Any]:
    (text,) = WORKFLOWS
    loaded = yaml.safe_load(text)
    assert isinstance(loaded, dict)
    return loaded


def steps(workflow: dict[str, Any]) -> list[dict[str, Any]]:
    (job,) = workflow["jobs"].values()
    return job["steps"]  # type: ignore[no-any-return]


def command_and_redirect(run: str) -> tuple[list[str], str | None]:
    """A `run:` line as argv, and the file its stdout is appended or written to (`>>`, `>`)."""
    argv = shlex.split(run)
    for operator in (">>", ">"):
        if operator in argv:
            at = argv.index(operator)
            return argv[:at], argv[at + 1]
    return argv, None


def audit_commands(workflow: dict[str, Any]) -> list[list[str]]:
    return [
        command_and_redirect(step["run"])[0]
        for step in steps(workflow)
        if "run" in step and "ecr-lambda-access" in step["run"]
    ]


def test_workflow_may_upload_to_code_scanning(workflow: dict[str, Any]) -> None:
    assert workflow["permissions"]["security-events"] == "write"
    assert workflow["permissions"]["contents"] == "read"


def test_every_audit_command_is_accepted_by_the_cli(workflow: dict[str, Any]) -> None:
    commands = audit_commands(workflow)
    assert commands, "the workflow runs no ecr-lambda-access command"
    parser = cli._parser()
    for argv in commands:
        assert argv[0] == "ecr-lambda-access"
        try:
            args = parser.parse_args(argv[1:])
        except SystemExit as error:  # pragma: no cover - the failure message is the point
            raise AssertionError(f"the CLI rejects {shlex.join(argv)}") from error
        assert args.command == "audit"


def test_a_command_the_cli_rejects_is_caught(workflow: dict[str, Any]) -> None:
    parser = cli._parser()
    with pytest.raises(SystemExit):
        parser.parse_args(["audit", "cdk.out", "--format", "sarif2"])


def test_workflow_synthesizes_then_audits_to_sarif_then_uploads_it(
    workflow: dict[str, Any],
) -> None:
    names = [step.get("uses", step.get("run", "")) for step in steps(workflow)]
    synth = next(i for i, n in enumerate(names) if re.search(r"\baws-cdk@2 synth\b", n))
    (audit_argv,) = [argv for argv in audit_commands(workflow) if "sarif" in argv]
    audit = names.index(shlex.join(audit_argv))
    upload = next(
        i for i, n in enumerate(names) if n.startswith("github/codeql-action/upload-sarif@")
    )
    assert synth < audit < upload
    args = cli._parser().parse_args(audit_argv[1:])
    assert args.format == "sarif" and args.path == "cdk.out"
    upload_step = steps(workflow)[upload]
    assert upload_step["with"]["sarif_file"] == args.output
    # the audit exits 1 on a problem: the upload must still run then
    assert "cancelled()" in upload_step["if"] or "always()" in upload_step["if"]


def test_workflow_writes_the_markdown_report_to_the_job_summary(
    workflow: dict[str, Any],
) -> None:
    (step,) = [s for s in steps(workflow) if "--format markdown" in s.get("run", "")]
    argv, target = command_and_redirect(step["run"])
    args = cli._parser().parse_args(argv[1:])
    assert args.format == "markdown" and args.path == "cdk.out" and args.output is None
    assert target == "$GITHUB_STEP_SUMMARY"
    assert ">>" in step["run"]  # appended: other steps may write to the summary too
    # after the SARIF audit, which exits 1 on a problem: the summary must still be written
    assert steps(workflow).index(step) > next(
        i for i, s in enumerate(steps(workflow)) if "--format sarif" in s.get("run", "")
    )
    assert "cancelled()" in step["if"] or "always()" in step["if"]
