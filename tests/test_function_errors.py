"""ContainerFunction: bad input fails before deploy, with one error naming every problem.

No test here synthesizes: the errors are raised while the constructs are built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from support import DIGEST, REGION, REGISTRY, WORKLOAD, env, new_app

from ecr_lambda_access import (
    ContainerFunction,
    CrossAccountImageRepo,
    EcrLambdaAccessError,
    InvalidFunctionNameError,
    InvalidImageReferenceError,
    InvalidRepositoryError,
    QueueConfigurationError,
    RegionMismatchError,
)

pytestmark = pytest.mark.synth

ARN = f"arn:aws:ecr:{REGION}:{REGISTRY}:repository/shared/orders"


def stack(account: str = WORKLOAD, region: str = REGION, app: cdk.App | None = None) -> cdk.Stack:
    return cdk.Stack(app or new_app(), f"S{account}{region}", env=env(account, region))


def make(**overrides: Any) -> ContainerFunction:
    props: dict[str, Any] = {"repository": ARN, "tag_or_digest": DIGEST, **overrides}
    scope = props.pop("scope", None) or stack()
    return ContainerFunction(scope, "Fn", **props)


# --------------------------------------------------------------------------------------------
# Image references
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("sha256:" + "a1" * 31, "62 characters after 'sha256:'"),
        ("sha256:" + "A1" * 32, "64 lowercase hex"),
        ("sha256:" + "g1" * 32, "64 lowercase hex"),
        ("", "it is empty"),
        ("v1 2", "holds only letters"),
        ("-v1", "starts with a letter, digit or '_'"),
        ("v" * 129, "129 characters long"),
    ],
)
def test_bad_tag_or_digest_names_the_value(value: str, expected: str) -> None:
    with pytest.raises(InvalidImageReferenceError) as error:
        make(tag_or_digest=value)
    assert "tag_or_digest" in str(error.value)
    assert repr(value) in str(error.value)
    assert expected in str(error.value)


def test_tag_or_digest_token_is_accepted_and_sha256_prefix_selects_the_digest_form() -> None:
    scope = stack()
    digest = cdk.CfnParameter(scope, "Digest").value_as_string
    tag = cdk.CfnParameter(scope, "Tag").value_as_string
    by_digest = ContainerFunction(
        scope, "ByDigest", repository=ARN, tag_or_digest=f"sha256:{digest}"
    )
    by_tag = ContainerFunction(scope, "ByTag", repository=ARN, tag_or_digest=tag)
    assert "/shared/orders@sha256:" in by_digest.image_uri
    assert by_tag.image_uri.endswith(f"/shared/orders:{tag}")


def test_latest_tag_warns_with_its_id() -> None:
    fn = make(tag_or_digest="latest")
    warnings = [str(m.data) for m in fn.node.metadata if m.type == "aws:cdk:warning"]
    assert len(warnings) == 1
    assert "ecr-lambda-access:latestTag" in warnings[0]
    assert "resolves a tag to an image digest once" in warnings[0]
    infos = [str(m.data) for m in fn.node.metadata if m.type == "aws:cdk:info"]
    assert not any("tag_or_digest" in i for i in infos)


# --------------------------------------------------------------------------------------------
# Repositories
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        f"{REGISTRY}.dkr.ecr.{REGION}.amazonaws.com/shared/orders",
        "shared/orders",
        f"arn:aws:s3:::{REGISTRY}-bucket",
        f"arn:aws:ecr:{REGION}:12345:repository/x",
        "",
    ],
)
def test_non_arn_repository_string_names_the_value(value: str) -> None:
    with pytest.raises(InvalidRepositoryError) as error:
        make(repository=value)
    assert repr(value) in str(error.value)
    assert "ECR repository ARN" in str(error.value)


def test_repository_of_a_wrong_type_is_refused() -> None:
    with pytest.raises(InvalidRepositoryError, match=r"got 42 \(int\)"):
        make(repository=42)


def test_repository_arn_in_another_region() -> None:
    other = f"arn:aws:ecr:eu-west-1:{REGISTRY}:repository/shared/orders"
    with pytest.raises(RegionMismatchError) as error:
        make(repository=other)
    message = str(error.value)
    assert other in message and "eu-west-1" in message and REGION in message
    assert "replicat" in message.lower()


def test_cross_account_image_repo_in_another_region() -> None:
    app = new_app()
    repo = CrossAccountImageRepo(
        stack(REGISTRY, "eu-west-1", app), "Repo", repository_name="shared/r"
    )
    with pytest.raises(RegionMismatchError, match="eu-west-1"):
        ContainerFunction(stack(app=app), "Fn", repository=repo, tag_or_digest=DIGEST)
    assert repo.consumers == ()  # nothing was registered


def test_imported_repository_in_another_region() -> None:
    scope = stack()
    repo = ecr.Repository.from_repository_arn(
        scope, "Imported", f"arn:aws:ecr:eu-west-1:{REGISTRY}:repository/x"
    )
    with pytest.raises(RegionMismatchError, match="eu-west-1"):
        ContainerFunction(scope, "Fn", repository=repo, tag_or_digest=DIGEST)


def test_env_agnostic_consumer_of_an_env_bound_repository_is_refused() -> None:
    app = new_app()
    repo = CrossAccountImageRepo(stack(REGISTRY, app=app), "Repo", repository_name="shared/r")
    agnostic = cdk.Stack(app, "Agnostic")
    with pytest.raises(InvalidRepositoryError, match="explicit env"):
        ContainerFunction(agnostic, "Fn", repository=repo, tag_or_digest=DIGEST)


def test_env_agnostic_single_stack_wires_with_tokens() -> None:
    app = new_app()
    agnostic = cdk.Stack(app, "Agnostic")
    repo = CrossAccountImageRepo(agnostic, "Repo")
    fn = ContainerFunction(agnostic, "Fn", repository=repo, tag_or_digest=DIGEST)
    assert fn.is_wired
    (consumer,) = repo.consumers
    assert consumer.function_name == fn.literal_function_name
    assert cdk.Token.is_unresolved(consumer.account)


# --------------------------------------------------------------------------------------------
# Function names and options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("orders api", "' '"),
        ("orders.api", "'.'"),
        ("x" * 65, "65 characters long"),
        ("", "it is empty"),
    ],
)
def test_bad_function_name_names_the_value(value: str, expected: str) -> None:
    with pytest.raises(InvalidFunctionNameError) as error:
        make(function_name=value)
    assert "function_name" in str(error.value)
    assert repr(value) in str(error.value)
    assert expected in str(error.value)


def test_function_name_token_is_accepted_in_one_stack() -> None:
    scope = stack()
    name = cdk.CfnParameter(scope, "Name").value_as_string
    fn = ContainerFunction(scope, "Fn", repository=ARN, tag_or_digest=DIGEST, function_name=name)
    assert fn.literal_function_name == name


def test_function_name_token_across_stacks_is_refused() -> None:
    app = new_app()
    repo = CrossAccountImageRepo(stack(REGISTRY, app=app), "Repo", repository_name="shared/r")
    consumer = stack(app=app)
    name = cdk.CfnParameter(consumer, "Name").value_as_string
    with pytest.raises(InvalidFunctionNameError, match="literal"):
        ContainerFunction(consumer, "Fn", repository=repo, tag_or_digest=DIGEST, function_name=name)


def test_generated_name_is_deterministic_valid_and_short() -> None:
    def name() -> str:
        app = new_app()
        scope: Construct = cdk.Stack(app, "A" * 120, env=env(WORKLOAD))
        for _ in range(5):
            scope = Construct(scope, "Group.With-Dots_" + "G" * 30)
        return ContainerFunction(
            scope, "Fn", repository=ARN, tag_or_digest=DIGEST
        ).literal_function_name

    first, second = name(), name()
    assert first == second
    assert len(first) <= 64
    assert all(c.isalnum() or c in "-_" for c in first), first


def test_every_problem_of_one_call_is_reported_at_once() -> None:
    with pytest.raises(EcrLambdaAccessError) as error:
        make(
            repository="not-an-arn",
            tag_or_digest="sha256:beef",
            function_name="bad name",
            log_group=logs.LogGroup.from_log_group_name(stack(), "L", "x"),
            log_retention=logs.RetentionDays.ONE_DAY,
        )
    assert len(error.value.violations) == 4
    message = str(error.value)
    for fragment in ("'not-an-arn'", "'sha256:beef'", "'bad name'", "log_retention"):
        assert fragment in message


# --------------------------------------------------------------------------------------------
# SQS sources
# --------------------------------------------------------------------------------------------


def _sqs_case(
    timeout: int = 30, **queue_props: Any
) -> tuple[ContainerFunction, cdk.Stack, Callable[..., sqs.Queue]]:
    scope = stack()
    fn = make(scope=scope, timeout=cdk.Duration.seconds(timeout))

    def queue(id: str = "Q", **extra: Any) -> sqs.Queue:
        return sqs.Queue(scope, id, **{**queue_props, **extra})

    return fn, scope, queue


def test_function_timeout_longer_than_visibility_timeout() -> None:
    fn, _, queue = _sqs_case(timeout=60)
    with pytest.raises(QueueConfigurationError) as error:
        fn.add_sqs_source(queue(visibility_timeout=cdk.Duration.seconds(45)))
    message = str(error.value)
    assert "60 s" in message and "45 s" in message and "360 s" in message


def test_default_visibility_timeout_of_30_seconds_is_checked() -> None:
    fn, _, queue = _sqs_case(timeout=31)
    with pytest.raises(QueueConfigurationError, match=r"\(30 s\)"):
        fn.add_sqs_source(queue())


def test_queue_in_another_region() -> None:
    fn, scope, _ = _sqs_case()
    other = sqs.Queue.from_queue_arn(scope, "Far", f"arn:aws:sqs:eu-west-1:{WORKLOAD}:jobs")
    with pytest.raises(QueueConfigurationError, match="eu-west-1"):
        fn.add_sqs_source(other)


def test_queue_added_twice() -> None:
    fn, _, queue = _sqs_case()
    jobs = queue(visibility_timeout=cdk.Duration.seconds(180))
    fn.add_sqs_source(jobs)
    with pytest.raises(QueueConfigurationError, match="already a source"):
        fn.add_sqs_source(jobs)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"batch_size": 0}, "batch_size must be 1 to 10,000"),
        ({"batch_size": 10_001}, "got 10001"),
        ({"batch_size": 50}, "batch_size=50 needs max_batching_window"),
        ({"max_batching_window": cdk.Duration.seconds(301)}, "at most 300 seconds, got 301 s"),
        ({"max_concurrency": 1}, "max_concurrency must be 2 to 1,000, got 1"),
    ],
)
def test_batching_options_out_of_range(options: dict[str, Any], expected: str) -> None:
    fn, _, queue = _sqs_case()
    with pytest.raises(QueueConfigurationError) as error:
        fn.add_sqs_source(queue(visibility_timeout=cdk.Duration.seconds(180)), **options)
    assert expected in str(error.value)


def test_fifo_queue_limits() -> None:
    fn, _, queue = _sqs_case()
    fifo = queue(fifo=True, visibility_timeout=cdk.Duration.seconds(180))
    with pytest.raises(QueueConfigurationError) as error:
        fn.add_sqs_source(fifo, batch_size=11, max_batching_window=cdk.Duration.seconds(1))
    assert len(error.value.violations) == 2
    assert "FIFO" in str(error.value)


def _warnings(fn: ContainerFunction) -> list[str]:
    return [str(m.data) for m in fn.node.metadata if m.type == "aws:cdk:warning"]


def test_short_visibility_and_no_redrive_warn() -> None:
    fn, _, queue = _sqs_case(timeout=30)
    fn.add_sqs_source(queue(visibility_timeout=cdk.Duration.seconds(60)))
    warnings = _warnings(fn)
    assert len(warnings) == 2
    assert "ecr-lambda-access:sqsVisibilityTimeout" in warnings[0] and "180 s" in warnings[0]
    assert "ecr-lambda-access:sqsNoRedrivePolicy" in warnings[1]


def test_low_max_receive_count_warns() -> None:
    fn, scope, queue = _sqs_case(timeout=30)
    dlq = sqs.Queue(scope, "Dlq")
    fn.add_sqs_source(
        queue(
            visibility_timeout=cdk.Duration.seconds(180),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=2),
        )
    )
    (warning,) = _warnings(fn)
    assert "ecr-lambda-access:sqsMaxReceiveCount" in warning and "after 2 receives" in warning


def test_well_configured_queue_does_not_warn() -> None:
    fn, scope, queue = _sqs_case(timeout=30)
    dlq = sqs.Queue(scope, "Dlq")
    fn.add_sqs_source(
        queue(
            visibility_timeout=cdk.Duration.seconds(180),
            dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5),
        )
    )
    assert _warnings(fn) == []


def test_imported_queue_says_what_was_not_checked() -> None:
    fn, scope, _ = _sqs_case()
    imported = sqs.Queue.from_queue_arn(scope, "Imp", f"arn:aws:sqs:{REGION}:{WORKLOAD}:jobs")
    fn.add_sqs_source(imported)
    (warning,) = _warnings(fn)
    assert "ecr-lambda-access:sqsQueueNotChecked" in warning
    for fragment in ("visibility timeout", "redrive policy", "encryption", "key_arn"):
        assert fragment in warning


def test_visibility_timeout_token_is_skipped() -> None:
    fn, scope, queue = _sqs_case(timeout=60)
    seconds = cdk.CfnParameter(scope, "Visibility", type="Number").value_as_number
    jobs = queue()
    cfn = jobs.node.default_child
    assert isinstance(cfn, sqs.CfnQueue)
    cfn.visibility_timeout = seconds
    fn.add_sqs_source(jobs)  # no error: checked by Lambda at deploy time
