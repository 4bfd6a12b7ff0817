"""The registry layer in the audit (issue 16): image URIs, replication that creates repositories,
creation templates, Regions no rule reaches, and one model read by every consumer.

AWS's documented examples are in tests/fixtures/registry/aws-docs-registry-layer.json (sources
named there). No jsii here: hand-written assemblies only.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_audit_unit import documented_pair, env, function, repository, write_assembly
from test_audit_values import PLACEHOLDER_OPEN, placeholders_in

from ecr_lambda_access import audit
from ecr_lambda_access.audit import audit_assembly, live
from ecr_lambda_access.audit.formatters import junit, sarif
from ecr_lambda_access.audit.load import load_assembly
from ecr_lambda_access.audit.model import PolicyState, Unknown, build_model
from ecr_lambda_access.image_check import images_of_assembly
from ecr_lambda_access.registry.image_ref import ImageRef, UnsupportedImage, read_image
from ecr_lambda_access.registry.templates import (
    REPLICATION,
    CreationTemplate,
    applying_template,
    prefix_covers,
)

DOCS = json.loads(
    (Path(__file__).parent / "fixtures" / "registry" / "aws-docs-registry-layer.json").read_text()
)
SOURCE, DEST, THIRD = "111111111111", "222222222222", "333333333333"
US_EAST, US_WEST, EU = "us-east-1", "us-west-2", "eu-west-1"
DIGEST = "sha256:" + "ab" * 32


def image(account: str, name: str, region: str, reference: str = ":v1") -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{name}{reference}"


def pair(account: str, region: str) -> list[dict[str, Any]]:
    """The Lambda guide's cross-account pair, for functions of ``account`` in ``region``."""
    statements = documented_pair(account)
    statements[1]["Condition"]["StringLike"]["aws:sourceARN"] = (
        f"arn:aws:lambda:{region}:{account}:function:*"
    )
    return statements


def replication(configuration: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {"ReplicationConfiguration": configuration},
    }


def registry_policy(document: dict[str, Any]) -> dict[str, Any]:
    return {"Type": "AWS::ECR::RegistryPolicy", "Properties": {"PolicyText": document}}


def creation_template(
    prefix: str, applied_for: list[str], policy: dict[str, Any] | None
) -> dict[str, Any]:
    properties: dict[str, Any] = {"Prefix": prefix, "AppliedFor": applied_for}
    if policy is not None:
        properties["RepositoryPolicy"] = json.dumps(policy)
    return {"Type": "AWS::ECR::RepositoryCreationTemplate", "Properties": properties}


def source_stack(name: str = "prod/orders") -> dict[str, Any]:
    return {
        "Resources": {
            "Repo": repository(name, documented_pair(DEST)),
            "Replication": replication(DOCS["replication_cross_account_prefix"]),
        }
    }


def audit_of(tmp_path: Path, stacks: dict[str, tuple[str, dict[str, Any]]]) -> audit.AuditReport:
    return audit_assembly(write_assembly(tmp_path / "out", stacks))


# --------------------------------------------------------------------------------------------
# Image URIs: one parser, every consumer the same reading
# --------------------------------------------------------------------------------------------

URI_FORMS = {
    # AWS documents these forms (Lambda guide images-create; ECR user guide, pulling an image;
    # the China Regions' amazonaws.com.cn endpoints)
    "standard tag": (image(DEST, "prod/orders", US_WEST), "v1", None, "aws"),
    "digest": (image(DEST, "prod/orders", US_WEST, "@" + DIGEST), None, DIGEST, "aws"),
    "tag and digest": (
        image(DEST, "prod/orders", US_WEST, ":v1@" + DIGEST),
        "v1",
        DIGEST,
        "aws",
    ),
    "china": (
        f"{DEST}.dkr.ecr.cn-north-1.amazonaws.com.cn/prod/orders:v1",
        "v1",
        None,
        "aws-cn",
    ),
}


@pytest.mark.parametrize("form", sorted(URI_FORMS))
def test_every_documented_uri_form_reads_the_same_in_every_consumer(
    tmp_path: Path, form: str
) -> None:
    uri, tag, digest, partition = URI_FORMS[form]
    parsed = ImageRef.parse(uri)
    assert parsed is not None and not parsed.fips
    assert (parsed.account, parsed.repository, parsed.tag, parsed.digest) == (
        DEST,
        "prod/orders",
        tag,
        digest,
    )
    assert parsed.partition == partition
    assert read_image(uri) == parsed
    region = parsed.region
    out = write_assembly(
        tmp_path / "out",
        {"Fn": (env(DEST, region), {"Resources": {"Fn": function(uri, name="fn")}})},
    )
    (report,) = audit_assembly(out).functions
    assert report.status == "external"  # the repository is not in the assembly
    assert report.tag_or_digest == (digest or tag)
    assert report.image_ref == parsed  # the model's reading, carried by the report
    _, (target,) = live.audit_with_targets(str(out))
    assert target.image == parsed
    assert live.parse_image_uri(uri) == parsed
    images, skipped = images_of_assembly(str(out))
    assert skipped == []
    assert [(i.account, i.region, i.repository, i.digest, i.tag) for i in images] == [
        (DEST, region, "prod/orders", digest, tag)
    ]


def test_image_check_reads_the_models_image_reference_and_parses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``image_check`` takes each image from the report (the model read each URI once): no
    second parse of the report's text, and a part known only at deploy time (a tag from a
    parameter) is skipped, never turned into ``imageTag=<...>``."""
    from ecr_lambda_access.registry import image_ref

    deploy_time_tag = {
        "Fn::Join": ["", [f"{DEST}.dkr.ecr.{US_WEST}.amazonaws.com/prod/orders:", {"Ref": "Tag"}]]
    }
    template = {
        "Parameters": {"Tag": {"Type": "String"}},
        "Resources": {
            "Known": function(image(DEST, "prod/orders", US_WEST), name="known"),
            "Pinned": function(image(DEST, "prod/orders", US_WEST, "@" + DIGEST), name="pin"),
            "Later": function(deploy_time_tag, name="later"),
            "Fips": function(UNSUPPORTED["fips"][0], name="fips"),
        },
    }
    out = write_assembly(tmp_path / "out", {"Fn": (env(DEST, US_WEST), template)})
    calls: list[object] = []
    parse = image_ref.ImageRef.parse.__func__  # type: ignore[attr-defined]

    def counted(cls: type[ImageRef], uri: object) -> ImageRef | None:
        calls.append(uri)
        return parse(cls, uri)  # type: ignore[no-any-return]

    monkeypatch.setattr(image_ref.ImageRef, "parse", classmethod(counted))
    images, skipped = images_of_assembly(str(out))
    assert len(calls) == 4  # once per function, by the model; none by image_check
    assert [(i.repository, i.tag, i.digest) for i in images] == [
        ("prod/orders", "v1", None),
        ("prod/orders", None, DIGEST),
    ]
    assert sorted(line.split(":")[0] for line in skipped) == ["Fn/Fips", "Fn/Later"]
    by_name = {f.function: f for f in audit_assembly(out).functions}
    assert by_name["Fn/Later"].image_ref is None and by_name["Fn/Fips"].image_ref is None
    assert by_name["Fn/Known"].image_ref == ImageRef.parse(image(DEST, "prod/orders", US_WEST))


UNSUPPORTED = {
    "fips": (f"{DEST}.dkr.ecr-fips.{US_WEST}.amazonaws.com/prod/orders:v1", "FIPS"),
    "ecr public": ("public.ecr.aws/lambda/python:3.12", "public.ecr.aws"),
    "docker hub": ("python:3.12", "Docker Hub"),
    "docker hub host": ("docker.io/library/python:3.12", "Docker Hub"),
    "ghcr": ("ghcr.io/owner/app:v1", "ghcr.io"),
    "other registry": ("registry.example.com/app:v1", "registry.example.com"),
}


@pytest.mark.parametrize("form", sorted(UNSUPPORTED))
def test_images_lambda_refuses_are_unsupported_image(tmp_path: Path, form: str) -> None:
    uri, named = UNSUPPORTED[form]
    reading = read_image(uri)
    assert isinstance(reading, UnsupportedImage) and named in reading.registry
    report = audit_of(
        tmp_path, {"Fn": (env(DEST, US_WEST), {"Resources": {"Fn": function(uri, name="fn")}})}
    )
    (result,) = report.functions
    assert result.status == "unsupported-image"
    assert "private Amazon ECR" in result.detail and "FIPS" in result.detail
    assert report.failed()
    # the FIPS URI still parses (its parts are named), image_check skips it
    if form == "fips":
        parsed = ImageRef.parse(uri)
        assert parsed is not None and parsed.fips and parsed.unsupported is not None
        assert "dkr.ecr.us-west-2" in parsed.unsupported.fix


def test_unsupported_image_is_a_failing_rule_of_sarif_and_junit(tmp_path: Path) -> None:
    report = audit_of(
        tmp_path,
        {
            "Fn": (
                env(DEST, US_WEST),
                {"Resources": {"Fn": function("public.ecr.aws/x/y:1", name="fn")}},
            )
        },
    )
    assert "unsupported-image" in audit.FAILING_STATUSES
    assert audit.RULES["unsupported-image"].severity == "error"
    document = sarif.sarif_log(report, strict=False)
    rules = {r["id"]: r for r in document["runs"][0]["tool"]["driver"]["rules"]}
    assert rules["unsupported-image"]["defaultConfiguration"]["level"] == "error"
    (result,) = document["runs"][0]["results"]
    assert result["ruleId"] == "unsupported-image" and result["level"] == "error"
    tree = junit.junit_tree(report, strict=False)
    assert [c.find("failure") is not None for c in tree.getroot().iter("testcase")] == [True]


def test_a_uri_known_only_at_deploy_time_is_not_judged_foreign() -> None:
    assert read_image("\u27e63\u27e7/app:v1") is None
    assert read_image(None) is None and read_image(5) is None
    parsed = ImageRef.parse("\u27e61\u27e7.dkr.ecr.\u27e62\u27e7.\u27e63\u27e7/app:v1")
    assert parsed is not None and parsed.tag == "v1"


# --------------------------------------------------------------------------------------------
# Creation templates (pure)
# --------------------------------------------------------------------------------------------


def test_a_template_prefix_is_a_namespace_and_root_is_the_fallback() -> None:
    assert prefix_covers("prod", "prod/orders") and prefix_covers("prod", "prod")
    assert not prefix_covers("prod", "prod-orders")
    assert prefix_covers("prod/team", "prod/team/app") and not prefix_covers("prod/team", "prod/x")
    assert prefix_covers("ROOT", "anything")
    templates = [
        CreationTemplate(DEST, US_WEST, "ROOT", (REPLICATION,), where="root"),
        CreationTemplate(DEST, US_WEST, "prod", (REPLICATION,), where="prod"),
        CreationTemplate(DEST, US_WEST, "prod/team", (REPLICATION,), where="team"),
        CreationTemplate(DEST, US_WEST, "dev", ("PULL_THROUGH_CACHE",), where="dev"),
        CreationTemplate(THIRD, US_WEST, "prod", (REPLICATION,), where="elsewhere"),
    ]

    def which(name: str) -> str | None:
        found = applying_template(
            templates, account=DEST, region=US_WEST, name=name, cause=REPLICATION
        )
        return None if found is None else found.where

    assert which("prod/team/app") == "team"
    assert which("prod/app") == "prod"
    assert which("prod-orders") == "root"
    assert which("dev/app") == "root"  # the dev template is for pull-through cache only
    assert (
        applying_template(
            templates[1:], account=DEST, region=US_WEST, name="prod-orders", cause=REPLICATION
        )
        is None
    )


# --------------------------------------------------------------------------------------------
# A repository replication creates
# --------------------------------------------------------------------------------------------


def replicated_fleet(
    destination: dict[str, Any], *, function_account: str = DEST, name: str = "prod/orders"
) -> dict[str, tuple[str, dict[str, Any]]]:
    destination = copy.deepcopy(destination)
    destination.setdefault("Resources", {})["Registry"] = registry_policy(
        DOCS["registry_policy_all_repositories"]
    )
    stacks = {
        "Source": (env(SOURCE, US_EAST), source_stack(name)),
        "Destination": (env(DEST, US_WEST), destination),
    }
    fn = {"Resources": {"Fn": function(image(DEST, name, US_WEST), name="fn")}}
    if function_account == DEST:
        stacks["Destination"][1]["Resources"]["Fn"] = fn["Resources"]["Fn"]
    else:
        stacks["Workload"] = (env(function_account, US_WEST), fn)
    return stacks


def test_a_repository_replication_creates_has_no_policy(tmp_path: Path) -> None:
    report = audit_of(tmp_path, replicated_fleet({}))
    (result,) = report.functions
    assert result.status == "no-policy"
    assert "ECR creates it there on the first replication" in result.detail
    assert "no repository creation template" in result.detail
    assert report.failed()


def test_the_creation_template_policy_is_judged_and_applies_at_creation_only(
    tmp_path: Path,
) -> None:
    template = creation_template("prod", [REPLICATION], DOCS["creation_template_repository_policy"])
    report = audit_of(tmp_path / "a", replicated_fleet({"Resources": {"Template": template}}))
    (result,) = report.functions
    assert result.status == "ok", result.detail
    assert "applies only when ECR creates the repository" in result.detail
    # a third account is not in the template's policy: the same evaluator says so
    report = audit_of(
        tmp_path / "b",
        replicated_fleet({"Resources": {"Template": template}}, function_account=THIRD),
    )
    (result,) = report.functions
    assert result.status == "missing-root-grant", result.detail
    assert "creation template" in result.detail


def test_a_template_of_another_namespace_or_cause_does_not_apply(tmp_path: Path) -> None:
    policy = DOCS["creation_template_repository_policy"]
    for i, template in enumerate(
        [
            creation_template("prod", [REPLICATION], policy),  # prod/ is not prod-orders
            creation_template("ROOT", ["PULL_THROUGH_CACHE"], policy),
        ]
    ):
        stacks = replicated_fleet({"Resources": {"Template": template}}, name="prod-orders")
        (result,) = audit_of(tmp_path / str(i), stacks).functions
        assert result.status == "no-policy", (i, result.detail)
    root = creation_template("ROOT", [REPLICATION, "PULL_THROUGH_CACHE"], policy)
    stacks = replicated_fleet({"Resources": {"Template": root}}, name="prod-orders")
    (result,) = audit_of(tmp_path / "root", stacks).functions
    assert result.status == "ok", result.detail


def test_the_documented_prod_dash_registry_policy_fails_a_prod_slash_replica(
    tmp_path: Path,
) -> None:
    template = creation_template("prod", [REPLICATION], DOCS["creation_template_repository_policy"])
    stacks = replicated_fleet({"Resources": {"Template": template}})
    stacks["Destination"][1]["Resources"]["Registry"] = registry_policy(
        DOCS["registry_policy_prod_dash"]
    )
    (result,) = audit_of(tmp_path, stacks).functions
    assert result.status == "unverifiable", result.detail
    assert "registry policy" in result.detail


# --------------------------------------------------------------------------------------------
# A Region no rule reaches
# --------------------------------------------------------------------------------------------


def test_a_region_no_rule_reaches_is_not_replicated(tmp_path: Path) -> None:
    # prod/orders in the destination account, but in eu-west-1: the rule sends it to us-west-2
    stacks = {
        "Source": (env(SOURCE, US_EAST), source_stack()),
        "Replica": (
            env(DEST, EU),
            {
                "Resources": {
                    "Repo": repository("prod/orders", pair(DEST, EU)),
                    "Fn": function(image(DEST, "prod/orders", EU), name="fn"),
                }
            },
        ),
    }
    report = audit_of(tmp_path, stacks)
    (result,) = report.functions
    assert result.status == "not-replicated", result.detail
    assert "222222222222/us-west-2" in result.detail and "222222222222/eu-west-1" in result.detail


def test_a_name_no_rule_matches_is_unverifiable(tmp_path: Path) -> None:
    stacks = {
        "Source": (env(SOURCE, US_EAST), source_stack("dev/orders")),
        "Replica": (
            env(DEST, EU),
            {
                "Resources": {
                    "Repo": repository("dev/orders", pair(DEST, EU)),
                    "Fn": function(image(DEST, "dev/orders", EU), name="fn"),
                }
            },
        ),
    }
    (result,) = audit_of(tmp_path, stacks).functions
    assert result.status == "unverifiable", result.detail
    assert "only direct pushes fill" in result.detail


# --------------------------------------------------------------------------------------------
# One model: the static audit and the live check read the same
# --------------------------------------------------------------------------------------------


def test_the_live_targets_read_the_model_not_the_templates_again(tmp_path: Path) -> None:
    stacks = {
        "Source": (
            env(SOURCE, US_EAST),
            {
                "Conditions": {"Never": {"Fn::Equals": ["a", "b"]}},
                "Resources": {
                    "Repo": repository("prod/orders", documented_pair(DEST)),
                    "Gone": {**repository("gone", documented_pair(DEST)), "Condition": "Never"},
                    "Bad": {
                        "Type": "AWS::ECR::Repository",
                        "Properties": {"RepositoryName": "bad", "RepositoryPolicyText": "{nope"},
                    },
                    "Replication": replication(
                        {
                            "Rules": [
                                {
                                    "Destinations": [{"Region": EU, "RegistryId": DEST}],
                                    "RepositoryFilters": [
                                        {"Filter": "prod", "FilterType": "SOMETHING_ELSE"}
                                    ],
                                }
                            ]
                        }
                    ),
                },
            },
        ),
        "Workload": (
            env(DEST, US_EAST),
            {
                "Resources": {
                    logical: function(image(SOURCE, n, US_EAST), name=f"fn{i}")
                    for i, (logical, n) in enumerate(
                        [("Ok", "prod/orders"), ("Gone", "gone"), ("Bad", "bad")]
                    )
                }
            },
        ),
    }
    out = write_assembly(tmp_path / "out", stacks)
    report, targets = live.audit_with_targets(str(out))
    statuses = {f.function.rsplit("/", 1)[-1]: f.status for f in report.functions}
    assert statuses == {"Ok": "ok", "Gone": "external", "Bad": "invalid-policy"}
    by_name = {t.function.rsplit("/", 1)[-1]: t for t in targets}
    assert by_name["Ok"].synthesized_policy_state == "valid"
    assert by_name["Ok"].synthesized_policy is not None
    assert by_name["Gone"].synthesized_policy_state is None  # not created: in neither
    assert by_name["Bad"].synthesized_policy_state == "invalid"
    assert by_name["Bad"].synthesized_policy is None
    # an unknown filter type is unreadable in both: no replica source
    assert all(t.replica_source is None for t in targets)


def test_wrong_typed_values_never_raise(tmp_path: Path) -> None:
    hostile: dict[str, Any] = {
        "Resources": {
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": 5}},
            "Repo2": {"Type": "AWS::ECR::Repository", "Properties": ["not", "a", "mapping"]},
            "Fn": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"PackageType": "Image", "Code": {"ImageUri": {"Fn::Join": 7}}},
            },
            "Fn2": function({"Fn::Join": ["", [1, 2]]}, name=["x"], role=5),  # type: ignore[arg-type]
            "Replication": replication({"Rules": {"not": "a list"}}),
            "Template": {
                "Type": "AWS::ECR::RepositoryCreationTemplate",
                "Properties": {"Prefix": 3, "AppliedFor": "REPLICATION", "RepositoryPolicy": 4},
            },
            "Policy": {"Type": "AWS::IAM::Policy", "Properties": {"Roles": 9}},
        }
    }
    report = audit_of(tmp_path, {"Hostile": (env(DEST, US_WEST), hostile)})
    assert {f.status for f in report.functions} <= {"unverifiable", "unsupported-image"}


_ACCOUNTS = st.sampled_from([SOURCE, DEST])
_REGIONS = st.sampled_from([US_EAST, EU])
_NAMES = st.sampled_from(["prod/orders", "prod-orders", "dev/app"])
_AGNOSTIC = "aws://unknown-account/unknown-region"
_OWN_IMAGE = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
"""An image URI partly known: the account and Region of the function's own stack."""
_OWN_ROOT = {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}


def _own_account_statement() -> dict[str, Any]:
    """A statement whose principal is the stack's own account (unknown when env-agnostic)."""
    return {
        "Sid": "OwnAccount",
        "Effect": "Allow",
        "Principal": {"AWS": _OWN_ROOT},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
    }


@st.composite
def assemblies(draw: st.DrawFn) -> dict[str, tuple[str, dict[str, Any]]]:
    stacks: dict[str, tuple[str, dict[str, Any]]] = {}
    for s in range(draw(st.integers(1, 3))):
        account, region = draw(_ACCOUNTS), draw(_REGIONS)
        agnostic = draw(st.booleans()) and draw(st.booleans())  # a quarter: env-agnostic
        resources: dict[str, Any] = {}
        conditions = {"Never": {"Fn::Equals": ["a", "b"]}, "Always": {"Fn::Equals": ["a", "a"]}}
        parameters = {"Name": {"Type": "String"}}  # no default: a name known only at deploy
        for r in range(draw(st.integers(0, 2))):
            statements = draw(
                st.sampled_from(
                    [
                        None,
                        documented_pair(DEST),
                        documented_pair(SOURCE),
                        "bad",
                        [_own_account_statement(), *documented_pair(DEST)],
                    ]
                )
            )
            resource = (
                {
                    "Type": "AWS::ECR::Repository",
                    "Properties": {"RepositoryName": draw(_NAMES), "RepositoryPolicyText": "{"},
                }
                if statements == "bad"
                else repository(draw(_NAMES), statements)  # type: ignore[arg-type]
            )
            condition = draw(st.sampled_from([None, "Never", "Always"]))
            if condition:
                resource["Condition"] = condition
            if draw(st.integers(0, 4)) == 0:
                resource["Properties"]["RepositoryName"] = {"Ref": "Name"}
            resources[f"Repo{r}"] = resource
        if draw(st.booleans()):
            resources["Replication"] = replication(
                {
                    "Rules": [
                        {
                            "Destinations": [
                                {"Region": draw(_REGIONS), "RegistryId": draw(_ACCOUNTS)}
                            ],
                            "RepositoryFilters": [
                                {
                                    "Filter": draw(st.sampled_from(["prod", "dev"])),
                                    "FilterType": draw(st.sampled_from(["PREFIX_MATCH", "OTHER"])),
                                }
                            ],
                        }
                    ]
                }
            )
        if draw(st.booleans()):
            resources["Registry"] = registry_policy(DOCS["registry_policy_all_repositories"])
        if draw(st.booleans()):
            resources["Template"] = creation_template(
                draw(st.sampled_from(["prod", "ROOT"])),
                [REPLICATION],
                DOCS["creation_template_repository_policy"],
            )
        for f in range(draw(st.integers(0, 2))):
            uri: Any = image(draw(_ACCOUNTS), draw(_NAMES), region)
            if draw(st.integers(0, 3)) == 0:
                uri = {"Fn::Sub": _OWN_IMAGE + draw(_NAMES) + ":v1"}
            resources[f"Fn{f}"] = function(uri, name=f"fn{s}{f}")
        stacks[f"S{s}"] = (
            _AGNOSTIC if agnostic else env(account, region),
            {"Parameters": parameters, "Conditions": conditions, "Resources": resources},
        )
    return stacks


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(stacks=assemblies())
def test_the_static_audit_and_the_live_check_see_the_same_model(
    tmp_path_factory: pytest.TempPathFactory, stacks: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    out = write_assembly(tmp_path_factory.mktemp("prop") / "out", stacks)
    model = build_model(load_assembly(out))
    report, targets = live.audit_with_targets(str(out))
    assert [t.function for t in targets] == [f.function for f in report.functions]
    # values known only at deploy time are Unknown (with the reason) in the model, never text
    # inside a value: neither the model nor any report holds the resolver's placeholders
    assert not placeholders_in(model)
    assert PLACEHOLDER_OPEN not in json.dumps(report.to_json(), ensure_ascii=False)
    assert PLACEHOLDER_OPEN not in repr(targets)
    by_arn: dict[str, Any] = {}
    for r in model.repositories:
        if not isinstance(r.arn, Unknown):
            by_arn.setdefault(r.arn, r)  # the first of a name, as both find it
    assert [r.repository for r in report.repositories] == [str(r.arn) for r in model.repositories]
    for result, target in zip(report.functions, targets, strict=True):
        parsed = ImageRef.parse(result.image)
        assert target.image == parsed
        if parsed is None:
            continue
        repository = by_arn.get(parsed.repository_arn)
        if repository is None:
            assert target.synthesized_policy is None and target.synthesized_policy_state is None
            continue
        assert target.synthesized_policy_state == repository.policy.state.value
        if repository.policy.state is PolicyState.VALID and repository.policy.has_unknowns:
            assert target.synthesized_policy is None  # the live check judges the deployed one
        elif repository.policy.state is PolicyState.VALID:
            assert target.synthesized_policy == repository.policy.document
        else:
            assert target.synthesized_policy is None
        if repository.policy.state is PolicyState.INVALID:
            # an env-agnostic function stops at the environment stage, before the evaluation
            agnostic = result.account is None
            assert result.status in ("invalid-policy", "region-mismatch") or (
                agnostic and result.status == "unverifiable"
            )
