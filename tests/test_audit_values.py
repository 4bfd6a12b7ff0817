"""Unknown values in the audit's model (issue 16): one type that carries its reason.

A value known only at deploy time is an ``Unknown`` (which parameter, which import, which
condition, which generated name), converted once where the model is built: no reader after the
model sees the resolver's placeholder text. Pure Python: hand-written assemblies, no jsii.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from test_audit_unit import REGISTRY, WORKLOAD, documented_pair, env, function, write_assembly
from test_audit_unit import repository as repository_resource

from ecr_lambda_access.audit import audit_assembly
from ecr_lambda_access.audit.load import load_assembly
from ecr_lambda_access.audit.model import AssemblyModel, ModelImage, Unknown, build_model
from ecr_lambda_access.audit.values import decode, encode, reasons, render, unknowns_in
from ecr_lambda_access.policy import policy_text

PLACEHOLDER_OPEN = "\u27e6"
"""The first character of the resolver's placeholder text."""

_INTERNAL = {"source", "properties", "assembly", "stacks"}
"""Fields that are not model values: the raw template, the resolver, the document as resolved
(read only by ``ParsedPolicy.evaluable``)."""


def placeholders_in(value: Any, seen: set[int] | None = None) -> list[str]:
    """Every text of the model (dataclass fields, mappings, sequences) holding a placeholder."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, str):
        return [value] if PLACEHOLDER_OPEN in value else []
    if isinstance(value, Unknown):
        return placeholders_in(value.reason, seen) + placeholders_in(value.parts, seen)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [
            found
            for f in dataclasses.fields(value)
            if f.name not in _INTERNAL
            for found in placeholders_in(getattr(value, f.name), seen)
        ]
    if isinstance(value, Mapping):
        return [found for k, v in value.items() for found in placeholders_in([k, v], seen)]
    if isinstance(value, (list, tuple, set, frozenset)):
        return [found for v in value for found in placeholders_in(v, seen)]
    return []


# --------------------------------------------------------------------------------------------
# the type
# --------------------------------------------------------------------------------------------


def test_one_deploy_time_value_is_one_unknown_wherever_it_is_read() -> None:
    items = [Unknown("account of S", 0, (0, "X")), Unknown("Region of S", 1)]
    account = decode(encode(0), items)
    assert account is items[0]
    assert account == Unknown("account of S", 0)  # the target does not make it another value
    assert account != Unknown("account of S", 1)
    assert account != Unknown("account of T", 0)
    assert decode("plain", items) == "plain"
    assert str(account) == "<account of S>"


def test_a_partly_known_string_keeps_its_literal_and_unknown_parts() -> None:
    items = [Unknown("account of S", 0), Unknown("Region of S", 1)]
    uri = decode(f"{encode(0)}.dkr.ecr.{encode(1)}.amazonaws.com/app", items)
    assert isinstance(uri, Unknown)
    assert uri.parts == (items[0], ".dkr.ecr.", items[1], ".amazonaws.com/app")
    assert uri.reason == "account of S; Region of S"
    assert uri.unknowns == (items[0], items[1])
    assert str(uri) == "<account of S>.dkr.ecr.<Region of S>.amazonaws.com/app"
    assert uri == decode(f"{encode(0)}.dkr.ecr.{encode(1)}.amazonaws.com/app", items)
    assert uri != decode(f"{encode(0)}.dkr.ecr.{encode(1)}.amazonaws.com/web", items)
    assert unknowns_in(uri, "x", items[0]) == frozenset(items)
    assert reasons(uri, items[0], "x") == "account of S; Region of S"


def test_the_evaluator_sees_a_shared_unknown_as_one_literal_and_any_other_as_a_token() -> None:
    items = [Unknown("account of S", 0), Unknown("parameter Tag of stack S", 1)]
    arn = decode(f"arn:aws:ecr:us-east-1:{encode(0)}:repository/{encode(1)}", items)
    assert isinstance(arn, Unknown)
    shared = render(arn, frozenset({items[0]}))
    assert shared == f"arn:aws:ecr:us-east-1:{encode(0)}:repository/${{Token[AUDIT.1]}}"
    assert render(arn, frozenset()).count("${Token[AUDIT.") == 2
    assert render(arn) == f"arn:aws:ecr:us-east-1:{encode(0)}:repository/{encode(1)}"
    assert render("plain", frozenset()) == "plain"
    assert render(Unknown("a policy"), None) == "${Token[AUDIT.unknown]}"


# --------------------------------------------------------------------------------------------
# the model holds Unknowns, never placeholder text
# --------------------------------------------------------------------------------------------

AGNOSTIC = "aws://unknown-account/unknown-region"
OWN = "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}"
IMAGE = f"{REGISTRY}.dkr.ecr.us-east-1.amazonaws.com"


def mixed_assembly(tmp_path: Path) -> Path:
    """Every kind of unknown: parameters, imports, conditions, env-agnostic stacks, generated
    names, a policy built from the stack's account, the CDK bootstrap's repository."""
    registry = {
        "Parameters": {"RepoName": {"Type": "String"}, "Consumer": {"Type": "String"}},
        "Resources": {
            "Repo": repository_resource("app", documented_pair(WORKLOAD)),
            "Named": {
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": {"Ref": "RepoName"},
                    "RepositoryPolicyText": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"AWS": {"Fn::Sub": "arn:aws:iam::${Consumer}:root"}},
                                "Action": "ecr:BatchGetImage",
                            }
                        ],
                    },
                },
            },
            "Unnamed": repository_resource("x", None) | {"Properties": {}},
        },
    }
    workload = {
        "Parameters": {"Tag": {"Type": "String"}, "Acct": {"Type": "String"}},
        "Conditions": {"Blue": {"Fn::Equals": [{"Ref": "Tag"}, "blue"]}},
        "Resources": {
            "ByTag": function({"Fn::Sub": IMAGE + "/app:${Tag}"}, name="by-tag"),
            "ByAccount": function({"Fn::Sub": "${Acct}.dkr.ecr.us-east-1.amazonaws.com/app"}, "a"),
            "ByImport": function({"Fn::ImportValue": "SharedImage"}, name="by-import"),
            "ByImportedName": function(
                {"Fn::Join": ["", [IMAGE + "/", {"Fn::ImportValue": "Name"}, ":v1"]]}, "n"
            ),
            "ByCondition": function(
                {"Fn::If": ["Blue", IMAGE + "/app:blue", IMAGE + "/app:green"]}, "c"
            ),
            "Generated": function(IMAGE + "/app:v1"),
            "DeployTimeName": function(IMAGE + "/app:v1", name={"Ref": "Acct"}),  # type: ignore[arg-type]
        },
    }
    agnostic = {
        "Resources": {
            "Own": repository_resource("own", documented_pair(WORKLOAD)),
            "OwnImage": function({"Fn::Sub": OWN + "/own:v1"}, name="own"),
            "Bootstrap": function(
                {
                    "Fn::Sub": OWN + "/cdk-hnb659fds-container-assets-${AWS::AccountId}-"
                    "${AWS::Region}:v1"
                },
                name="asset",
            ),
            "Foreign": function(IMAGE + "/app:v1", name="foreign"),
        }
    }
    return write_assembly(
        tmp_path / "out",
        {
            "Registry": (env(REGISTRY), registry),
            "Workload": (env(WORKLOAD), workload),
            "Agnostic": (AGNOSTIC, agnostic),
        },
    )


def test_no_placeholder_leaves_the_model_or_the_report(tmp_path: Path) -> None:
    out = mixed_assembly(tmp_path)
    model: AssemblyModel = build_model(load_assembly(out))
    assert not placeholders_in(model)
    report = audit_assembly(out)
    assert PLACEHOLDER_OPEN not in json.dumps(report.to_json(), ensure_ascii=False)
    # and it is not vacuous: the model does hold unknowns, each with its reason
    named = {r.logical_id: r for r in model.repositories}
    assert named["Named"].name == Unknown(
        "parameter RepoName of stack Registry",
        named["Named"].name.key,  # type: ignore[union-attr]
    )
    assert isinstance(named["Unnamed"].name, Unknown)
    assert named["Unnamed"].name.reason.startswith("generated name of ")
    assert named["Unnamed"].name.target == (0, "Unnamed")
    assert named["Named"].policy.has_unknowns
    agnostic = model.environment(2)
    assert [str(v) for v in (agnostic.account, agnostic.region, agnostic.partition)] == [
        "<account of Agnostic>",
        "<Region of Agnostic>",
        "<partition of Agnostic>",
    ]
    functions = {f.logical_id: f for f in model.functions}
    own = functions["OwnImage"].image
    assert isinstance(own, ModelImage)
    assert (own.account, own.region, own.repository) == (
        agnostic.account,
        agnostic.region,
        "own",
    )
    assert not own.known
    by_tag = functions["ByTag"].image
    assert isinstance(by_tag, ModelImage) and by_tag.known
    assert str(by_tag.tag) == "<parameter Tag of stack Workload>"
    assert functions["ByImport"].image is None
    assert str(functions["ByImport"].image_uri) == "<export SharedImage (not in the assembly)>"
    assert [str(s.image_uri) for s in functions["ByCondition"].scenarios] == [
        IMAGE + "/app:blue",
        IMAGE + "/app:green",
    ]


def test_unverifiable_details_name_what_is_unknown(tmp_path: Path) -> None:
    report = audit_assembly(mixed_assembly(tmp_path))
    verdicts = {f.function.rsplit("/", 1)[-1]: f for f in report.functions}
    statuses = {k: v.status for k, v in verdicts.items()}
    assert statuses == {
        "ByTag": "ok",
        "ByAccount": "unverifiable",
        "ByImport": "unverifiable",
        "ByImportedName": "unverifiable",
        "ByCondition": "ok",
        "Generated": "ok",
        "DeployTimeName": "ok",
        "OwnImage": "unverifiable",
        "Bootstrap": "ok",
        "Foreign": "unverifiable",
    }
    assert verdicts["ByAccount"].detail.endswith(
        "is known only at deploy time (parameter Acct of stack Workload)"
    )
    assert "<export SharedImage (not in the assembly)>" in verdicts["ByImport"].detail
    assert (
        "the repository name <export Name (not in the assembly)> is not known before deploy"
        in verdicts["ByImportedName"].detail
    )
    assert "(the same whichever way condition Blue goes)" in verdicts["ByCondition"].detail
    assert "arn:<partition of Agnostic>:lambda:<Region of Agnostic>:<account of Agnostic>" in (
        verdicts["OwnImage"].detail
    )
    assert verdicts["Bootstrap"].repository == (
        "arn:<partition of Agnostic>:ecr:<Region of Agnostic>:<account of Agnostic>:repository/"
        "cdk-hnb659fds-container-assets-<account of Agnostic>-<Region of Agnostic>"
    )
    assert "stack Agnostic is env-agnostic" in verdicts["Foreign"].detail
    repositories = {r.path.rsplit("/", 1)[-1]: r for r in report.repositories}
    assert repositories["Named"].name is None
    assert repositories["Named"].repository.endswith(
        ":repository/<parameter RepoName of stack Registry>"
    )


def test_a_replica_sent_from_an_env_agnostic_registry_names_its_source_for_people(
    tmp_path: Path,
) -> None:
    """Found by comparing 400 generated assemblies with the audit before the Unknown type: the
    source registry of a created replica was written as the resolver's placeholder text."""
    replication = {
        "Type": "AWS::ECR::ReplicationConfiguration",
        "Properties": {
            "ReplicationConfiguration": {
                "Rules": [
                    {
                        "Destinations": [{"Region": "us-east-1", "RegistryId": WORKLOAD}],
                        "RepositoryFilters": [{"Filter": "prod", "FilterType": "PREFIX_MATCH"}],
                    }
                ]
            }
        },
    }
    out = write_assembly(
        tmp_path / "out",
        {
            "Source": (AGNOSTIC, {"Resources": {"Replication": replication}}),
            "Workload": (
                env(WORKLOAD),
                {
                    "Resources": {
                        "Fn": function(
                            f"{WORKLOAD}.dkr.ecr.us-east-1.amazonaws.com/prod/orders:v1", "fn"
                        )
                    }
                },
            ),
        },
    )
    (result,) = audit_assembly(out).functions
    assert result.status == "no-policy", result.detail
    assert result.detail.startswith(
        "repository prod/orders is in no template of the assembly, but the replication "
        "configuration Source/Replication (stack Source) sends it from "
        f"<account of Source>/<Region of Source> to {WORKLOAD}/us-east-1"
    )


def test_a_creation_template_in_doubt_says_which_value_is_unknown(tmp_path: Path) -> None:
    from test_audit_registry import REPLICATION, replicated_fleet

    template = {
        "Type": "AWS::ECR::RepositoryCreationTemplate",
        "Condition": "Blue",
        "Properties": {
            "Prefix": {"Fn::Sub": "prod-${Stage}"},
            "AppliedFor": [REPLICATION],
        },
    }
    fleet = replicated_fleet(
        {
            "Parameters": {"Stage": {"Type": "String"}},
            "Conditions": {"Blue": {"Fn::Equals": [{"Ref": "Stage"}, "blue"]}},
            "Resources": {"Template": template},
        }
    )
    (result,) = audit_assembly(write_assembly(tmp_path / "out", fleet)).functions
    assert result.status == "unverifiable"
    assert result.detail.endswith(
        "depends on values known only at deploy time (it exists only under condition Blue, not "
        "known before deploy; parameter Stage of stack Destination)"
    )


def test_a_policy_with_deploy_time_values_is_read_once_in_both_forms() -> None:
    from ecr_lambda_access.audit.model import ParsedPolicy, PolicyState, parse_policy

    account = encode(3)
    written = {"Statement": [{"Principal": {"AWS": f"arn:aws:iam::{account}:root"}}]}
    parsed = parse_policy(written)
    assert parsed == ParsedPolicy(
        PolicyState.VALID,
        document={"Statement": [{"Principal": {"AWS": "arn:aws:iam::${Token[AUDIT.3]}:root"}}]},
    )
    assert parsed.source == written and parsed.has_unknowns
    assert parsed.evaluable(frozenset({Unknown("account of S", 3)})) == written
    assert parsed.estimated_length == len(policy_text(written).replace(account, "x" * 14))
    plain = parse_policy({"Statement": []})
    assert plain.source is None and not plain.has_unknowns
    assert plain.evaluable(frozenset()) == {"Statement": []}


def test_a_known_image_names_its_repository_by_a_plain_arn() -> None:
    image = ModelImage("u", "111111111111", "us-east-1", "app", "v1", None)
    assert image.repository_arn("aws") == "arn:aws:ecr:us-east-1:111111111111:repository/app"
    assert image.known and image.tag_or_digest == "v1"
    region = Unknown("Region of S", 0)
    unknown = ModelImage("u", "111111111111", region, "app", None, "sha256:ab")
    arn = unknown.repository_arn(Unknown.partial(["a", Unknown("partition of S", 1)]))
    assert isinstance(arn, Unknown) and not unknown.known
    assert arn.parts == (
        "arn:a",
        Unknown("partition of S", 1),
        ":ecr:",
        region,
        ":111111111111:repository/app",
    )
    # one string, one way of writing it: as the resolver's text of the same ARN reads
    items = [region, Unknown("partition of S", 1)]
    assert arn == decode(f"arn:a{encode(1)}:ecr:{encode(0)}:111111111111:repository/app", items)
    assert unknown.tag_or_digest == "sha256:ab"


# --------------------------------------------------------------------------------------------
# each reading of an unknown, exactly (written against `make mutation`)
# --------------------------------------------------------------------------------------------


def test_a_fips_image_of_an_unknown_account_is_named_for_people(tmp_path: Path) -> None:
    uri = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr-fips.us-east-1.amazonaws.com/app:v1"}
    stacks = {"S": ("aws://unknown-account/us-east-1", {"Resources": {"Fn": function(uri, "f")}})}
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "unsupported-image",
        "the image <account of S>.dkr.ecr-fips.us-east-1.amazonaws.com/app:v1 is in the ECR FIPS "
        "endpoint <account of S>.dkr.ecr-fips.us-east-1: Lambda runs only images from a private "
        "Amazon ECR repository, pulled through the standard endpoint "
        "(ACCOUNT.dkr.ecr.REGION.amazonaws.com, not the FIPS endpoint dkr.ecr-fips), in the "
        "function's own Region. Fix: use the standard endpoint: "
        "<account of S>.dkr.ecr.us-east-1.amazonaws.com/app:v1",
    )


def test_an_image_of_a_deploy_time_account_is_named_with_the_parameter(tmp_path: Path) -> None:
    report = audit_assembly(mixed_assembly(tmp_path))
    (result,) = [f for f in report.functions if f.function == "Workload/ByAccount"]
    assert result.detail == (
        "the image <parameter Acct of stack Workload>.dkr.ecr.us-east-1.amazonaws.com/app is not "
        "known before deploy: repository Registry/Repo has this name, but its account or Region, "
        "or the image's, is known only at deploy time (parameter Acct of stack Workload)"
    )


def test_an_image_of_an_unknown_name_is_not_a_repository_replication_creates(
    tmp_path: Path,
) -> None:
    from test_audit_registry import replicated_fleet

    fleet = replicated_fleet({"Parameters": {"Name": {"Type": "String"}}})
    fleet["Destination"][1]["Resources"]["Fn"] = function(
        {"Fn::Sub": f"{WORKLOAD}.dkr.ecr.us-west-2.amazonaws.com/${{Name}}:v1"}, "fn"
    )
    (result,) = audit_assembly(write_assembly(tmp_path / "out", fleet)).functions
    assert (result.status, result.detail) == (
        "unverifiable",
        f"the image {WORKLOAD}.dkr.ecr.us-west-2.amazonaws.com/<parameter Name of stack "
        "Destination>:v1 is not known before deploy: the repository name <parameter Name of "
        "stack Destination> is not known before deploy",
    )


@pytest.mark.parametrize(
    ("environment", "named", "unknown"),
    [
        ("aws://unknown-account/us-west-2", True, "account of Replica"),
        (
            "aws://unknown-account/unknown-region",
            False,
            "generated name of Replica/Repo; account of Replica; Region of Replica",
        ),
    ],
)
def test_a_declared_replica_of_an_unknown_environment_is_unverifiable(
    tmp_path: Path, environment: str, named: bool, unknown: str
) -> None:
    own_functions = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {
            "StringLike": {
                "aws:SourceArn": {
                    "Fn::Sub": "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}"
                    ":function:*"
                }
            }
        },
    }
    replica = repository_resource("prod/orders", [own_functions]) | {
        "Metadata": {
            "ecr-lambda-access": {
                "replicaOf": f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/prod/orders"
            }
        }
    }
    if not named:
        del replica["Properties"]["RepositoryName"]
    uri = {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        + ("prod/orders" if named else "${Repo}")
        + ":v1"
    }
    stacks = {"Replica": (environment, {"Resources": {"Repo": replica, "Fn": function(uri, "fn")}})}
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert (result.status, result.detail) == (
        "unverifiable",
        f"repository Replica/Repo is a replica of arn:aws:ecr:us-east-1:{REGISTRY}:repository/"
        "prod/orders (add_replica), but its name, account or Region is known only at deploy time "
        f"({unknown}): whether replication fills it cannot be checked",
    )


def test_a_source_of_an_unknown_account_makes_no_unreached_replica(tmp_path: Path) -> None:
    from test_audit_registry import replication

    rules = {
        "Rules": [
            {
                "Destinations": [{"Region": "eu-west-1", "RegistryId": WORKLOAD}],
                "RepositoryFilters": [{"Filter": "prod", "FilterType": "PREFIX_MATCH"}],
            }
        ]
    }
    source = {
        "Resources": {
            "Repo": repository_resource("prod/orders", None),
            "Replication": replication(rules),
        }
    }
    here = {
        "Resources": {
            "Repo": repository_resource("prod/orders", documented_pair(WORKLOAD)),
            "Fn": function(f"{WORKLOAD}.dkr.ecr.us-east-1.amazonaws.com/prod/orders:v1", "fn"),
        }
    }
    stacks = {"Source": ("aws://unknown-account/us-west-2", source), "Here": (env(WORKLOAD), here)}
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "ok", result.detail


def test_the_doubts_about_a_creation_template_are_named_each(tmp_path: Path) -> None:
    def template(properties: dict[str, Any]) -> dict[str, Any]:
        return {"Type": "AWS::ECR::RepositoryCreationTemplate", "Properties": properties}

    resources = {
        "NumberPrefix": template({"Prefix": 3, "AppliedFor": ["REPLICATION"]}),
        "NoAppliedFor": template({"Prefix": "prod"}),
        "NumberApplied": template({"Prefix": "prod", "AppliedFor": [5]}),
        "UnknownPolicy": template(
            {"Prefix": "prod", "AppliedFor": ["REPLICATION"], "RepositoryPolicy": {"Ref": "P"}}
        ),
        "Known": template({"Prefix": "prod", "AppliedFor": ["REPLICATION"]}),
    }
    stacks = {
        "S": (env(WORKLOAD), {"Parameters": {"P": {"Type": "String"}}, "Resources": resources})
    }
    model = build_model(load_assembly(write_assembly(tmp_path / "out", stacks)))
    reasons_of = {
        t.where.split(" ")[0]: (t.known, t.unknown_reason) for t in model.creation_templates
    }
    assert reasons_of == {
        "S/NumberPrefix": (False, "its Prefix is not text"),
        "S/NoAppliedFor": (False, "its AppliedFor is not a list"),
        "S/NumberApplied": (False, "its AppliedFor holds values that are not text"),
        "S/UnknownPolicy": (
            False,
            "the policy text is built from values known only at deploy time "
            "(<parameter P of stack S>)",
        ),
        "S/Known": (True, None),
    }


def test_an_execution_role_is_read_into_the_model_with_its_managed_policies(
    tmp_path: Path,
) -> None:
    from ecr_lambda_access.audit.model import ModelRole

    read_only = "AmazonEC2ContainerRegistryReadOnly"
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "ManagedPolicyArns": [
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/" + read_only},
                {"Fn::Sub": "arn:aws:iam::aws:policy/${Managed}"},
                {"Fn::ImportValue": "SharedPolicy"},
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaRole"},
            ]
        },
    }
    fn = function(f"{REGISTRY}.dkr.ecr.us-east-1.amazonaws.com/app:v1", "f")
    fn["Properties"]["Role"] = {"Fn::GetAtt": ["Role", "Arn"]}
    stacks = {
        "S": (
            "aws://unknown-account/unknown-region",
            {"Parameters": {"Managed": {"Type": "String"}}, "Resources": {"Role": role, "Fn": fn}},
        )
    }
    out = write_assembly(tmp_path / "out", stacks)
    model = build_model(load_assembly(out))
    (read,) = model.roles.values()
    assert read == ModelRole(0, "Role", (), read.managed_policies)
    assert [str(v) for _, v in read.managed_policies] == [
        "arn:<partition of S>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
        "arn:aws:iam::aws:policy/<parameter Managed of stack S>",
        "<export SharedPolicy (not in the assembly)>",
        "arn:<partition of S>:iam::aws:policy/service-role/AWSLambdaRole",
    ]
    (finding,) = [f for f in audit_assembly(out).findings if f.code == "execution-role-ecr-actions"]
    assert "(AWS managed policy AmazonEC2ContainerRegistryReadOnly)" in finding.message
