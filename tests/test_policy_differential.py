"""Differential test: our IAM evaluator against an independent one, npm @cloud-copilot/iam-simulate.

iam-simulate (AGPL-3.0-or-later) is a devDependency pinned in package.json/package-lock.json, used
only here, through one long-lived Node process (tests/differential/iam_simulate_driver.js reading
JSON lines). Never a runtime dependency of the library.

Cases: policies from our builder (``repository_policy_statements``), hand-written policies of the
kinds people write (bootstrap-style, organization pairs, Deny guards, NotPrincipal, ArnLike,
variables), and random mutations of both (operators negated, IfExists, ForAnyValue/ForAllValues,
key case, wildcards, effects, Principal<->NotPrincipal, Action<->NotAction, Resource elements,
Null/Bool conditions). Each policy is asked for both pull actions by both sides (the Lambda
service for a function; the function account's deployer), in several accounts and Regions.

A second generator (``grammar_policies``), shaped differently, assembles statements element by
element from the corners of issue 16: wildcards in every ARN component (the service and the
resource type included), Bool/Date/Numeric/IP/Binary operators on string and ARN keys, policy
variables with and without the documented ", " default, misspelt elements, aws:PrincipalType and
aws:userid, IfExists and ForAnyValue/ForAllValues mixes, Deny + NotPrincipal, 2008-10-17 and
Version-less policies, principals of another partition.

Where both evaluators are definite they must agree: zero cases where we grant and it denies,
zero where we deny and it grants. Our ``unknown`` answers (the request depends on something not
known at synth time, such as the deployer's role name) are counted, not compared.

Excluded classes, each named with the AWS documentation that justifies it (see EXCLUSIONS).
"""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ecr_lambda_access.policy import (
    ECR_PULL_ACTIONS,
    Access,
    LambdaConsumer,
    evaluate_pull,
    repository_policy_statements,
)

ROOT = Path(__file__).resolve().parent.parent
DRIVER = ROOT / "tests" / "differential" / "iam_simulate_driver.js"
SIMULATOR = ROOT / "node_modules" / "@cloud-copilot" / "iam-simulate"

REPO_ACCOUNT = "111111111111"
ACCOUNTS = [REPO_ACCOUNT, "222222222222", "333333333333"]
REGIONS = ["us-east-1", "eu-west-1"]
ORG = "o-abcdefghij"
OTHER_ORG = "o-zzzzzzzzzz"
REPO_NAME = "team/app"
MIN_CASES = 2000

EXCLUSIONS: dict[str, str] = {
    "allow-notprincipal": (
        "Allow with NotPrincipal: AWS does not support it for resource-based policies and "
        "recommends against it (IAM User Guide, 'AWS JSON policy elements: NotPrincipal'); "
        "we never take it as a grant (our answer is unknown)"
    ),
    "other-partition-principal": (
        "a principal ARN of another partition (arn:aws-cn:iam::ACCOUNT:root for a request in "
        "the aws partition): the simulator matches it on the account id alone; AWS scopes each "
        "account to one partition (IAM User Guide, 'Identify AWS resources with Amazon Resource "
        "Names (ARNs)': partition), so it never names a principal of another; our answer stays "
        "'no match' (issue 16 keeps it)"
    ),
    "variables-before-2012": (
        "a policy variable in a policy without Version 2012-10-17: AWS reads it as literal text "
        "(IAM User Guide, 'IAM policy elements: Variables and tags': without the Version "
        "element set to 2012-10-17, variables like ${aws:username} are treated as literal "
        "strings); the simulator substitutes it (issue 16 keeps the literal reading)"
    ),
    "simulator-rejects": (
        "the simulator's own policy validator (iam-policy) rejects the policy or request "
        "while ours finds it valid: no answer to compare (IAM User Guide, 'Validating IAM "
        "policies' documents only Access Analyzer's checks, not a grammar both share)"
    ),
}


# ---------------------------------------------------------------------------------------------
# The simulator process
# ---------------------------------------------------------------------------------------------


class Simulator:
    def __init__(self) -> None:
        node = os.environ.get("JSII_NODE", "node")
        self.process = subprocess.Popen(
            [node, str(DRIVER)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def ask_all(self, requests: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self.process.stdin is not None and self.process.stdout is not None
        answers: list[dict[str, Any]] = []
        batch = 200
        for start in range(0, len(requests), batch):
            chunk = requests[start : start + batch]
            self.process.stdin.write("".join(json.dumps(r) + "\n" for r in chunk))
            self.process.stdin.flush()
            answers += [json.loads(self.process.stdout.readline()) for _ in chunk]
        return answers

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


# ---------------------------------------------------------------------------------------------
# Generated policies
# ---------------------------------------------------------------------------------------------


def _pull(rng: random.Random) -> Any:
    return rng.choice(
        [
            list(ECR_PULL_ACTIONS),
            "ecr:*",
            ["ecr:batchgetimage", "ecr:GetDownloadUrlForLayer"],
            "ecr:BatchGetImage",
            ["ecr:Get*", "ecr:Batch*"],
            "*",
            "s3:GetObject",
        ]
    )


def builder_policies(rng: random.Random) -> Iterator[dict[str, Any]]:
    while True:
        consumers: list[LambdaConsumer | str] = []
        for _ in range(rng.randint(1, 4)):
            account = rng.choice(ACCOUNTS)
            kind = rng.choice(["account", "prefix", "name"])
            if kind == "account":
                consumers.append(account)
            elif kind == "prefix":
                consumers.append(LambdaConsumer(account, function_name_prefix="orders-"))
            else:
                consumers.append(LambdaConsumer(account, function_name="orders-api"))
        statements = repository_policy_statements(
            consumers,
            repository_account=REPO_ACCOUNT,
            region=rng.choice(REGIONS),
            organization_id=rng.choice([None, None, ORG]),
        )
        if statements:
            yield {"Version": "2012-10-17", "Statement": statements}


def hand_written(rng: random.Random) -> dict[str, Any]:
    account = rng.choice(ACCOUNTS)
    region = rng.choice(REGIONS)
    service = {"Service": "lambda.amazonaws.com"}
    choices: list[list[dict[str, Any]]] = [
        # the CDK bootstrap template's statement
        [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": service,
                "Action": list(ECR_PULL_ACTIONS),
                "Condition": {
                    "StringLike": {"aws:sourceArn": f"arn:aws:lambda:{region}:{account}:function:*"}
                },
            }
        ],
        # Lambda's own auto-added statement (no condition)
        [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": service,
                "Action": [
                    "ecr:BatchGetImage",
                    "ecr:DeleteRepositoryPolicy",
                    "ecr:GetDownloadUrlForLayer",
                    "ecr:GetRepositoryPolicy",
                    "ecr:SetRepositoryPolicy",
                ],
            }
        ],
        # every account, no condition
        [{"Effect": "Allow", "Principal": "*", "Action": _pull(rng)}],
        [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": _pull(rng)}],
        # account id (not an ARN) as principal
        [{"Effect": "Allow", "Principal": {"AWS": account}, "Action": _pull(rng)}],
        # a guard: deny outside the organization
        [
            {"Effect": "Allow", "Principal": "*", "Action": _pull(rng)},
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "ecr:*",
                "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
            },
        ],
        # Deny + NotPrincipal
        [
            {"Effect": "Allow", "Principal": service, "Action": _pull(rng)},
            {
                "Effect": "Deny",
                "NotPrincipal": rng.choice(
                    [
                        {"AWS": f"arn:aws:iam::{account}:root"},
                        service,
                        {"AWS": f"arn:aws:iam::{account}:root", "Service": "lambda.amazonaws.com"},
                    ]
                ),
                "Action": "ecr:*",
            },
        ],
        # ArnLike across components, and ArnEquals with wildcards
        [
            {
                "Effect": "Allow",
                "Principal": service,
                "Action": _pull(rng),
                "Condition": {
                    rng.choice(["ArnLike", "ArnEquals", "StringLike"]): {
                        "aws:SourceArn": rng.choice(
                            [
                                "arn:aws:lambda:*:function:*",
                                f"arn:aws:lambda:*:{account}:function:*",
                                f"arn:aws:lambda:{region}:*:function:orders-*",
                                "arn:aws:lambda:*:*:*:*",
                                f"arn:aws:lambda:{region}:{account}:*",
                            ]
                        )
                    }
                },
            }
        ],
        # an ARN operator on a key that is not an ARN
        [
            {
                "Effect": "Allow",
                "Principal": service,
                "Action": _pull(rng),
                "Condition": {rng.choice(["ArnLike", "ArnNotLike"]): {"aws:SourceAccount": "*"}},
            }
        ],
        # policy variables
        [
            {
                "Effect": "Allow",
                "Principal": service,
                "Action": _pull(rng),
                "Condition": {
                    "StringLike": {
                        "aws:SourceArn": rng.choice(
                            [
                                "arn:aws:lambda:*:${aws:SourceAccount}:function:*",
                                f"arn:aws:lambda:{region}:${{aws:SourceAccount}}:function:*",
                                "arn:aws:lambda:*:${aws:PrincipalAccount}:function:*",
                            ]
                        )
                    }
                },
            }
        ],
        # SourceAccount / Null / Bool
        [
            {
                "Effect": "Allow",
                "Principal": rng.choice([service, "*"]),
                "Action": _pull(rng),
                "Condition": rng.choice(
                    [
                        {"StringEquals": {"aws:SourceAccount": account}},
                        {"Null": {"aws:SourceArn": rng.choice(["true", "false"])}},
                        {"Bool": {"aws:PrincipalIsAWSService": rng.choice(["true", "false"])}},
                        {"StringEquals": {"aws:PrincipalAccount": account}},
                        {"StringEqualsIgnoreCase": {"aws:sourceaccount": account}},
                    ]
                ),
            }
        ],
        # Allow + NotPrincipal (excluded: AWS does not support it)
        [
            {
                "Effect": "Allow",
                "NotPrincipal": {"AWS": f"arn:aws:iam::{account}:root"},
                "Action": "ecr:*",
            }
        ],
        # invalid: lower-case effect
        [{"Effect": "allow", "Principal": service, "Action": list(ECR_PULL_ACTIONS)}],
    ]
    return {"Version": "2012-10-17", "Statement": copy.deepcopy(rng.choice(choices))}


_OPERATOR_SWAPS = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "StringNotEqualsIgnoreCase",
    "ArnLike",
    "ArnNotLike",
    "ArnEquals",
    "ArnNotEquals",
    "StringLikeIfExists",
    "StringNotEqualsIfExists",
    "ArnLikeIfExists",
    "ForAnyValue:StringLike",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotEquals",
    "ForAllValues:StringNotLike",
]
_KEYS = [
    "aws:SourceArn",
    "aws:sourcearn",
    "aws:SourceAccount",
    "aws:PrincipalOrgID",
    "aws:SourceOrgID",
    "aws:PrincipalAccount",
    "aws:PrincipalIsAWSService",
]


def mutate(policy: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    result = copy.deepcopy(policy)
    statements = result["Statement"]
    for _ in range(rng.randint(1, 3)):
        statement = rng.choice(statements)
        what = rng.randrange(12)
        if what == 0:
            statement["Effect"] = "Deny" if statement["Effect"] == "Allow" else "Allow"
        elif what == 1 and "Principal" in statement:
            statement["NotPrincipal"] = statement.pop("Principal")
            if statement["NotPrincipal"] == "*":
                statement["NotPrincipal"] = {"AWS": "*"}
            statement["Effect"] = "Deny"
        elif what == 2 and "Action" in statement:
            statement["NotAction"] = rng.choice(["ecr:PutImage", "ecr:BatchGetImage", "s3:*"])
            statement.pop("Action")
        elif what == 3:
            statement["Resource"] = rng.choice(
                [
                    "*",
                    f"arn:aws:ecr:*:{REPO_ACCOUNT}:repository/*",
                    f"arn:aws:ecr:us-east-1:{REPO_ACCOUNT}:repository/{REPO_NAME}",
                    "arn:aws:ecr:*:*:repository/other",
                ]
            )
        elif what in (4, 5, 6) and statement.get("Condition"):
            operator = rng.choice(list(statement["Condition"]))
            block = statement["Condition"].pop(operator)
            statement["Condition"][rng.choice(_OPERATOR_SWAPS)] = block
        elif what == 7 and statement.get("Condition"):
            block = next(iter(statement["Condition"].values()))
            key = rng.choice(list(block))
            value = block.pop(key)
            block[rng.choice([key.upper(), key.lower(), rng.choice(_KEYS)])] = value
        elif what == 8 and statement.get("Condition"):
            block = next(iter(statement["Condition"].values()))
            key = rng.choice(list(block))
            values = block[key] if isinstance(block[key], list) else [block[key]]
            changed = str(rng.choice(values))
            changed = rng.choice(
                [
                    changed.replace("us-east-1", "eu-west-1"),
                    changed.replace("222222222222", "333333333333"),
                    changed.replace("function:", "function:*"),
                    changed.upper(),
                    changed + "*",
                    changed.replace("*", "?"),
                    "*",
                    ORG,
                    OTHER_ORG,
                ]
            )
            block[key] = [*values, changed] if rng.random() < 0.5 else changed
        elif what == 9:
            statement.setdefault("Condition", {})[
                rng.choice(["StringNotEquals", "StringEquals", "StringNotEqualsIfExists"])
            ] = {
                rng.choice(["aws:PrincipalOrgID", "aws:SourceOrgID"]): rng.choice([ORG, OTHER_ORG])
            }
        elif what == 10:
            statement.setdefault("Condition", {})[rng.choice(["Null", "Bool", "BoolIfExists"])] = {
                rng.choice(_KEYS): rng.choice(["true", "false"])
            }
        else:
            statement["Principal" if "Principal" in statement else "NotPrincipal"] = rng.choice(
                [
                    "*",
                    {"AWS": "*"},
                    {"Service": "lambda.amazonaws.com"},
                    {"AWS": f"arn:aws:iam::{rng.choice(ACCOUNTS)}:root"},
                    {"AWS": rng.choice(ACCOUNTS)},
                    {"AWS": f"arn:aws:iam::{rng.choice(ACCOUNTS)}:role/deployer"},
                ]
            )
    return result


def policies(count: int, seed: int = 20261129) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    built = builder_policies(rng)
    out: list[tuple[str, dict[str, Any]]] = []
    while len(out) < count:
        kind = rng.choice(["builder", "hand", "mutated-builder", "mutated-hand"])
        if kind == "builder":
            out.append((kind, next(built)))
        elif kind == "hand":
            out.append((kind, hand_written(rng)))
        elif kind == "mutated-builder":
            out.append((kind, mutate(next(built), rng)))
        else:
            out.append((kind, mutate(hand_written(rng), rng)))
    return out


# ---------------------------------------------------------------------------------------------
# A second generator, shaped differently: statements assembled element by element from a
# grammar of the corners issue 16 names (wildcards in every ARN component, the resource type
# included; Bool/Date/Numeric/IP operators on string and ARN keys; policy variables with and
# without the documented ", " default; misspelt elements; aws:PrincipalType and aws:userid;
# IfExists and ForAnyValue/ForAllValues mixes; Deny + NotPrincipal; 2008-10-17 and Version-less
# policies), rather than whole policies mutated.
# ---------------------------------------------------------------------------------------------

_CONDITION_KEYS: dict[str, list[str]] = {
    "aws:SourceArn": [
        "arn:aws:lambda:{region}:{account}:function:*",
        "arn:aws:lambda:*:{account}:function:orders-*",
        "arn:aws:lambda:{region}:*:*",
        "arn:aws:lambda:*:*:function:*",
        "arn:aws:lambda:{region}:${{aws:SourceAccount}}:function:*",
        "arn:aws:lambda:{region}:{account}:function:${{*}}",
        "*",
    ],
    "aws:SourceAccount": [
        "{account}",
        "${{aws:SourceAccount}}",
        "${{aws:PrincipalAccount, '{account}'}}",
        "${{aws:PrincipalAccount,'{account}'}}",
        "${{aws:PrincipalOrgID , '{account}'}}",
        "1",
    ],
    "aws:PrincipalArn": [
        "arn:aws:iam::{account}:role/*",
        "arn:aws:iam::{account}:root",
        "arn:aws:iam::*:role/deployer",
    ],
    "aws:PrincipalAccount": [
        "{account}",
        "${{aws:PrincipalAccount}}",
        "${{aws:SourceAccount, 'x'}}",
    ],
    "aws:PrincipalOrgID": [ORG, OTHER_ORG, "${{aws:PrincipalOrgID}}"],
    "aws:SourceOrgID": [ORG, OTHER_ORG],
    "aws:PrincipalIsAWSService": ["true", "false"],
    "aws:PrincipalServiceName": ["lambda.amazonaws.com", "*.amazonaws.com"],
    "aws:PrincipalType": ["AssumedRole", "Service", "*"],
    "aws:userid": ["*", "AROA*", "lambda.amazonaws.com"],
    "aws:SourceIp": ["10.0.0.0/8", "192.0.2.0/24"],
}
_TYPED_VALUES = {
    "Bool": ["true", "false"],
    "Numeric": ["1", "222222222222"],
    "Date": ["2020-01-01T00:00:00Z", "1767312000"],
    "Ip": ["10.0.0.0/8"],
}
_BASES = [
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringNotLike",
    "StringEqualsIgnoreCase",
    "ArnLike",
    "ArnNotLike",
    "ArnEquals",
    "Bool",
    "NumericEquals",
    "NumericNotEquals",
    "NumericLessThan",
    "DateEquals",
    "DateNotEquals",
    "DateGreaterThan",
    "IpAddress",
    "NotIpAddress",
    "BinaryEquals",
]


def _fill(template: str, account: str, region: str) -> str:
    return template.format(account=account, region=region)


def grammar_condition(rng: random.Random, account: str, region: str) -> dict[str, Any]:
    condition: dict[str, Any] = {}
    for _ in range(rng.choice([1, 1, 1, 2])):
        key = rng.choice(list(_CONDITION_KEYS))
        if rng.random() < 0.15:
            condition["Null"] = {key: rng.choice(["true", "false"])}
            continue
        base = rng.choice(_BASES)
        qualifier = rng.choice(["", "", "", "ForAnyValue:", "ForAllValues:"])
        suffix = rng.choice(["", "", "IfExists"])
        family = next((f for f in _TYPED_VALUES if base.removeprefix("Not").startswith(f)), "")
        values = _TYPED_VALUES.get(family) or [
            _fill(t, account, region) for t in _CONDITION_KEYS[key]
        ]
        value: Any = rng.choice(values)
        if rng.random() < 0.25:
            value = [value, _fill(rng.choice(_CONDITION_KEYS[key]), account, region)]
        condition.setdefault(f"{qualifier}{base}{suffix}", {})[
            rng.choice([key, key.lower(), key.upper()])
        ] = value
    return condition


def grammar_resource(rng: random.Random, region: str) -> Any:
    name = REPO_NAME
    return rng.choice(
        [
            "*",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:repository/{name}",
            f"arn:aws:ecr:*:*:repository/{name}",
            f"arn:*:ecr:{region}:{REPO_ACCOUNT}:repository/*",
            f"arn:aws:ecr:us-?ast-1:{REPO_ACCOUNT}:repository/team/*",
            f"arn:aws:ecr:{region}:1111*:repository/*app",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:*",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:*/{name}",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:repositor?/{name}",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:repo*",
            f"arn:aws:ec?:{region}:{REPO_ACCOUNT}:repository/{name}",
            f"arn:aws:*:{region}:{REPO_ACCOUNT}:repository/{name}",
            f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:repository/other",
            f"arn:aws:ecr:{region}:${{aws:PrincipalAccount}}:repository/*",
            [f"arn:aws:ecr:*:{REPO_ACCOUNT}:repository/other", f"arn:aws:ecr:*:*:*/{name}"],
        ]
    )


def grammar_principal(rng: random.Random, account: str) -> Any:
    if rng.random() < 0.03:  # another partition (excluded from the comparison: see EXCLUSIONS)
        return {"AWS": f"arn:aws-cn:iam::{account}:root"}
    return rng.choice(
        [
            "*",
            {"AWS": "*"},
            {"Service": "lambda.amazonaws.com"},
            {"Service": ["ecs.amazonaws.com", "lambda.amazonaws.com"]},
            {"AWS": f"arn:aws:iam::{account}:root"},
            {"AWS": account},
            {"AWS": f"arn:aws:iam::{account}:role/deployer"},
            {"AWS": f"arn:aws:iam::{account}:root", "Service": "lambda.amazonaws.com"},
        ]
    )


_MISSPELT = {"Condition": "Condtion", "Resource": "Resources", "Action": "Actions", "Sid": "SID"}


def grammar_statement(rng: random.Random) -> dict[str, Any]:
    account, region = rng.choice(ACCOUNTS), rng.choice(REGIONS)
    statement: dict[str, Any] = {"Effect": rng.choice(["Allow", "Allow", "Deny"])}
    if statement["Effect"] == "Deny" and rng.random() < 0.3:
        statement["NotPrincipal"] = grammar_principal(rng, account)
        if statement["NotPrincipal"] == "*":
            statement["NotPrincipal"] = {"AWS": "*"}
    else:
        statement["Principal"] = grammar_principal(rng, account)
    if rng.random() < 0.15:
        statement["NotAction"] = rng.choice(["ecr:PutImage", "ecr:BatchGetImage", "s3:*"])
    else:
        statement["Action"] = _pull(rng)
    if rng.random() < 0.4:
        statement[rng.choice(["Resource", "Resource", "NotResource"])] = grammar_resource(
            rng, region
        )
    if rng.random() < 0.7:
        statement["Condition"] = grammar_condition(rng, account, region)
    if rng.random() < 0.04:
        misspellable = [k for k in statement if k in _MISSPELT]
        if misspellable:
            element = rng.choice(misspellable)
            statement[_MISSPELT[element]] = statement.pop(element)
        else:
            statement["Notes"] = "an element outside the grammar"
    return statement


def grammar_policies(count: int, seed: int = 20261204) -> list[tuple[str, dict[str, Any]]]:
    rng = random.Random(seed)
    out: list[tuple[str, dict[str, Any]]] = []
    while len(out) < count:
        statements = [grammar_statement(rng) for _ in range(rng.choice([1, 2, 2, 3, 4]))]
        policy: dict[str, Any] = {"Statement": statements}
        version = rng.choice(["2012-10-17"] * 8 + ["2008-10-17", None])
        if version is not None:
            policy["Version"] = version
        if rng.random() < 0.02:
            policy["Versoin"] = "2012-10-17"
        out.append((f"grammar-{version or 'none'}", policy))
    return out


# ---------------------------------------------------------------------------------------------
# The comparison
# ---------------------------------------------------------------------------------------------

_SIM = {"Allowed": "allow", "ExplicitlyDenied": "deny", "ImplicitlyDenied": "deny"}


def _ours(access: Access) -> str:
    if access in (Access.GRANTED, Access.NOT_NEEDED):
        return "allow"
    if access is Access.UNKNOWN:
        return "unknown"
    if access is Access.INVALID:
        return "invalid"
    return "deny"


def _cases(
    count: int, source: Callable[[int], list[tuple[str, dict[str, Any]]]] = policies
) -> list[dict[str, Any]]:
    rng = random.Random(7)
    cases = []
    for index, (kind, policy) in enumerate(source(count)):
        account = rng.choice(ACCOUNTS)
        region = rng.choice(REGIONS)
        org = rng.choice([None, ORG, OTHER_ORG])
        name = rng.choice(["orders-api", "billing", "orders-worker"])
        cases.append(
            {
                "index": index,
                "kind": kind,
                "policy": policy,
                "account": account,
                "region": region,
                "org": org,
                "function_arn": f"arn:aws:lambda:{region}:{account}:function:{name}",
                "repository_arn": f"arn:aws:ecr:{region}:{REPO_ACCOUNT}:repository/{REPO_NAME}",
            }
        )
    return cases


def _requests(case: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(side, action, simulator request) for one case."""
    out = []
    account = case["account"]
    for action in ECR_PULL_ACTIONS:
        context: dict[str, Any] = {
            "aws:SourceArn": case["function_arn"],
            "aws:SourceAccount": account,
            "aws:PrincipalIsAWSService": "true",
            "aws:PrincipalServiceName": "lambda.amazonaws.com",
            # present in every signed request (IAM user guide); AWS does not document the
            # values Lambda sends, so ours answers "unknown" on any test of them but Null:
            # these placeholders make only their presence comparable
            "aws:PrincipalType": "AWSService",
            "aws:userid": "lambda.amazonaws.com",
        }
        if case["org"]:
            context["aws:SourceOrgID"] = case["org"]
        out.append(
            (
                "service",
                action,
                {
                    "principal": "lambda.amazonaws.com",
                    "action": action,
                    "resource": case["repository_arn"],
                    "resourceAccount": REPO_ACCOUNT,
                    "context": context,
                    "identity": False,
                    "policy": case["policy"],
                },
            )
        )
        role = f"arn:aws:iam::{account}:role/deployer"
        context = {
            "aws:PrincipalAccount": account,
            "aws:PrincipalArn": role,
            "aws:PrincipalIsAWSService": "false",
            "aws:PrincipalType": "AssumedRole",
            "aws:userid": "AROAEXAMPLEID:deployer",
        }
        if case["org"]:
            context["aws:PrincipalOrgID"] = case["org"]
        out.append(
            (
                "deployer",
                action,
                {
                    "principal": role,
                    "action": action,
                    "resource": case["repository_arn"],
                    "resourceAccount": REPO_ACCOUNT,
                    "context": context,
                    "identity": True,
                    "policy": case["policy"],
                },
            )
        )
    return out


def _our_answer(case: dict[str, Any], side: str, action: str) -> str:
    access = evaluate_pull(
        case["policy"],
        function_arn=case["function_arn"],
        function_account=case["account"],
        repository_account=REPO_ACCOUNT,
        organization_id=case["org"],
        repository_arn=case["repository_arn"],
        actions=[action],
    )
    return _ours((access.service if side == "service" else access.root).access)


def _excluded(case: dict[str, Any]) -> str | None:
    for statement in case["policy"].get("Statement", []):
        if (
            isinstance(statement, dict)
            and statement.get("Effect") == "Allow"
            and "NotPrincipal" in statement
        ):
            return "allow-notprincipal"
    for statement in case["policy"].get("Statement", []):
        principal = statement.get("Principal", statement.get("NotPrincipal"))
        if isinstance(principal, dict) and any(
            str(value).startswith("arn:") and not str(value).startswith("arn:aws:")
            for value in _listed(principal.get("AWS"))
        ):
            return "other-partition-principal"
    if case["policy"].get("Version") != "2012-10-17" and "${" in json.dumps(case["policy"]):
        return "variables-before-2012"
    return None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [] if value is None else [value]


@pytest.fixture(scope="module")
def simulator() -> Iterator[Simulator]:
    if not SIMULATOR.is_dir():
        pytest.fail("npm ci has not installed @cloud-copilot/iam-simulate: run `make setup`")
    sim = Simulator()
    yield sim
    sim.close()


def _compare(simulator: Simulator, cases: list[dict[str, Any]], label: str) -> Counter[str]:
    """Ask both evaluators every case; print the counts and the first disagreements."""
    asked: list[tuple[dict[str, Any], str, str, dict[str, Any]]] = []
    for case in cases:
        for side, action, request in _requests(case):
            asked.append((case, side, action, request))
    answers = simulator.ask_all([{"id": i, **r} for i, (_, _, _, r) in enumerate(asked)])
    counts: Counter[str] = Counter()
    disagreements = []
    for (case, side, action, _), answer in zip(asked, answers, strict=True):
        ours = _our_answer(case, side, action)
        excluded = _excluded(case)
        theirs = _SIM.get(answer["result"], answer["result"])
        if excluded is not None:
            counts[f"excluded:{excluded}"] += 1
        elif ours == "invalid":
            counts["invalid (ours)" + (", simulator rejects too" if theirs == "error" else "")] += 1
        elif theirs == "error":
            counts["excluded:simulator-rejects"] += 1
        elif ours == "unknown":
            counts["unknown"] += 1
        elif ours == theirs:
            counts["agreeing"] += 1
        else:
            counts["disagreeing"] += 1
            disagreements.append((case["kind"], side, action, ours, theirs, case))
    print(f"\ndifferential test against iam-simulate ({label}):", dict(sorted(counts.items())))
    shown: set[str] = set()
    for kind, side, action, ours, theirs, case in disagreements:
        signature = json.dumps(case["policy"], sort_keys=True)
        if signature in shown or len(shown) >= 8:
            continue
        shown.add(signature)
        print(kind, side, action, "ours", ours, "simulator", theirs)
        print(
            json.dumps({k: case[k] for k in ("policy", "account", "region", "org", "function_arn")})
        )
    assert not disagreements, f"{len(disagreements)} disagreements (first shown above)"
    for key in counts:
        if key.startswith("excluded:"):
            assert key.removeprefix("excluded:") in EXCLUSIONS
    return counts


def test_our_evaluator_agrees_with_iam_simulate(simulator: Simulator) -> None:
    cases = _cases(MIN_CASES)
    assert len(cases) >= MIN_CASES
    counts = _compare(simulator, cases, "mutated policies")
    assert counts["invalid (ours)"] == 0  # every policy we call invalid, the simulator rejects
    assert counts["agreeing"] >= MIN_CASES


def test_the_grammar_generator_agrees_with_iam_simulate(simulator: Simulator) -> None:
    cases = _cases(MIN_CASES, grammar_policies)
    counts = _compare(simulator, cases, "grammar")
    assert counts["invalid (ours)"] == 0
    assert counts["agreeing"] >= MIN_CASES
    assert counts["unknown"] >= MIN_CASES // 2  # the corners are generated, and answered unknown
    assert counts["invalid (ours), simulator rejects too"] > 0  # misspelt elements generated
