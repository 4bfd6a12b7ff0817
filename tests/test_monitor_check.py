"""ImagePullMonitor's checker (``ecr_lambda_access.monitor_check``) against a mocked AWS (moto).

The registry is moto's default account (the checker's own credentials); consumer accounts are
reached through the read role (moto puts an assumed role's resources in its account). What moto
cannot do (replication status, function state, a role that cannot be assumed) is answered by
``live_fleet.MotoGaps``. No test reaches AWS: fake credentials and a socket guard.
"""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import live_fleet as lf
import pytest
from live_fleet import offline_aws  # noqa: F401 (autouse: fake credentials, no network)

from ecr_lambda_access import monitor_check
from ecr_lambda_access.policy import LambdaConsumer, repository_policy

OWN = "123456789012"  # moto's account for the default credentials: the registry
US, EU = "us-east-1", "eu-west-1"
A, B = lf.accounts(2)
NAME = "shared/orders"
READ_ROLE = "ImagePullMonitorRead"


def policy_of(region: str) -> dict[str, Any]:
    return repository_policy(
        [LambdaConsumer(A, function_name="orders-api"), B], repository_account=OWN, region=region
    )


def config(region: str = US, *, read_role: bool = False, **repository: Any) -> dict[str, Any]:
    entry = {
        "name": NAME,
        "organization_id": None,
        "policy": policy_of(region),
        "replica_source": None,
        "functions": [
            {
                "function": "Workload/Api",
                "stack": "Workload",
                "stack_name": "Workload",
                "logical_id": "Api1234",
                "account": A,
                "region": region,
                "function_name": "orders-api",
                "reference": lf.TAG,
            }
        ],
        "consumers": [{"account": B, "pattern": "*"}],
        **repository,
    }
    return {
        "version": 1,
        "account": OWN,
        "region": region,
        "partition": "aws",
        "url_suffix": "amazonaws.com",
        "consumer_read_role": f"arn:aws:iam::{{account}}:role/{READ_ROLE}" if read_role else None,
        "repositories": [entry],
    }


def own(service: str, region: str = US) -> Any:
    return lf.new_session().client(service, region_name=region)


def deploy_registry(region: str = US, *, tag: str = lf.TAG) -> str:
    ecr = own("ecr", region)
    ecr.create_repository(repositoryName=NAME)
    ecr.set_repository_policy(repositoryName=NAME, policyText=json.dumps(policy_of(region)))
    image = ecr.put_image(repositoryName=NAME, imageManifest=lf.manifest(), imageTag=tag)
    return str(image["image"]["imageId"]["imageDigest"])


def deploy_function(account: str = A, region: str = US, name: str = "orders-api") -> str:
    session = lf.account_session(account, region)
    role = session.client("iam").create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")
    uri = f"{OWN}.dkr.ecr.{region}.amazonaws.com/{NAME}:{lf.TAG}"
    session.client("lambda").create_function(
        FunctionName=name, PackageType="Image", Code={"ImageUri": uri}, Role=role["Role"]["Arn"]
    )
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


class Recorder:
    """The sessions the checker makes (MotoGaps'), recording each PutEvents entry it sends
    (moto's own delivery to targets needs a package we do not install)."""

    def __init__(self, gaps: lf.MotoGaps | None = None) -> None:
        self.gaps = gaps or lf.MotoGaps()
        self.events: list[dict[str, Any]] = []

    def session_factory(self, **kwargs: Any) -> Any:
        session = self.gaps.session_factory(**kwargs)
        session.events.register("before-parameter-build.events.PutEvents", self._record)
        return session

    def _record(self, params: dict[str, Any], **_: Any) -> None:
        for entry in params.get("Entries", []):
            self.events.append({**entry, "Detail": json.loads(entry["Detail"])})


def metric(repository: str, region: str = US) -> list[float]:
    from datetime import datetime, timedelta, timezone

    now = datetime.now(timezone.utc)
    answer = own("cloudwatch", region).get_metric_statistics(
        Namespace=monitor_check.NAMESPACE,
        MetricName=monitor_check.METRIC_NAME,
        Dimensions=[{"Name": monitor_check.DIMENSION, "Value": repository}],
        StartTime=now - timedelta(minutes=5),
        EndTime=now + timedelta(minutes=5),
        Period=60,
        Statistics=["Maximum"],
    )
    return [p["Maximum"] for p in answer["Datapoints"]]


def run(cfg: dict[str, Any], recorder: Recorder | None = None) -> dict[str, Any]:
    return monitor_check.check(cfg, session_factory=(recorder or Recorder()).session_factory)


def by_function(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["function"]: item for item in summary["cannot_pull"]}


API = f"arn:aws:lambda:{US}:{A}:function:orders-api"
B_ALL = f"arn:aws:lambda:{US}:{B}:function:*"


# --------------------------------------------------------------------------------------------


def test_a_healthy_registry_publishes_zero_and_no_event(capsys: pytest.CaptureFixture[str]) -> None:
    deploy_registry()
    sent = Recorder()
    summary = run(config(), sent)
    assert summary["cannot_pull"] == []
    assert summary["checked"] == 2 and summary["statuses"] == {"ok": 2}
    assert metric(NAME) == [0.0] and metric(monitor_check.ALL_REPOSITORIES) == [0.0]
    assert sent.events == []
    (line,) = capsys.readouterr().out.strip().splitlines()  # one JSON log line per run
    assert json.loads(line)["cannot_pull_count"] == 0


@pytest.mark.parametrize(
    ("removed", "words"),
    [
        ("CrossAccountPermission", "missing statement"),
        ("LambdaECRImageCrossAccountRetrievalPolicy", "missing statement"),
    ],
)
def test_a_removed_statement_is_drifted_with_metric_and_event(removed: str, words: str) -> None:
    deploy_registry()
    sent = Recorder()
    document = policy_of(US)
    document["Statement"] = [s for s in document["Statement"] if s["Sid"] != removed]
    own("ecr").set_repository_policy(repositoryName=NAME, policyText=json.dumps(document))
    summary = run(config(), sent)
    found = by_function(summary)
    assert set(found) == {API, B_ALL}
    assert {f["status"] for f in found.values()} == {"drifted"}
    assert words in found[API]["detail"] and removed in found[API]["detail"]
    assert metric(NAME) == [2.0] and metric(monitor_check.ALL_REPOSITORIES) == [2.0]
    (event,) = sent.events
    assert event["DetailType"] == "Image Pull Check" and event["Source"] == "ecr-lambda-access"
    assert event["Resources"] == [f"arn:aws:ecr:{US}:{OWN}:repository/{NAME}"]
    assert {(f["function"], f["status"]) for f in event["Detail"]["cannot_pull"]} == {
        (API, "drifted"),
        (B_ALL, "drifted"),
    }


def test_a_deleted_policy_is_drifted() -> None:
    deploy_registry()
    own("ecr").delete_repository_policy(repositoryName=NAME)
    found = by_function(run(config()))
    assert found[API]["status"] == "drifted" and "has no policy deployed" in found[API]["detail"]


def test_a_function_named_by_cloudformation_is_judged_as_its_account_without_read_role() -> None:
    # it registered as every function of its account (function:*), and is judged as such
    deploy_registry()
    registered = repository_policy([A, B], repository_account=OWN, region=US)
    own("ecr").set_repository_policy(repositoryName=NAME, policyText=json.dumps(registered))
    cfg = config(policy=registered, consumers=[])
    cfg["repositories"][0]["functions"][0]["function_name"] = None
    summary = run(cfg)
    assert summary["cannot_pull"] == [] and summary["statuses"] == {"ok": 1}
    narrower = policy_of(US)  # only orders-api in account A
    own("ecr").set_repository_policy(repositoryName=NAME, policyText=json.dumps(narrower))
    (item,) = run(cfg)["cannot_pull"]
    assert item["function"] == "Workload/Api" and item["status"] == "drifted"


def test_a_deleted_image_is_image_missing() -> None:
    deploy_registry()
    sent = Recorder()
    own("ecr").batch_delete_image(repositoryName=NAME, imageIds=[{"imageTag": lf.TAG}])
    summary = run(config(), sent)
    assert [(f["function"], f["status"]) for f in summary["cannot_pull"]] == [
        (API, "image-missing")
    ]
    assert "tag v1 is not in repository" in summary["cannot_pull"][0]["detail"]
    assert metric(NAME) == [1.0]
    (event,) = sent.events
    assert event["Detail"]["cannot_pull"][0]["status"] == "image-missing"


def test_a_dropped_replication_rule_leaves_the_replica_image_missing() -> None:
    digest = deploy_registry(US, tag="v2")  # the source got v2 after the rule was dropped
    replica = own("ecr", EU)
    replica.create_repository(repositoryName=NAME)
    replica.set_repository_policy(repositoryName=NAME, policyText=json.dumps(policy_of(EU)))
    replica.put_image(repositoryName=NAME, imageManifest=lf.manifest("layer-v1"), imageTag="v1")
    cfg = config(EU, replica_source=[OWN, US])
    cfg["repositories"][0]["functions"][0]["reference"] = "v2"
    gaps = lf.MotoGaps()
    gaps.replication[(OWN, NAME, digest)] = []  # the source lists no replication to eu-west-1
    sent = Recorder(gaps)
    summary = run(cfg, sent)
    (item,) = summary["cannot_pull"]
    assert item["status"] == "image-missing"
    assert f"a replica of {OWN}/{US}" in item["detail"]
    assert "lists no replication of this image to eu-west-1" in item["detail"]
    assert summary["calls"]["ecr:DescribeImageReplicationStatus"] == 1
    assert metric(NAME, EU) == [1.0]
    assert sent.events[0]["Detail"]["cannot_pull"][0]["status"] == "image-missing"


def test_a_failed_replication_is_named() -> None:
    digest = deploy_registry(US, tag="v2")
    own("ecr", EU).create_repository(repositoryName=NAME)
    own("ecr", EU).set_repository_policy(repositoryName=NAME, policyText=json.dumps(policy_of(EU)))
    cfg = config(EU, replica_source=[OWN, US])
    cfg["repositories"][0]["functions"][0]["reference"] = "v2"
    gaps = lf.MotoGaps()
    gaps.replication[(OWN, NAME, digest)] = [
        {"region": EU, "registryId": OWN, "status": "FAILED", "failureCode": "KMS_ERROR"}
    ]
    (item,) = run(cfg, Recorder(gaps))["cannot_pull"]
    assert item["status"] == "image-missing" and "FAILED (KMS_ERROR)" in item["detail"]


def test_with_the_read_role_a_failed_function_is_function_failed() -> None:
    digest = deploy_registry()
    gaps = lf.MotoGaps()
    gaps.resolved[deploy_function()] = digest
    gaps.states["orders-api"] = {
        "State": "Failed",
        "StateReasonCode": "ImageAccessDenied",
        "StateReason": "Lambda does not have permission to access the ECR image",
    }
    summary = run(config(read_role=True), Recorder(gaps))
    found = by_function(summary)
    assert found[API]["status"] == "function-failed"
    assert "ImageAccessDenied" in found[API]["detail"]
    assert B_ALL not in found  # the declared account: its policy lets it pull
    assert summary["calls"]["lambda:GetFunction"] == 1
    assert summary["calls"]["sts:AssumeRole"] == 1


def test_with_the_read_role_a_healthy_function_is_ok() -> None:
    digest = deploy_registry()
    gaps = lf.MotoGaps()
    gaps.resolved[deploy_function()] = digest
    summary = run(config(read_role=True), Recorder(gaps))
    assert summary["cannot_pull"] == [] and summary["statuses"] == {"ok": 2}


def test_an_unreachable_consumer_account_is_reported_never_ok() -> None:
    deploy_registry()
    deploy_function()
    gaps = lf.MotoGaps()
    gaps.denied_roles.add(f"arn:aws:iam::{A}:role/{READ_ROLE}")
    summary = run(config(read_role=True), Recorder(gaps))
    found = by_function(summary)
    assert found[API]["status"] == "unverifiable"
    assert f"account {A}" in found[API]["detail"] and "AccessDenied" in found[API]["detail"]
    assert metric(monitor_check.ALL_REPOSITORIES) == [1.0]


def test_a_deleted_repository_is_image_missing() -> None:
    found = by_function(run(config()))
    assert found[API]["status"] == "image-missing"
    assert "does not exist" in found[API]["detail"]
    assert found[B_ALL]["status"] == "image-missing"


def test_an_unknown_configuration_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "monitor.json"
    path.write_text(json.dumps({**config(), "version": 2}))
    with pytest.raises(ValueError, match="version 2"):
        monitor_check.load_config(path)


# --------------------------------------------------------------------------------------------
# The bundle, in a process where aws-cdk-lib, jsii and constructs cannot be imported
# --------------------------------------------------------------------------------------------

_BUNDLE_RUN = r"""
import importlib.abc, json, os, sys
bundle, site_packages = sys.argv[1], sys.argv[2]

class Blocked(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("aws_cdk", "jsii", "constructs", "cdk_nag"):
            raise ImportError(f"{name} is not importable in the Lambda bundle")
        return None

sys.meta_path.insert(0, Blocked())
sys.path[:] = [bundle, site_packages] + [p for p in sys.path if "site-packages" not in p]
from moto import mock_aws

with mock_aws():
    import boto3
    ecr = boto3.client("ecr", region_name="us-east-1")
    ecr.create_repository(repositoryName=sys.argv[3])
    ecr.set_repository_policy(repositoryName=sys.argv[3], policyText=sys.argv[4])
    ecr.put_image(repositoryName=sys.argv[3], imageManifest=sys.argv[5], imageTag="v1")
    import ecr_lambda_access.monitor_check as checker
    assert checker.__file__.startswith(bundle), checker.__file__
    result = checker.handler({"detail-type": "Scheduled Event"}, None)
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("aws_cdk", "jsii", "constructs"))
print("RESULT " + json.dumps({"result": result, "loaded": loaded}))
"""


def test_the_bundle_runs_without_aws_cdk_lib_and_jsii(tmp_path: Path) -> None:
    from ecr_lambda_access.monitor import bundle_sources, stage_bundle

    bundle = stage_bundle(config(), tmp_path / "bundle")
    assert not any(Path(p).name == "monitor.py" for p in bundle_sources())  # the construct
    assert (bundle / "ecr_lambda_access" / "monitor_check.py").exists()
    assert (bundle / "monitor.json").exists()
    env = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "PATH": "/usr/bin:/bin",
    }
    completed = subprocess.run(
        [
            sys.executable,
            "-S",
            "-I",
            "-c",
            _BUNDLE_RUN,
            str(bundle),
            sysconfig.get_paths()["purelib"],
            NAME,
            json.dumps(policy_of(US)),
            lf.manifest(),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    (line,) = [x for x in completed.stdout.splitlines() if x.startswith("RESULT ")]
    outcome = json.loads(line.removeprefix("RESULT "))
    assert outcome["loaded"] == []
    assert outcome["result"]["cannot_pull"] == []
    assert outcome["result"]["checked"] == 2 and outcome["result"]["trigger"] == "Scheduled Event"


# --------------------------------------------------------------------------------------------
# The judge alone: plain data in, verdicts out (no AWS, no boto3 client)
# --------------------------------------------------------------------------------------------


def test_the_judge_decides_from_a_snapshot_alone() -> None:
    from ecr_lambda_access.audit.live.credentials import AccountAccess
    from ecr_lambda_access.audit.live.fetch import Snapshot
    from ecr_lambda_access.audit.live.judge import judge
    from ecr_lambda_access.audit.live.verdicts import _Image, _Policy

    (target,) = monitor_check._function_targets(config(), config()["repositories"][0])
    key = (OWN, US, NAME)
    document = policy_of(US)
    without_root = {
        **document,
        "Statement": [s for s in document["Statement"] if s["Sid"] != "CrossAccountPermission"],
    }
    accesses = {OWN: AccountAccess(OWN, "the monitor's role", "arn:aws:sts::x")}
    present = {(*key, lf.TAG): _Image(True, "sha256:" + "0" * 64)}

    def status(policy: _Policy, images: Any = present) -> str:
        snapshot = Snapshot(accesses=accesses, policies={key: policy}, images=images)
        (report,) = judge([target], snapshot, observe_functions=False)
        return report.status

    assert status(_Policy(document=document)) == "ok"
    assert status(_Policy(document=without_root)) == "drifted"
    assert status(_Policy(document=None)) == "drifted"
    assert status(_Policy(exists=False), {}) == "image-missing"
    assert status(_Policy(document=document), {(*key, lf.TAG): _Image(False)}) == "image-missing"
    assert status(_Policy(error="AccessDeniedException")) == "unverifiable"
    assert status(_Policy(document=document), {}) == "unverifiable"  # not read: never ok
