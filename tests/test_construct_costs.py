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
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from constructs import Construct
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


_FIX = (
    "the Lambda service pulls the image through the repository policy; an execution role never "
    "needs an ecr: action. Remove the grant (or pass role= to use a role of your own)."
)


def test_ecr_actions_granted_to_own_roles_fail_synth_under_each_function_path(
    tmp_path: Any,
) -> None:
    """One validation per stack checks every function's own role (issue 18); the error is the
    one each function's own validation gave: under the function's path, naming the policy,
    in tree order, before anything is written, and again (not twice) on a second synth."""
    app = new_app(tmp_path / "out")
    first = cdk.Stack(app, "S1", env=env("222222222222"))
    second = cdk.Stack(app, "S2", env=env("333333333333"))
    arn = "arn:aws:ecr:us-east-1:111111111111:repository/x"
    repo = ecr.Repository.from_repository_arn(first, "R", arn)

    def function(scope: Construct, id: str, **options: Any) -> ContainerFunction:
        return ContainerFunction(scope, id, repository=arn, image_digest=DIGEST, **options)

    granted = function(first, "A", function_name="a")
    function(first, "Ok", function_name="ok")
    nested = function(Construct(first, "Nest"), "B", function_name="b")
    attached = function(second, "C")
    mine = iam.Role(second, "Mine", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    not_ours = function(second, "D", role=mine)  # role=: the role is the user's, not checked

    repo.grant_pull(granted)
    assert nested.role is not None and attached.role is not None
    nested.role.add_to_principal_policy(
        iam.PolicyStatement(actions=["ECR:GetAuthorizationToken", "s3:GetObject"], resources=["*"])
    )
    attached.role.attach_inline_policy(
        iam.Policy(
            attached,
            "Extra",
            statements=[iam.PolicyStatement(actions=["ecr:Describe*"], resources=["*"])],
        )
    )
    assert attached.tracing_policy is not None
    attached.tracing_policy.add_statements(iam.PolicyStatement(actions=["*"], resources=["*"]))
    mine.add_to_principal_policy(iam.PolicyStatement(actions=["ecr:*"], resources=["*"]))
    assert not_ours.owns_role is False

    lines = (
        "[S1/A] the execution role is granted ['ecr:BatchCheckLayerAvailability', "
        "'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'] by "
        "S1/A/ServiceRole/DefaultPolicy/Resource: ",
        "[S1/A] the execution role is granted ['ecr:GetAuthorizationToken'] by "
        "S1/A/ServiceRole/DefaultPolicy/Resource: ",
        "[S1/Nest/B] the execution role is granted ['ECR:GetAuthorizationToken'] by "
        "S1/Nest/B/ServiceRole/DefaultPolicy/Resource: ",
        "[S2/C] the execution role is granted ['*'] by S2/C/TracingPolicy/Resource: ",
        "[S2/C] the execution role is granted ['ecr:Describe*'] by S2/C/Extra/Resource: ",
    )
    expected = "ValidationFailedWithErrors: Validation failed with the following errors:" + "".join(
        f"\n  {line}{_FIX}" for line in lines
    )
    for _ in range(2):
        with pytest.raises(RuntimeError) as caught:
            app.synth()
        assert str(caught.value) == expected
    assert not list((tmp_path / "out").glob("*.template.json"))


def test_stacks_without_findings_synthesize_and_keep_no_managed_policy() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env("222222222222"))
    arn = "arn:aws:ecr:us-east-1:111111111111:repository/x"
    for index in range(3):
        fn = ContainerFunction(
            stack, f"F{index}", repository=arn, image_digest=DIGEST, function_name=f"f{index}"
        )
    assert fn.role is not None
    fn.role.add_managed_policy(iam.ManagedPolicy.from_aws_managed_policy_name("ReadOnlyAccess"))
    roles = [r for r in template_json(stack)["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) == 3
    arns = [json.dumps(r["Properties"].get("ManagedPolicyArns")) for r in roles]
    assert arns[:2] == ["null", "null"]
    assert "ReadOnlyAccess" in arns[2] and "AWSLambdaBasicExecutionRole" not in arns[2]


def test_the_logs_statement_stays_after_what_the_caller_and_function_add() -> None:
    """The logs statement goes in as initial_policy's last statement only when nothing
    aws_lambda.Function adds comes after initial_policy; with a dead-letter queue it is added
    after the queue's statement, as before (issue 18)."""
    app = new_app()
    stack = cdk.Stack(app, "S", env=env("222222222222"))
    arn = "arn:aws:ecr:us-east-1:111111111111:repository/x"
    for id, options in (("Plain", {}), ("Dlq", {"dead_letter_queue_enabled": True})):
        ContainerFunction(
            stack,
            id,
            repository=arn,
            image_digest=DIGEST,
            function_name=id.lower(),
            initial_policy=[
                iam.PolicyStatement(sid="Mine", actions=["s3:GetObject"], resources=["*"])
            ],
            **options,  # type: ignore[arg-type]
        )
    order = {
        logical_id.split("ServiceRole")[0]: [
            statement.get("Sid") or statement["Action"]
            for statement in resource["Properties"]["PolicyDocument"]["Statement"]
        ]
        for logical_id, resource in template_json(stack)["Resources"].items()
        if "DefaultPolicy" in logical_id
    }
    assert order == {
        "Plain": ["Mine", "WriteLogs"],
        "Dlq": ["Mine", "sqs:SendMessage", "WriteLogs"],
    }


def test_functions_running_one_image_share_its_code_object_and_keep_their_own_options() -> None:
    app = new_app()
    stack = cdk.Stack(app, "S", env=env("222222222222"))
    arn = "arn:aws:ecr:us-east-1:111111111111:repository/x"
    for id, options in (("A", {}), ("B", {}), ("C", {"cmd": ["run.handler"]})):
        ContainerFunction(
            stack,
            id,
            repository=arn,
            image_digest=DIGEST,
            function_name=id.lower(),
            **options,  # type: ignore[arg-type]
        )
    from ecr_lambda_access._stack_facts import stack_state

    codes = stack_state(stack, "ecr-lambda-access:image-codes", dict)
    assert len(codes) == 2  # A and B share one; C's command makes it another
    functions = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in template_json(stack)["Resources"].values()
        if r["Type"] == "AWS::Lambda::Function"
    }
    assert {name: p.get("ImageConfig") for name, p in functions.items()} == {
        "a": None,
        "b": None,
        "c": {"Command": ["run.handler"]},
    }
    assert len({json.dumps(p["Code"]) for p in functions.values()}) == 1
