"""The audit without jsii: hand-written assemblies, the matcher and the evaluator as properties,
the command line's usage errors, and the promise that `ecr-lambda-access audit` never starts jsii.

Nothing here imports aws_cdk (or tests/support.py), so this module runs in about a second.
"""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecr_lambda_access import audit, cli
from ecr_lambda_access.audit import audit_assembly
from ecr_lambda_access.audit.stages.generated_name import (
    glob_may_match_prefix as _glob_may_match_prefix,
)
from ecr_lambda_access.policy import (
    glob_match,
    repository_policy,
)

ROOT = Path(__file__).resolve().parent.parent
REGISTRY, WORKLOAD, OTHER = "111111111111", "222222222222", "333333333333"
REGION = "us-east-1"
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def write_assembly(
    directory: Path,
    stacks: dict[str, tuple[str, dict[str, Any]]],
    nested: dict[str, dict[str, tuple[str, dict[str, Any]]]] | None = None,
) -> Path:
    """A cloud assembly: stack name -> (environment, template); nested: directory -> stacks."""
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (environment, template) in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json"},
        }
    for subdirectory, substacks in (nested or {}).items():
        write_assembly(directory / subdirectory, substacks)
        artifacts[subdirectory] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": subdirectory, "displayName": subdirectory},
        }
    (directory / "manifest.json").write_text(
        json.dumps({"version": "55.0.0", "artifacts": artifacts})
    )
    return directory


def documented_pair(account: str, pattern: str = "*") -> list[dict[str, Any]]:
    return [
        {
            "Sid": "CrossAccountPermission",
            "Effect": "Allow",
            "Action": PULL,
            "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        },
        {
            "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
            "Effect": "Allow",
            "Action": PULL,
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Condition": {
                "StringLike": {
                    "aws:sourceARN": f"arn:aws:lambda:{REGION}:{account}:function:{pattern}"
                }
            },
        },
    ]


def repository(name: str, statements: list[dict[str, Any]] | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"RepositoryName": name}
    if statements is not None:
        properties["RepositoryPolicyText"] = {"Version": "2012-10-17", "Statement": statements}
    return {"Type": "AWS::ECR::Repository", "Properties": properties}


def function(image_uri: Any, name: str | None = None, role: Any = None) -> dict[str, Any]:
    properties: dict[str, Any] = {"PackageType": "Image", "Code": {"ImageUri": image_uri}}
    if name is not None:
        properties["FunctionName"] = name
    if role is not None:
        properties["Role"] = role
    return {"Type": "AWS::Lambda::Function", "Properties": properties}


def uri(account: str, name: str, tag: str = "v1", region: str = REGION) -> dict[str, Any]:
    """The ImageUri CDK writes for Repository.from_repository_arn(...) in a known environment."""
    return {
        "Fn::Join": [
            "",
            [f"{account}.dkr.ecr.{region}.", {"Ref": "AWS::URLSuffix"}, f"/{name}:{tag}"],
        ]
    }


def env(account: str, region: str = REGION) -> str:
    return f"aws://{account}/{region}"


def by_function(report: audit.AuditReport) -> dict[str, audit.FunctionReport]:
    return {f.function: f for f in report.functions}


# --------------------------------------------------------------------------------------------
# Intrinsics CDK emits
# --------------------------------------------------------------------------------------------


def test_same_template_getatt_and_ref_resolve_to_the_repository(tmp_path: Path) -> None:
    # What DockerImageCode.from_ecr(repo) writes for a repository of the same stack.
    arn = {"Fn::GetAtt": ["Repo", "Arn"]}
    image = {
        "Fn::Join": [
            "",
            [
                {"Fn::Select": [4, {"Fn::Split": [":", arn]}]},
                ".dkr.ecr.",
                {"Fn::Select": [3, {"Fn::Split": [":", arn]}]},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Ref": "Repo"},
                ":v1",
            ],
        ]
    }
    service = documented_pair(REGISTRY)[1]
    template = {
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Properties": {"RepositoryPolicyText": {"Statement": [service]}},
            },
            "Fn": function(image, name="app"),
        }
    }
    report = audit_assembly(write_assembly(tmp_path, {"App": (env(REGISTRY), template)}))
    (result,) = report.functions
    assert result.status == "ok", result.detail
    assert result.image.startswith(f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/")  # type: ignore[union-attr]
    assert "generated name of App/Repo" in (result.repository or "")
    assert report.repositories[0].consumers == ("App/Fn",)


def test_fn_sub_import_value_and_get_stack_output_cross_stacks(tmp_path: Path) -> None:
    registry = {
        "Resources": {"Repo": repository("shared/app", documented_pair(WORKLOAD))},
        "Outputs": {
            "RepoArn": {
                "Value": {"Fn::GetAtt": ["Repo", "Arn"]},
                "Export": {"Name": "Registry:RepoArn"},
            },
            "RepoName": {"Value": {"Ref": "Repo"}},
        },
    }
    imported = {"Fn::ImportValue": "Registry:RepoArn"}
    consumer = {
        "Resources": {
            "BySub": function(
                {
                    "Fn::Sub": [
                        "${Account}.dkr.ecr.${AWS::Region}.${AWS::URLSuffix}/${Name}:v1",
                        {
                            "Account": REGISTRY,
                            "Name": {
                                "Fn::GetStackOutput": {
                                    "StackName": "Registry",
                                    "Region": REGION,
                                    "OutputName": "RepoName",
                                }
                            },
                        },
                    ]
                },
                name="by-sub",
            ),
            "ByImport": function(
                {
                    "Fn::Join": [
                        "",
                        [
                            {"Fn::Select": [4, {"Fn::Split": [":", imported]}]},
                            ".dkr.ecr.us-east-1.amazonaws.com/shared/app:v1",
                        ],
                    ]
                },
                name="by-import",
            ),
        }
    }
    report = audit_assembly(
        write_assembly(
            tmp_path,
            {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
        )
    )
    results = by_function(report)
    assert results["Consumer/BySub"].status == "ok", results["Consumer/BySub"].detail
    assert results["Consumer/ByImport"].status == "ok", results["Consumer/ByImport"].detail
    assert (
        results["Consumer/BySub"].repository
        == f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/app"
    )


def test_nested_assembly_functions_find_the_root_repository(tmp_path: Path) -> None:
    registry = {"Resources": {"Repo": repository("shared/app", documented_pair(WORKLOAD))}}
    service = {"Resources": {"Fn": function(uri(REGISTRY, "shared/app"), name="svc")}}
    outdir = write_assembly(
        tmp_path,
        {"Registry": (env(REGISTRY), registry)},
        nested={"assembly-Prod": {"ProdSvc": (env(WORKLOAD), service)}},
    )
    report = audit_assembly(outdir)
    (result,) = report.functions
    assert (result.stack, result.status) == ("ProdSvc", "ok")
    assert report.repositories[0].consumers == ("ProdSvc/Fn",)


# --------------------------------------------------------------------------------------------
# Statuses on hand-written templates (the jsii-built ones are in test_audit.py)
# --------------------------------------------------------------------------------------------


def test_generated_function_names_are_checked_honestly(tmp_path: Path) -> None:
    registry = {
        "Resources": {
            "Any": repository("any", documented_pair(WORKLOAD)),
            "Named": repository("named", documented_pair(WORKLOAD, "orders-*")),
            "Exact": repository(
                "exact", documented_pair(WORKLOAD, "Consumer-GenExact1234-AbCdEfGhIjKl")
            ),
        }
    }
    consumer = {
        "Resources": {
            "GenAny": function(uri(REGISTRY, "any")),
            "GenNamed": function(uri(REGISTRY, "named")),
            "GenExact1234": function(uri(REGISTRY, "exact")),
        }
    }
    report = audit_assembly(
        write_assembly(
            tmp_path,
            {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
        )
    )
    results = by_function(report)
    assert results["Consumer/GenAny"].status == "ok"
    named = results["Consumer/GenNamed"]
    assert named.status == "missing-service-grant"
    assert "CloudFormation generates one (like Consumer-GenNamed-RANDOM)" in named.detail
    assert "no aws:SourceArn of the policy can match it" in named.detail
    exact = results["Consumer/GenExact1234"]
    assert exact.status == "unverifiable"
    assert "may or may not match the generated name" in exact.detail


def test_organization_conditions_need_the_organization_id(tmp_path: Path) -> None:
    statements = repository_policy(
        [], repository_account=REGISTRY, region=REGION, organization_id="o-abcdefghij"
    )
    assert statements is not None
    registry = {"Resources": {"Repo": repository("org", statements["Statement"])}}
    consumer = {"Resources": {"Fn": function(uri(REGISTRY, "org"), name="fn")}}
    outdir = write_assembly(
        tmp_path,
        {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
    )
    (unknown,) = audit_assembly(outdir).functions
    assert unknown.status == "unverifiable"
    assert "aws:PrincipalOrgID" in unknown.detail
    (known,) = audit_assembly(outdir, organization_id="o-abcdefghij").functions
    assert known.status == "ok", known.detail
    (other,) = audit_assembly(outdir, organization_id="o-zzzzzzzzzz").functions
    assert other.status == "missing-root-grant"


def test_no_policy_and_denied(tmp_path: Path) -> None:
    deny = {
        "Sid": "NoWorkload",
        "Effect": "Deny",
        "Action": "ecr:*",
        "Principal": {"AWS": f"arn:aws:iam::{WORKLOAD}:root"},
    }
    registry = {
        "Resources": {
            "Bare": repository("bare", None),
            "Blocked": repository("blocked", [*documented_pair(WORKLOAD), deny]),
        }
    }
    consumer = {
        "Resources": {
            "BareFn": function(uri(REGISTRY, "bare"), name="a"),
            "BlockedFn": function(uri(REGISTRY, "blocked"), name="b"),
        }
    }
    report = audit_assembly(
        write_assembly(
            tmp_path,
            {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
        )
    )
    results = by_function(report)
    assert results["Consumer/BareFn"].status == "no-policy"
    assert "the root of account 222222222222" in results["Consumer/BareFn"].detail
    assert results["Consumer/BlockedFn"].status == "denied"
    assert "NoWorkload" in results["Consumer/BlockedFn"].detail
    assert report.failed()


def test_policy_string_text_is_parsed(tmp_path: Path) -> None:
    registry = {
        "Resources": {
            "Repo": {
                "Type": "AWS::ECR::Repository",
                "Properties": {
                    "RepositoryName": "text",
                    "RepositoryPolicyText": json.dumps({"Statement": documented_pair(WORKLOAD)}),
                },
            }
        }
    }
    consumer = {"Resources": {"Fn": function(uri(REGISTRY, "text"), name="fn")}}
    report = audit_assembly(
        write_assembly(
            tmp_path,
            {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
        )
    )
    assert report.functions[0].status == "ok"


# --------------------------------------------------------------------------------------------
# The command line
# --------------------------------------------------------------------------------------------


def test_usage_errors_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["audit", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such directory" in err
    assert cli.main(["audit", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "is not a cloud assembly (no manifest.json)" in err
    (tmp_path / "manifest.json").write_text("{not json")
    assert cli.main(["audit", str(tmp_path)]) == 2
    assert "cannot read the cloud assembly manifest" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["audit", str(tmp_path), "--format", "xml"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "invalid choice: 'xml'" in err
    assert cli.main(["audit", str(tmp_path), "--organization-id", "r-abc"]) == 2
    assert "--organization-id must be an AWS Organizations id" in capsys.readouterr().err


def test_cli_subprocess_never_imports_jsii(tmp_path: Path) -> None:
    registry = {"Resources": {"Repo": repository("shared/app", documented_pair(WORKLOAD))}}
    consumer = {"Resources": {"Fn": function(uri(REGISTRY, "shared/app"), name="svc")}}
    outdir = write_assembly(
        tmp_path / "cdk.out",
        {"Registry": (env(REGISTRY), registry), "Consumer": (env(WORKLOAD), consumer)},
    )
    code = (
        "import sys\n"
        "from ecr_lambda_access.cli import main\n"
        f"status = main(['audit', {str(outdir)!r}, '--format', 'json'])\n"
        "heavy = sorted(m for m in sys.modules\n"
        "               if m.split('.')[0] in ('jsii', 'aws_cdk', 'constructs'))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
        "raise SystemExit(status)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stderr
    data = json.loads(result.stdout)
    assert [f["status"] for f in data["functions"]] == ["ok"]
    # `python -m ecr_lambda_access audit` with the default PATH (cdk.out in the working directory)
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ecr_lambda_access", "audit"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "passed: 1 function(s): 1 ok" in result.stdout
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()}
    assert not {m for m in imported if m.split(".")[0] in ("jsii", "aws_cdk", "constructs")}


# --------------------------------------------------------------------------------------------
# Properties: the matcher, and the evaluator against the builder
# --------------------------------------------------------------------------------------------

ALPHABET = st.text(alphabet="ab-:*?", max_size=8)
VALUES = st.text(alphabet="ab-:", max_size=10)


@given(pattern=ALPHABET, value=VALUES)
def test_glob_match_is_fnmatchcase_without_brackets(pattern: str, value: str) -> None:
    assert glob_match(pattern, value) == fnmatch.fnmatchcase(value, pattern)


@given(pattern=ALPHABET, prefix=VALUES, suffix=VALUES)
def test_prefix_check_never_misses_a_match(pattern: str, prefix: str, suffix: str) -> None:
    if glob_match(pattern, prefix + suffix):
        assert _glob_may_match_prefix(pattern, prefix)


@given(pattern=ALPHABET, prefix=VALUES)
def test_prefix_check_is_exact_for_some_extension(pattern: str, prefix: str) -> None:
    # When a match is possible, replacing each remaining pattern character by a letter is one.
    if _glob_may_match_prefix(pattern, prefix):
        assert any(
            glob_match(pattern, prefix + pattern[i:].replace("*", "").replace("?", "a"))
            for i in range(len(pattern) + 1)
        )
