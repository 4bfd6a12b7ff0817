"""The live-check guide (docs/live.md) stays true: the IAM policies it prints are what
`live-policy` prints for the README's example, its commands parse, its workflow is YAML, and its
tables list exactly the live statuses and the calls the check can make."""

from __future__ import annotations

import argparse
import json
import re
import shlex
from dataclasses import replace
from pathlib import Path
from typing import Any

import live_fleet as lf
import pytest
import yaml

from ecr_lambda_access import cli
from ecr_lambda_access.audit import live

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SECTION = (ROOT / "docs" / "live.md").read_text()
STATUSES = (ROOT / "docs" / "audit.md").read_text()


def blocks(kind: str, text: str = SECTION) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", text, flags=re.DOTALL)


@pytest.mark.synth
def test_the_printed_policies_are_what_live_policy_prints_for_the_quick_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    quick_start = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)[0]
    assert "app.synth()" in quick_start
    namespace: dict[str, Any] = {"__name__": "readme_quick_start"}
    exec(compile(quick_start, "README.md Quick start", "exec"), namespace)
    path = namespace["assembly"].directory
    reader, caller = (json.loads(block) for block in blocks("json"))
    assert cli.main(["live-policy", path]) == 0
    assert json.loads(capsys.readouterr().out) == reader
    template = "arn:aws:iam::{account}:role/ImagePullAudit"
    assert cli.main(["live-policy", path, "--caller", "--assume-role-arn", template]) == 0
    assert json.loads(capsys.readouterr().out) == caller


def _commands() -> list[list[str]]:
    lines = [line.split("  #", 1)[0] for line in blocks("console")[0].splitlines()]
    (workflow,) = blocks("yml")  # `yml`: `yaml` blocks are the CI guide's workflow
    steps = yaml.safe_load(workflow)["jobs"]["live-check"]["steps"]
    lines += [step["run"] for step in steps if "ecr-lambda-access" in step.get("run", "")]
    return [
        shlex.split(line.split(">", 1)[0])[1:]
        for line in lines
        if line.strip().startswith("ecr-lambda-access")
    ]


def test_every_command_of_the_section_parses(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = _commands()
    assert len(commands) == 4
    parser = cli._parser()
    for argv in commands:
        args = parser.parse_args(argv)
        assert isinstance(args, argparse.Namespace)
        if args.command == "audit":
            assert args.live
            if args.assume_role_arn:
                assert cli._check_role_template(args.assume_role_arn) is None


def test_the_tables_list_the_live_statuses_and_every_call(tmp_path: Path) -> None:
    rows = re.findall(r"^\| `([a-z-]+)` \| `--live`: ", STATUSES, flags=re.MULTILINE)
    assert rows == list(live.LIVE_STATUSES)
    documented = set(re.findall(r"^\| `([a-z0-9]+:[A-Za-z]+)` \|", SECTION, flags=re.MULTILINE))
    # every action the check can need: a fleet with generated names and a replica
    fleet = lf.write_fleet(tmp_path / "out", lf.accounts(2), ["us-east-1"], 2, unnamed=1)
    _, targets = live.audit_with_targets(str(fleet.assembly))
    targets = [replace(t, replica_source=(lf.REGISTRY, "us-west-2")) for t in targets]
    actions = {"sts:AssumeRole", "sts:GetCallerIdentity"}
    for statement in live.required_policy(targets)["Statement"]:
        action = statement["Action"]
        actions |= {action} if isinstance(action, str) else set(action)
    assert documented == actions
