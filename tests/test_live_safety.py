"""The live check against AWS endpoints that misbehave (issue 17), bounded in time.

End to end in a subprocess (memory cap, time limit) against servers on 127.0.0.1 that this test
runs and stops: one that accepts and never answers, one that throttles every call, a closed port.
``AWS_ENDPOINT_URL`` carries user information with a canary secret, which must appear in no
output format. In-process against moto: a call that never returns and a throttled API, each cut
by the deadline (``--timeout``) and reported ``unverifiable`` with the reason.
"""

from __future__ import annotations

import http.server
import json
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import live_fleet as lf
import pytest
from live_fleet import offline_aws  # noqa: F401 (autouse: fake credentials, moto, no network)
from test_audit_safety import SNAPSHOT, run_cli

from ecr_lambda_access.audit import live

CANARY = "CANARY-2c26b46b-endpoint-secret"
GOOD = "CrossAccountWorkload/Worker"
FORMATS = ("text", "json", "sarif", "junit")
DEADLINE = 2  # seconds: the --timeout of each run


def aws_environment(tmp_path: Path, port: int) -> dict[str, str]:
    """Fake credentials, no shared files, no instance metadata; every service at 127.0.0.1."""
    return {
        "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_ENDPOINT_URL": f"http://ci-user:{CANARY}@127.0.0.1:{port}",
    }


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A server that accepts every connection and never answers; stopped after the test."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    server.close()


class _Throttling(http.server.BaseHTTPRequestHandler):
    """STS answers as account 222222222222; every other call is throttled."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if b"Action=GetCallerIdentity" in body:
            self._answer(
                200,
                "text/xml",
                b"<GetCallerIdentityResponse><GetCallerIdentityResult>"
                b"<Arn>arn:aws:iam::222222222222:user/ci</Arn><UserId>AIDA</UserId>"
                b"<Account>222222222222</Account></GetCallerIdentityResult>"
                b"</GetCallerIdentityResponse>",
            )
        else:
            self._throttle()

    def do_GET(self) -> None:
        self._throttle()

    def _throttle(self) -> None:
        self._answer(
            400,
            "application/x-amz-json-1.1",
            b'{"__type": "ThrottlingException", "message": "Rate exceeded"}',
            {"x-amzn-ErrorType": "ThrottlingException"},
        )

    def _answer(
        self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def throttling_port() -> Iterator[int]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as server:
        return int(server.getsockname()[1])


def live_every_format(tmp_path: Path, port: int, assembly: Path = SNAPSHOT) -> dict[str, str]:
    """``--live`` in each format (and JSON to ``--output``): in time, no canary, no traceback.

    The runs wait on the endpoint, not the CPU: they run at once. Returns each run's stdout and
    stderr together."""
    environment = aws_environment(tmp_path, port)
    report = tmp_path / "live.json"
    runs = [("--format", output) for output in FORMATS]
    runs.append(("--strict", "--format", "json", "--output", str(report)))

    def one(args: tuple[str, ...]) -> tuple[float, subprocess.CompletedProcess[bytes]]:
        started = time.monotonic()
        done = run_cli(
            "audit",
            str(assembly),
            "--live",
            "--timeout",
            str(DEADLINE),
            *args,
            env=environment,
            timeout=DEADLINE + 30,
        )
        return time.monotonic() - started, done

    with ThreadPoolExecutor(len(runs)) as pool:
        results = list(pool.map(one, runs))
    outputs: dict[str, str] = {}
    for args, (took, done) in zip(runs, results, strict=True):
        assert took < DEADLINE + 15  # the deadline, plus start and exit on a busy machine
        assert done.returncode == (1 if "--strict" in args else 0), done.stderr
        assert CANARY.encode() not in done.stdout + done.stderr
        assert b"Traceback" not in done.stderr
        outputs[args[-1]] = (done.stdout + done.stderr).decode()
    assert CANARY.encode() not in report.read_bytes()
    data = json.loads(report.read_text())
    assert [f["status"] for f in data["live"]["functions"]] == ["unverifiable"]
    json.loads(results[1][1].stdout)
    json.loads(results[2][1].stdout)
    ET.fromstring(results[3][1].stdout)
    return outputs


def test_an_endpoint_that_never_answers_is_cut_by_the_deadline(
    tmp_path: Path, silent_port: int
) -> None:
    assembly = tmp_path / "cdk.out"  # with an escape sequence in the function's logical id
    shutil.copytree(SNAPSHOT, assembly)
    template = assembly / "CrossAccountWorkload.template.json"  # no construct path: the id
    template.write_text(template.read_text().replace("Worker11F36D0F", "Worker\\u001b[2J"))
    outputs = live_every_format(tmp_path, silent_port, assembly)
    assert all("\x1b" not in output for output in outputs.values())
    assert "Worker\\x1b[2J" in outputs["text"]
    assert f"not checked: the --timeout of {DEADLINE} s ran out" in outputs["text"]
    assert "live passed: 1 unverifiable" in outputs["text"]


def test_an_endpoint_that_throttles_every_call_is_cut_by_the_deadline(
    tmp_path: Path, throttling_port: int
) -> None:
    outputs = live_every_format(tmp_path, throttling_port)
    text = outputs["text"]
    assert "ThrottlingException" in text or f"the --timeout of {DEADLINE} s ran out" in text
    assert "unverifiable" in text


def test_an_endpoint_url_with_a_secret_is_never_printed(tmp_path: Path, closed_port: int) -> None:
    """A connection error names the endpoint URL (redacted); retried until the deadline."""
    outputs = live_every_format(tmp_path, closed_port)
    text = outputs["text"]
    assert f"http://***@127.0.0.1:{closed_port}" in text or f"the --timeout of {DEADLINE} s" in text


def test_redact_removes_user_information_and_secret_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    text = live.redact(
        f'Could not connect to "https://user:{CANARY}@vpce.example.com/" nor '
        f"s3://k:{CANARY}@bucket/x; key {CANARY}"
    )
    assert CANARY not in text
    assert "https://***@vpce.example.com/" in text and "s3://***@bucket/x" in text
    for url in (f"https://u:{CANARY}@@host", f"http://u:a@{CANARY}@host:1", f"'ftp://{CANARY}@h'"):
        assert CANARY not in live.redact(url), url
    assert (
        live.redact(f'"http://u:{CANARY}@127.0.0.1:9/" and a@b')
        == '"http://***@127.0.0.1:9/" and a@b'
    )


# --------------------------------------------------------------------------------------------
# In-process against moto: a call that never returns; a throttled API
# --------------------------------------------------------------------------------------------


@pytest.fixture
def fleet(tmp_path: Path) -> lf.Fleet:
    return lf.write_fleet(tmp_path / "cdk.out", lf.accounts(2), ["us-east-1"], 2)


@pytest.fixture
def moto_fleet(fleet: lf.Fleet) -> lf.MotoGaps:
    gaps = lf.MotoGaps()
    lf.deploy(fleet, gaps)
    return gaps


def _check(fleet: lf.Fleet, gaps: lf.MotoGaps, register: Any, timeout: float) -> Any:
    def factory(**kwargs: Any) -> Any:
        session = gaps.session_factory(**kwargs)
        register(session.events)
        return session

    _, targets = live.audit_with_targets(str(fleet.assembly))
    credentials = live.AccountCredentials(
        role_arn_template=lf.ROLE_TEMPLATE, session_factory=factory
    )
    started = time.monotonic()
    report = live.LiveCheck(credentials, max_workers=4, timeout=timeout).run(targets)
    return report, time.monotonic() - started


def test_a_call_that_never_returns_leaves_its_function_unverifiable(
    fleet: lf.Fleet, moto_fleet: lf.MotoGaps
) -> None:
    stuck = fleet.functions[0].name
    release = threading.Event()

    def hang(context: dict[str, Any], **_: Any) -> None:
        name = str((context.get("api_params") or {}).get("FunctionName"))
        if name.endswith(f":function:{stuck}"):
            release.wait(timeout=30)  # an endpoint that never answers (bounded for the test)

    try:
        report, took = _check(
            fleet,
            moto_fleet,
            lambda events: events.register("before-call.lambda.GetFunction", hang),
            timeout=2,
        )
    finally:
        release.set()
    assert took < 10
    statuses = {f.function_name: f for f in report.functions}
    assert statuses[stuck].status == "unverifiable"
    assert "the --timeout of 2 s ran out" in statuses[stuck].detail
    for name, function in statuses.items():  # the others: checked, or cut by the same deadline
        assert function.status == "ok" or "the --timeout of 2 s ran out" in function.detail, name


def test_a_throttled_api_is_retried_within_the_deadline(
    fleet: lf.Fleet, moto_fleet: lf.MotoGaps
) -> None:
    from botocore.awsrequest import AWSResponse

    class Body:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b'{"__type": "ThrottlingException", "message": "Rate exceeded"}'

    attempts: list[float] = []

    def throttle(**_: Any) -> AWSResponse:
        attempts.append(time.monotonic())
        return AWSResponse("https://ecr.invalid/", 400, {}, Body())

    report, took = _check(
        fleet,
        moto_fleet,
        lambda events: events.register("before-send.ecr.GetRepositoryPolicy", throttle),
        timeout=2,
    )
    assert took < 10
    assert len(attempts) > 1  # retried, with backoff
    assert {f.status for f in report.functions} == {"unverifiable"}
    details = " ".join(f.detail for f in report.functions)
    assert "ThrottlingException" in details or "the --timeout of 2 s ran out" in details


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1e300"])
def test_a_timeout_the_clock_cannot_wait_for_is_a_usage_error(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecr_lambda_access import cli

    assert cli.main(["audit", str(SNAPSHOT), "--live", "--timeout", value]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "--timeout must be a number of seconds above 0 and at most 86400 (a day)" in err
