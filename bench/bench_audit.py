"""Benchmark: `ecr-lambda-access audit` on a cloud assembly of 100 stacks.

Writes the assembly as JSON directly (what `cdk synth` would write for such an app: a registry
stack with 20 repositories, 79 workload stacks at the top level and 20 in a CDK Pipelines stage,
five container-image functions each, with roles and default policies), then times the audit
in-process and as the command line (median of several runs). Not a test: it prints the result.

    scripts/with-env python bench/bench_audit.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from ecr_lambda_access.audit import audit_assembly  # noqa: E402

REGISTRY = "111111111111"
REGION = "us-east-1"
REPOSITORIES = 20
FUNCTIONS_PER_STACK = 5
PULL = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def workload_account(n: int) -> str:
    return f"{200000000000 + n:012d}"


def registry_template(accounts: list[str]) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for r in range(REPOSITORIES):
        resources[f"Repo{r}"] = {
            "Type": "AWS::ECR::Repository",
            "Properties": {
                "RepositoryName": f"shared/app-{r}",
                "RepositoryPolicyText": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Sid": "CrossAccountPermission",
                            "Effect": "Allow",
                            "Action": PULL,
                            "Principal": {"AWS": [f"arn:aws:iam::{a}:root" for a in accounts]},
                        },
                        {
                            "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
                            "Effect": "Allow",
                            "Action": PULL,
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Condition": {
                                "StringLike": {
                                    "aws:SourceArn": [
                                        f"arn:aws:lambda:{REGION}:{a}:function:*" for a in accounts
                                    ]
                                }
                            },
                        },
                    ],
                },
            },
        }
    return {"Resources": resources}


def workload_template(n: int) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    for f in range(FUNCTIONS_PER_STACK):
        repository = f"shared/app-{(n + f) % REPOSITORIES}"
        resources[f"Fn{f}ServiceRole"] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Statement": [
                        {
                            "Action": "sts:AssumeRole",
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                        }
                    ]
                },
                "ManagedPolicyArns": [
                    {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                            ],
                        ]
                    }
                ],
            },
        }
        resources[f"Fn{f}"] = {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Code": {
                    "ImageUri": {
                        "Fn::Join": [
                            "",
                            [
                                f"{REGISTRY}.dkr.ecr.{REGION}.",
                                {"Ref": "AWS::URLSuffix"},
                                f"/{repository}:v{f}",
                            ],
                        ]
                    }
                },
                "FunctionName": f"svc-{n}-{f}",
                "PackageType": "Image",
                "Role": {"Fn::GetAtt": [f"Fn{f}ServiceRole", "Arn"]},
            },
        }
    return {"Resources": resources}


def write_stacks(
    directory: Path, stacks: dict[str, tuple[str, dict[str, Any]]], nested: dict[str, str]
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    artifacts: dict[str, Any] = {}
    for name, (environment, template) in stacks.items():
        (directory / f"{name}.template.json").write_text(json.dumps(template, indent=1))
        artifacts[name] = {
            "type": "aws:cloudformation:stack",
            "environment": environment,
            "properties": {"templateFile": f"{name}.template.json"},
        }
    for artifact_id, subdirectory in nested.items():
        artifacts[artifact_id] = {
            "type": "cdk:cloud-assembly",
            "properties": {"directoryName": subdirectory, "displayName": artifact_id},
        }
    manifest = {"version": "55.0.0", "artifacts": artifacts}
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=1))


def write_assembly(outdir: Path) -> int:
    """A 100-stack assembly; returns the number of functions."""
    accounts = [workload_account(n) for n in range(99)]
    top = {"Registry": (f"aws://{REGISTRY}/{REGION}", registry_template(accounts))}
    stage: dict[str, tuple[str, dict[str, Any]]] = {}
    for n in range(99):
        target = stage if n >= 79 else top
        name = f"ProdWorkload{n}" if n >= 79 else f"Workload{n}"
        target[name] = (f"aws://{workload_account(n)}/{REGION}", workload_template(n))
    write_stacks(outdir, top, {"Prod": "assembly-Prod"})
    write_stacks(outdir / "assembly-Prod", stage, {})
    return 99 * FUNCTIONS_PER_STACK


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        outdir = Path(tmp) / "cdk.out"
        functions = write_assembly(outdir)
        in_process = []
        for _ in range(args.runs):
            start = time.perf_counter()
            report = audit_assembly(outdir)
            in_process.append(time.perf_counter() - start)
        assert len(report.functions) == functions, len(report.functions)
        assert report.counts() == {"ok": functions}, report.counts()
        command = [sys.executable, "-m", "ecr_lambda_access", "audit", str(outdir)]
        cli = []
        for _ in range(args.runs):
            start = time.perf_counter()
            result = subprocess.run(
                command,
                capture_output=True,
                check=False,
                env={"PYTHONPATH": str(ROOT / "src")},
            )
            cli.append(time.perf_counter() - start)
            assert result.returncode == 0, result.stderr
    print(
        f"assembly: 100 stacks (20 in a stage), {REPOSITORIES} repositories, {functions} functions"
    )
    print(
        f"audit in-process:      median {statistics.median(in_process) * 1000:7.1f} ms "
        f"({args.runs} runs)"
    )
    print(
        f"`python -m ... audit`: median {statistics.median(cli) * 1000:7.1f} ms "
        f"({args.runs} runs, process start included)"
    )


if __name__ == "__main__":
    main()
