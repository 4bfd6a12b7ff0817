"""Replicas: add_replica, the registry's replication configuration and registry policies, and
functions that run from their Region's replica."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from support import DIGEST, REGION, REGISTRY, WORKLOAD, WORKLOAD_2, env, new_app, warnings_of

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    InvalidConsumerError,
    LambdaConsumer,
    PolicyTooLargeError,
    RegionMismatchError,
    RegistryReplication,
    ReplicaConfigurationError,
    ReplicationLimitError,
    ReplicationRegistryPolicy,
)
from ecr_lambda_access.errors import EcrLambdaAccessError

EU = "eu-west-1"
APSE2 = "ap-southeast-2"


class Fleet:
    """A source registry in us-east-1 and stacks to put replicas and functions in."""

    def __init__(self, **source_props: Any) -> None:
        self.app = new_app()
        self.source_stack = cdk.Stack(self.app, "Source", env=env(REGISTRY, REGION))
        props = {"repository_name": "shared/orders", "consumers": [WORKLOAD_2], **source_props}
        self.images = CrossAccountImageRepo(self.source_stack, "Images", **props)

    def stack(self, id: str, account: str, region: str) -> cdk.Stack:
        return cdk.Stack(self.app, id, env=env(account, region))

    def function(self, stack: cdk.Stack, name: str, **props: Any) -> ContainerFunction:
        return ContainerFunction(
            stack, name, repository=self.images, tag_or_digest=DIGEST, function_name=name, **props
        )


def resources(stack: cdk.Stack, kind: str) -> list[dict[str, Any]]:
    template = Template.from_stack(stack).to_json()
    return [r for r in template["Resources"].values() if r["Type"] == kind]


def repository_statements(stack: cdk.Stack) -> list[dict[str, Any]]:
    (repository,) = resources(stack, "AWS::ECR::Repository")
    return repository["Properties"]["RepositoryPolicyText"]["Statement"]  # type: ignore[no-any-return]


def dependencies(stack: cdk.Stack) -> set[str]:
    return {s.stack_name for s in stack.dependencies}


# ---------------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------------


def test_replicas_and_replica_for() -> None:
    fleet = Fleet()
    eu = fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    b = fleet.images.add_replica(fleet.stack("B", WORKLOAD, APSE2))
    assert fleet.images.replicas == (eu, b)
    assert isinstance(eu, CrossAccountImageRepo)
    assert fleet.images.replica_for(account=REGISTRY, region=EU) is eu
    assert fleet.images.replica_for(account=WORKLOAD, region=APSE2) is b
    assert fleet.images.replica_for(account=WORKLOAD, region=EU) is None
    assert eu.replica_of is fleet.images and fleet.images.replica_of is None
    (repository,) = resources(cdk.Stack.of(b), "AWS::ECR::Repository")
    assert repository["Properties"]["RepositoryName"] == "shared/orders"
    assert repository["Properties"]["ImageTagMutability"] == "IMMUTABLE"
    assert repository["DeletionPolicy"] == "Retain"
    assert repository["Metadata"]["ecr-lambda-access"] == {
        "replicaOf": f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/orders"
    }


def test_same_account_replica_admits_the_sources_consumers_in_its_own_region() -> None:
    fleet = Fleet()
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    fleet.images.add_replica(eu_stack, consumers=["555555555555"])
    fleet.images.add_consumer("666666666666")  # added later: still inherited at synth
    root, service = repository_statements(eu_stack)
    assert root["Principal"]["AWS"] == [
        f"arn:aws:iam::{account}:root" for account in (WORKLOAD_2, "555555555555", "666666666666")
    ]
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{EU}:{account}:function:*"
        for account in (WORKLOAD_2, "555555555555", "666666666666")
    ]


def test_replica_in_another_account_admits_only_its_own_functions_and_consumers() -> None:
    fleet = Fleet()
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    fleet.images.add_replica(b_stack, consumers=[LambdaConsumer("777777777777", function_name="x")])
    fleet.function(b_stack, "worker")
    root, service = repository_statements(b_stack)
    assert root["Principal"]["AWS"] == "arn:aws:iam::777777777777:root"  # never WORKLOAD_2
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == [
        f"arn:aws:lambda:{APSE2}:{WORKLOAD}:function:worker",
        f"arn:aws:lambda:{APSE2}:777777777777:function:x",
    ]


def test_functions_registered_on_the_source_are_not_inherited_by_replicas() -> None:
    fleet = Fleet(consumers=[])
    fleet.function(fleet.stack("Fn", WORKLOAD, REGION), "use1-only")
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    fleet.images.add_replica(eu_stack)
    assert (
        resources(eu_stack, "AWS::ECR::Repository")[0]["Properties"].get("RepositoryPolicyText")
        is None
    )


def test_replication_configuration_and_registry_policy_are_written_once_per_registry() -> None:
    fleet = Fleet()
    other = CrossAccountImageRepo(fleet.source_stack, "Other", repository_name="team/billing")
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    fleet.images.add_replica(eu_stack)
    fleet.images.add_replica(b_stack)
    other.add_replica(b_stack)
    (configuration,) = resources(fleet.source_stack, "AWS::ECR::ReplicationConfiguration")
    assert configuration["Properties"]["ReplicationConfiguration"]["Rules"] == [
        {
            "Destinations": [
                {"Region": EU, "RegistryId": REGISTRY},
                {"Region": APSE2, "RegistryId": WORKLOAD},
            ],
            "RepositoryFilters": [{"Filter": "shared/orders", "FilterType": "PREFIX_MATCH"}],
        },
        {
            "Destinations": [{"Region": APSE2, "RegistryId": WORKLOAD}],
            "RepositoryFilters": [{"Filter": "team/billing", "FilterType": "PREFIX_MATCH"}],
        },
    ]
    (registry_policy,) = resources(b_stack, "AWS::ECR::RegistryPolicy")
    assert registry_policy["Properties"]["PolicyText"]["Statement"] == [
        {
            "Sid": f"ReplicationFrom{REGISTRY}",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{REGISTRY}:root"},
            "Action": "ecr:ReplicateImage",
            "Resource": [
                f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/shared/orders",
                f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/team/billing",
            ],
        }
    ]
    # A same-account destination needs no registry policy.
    assert resources(eu_stack, "AWS::ECR::RegistryPolicy") == []


def test_replication_replaces_the_registrys_configuration_with_a_warning() -> None:
    fleet = Fleet()
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    fleet.images.add_replica(b_stack)
    replication = RegistryReplication.of(fleet.source_stack)
    registry = ReplicationRegistryPolicy.of(b_stack)
    (warning,) = warnings_of(replication)
    assert "replicationReplacesRegistryConfiguration" in warning and "add_rule" in warning
    (warning,) = warnings_of(registry)
    assert "registryPolicyReplacesExisting" in warning and "add_statement" in warning


def test_existing_rules_and_statements_can_be_kept() -> None:
    fleet = Fleet()
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    fleet.images.add_replica(b_stack)
    RegistryReplication.of(fleet.source_stack).add_rule(
        destinations=[(REGISTRY, "us-west-2")], prefixes=["legacy/"]
    )
    kept = {
        "Sid": "PullThroughCache",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"},
        "Action": "ecr:BatchImportUpstreamImage",
        "Resource": f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/cache/*",
    }
    ReplicationRegistryPolicy.of(b_stack).add_statement(kept)
    (configuration,) = resources(fleet.source_stack, "AWS::ECR::ReplicationConfiguration")
    first = configuration["Properties"]["ReplicationConfiguration"]["Rules"][0]
    assert first["RepositoryFilters"] == [{"Filter": "legacy/", "FilterType": "PREFIX_MATCH"}]
    (policy,) = resources(b_stack, "AWS::ECR::RegistryPolicy")
    assert policy["Properties"]["PolicyText"]["Statement"][0] == kept


def test_prefix_over_matching_is_a_warning() -> None:
    fleet = Fleet()
    legacy = CrossAccountImageRepo(
        fleet.source_stack, "Legacy", repository_name="shared/orders-legacy"
    )
    fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    legacy.add_replica(fleet.stack("Ap", REGISTRY, APSE2))
    (warning,) = [
        w
        for w in warnings_of(RegistryReplication.of(fleet.source_stack))
        if "replicationPrefixOverMatch" in w
    ]
    assert "'shared/orders'" in warning and "'shared/orders-legacy'" in warning
    assert f"{REGISTRY}/{EU}" in warning


# ---------------------------------------------------------------------------------------------
# Ordering
# ---------------------------------------------------------------------------------------------


def test_destinations_deploy_before_the_replication_and_functions_after_their_replica() -> None:
    fleet = Fleet()
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    fleet.images.add_replica(eu_stack)
    fleet.images.add_replica(b_stack)
    eu_functions = fleet.stack("EuFunctions", WORKLOAD_2, EU)
    fleet.function(eu_functions, "eu-api")
    use1_functions = fleet.stack("Use1Functions", WORKLOAD_2, REGION)
    fleet.function(use1_functions, "use1-api")
    assert dependencies(fleet.source_stack) == {"Eu", "B"}
    assert dependencies(eu_stack) == set() and dependencies(b_stack) == set()
    assert dependencies(eu_functions) == {"Eu"}
    assert dependencies(use1_functions) == {"Source"}


# ---------------------------------------------------------------------------------------------
# Functions
# ---------------------------------------------------------------------------------------------


def test_function_runs_from_the_replica_of_its_region_and_registers_there() -> None:
    fleet = Fleet(consumers=[])
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    eu = fleet.images.add_replica(eu_stack)
    fn = fleet.function(fleet.stack("EuFunctions", WORKLOAD, EU), "eu-worker")
    assert fn.image_uri.startswith(f"{REGISTRY}.dkr.ecr.{EU}.")
    assert fn.image_uri.endswith(f"/shared/orders@{DIGEST}")
    assert fn.repository_arn == f"arn:aws:ecr:{EU}:{REGISTRY}:repository/shared/orders"
    assert LambdaConsumer(WORKLOAD, function_name="eu-worker") in eu.consumers
    assert fleet.images.consumers == ()
    root, service = repository_statements(eu_stack)
    assert root["Principal"]["AWS"] == f"arn:aws:iam::{WORKLOAD}:root"
    assert service["Condition"]["StringLike"]["aws:SourceArn"] == (
        f"arn:aws:lambda:{EU}:{WORKLOAD}:function:eu-worker"
    )


def test_function_prefers_the_replica_of_its_own_account() -> None:
    fleet = Fleet()
    fleet.images.add_replica(fleet.stack("EuRegistry", REGISTRY, EU))
    own_stack = fleet.stack("EuOwn", WORKLOAD, EU)
    own = fleet.images.add_replica(own_stack)
    fn = fleet.function(own_stack, "own-worker")
    assert fn.image_uri.startswith(f"{WORKLOAD}.dkr.ecr.{EU}.")
    assert LambdaConsumer(WORKLOAD, function_name="own-worker") in own.consumers
    # Same Region as the source, another account with its own replica: that replica.
    same_region = fleet.stack("Use1Own", WORKLOAD_2, REGION)
    fleet.images.add_replica(same_region)
    fn2 = fleet.function(same_region, "use1-own")
    assert fn2.image_uri.startswith(f"{WORKLOAD_2}.dkr.ecr.{REGION}.")


def test_function_in_a_region_without_replica_names_add_replica() -> None:
    fleet = Fleet()
    fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    with pytest.raises(RegionMismatchError) as caught:
        fleet.function(fleet.stack("Tokyo", WORKLOAD, "ap-northeast-1"), "tokyo")
    message = str(caught.value)
    assert message.startswith("[Tokyo/tokyo] repository:")
    assert "us-east-1" in message and "ap-northeast-1" in message
    assert "Images.add_replica(<a stack in ap-northeast-1>)" in message


def test_function_never_runs_from_another_workload_accounts_replica() -> None:
    """A workload account's registry is not a distribution point for its neighbours: its
    replica admits only its own functions, so a third account's function in that Region gets
    the error, naming both fixes, instead of being registered there."""
    fleet = Fleet()
    neighbour = fleet.stack("NeighbourEu", WORKLOAD, EU)
    replica = fleet.images.add_replica(neighbour)
    with pytest.raises(RegionMismatchError) as caught:
        fleet.function(fleet.stack("ThirdEu", WORKLOAD_2, EU), "third")
    message = str(caught.value)
    assert f"The replica in {EU} of account {WORKLOAD} serves that account's own functions" in (
        message
    )
    assert f"add the replica in account {WORKLOAD_2} or in the source's account ({REGISTRY})" in (
        message
    )
    assert replica.consumers == ()


# ---------------------------------------------------------------------------------------------
# Errors: each names the argument, the value and the fix
# ---------------------------------------------------------------------------------------------


def test_replica_in_the_sources_own_environment_is_an_error() -> None:
    fleet = Fleet()
    with pytest.raises(ReplicaConfigurationError) as caught:
        fleet.images.add_replica(fleet.stack("Again", REGISTRY, REGION))
    message = str(caught.value)
    assert "add_replica(scope)" in message and f"{REGISTRY}/{REGION}" in message
    assert "source's own environment" in message and "destination account and Region" in message


def test_duplicate_destination_is_an_error() -> None:
    fleet = Fleet()
    first = fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    with pytest.raises(ReplicaConfigurationError) as caught:
        fleet.images.add_replica(fleet.stack("Eu2", REGISTRY, EU))
    message = str(caught.value)
    assert f"{REGISTRY}/{EU}" in message and first.node.path in message
    assert "call add_replica once per destination" in message


def test_environment_agnostic_scope_is_an_error() -> None:
    fleet = Fleet()
    with pytest.raises(ReplicaConfigurationError) as caught:
        fleet.images.add_replica(cdk.Stack(fleet.app, "Agnostic"))
    message = str(caught.value)
    assert "add_replica(scope)" in message and "Agnostic" in message
    assert "environment-agnostic" in message and "env=Environment(account=" in message


def test_repository_without_a_literal_name_is_an_error_and_all_problems_come_at_once() -> None:
    app = new_app()
    source = cdk.Stack(app, "Source", env=env())
    unnamed = CrossAccountImageRepo(source, "Unnamed")
    with pytest.raises(EcrLambdaAccessError) as caught:
        unnamed.add_replica(cdk.Stack(app, "Agnostic"), consumers=["12345"])
    error = caught.value
    assert isinstance(error, ValueError)
    assert len(error.violations) == 3
    named, agnostic, consumer = sorted(
        error.violations, key=lambda v: ("literal name" not in v, "agnostic" not in v)
    )
    assert "no literal name" in named and "repository_name='team/app'" in named
    assert "environment-agnostic" in agnostic
    assert "consumers[0]" in consumer and "12345" in consumer


def test_bad_consumers_of_a_replica_are_reported_before_anything_is_created() -> None:
    fleet = Fleet()
    eu_stack = fleet.stack("Eu", REGISTRY, EU)
    with pytest.raises(InvalidConsumerError) as caught:
        fleet.images.add_replica(eu_stack, consumers=["not-an-account"])
    assert "consumers[0]" in str(caught.value) and "not-an-account" in str(caught.value)
    assert fleet.images.replicas == ()
    assert eu_stack.node.try_find_child("ImagesReplica") is None


def test_replica_whose_inherited_policy_is_too_large_in_its_region_is_an_error() -> None:
    # 114 accounts fit in us-east-1; ap-southeast-2 is 5 characters longer per function ARN.
    accounts = [f"{100000000000 + i}" for i in range(114)]
    fleet = Fleet(consumers=accounts)
    with pytest.raises(PolicyTooLargeError) as caught:
        fleet.images.add_replica(fleet.stack("Ap", REGISTRY, APSE2))
    message = str(caught.value)
    assert APSE2 in message and "10,240" in message and "organization_id" in message
    assert fleet.images.replicas == ()


def test_too_many_cross_account_destinations_is_an_error_at_the_26th() -> None:
    fleet = Fleet()
    for i in range(25):
        fleet.images.add_replica(fleet.stack(f"A{i}", f"2000000000{i:02d}", EU))
    with pytest.raises(ReplicationLimitError) as caught:
        fleet.images.add_replica(fleet.stack("A25", "200000000025", EU))
    message = str(caught.value)
    assert "26 cross-account destinations" in message and "limit of 25" in message
    assert "replica in the source account" in message


def test_each_stage_writes_its_own_replication_configuration() -> None:
    app = new_app()
    for name in ("Beta", "Prod"):
        stage = cdk.Stage(app, name)
        source = cdk.Stack(stage, "Registry", env=env(REGISTRY, REGION))
        images = CrossAccountImageRepo(source, "Images", repository_name="shared/orders")
        images.add_replica(cdk.Stack(stage, "Eu", env=env(REGISTRY, EU)))
        assert (
            RegistryReplication.of(source).node.path
            == f"{name}/Registry/EcrLambdaAccessReplication"
        )
        assert dependencies(source) == {f"{name}-Eu"}


def test_two_source_accounts_share_the_destinations_registry_policy() -> None:
    fleet = Fleet()
    other_source = fleet.stack("OtherSource", "444444444444", REGION)
    other = CrossAccountImageRepo(other_source, "Tools", repository_name="team/tools")
    b_stack = fleet.stack("B", WORKLOAD, APSE2)
    fleet.images.add_replica(b_stack)
    other.add_replica(b_stack)
    (registry_policy,) = resources(b_stack, "AWS::ECR::RegistryPolicy")
    statements = registry_policy["Properties"]["PolicyText"]["Statement"]
    assert [s["Principal"]["AWS"] for s in statements] == [
        f"arn:aws:iam::{REGISTRY}:root",
        "arn:aws:iam::444444444444:root",
    ]
    assert [s["Resource"] for s in statements] == [
        f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/shared/orders",
        f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/team/tools",
    ]
    # Each source registry has its own replication configuration, after the shared destination.
    assert dependencies(fleet.source_stack) == {"B"} and dependencies(other_source) == {"B"}


def test_a_kept_rule_over_the_limits_is_refused_and_not_kept() -> None:
    fleet = Fleet()
    fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    replication = RegistryReplication.of(fleet.source_stack)
    with pytest.raises(ReplicationLimitError) as caught:
        replication.add_rule(
            destinations=[(f"2000000000{i:02d}", EU) for i in range(26)], prefixes=["x/"]
        )
    assert "limit of 25" in str(caught.value)
    assert len(replication.rules) == 1


def test_registry_resources_need_an_environment() -> None:
    app = new_app()
    with pytest.raises(ReplicaConfigurationError) as caught:
        RegistryReplication.of(cdk.Stack(app, "Agnostic"))
    assert "environment-agnostic" in str(caught.value) and "Agnostic" in str(caught.value)
    with pytest.raises(ReplicaConfigurationError):
        ReplicationRegistryPolicy.of(cdk.Stack(app, "Agnostic2"))


def test_replica_in_a_stack_that_deploys_after_the_source_is_an_error() -> None:
    fleet = Fleet()
    late = fleet.stack("Late", WORKLOAD, REGION)
    late.add_stack_dependency(fleet.source_stack)  # e.g. it runs functions from the source
    with pytest.raises(ReplicaConfigurationError) as caught:
        fleet.images.add_replica(late)
    message = str(caught.value)
    assert "Late" in message and "deploys after Source" in message
    assert "put the replica in a stack of its own" in message
    assert fleet.images.replicas == ()


def test_the_validation_plugin_fails_synth_when_replication_no_longer_fills_a_replica(
    tmp_path: Any,
) -> None:
    import json

    from ecr_lambda_access import ImagePullChecks

    app = new_app(outdir=tmp_path)
    cdk.Validations.of(app).add_plugins(ImagePullChecks())
    source_stack = cdk.Stack(app, "Source", env=env(REGISTRY, REGION))
    images = CrossAccountImageRepo(source_stack, "Images", repository_name="shared/orders")
    b_stack = cdk.Stack(app, "B", env=env(WORKLOAD, APSE2))
    images.add_replica(b_stack)
    ContainerFunction(b_stack, "Worker", repository=images, tag_or_digest=DIGEST)
    # Someone overrides the configuration with an escape hatch and drops our rule.
    RegistryReplication.of(source_stack).resource.add_property_override(
        "ReplicationConfiguration.Rules", []
    )
    with pytest.raises(RuntimeError, match=r"ValidationFailed|Validation failed"):
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    (ours,) = [r for r in report["pluginReports"] if r["pluginName"] == "ecr-lambda-access"]
    assert any("not-replicated" in json.dumps(v) for v in ours["violations"])


def test_replica_in_another_stage_is_an_error() -> None:
    app = new_app()
    source = cdk.Stack(cdk.Stage(app, "Registry"), "Images", env=env(REGISTRY, REGION))
    images = CrossAccountImageRepo(source, "Images", repository_name="shared/orders")
    other = cdk.Stack(cdk.Stage(app, "Prod"), "Eu", env=env(REGISTRY, EU))
    with pytest.raises(ReplicaConfigurationError) as caught:
        images.add_replica(other)
    assert "another Stage" in str(caught.value) and "source's stage" in str(caught.value)


def test_prefix_over_matching_a_repository_that_is_not_replicated_is_a_warning() -> None:
    fleet = Fleet()
    CrossAccountImageRepo(fleet.source_stack, "Legacy", repository_name="shared/orders-legacy")
    fleet.images.add_replica(fleet.stack("Eu", REGISTRY, EU))
    (warning,) = [
        w
        for w in warnings_of(RegistryReplication.of(fleet.source_stack))
        if "replicationPrefixOverMatch" in w
    ]
    assert "'shared/orders-legacy'" in warning and f"{REGISTRY}/{EU}" in warning
