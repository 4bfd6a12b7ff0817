"""Issue 10's cases for the assembly reader and the verdicts, on hand-written assemblies (no jsii):
nested stacks, bootstrap repositories, Conditions/Fn::If, YAML, unreadable and deeply nested
templates, the new findings, the latest-tag id and `| head`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ecr_lambda_access import cli
from ecr_lambda_access.audit import AuditReport, audit_assembly

REGISTRY, WORKLOAD, OTHER = "111111111111", "222222222222", "333333333333"
REGION = "us-east-1"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
DIGEST = "sha256:" + "a" * 64


def env(account: str = REGISTRY, region: str = REGION) -> str:
    return f"aws://{account}/{region}"


def write_assembly(directory: Path, stacks: dict[str, tuple[str, Any]], **files: Any) -> Path:
    """stack name -> (environment, template); a template that is a str is written as is (YAML or
    broken text) to NAME.template.yaml / .json; ``files``: extra file name -> JSON content."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (environment, template) in stacks.items():
        if isinstance(template, str):
            file = f"{name}.template.{'yaml' if template.startswith('#yaml') else 'json'}"
            (directory / file).write_text(template)
        else:
            file = f"{name}.template.json"
            (directory / file).write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": file},
        }
    for name, content in files.items():
        (directory / name.replace("__", ".")).write_text(json.dumps(content))
    (directory / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return directory


def repository(name: str, statements: list[dict[str, Any]] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"RepositoryName": name}
    if statements is not None:
        properties["RepositoryPolicyText"] = {"Version": "2012-10-17", "Statement": statements}
    return {"Type": "AWS::ECR::Repository", "Properties": properties}


def function(image: Any, name: str | None = "orders-api") -> dict[str, Any]:
    properties: dict[str, Any] = {"Code": {"ImageUri": image}, "PackageType": "Image"}
    if name is not None:
        properties["FunctionName"] = name
    return {"Type": "AWS::Lambda::Function", "Properties": properties}


def uri(name: str, account: str = REGISTRY, region: str = REGION, ref: str = DIGEST) -> str:
    separator = "@" if ref.startswith("sha256:") else ":"
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{name}{separator}{ref}"


def service_statement(account: str = WORKLOAD) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": PULL,
        "Condition": {
            "StringLike": {"aws:SourceArn": f"arn:aws:lambda:{REGION}:{account}:function:*"}
        },
    }


def root_statement(account: str = WORKLOAD) -> dict[str, Any]:
    return {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Action": PULL}


def statuses(report: AuditReport) -> dict[str, str]:
    return {f.function: f.status for f in report.functions}


def codes(report: AuditReport) -> list[str]:
    return [f.code for f in report.findings]


# ---------------------------------------------------------------------------------------------
# Nested stacks
# ---------------------------------------------------------------------------------------------


def nested_resource(asset: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "Type": "AWS::CloudFormation::Stack",
        "Properties": {"TemplateURL": "https://example.invalid/x.json"},
        "Metadata": {"aws:asset:path": asset},
    }
    if parameters:
        resource["Properties"]["Parameters"] = parameters
    return resource


def test_functions_in_nested_stacks_at_any_depth_are_listed_and_fail(tmp_path: Path) -> None:
    # Registry has a repository admitting nobody; the function sits three stacks deep
    deepest = {"Resources": {"Fn": function(uri("team/app"))}}
    middle = {"Resources": {"Deeper": nested_resource("deepest.nested.template.json")}}
    top = {"Resources": {"Inner": nested_resource("middle.nested.template.json")}}
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Registry": (env(), {"Resources": {"Repo": repository("team/app", [])}}),
            "Workload": (env(WORKLOAD), top),
        },
        deepest__nested__template__json=deepest,
        middle__nested__template__json=middle,
    )
    report = audit_assembly(path)
    assert list(statuses(report).values()) == ["missing-root-grant"]
    (only,) = report.functions
    assert only.template_path.endswith("deepest.nested.template.json")
    assert only.account == WORKLOAD
    assert cli.main(["audit", str(path)]) == 1
    assert cli.main(["audit", str(path), "--strict"]) == 1


def test_nested_stack_parameters_and_outputs_are_resolved(tmp_path: Path) -> None:
    # the parent passes the repository name to the nested stack, which builds the image URI
    nested = {
        "Parameters": {"RepoName": {"Type": "String"}},
        "Resources": {
            "Fn": function(
                {
                    "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}"
                    + "/${RepoName}@"
                    + DIGEST
                }
            )
        },
    }
    parent = {
        "Resources": {
            "Repo": repository("team/app", [service_statement(REGISTRY)]),
            "Inner": nested_resource("inner.nested.template.json", {"RepoName": {"Ref": "Repo"}}),
        }
    }
    path = write_assembly(
        tmp_path / "cdk.out", {"App": (env(), parent)}, inner__nested__template__json=nested
    )
    report = audit_assembly(path)
    assert list(statuses(report).values()) == ["ok"]


def test_nested_stacks_deeper_than_the_limit_are_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {}
    for level in range(60):
        files[f"n{level}__nested__template__json"] = {
            "Resources": {"Next": nested_resource(f"n{level + 1}.nested.template.json")}
        }
    top = {"Resources": {"Next": nested_resource("n0.nested.template.json")}}
    path = write_assembly(tmp_path / "cdk.out", {"App": (env(), top)}, **files)
    assert cli.main(["audit", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "nested more than" in err


def test_a_template_nested_thousands_of_levels_deep_exits_2_with_one_line(
    tmp_path: Path,
) -> None:
    deep = '{"Resources": {"X": ' + '{"a": ' * 5000 + "1" + "}" * 5000 + "}}"
    path = write_assembly(tmp_path / "cdk.out", {"Deep": (env(), deep)})
    done = subprocess.run(
        [sys.executable, "-m", "ecr_lambda_access", "audit", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "nested too deeply" in done.stderr


# ---------------------------------------------------------------------------------------------
# Bootstrap repositories
# ---------------------------------------------------------------------------------------------


def asset_image(account: str, region: str = REGION) -> str:
    return uri(f"cdk-hnb659fds-container-assets-{account}-{region}", account, region, "abc123")


def test_bootstrap_repository_is_evaluated_not_judged_by_name(tmp_path: Path) -> None:
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Own": (env(WORKLOAD), {"Resources": {"Fn": function(asset_image(WORKLOAD))}}),
            "Foreign": (env(OTHER), {"Resources": {"Fn": function(asset_image(WORKLOAD))}}),
        },
    )
    report = audit_assembly(path)
    assert statuses(report) == {"Own/Fn": "ok", "Foreign/Fn": "missing-root-grant"}
    for one in report.functions:
        assert "customized bootstrap" in one.detail


def test_env_agnostic_asset_image_of_its_own_stack_is_ok(tmp_path: Path) -> None:
    image = {
        "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/"
        "cdk-hnb659fds-container-assets-${AWS::AccountId}-${AWS::Region}:abc"
    }
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Agnostic": (
                "aws://unknown-account/unknown-region",
                {"Resources": {"Fn": function(image, None)}},
            )
        },
    )
    assert statuses(audit_assembly(path)) == {"Agnostic/Fn": "ok"}


def test_bootstrap_repository_in_the_assembly_is_read_from_its_template(tmp_path: Path) -> None:
    # aws/aws-cdk#18473: a bootstrap template whose Lambda statement was removed
    name = f"cdk-hnb659fds-container-assets-{WORKLOAD}-{REGION}"
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "CDKToolkit": (
                env(WORKLOAD),
                {"Resources": {"ContainerAssetsRepository": repository(name, [])}},
            ),
            "App": (env(WORKLOAD), {"Resources": {"Fn": function(asset_image(WORKLOAD))}}),
        },
    )
    report = audit_assembly(path)
    assert statuses(report) == {"App/Fn": "missing-service-grant"}


# ---------------------------------------------------------------------------------------------
# Conditions, Fn::If, parameters
# ---------------------------------------------------------------------------------------------


def tag_or_digest_template(default: str | None) -> dict[str, Any]:
    """What DockerImageCode.from_ecr(repo, tag_or_digest=CfnParameter) synthesizes."""
    parameter: dict[str, Any] = {"Type": "String"}
    if default is not None:
        parameter["Default"] = default
    base = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Repo}"}
    return {
        "Parameters": {"Tag": parameter},
        "Conditions": {
            "IsDigest": {
                "Fn::Equals": [
                    {"Fn::Select": [0, {"Fn::Split": [":", {"Ref": "Tag"}]}]},
                    "sha256",
                ]
            }
        },
        "Resources": {
            "Repo": repository("team/app", [service_statement(REGISTRY)]),
            "Fn": function(
                {
                    "Fn::If": [
                        "IsDigest",
                        {"Fn::Join": ["", [base, "@", {"Ref": "Tag"}]]},
                        {"Fn::Join": ["", [base, ":", {"Ref": "Tag"}]]},
                    ]
                }
            ),
        },
    }


def test_fn_if_on_an_unknown_parameter_is_evaluated_both_ways(tmp_path: Path) -> None:
    path = write_assembly(tmp_path / "cdk.out", {"App": (env(), tag_or_digest_template(None))})
    (only,) = audit_assembly(path).functions
    assert only.status == "ok"
    assert "whichever way condition IsDigest goes" in only.detail


def test_fn_if_with_a_parameter_default_takes_that_branch(tmp_path: Path) -> None:
    path = write_assembly(tmp_path / "cdk.out", {"App": (env(), tag_or_digest_template("v1"))})
    (only,) = audit_assembly(path).functions
    assert only.status == "ok"
    assert only.tag_or_digest == "v1"


def test_branches_that_disagree_are_unverifiable_with_each_way(tmp_path: Path) -> None:
    template = {
        "Parameters": {"UseOther": {"Type": "String"}},
        "Conditions": {"Other": {"Fn::Equals": [{"Ref": "UseOther"}, "yes"]}},
        "Resources": {
            "Good": repository("good", [service_statement(REGISTRY)]),
            "Bad": repository("bad", []),
            "Fn": function({"Fn::If": ["Other", uri("bad"), uri("good")]}),
        },
    }
    path = write_assembly(tmp_path / "cdk.out", {"App": (env(), template)})
    (only,) = audit_assembly(path).functions
    assert only.status == "unverifiable"
    assert "Other=True: missing-service-grant" in only.detail
    assert "Other=False: ok" in only.detail


def test_resources_whose_condition_is_false_do_not_exist(tmp_path: Path) -> None:
    template = {
        "Conditions": {
            "Never": {"Fn::Equals": ["a", "b"]},
            "Always": {"Fn::Not": [{"Condition": "Never"}]},
        },
        "Resources": {
            "Repo": repository("team/app", [service_statement(REGISTRY)]),
            "Skipped": {**function(uri("team/app")), "Condition": "Never"},
            "Kept": {**function(uri("team/app")), "Condition": "Always"},
        },
    }
    path = write_assembly(tmp_path / "cdk.out", {"App": (env(), template)})
    assert statuses(audit_assembly(path)) == {"App/Kept": "ok"}


# ---------------------------------------------------------------------------------------------
# YAML and unreadable templates
# ---------------------------------------------------------------------------------------------

YAML_TEMPLATE = f"""#yaml, with CloudFormation's short-form tags
AWSTemplateFormatVersion: "2010-09-09"
Resources:
  Repo:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: team/app
      RepositoryPolicyText:
        Version: 2012-10-17
        Statement:
          - Effect: Allow
            Principal: {{ Service: lambda.amazonaws.com }}
            Action: [ecr:BatchGetImage, ecr:GetDownloadUrlForLayer]
            Condition:
              StringLike:
                aws:SourceArn: !Sub
                  "arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:*"
  Fn:
    Type: AWS::Lambda::Function
    Properties:
      PackageType: Image
      FunctionName: !Join ["-", [orders, api]]
      Code:
        ImageUri: !Sub
          - "${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/${{Name}}@{DIGEST}"
          - Name: !Ref Repo
"""


def test_yaml_templates_with_short_form_tags_are_read(tmp_path: Path) -> None:
    path = write_assembly(tmp_path / "cdk.out", {"Yaml": (env(), YAML_TEMPLATE)})
    report = audit_assembly(path)
    assert statuses(report) == {"Yaml/Fn": "ok"}
    assert report.functions[0].function_name == "orders-api"
    assert not report.findings  # Version 2012-10-17 stayed a string: the policy is valid


def test_an_unreadable_template_is_an_error_finding_and_the_rest_is_reported(
    tmp_path: Path,
) -> None:
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Broken": (env(), "{ this is not JSON"),
            "BrokenYaml": (env(), "#yaml\nResources: [unclosed\n"),
            "Fine": (
                env(),
                {
                    "Resources": {
                        "Repo": repository("a", [service_statement(REGISTRY)]),
                        "Fn": function(uri("a")),
                    }
                },
            ),
        },
    )
    report = audit_assembly(path)
    assert statuses(report) == {"Fine/Fn": "ok"}
    unreadable = [f for f in report.findings if f.code == "unreadable-template"]
    assert sorted(Path(f.resource).name for f in unreadable) == [
        "Broken.template.json",
        "BrokenYaml.template.yaml",
    ]
    assert all(f.severity == "error" for f in unreadable)
    assert "Broken.template.json" in unreadable[0].message
    assert report.failed()


def test_yaml_support_is_imported_only_when_a_yaml_template_is_met(tmp_path: Path) -> None:
    path = write_assembly(
        tmp_path / "cdk.out", {"Fine": (env(), {"Resources": {"Fn": function(uri("a"))}})}
    )
    code = (
        "import sys\nfrom ecr_lambda_access.cli import main\n"
        f"main(['audit', {str(path)!r}, '--format', 'json'])\n"
        "print('YAML', 'yaml' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("YAML False")


# ---------------------------------------------------------------------------------------------
# New findings
# ---------------------------------------------------------------------------------------------


def test_a_repository_every_account_can_pull_from_is_an_error(tmp_path: Path) -> None:
    everyone = [{"Effect": "Allow", "Principal": "*", "Action": PULL}]
    org_only = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        }
    ]
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Open": (env(), {"Resources": {"Repo": repository("open", everyone)}}),
            "Org": (env(), {"Resources": {"Repo": repository("org", org_only)}}),
        },
    )
    report = audit_assembly(path)
    assert [(f.code, f.resource, f.severity) for f in report.findings] == [
        ("any-account", "Open/Repo", "error")
    ]
    assert cli.main(["audit", str(path)]) == 1


def test_an_invalid_policy_is_an_error_and_its_functions_fail(tmp_path: Path) -> None:
    lower = [{**service_statement(REGISTRY), "Effect": "allow"}]
    path = write_assembly(
        tmp_path / "cdk.out",
        {"App": (env(), {"Resources": {"Repo": repository("a", lower), "Fn": function(uri("a"))}})},
    )
    report = audit_assembly(path)
    assert statuses(report) == {"App/Fn": "invalid-policy"}
    assert codes(report) == ["invalid-repository-policy"]
    assert "'allow'" in report.findings[0].message
    assert cli.main(["audit", str(path)]) == 1


def test_policy_text_that_is_not_json_is_an_invalid_policy(tmp_path: Path) -> None:
    repo = {
        "Type": "AWS::ECR::Repository",
        "Properties": {"RepositoryName": "a", "RepositoryPolicyText": "{nope"},
    }
    path = write_assembly(
        tmp_path / "cdk.out",
        {"App": (env(), {"Resources": {"Repo": repo, "Fn": function(uri("a"))}})},
    )
    report = audit_assembly(path)
    assert statuses(report) == {"App/Fn": "invalid-policy"}
    assert codes(report) == ["invalid-repository-policy"]


# ---------------------------------------------------------------------------------------------
# Evaluator cases through the whole audit
# ---------------------------------------------------------------------------------------------


def test_deny_not_principal_in_a_repository_policy_denies(tmp_path: Path) -> None:
    statements = [
        root_statement(),
        service_statement(),
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"},
            "Action": "ecr:*",
        },
    ]
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Registry": (env(), {"Resources": {"Repo": repository("a", statements)}}),
            "Workload": (env(WORKLOAD), {"Resources": {"Fn": function(uri("a"))}}),
        },
    )
    assert statuses(audit_assembly(path)) == {"Workload/Fn": "denied"}


def test_org_guard_denies_lambda_definitely(tmp_path: Path) -> None:
    statements = [
        root_statement(),
        service_statement(),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:*",
            "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
    ]
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Registry": (env(), {"Resources": {"Repo": repository("a", statements)}}),
            "Workload": (env(WORKLOAD), {"Resources": {"Fn": function(uri("a"))}}),
        },
    )
    (only,) = audit_assembly(path, organization_id="o-abcdefghij").functions
    assert only.status == "denied"
    assert "lambda.amazonaws.com" in only.detail


def test_arn_like_spanning_components_is_missing(tmp_path: Path) -> None:
    spanning = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": PULL,
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:function:*"}},
    }
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "App": (
                env(),
                {"Resources": {"Repo": repository("a", [spanning]), "Fn": function(uri("a"))}},
            )
        },
    )
    assert statuses(audit_assembly(path)) == {"App/Fn": "missing-service-grant"}


# ---------------------------------------------------------------------------------------------
# The command line
# ---------------------------------------------------------------------------------------------


def test_latest_tag_finding_has_the_construct_warning_id(tmp_path: Path) -> None:
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "App": (
                env(),
                {
                    "Resources": {
                        "Repo": repository("a", [service_statement(REGISTRY)]),
                        "Fn": function(uri("a", ref="latest")),
                    }
                },
            )
        },
    )
    assert codes(audit_assembly(path)) == ["ecr-lambda-access:latestTag"]


def test_piping_into_head_prints_no_traceback(tmp_path: Path) -> None:
    stacks = {
        f"S{i}": (
            env(),
            {
                "Resources": {
                    "Repo": repository(f"r{i}", [service_statement(REGISTRY)]),
                    "Fn": function(uri(f"r{i}")),
                }
            },
        )
        for i in range(60)
    }
    path = write_assembly(tmp_path / "cdk.out", stacks)
    done = subprocess.run(
        f"{sys.executable} -m ecr_lambda_access audit {path} | head -1",
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith("ecr-lambda-access audit")
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr, done.stderr


def test_unknown_values_never_pass_a_policy_with_conditioned_denies(tmp_path: Path) -> None:
    # a Deny that would match the generated name (Stack-Fn-RANDOM) must not be overlooked
    statements = [
        service_statement(REGISTRY),
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "ecr:*",
            "Condition": {"StringLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:App-*"}},
        },
    ]
    # and an Allow that holds on a mismatch, for an env-agnostic stack's unknown account
    negated = [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": PULL,
            "Condition": {"StringNotEquals": {"aws:SourceAccount": "999999999999"}},
        }
    ]
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "App": (
                env(),
                {
                    "Resources": {
                        "Repo": repository("a", statements),
                        "Fn": function(uri("a"), None),
                    }
                },
            ),
            "Agnostic": (
                "aws://unknown-account/unknown-region",
                {
                    "Resources": {
                        "Repo": repository("b", negated),
                        "Fn": function(
                            {
                                "Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}."
                                "${AWS::URLSuffix}/b:v1"
                            }
                        ),
                    }
                },
            ),
        },
    )
    report = audit_assembly(path)
    assert statuses(report) == {"App/Fn": "unverifiable", "Agnostic/Fn": "unverifiable"}
    assert all("Deny statements or negated conditions" in f.detail for f in report.functions)


def test_organization_mode_with_another_known_organization_fails(tmp_path: Path) -> None:
    org_pair = [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}},
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": PULL,
            "Condition": {"StringEquals": {"aws:SourceOrgID": "o-abcdefghij"}},
        },
    ]
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Registry": (env(), {"Resources": {"Repo": repository("a", org_pair)}}),
            "Workload": (env(WORKLOAD), {"Resources": {"Fn": function(uri("a"))}}),
        },
    )
    assert statuses(audit_assembly(path)) == {"Workload/Fn": "unverifiable"}
    assert statuses(audit_assembly(path, organization_id="o-abcdefghij")) == {"Workload/Fn": "ok"}
    other = audit_assembly(path, organization_id="o-zzzzzzzzzz")
    assert statuses(other) == {"Workload/Fn": "missing-root-grant"}


def test_a_repository_with_no_policy_fails_env_agnostic_functions_too(tmp_path: Path) -> None:
    """The shape of a public CDK Pipelines app (an ``ecr.Repository`` exported by name, a
    ``DockerImageFunction`` importing it, both stacks env-agnostic): no policy admits nothing in
    any account or Region, so the verdict needs no environment (it was ``unverifiable``)."""
    agnostic = "aws://unknown-account/unknown-region"
    image = image_of_export("ecr-repo-name", "latest-b0a98bb8960a")
    registry = {
        "Resources": {"Repo": {"Type": "AWS::ECR::Repository"}},
        "Outputs": {"Name": {"Value": {"Ref": "Repo"}, "Export": {"Name": "ecr-repo-name"}}},
    }
    path = write_assembly(
        tmp_path / "cdk.out",
        {
            "Pipeline": (agnostic, registry),
            "Lambda": (agnostic, {"Resources": {"Fn": function(image, None)}}),
        },
    )
    report = audit_assembly(path)
    assert statuses(report) == {"Lambda/Fn": "no-policy"}
    (entry,) = report.functions
    assert "has no repository policy" in entry.detail
    assert "the root only if the accounts differ" in entry.detail


@pytest.mark.parametrize("layout", ["one stack", "two stacks"])
@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ({"Effect": "allow"}, "statement #0 has Effect 'allow'"),
        ({"Condtion": {"StringEquals": {"aws:SourceAccount": WORKLOAD}}}, "'Condtion'"),
    ],
)
def test_an_invalid_policy_fails_env_agnostic_functions_too(
    tmp_path: Path, broken: dict[str, Any], reason: str, layout: str
) -> None:
    """ECR refuses an invalid policy whatever account and Region the stacks deploy to, so an
    env-agnostic function gets the verdict (it was `unverifiable`), whether the repository is in
    its stack or in another; the control is the same repository with its valid policy, which
    is `unverifiable` there."""
    agnostic = "aws://unknown-account/unknown-region"
    image = {"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/a:v1"}
    imported = image_of_export("n", "v1")

    def audit_with(statement: dict[str, Any], out: str) -> Any:
        repo, fn = repository("a", [statement]), function(image)
        unnamed = {"Type": "AWS::ECR::Repository", "Properties": dict(repo["Properties"])}
        del unnamed["Properties"]["RepositoryName"]  # a generated name, exported: located exactly
        stacks = (
            {"App": (agnostic, {"Resources": {"Repo": repo, "Fn": fn}})}
            if layout == "one stack"
            else {
                "Registry": (
                    agnostic,
                    {
                        "Resources": {"Repo": unnamed},
                        "Outputs": {"Name": {"Value": {"Ref": "Repo"}, "Export": {"Name": "n"}}},
                    },
                ),
                "App": (agnostic, {"Resources": {"Fn": function(imported)}}),
            }
        )
        (entry,) = audit_assembly(write_assembly(tmp_path / out, stacks)).functions
        return entry

    valid = audit_with(service_statement(), "valid")
    assert valid.status == "unverifiable" and "env-agnostic" in valid.detail
    entry = audit_with({**service_statement(), **broken}, "broken")
    assert entry.status == "invalid-policy", entry.detail
    assert entry.detail.startswith("the repository policy is invalid: ")
    assert reason in entry.detail
    assert entry.repository == valid.repository and entry.repository is not None
    assert entry.repository.startswith("arn:") and ":ecr:" in entry.repository


def image_of_export(export: str, tag: str) -> dict[str, Any]:
    """The image URI a stack writes for a repository another stack exports by name (its own
    account, Region and URL suffix: what ``DockerImageCode.from_ecr`` of an import writes)."""
    parts = [{"Ref": "AWS::AccountId"}, ".dkr.ecr.", {"Ref": "AWS::Region"}, "."]
    parts += [{"Ref": "AWS::URLSuffix"}, "/", {"Fn::ImportValue": export}, f":{tag}"]
    return {"Fn::Join": ["", parts]}
