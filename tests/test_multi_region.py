"""The multi-Region example (replicas): what it wires, and the audit on it and on broken variants.

One synth of the example alone serves these tests; the broken variants mutate copies of the
synthesized templates (no second synth). Scanners (cdk-nag, cfn-lint, checkov) and snapshots run
over it with the other examples in test_examples.py.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support import CDK_CONTEXT, new_app

from ecr_lambda_access.audit import AuditReport, StackTemplate, audit_stacks, load_assembly
from examples import multi_region
from examples.settings import Settings

REGISTRY = CDK_CONTEXT["registry_account"]
WORKLOAD = CDK_CONTEXT["workload_account"]
WORKLOAD_2 = CDK_CONTEXT["second_workload_account"]
REGION = CDK_CONTEXT["region"]
EU = multi_region.REPLICA_REGION
APSE2 = multi_region.WORKLOAD_REGION


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> list[StackTemplate]:
    outdir = tmp_path_factory.mktemp("multi_region")
    app = new_app(outdir)
    multi_region.build(app, Settings.from_context(app))
    app.synth()
    return load_assembly(outdir)


def by_name(stacks: list[StackTemplate]) -> dict[str, StackTemplate]:
    return {s.stack_name: s for s in stacks}


def resources(stack: StackTemplate, kind: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in stack.resources.items() if r["Type"] == kind}


def statuses(report: AuditReport) -> dict[str, str]:
    return {f.function.split("/")[0]: f.status for f in report.functions}


def mutated(
    stacks: list[StackTemplate], name: str, change: Callable[[dict[str, Any]], None]
) -> list[StackTemplate]:
    result = []
    for stack in stacks:
        if stack.stack_name == name:
            template = copy.deepcopy(dict(stack.template))
            change(template)
            stack = dataclasses.replace(stack, template=template)
        result.append(stack)
    return result


# ---------------------------------------------------------------------------------------------
# What the example wires
# ---------------------------------------------------------------------------------------------


def test_functions_in_three_regions_and_two_accounts_run_from_their_regions_replica(
    stacks: list[StackTemplate],
) -> None:
    found = {}
    for stack in stacks:
        for function in resources(stack, "AWS::Lambda::Function").values():
            uri = function["Properties"]["Code"]["ImageUri"]
            found[stack.stack_name] = (stack.account, stack.region, json.dumps(uri))
    assert found.keys() == {
        "MultiRegionWorkloadUse1",
        "MultiRegionWorkloadEuw1",
        "MultiRegionWorkloadApSe2",
    }
    assert {(a, r) for a, r, _ in found.values()} == {
        (WORKLOAD_2, REGION),
        (WORKLOAD_2, EU),
        (WORKLOAD, APSE2),
    }
    assert f"{REGISTRY}.dkr.ecr.{REGION}." in found["MultiRegionWorkloadUse1"][2]
    assert f"{REGISTRY}.dkr.ecr.{EU}." in found["MultiRegionWorkloadEuw1"][2]
    assert f"{WORKLOAD}.dkr.ecr.{APSE2}." in found["MultiRegionWorkloadApSe2"][2]
    sqs = resources(by_name(stacks)["MultiRegionWorkloadApSe2"], "AWS::Lambda::EventSourceMapping")
    assert len(sqs) == 1


def test_replication_rule_registry_policy_and_deploy_order(
    stacks: list[StackTemplate], tmp_path: Path
) -> None:
    named = by_name(stacks)
    (configuration,) = resources(
        named["MultiRegionRegistry"], "AWS::ECR::ReplicationConfiguration"
    ).values()
    assert configuration["Properties"]["ReplicationConfiguration"] == {
        "Rules": [
            {
                "Destinations": [
                    {"Region": EU, "RegistryId": REGISTRY},
                    {"Region": APSE2, "RegistryId": WORKLOAD},
                ],
                "RepositoryFilters": [{"Filter": "shared/payments", "FilterType": "PREFIX_MATCH"}],
            }
        ]
    }
    (registry_policy,) = resources(
        named["MultiRegionWorkloadApSe2"], "AWS::ECR::RegistryPolicy"
    ).values()
    (statement,) = registry_policy["Properties"]["PolicyText"]["Statement"]
    assert statement["Resource"] == f"arn:aws:ecr:{APSE2}:{WORKLOAD}:repository/shared/payments"
    assert statement["Action"] == "ecr:ReplicateImage"
    # The workload account's replica admits its own function only, not the source's consumer.
    (replica,) = resources(named["MultiRegionWorkloadApSe2"], "AWS::ECR::Repository").values()
    assert WORKLOAD_2 not in json.dumps(replica["Properties"]["RepositoryPolicyText"])


def test_deploy_order(stacks: list[StackTemplate]) -> None:
    directory = Path(stacks[0].template_path).parent
    manifest = json.loads((directory / "manifest.json").read_text())

    def depends(name: str) -> set[str]:
        return {d for d in manifest["artifacts"][name].get("dependencies", []) if "." not in d}

    assert depends("MultiRegionRegistry") == {"MultiRegionReplicaEu", "MultiRegionWorkloadApSe2"}
    assert depends("MultiRegionReplicaEu") == set()
    assert depends("MultiRegionWorkloadApSe2") == set()
    assert depends("MultiRegionWorkloadEuw1") == {"MultiRegionReplicaEu"}
    assert depends("MultiRegionWorkloadUse1") == {"MultiRegionRegistry"}


# ---------------------------------------------------------------------------------------------
# The audit: the example passes, each broken variant fails with the named status
# ---------------------------------------------------------------------------------------------


def test_audit_reports_every_function_of_the_example_ok(stacks: list[StackTemplate]) -> None:
    report = audit_stacks(stacks)
    assert statuses(report) == {
        "MultiRegionWorkloadUse1": "ok",
        "MultiRegionWorkloadEuw1": "ok",
        "MultiRegionWorkloadApSe2": "ok",
    }
    assert not report.failed(strict=True)


def _drop_rule_destination(region: str) -> Callable[[dict[str, Any]], None]:
    def change(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::ReplicationConfiguration":
                for rule in resource["Properties"]["ReplicationConfiguration"]["Rules"]:
                    rule["Destinations"] = [
                        d for d in rule["Destinations"] if d["Region"] != region
                    ]

    return change


def test_audit_fails_a_variant_without_the_rule(stacks: list[StackTemplate]) -> None:
    def remove_rules(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::ReplicationConfiguration":
                resource["Properties"]["ReplicationConfiguration"]["Rules"] = []

    report = audit_stacks(mutated(stacks, "MultiRegionRegistry", remove_rules))
    assert statuses(report) == {
        "MultiRegionWorkloadUse1": "ok",
        "MultiRegionWorkloadEuw1": "not-replicated",
        "MultiRegionWorkloadApSe2": "not-replicated",
    }
    assert report.failed()
    detail = next(f.detail for f in report.functions if f.status == "not-replicated")
    assert "no rule" in detail and "shared/payments" in detail and "add_replica" in detail

    # One destination dropped from the rule: only the functions of that Region fail.
    report = audit_stacks(mutated(stacks, "MultiRegionRegistry", _drop_rule_destination(EU)))
    assert statuses(report)["MultiRegionWorkloadEuw1"] == "not-replicated"
    assert statuses(report)["MultiRegionWorkloadApSe2"] == "ok"


def test_audit_fails_a_variant_without_the_registry_policy(stacks: list[StackTemplate]) -> None:
    def remove_registry_policy(template: dict[str, Any]) -> None:
        template["Resources"] = {
            k: r
            for k, r in template["Resources"].items()
            if r["Type"] != "AWS::ECR::RegistryPolicy"
        }

    report = audit_stacks(mutated(stacks, "MultiRegionWorkloadApSe2", remove_registry_policy))
    assert statuses(report) == {
        "MultiRegionWorkloadUse1": "ok",
        "MultiRegionWorkloadEuw1": "ok",
        "MultiRegionWorkloadApSe2": "not-replicated",
    }
    detail = next(f.detail for f in report.functions if f.status == "not-replicated")
    assert "registry policy" in detail and REGISTRY in detail


def test_audit_fails_a_registry_policy_for_another_repository(
    stacks: list[StackTemplate],
) -> None:
    def other_repository(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::RegistryPolicy":
                (statement,) = resource["Properties"]["PolicyText"]["Statement"]
                statement["Resource"] = statement["Resource"].replace("payments", "orders")

    report = audit_stacks(mutated(stacks, "MultiRegionWorkloadApSe2", other_repository))
    assert statuses(report)["MultiRegionWorkloadApSe2"] == "not-replicated"


def test_audit_fails_a_variant_whose_replica_lost_its_consumer(
    stacks: list[StackTemplate],
) -> None:
    def without(principal: str) -> Callable[[dict[str, Any]], None]:
        """A mutation dropping the repository statements whose principal is of this kind."""

        def mutate(template: dict[str, Any]) -> None:
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::ECR::Repository":
                    document = resource["Properties"]["RepositoryPolicyText"]
                    document["Statement"] = [
                        s for s in document["Statement"] if principal not in s["Principal"]
                    ]

        return mutate

    report = audit_stacks(mutated(stacks, "MultiRegionReplicaEu", without("Service")))
    assert statuses(report) == {
        "MultiRegionWorkloadUse1": "ok",
        "MultiRegionWorkloadEuw1": "missing-service-grant",
        "MultiRegionWorkloadApSe2": "ok",
    }

    report = audit_stacks(mutated(stacks, "MultiRegionReplicaEu", without("AWS")))
    assert statuses(report)["MultiRegionWorkloadEuw1"] == "missing-root-grant"


def test_replica_without_our_metadata_and_no_registry_policy_is_unverifiable(
    stacks: list[StackTemplate],
) -> None:
    def foreign(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::Repository":
                resource.get("Metadata", {}).pop("ecr-lambda-access", None)
        template["Resources"] = {
            k: r
            for k, r in template["Resources"].items()
            if r["Type"] != "AWS::ECR::RegistryPolicy"
        }

    report = audit_stacks(mutated(stacks, "MultiRegionWorkloadApSe2", foreign))
    (function,) = [f for f in report.functions if f.stack == "MultiRegionWorkloadApSe2"]
    assert function.status == "unverifiable"
    assert "outside this app" in function.detail


# ---------------------------------------------------------------------------------------------
# Has the image arrived? (the check before deploying functions; no AWS call here)
# ---------------------------------------------------------------------------------------------


def test_image_check_prints_one_describe_images_call_per_replica_image(
    stacks: list[StackTemplate], capsys: pytest.CaptureFixture[str]
) -> None:
    from ecr_lambda_access import image_check

    directory = str(Path(stacks[0].template_path).parent)
    assert image_check.main([directory, "--profile", "ops"]) == 0
    lines = capsys.readouterr().out.splitlines()
    digest = "imageDigest=" + multi_region.EXAMPLE_DIGEST
    assert lines == [
        f"aws ecr describe-images --registry-id {account} --region {region} "
        f"--repository-name shared/payments --image-ids {digest} --profile ops"
        for account, region in ((REGISTRY, EU), (REGISTRY, REGION), (WORKLOAD, APSE2))
    ]


def test_image_check_run_without_boto3_says_how_to_get_it(
    stacks: list[StackTemplate], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from ecr_lambda_access import image_check

    monkeypatch.setitem(sys.modules, "boto3", None)  # no AWS call, whatever is installed
    directory = str(Path(stacks[0].template_path).parent)
    assert image_check.main([directory, "--run"]) == 2
    assert "pip install 'ecr-lambda-access[live]'" in capsys.readouterr().err
    assert image_check.main(["/nonexistent"]) == 2


def test_a_repository_not_made_by_add_replica_is_unverifiable_not_failed_on_its_registry_policy(
    stacks: list[StackTemplate],
) -> None:
    def foreign(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::Repository":
                resource.get("Metadata", {}).pop("ecr-lambda-access", None)
            if resource["Type"] == "AWS::ECR::RegistryPolicy":
                (statement,) = resource["Properties"]["PolicyText"]["Statement"]
                statement["Principal"] = {"AWS": "arn:aws:iam::999999999999:root"}

    report = audit_stacks(mutated(stacks, "MultiRegionWorkloadApSe2", foreign))
    (function,) = [f for f in report.functions if f.stack == "MultiRegionWorkloadApSe2"]
    assert function.status == "unverifiable"
    assert "pushed to it directly" in function.detail

    # The same registry policy on a replica made by add_replica is a definite failure.
    def wrong_source(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::RegistryPolicy":
                (statement,) = resource["Properties"]["PolicyText"]["Statement"]
                statement["Principal"] = {"AWS": "arn:aws:iam::999999999999:root"}

    report = audit_stacks(mutated(stacks, "MultiRegionWorkloadApSe2", wrong_source))
    assert statuses(report)["MultiRegionWorkloadApSe2"] == "not-replicated"


def test_a_replication_configuration_under_a_condition_is_unverifiable_or_absent(
    stacks: list[StackTemplate],
) -> None:
    def conditioned(expression: Any) -> Callable[[dict[str, Any]], None]:
        def change(template: dict[str, Any]) -> None:
            template["Parameters"] = {**template.get("Parameters", {}), "Flag": {"Type": "String"}}
            template["Conditions"] = {"Replicate": expression}
            for resource in template["Resources"].values():
                if resource["Type"] == "AWS::ECR::ReplicationConfiguration":
                    resource["Condition"] = "Replicate"

        return change

    unknown = {"Fn::Equals": [{"Ref": "Flag"}, "yes"]}
    report = audit_stacks(mutated(stacks, "MultiRegionRegistry", conditioned(unknown)))
    assert statuses(report)["MultiRegionWorkloadEuw1"] == "unverifiable"
    assert statuses(report)["MultiRegionWorkloadApSe2"] == "unverifiable"
    never = {"Fn::Equals": ["a", "b"]}
    report = audit_stacks(mutated(stacks, "MultiRegionRegistry", conditioned(never)))
    assert statuses(report)["MultiRegionWorkloadEuw1"] == "not-replicated"


# ---------------------------------------------------------------------------------------------
# The registry layer around the replicas (issue 16): one piece removed each
# ---------------------------------------------------------------------------------------------


def _without_replica_repository(template: dict[str, Any]) -> None:
    """The replica's AWS::ECR::Repository gone: replication creates the repository itself."""
    template["Resources"] = {
        k: r for k, r in template["Resources"].items() if r["Type"] != "AWS::ECR::Repository"
    }


def _replica_stack(stacks: list[StackTemplate], region: str) -> str:
    return next(
        s.stack_name
        for s in stacks
        if s.region == region
        and resources(s, "AWS::ECR::Repository")
        and s.stack_name != "MultiRegionRegistry"
    )


def test_a_replica_replication_creates_without_a_template_has_no_policy(
    stacks: list[StackTemplate],
) -> None:
    name = _replica_stack(stacks, EU)
    report = audit_stacks(mutated(stacks, name, _without_replica_repository))
    failing = {k: v for k, v in statuses(report).items() if v != "ok"}
    assert set(failing.values()) == {"no-policy"}, failing
    detail = next(f.detail for f in report.functions if f.status == "no-policy")
    assert "ECR creates it there on the first replication" in detail


def test_a_replica_created_with_the_creation_template_policy_is_judged_by_it(
    stacks: list[StackTemplate],
) -> None:
    name = _replica_stack(stacks, EU)
    (replica,) = resources(by_name(stacks)[name], "AWS::ECR::Repository").values()

    def templated(template: dict[str, Any]) -> None:
        _without_replica_repository(template)
        policy = replica["Properties"]["RepositoryPolicyText"]
        template["Resources"]["Template"] = {
            "Type": "AWS::ECR::RepositoryCreationTemplate",
            "Properties": {
                "Prefix": "ROOT",
                "AppliedFor": ["REPLICATION"],
                "RepositoryPolicy": json.dumps(policy),
            },
        }

    report = audit_stacks(mutated(stacks, name, templated))
    assert not report.failed(), [(f.function, f.status, f.detail) for f in report.functions]
    details = [f.detail for f in report.functions if "creation template" in f.detail]
    assert details and all("applies only when ECR creates the repository" in d for d in details)


def test_a_foreign_replica_in_a_region_its_rule_does_not_reach_is_not_replicated(
    stacks: list[StackTemplate],
) -> None:
    name = _replica_stack(stacks, EU)

    def foreign(template: dict[str, Any]) -> None:
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::ECR::Repository":
                resource.get("Metadata", {}).pop("ecr-lambda-access", None)

    changed = mutated(
        mutated(stacks, name, foreign), "MultiRegionRegistry", _drop_rule_destination(EU)
    )
    report = audit_stacks(changed)
    assert statuses(report)["MultiRegionWorkloadEuw1"] == "not-replicated"
    detail = next(f.detail for f in report.functions if f.status == "not-replicated")
    assert "not to" in detail and EU in detail
