"""Exact-value tests of the function verdict's stages and the runner, written against `make
mutation` (issue 16).

Each case is a small assembly written as data, one function per case: the test pins the status,
the whole detail and the repository the verdict names, so that a change of one branch or one
literal in :mod:`ecr_lambda_access.audit.stages`, :mod:`~ecr_lambda_access.audit.verdicts` or
:mod:`~ecr_lambda_access.audit.repositories` fails a test. Pure Python: no jsii.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from test_audit_registry import DOCS, creation_template, source_stack
from test_audit_unit import PULL, documented_pair, env, function, repository, write_assembly

from ecr_lambda_access.audit import audit_assembly
from ecr_lambda_access.audit.checks import latest_tag
from ecr_lambda_access.audit.load import load_assembly
from ecr_lambda_access.audit.model import ModelRepository, PolicyState, build_model, parse_policy
from ecr_lambda_access.audit.repositories import (
    admits_every_account,
    estimated_length,
    policy_problems,
)
from ecr_lambda_access.audit.stages import bootstrap_repository_policy
from ecr_lambda_access.audit.stages.evaluate import _non_monotone, verdict
from ecr_lambda_access.audit.stages.generated_name import source_arn_patterns
from ecr_lambda_access.audit.verdicts import audit_model
from ecr_lambda_access.policy import Access, Grant, PullAccess, policy_text

A, B = "111111111111", "222222222222"
AGNOSTIC = "aws://unknown-account/unknown-region"
PARAMETER = {"Parameters": {"P": {"Type": "String"}}}
REPO = "Repo"
BOOTSTRAP = f"cdk-hnb659fds-container-assets-{B}-us-east-1"
LAMBDA = "lambda.amazonaws.com"
X_STAR = f"arn:aws:lambda:us-east-1:{B}:function:x*"


def image(account: str, name: str = "app", region: str = "us-east-1") -> str:
    return f"{account}.dkr.ecr.{region}.amazonaws.com/{name}:v1"


def own_uri(logical_id: str) -> dict[str, Any]:
    """The ImageUri CDK writes for a repository of the same stack (DockerImageCode.from_ecr)."""
    arn = {"Fn::GetAtt": [logical_id, "Arn"]}
    return {
        "Fn::Join": [
            "",
            [
                {"Fn::Select": [4, {"Fn::Split": [":", arn]}]},
                ".dkr.ecr.",
                {"Fn::Select": [3, {"Fn::Split": [":", arn]}]},
                ".",
                {"Ref": "AWS::URLSuffix"},
                "/",
                {"Ref": logical_id},
                ":v1",
            ],
        ]
    }


def unnamed_repository(statements: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    if statements is not None:
        properties["RepositoryPolicyText"] = {"Version": "2012-10-17", "Statement": statements}
    return {"Type": "AWS::ECR::Repository", "Properties": properties}


def exporting(environment: str, resource: dict[str, Any], value: Any) -> tuple[str, Any]:
    """A stack with one repository that exports ``value`` as RepoOut."""
    return (
        environment,
        {
            "Resources": {REPO: resource},
            "Outputs": {"Out": {"Value": value, "Export": {"Name": "RepoOut"}}},
        },
    )


def service(pattern: Any, operator: str = "StringLike", sid: str = "Svc") -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": LAMBDA},
        "Action": PULL,
        "Condition": {operator: {"aws:SourceArn": pattern}},
    }


def own_service(pattern: str = "*") -> dict[str, Any]:
    """lambda.amazonaws.com for functions of the stack's own account and Region."""
    arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:" + pattern
    return service({"Fn::Sub": arn})


def deny_blocked() -> dict[str, Any]:
    """A conditioned Deny that blocks no function of these tests: non-monotone all the same."""
    return {
        "Sid": "DenyBlocked",
        "Effect": "Deny",
        "Principal": "*",
        "Action": PULL,
        "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:lambda:*:*:function:blocked*"}},
    }


def deny_outside(account: str) -> dict[str, Any]:
    return {
        "Sid": "DenyOthers",
        "Effect": "Deny",
        "Principal": "*",
        "Action": PULL,
        "Condition": {"StringNotEquals": {"aws:SourceAccount": account}},
    }


def cases() -> dict[str, dict[str, tuple[str, dict[str, Any]]]]:
    def alone(uri: Any, environment: str = env(B), **extra: Any) -> dict[str, Any]:
        return {"W": (environment, {**extra, "Resources": {"Fn": function(uri, name="fn")}})}

    def join(*parts: Any) -> dict[str, Any]:
        return {"Fn::Join": ["", list(parts)]}

    same_stack = {
        "Resources": {
            REPO: unnamed_repository([own_service()]),
            "Fn": function(own_uri(REPO)),
        }
    }
    generated = {
        "Resources": {
            REPO: repository("app", [service(f"arn:aws:lambda:us-east-1:{B}:function:W*")]),
            "Fn": function(image(B)),
        }
    }
    return {
        # image
        "uri not text": alone(123),
        "uri with an unknown registry": alone({"Ref": "P"}, **PARAMETER),
        # Region
        "image in another Region": alone(image(A, region="eu-west-1")),
        "repository of another Region by its exported name": {
            "R": exporting(env(B, "eu-west-1"), unnamed_repository(), {"Ref": REPO}),
            "W": alone(
                join(f"{B}.dkr.ecr.us-east-1.amazonaws.com/", {"Fn::ImportValue": "RepoOut"}, ":v1")
            )["W"],
        },
        # policy
        "policy not known before deploy": {
            "W": (
                env(B),
                {
                    **PARAMETER,
                    "Resources": {
                        REPO: {
                            "Type": "AWS::ECR::Repository",
                            "Properties": {
                                "RepositoryName": "app",
                                "RepositoryPolicyText": {"Ref": "P"},
                            },
                        },
                        "Fn": function(image(B), name="fn"),
                    },
                },
            )
        },
        "no policy, same account": {
            "W": (
                env(B),
                {"Resources": {REPO: repository("app", None), "Fn": function(image(B), name="fn")}},
            )
        },
        "no policy, another account": {
            "R": (env(A), {"Resources": {REPO: repository("app", None)}}),
            **alone(image(A)),
        },
        "no policy, env-agnostic function": {
            "R": (env(A), {"Resources": {REPO: repository("app", None)}}),
            **alone(image(A), AGNOSTIC),
        },
        # environment
        "env-agnostic function": {
            "R": (env(A), {"Resources": {REPO: repository("app", documented_pair(B))}}),
            **alone(image(A), AGNOSTIC),
        },
        "env-agnostic function and repository": {
            "R": exporting(AGNOSTIC, unnamed_repository(documented_pair(B)), own_uri(REPO)),
            **alone({"Fn::ImportValue": "RepoOut"}, f"aws://{B}/unknown-region"),
        },
        # evaluate
        "env-agnostic stack, its own repository": {"W": (AGNOSTIC, same_stack)},
        "account-agnostic stack, non-monotone policy": {
            "W": (
                "aws://unknown-account/us-east-1",
                {
                    "Resources": {
                        REPO: unnamed_repository([own_service(), deny_outside(B)]),
                        "Fn": function(own_uri(REPO), name="fn"),
                    }
                },
            )
        },
        "account-agnostic stack, conditioned Deny": {
            "W": (
                "aws://unknown-account/us-east-1",
                {
                    "Resources": {
                        REPO: unnamed_repository([own_service(), deny_blocked()]),
                        "Fn": function(own_uri(REPO), name="fn"),
                    }
                },
            )
        },
        "generated name, non-monotone policy": {
            "W": (
                env(B),
                {
                    "Resources": {
                        REPO: repository("app", [own_service(), deny_blocked()]),
                        "Fn": function(image(B)),
                    }
                },
            )
        },
        "deploy-time name": {
            "W": (
                env(B),
                {
                    **PARAMETER,
                    "Resources": {
                        REPO: repository(
                            "app", [service(f"arn:aws:lambda:us-east-1:{B}:function:x*")]
                        ),
                        "Fn": {
                            **function(image(B)),
                            "Properties": {
                                **function(image(B))["Properties"],
                                "FunctionName": {"Ref": "P"},
                            },
                        },
                    },
                },
            )
        },
        "generated name, a pattern that may match it": {"W": (env(B), generated)},
        "generated name, no pattern can match it": {
            "W": (
                env(B),
                {
                    "Resources": {
                        REPO: repository("app", [service(X_STAR)]),
                        "Fn": function(image(B)),
                    }
                },
            )
        },
        # a generated name is at most 64 characters: STACK-LOGICALID- leaves 12 for the random part
        "generated name, the longest guessed prefix": {
            "S" * 48: (
                env(B),
                {
                    "Resources": {
                        REPO: repository("app", [service(X_STAR)]),
                        "Fn": function(image(B)),
                    }
                },
            )
        },
        "generated name, a prefix too long to guess": {
            "S" * 49: (
                env(B),
                {
                    "Resources": {
                        REPO: repository("app", [service(X_STAR)]),
                        "Fn": function(image(B)),
                    }
                },
            )
        },
        "generated name, equals with a star": {
            "W": (
                env(B),
                {
                    "Resources": {
                        REPO: repository(
                            "app",
                            [
                                service(
                                    f"arn:aws:lambda:us-east-1:{B}:function:W*", "StringEquals"
                                ),
                                service(
                                    f"arn:aws:lambda:us-east-1:{B}:function:W-Fn-abc",
                                    "StringEquals",
                                    "Exact",
                                ),
                                service(f"arn:aws:lambda:us-east-1:{B}:function:W-F*", sid="Like"),
                            ],
                        ),
                        "Fn": function(image(B)),
                    }
                },
            )
        },
        # external
        "image of an unknown account": alone(
            join({"Ref": "P"}, ".dkr.ecr.us-east-1.amazonaws.com/app:v1"), **PARAMETER
        ),
        "image of an unknown name": alone(
            join(f"{A}.dkr.ecr.us-east-1.amazonaws.com/", {"Ref": "P"}, ":v1"), **PARAMETER
        ),
        "image of an unknown Region": alone(
            join(f"{A}.dkr.ecr.", {"Ref": "P"}, ".amazonaws.com/app:v1"), **PARAMETER
        ),
        "same name in an env-agnostic stack": {
            "R": (AGNOSTIC, {"Resources": {REPO: repository("app", None)}}),
            **alone(image(A)),
        },
        "same name in an account-agnostic stack": {
            "R": (
                "aws://unknown-account/us-east-1",
                {"Resources": {REPO: repository("app", None)}},
            ),
            **alone(image(A)),
        },
        "external, another account": alone(image(A)),
        "external, same account, generated name": {
            "W": (env(B), {"Resources": {"Fn": function(image(B))}})
        },
        "external, same name elsewhere": {
            "R": (env(A, "eu-west-1"), {"Resources": {REPO: repository("app", None)}}),
            "R2": (env(B), {"Resources": {REPO: repository("app", None)}}),
            **alone(image(A)),
        },
        "external, env-agnostic function": alone(image(A), AGNOSTIC),
        "same name in a Region-agnostic stack": {
            "R": (f"aws://{A}/unknown-region", {"Resources": {REPO: repository("app", None)}}),
            **alone(image(A)),
        },
        "function of an unknown Region": {
            "R": (env(B), {"Resources": {REPO: repository("app", documented_pair(B))}}),
            **alone(image(B), f"aws://{B}/unknown-region"),
        },
        "function of an unknown account": {
            "R": (env(A), {"Resources": {REPO: repository("app", documented_pair(B))}}),
            **alone(image(A), "aws://unknown-account/us-east-1"),
        },
        "external, a number as name": {
            "W": (env(B), {"Resources": {"Fn": function(image(A), name=12345)}})  # type: ignore[arg-type]
        },
        "external, a list as name": {
            "W": (env(B), {"Resources": {"Fn": function(image(A), name=["x"])}})  # type: ignore[arg-type]
        },
        "external, a deploy-time name": {
            "W": (
                env(B),
                {**PARAMETER, "Resources": {"Fn": function(image(A), name={"Ref": "P"})}},  # type: ignore[arg-type]
            )
        },
        # the generated repository name is not known: whether Resource matches it is not either
        # a repository replication creates with a creation template's policy, for a function
        # whose account is known only at deploy time
        "created by replication, env-agnostic function": {
            "Source": (env(A), source_stack()),
            "Templates": (
                env(B, "us-west-2"),
                {
                    "Resources": {
                        "Template": creation_template(
                            "prod", ["REPLICATION"], DOCS["creation_template_repository_policy"]
                        )
                    }
                },
            ),
            **alone(image(B, "prod/orders", "us-west-2"), AGNOSTIC),
        },
        # a FunctionName that is not text is no name: CloudFormation would refuse the template
        "a list as name, repository in the assembly": {
            "W": (
                env(B),
                {
                    "Resources": {
                        REPO: repository("app", [service(X_STAR)]),
                        "Fn": function(image(B), name=["x"]),  # type: ignore[arg-type]
                    }
                },
            )
        },
        # the partition of the function's Region names the root to grant
        "China Regions, no root grant": {
            "R": (
                env(A, "cn-north-1"),
                {
                    "Resources": {
                        REPO: repository(
                            "app", [service(f"arn:aws-cn:lambda:cn-north-1:{B}:function:fn")]
                        )
                    }
                },
            ),
            "W": (
                env(B, "cn-north-1"),
                {
                    "Resources": {
                        "Fn": function(f"{A}.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1", name="fn")
                    }
                },
            ),
        },
        "Resource of a generated repository name": {
            "W": (
                env(B),
                {
                    "Resources": {
                        REPO: unnamed_repository(
                            [
                                {
                                    **service(f"arn:aws:lambda:us-east-1:{B}:function:fn"),
                                    "Resource": f"arn:aws:ecr:us-east-1:{B}:repository/x*",
                                }
                            ]
                        ),
                        "Fn": function(own_uri(REPO), name="fn"),
                    }
                },
            )
        },
        # bootstrap
        "bootstrap repository, own account": {
            "W": (env(B), {"Resources": {"Fn": function(image(B, BOOTSTRAP))}})
        },
        "bootstrap repository, another account": alone(image(B, BOOTSTRAP), env(A)),
        "bootstrap repository, env-agnostic function": {
            "W": (AGNOSTIC, {"Resources": {"Fn": function(image(B, BOOTSTRAP))}})
        },
        # a rule replicating every repository of a registry into the bootstrap's registry
        "bootstrap repository, a replica": {
            "Src": (
                env(A, "eu-west-1"),
                {
                    "Resources": {
                        REPO: repository(BOOTSTRAP, None),
                        "Replication": {
                            "Type": "AWS::ECR::ReplicationConfiguration",
                            "Properties": {
                                "ReplicationConfiguration": {
                                    "Rules": [
                                        {
                                            "Destinations": [
                                                {"RegistryId": B, "Region": "us-east-1"}
                                            ],
                                            "RepositoryFilters": [
                                                {"Filter": "cdk-", "FilterType": "PREFIX_MATCH"}
                                            ],
                                        }
                                    ]
                                }
                            },
                        },
                    }
                },
            ),
            "W": (env(B), {"Resources": {"Fn": function(image(B, BOOTSTRAP))}}),
        },
    }


VERDICTS = {
    "uri not text": (
        "unverifiable",
        "function W/Fn has no image URI the audit can read (Code.ImageUri)",
        None,
    ),
    "uri with an unknown registry": (
        "unverifiable",
        "the image URI <parameter P of stack W> is not known before "
        "deploy: its registry (ACCOUNT.dkr.ecr.REGION.amazonaws.com) "
        "is a deploy-time value, so it cannot be checked",
        None,
    ),
    "image in another Region": (
        "region-mismatch",
        "the image is in eu-west-1 but the function runs in us-east-1: "
        "Lambda runs images only from its own Region. Replicate the "
        "repository to us-east-1 (ECR replication) and use the replica's "
        "URI",
        "arn:aws:ecr:eu-west-1:111111111111:repository/app",
    ),
    "repository of another Region by its exported name": (
        "region-mismatch",
        "repository R/Repo is in eu-west-1 but "
        "the function runs in us-east-1: Lambda "
        "runs images only from its own Region",
        "arn:aws:ecr:eu-west-1:222222222222:repository/<generated name of R/Repo>",
    ),
    "policy not known before deploy": (
        "unverifiable",
        "the policy of repository W/Repo is not known before "
        "deploy: the policy text is built from values known only "
        "at deploy time (<parameter P of stack W>)",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "no policy, same account": (
        "no-policy",
        "repository W/Repo has no repository policy: allow "
        "lambda.amazonaws.com limited by aws:SourceArn to the function "
        "(ecr:BatchGetImage, ecr:GetDownloadUrlForLayer). Do not rely on "
        "Lambda adding a statement itself: it does so only when the "
        "deployer may SetRepositoryPolicy, and a later policy update "
        "drops it",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "no policy, another account": (
        "no-policy",
        "repository R/Repo has no repository policy: allow the root of "
        "account 222222222222 and lambda.amazonaws.com limited by "
        "aws:SourceArn to the function (ecr:BatchGetImage, "
        "ecr:GetDownloadUrlForLayer). Do not rely on Lambda adding a "
        "statement itself: it does so only when the deployer may "
        "SetRepositoryPolicy, and a later policy update drops it",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "no policy, env-agnostic function": (
        "no-policy",
        "repository R/Repo has no repository policy: allow the "
        "root of account <account of W> and lambda.amazonaws.com "
        "limited by aws:SourceArn to the function (the root only "
        "if the accounts differ) (ecr:BatchGetImage, "
        "ecr:GetDownloadUrlForLayer). Do not rely on Lambda "
        "adding a statement itself: it does so only when the "
        "deployer may SetRepositoryPolicy, and a later policy "
        "update drops it",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "env-agnostic function": (
        "unverifiable",
        "stack W is env-agnostic: the account and Region are known only at "
        "deploy time, so whether the function can pull from repository "
        "R/Repo cannot be checked. Give the stack an explicit "
        "env=Environment(account=..., region=...)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "env-agnostic function and repository": (
        "unverifiable",
        "stack W and stack R are env-agnostic: the account "
        "and Region are known only at deploy time, so "
        "whether the function can pull from repository "
        "R/Repo cannot be checked. Give the stack an "
        "explicit env=Environment(account=..., region=...)",
        "arn:<partition of R>:ecr:<Region of R>:<account of "
        "R>:repository/<generated name of R/Repo>",
    ),
    "env-agnostic stack, its own repository": (
        "ok",
        "the function is in the repository's account; "
        "lambda.amazonaws.com may pull for arn:<partition "
        "of W>:lambda:<Region of W>:<account of "
        "W>:function:<name-generated-by-CloudFormation> "
        "(statement Svc)",
        "arn:<partition of W>:ecr:<Region of W>:<account "
        "of W>:repository/<generated name of W/Repo>",
    ),
    "account-agnostic stack, non-monotone policy": (
        "unverifiable",
        "the stack is env-agnostic, so the function's "
        "account and Region are known only at deploy "
        "time, and the policy admits the function "
        "only for some of them: a Deny statement "
        "blocks account <account of W>: remove it or "
        "exclude the account; a Deny statement blocks "
        "lambda.amazonaws.com for "
        "arn:aws:lambda:us-east-1:<account of "
        "W>:function:fn (statement DenyOthers, "
        "DenyOthers)",
        "arn:aws:ecr:us-east-1:<account of W>:repository/<generated name of W/Repo>",
    ),
    "account-agnostic stack, conditioned Deny": (
        "unverifiable",
        "the stack is env-agnostic (account and Region "
        "known only at deploy time), and the policy has "
        "Deny statements or negated conditions whose "
        "effect depends on that value: whether the "
        "function can pull cannot be checked before "
        "deploy (the function is in the repository's "
        "account; lambda.amazonaws.com may pull for "
        "arn:aws:lambda:us-east-1:<account of "
        "W>:function:fn (statement Svc))",
        "arn:aws:ecr:us-east-1:<account of W>:repository/<generated name of W/Repo>",
    ),
    "generated name, non-monotone policy": (
        "unverifiable",
        "the function's name is generated by CloudFormation, "
        "and the policy has Deny statements or negated "
        "conditions whose effect depends on that value: "
        "whether the function can pull cannot be checked "
        "before deploy (the function is in the repository's "
        "account; lambda.amazonaws.com may pull for "
        "arn:aws:lambda:us-east-1:222222222222:function:<name-generated-by-CloudFormation> "
        "(statement Svc))",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "deploy-time name": (
        "unverifiable",
        "its name is a deploy-time value (<parameter P of stack W>); the policy "
        "admits lambda.amazonaws.com only for named functions "
        "(arn:aws:lambda:us-east-1:222222222222:function:x*), which may or may "
        "not match the generated name: give the function a FunctionName and "
        "admit it, or admit function:* of the account",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "generated name, a pattern that may match it": (
        "unverifiable",
        "it has no FunctionName, so CloudFormation "
        "generates one (like W-Fn-RANDOM); the policy "
        "admits lambda.amazonaws.com only for named "
        "functions "
        "(arn:aws:lambda:us-east-1:222222222222:function:W*), "
        "which may or may not match the generated "
        "name: give the function a FunctionName and "
        "admit it, or admit function:* of the account",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "generated name, no pattern can match it": (
        "missing-service-grant",
        "it has no FunctionName, so CloudFormation "
        "generates one (like W-Fn-RANDOM), and no "
        "aws:SourceArn of the policy can match it: give "
        "the function a FunctionName and admit it, or "
        "admit "
        "arn:aws:lambda:us-east-1:222222222222:function:*",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "generated name, the longest guessed prefix": (
        "missing-service-grant",
        "it has no FunctionName, so CloudFormation "
        "generates one (like "
        "SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS-Fn-RANDOM), "
        "and no aws:SourceArn of the policy can match "
        "it: give the function a FunctionName and "
        "admit it, or admit "
        "arn:aws:lambda:us-east-1:222222222222:function:*",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "generated name, a prefix too long to guess": (
        "unverifiable",
        "it has no FunctionName, so CloudFormation "
        "generates one; the policy admits "
        "lambda.amazonaws.com only for named functions "
        "(arn:aws:lambda:us-east-1:222222222222:function:x*), "
        "which may or may not match the generated "
        "name: give the function a FunctionName and "
        "admit it, or admit function:* of the account",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "generated name, equals with a star": (
        "unverifiable",
        "it has no FunctionName, so CloudFormation generates "
        "one (like W-Fn-RANDOM); the policy admits "
        "lambda.amazonaws.com only for named functions "
        "(arn:aws:lambda:us-east-1:222222222222:function:W-Fn-abc, "
        "arn:aws:lambda:us-east-1:222222222222:function:W-F*), "
        "which may or may not match the generated name: give "
        "the function a FunctionName and admit it, or admit "
        "function:* of the account",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "image of an unknown account": (
        "unverifiable",
        "the image <parameter P of stack "
        "W>.dkr.ecr.us-east-1.amazonaws.com/app:v1 is not known "
        "before deploy: its account or repository name is a "
        "deploy-time value (parameter P of stack W)",
        "arn:aws:ecr:us-east-1:<parameter P of stack W>:repository/app",
    ),
    "image of an unknown name": (
        "unverifiable",
        "the image "
        "111111111111.dkr.ecr.us-east-1.amazonaws.com/<parameter P of "
        "stack W>:v1 is not known before deploy: the repository name "
        "<parameter P of stack W> is not known before deploy",
        "arn:aws:ecr:us-east-1:111111111111:repository/<parameter P of stack W>",
    ),
    "image of an unknown Region": (
        "external",
        "repository arn:aws:ecr:<parameter P of stack "
        "W>:111111111111:repository/app is not in this assembly, so "
        "its policy cannot be checked: its owner must grant the root "
        "of account 222222222222 and lambda.amazonaws.com with "
        "aws:SourceArn arn:...:lambda:<parameter P of stack "
        "W>:222222222222:function:fn, both for ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer",
        "arn:aws:ecr:<parameter P of stack W>:111111111111:repository/app",
    ),
    "same name in an env-agnostic stack": (
        "unverifiable",
        "repository R/Repo has this name, but its account or "
        "Region, or the image's, is known only at deploy time "
        "(account of R; Region of R)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "same name in an account-agnostic stack": (
        "unverifiable",
        "repository R/Repo has this name, but its account "
        "or Region, or the image's, is known only at "
        "deploy time (account of R)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, another account": (
        "external",
        "repository arn:aws:ecr:us-east-1:111111111111:repository/app "
        "is not in this assembly, so its policy cannot be checked: its "
        "owner must grant the root of account 222222222222 and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:fn, both for "
        "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
        "(required_statements in --format json)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, same account, generated name": (
        "external",
        "repository "
        "arn:aws:ecr:us-east-1:222222222222:repository/app "
        "is not in this assembly, so its policy cannot be "
        "checked: its owner must grant a statement for "
        "lambda.amazonaws.com with ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer limited by "
        "aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:* "
        "(required_statements in --format json)",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "external, same name elsewhere": (
        "external",
        "repository "
        "arn:aws:ecr:us-east-1:111111111111:repository/app is not "
        "in this assembly, so its policy cannot be checked: its "
        "owner must grant the root of account 222222222222 and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:fn, both "
        "for ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
        "(required_statements in --format json). Note: a repository "
        "named app is in the assembly elsewhere: R/Repo (account "
        "111111111111, eu-west-1), R2/Repo (account 222222222222, "
        "us-east-1); the image URI points to account 111111111111, "
        "us-east-1: if that repository is meant, refer to it by its "
        "ARN (Repository.from_repository_arn), not by its name",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, env-agnostic function": (
        "unverifiable",
        "the function's stack is env-agnostic, so its account is "
        "known only at deploy time; repository arn:<partition of "
        "W>:ecr:us-east-1:111111111111:repository/app is not in "
        "this assembly, so its policy cannot be checked: its "
        "owner must grant the root of account <account of W> and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:<account of W>:function:fn, "
        "both for ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer",
        "arn:<partition of W>:ecr:us-east-1:111111111111:repository/app",
    ),
    "same name in a Region-agnostic stack": (
        "unverifiable",
        "repository R/Repo has this name, but its account or "
        "Region, or the image's, is known only at deploy "
        "time (Region of R)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "function of an unknown Region": (
        "unverifiable",
        "stack W is env-agnostic: the account and Region are known "
        "only at deploy time, so whether the function can pull from "
        "repository R/Repo cannot be checked. Give the stack an "
        "explicit env=Environment(account=..., region=...)",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "function of an unknown account": (
        "unverifiable",
        "stack W is env-agnostic: the account and Region are known "
        "only at deploy time, so whether the function can pull "
        "from repository R/Repo cannot be checked. Give the stack "
        "an explicit env=Environment(account=..., region=...)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, a number as name": (
        "external",
        "repository arn:aws:ecr:us-east-1:111111111111:repository/app "
        "is not in this assembly, so its policy cannot be checked: its "
        "owner must grant the root of account 222222222222 and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:12345, both "
        "for ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
        "(required_statements in --format json)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, a list as name": (
        "external",
        "repository arn:aws:ecr:us-east-1:111111111111:repository/app is "
        "not in this assembly, so its policy cannot be checked: its "
        "owner must grant the root of account 222222222222 and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:*, both for "
        "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
        "(required_statements in --format json)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "external, a deploy-time name": (
        "external",
        "repository "
        "arn:aws:ecr:us-east-1:111111111111:repository/app is not in "
        "this assembly, so its policy cannot be checked: its owner "
        "must grant the root of account 222222222222 and "
        "lambda.amazonaws.com with aws:SourceArn "
        "arn:...:lambda:us-east-1:222222222222:function:*, both for "
        "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer "
        "(required_statements in --format json)",
        "arn:aws:ecr:us-east-1:111111111111:repository/app",
    ),
    "created by replication, env-agnostic function": (
        "unverifiable",
        "repository prod/orders is in no template "
        "of the assembly, but the replication "
        "configuration Source/Replication (stack "
        "Source) sends it from "
        "111111111111/us-east-1 to "
        "222222222222/us-west-2: ECR creates it "
        "there on the first replication, with the "
        "policy of creation template "
        "Templates/Template (stack Templates) "
        "(prefix prod), which applies only when ECR "
        "creates the repository: a later change of "
        "the template does not reach an existing "
        "repository: the stack is env-agnostic, so "
        "the function's account and Region are "
        "known only at deploy time, and the policy "
        "admits the function only for some of them: "
        "the repository policy does not allow "
        "arn:<partition of W>:iam::<account of "
        "W>:root to ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer: add the "
        "account to the repository policy "
        "(CrossAccountImageRepo consumers=[...]); "
        "also no statement allows "
        "lambda.amazonaws.com to pull with an "
        "aws:SourceArn matching arn:<partition of "
        "W>:lambda:<Region of W>:<account of "
        "W>:function:fn: add it to the statement's "
        "StringLike aws:SourceArn list",
        "arn:aws:ecr:us-west-2:222222222222:repository/prod/orders",
    ),
    "a list as name, repository in the assembly": (
        "missing-service-grant",
        "it has no FunctionName, so CloudFormation "
        "generates one (like W-Fn-RANDOM), and no "
        "aws:SourceArn of the policy can match it: "
        "give the function a FunctionName and admit "
        "it, or admit "
        "arn:aws:lambda:us-east-1:222222222222:function:*",
        "arn:aws:ecr:us-east-1:222222222222:repository/app",
    ),
    "China Regions, no root grant": (
        "missing-root-grant",
        "the repository policy does not allow "
        "arn:aws-cn:iam::222222222222:root to ecr:BatchGetImage and "
        "ecr:GetDownloadUrlForLayer: add the account to the "
        "repository policy (CrossAccountImageRepo consumers=[...])",
        "arn:aws-cn:ecr:cn-north-1:111111111111:repository/app",
    ),
    "Resource of a generated repository name": (
        "unverifiable",
        "whether lambda.amazonaws.com may pull for "
        "arn:aws:lambda:us-east-1:222222222222:function:fn "
        "cannot be checked here (statement Svc: Resource "
        "holds a value not resolved at synth time, or a "
        "policy variable in an ARN)",
        "arn:aws:ecr:us-east-1:222222222222:repository/<generated name of W/Repo>",
    ),
    "bootstrap repository, own account": (
        "ok",
        "the function is in the repository's account; "
        "lambda.amazonaws.com may pull for "
        "arn:aws:lambda:us-east-1:222222222222:function:<name-generated-by-CloudFormation> "
        "(statement LambdaECRImageRetrievalPolicy). The "
        "repository is not in the assembly: this is what the "
        "CDK bootstrap template's policy allows "
        "(lambda.amazonaws.com for functions of the "
        "repository's own account and Region only); a "
        "customized bootstrap template may differ",
        "arn:aws:ecr:us-east-1:222222222222:repository/cdk-hnb659fds-container-assets-222222222222-us-east-1",
    ),
    "bootstrap repository, another account": (
        "missing-root-grant",
        "the repository policy does not allow "
        "arn:aws:iam::111111111111:root to "
        "ecr:BatchGetImage and ecr:GetDownloadUrlForLayer: "
        "add the account to the repository policy "
        "(CrossAccountImageRepo consumers=[...]); also no "
        "statement allows lambda.amazonaws.com to pull with "
        "an aws:SourceArn matching "
        "arn:aws:lambda:us-east-1:111111111111:function:fn: "
        "add it to the statement's StringLike aws:SourceArn "
        "list. The repository is not in the assembly: this "
        "is what the CDK bootstrap template's policy allows "
        "(lambda.amazonaws.com for functions of the "
        "repository's own account and Region only); a "
        "customized bootstrap template may differ",
        "arn:aws:ecr:us-east-1:222222222222:repository/cdk-hnb659fds-container-assets-222222222222-us-east-1",
    ),
    "bootstrap repository, env-agnostic function": (
        "unverifiable",
        "stack W is env-agnostic: the account and "
        "Region are known only at deploy time, so "
        "whether the function can pull from "
        "repository CDK bootstrap repository "
        "cdk-hnb659fds-container-assets-222222222222-us-east-1 "
        "cannot be checked. Give the stack an "
        "explicit env=Environment(account=..., "
        "region=...)",
        "arn:<partition of "
        "W>:ecr:us-east-1:222222222222:repository/cdk-hnb659fds-container-assets-222222222222-us-east-1",
    ),
    "bootstrap repository, a replica": (
        "unverifiable",
        "repository CDK bootstrap repository "
        "cdk-hnb659fds-container-assets-222222222222-us-east-1 is "
        "a replica: the registry 222222222222/us-east-1 has no "
        "registry policy in the assembly letting 111111111111 "
        "replicate into it (ecr:ReplicateImage) (it may be set "
        "outside this app: check it there). The repository is not "
        "in the assembly: this is what the CDK bootstrap "
        "template's policy allows (lambda.amazonaws.com for "
        "functions of the repository's own account and Region "
        "only); a customized bootstrap template may differ",
        "arn:aws:ecr:us-east-1:222222222222:repository/cdk-hnb659fds-container-assets-222222222222-us-east-1",
    ),
}
"""case -> (status, detail, repository) of the function Fn."""


@pytest.mark.parametrize("case", sorted(VERDICTS))
def test_each_stage_verdict_exactly(tmp_path: Path, case: str) -> None:
    report = audit_assembly(write_assembly(tmp_path / "out", cases()[case]))
    (result,) = [f for f in report.functions if f.logical_id == "Fn"]
    assert (result.status, result.detail, result.repository) == VERDICTS[case]


# --------------------------------------------------------------------------------------------
# The evaluator's answer as a status, and what makes a policy non-monotone
# --------------------------------------------------------------------------------------------


def grant(access: Access, detail: str, *statements: str) -> Grant:
    return Grant(access, detail, tuple(statements))


def test_the_status_of_each_answer_exactly() -> None:
    ok = grant(Access.GRANTED, "root ok", "R")
    answers = {
        # an invalid side: that side's detail, the service's first
        (Access.INVALID, Access.GRANTED): ("invalid-policy", "root"),
        (Access.GRANTED, Access.INVALID): ("invalid-policy", "service"),
        (Access.INVALID, Access.INVALID): ("invalid-policy", "service"),
        (Access.DENIED, Access.DENIED): ("denied", "root; service (statement r, s)"),
        (Access.DENIED, Access.GRANTED): ("denied", "root (statement r)"),
        (Access.MISSING, Access.MISSING): ("missing-root-grant", "root; also service"),
        (Access.MISSING, Access.GRANTED): ("missing-root-grant", "root"),
        (Access.GRANTED, Access.MISSING): ("missing-service-grant", "service"),
        (Access.UNKNOWN, Access.UNKNOWN): ("unverifiable", "root; service"),
        (Access.GRANTED, Access.UNKNOWN): ("unverifiable", "service"),
        (Access.GRANTED, Access.GRANTED): ("ok", "root; service (statement r, s)"),
    }
    for (root, service), expected in answers.items():
        access = PullAccess(grant(root, "root", "r"), grant(service, "service", "s"))
        assert verdict(access) == expected, (root, service)
    same = PullAccess(ok, grant(Access.GRANTED, "service ok", "R"))
    assert verdict(same) == ("ok", "root ok; service ok (statement R)")


def test_only_a_conditioned_deny_or_a_negated_allow_is_non_monotone() -> None:
    def doc(*statements: Any) -> dict[str, Any]:
        return {"Statement": list(statements)}

    conditioned = {"StringEquals": {"aws:SourceAccount": A}}
    assert not _non_monotone(None)
    assert not _non_monotone(doc({"Effect": "Deny", "Condition": {}}))
    assert not _non_monotone(doc({"Effect": "Deny", "Condition": "text"}))
    assert not _non_monotone(doc({"Effect": "Allow", "Condition": conditioned}))
    # a statement without conditions does not end the search
    assert _non_monotone(doc({"Effect": "Allow"}, {"Effect": "Deny", "Condition": conditioned}))
    for operator in ("StringNotLike", "StringLikeIfExists", "ForAllValues:StringLike", "Null"):
        assert _non_monotone(doc({"Effect": "Allow", "Condition": {operator: {}}})), operator


def test_the_source_arn_patterns_of_allow_statements_for_lambda_exactly() -> None:
    document = {
        "Statement": [
            "not a statement",
            {"Principal": {"Service": LAMBDA}, "Condition": {"ArnLike": {"aws:SourceArn": "a"}}},
            {
                "Effect": "Deny",
                "Principal": {"Service": LAMBDA},
                "Condition": {"ArnLike": {"aws:SourceArn": "b"}},
            },
            {
                "Effect": "Allow",
                "Principal": {"AWS": "*"},
                "Condition": {"ArnLike": {"aws:SourceArn": "c"}},
            },
            {
                "Effect": "ALLOW",
                "Principal": "*",
                "Condition": {
                    "Bool": "not a block",
                    "StringLike": {"aws:SourceAccount": "d", "AWS:SOURCEARN": ["e", "f"]},
                    "ArnEquals": {"aws:sourcearn": "g"},
                },
            },
            {
                "Effect": "allow",
                "Principal": {"Service": ["ecs.amazonaws.com", LAMBDA]},
                "Condition": {"STRINGLIKE": {"aws:SourceArn": "h"}},
            },
            {"Effect": "Allow", "Principal": {"Service": LAMBDA}, "Condition": "text"},
        ]
    }
    assert source_arn_patterns(document) == [("e", True), ("f", True), ("g", False), ("h", True)]
    assert source_arn_patterns(None) == []


def test_the_bootstrap_repository_policy_is_the_bootstrap_templates() -> None:
    # aws/aws-cdk-cli, bootstrap-template.yaml, ContainerAssetsRepository.RepositoryPolicyText
    assert bootstrap_repository_policy(B, "cn-north-1", "aws-cn") == {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {
                    "StringLike": {"aws:sourceArn": f"arn:aws-cn:lambda:cn-north-1:{B}:function:*"}
                },
            }
        ],
    }


# --------------------------------------------------------------------------------------------
# Repository reports
# --------------------------------------------------------------------------------------------


def model_repository(policy: Any, account: str = A) -> ModelRepository:
    return ModelRepository(
        index=0,
        logical_id=REPO,
        name="app",
        arn=f"arn:aws:ecr:us-east-1:{account}:repository/app",
        account=account,
        region="us-east-1",
        path="R/Repo",
        policy=parse_policy(policy),
    )


OPEN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}],
}
"""Every account may pull (one pull action is enough)."""


def test_a_repository_admits_every_account_only_with_an_open_policy() -> None:
    assert admits_every_account(model_repository(OPEN))
    # the stranger is never the repository's own account
    assert admits_every_account(model_repository(OPEN, account="000000000000"))
    own_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                "Action": PULL,
            }
        ],
    }
    assert not admits_every_account(model_repository(own_only, account="000000000000"))
    assert admits_every_account(model_repository(own_only, account="000000000001"))
    assert not admits_every_account(model_repository(None))
    assert not admits_every_account(model_repository("{"))


def test_the_length_and_problems_of_each_policy_state() -> None:
    valid = model_repository(OPEN)
    assert valid.policy.state is PolicyState.VALID
    assert estimated_length(valid) == valid.policy.estimated_length > 0
    invalid = model_repository("{")
    assert invalid.policy.state is PolicyState.INVALID
    reason = invalid.policy.reason
    marker = {"_unreadable": reason}
    assert estimated_length(invalid) == len(policy_text(marker)) > 100
    assert policy_problems(invalid.document) == [reason]
    assert estimated_length(model_repository(None)) == 0
    assert policy_problems(None) == []
    assert policy_problems({"Version": "1"}) == ["the policy has no Statement"]


# --------------------------------------------------------------------------------------------
# The runner: conditions, consumers, findings
# --------------------------------------------------------------------------------------------

CONDITIONS = {
    "Parameters": {"P": {"Type": "String"}, "Q": {"Type": "String"}},
    "Conditions": {
        "C": {"Fn::Equals": [{"Ref": "P"}, "a"]},
        "D": {"Fn::Equals": [{"Ref": "Q"}, "a"]},
    },
}
FN_ONLY = [service(f"arn:aws:lambda:us-east-1:{B}:function:fn")]


def test_a_verdict_the_same_every_way_is_the_first_ways(tmp_path: Path) -> None:
    uri = {"Fn::If": ["C", image(B), image(B).replace(":v1", ":v2")]}
    stack = {
        **CONDITIONS,
        "Resources": {REPO: repository("app", FN_ONLY), "Fn": function(uri, name="fn")},
    }
    report = audit_assembly(write_assembly(tmp_path / "out", {"W": (env(B), stack)}))
    (result,) = report.functions
    assert (result.status, result.detail) == (
        "ok",
        "the function is in the repository's account; lambda.amazonaws.com may pull for "
        f"arn:aws:lambda:us-east-1:{B}:function:fn (statement Svc) (the same whichever way "
        "condition C goes)",
    )
    # the way C=True: its image, tag and name
    assert (result.image, result.tag_or_digest, result.function_name) == (image(B), "v1", "fn")
    # the function is one consumer of its repository, however many ways were tried
    (repository_report,) = report.repositories
    assert repository_report.consumers == ("W/Fn",)


def test_a_verdict_that_depends_on_conditions_names_every_way(tmp_path: Path) -> None:
    stack = {
        **CONDITIONS,
        "Resources": {
            REPO: repository("app", FN_ONLY),
            "Other": repository("other", None),
            "Fn": function(
                {"Fn::If": ["D", image(B), image(B, "other")]},
                name={"Fn::If": ["C", "fn", "gn"]},  # type: ignore[arg-type]
            ),
        },
    }
    report = audit_assembly(write_assembly(tmp_path / "out", {"W": (env(B), stack)}))
    (result,) = report.functions
    assert (result.status, result.detail) == (
        "unverifiable",
        "the verdict depends on condition C, D, not known before deploy: with C=True, D=True: "
        "ok; with C=True, D=False: no-policy; with C=False, D=True: missing-service-grant; "
        "with C=False, D=False: no-policy",
    )
    # what the first way (C=True, D=True) reads, not the second's (repository other)
    assert result.image == image(B)
    assert result.image_ref is not None and result.image_ref.uri == image(B)
    assert result.repository == f"arn:aws:ecr:us-east-1:{B}:repository/app"


def test_an_unreadable_template_and_an_unreadable_resource_are_errors(tmp_path: Path) -> None:
    out = write_assembly(
        tmp_path / "out",
        {
            "Bad": (
                env(B),
                {"Resources": {REPO: {"Type": "AWS::ECR::Repository", "Properties": []}}},
            ),
            "W": (env(B), {"Resources": {REPO: repository("app", None)}}),
        },
    )
    model = build_model(load_assembly(out))
    model = dataclasses.replace(model, problems=((1, REPO, "TypeError: a test's problem"),))
    bad, good = (str(out / f"{name}.template.json") for name in ("Bad", "W"))
    report = audit_model(model)
    assert set(report.lines) == {good}  # the lines of the templates read, for the locator
    assert report.lines[good] == model.stacks[1].lines
    findings = [f.to_json() for f in report.findings]
    assert findings == [
        {
            "severity": "error",
            "code": "unreadable-template",
            "resource": bad,
            "stack": "Bad",
            "message": f"{bad}: cannot read the template: Resources.Repo.Properties is a list, "
            "not an object: the functions and repositories of stack Bad are not checked",
            "logical_id": "",
            "template": bad,
        },
        {
            "severity": "error",
            "code": "unreadable-template",
            "resource": "W/Repo",
            "stack": "W",
            "message": "resource W/Repo of stack W cannot be read (TypeError: a test's "
            "problem): it is not checked",
            "logical_id": REPO,
            "template": good,
        },
    ]


def test_the_latest_tag_finding_names_the_function(tmp_path: Path) -> None:
    stack = {
        "Resources": {
            REPO: repository("app", FN_ONLY),
            "Fn": function(image(B).replace(":v1", ":latest"), name="fn"),
        }
    }
    out = write_assembly(tmp_path / "out", {"W": (env(B), stack)})
    (finding,) = audit_assembly(out).findings
    assert finding.to_json() == {
        "severity": latest_tag.RULE.severity,
        "code": "ecr-lambda-access:latestTag",
        "resource": "W/Fn",
        "stack": "W",
        "message": latest_tag.check("W/Fn", "latest"),
        "logical_id": "Fn",
        "template": str(out / "W.template.json"),
    }
    assert latest_tag.RULE.severity == "warning"


def test_what_a_report_carries_besides_its_status(tmp_path: Path) -> None:
    stacks = {
        "W": (
            env(B),
            {
                "Resources": {
                    "Fn": function(f"{A}.dkr.ecr.us-east-1.amazonaws.com/app", name="fn"),
                    "Text": function(123, name="text"),
                }
            },
        )
    }
    report = audit_assembly(write_assembly(tmp_path / "out", stacks))
    external, text = sorted(report.functions, key=lambda f: f.logical_id)
    assert (text.status, text.image, text.tag_or_digest) == ("unverifiable", None, None)
    # no tag and no digest: Lambda's default tag is not guessed
    assert (external.image, external.tag_or_digest) == (
        f"{A}.dkr.ecr.us-east-1.amazonaws.com/app",
        None,
    )
    arn = f"arn:aws:lambda:us-east-1:{B}:function:fn"
    assert external.required_statements == (
        {
            "Sid": "CrossAccountPermission",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{B}:root"},
            "Action": PULL,
        },
        {
            "Sid": "LambdaECRImageCrossAccountRetrievalPolicy",
            "Effect": "Allow",
            "Principal": {"Service": LAMBDA},
            "Action": PULL,
            "Condition": {"StringLike": {"aws:SourceArn": arn}},
        },
    )


def test_each_repository_report_exactly(tmp_path: Path) -> None:
    unconditioned = {
        "Sid": "Open",
        "Effect": "Allow",
        "Principal": {"Service": LAMBDA},
        "Action": PULL,
    }
    replica = repository("app", [unconditioned])
    replica["Metadata"] = {
        "ecr-lambda-access": {"replicaOf": "arn:aws:ecr:eu-west-1:1:repository/app"}
    }
    stacks = {
        "W": (
            env(B),
            {
                "Resources": {
                    REPO: replica,
                    "Unnamed": unnamed_repository(),
                    "Fn": function(image(B), name="fn"),
                }
            },
        )
    }
    out = write_assembly(tmp_path / "out", stacks)
    report = audit_assembly(out)
    named, unnamed = (r.to_json() for r in report.repositories)
    template = str(out / "W.template.json")
    size = named.pop("policy_size")
    assert size == len(policy_text({"Version": "2012-10-17", "Statement": [unconditioned]}))
    assert named == {
        "repository": f"arn:aws:ecr:us-east-1:{B}:repository/app",
        "name": "app",
        "path": "W/Repo",
        "stack": "W",
        "account": B,
        "region": "us-east-1",
        "has_policy": True,
        "policy_limit": 10240,
        "unconditioned_service_statements": ["Open"],
        "consumers": ["W/Fn"],
        "logical_id": REPO,
        "template": template,
    }
    assert report.repositories[0].replica_of == "arn:aws:ecr:eu-west-1:1:repository/app"
    assert unnamed == {
        "repository": f"arn:aws:ecr:us-east-1:{B}:repository/<generated name of W/Unnamed>",
        "name": None,
        "path": "W/Unnamed",
        "stack": "W",
        "account": B,
        "region": "us-east-1",
        "has_policy": False,
        "policy_size": 0,
        "policy_limit": 10240,
        "unconditioned_service_statements": [],
        "consumers": [],
        "logical_id": "Unnamed",
        "template": template,
    }
    (finding,) = [f.to_json() for f in report.findings if f.code != "ecr-lambda-access:latestTag"]
    assert {k: finding[k] for k in ("resource", "stack", "logical_id", "template")} == {
        "resource": "W/Repo",
        "stack": "W",
        "logical_id": REPO,
        "template": template,
    }
    assert "W/Repo" in finding["message"] and "Open" in finding["message"]


def test_the_stranger_of_a_repository_of_account_zero_is_account_one() -> None:
    one_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000001:root"},
                "Action": PULL,
            }
        ],
    }
    assert admits_every_account(model_repository(one_only, account="000000000000"))


@pytest.mark.parametrize(
    ("uri", "statements"),
    [
        # the same account: the service statement alone
        (image(B), [("LambdaECRImageCrossAccountRetrievalPolicy", "aws", "us-east-1")]),
        # another account in the China Regions: the root and the service, of partition aws-cn
        (
            f"{A}.dkr.ecr.cn-north-1.amazonaws.com.cn/app:v1",
            [
                ("CrossAccountPermission", "aws-cn", "cn-north-1"),
                ("LambdaECRImageCrossAccountRetrievalPolicy", "aws-cn", "cn-north-1"),
            ],
        ),
    ],
)
def test_the_statements_an_external_repository_needs(
    tmp_path: Path, uri: str, statements: list[tuple[str, str, str]]
) -> None:
    region = statements[0][2]
    stacks = {"W": (env(B, region), {"Resources": {"Fn": function(uri)}})}
    (result,) = audit_assembly(write_assembly(tmp_path / "out", stacks)).functions
    assert result.status == "external"
    expected: list[dict[str, Any]] = []
    for sid, partition, _ in statements:
        if sid == "CrossAccountPermission":
            principal: dict[str, Any] = {"AWS": f"arn:{partition}:iam::{B}:root"}
            expected.append({"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": PULL})
        else:
            arn = f"arn:{partition}:lambda:{region}:{B}:function:*"
            expected.append(
                {
                    "Sid": sid,
                    "Effect": "Allow",
                    "Principal": {"Service": LAMBDA},
                    "Action": PULL,
                    "Condition": {"StringLike": {"aws:SourceArn": arn}},
                }
            )
    assert [dict(s) for s in result.required_statements] == expected


def test_an_external_image_of_an_unknown_region_needs_no_listed_statements(
    tmp_path: Path,
) -> None:
    (result,) = audit_assembly(
        write_assembly(tmp_path / "out", cases()["image of an unknown Region"])
    ).functions
    assert result.status == "external"
    assert result.required_statements == ()
