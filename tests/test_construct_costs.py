"""What the constructs keep in Python to stay cheap (issue 18), and that it never leaks.

Each stack's environment is read from JavaScript once and kept per stack object
(``_stack_facts``); a repository's policy size is checked with a running bound and rendered only
near ECR's limit. Two apps with different environments in one process must not see each other's
values, and the size error must come at the same consumer as an exact render says.
"""

from __future__ import annotations

import json
from typing import Any

import aws_cdk as cdk
import pytest
from support import DIGEST, env, new_app, template_json

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    LambdaConsumer,
    PolicyTooLargeError,
    policy,
)


def _build(registry: str, workload: str, region: str) -> tuple[cdk.Stack, cdk.Stack, Any]:
    """The same construct paths in every app: only the environment differs."""
    app = new_app()
    registry_stack = cdk.Stack(app, "Registry", env=env(registry, region))
    repo = CrossAccountImageRepo(registry_stack, "Images", repository_name="shared/orders")
    workload_stack = cdk.Stack(app, "Workload", env=env(workload, region))
    function = ContainerFunction(
        workload_stack, "Worker", repository=repo, tag_or_digest=DIGEST, function_name="worker"
    )
    return registry_stack, workload_stack, function


def _policy_text(stack: cdk.Stack) -> str:
    (repository,) = [
        r for r in template_json(stack)["Resources"].values() if r["Type"] == "AWS::ECR::Repository"
    ]
    return json.dumps(repository["Properties"]["RepositoryPolicyText"])


def _role_policies(stack: cdk.Stack) -> str:
    return json.dumps(
        [r for r in template_json(stack)["Resources"].values() if r["Type"] == "AWS::IAM::Policy"]
    )


def test_two_apps_with_other_environments_in_one_process_keep_their_own_values() -> None:
    first = _build("111111111111", "222222222222", "us-east-1")
    second = _build("444444444444", "555555555555", "cn-north-1")
    # Built interleaved with a third app of the first app's environment: nothing cached for one
    # app's stacks (same paths, same ids) may show up in another's.
    third = _build("111111111111", "222222222222", "us-east-1")

    for (registry, workload, function), (reg_account, account, region, partition) in (
        (first, ("111111111111", "222222222222", "us-east-1", "aws")),
        (second, ("444444444444", "555555555555", "cn-north-1", "aws-cn")),
        (third, ("111111111111", "222222222222", "us-east-1", "aws")),
    ):
        assert function.image_uri.startswith(f"{reg_account}.dkr.ecr.{region}.")
        assert function.repository_arn == (
            f"arn:{partition}:ecr:{region}:{reg_account}:repository/shared/orders"
        )
        text = _policy_text(registry)
        assert f"arn:{partition}:iam::{account}:root" in text
        assert f"arn:{partition}:lambda:{region}:{account}:function:worker" in text
        roles = _role_policies(workload)
        assert f"arn:{partition}:logs:{region}:{account}:log-group:/aws/lambda/worker:*" in roles
        other = "555555555555" if account == "222222222222" else "222222222222"
        assert other not in text and other not in roles


def _names(count: int) -> list[str]:
    return [f"f{index:03d}-" + "x" * 55 for index in range(count)]


def _exact_fits(consumers: list[LambdaConsumer]) -> bool:
    document = policy.repository_policy(
        consumers, repository_account="111111111111", region="us-east-1"
    )
    return policy.policy_length(document) <= policy.ECR_POLICY_MAX_CHARS


def test_the_size_error_comes_at_the_first_consumer_an_exact_render_refuses() -> None:
    app = new_app()
    stack = cdk.Stack(app, "Registry", env=env())
    repo = CrossAccountImageRepo(stack, "Images", repository_name="shared/orders")
    added: list[LambdaConsumer] = []
    for name in _names(400):
        consumer = LambdaConsumer(account="222222222222", function_name=name)
        if not _exact_fits([*added, consumer]):
            with pytest.raises(PolicyTooLargeError) as raised:
                repo.add_consumer(consumer)
            assert raised.value.construct_path == "Registry/Images"
            assert list(repo.consumers) == added  # the refused consumer is not kept
            break
        repo.add_consumer(consumer)
        added.append(consumer)
    else:
        pytest.fail("400 function names never exceeded the limit")
    # Duplicates and covered patterns add nothing, even at the limit.
    repo.add_consumer(added[0], added[-1])
    assert len(repo.consumers) == len(added) + 2


def test_functions_registering_near_the_limit_fail_with_the_function_path() -> None:
    app = new_app()
    registry = cdk.Stack(app, "Registry", env=env())
    repo = CrossAccountImageRepo(registry, "Images", repository_name="shared/orders")
    filler = [LambdaConsumer(account="222222222222", function_name=n) for n in _names(400)]
    fitting = []
    for consumer in filler:
        if not _exact_fits([*fitting, consumer, LambdaConsumer("222222222222", "w" * 64)]):
            break
        fitting.append(consumer)
    repo.add_consumer(*fitting)
    workload = cdk.Stack(app, "Workload", env=env("222222222222"))
    ContainerFunction(
        workload, "Fits", repository=repo, tag_or_digest=DIGEST, function_name="w" * 64
    )
    with pytest.raises(PolicyTooLargeError) as raised:
        ContainerFunction(
            workload, "TooMany", repository=repo, tag_or_digest=DIGEST, function_name="v" * 64
        )
    assert raised.value.construct_path == "Registry/Images"
