"""`ecr-lambda-access audit PATH --live` and `live-policy` from the command line.

End to end against moto (the fixture `live_fleet.offline_aws`: fake credentials, no network),
with boto3.Session replaced by the test double's session factory; the usage errors; `--live`
without boto3 (hidden through sys.modules in a subprocess); and the promise that the audit
without --live never imports boto3 (nor jsii).
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import live_fleet as lf
import pytest
from live_fleet import offline_aws  # noqa: F401 (autouse: fake credentials, no network)

from ecr_lambda_access import cli
from ecr_lambda_access.audit import live

US, EU = "us-east-1", "eu-west-1"
A, B, C = lf.accounts(3)


@pytest.fixture
def fleet(tmp_path: Path) -> lf.Fleet:
    return lf.write_fleet(tmp_path / "cdk.out", [A, B, C], [US, EU], 1)


@pytest.fixture
def gaps(fleet: lf.Fleet, monkeypatch: pytest.MonkeyPatch) -> lf.MotoGaps:
    import boto3

    gaps = lf.MotoGaps()
    lf.deploy(fleet, gaps)
    monkeypatch.setattr(boto3, "Session", gaps.session_factory)
    return gaps


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_live_json_exit_status_and_strict(
    fleet: lf.Fleet, gaps: lf.MotoGaps, capsys: pytest.CaptureFixture[str]
) -> None:
    path, role = str(fleet.assembly), f"--assume-role-arn={lf.ROLE_TEMPLATE}"
    status, out, _ = run(capsys, "audit", path, "--live", role, "--format", "json")
    assert status == 0
    data = json.loads(out)
    assert data["summary"]["statuses"] == {"ok": 3}  # the static audit, unchanged
    assert [f["status"] for f in data["live"]["functions"]] == ["ok", "ok", "ok"]
    assert data["live"]["summary"]["failed"] is False

    gaps.denied_roles.add(live.role_arn_for(lf.ROLE_TEMPLATE, C))
    status, out, _ = run(capsys, "audit", path, "--live", role, "--format", "json")
    assert status == 0  # unverifiable fails only with --strict
    assert json.loads(out)["live"]["summary"]["unreachable_accounts"] == 1
    status, _, _ = run(capsys, "audit", path, "--live", role, "--strict", "--format", "json")
    assert status == 1

    gaps.states["svc-0"] = {"State": "Inactive", "StateReasonCode": "ImageDeleted"}
    status, out, _ = run(capsys, "audit", path, "--live", role)
    assert status == 1
    assert "Live check (deployed): 3 function(s)" in out
    assert f"account {C}: NOT REACHED via role arn:aws:iam::{C}:role/{lf.ROLE_NAME}" in out
    assert "function-failed" in out and "StateReasonCode ImageDeleted" in out
    summary = out.rstrip().splitlines()[-1]
    assert summary.startswith("live FAILED: 2 function-failed, 1 unverifiable; 0 warning(s); ")
    assert "; 1 unreachable account(s); " in summary


def test_live_with_profiles(
    tmp_path: Path, fleet: lf.Fleet, gaps: lf.MotoGaps, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "aws-config").write_text(
        "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        + "".join(
            f"[profile p{a}]\nrole_arn = arn:aws:iam::{a}:role/Reader\nsource_profile = base\n"
            for a in (lf.REGISTRY, A, B, C)
        )
    )
    profiles = [f"--profile={a}=p{a}" for a in (lf.REGISTRY, A, B, C)]
    status, out, _ = run(capsys, "audit", str(fleet.assembly), "--live", *profiles)
    assert status == 0, out
    assert f"account {A}: reached via profile p{A}" in out
    assert "live passed: 3 ok;" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--profile", "123=dev"], "--profile must be ACCOUNT=PROFILE with a 12-digit account id"),
        (["--assume-role-arn", "arn:aws:iam::111111111111:role/R"], "must be an IAM role ARN"),
        (["--live", "--concurrency", "0"], "--concurrency must be at least 1"),
    ],
)
def test_live_usage_errors(
    fleet: lf.Fleet, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    live_flag = [] if "--live" in argv else ["--live"]
    status, _, err = run(capsys, "audit", str(fleet.assembly), *live_flag, *argv)
    assert status == 2 and err.count("\n") == 1 and message in err


def test_profile_without_live_is_a_usage_error(
    fleet: lf.Fleet, capsys: pytest.CaptureFixture[str]
) -> None:
    status, _, err = run(capsys, "audit", str(fleet.assembly), "--profile", f"{A}=dev")
    assert status == 2 and "--profile and --assume-role-arn go with --live" in err


# --------------------------------------------------------------------------------------------
# live-policy
# --------------------------------------------------------------------------------------------


def test_live_policy_is_exactly_the_read_actions_on_the_resources_involved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fleet = lf.write_fleet(tmp_path / "out", [A, B], [US, EU], 2, unnamed=1)
    status, out, _ = run(capsys, "live-policy", str(fleet.assembly))
    assert status == 0
    assert json.loads(out) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadRepositoryPolicyAndImages",
                "Effect": "Allow",
                "Action": ["ecr:DescribeImages", "ecr:GetRepositoryPolicy"],
                "Resource": [
                    f"arn:aws:ecr:{EU}:{lf.REGISTRY}:repository/{lf.REPOSITORY}",
                    f"arn:aws:ecr:{US}:{lf.REGISTRY}:repository/{lf.REPOSITORY}",
                ],
            },
            {
                "Sid": "ReadFunctions",
                "Effect": "Allow",
                "Action": "lambda:GetFunction",
                "Resource": [
                    f"arn:aws:lambda:{EU}:{B}:function:*",
                    f"arn:aws:lambda:{EU}:{B}:function:svc-1",
                    f"arn:aws:lambda:{US}:{A}:function:*",
                    f"arn:aws:lambda:{US}:{A}:function:svc-1",
                ],
            },
            {
                "Sid": "ReadGeneratedFunctionNames",
                "Effect": "Allow",
                "Action": "cloudformation:DescribeStackResource",
                "Resource": [
                    f"arn:aws:cloudformation:{EU}:{B}:stack/Workload-{B}/*",
                    f"arn:aws:cloudformation:{US}:{A}:stack/Workload-{A}/*",
                ],
            },
        ],
    }
    status, out, _ = run(capsys, "live-policy", str(fleet.assembly), "--account", lf.REGISTRY)
    assert [s["Sid"] for s in json.loads(out)["Statement"]] == ["ReadRepositoryPolicyAndImages"]
    status, out, _ = run(
        capsys, "live-policy", str(fleet.assembly), "--caller", "--assume-role-arn",
        lf.ROLE_TEMPLATE,
    )  # fmt: skip
    assert json.loads(out)["Statement"] == [
        {
            "Sid": "AssumeTheReadOnlyRoles",
            "Effect": "Allow",
            "Action": "sts:AssumeRole",
            "Resource": [
                f"arn:aws:iam::{account}:role/{lf.ROLE_NAME}" for account in (lf.REGISTRY, A, B)
            ],
        }
    ]
    status, _, err = run(capsys, "live-policy", str(fleet.assembly), "--caller")
    assert status == 2 and "--caller needs --assume-role-arn" in err


def test_live_policy_covers_every_call_the_check_makes(tmp_path: Path) -> None:
    # Every operation of a run that meets every case (generated names, a replica missing its
    # image) is an action of the printed policy: the policy cannot fall behind the code.
    fleet = lf.write_fleet(tmp_path / "out", [A, B], [US, EU], 2, unnamed=1)
    gaps = lf.MotoGaps()
    lf.deploy(fleet, gaps)
    lf.account_session(lf.REGISTRY, EU).client("ecr").batch_delete_image(
        repositoryName=lf.REPOSITORY, imageIds=[{"imageTag": lf.TAG}]
    )
    _, targets = live.audit_with_targets(str(fleet.assembly))
    targets = [
        t if t.region == US else replace(t, replica_source=(lf.REGISTRY, US)) for t in targets
    ]
    credentials = live.AccountCredentials(
        role_arn_template=lf.ROLE_TEMPLATE, session_factory=gaps.session_factory
    )
    report = live.LiveCheck(credentials).run(targets)
    assert "image-missing" in lf.statuses(report).values()
    granted: set[str] = set()
    for statement in live.required_policy(targets)["Statement"]:
        action = statement["Action"]
        granted |= {action} if isinstance(action, str) else set(action)
    # sts:GetCallerIdentity needs no permission; sts:AssumeRole is the caller's (--caller)
    assert set(report.calls) - {"sts:GetCallerIdentity", "sts:AssumeRole"} == granted
    assert report.calls["sts:AssumeRole"] == 3  # one per account: the registry, A and B


# --------------------------------------------------------------------------------------------
# boto3 only with --live
# --------------------------------------------------------------------------------------------

_HEAVY = ("boto3", "botocore", "jsii", "aws_cdk", "constructs", "moto")


def test_live_without_boto3_is_a_usage_error_naming_the_extra(fleet: lf.Fleet) -> None:
    code = (
        "import sys\n"
        "sys.modules['boto3'] = None  # as if the [live] extra were not installed\n"
        "sys.modules['botocore'] = None\n"
        "from ecr_lambda_access.cli import main\n"
        f"raise SystemExit(main(['audit', {str(fleet.assembly)!r}, '--live']))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr == (
        "ecr-lambda-access: error: --live needs boto3, which is not installed: "
        "pip install 'ecr-lambda-access[live]' (the live extra)\n"
    )


@pytest.mark.parametrize("command", ["audit", "live-policy"])
def test_without_live_boto3_is_never_imported(fleet: lf.Fleet, command: str) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ecr_lambda_access", command],
        capture_output=True,
        text=True,
        check=False,
        cwd=fleet.assembly.parent,  # the default PATH, cdk.out
    )
    assert result.returncode == 0, result.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert "ecr_lambda_access.cli" in imported  # the measurement works
    assert not {m for m in imported if m.split(".")[0] in _HEAVY}


def test_an_aws_profile_that_does_not_exist_is_a_usage_error(
    fleet: lf.Fleet, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_PROFILE", "nowhere")
    status, out, err = run(capsys, "audit", str(fleet.assembly), "--live")
    assert status == 2 and out == "" and err.count("\n") == 1
    assert "--live cannot start an AWS session: The config profile (nowhere)" in err


def test_other_formats_keep_stdout_for_the_static_report(
    fleet: lf.Fleet,
    gaps: lf.MotoGaps,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A format of the static audit's (SARIF, JUnit, ...) gets the static report on stdout; the
    # live section goes to stderr, so the file stays valid.
    from ecr_lambda_access.audit import formatters

    class Names(formatters.Formatter):
        name = "names"

        def write(self, report: Any, out: Any, *, path: str, strict: bool) -> None:
            out.write(" ".join(f.function for f in report.functions) + "\n")

    monkeypatch.setitem(formatters.FORMATTERS, "names", Names)
    status, out, err = run(
        capsys, "audit", str(fleet.assembly), "--live", "--format", "names",
        "--assume-role-arn", lf.ROLE_TEMPLATE,
    )  # fmt: skip
    assert status == 0
    assert out == f"Workload-{A}/Fn0 Workload-{B}/Fn0 Workload-{C}/Fn0\n"
    assert "Live check (deployed): 3 function(s)" in err


def test_output_file_holds_the_format_and_stdout_both_tables(
    tmp_path: Path, fleet: lf.Fleet, gaps: lf.MotoGaps, capsys: pytest.CaptureFixture[str]
) -> None:
    role = f"--assume-role-arn={lf.ROLE_TEMPLATE}"
    report = tmp_path / "reports" / "live.json"
    status, out, _ = run(
        capsys, "audit", str(fleet.assembly), "--live", role, "--format", "json",
        "--output", str(report),
    )  # fmt: skip
    assert status == 0
    data = json.loads(report.read_text())
    assert data["summary"]["statuses"] == {"ok": 3} and data["live"]["summary"]["failed"] is False
    assert "Functions (3)" in out and "Live check (deployed): 3 function(s)" in out
    sarif = tmp_path / "live.sarif"
    status, out, _ = run(
        capsys, "audit", str(fleet.assembly), "--live", role, "--format", "sarif",
        "--output", str(sarif),
    )  # fmt: skip
    assert status == 0 and json.loads(sarif.read_text())["version"] == "2.1.0"
    assert "Live check (deployed): 3 function(s)" in out
