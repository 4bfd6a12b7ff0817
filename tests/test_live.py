"""The live check (`audit PATH --live`) against a mocked AWS (moto's mock_aws).

A fleet in several accounts and Regions is written as a cloud assembly (data, no synth) and
"deployed" into moto; each test then changes what is deployed the way users report it breaking.
What moto cannot do is answered by the test double `live_fleet.MotoGaps` at the session-factory
seam (named there). No test reaches AWS: fake credentials, no config files, and a socket guard.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import live_fleet as lf
import pytest
from live_fleet import offline_aws  # noqa: F401 (autouse: fake credentials, no network)

from ecr_lambda_access.audit import live

US, EU = "us-east-1", "eu-west-1"
A, B, C = lf.accounts(3)  # A and C in us-east-1, B in eu-west-1 (round robin)


def test_the_guard_blocks_real_network() -> None:
    with pytest.raises(AssertionError, match="network connection"):
        socket.create_connection(("ecr.us-east-1.amazonaws.com", 443))


@pytest.fixture
def fleet(tmp_path: Path) -> lf.Fleet:
    return lf.write_fleet(tmp_path / "cdk.out", [A, B, C], [US, EU], 2, unnamed=1)


@pytest.fixture
def gaps(fleet: lf.Fleet) -> lf.MotoGaps:
    gaps = lf.MotoGaps()
    lf.deploy(fleet, gaps)
    return gaps


def check(
    fleet: lf.Fleet,
    gaps: lf.MotoGaps,
    *,
    profiles: dict[str, str] | None = None,
    template: str | None = lf.ROLE_TEMPLATE,
    targets: list[live.LiveTarget] | None = None,
) -> live.LiveReport:
    if targets is None:
        _, targets = live.audit_with_targets(str(fleet.assembly))
    credentials = live.AccountCredentials(
        profiles=profiles, role_arn_template=template, session_factory=gaps.session_factory
    )
    return live.LiveCheck(credentials, max_workers=4).run(targets)


def by_function(report: live.LiveReport) -> dict[str, live.LiveFunctionReport]:
    return {f.function: f for f in report.functions}


def registry_ecr(region: str) -> Any:
    return lf.account_session(lf.REGISTRY, region).client("ecr")


# --------------------------------------------------------------------------------------------
# A fleet where everything is fine
# --------------------------------------------------------------------------------------------


def test_a_deployed_fleet_where_everything_is_fine(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    report = check(fleet, gaps)
    assert lf.statuses(report) == {
        f"Workload-{account}/Fn{n}": "ok" for account in (A, B, C) for n in range(2)
    }
    assert not report.failed(strict=True) and not report.warnings()
    assert [(a.account, a.reachable) for a in report.accounts] == [
        (lf.REGISTRY, True),
        (A, True),
        (B, True),
        (C, True),
    ]
    assert report.accounts[1].identity == (
        f"arn:aws:sts::{A}:assumed-role/{lf.ROLE_NAME}/ecr-lambda-access-live"
    )
    # one call per repository for its policy and one DescribeImages batch; one GetFunction per
    # function; the generated names from CloudFormation, once per unnamed function
    assert report.calls == {
        "sts:AssumeRole": 4,
        "sts:GetCallerIdentity": 4,
        "ecr:GetRepositoryPolicy": 2,
        "ecr:DescribeImages": 2,
        "lambda:GetFunction": 6,
        "cloudformation:DescribeStackResource": 3,
    }
    unnamed = by_function(report)[f"Workload-{A}/Fn0"]
    assert unnamed.function_name == gaps.physical_names[(f"Workload-{A}", "Fn0")]
    assert unnamed.state == "Active" and unnamed.deployed_image == lf.image_uri(US)


# --------------------------------------------------------------------------------------------
# drifted
# --------------------------------------------------------------------------------------------


def test_a_policy_replaced_by_a_narrower_one_is_drifted(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    # Someone rewrote the us-east-1 policy by hand for account A only: C lost both grants.
    narrower = lf.repository_policy([A], repository_account=lf.REGISTRY, region=US)
    registry_ecr(US).set_repository_policy(
        repositoryName=lf.REPOSITORY, policyText=json.dumps(narrower)
    )
    results = by_function(check(fleet, gaps))
    assert {k: v.status for k, v in results.items()} == {
        f"Workload-{A}/Fn0": "ok",
        f"Workload-{A}/Fn1": "ok",
        f"Workload-{B}/Fn0": "ok",
        f"Workload-{B}/Fn1": "ok",
        f"Workload-{C}/Fn0": "drifted",
        f"Workload-{C}/Fn1": "drifted",
    }
    detail = results[f"Workload-{C}/Fn1"].detail
    assert "though the synthesized one does" in detail
    # the synthesized statements that granted the pull, as they should be deployed
    assert detail.count("missing statement") == 2
    assert f"arn:aws:iam::{C}:root" in detail
    assert f"arn:aws:lambda:{US}:{C}:function:*" in detail
    # A still pulls, but its policy is not the synthesized one: a warning, not a failure
    (warning,) = results[f"Workload-{A}/Fn1"].warnings
    assert "differs from the synthesized one" in warning and "still lets" in warning


def test_a_deny_statement_added_is_drifted_and_shown(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    deny = {
        "Sid": "NoPullsFromB",
        "Effect": "Deny",
        "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
        "Action": "ecr:*",
    }
    document = {**fleet.policies[EU], "Statement": [*fleet.policies[EU]["Statement"], deny]}
    registry_ecr(EU).set_repository_policy(
        repositoryName=lf.REPOSITORY, policyText=json.dumps(document)
    )
    result = by_function(check(fleet, gaps))[f"Workload-{B}/Fn1"]
    assert result.status == "drifted"
    assert "denying statement" in result.detail and '"Sid": "NoPullsFromB"' in result.detail


def test_a_deleted_policy_is_drifted(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    registry_ecr(EU).delete_repository_policy(repositoryName=lf.REPOSITORY)
    result = by_function(check(fleet, gaps))[f"Workload-{B}/Fn1"]
    assert result.status == "drifted" and "has no policy deployed" in result.detail


def test_an_external_repository_is_judged_by_its_deployed_policy(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # Without the registry stacks in the assembly, the static audit says "external"; the live
    # check evaluates what is deployed instead, with the static statuses.
    narrower = lf.repository_policy([A], repository_account=lf.REGISTRY, region=US)
    registry_ecr(US).set_repository_policy(
        repositoryName=lf.REPOSITORY, policyText=json.dumps(narrower)
    )
    _, targets = live.audit_with_targets(str(fleet.assembly))
    external = [replace(t, synthesized_policy=None) for t in targets]
    results = by_function(check(fleet, gaps, targets=external))
    assert results[f"Workload-{A}/Fn1"].status == "ok"
    assert results[f"Workload-{A}/Fn1"].warnings == ()
    assert results[f"Workload-{C}/Fn1"].status == "missing-root-grant"
    assert results[f"Workload-{C}/Fn1"].detail.startswith("deployed policy of arn:aws:ecr:")


# --------------------------------------------------------------------------------------------
# image-missing
# --------------------------------------------------------------------------------------------


def test_a_deleted_image_is_image_missing(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    registry_ecr(EU).batch_delete_image(repositoryName=lf.REPOSITORY, imageIds=[{"imageTag": "v1"}])
    results = by_function(check(fleet, gaps))
    result = results[f"Workload-{B}/Fn1"]
    assert result.status == "image-missing"
    assert "the synthesized tag v1 is not in repository" in result.detail
    # the digest Lambda resolved at deploy is gone too: said as well
    assert "the digest the deployed function runs" in result.detail
    assert results[f"Workload-{A}/Fn1"].status == "ok"


def test_the_digest_a_function_runs_deleted_after_the_tag_moved(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    ecr = registry_ecr(US)
    old = ecr.describe_images(repositoryName=lf.REPOSITORY)["imageDetails"][0]["imageDigest"]
    ecr.put_image(  # v1 now names a new image; the functions still run the old digest
        repositoryName=lf.REPOSITORY,
        imageManifest=lf.manifest("sha256:" + "ef" * 32),
        imageTag="v1",
    )
    ecr.batch_delete_image(repositoryName=lf.REPOSITORY, imageIds=[{"imageDigest": old}])
    result = by_function(check(fleet, gaps))[f"Workload-{A}/Fn1"]
    assert result.status == "image-missing"
    assert result.problems == (
        (
            "image-missing",
            f"the digest the deployed function runs, {old}, is no longer in repository "
            f"arn:aws:ecr:{US}:{lf.REGISTRY}:repository/{lf.REPOSITORY} (a lifecycle rule?): "
            "Lambda cannot fetch it again when the function is optimized or comes back from "
            "Inactive; update the function's code (redeploy) to an image that exists",
        ),
    )


def test_a_deleted_repository_is_image_missing(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    registry_ecr(EU).delete_repository(repositoryName=lf.REPOSITORY, force=True)
    result = by_function(check(fleet, gaps))[f"Workload-{B}/Fn0"]
    assert result.status == "image-missing" and "does not exist" in result.detail


def add_replication(fleet: lf.Fleet, source: str, destination: str) -> None:
    """The source Region's registry replicates fleet/* to the destination's (as CDK writes it)."""
    path = fleet.assembly / f"Registry-{source}.template.json"
    template = json.loads(path.read_text())
    template["Resources"]["Replication"] = {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {
            "ReplicationConfiguration": {
                "Rules": [
                    {
                        "Destinations": [
                            {"Region": destination, "RegistryId": {"Ref": "AWS::AccountId"}}
                        ],
                        "RepositoryFilters": [{"Filter": "fleet/", "FilterType": "PREFIX_MATCH"}],
                    }
                ]
            }
        },
    }
    path.write_text(json.dumps(template))


def test_a_replica_missing_its_image_reports_the_replication_status(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # The eu-west-1 repository is a replica of the us-east-1 one (the assembly's replication
    # configuration says so); tag v1 never arrived there.
    add_replication(fleet, US, EU)
    _, targets = live.audit_with_targets(str(fleet.assembly))
    assert {t.region: t.replica_source for t in targets} == {US: None, EU: (lf.REGISTRY, US)}
    registry_ecr(EU).batch_delete_image(repositoryName=lf.REPOSITORY, imageIds=[{"imageTag": "v1"}])
    source = registry_ecr(US)
    digest = source.describe_images(repositoryName=lf.REPOSITORY)["imageDetails"][0]["imageDigest"]
    gaps.replication[(lf.REGISTRY, lf.REPOSITORY, digest)] = [
        {"region": EU, "registryId": lf.REGISTRY, "status": "FAILED", "failureCode": "KmsError"}
    ]
    report = check(fleet, gaps, targets=targets)
    result = by_function(report)[f"Workload-{B}/Fn1"]
    assert result.status == "image-missing"
    assert (
        f"the synthesized tag v1 is not in repository arn:aws:ecr:{EU}:{lf.REGISTRY}:repository/"
        f"{lf.REPOSITORY} (a replica of {lf.REGISTRY}/{US}; replication to {EU}/{lf.REGISTRY}: "
        "FAILED (KmsError))"
    ) in result.detail
    assert report.calls["ecr:DescribeImageReplicationStatus"] == 1  # once per image
    policy = live.required_policy(targets)
    (replication,) = [s for s in policy["Statement"] if s["Sid"] == "ReadReplicationStatus"]
    assert replication["Resource"] == f"arn:aws:ecr:{US}:{lf.REGISTRY}:repository/{lf.REPOSITORY}"
    # not replicated at all: the source lists no status for the destination
    gaps.replication.clear()
    result = by_function(check(fleet, gaps, targets=targets))[f"Workload-{B}/Fn1"]
    assert "the source lists no replication of this image to eu-west-1" in result.detail


def test_replica_sources_follow_the_prefix_filters() -> None:
    rules = live.replication_rules(
        [
            (
                lf.REGISTRY,
                US,
                {
                    "Properties": {
                        "ReplicationConfiguration": {
                            "Rules": [
                                {
                                    "Destinations": [{"Region": EU, "RegistryId": A}],
                                    "RepositoryFilters": [
                                        {"Filter": "team/", "FilterType": "PREFIX_MATCH"}
                                    ],
                                }
                            ]
                        }
                    }
                },
            )
        ]
    )
    image = live.parse_image_uri(f"{A}.dkr.ecr.{EU}.amazonaws.com/team/app:v1")
    other = live.parse_image_uri(f"{A}.dkr.ecr.{EU}.amazonaws.com/other/app:v1")
    elsewhere = live.parse_image_uri(f"{B}.dkr.ecr.{EU}.amazonaws.com/team/app:v1")
    assert image is not None and other is not None and elsewhere is not None
    assert live.replica_source(rules, image) == (lf.REGISTRY, US)
    assert live.replica_source(rules, other) is None
    assert live.replica_source(rules, elsewhere) is None


# --------------------------------------------------------------------------------------------
# function-failed, and the deployed function's other states
# --------------------------------------------------------------------------------------------


def test_a_failed_function_with_image_access_denied_is_function_failed(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # moto's functions are always Active: the test double reports this one as AWS does
    gaps.states["svc-1"] = {
        "State": "Failed",
        "StateReasonCode": "ImageAccessDenied",
        "StateReason": "The function does not have permission to access the specified image.",
    }
    results = by_function(check(fleet, gaps))
    failed = [f for f in results.values() if f.status == "function-failed"]
    assert {f.function for f in failed} == {f"Workload-{x}/Fn1" for x in (A, B, C)}
    assert failed[0].state == "Failed" and failed[0].state_reason_code == "ImageAccessDenied"
    assert "StateReasonCode ImageAccessDenied (The function does not have permission" in (
        failed[0].detail
    )


def test_idle_inactive_is_fine_but_a_failed_update_for_an_image_reason_is_not(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    gaps.states["svc-1"] = {"State": "Inactive", "StateReasonCode": "Idle"}
    gaps.states[f"Workload-{A}-Fn0-AbCdEf123456"] = {
        "LastUpdateStatus": "Failed",
        "LastUpdateStatusReasonCode": "ImageDeleted",
    }
    results = by_function(check(fleet, gaps))
    assert results[f"Workload-{A}/Fn1"].status == "ok"
    failed = results[f"Workload-{A}/Fn0"]
    assert failed.status == "function-failed"
    assert failed.detail.startswith(
        "its last update failed with LastUpdateStatusReasonCode ImageDeleted: the image was "
        "deleted from the repository"
    )


def test_a_generated_name_that_cannot_be_read_is_unverifiable(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    gaps.physical_names.clear()  # CloudFormation does not know the stack (not deployed)
    unnamed = by_function(check(fleet, gaps))[f"Workload-{A}/Fn0"]
    assert unnamed.status == "unverifiable"
    assert "name is not in the template (CloudFormation generates it" in unnamed.detail
    assert f"could not be read from stack Workload-{A}: DescribeStackResource: ValidationError" in (
        unnamed.detail
    )


def test_a_non_image_failure_is_a_warning(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    gaps.states["svc-1"] = {"State": "Failed", "StateReasonCode": "SubnetOutOfIPAddresses"}
    result = by_function(check(fleet, gaps))[f"Workload-{A}/Fn1"]
    assert result.status == "ok"
    assert result.warnings == (
        "the function is Failed with StateReasonCode SubnetOutOfIPAddresses, not an image reason",
    )


def test_a_deployed_image_other_than_the_synthesized_one_is_a_warning(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    lambda_ = lf.account_session(A, US).client("lambda")
    lambda_.update_function_code(FunctionName="svc-1", ImageUri=lf.image_uri(US, "v0"))
    result = by_function(check(fleet, gaps))[f"Workload-{A}/Fn1"]
    assert result.status == "ok"
    assert result.warnings == (
        f"the deployed ImageUri {lf.image_uri(US, 'v0')} is not the synthesized "
        f"{lf.image_uri(US)}: the stack is not deployed yet, or the function drifted",
    )


def test_a_function_not_deployed_is_unverifiable(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    lf.account_session(C, US).client("lambda").delete_function(FunctionName="svc-1")
    result = by_function(check(fleet, gaps))[f"Workload-{C}/Fn1"]
    assert result.status == "unverifiable"
    assert "is not deployed in account" in result.detail and "ResourceNotFound" in result.detail


# --------------------------------------------------------------------------------------------
# Accounts: roles, profiles, unreachable
# --------------------------------------------------------------------------------------------


def test_an_account_whose_role_cannot_be_assumed_is_unverifiable(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # moto does not enforce trust policies by default: the test double refuses this role
    gaps.denied_roles.add(live.role_arn_for(lf.ROLE_TEMPLATE, B))
    report = check(fleet, gaps)
    results = by_function(report)
    assert {k for k, v in results.items() if v.status != "ok"} == {
        f"Workload-{B}/Fn0",
        f"Workload-{B}/Fn1",
    }
    detail = results[f"Workload-{B}/Fn1"].detail
    assert detail.startswith(
        f"account {B} (role arn:aws:iam::{B}:role/{lf.ROLE_NAME}) cannot be reached"
    )
    assert "AssumeRole: AccessDenied" in detail
    assert results[f"Workload-{B}/Fn1"].status == "unverifiable"
    assert not report.failed() and report.failed(strict=True)
    (unreachable,) = [a for a in report.accounts if not a.reachable]
    assert unreachable.account == B


def test_an_unreachable_registry_account_leaves_only_the_functions_checked(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    gaps.denied_roles.add(live.role_arn_for(lf.ROLE_TEMPLATE, lf.REGISTRY))
    gaps.states["svc-1"] = {"State": "Failed", "StateReasonCode": "ImageDeleted"}
    report = check(fleet, gaps)
    results = by_function(report)
    assert results[f"Workload-{A}/Fn0"].status == "unverifiable"
    assert f"the repository's account {lf.REGISTRY}" in results[f"Workload-{A}/Fn0"].detail
    assert results[f"Workload-{A}/Fn1"].status == "function-failed"  # still known
    assert "ecr:GetRepositoryPolicy" not in report.calls


def test_profiles_per_account(tmp_path: Path, fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    # Profiles that assume a role (botocore's own AssumeRole provider, against moto), one that
    # is for the wrong account, and one that does not exist.
    config = tmp_path / "aws-config"
    config.write_text(
        "[profile base]\naws_access_key_id = testing\naws_secret_access_key = testing\n"
        + "".join(
            f"[profile reader-{a}]\nrole_arn = arn:aws:iam::{a}:role/Reader\n"
            "source_profile = base\n"
            for a in (lf.REGISTRY, A, B)
        )
    )
    profiles = {lf.REGISTRY: f"reader-{lf.REGISTRY}", A: f"reader-{A}", B: f"reader-{A}"}
    report = check(fleet, gaps, profiles=profiles, template=None)
    accounts = {a.account: a for a in report.accounts}
    assert accounts[A].reachable and accounts[A].via == f"profile reader-{A}"
    assert accounts[B].error == (
        f"cannot be used: its credentials are for account {A}: map the account to its own "
        f"profile (--profile {B}=PROFILE) or give --assume-role-arn"
    )
    # C has no profile and there is no role template: the default credentials (moto's
    # default account 123456789012) are for another account
    assert accounts[C].via == "default credentials" and not accounts[C].reachable
    results = by_function(report)
    assert results[f"Workload-{A}/Fn1"].status == "ok"
    assert results[f"Workload-{B}/Fn1"].status == "unverifiable"
    missing = check(fleet, gaps, profiles={A: "nope"}, template=lf.ROLE_TEMPLATE)
    assert "ProfileNotFound" in {a.account: a for a in missing.accounts}[A].error  # type: ignore[operator]


# --------------------------------------------------------------------------------------------
# Throttling, concurrency
# --------------------------------------------------------------------------------------------


def test_throttling_is_retried_with_the_standard_retry_mode(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    from botocore.awsrequest import AWSResponse

    throttled: list[str] = []

    class Raw:
        def stream(self, **_: Any) -> Iterator[bytes]:
            yield b""

    def throttle(request: Any, **_: Any) -> Any:
        if len(throttled) < 2:
            throttled.append(request.url)
            body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"})
            response = AWSResponse(
                request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, Raw()
            )
            response._content = body.encode()
            return response
        return None

    factory = gaps.session_factory

    def throttling_factory(**kwargs: Any) -> Any:
        session = factory(**kwargs)
        session.events.register_first("before-send.ecr.GetRepositoryPolicy", throttle)
        return session

    gaps.session_factory = throttling_factory  # type: ignore[method-assign]
    report = check(fleet, gaps)
    assert len(throttled) == 2
    assert set(lf.statuses(report).values()) == {"ok"}
    assert report.calls["ecr:GetRepositoryPolicy"] == 2  # retries are botocore's, not ours


def test_parse_image_uri() -> None:
    digest = "sha256:" + "0f" * 32
    image = live.parse_image_uri(f"{lf.REGISTRY}.dkr.ecr.cn-north-1.amazonaws.com.cn/a/b@{digest}")
    assert image is not None and image.digest == digest and image.tag is None
    assert image.repository_arn == f"arn:aws-cn:ecr:cn-north-1:{lf.REGISTRY}:repository/a/b"
    assert live.parse_image_uri("public.ecr.aws/lambda/python:3.12") is None
    assert live.parse_image_uri(None) is None


def test_an_image_in_another_region_is_never_ok(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    _, targets = live.audit_with_targets(str(fleet.assembly))
    moved = [
        replace(t, image=live.parse_image_uri(lf.image_uri(EU))) if t.region == US else t
        for t in targets
    ]
    result = by_function(check(fleet, gaps, targets=moved))[f"Workload-{A}/Fn1"]
    assert result.status == "region-mismatch"
    assert "the image is in eu-west-1 but the function runs in us-east-1" in result.detail


def test_an_image_known_only_at_deploy_time_is_read_from_the_function(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # Fn1 of account A takes its image from a stack parameter (a pipeline passing the tag)
    path = fleet.assembly / f"Workload-{A}.template.json"
    template = json.loads(path.read_text())
    template["Parameters"] = {"ImageUri": {"Type": "String"}}
    template["Resources"]["Fn1"]["Properties"]["Code"]["ImageUri"] = {"Ref": "ImageUri"}
    path.write_text(json.dumps(template))
    report, targets = live.audit_with_targets(str(fleet.assembly))
    static = {f.function: f.status for f in report.functions}
    assert static[f"Workload-{A}/Fn1"] == "unverifiable"
    result = by_function(check(fleet, gaps, targets=targets))[f"Workload-{A}/Fn1"]
    assert result.status == "ok"
    assert result.warnings == (
        "the template's image URI is known only at deploy time: the deployed function's image "
        f"({lf.image_uri(US)}) was checked",
    )
    registry_ecr(US).batch_delete_image(repositoryName=lf.REPOSITORY, imageIds=[{"imageTag": "v1"}])
    result = by_function(check(fleet, gaps, targets=targets))[f"Workload-{A}/Fn1"]
    assert result.status == "image-missing"
    # live-policy cannot know that repository: it says so (on stderr, the JSON stays clean)
    assert live.policy_gaps(targets) == [
        f"Workload-{A}/Fn1: its image URI is known only at deploy time, so its repository is not "
        "in the policy: add the repository's ARN to ReadRepositoryPolicyAndImages"
    ]


def test_synthesized_policies_are_resolved_and_never_guessed(tmp_path: Path) -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {
            "StringLike": {
                "aws:SourceArn": {
                    "Fn::Join": [
                        "",
                        ["arn:", {"Ref": "AWS::Partition"}, ":lambda:us-east-1:", A, ":function:*"],
                    ]
                }
            }
        },
    }
    unknown = {**statement, "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "Who"}}}}

    def registry(name: str, document_statement: dict[str, Any]) -> dict[str, Any]:
        return {
            "Resources": {
                "Repo": {
                    "Type": "AWS::ECR::Repository",
                    "Properties": {
                        "RepositoryName": name,
                        "RepositoryPolicyText": {
                            "Version": "2012-10-17",
                            "Statement": [document_statement],
                        },
                    },
                },
            }
        }

    def function(name: str) -> dict[str, Any]:
        return {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "PackageType": "Image",
                "FunctionName": name,
                "Code": {"ImageUri": lf.image_uri(US, repository=name)},
            },
        }

    lf.write_assembly(
        tmp_path / "out",
        {
            "Known": (f"aws://{lf.REGISTRY}/{US}", registry("known", statement)),
            "Unknown": (f"aws://{lf.REGISTRY}/{US}", registry("unknown", unknown)),
            "Workload": (
                f"aws://{A}/{US}",
                {"Resources": {"K": function("known"), "U": function("unknown")}},
            ),
        },
    )
    _, targets = live.audit_with_targets(str(tmp_path / "out"))
    policies = {t.function: t.synthesized_policy for t in targets}
    (resolved,) = policies["Workload/K"]["Statement"]  # type: ignore[index]
    assert resolved["Condition"]["StringLike"]["aws:SourceArn"] == (
        f"arn:aws:lambda:us-east-1:{A}:function:*"
    )
    assert policies["Workload/U"] is None  # holds a parameter: not a policy to compare with


def test_two_stacks_naming_the_same_function_cost_one_call(
    fleet: lf.Fleet, gaps: lf.MotoGaps
) -> None:
    # e.g. the same workload in an app's stack and in a CDK Pipelines stage
    manifest = json.loads((fleet.assembly / "manifest.json").read_text())
    copy = dict(manifest["artifacts"][f"Workload-{A}"])
    copy["properties"] = {"templateFile": "Copy.template.json", "stackName": "Copy"}
    template = (fleet.assembly / f"Workload-{A}.template.json").read_text()
    (fleet.assembly / "Copy.template.json").write_text(template)
    manifest["artifacts"]["Copy"] = copy
    (fleet.assembly / "manifest.json").write_text(json.dumps(manifest))
    gaps.physical_names[("Copy", "Fn0")] = gaps.physical_names[(f"Workload-{A}", "Fn0")]
    report = check(fleet, gaps)
    assert len(report.functions) == 8 and set(lf.statuses(report).values()) == {"ok"}
    # svc-1 of account A once; Copy/Fn0 is another deployed function (its own generated name)
    assert report.calls["lambda:GetFunction"] == 7
    assert report.calls["cloudformation:DescribeStackResource"] == 4


def test_calls_run_concurrently_within_the_bound(fleet: lf.Fleet, gaps: lf.MotoGaps) -> None:
    import threading
    import time

    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def slow_network(**_: Any) -> None:
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1

    factory = gaps.session_factory

    def latency(**kwargs: Any) -> Any:
        session = factory(**kwargs)
        session.events.register_first("before-send", slow_network)
        return session

    _, targets = live.audit_with_targets(str(fleet.assembly))
    credentials = live.AccountCredentials(
        role_arn_template=lf.ROLE_TEMPLATE, session_factory=latency, max_workers=3
    )
    report = live.LiveCheck(credentials, max_workers=3).run(targets)
    assert set(lf.statuses(report).values()) == {"ok"}
    assert 1 < state["most"] <= 3  # concurrent, and never more than the bound


def test_a_deployed_policy_the_evaluator_finds_invalid_is_invalid_policy() -> None:
    # ECR (and moto) reject an invalid policy at SetRepositoryPolicy, so only an evaluator
    # stricter than ECR could meet one: the verdict then says so, never ok
    from ecr_lambda_access.policy import Access, Grant, PullAccess

    invalid = Grant(Access.INVALID, "the repository policy is invalid: Effect 'allow'")
    granted = Grant(Access.GRANTED, "granted")
    assert live._pull_verdict(PullAccess(root=granted, service=invalid)) == (
        "invalid-policy",
        "the repository policy is invalid: Effect 'allow'",
    )


def test_an_image_lambda_refuses_is_unsupported_live_as_it_is_statically(
    fleet: lf.Fleet, gaps: lf.MotoGaps, tmp_path: Path
) -> None:
    """A FIPS endpoint names a repository that exists and whose deployed policy grants the pull;
    Lambda still refuses the URI, so the live check says what the static audit says, never ok.
    A public image is unsupported too (not merely unverifiable)."""
    fips = lf.image_uri(US).replace(".dkr.ecr.", ".dkr.ecr-fips.", 1)
    public = "public.ecr.aws/lambda/python:3.12"

    def function(name: str, image: str) -> dict[str, Any]:
        return {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "PackageType": "Image",
                "FunctionName": name,
                "Code": {"ImageUri": image},
            },
        }

    resources = {"F": function("fips", fips), "P": function("public", public)}
    lf.write_assembly(tmp_path / "out", {"Workload": (f"aws://{A}/{US}", {"Resources": resources})})
    static, targets = live.audit_with_targets(str(tmp_path / "out"))
    statically = {f.function: (f.status, f.detail) for f in static.functions}
    assert {t.function: t.unsupported for t in targets} == {
        name: detail for name, (_, detail) in statically.items()
    }
    assert {status for status, _ in statically.values()} == {"unsupported-image"}
    # the FIPS target aimed at the fleet's deployed function and repository, which grant
    (deployed,) = [t for t in live.audit_with_targets(str(fleet.assembly))[1] if t.region == US][:1]
    (target,) = [t for t in targets if t.function == "Workload/F"]
    assert target.image is None  # nothing of a refused image is read
    # even with the FIPS URI's repository read (the one the standard endpoint names), never ok
    aimed = replace(deployed, image=live.parse_image_uri(fips), unsupported=target.unsupported)
    assert aimed.image is not None and aimed.image.fips
    assert (
        by_function(check(fleet, gaps, targets=[replace(aimed, unsupported=None)]))[
            deployed.function
        ].status
        == "ok"
    )  # the control: what the live check said before it read the refusal
    result = by_function(check(fleet, gaps, targets=[aimed]))[deployed.function]
    assert (result.status, result.detail) == statically["Workload/F"]
