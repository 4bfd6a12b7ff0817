"""ImagePullMonitor and ImagePullMonitorReadRole: what they synthesize (one real synth with the
cdk-nag packs for the module), cfn-lint, checkov, the snapshot, and their errors."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_sns as sns
from support import (
    DIGEST,
    REGION,
    REGISTRY,
    WORKLOAD,
    acknowledge,
    acknowledgements,
    assert_checkov_clean,
    cfn_lint,
    describe,
    env,
    new_app,
    synth_with_nag,
)

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    EcrLambdaAccessError,
    ImagePullMonitor,
    ImagePullMonitorReadRole,
    InvalidRepositoryError,
    LambdaConsumer,
)
from ecr_lambda_access.monitor import BREAKING_API_CALLS

EU = "eu-west-1"
OTHER = "333333333333"
READ_ROLE = "ImagePullMonitorRead"


class World:
    def __init__(self, outdir: Path) -> None:
        self.app = new_app(outdir)
        app = self.app
        registry = cdk.Stack(app, "Registry", env=env())
        self.repo = CrossAccountImageRepo(
            registry, "Images", repository_name="shared/orders", consumers=[OTHER]
        )
        self.other_repo = CrossAccountImageRepo(
            registry,
            "Tools",
            repository_name="shared/tools",
            consumers=[LambdaConsumer(OTHER, function_name_prefix="tools-")],
        )
        replica_stack = cdk.Stack(app, "RegistryEu", env=env(REGISTRY, EU))
        self.replica = self.repo.add_replica(replica_stack)
        acknowledge(
            registry.node.find_child("EcrLambdaAccessReplication"),
            "ecr-lambda-access:replicationReplacesRegistryConfiguration",
            "the test's registry has no replication configuration of its own to keep",
        )
        monitors = cdk.Stack(app, "Monitor", env=env())
        self.topic = sns.Topic.from_topic_arn(
            monitors, "Topic", f"arn:aws:sns:{REGION}:{REGISTRY}:alarms"
        )
        self.monitor = ImagePullMonitor(
            monitors,
            "Monitor",
            alarm_topic=self.topic,
            consumer_read_role_name=READ_ROLE,
        )
        self.eu_monitor = ImagePullMonitor(replica_stack, "Monitor", schedule=cdk.Duration.hours(6))
        workload = cdk.Stack(app, "Workload", env=env(WORKLOAD))
        self.api = ContainerFunction(
            workload, "Api", repository=self.repo, tag_or_digest="v1", function_name="orders-api"
        )
        self.worker = ContainerFunction(
            workload,
            "Worker",
            repository=self.repo,
            image_digest=DIGEST,
            cloudformation_generated_name=True,
        )
        self.read_role = ImagePullMonitorReadRole(workload, "MonitorRead", monitor=self.monitor)
        registry_app = cdk.Stack(app, "RegistryApp", env=env())  # a function of the registry
        self.own = ContainerFunction(
            registry_app,
            "Own",
            repository=self.repo,
            tag_or_digest="v1",
            function_name="registry-api",
        )
        workload_eu = cdk.Stack(app, "WorkloadEu", env=env(WORKLOAD, EU))
        self.eu_api = ContainerFunction(
            workload_eu, "Api", repository=self.repo, tag_or_digest="v1", function_name="orders-eu"
        )
        for function in (self.api, self.worker, self.eu_api, self.own):
            for rule, reason in (
                ("Serverless::Serverless-LambdaDLQ", "the test's functions are not invoked"),
            ):
                acknowledge(function, rule, reason + " asynchronously, so no DLQ applies here")
        self.outdir, self.violations, self.assembly = synth_with_nag(app)

    def template(self, name: str) -> dict[str, Any]:
        return json.loads((self.outdir / f"{name}.template.json").read_text())  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("monitor"))


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def only(items: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (item,) = items.values()
    return item


def stable(template: dict[str, Any]) -> dict[str, Any]:
    """The template with asset hashes (the library's source + the configuration) written out."""
    text = re.sub(r"\b[0-9a-f]{64}\b", "<asset-hash>", json.dumps(template))
    return json.loads(text)  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# What it watches
# --------------------------------------------------------------------------------------------


def test_by_default_it_watches_every_repository_of_its_account_and_region(world: World) -> None:
    config = world.monitor.config
    assert config["account"] == REGISTRY and config["region"] == REGION
    assert [r["name"] for r in config["repositories"]] == ["shared/orders", "shared/tools"]
    orders = config["repositories"][0]
    assert orders["functions"][0] == {
        "function": "RegistryApp/Own",
        "stack": "RegistryApp",
        "stack_name": "RegistryApp",
        "logical_id": next(iter(resources(world.template("RegistryApp"), "AWS::Lambda::Function"))),
        "account": REGISTRY,
        "region": REGION,
        "function_name": "registry-api",
        "reference": "v1",
    }
    assert orders["functions"][1:] == [
        {
            "function": "Workload/Api",
            "stack": "Workload",
            "stack_name": "Workload",
            "logical_id": next(
                k
                for k, v in resources(world.template("Workload"), "AWS::Lambda::Function").items()
                if v["Properties"].get("FunctionName") == "orders-api"
            ),
            "account": WORKLOAD,
            "region": REGION,
            "function_name": "orders-api",
            "reference": "v1",
        },
        {
            "function": "Workload/Worker",
            "stack": "Workload",
            "stack_name": "Workload",
            "logical_id": next(
                k
                for k, v in resources(world.template("Workload"), "AWS::Lambda::Function").items()
                if "FunctionName" not in v["Properties"]
            ),
            "account": WORKLOAD,
            "region": REGION,
            "function_name": None,
            "reference": DIGEST,
        },
    ]
    assert orders["consumers"] == [{"account": OTHER, "pattern": "*"}]
    assert orders["policy"] == next(
        r["Properties"]["RepositoryPolicyText"]
        for r in resources(world.template("Registry"), "AWS::ECR::Repository").values()
        if r["Properties"]["RepositoryName"] == "shared/orders"
    )
    tools = config["repositories"][1]
    assert tools["functions"] == [] and tools["consumers"] == [
        {"account": OTHER, "pattern": "tools-*"}
    ]
    assert config["consumer_read_role"] == f"arn:aws:iam::{{account}}:role/{READ_ROLE}"


def test_a_monitor_in_the_replica_region_watches_the_replica(world: World) -> None:
    config = world.eu_monitor.config
    (replica,) = config["repositories"]
    assert replica["name"] == "shared/orders" and replica["replica_source"] == [REGISTRY, REGION]
    assert [f["function"] for f in replica["functions"]] == ["WorkloadEu/Api"]
    assert config["consumer_read_role"] is None


def test_the_code_asset_holds_the_pure_modules_and_the_configuration(world: World) -> None:
    function = only(resources(world.template("Monitor"), "AWS::Lambda::Function"))
    key = function["Properties"]["Code"]["S3Key"]
    asset = world.outdir / f"asset.{key.removesuffix('.zip')}"
    assert json.loads((asset / "monitor.json").read_text()) == world.monitor.config
    sources = [p for p in asset.rglob("*.py")]
    assert any(p.name == "judge.py" for p in sources) and any(
        p.name == "evaluate.py" for p in sources
    )
    for path in sources:
        assert not re.search(
            r"^\s*(from|import)\s+(aws_cdk|jsii|constructs)\b", path.read_text(), re.M
        ), path


# --------------------------------------------------------------------------------------------
# How it is built
# --------------------------------------------------------------------------------------------


def test_the_checker_is_a_python_arm64_function_without_environment(world: World) -> None:
    props = only(resources(world.template("Monitor"), "AWS::Lambda::Function"))["Properties"]
    assert props["Runtime"] == "python3.14" and props["Architectures"] == ["arm64"]
    assert props["Handler"] == "ecr_lambda_access.monitor_check.handler"
    assert "Environment" not in props
    assert props["TracingConfig"] == {"Mode": "Active"}


def test_the_role_is_exact(world: World) -> None:
    template = world.template("Monitor")
    policies = resources(template, "AWS::IAM::Policy")
    check = next(p for k, p in policies.items() if "CheckPolicy" in k)
    statements = {s["Sid"]: s for s in check["Properties"]["PolicyDocument"]["Statement"]}
    assert set(statements) == {
        "WriteLogs",
        "PublishMetric",
        "PutEvents",
        "ReadRepositories",
        "AssumeConsumerReadRoles",
        "ReadOwnFunctions",  # RegistryApp/Own runs in the registry account: its own role reads it
    }
    assert statements["ReadRepositories"]["Action"] == [
        "ecr:DescribeImageReplicationStatus",
        "ecr:DescribeImages",
        "ecr:GetRepositoryPolicy",
    ]
    assert statements["ReadRepositories"]["Resource"] == [
        f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/orders",
        f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/tools",
    ]
    assert statements["PublishMetric"]["Condition"] == {
        "StringEquals": {"cloudwatch:namespace": "EcrLambdaAccess"}
    }
    assert statements["PutEvents"]["Resource"] == (
        f"arn:aws:events:{REGION}:{REGISTRY}:event-bus/default"
    )
    assert statements["AssumeConsumerReadRoles"]["Resource"] == (
        f"arn:aws:iam::{WORKLOAD}:role/{READ_ROLE}"
    )
    assert statements["WriteLogs"]["Resource"]["Fn::GetAtt"][1] == "Arn"
    others = [p for k, p in policies.items() if "CheckPolicy" not in k]
    assert [
        s["Action"] for p in others for s in p["Properties"]["PolicyDocument"]["Statement"]
    ] == [["xray:PutTelemetryRecords", "xray:PutTraceSegments"]]
    role = only(resources(template, "AWS::IAM::Role"))["Properties"]
    assert "ManagedPolicyArns" not in role and role["RoleName"] == world.monitor.role_name


def test_without_read_role_there_is_no_assume_role(world: World) -> None:
    policies = resources(world.template("RegistryEu"), "AWS::IAM::Policy")
    actions = [
        a
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "sts:AssumeRole" not in actions
    check = next(p for k, p in policies.items() if "CheckPolicy" in k)
    statements = {s["Sid"]: s for s in check["Properties"]["PolicyDocument"]["Statement"]}
    # the replica's replication status is read in its source (same account, other Region)
    assert statements["ReadReplicationSources"] == {
        "Sid": "ReadReplicationSources",
        "Effect": "Allow",
        "Action": "ecr:DescribeImageReplicationStatus",
        "Resource": f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/orders",
    }


def test_it_runs_on_schedule_on_image_deletes_and_on_api_calls(world: World) -> None:
    rules = resources(world.template("Monitor"), "AWS::Events::Rule")
    schedules = [
        r["Properties"]["ScheduleExpression"]
        for r in rules.values()
        if "ScheduleExpression" in r["Properties"]
    ]
    assert schedules == ["rate(1 hour)"]
    patterns = [
        r["Properties"]["EventPattern"] for r in rules.values() if "EventPattern" in r["Properties"]
    ]
    names = ["shared/orders", "shared/tools"]
    assert {
        "source": ["aws.ecr"],
        "detail-type": ["ECR Image Action"],
        "detail": {"action-type": ["DELETE"], "repository-name": names},
    } in patterns
    trail = [p for p in patterns if p["detail-type"] == ["AWS API Call via CloudTrail"]]
    assert sorted(n for p in trail for n in p["detail"]["eventName"]) == sorted(BREAKING_API_CALLS)
    assert any(p["detail"].get("requestParameters") == {"repositoryName": names} for p in trail)
    eu = resources(world.template("RegistryEu"), "AWS::Events::Rule")
    assert [
        r["Properties"].get("ScheduleExpression")
        for r in eu.values()
        if "ScheduleExpression" in r["Properties"]
    ] == ["rate(6 hours)"]


def test_the_alarm_watches_the_total_and_notifies_the_topic(world: World) -> None:
    alarm = only(resources(world.template("Monitor"), "AWS::CloudWatch::Alarm"))["Properties"]
    assert alarm["Namespace"] == "EcrLambdaAccess"
    assert alarm["MetricName"] == "FunctionsThatCannotPull"
    assert alarm["Dimensions"] == [{"Name": "Repository", "Value": "ALL"}]
    assert alarm["Threshold"] == 1 and alarm["Statistic"] == "Maximum"
    assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    topic = f"arn:aws:sns:{REGION}:{REGISTRY}:alarms"
    assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic]
    assert world.monitor.alarm is not None and world.monitor.function is not None


def test_the_read_role_trusts_the_monitor_role_only_and_reads_only(world: World) -> None:
    roles = resources(world.template("Workload"), "AWS::IAM::Role")
    role = next(r for r in roles.values() if r["Properties"].get("RoleName") == READ_ROLE)
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{REGISTRY}:root"}
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": world.monitor.role_arn}}
    (policy,) = role["Properties"]["Policies"]
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in s["Action"]}
    assert actions == {"lambda:GetFunction", "cloudformation:DescribeStackResource"}


# --------------------------------------------------------------------------------------------
# Scanners and the snapshot
# --------------------------------------------------------------------------------------------


def test_cdk_nag_is_clean_with_reasoned_acknowledgements(world: World) -> None:
    assert world.violations == [], describe(world.violations)
    acks = acknowledgements(world.outdir)
    monitor_acks = {p: r for p, r in acks.items() if "/Monitor" in p}
    assert monitor_acks
    for path, rules in acks.items():
        for rule, reason in rules.items():
            assert len(reason) > 40, f"{path}: {rule}: {reason!r}"


def test_cfn_lint_and_checkov_are_clean(world: World, tmp_path: Path) -> None:
    templates = [world.outdir / f"{n}.template.json" for n in ("Monitor", "RegistryEu")]
    findings = cfn_lint(templates, ignore=["W3005"])
    assert findings == [], [(f["Rule"]["Id"], f["Message"]) for f in findings]
    assert_checkov_clean(templates, tmp_path)


def test_snapshot_of_the_monitor_stack(world: World, snapshot_json: Any) -> None:
    assert stable(world.template("Monitor")) == snapshot_json


# --------------------------------------------------------------------------------------------
# Errors, before synth
# --------------------------------------------------------------------------------------------


def test_errors_name_every_bad_argument() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env())
    eu = cdk.Stack(app, "E", env=env(REGISTRY, EU))
    far = CrossAccountImageRepo(eu, "Far", repository_name="far/away")
    unnamed = CrossAccountImageRepo(stack, "Unnamed")
    with pytest.raises(InvalidRepositoryError) as raised:
        ImagePullMonitor(
            stack,
            "M",
            repositories=[far, unnamed, "shared/orders"],
            consumer_read_role_name="no spaces allowed",
        )
    message = str(raised.value)
    assert "repositories[0]" in message and EU in message
    assert "repositories[1]" in message and "repository_name" in message
    assert "repositories[2] is str" in message
    assert "consumer_read_role_name='no spaces allowed'" in message
    agnostic = cdk.Stack(app, "Agnostic")
    with pytest.raises(EcrLambdaAccessError, match="environment-agnostic"):
        ImagePullMonitor(agnostic, "M")


def test_the_read_role_needs_a_name() -> None:
    app = new_app()
    monitor = ImagePullMonitor(cdk.Stack(app, "S", env=env()), "M")
    with pytest.raises(EcrLambdaAccessError, match="consumer_read_role_name"):
        ImagePullMonitorReadRole(cdk.Stack(app, "W", env=env(WORKLOAD)), "R", monitor=monitor)


# --------------------------------------------------------------------------------------------
# docs/monitor.md stays true
# --------------------------------------------------------------------------------------------

DOCS = (Path(__file__).resolve().parent.parent / "docs" / "monitor.md").read_text()


def test_the_docs_snippet_synthesizes() -> None:
    (snippet,) = re.findall(r"```python\n(.*?)```", DOCS, flags=re.DOTALL)
    namespace: dict[str, Any] = {"__name__": "docs_monitor"}
    exec(compile(snippet, "docs/monitor.md", "exec"), namespace)
    monitor = namespace["monitor"]
    assert [r["name"] for r in monitor.config["repositories"]] == ["shared/orders"]
    (function,) = monitor.config["repositories"][0]["functions"]
    assert function["function_name"] == "orders-api" and function["reference"] == "v1.4.2"
    outdir = Path(namespace["assembly"].directory)
    template = json.loads((outdir / "Workload.template.json").read_text())
    roles = resources(template, "AWS::IAM::Role").values()
    assert any(r["Properties"].get("RoleName") == "ImagePullMonitorRead" for r in roles)


def test_the_docs_name_what_the_monitor_uses() -> None:
    from ecr_lambda_access import monitor_check

    for word in (
        *BREAKING_API_CALLS,
        monitor_check.NAMESPACE,
        monitor_check.METRIC_NAME,
        monitor_check.DETAIL_TYPE,
        monitor_check.EVENT_SOURCE,
        "ECR Image Action",
        "CloudTrail trail",
        "ecr:GetRepositoryPolicy",
        "ecr:DescribeImages",
        "ecr:DescribeImageReplicationStatus",
        "cloudwatch:namespace",
        "events:PutEvents",
        "sts:AssumeRole",
        "Python 3.14",
    ):
        assert word in DOCS, word
    from ecr_lambda_access.audit import rules
    from ecr_lambda_access.audit.live import DRIFTED, FUNCTION_FAILED, IMAGE_MISSING

    for status in (
        DRIFTED,
        IMAGE_MISSING,
        FUNCTION_FAILED,
        rules.MISSING_ROOT,
        rules.MISSING_SERVICE,
        rules.UNVERIFIABLE,
    ):
        assert f"`{status}`" in DOCS, status


def test_a_watched_repository_without_a_name_fails_the_synth() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env())
    CrossAccountImageRepo(stack, "Unnamed", consumers=[WORKLOAD])
    ImagePullMonitor(stack, "M")
    with pytest.raises(RuntimeError, match="S/Unnamed has no literal repository_name"):
        app.synth()
