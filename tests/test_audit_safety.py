"""The audit gate on an assembly it cannot trust (issue 17), each test built like the attack.

A crafted assembly in a temporary directory (a copy of a real one, the committed integ snapshot,
plus the attack) is audited by the command in a subprocess under a memory cap (RLIMIT_AS) and a
time limit. Each test asserts the exit status, one message line (or none), no traceback, and that
no byte of the canary planted outside the assembly appears in any output format; where the attack
is one stack, the rest of the assembly is still audited (its function still ``ok``).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ecr_lambda_access import cli
from ecr_lambda_access.audit import AuditReport, FunctionReport, load
from ecr_lambda_access.audit.formatters import junit

SNAPSHOT = Path(__file__).parent / "integ" / "integ_cross_account.py.snapshot"
CANARY = "CANARY-d41d8cd9-outside-the-assembly"
MEMORY_CAP = 1024 * 1024 * 1024  # bytes of address space for one audit
TIME_CAP = 60  # seconds; a test's attack answers in well under one
FORMATS = ("text", "json", "sarif", "junit")
GOOD = "CrossAccountWorkload/Worker"


def _cap_memory() -> None:  # in the child, before exec
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = TIME_CAP
) -> subprocess.CompletedProcess[bytes]:
    """The command in a subprocess, under the memory cap and the time limit."""
    return subprocess.run(
        [sys.executable, "-m", "ecr_lambda_access", *args],
        capture_output=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
        env={**os.environ, **(env or {})},
        check=False,
    )


def one_line(stderr: bytes) -> str:
    text = stderr.decode()
    assert "Traceback" not in text
    assert text.count("\n") == 1 and text.startswith("ecr-lambda-access: error: "), text
    return text


def audit_in_process(*args: str) -> tuple[int, bytes, bytes]:
    """The command in this process (stdout and stderr captured): its status, stdout, stderr."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(list(args))
    return status, out.getvalue().encode(errors="surrogateescape"), err.getvalue().encode()


def audit_every_format(assembly: Path, status: int) -> dict[str, str]:
    """Each format (and ``--output``) of one audit: the exit status, no stderr, no canary.

    The text format runs first in a subprocess under the caps (the attack ends in time and
    memory, with no traceback); the other formats then run in this process, which is faster."""
    done = run_cli("audit", str(assembly), "--format", "text")
    assert CANARY.encode() not in done.stdout + done.stderr
    assert b"Traceback" not in done.stderr
    assert (done.returncode, done.stderr) == (status, b""), done.stderr
    outputs = {"text": done.stdout.decode()}
    for output in FORMATS[1:]:
        returned, out, err = audit_in_process("audit", str(assembly), "--format", output)
        assert CANARY.encode() not in out + err
        assert (returned, err) == (status, b""), err
        outputs[output] = out.decode()
    report = assembly.parent / "report.sarif"
    returned, out, err = audit_in_process(
        "audit", str(assembly), "--format", "sarif", "--output", str(report)
    )
    assert returned == status
    assert CANARY.encode() not in out + err + report.read_bytes()
    json.loads(outputs["json"])
    json.loads(outputs["sarif"])
    ET.fromstring(outputs["junit"])
    return outputs


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A directory next to the assembly: a template naming a function after the canary, and a
    file of secrets."""
    directory = tmp_path / "outside"
    directory.mkdir()
    template = json.loads((SNAPSHOT / "CrossAccountWorkload.template.json").read_text())
    template["Resources"]["Worker11F36D0F"]["Properties"]["FunctionName"] = CANARY
    (directory / "planted.template.json").write_text(json.dumps(template))
    (directory / "credentials").write_text(f"[default]\naws_secret_access_key = {CANARY}\n")
    (directory / "manifest.json").write_text(
        json.dumps(
            {
                "version": "36.0.0",
                "artifacts": {
                    "Planted": {
                        "type": "aws:cloudformation:stack",
                        "environment": "aws://222222222222/us-east-1",
                        "properties": {"templateFile": "planted.template.json"},
                    }
                },
            }
        )
    )
    return directory


@pytest.fixture
def assembly(tmp_path: Path) -> Path:
    """A copy of a real assembly (one cross-account function, ``ok``)."""
    directory = tmp_path / "cdk.out"
    shutil.copytree(SNAPSHOT, directory)
    return directory


def add_artifact(assembly: Path, artifact_id: str, artifact: dict[str, Any]) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    manifest["artifacts"][artifact_id] = artifact
    (assembly / "manifest.json").write_text(json.dumps(manifest))


def add_stack(assembly: Path, artifact_id: str, template_file: str) -> None:
    add_artifact(
        assembly,
        artifact_id,
        {
            "type": "aws:cloudformation:stack",
            "environment": "aws://222222222222/us-east-1",
            "properties": {"templateFile": template_file},
        },
    )


def nested_stack_resource(asset_path: str) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://example.com/t.json"},
        "Metadata": {"aws:asset:path": asset_path},
    }


# --------------------------------------------------------------------------------------------
# Reading outside the assembly
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["absolute", "climbs", "symlink", "symlinked-directory"])
def test_a_template_file_outside_the_assembly_is_not_read(
    assembly: Path, outside: Path, how: str
) -> None:
    planted = outside / "planted.template.json"
    if how == "absolute":
        named = str(planted)
    elif how == "climbs":
        named = "../outside/planted.template.json"
    elif how == "symlink":
        (assembly / "link.template.json").symlink_to(planted)
        named = "link.template.json"
    else:
        (assembly / "sub").symlink_to(outside, target_is_directory=True)
        named = "sub/planted.template.json"
    add_stack(assembly, "Planted", named)
    outputs = audit_every_format(assembly, 1)
    assert "is outside the assembly directory" in outputs["text"]
    assert GOOD in outputs["text"]  # the rest is still audited
    assert "passed: 1 function(s)" not in outputs["text"]


def test_a_stage_directory_outside_the_assembly_is_not_read(assembly: Path, outside: Path) -> None:
    add_artifact(
        assembly,
        "Stage",
        {"type": "cdk:cloud-assembly", "properties": {"directoryName": "../outside"}},
    )
    outputs = audit_every_format(assembly, 1)
    assert "directoryName is outside the assembly directory" in outputs["text"]
    assert GOOD in outputs["text"]


def test_a_nested_stack_outside_the_assembly_is_not_read(assembly: Path, outside: Path) -> None:
    (assembly / "parent.template.json").write_text(
        json.dumps(
            {"Resources": {"Child": nested_stack_resource("../outside/planted.template.json")}}
        )
    )
    add_stack(assembly, "Parent", "parent.template.json")
    outputs = audit_every_format(assembly, 1)
    assert "aws:asset:path is outside the assembly directory" in outputs["text"]


def test_an_assets_manifest_source_outside_the_assembly_is_not_read(
    assembly: Path, outside: Path
) -> None:
    key = "a" * 64
    resource = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": f"https://s3.us-east-1.amazonaws.com/bucket/{key}.json"},
    }
    (assembly / "parent.template.json").write_text(json.dumps({"Resources": {"Child": resource}}))
    (assembly / "parent.assets.json").write_text(
        json.dumps({"files": {key: {"source": {"path": "../outside/planted.template.json"}}}})
    )
    add_stack(assembly, "Parent", "parent.template.json")
    outputs = audit_every_format(assembly, 1)
    assert "outside the assembly directory" in outputs["text"]


def test_metadata_outside_the_assembly_is_not_read(assembly: Path, outside: Path) -> None:
    (outside / "planted.metadata.json").write_text(
        json.dumps(
            {
                f"/{CANARY}/Worker/Resource": [
                    {"type": "aws:cdk:logicalId", "data": "Worker11F36D0F"}
                ]
            }
        )
    )
    manifest = json.loads((assembly / "manifest.json").read_text())
    manifest["artifacts"]["CrossAccountWorkload"]["additionalMetadataFile"] = (
        "../outside/planted.metadata.json"
    )
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    audit_every_format(assembly, 0)


@pytest.mark.parametrize("target", ["outside", "/dev/zero", "/etc/passwd"])
def test_a_manifest_that_links_outside_the_assembly_is_refused(
    assembly: Path, outside: Path, target: str
) -> None:
    (assembly / "manifest.json").unlink()
    (assembly / "manifest.json").symlink_to(
        outside / "manifest.json" if target == "outside" else target
    )
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert "outside the assembly directory" in one_line(done.stderr)
    assert CANARY.encode() not in done.stdout + done.stderr


# --------------------------------------------------------------------------------------------
# Denial of service
# --------------------------------------------------------------------------------------------


def billion_laughs(levels: int = 12) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines)


@pytest.mark.parametrize("where", ["policy", "image"])
def test_yaml_aliases_that_expand_are_refused(assembly: Path, where: str) -> None:
    laughs = billion_laughs().replace("\n", "\n" + " " * 6)
    value = "!Join ['', *a11]" if where == "image" else "*a11"
    template = f"""
Resources:
  Laughs:
    Type: AWS::ECR::Repository
    Metadata:
      {laughs}
    Properties:
      RepositoryPolicyText: {value if where == "policy" else "{}"}
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      Code:
        ImageUri: {value if where == "image" else "x"}
"""
    (assembly / "laughs.template.yaml").write_text(template)
    add_stack(assembly, "Laughs", "laughs.template.yaml")
    outputs = audit_every_format(assembly, 1)
    assert "YAML aliases (*name) are not allowed" in outputs["text"]
    assert GOOD in outputs["text"]


def test_nested_stacks_that_share_a_child_are_read_once_and_capped(assembly: Path) -> None:
    for level in range(22):  # each level names the next twice: 2**22 stacks if expanded
        child = f"level{level + 1}.nested.template.json"
        (assembly / f"level{level}.nested.template.json").write_text(
            json.dumps(
                {
                    "Resources": {
                        "Left": nested_stack_resource(child),
                        "Right": nested_stack_resource(child),
                    }
                }
            )
        )
    (assembly / "level22.nested.template.json").write_text(json.dumps({"Resources": {}}))
    add_stack(assembly, "Diamond", "level0.nested.template.json")
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert f"more than {load.MAX_STACKS:,} stacks" in one_line(done.stderr)


def test_a_nested_stack_that_includes_itself_is_an_error_finding(assembly: Path) -> None:
    (assembly / "loop.nested.template.json").write_text(
        json.dumps({"Resources": {"Again": nested_stack_resource("loop.nested.template.json")}})
    )
    add_stack(assembly, "Loop", "loop.nested.template.json")
    outputs = audit_every_format(assembly, 1)
    assert "(a loop): it is not read again" in outputs["text"]
    assert GOOD in outputs["text"]


def test_more_stacks_than_the_cap_are_refused(assembly: Path) -> None:
    manifest = json.loads((assembly / "manifest.json").read_text())
    copy = {
        "type": "aws:cloudformation:stack",
        "environment": "aws://111111111111/us-east-1",
        "properties": {"templateFile": "CrossAccountRegistry.template.json"},
    }
    for index in range(load.MAX_STACKS):
        manifest["artifacts"][f"Copy{index}"] = copy
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert f"more than {load.MAX_STACKS:,} stacks" in one_line(done.stderr)


def test_a_fifo_as_a_template_is_not_opened_for_reading(assembly: Path) -> None:
    os.mkfifo(assembly / "fifo.template.json")
    add_stack(assembly, "Fifo", "fifo.template.json")
    outputs = audit_every_format(assembly, 1)  # would wait forever on a blocking open
    assert "is not a regular file" in outputs["text"]


def test_dev_zero_as_a_template_is_not_read(assembly: Path) -> None:
    (assembly / "zero.template.json").symlink_to("/dev/zero")
    add_stack(assembly, "Zero", "zero.template.json")
    add_stack(assembly, "ZeroAbsolute", "/dev/zero")
    outputs = audit_every_format(assembly, 1)
    assert "zero.template.json: templateFile is outside the assembly directory" in outputs["text"]


def test_a_template_above_the_size_cap_is_not_read(assembly: Path) -> None:
    with (assembly / "huge.template.json").open("wb") as sparse:
        sparse.truncate(load.MAX_FILE_BYTES + 1)  # no disk, no memory: its size is checked first
    add_stack(assembly, "Huge", "huge.template.json")
    outputs = audit_every_format(assembly, 1)
    assert f"more than the {load.MAX_FILE_BYTES:,} the audit reads" in outputs["text"]


def test_an_assembly_above_the_total_read_cap_is_refused(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Many files each under the file cap: the total is capped too (in-process, with a small
    cap standing for the 512 MB one)."""
    for index in range(20):
        template = {"Resources": {f"Topic{i}": {"Type": "AWS::SNS::Topic"} for i in range(400)}}
        (assembly / f"many{index}.template.json").write_text(json.dumps(template))
        add_stack(assembly, f"Many{index}", f"many{index}.template.json")
    assert cli.main(["audit", str(assembly)]) == 0  # the 20 stacks are fine under the real cap
    capsys.readouterr()
    monkeypatch.setattr(load, "MAX_ASSEMBLY_BYTES", 200_000)
    assert cli.main(["audit", str(assembly)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "more than the 200,000 bytes one audit reads" in err


def test_a_template_nested_too_deeply_is_a_usage_error(assembly: Path) -> None:
    (assembly / "deep.template.json").write_text('{"a":' + "[" * 100_000 + "]" * 100_000 + "}")
    add_stack(assembly, "Deep", "deep.template.json")
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert "nested too deeply" in one_line(done.stderr)


# --------------------------------------------------------------------------------------------
# Crashes: wrong types, malformed manifests (fail closed), symbolic link loops
# --------------------------------------------------------------------------------------------


def _workload(assembly: Path) -> dict[str, Any]:
    return json.loads((assembly / "CrossAccountWorkload.template.json").read_text())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("FunctionName", 12345),
        ("Code", 5),
        ("Code", {"ImageUri": {"Fn::Join": ["", [111111111111, ".dkr.ecr", 5]]}}),
        ("Code", {"ImageUri": {"Fn::Join": [5, ["a"]]}}),
        ("Code", {"ImageUri": {"Fn::Sub": 5}}),
        ("Role", {"Fn::GetAtt": 5}),
        ("PackageType", ["Image"]),
    ],
)
def test_wrong_typed_function_properties_are_judged_not_crashed(
    assembly: Path, key: str, value: Any
) -> None:
    template = _workload(assembly)
    template["Resources"]["Worker11F36D0F"]["Properties"][key] = value
    (assembly / "CrossAccountWorkload.template.json").write_text(json.dumps(template))
    for output in FORMATS:
        done = run_cli("audit", str(assembly), "--format", output)
        assert done.returncode in (0, 1), done.stderr
        assert done.stderr == b""


@pytest.mark.parametrize(
    ("where", "value", "message"),
    [
        ("Type", ["AWS::Lambda::Function"], "Resources.Worker11F36D0F.Type is a list"),
        ("Properties", 5, "Resources.Worker11F36D0F.Properties is a int"),
        ("Metadata", [], "Resources.Worker11F36D0F.Metadata is a list"),
        ("Resources", 5, "Resources is a int, not an object"),
    ],
)
def test_a_template_not_shaped_as_cloudformation_is_an_error_finding(
    assembly: Path, where: str, value: Any, message: str
) -> None:
    template = _workload(assembly)
    if where == "Resources":
        template["Resources"] = value
    else:
        template["Resources"]["Worker11F36D0F"][where] = value
    (assembly / "CrossAccountWorkload.template.json").write_text(json.dumps(template))
    outputs = audit_every_format(assembly, 1)
    assert message in outputs["text"]
    assert "passed" not in outputs["text"].splitlines()[-1]


def _artifacts(assembly: Path) -> dict[str, Any]:
    return json.loads((assembly / "manifest.json").read_text())["artifacts"]


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ("[]", "the manifest is a list, not an object"),
        ('{"artifacts": [1, 2]}', "artifacts is a list, not an object"),
        ('{"artifacts": {"Stack": 5}}', "artifacts.Stack is a int, not an object"),
        (
            '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": '
            '{"templateFile": 5}}}}',
            "artifacts.S.properties.templateFile must be a path string",
        ),
        (
            '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "properties": []}}}',
            "artifacts.S.properties is a list, not an object",
        ),
        (
            '{"artifacts": {"S": {"type": "aws:cloudformation:stack", "metadata": 7, '
            '"properties": {"templateFile": "x.json"}}}}',
            "artifacts.S.metadata is a int, not an object",
        ),
        (
            '{"artifacts": {"S": {"type": ["aws:cloudformation:stack"]}}}',
            "artifacts.S.type must be a string",
        ),
    ],
)
def test_a_malformed_manifest_fails_closed(assembly: Path, manifest: str, message: str) -> None:
    (assembly / "manifest.json").write_text(manifest)
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert message in one_line(done.stderr)
    assert b"passed" not in done.stdout


def test_duplicate_artifact_keys_are_an_error(assembly: Path) -> None:
    failing = json.dumps(_artifacts(assembly)["CrossAccountWorkload"])
    text = (assembly / "manifest.json").read_text()
    # the first (failing: its template is missing) stack would be dropped silently by json.loads
    text = text.replace(
        '"artifacts": {',
        '"artifacts": {"CrossAccountWorkload": '
        + failing.replace("CrossAccountWorkload.template.json", "gone.template.json")
        + ",",
        1,
    )
    (assembly / "manifest.json").write_text(text)
    done = run_cli("audit", str(assembly))
    assert done.returncode == 2
    assert "the key 'CrossAccountWorkload' appears twice" in one_line(done.stderr)


def test_duplicate_keys_in_a_template_are_an_error_finding(assembly: Path) -> None:
    text = (assembly / "CrossAccountRegistry.template.json").read_text()
    (assembly / "CrossAccountRegistry.template.json").write_text(
        text.replace('"Resources": {', '"Resources": {"A": {"Type": "X"}, "A": {"Type": "Y"},', 1)
    )
    outputs = audit_every_format(assembly, 1)
    assert "the key 'A' appears twice in one object" in outputs["text"]


def test_a_symbolic_link_loop_is_an_error_finding(assembly: Path) -> None:
    (assembly / "a.template.json").symlink_to("b.template.json")
    (assembly / "b.template.json").symlink_to("a.template.json")
    add_stack(assembly, "Loop", "a.template.json")
    outputs = audit_every_format(assembly, 1)
    assert "a symbolic link loop" in outputs["text"]


def test_an_assembly_directory_that_is_a_symlink_loop_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    done = run_cli("audit", str(tmp_path / "loop"))
    assert done.returncode == 2
    one_line(done.stderr)


def test_an_unexpected_failure_is_one_line_and_exit_2(
    assembly: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last line of defence: a failure no check foresaw is a usage error, never a pass,
    never exit 1, never a traceback."""

    def broken(*args: Any, **kwargs: Any) -> AuditReport:
        raise TypeError(f"'int' object is not subscriptable (https://u:{CANARY}@host)\x1b[2J")

    monkeypatch.setattr(cli, "audit_assembly", broken)
    assert cli.main(["audit", str(assembly)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1
    assert "TypeError: 'int' object is not subscriptable" in err and "this is a bug" in err
    assert CANARY not in err and "\x1b" not in err


# --------------------------------------------------------------------------------------------
# Output: --output through non-regular files, SIGTERM, control characters, JUnit in one pass
# --------------------------------------------------------------------------------------------


def test_output_writes_through_a_symlink_and_never_replaces_it(
    assembly: Path, tmp_path: Path
) -> None:
    target = tmp_path / "real.sarif"
    target.write_text("old")
    link = tmp_path / "link.sarif"
    link.symlink_to(target)
    null = tmp_path / "null"
    null.symlink_to(os.devnull)
    for output in (link, null):
        done = run_cli("audit", str(assembly), "--format", "sarif", "--output", str(output))
        assert (done.returncode, done.stderr) == (0, b"")
        assert output.is_symlink()
    assert json.loads(target.read_text())["version"] == "2.1.0"
    assert Path(os.devnull).is_char_device()
    assert not list(tmp_path.glob(".*.partial"))


def test_output_writes_through_a_fifo(assembly: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "report.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    done = run_cli("audit", str(assembly), "--format", "junit", "--output", str(fifo))
    reader.join(timeout=TIME_CAP)
    assert (done.returncode, done.stderr) == (0, b"")
    assert fifo.exists() and not fifo.is_file()  # still the FIFO
    ET.fromstring(received[0])


def test_sigterm_during_the_write_removes_the_partial_file(
    assembly: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    output = tmp_path / "reports" / "audit.xml"

    class Killed(junit.JunitFormatter):
        def write(self, *args: Any, **kwargs: Any) -> None:
            super().write(*args, **kwargs)
            assert (output.parent / ".audit.xml.partial").exists()
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setitem(cli.FORMATTERS, "junit", Killed)
    with pytest.raises(SystemExit) as exited:
        cli.main(["audit", str(assembly), "--format", "junit", "--output", str(output)])
    assert exited.value.code == 128 + signal.SIGTERM
    assert list(output.parent.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_control_characters_are_escaped_in_every_format(assembly: Path) -> None:
    evil = "Worker\x1b]0;owned\x07\x1b[2J\x00\x08\x0b\ud800\u202e"
    text = (assembly / "CrossAccountWorkload.template.json").read_text()
    text = text.replace("Worker11F36D0F", json.dumps(evil)[1:-1])
    text = text.replace('"ecr-lambda-access-integ-cross-account"', json.dumps("svc\x1b[31m\x9b"))
    (assembly / "CrossAccountWorkload.template.json").write_text(text)
    (assembly / "CrossAccountWorkload.metadata.json").unlink()
    manifest = json.loads((assembly / "manifest.json").read_text())
    del manifest["artifacts"]["CrossAccountWorkload"]["additionalMetadataFile"]
    (assembly / "manifest.json").write_text(json.dumps(manifest))
    outputs = audit_every_format(assembly, 1)  # the name no longer matches the SourceArn
    for control in ("\x1b", "\x07", "\x00", "\x08", "\x0b", "\x9b", "\ud800", "\u202e"):
        assert control not in outputs["text"]
        assert control not in outputs["junit"]
    assert "\\x1b]0;owned" in outputs["text"] and "\\x1b]0;owned" in outputs["junit"]
    names = [f["function"] for f in json.loads(outputs["json"])["functions"]]
    assert any(evil in name for name in names)  # JSON keeps the value, escaped by construction


def test_junit_indexes_functions_once_not_per_stack() -> None:
    """10,000 stacks x their functions: one pass over the functions, not one per stack."""

    class Counted(list[Any]):
        iterations = 0

        def __iter__(self) -> Iterator[Any]:
            Counted.iterations += 1
            return super().__iter__()

    functions = Counted(
        FunctionReport(
            function=f"Stack{i}/Fn",
            stack=f"Stack{i}",
            account="111111111111",
            region="us-east-1",
            image="111111111111.dkr.ecr.us-east-1.amazonaws.com/app:v1",
            repository=None,
            status="ok",
            detail="fine",
            logical_id="Fn",
            template_path=f"Stack{i}.template.json",
        )
        for i in range(2_000)
    )
    report = AuditReport(functions=functions, repositories=(), findings=())  # type: ignore[arg-type]
    tree = junit.junit_tree(report, strict=False)
    assert len(tree.getroot()) == 2_000
    assert Counted.iterations <= 3


def test_the_safety_guide_states_the_limits_the_code_enforces() -> None:
    from ecr_lambda_access.audit import live

    guide = (Path(__file__).parents[1] / "docs" / "audit-safety.md").read_text()
    assert f"**{load.MAX_FILE_BYTES // 2**20} MB**" in guide
    assert f"**{load.MAX_ASSEMBLY_BYTES // 2**20} MB**" in guide
    assert f"more than the {load.MAX_ASSEMBLY_BYTES:,} bytes one audit reads" in guide
    assert f"**{load.MAX_STACKS:,}**" in guide and f"more than {load.MAX_STACKS:,} stacks" in guide
    assert f"**{load.MAX_NESTED_STACK_DEPTH}**" in guide
    assert cli._parser().parse_args(["audit"]).timeout == live.DEFAULT_TIMEOUT
    assert f"(default {live.DEFAULT_TIMEOUT:g}, at most {cli._MAX_TIMEOUT:,.0f}: a day)" in guide
    credentials = live.AccountCredentials()
    config = credentials._config
    assert (config.connect_timeout, config.read_timeout) == (10, 30)
    assert "connect timeout of 10 s and a read timeout of 30 s" in guide
    assert config.retries == {"mode": "standard", "max_attempts": 8}
    assert "(8 attempts" in guide


def test_output_from_a_thread_other_than_the_main_one(assembly: Path, tmp_path: Path) -> None:
    """Signal handlers can only be set in the main thread: elsewhere the write goes on without
    one (a tool that runs the CLI in a worker thread gets its report, not exit 2)."""
    output = tmp_path / "report.json"
    statuses: list[int] = []
    worker = threading.Thread(
        target=lambda: statuses.append(
            cli.main(["audit", str(assembly), "--format", "json", "--output", str(output)])
        )
    )
    worker.start()
    worker.join(timeout=TIME_CAP)
    assert statuses == [0]
    assert json.loads(output.read_text())["summary"]["failed"] is False


def test_a_number_as_function_name_is_read_as_its_text(assembly: Path) -> None:
    """CloudFormation reads ``FunctionName: 12345`` as the name "12345": the detail names that
    function's ARN, not a generated name."""
    template = _workload(assembly)
    template["Resources"]["Worker11F36D0F"]["Properties"]["FunctionName"] = 12345
    (assembly / "CrossAccountWorkload.template.json").write_text(json.dumps(template))
    done = run_cli("audit", str(assembly), "--format", "json")
    (function,) = json.loads(done.stdout)["functions"]
    assert function["status"] == "missing-service-grant"
    assert "function:12345" in function["detail"]
    assert "no FunctionName" not in function["detail"]
