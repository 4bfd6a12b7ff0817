"""The scanner acknowledgements the library itself decides, each with its reason.

cdk-nag (``Validations.of(...).acknowledge``) and checkov (``Metadata.checkov.skip``) findings
about something this library chose are acknowledged here, next to the reason. Findings about
what the user chooses are the user's to acknowledge (README: "Your own scanner findings").
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import IConstruct

from ._annotations import skip_checkov

__all__ = [
    "ACK_XRAY",
    "ACK_VPC",
    "ACK_FUNCTION_DLQ",
    "ACK_ESM_DESTINATION",
    "acknowledge",
    "skip_vpc_policy_checks",
    "skip_choice_checks",
    "skip_sqs_function_dlq",
]

ACK_XRAY = Acknowledgment(
    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    reason=(
        "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level "
        "permissions: AWS requires Resource '*'. This policy holds only those two actions."
    ),
)
ACK_VPC = Acknowledgment(
    id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
    reason=(
        "Lambda creates the function's VPC network interfaces with the execution role; "
        "ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets only "
        "work on Resource '*' and the interface ids are not known in advance. This policy holds "
        "only the six actions of AWSLambdaVPCAccessExecutionRole's EC2 part."
    ),
)
ACK_FUNCTION_DLQ = Acknowledgment(
    id="Serverless::Serverless-LambdaDLQ",
    reason=(
        "The function is triggered by an SQS event source mapping, which invokes it "
        "synchronously; a function dead-letter queue only receives failed asynchronous "
        "invocations. Messages that keep failing go to the source queue's redrive "
        "dead-letter queue (ContainerFunction.add_sqs_source warns when it has none)."
    ),
)
ACK_ESM_DESTINATION = Acknowledgment(
    id="Serverless::Serverless-LambdaEventSourceMappingDestination",
    reason=(
        "An SQS event source mapping has no on-failure destination (Lambda supports one for "
        "stream and Kafka sources only); failed messages return to the queue and move to its "
        "redrive dead-letter queue after maxReceiveCount receives."
    ),
)


def acknowledge(construct: IConstruct, acknowledgment: Acknowledgment) -> None:
    Validations.of(construct).acknowledge(acknowledgment)


def skip_vpc_policy_checks(policy: iam.Policy) -> None:
    cfn_vpc_policy = policy.node.default_child
    assert isinstance(cfn_vpc_policy, iam.CfnPolicy)
    skip_checkov(
        cfn_vpc_policy,
        "CKV_AWS_111",
        "Lambda creates and deletes the function's VPC network interfaces with the "
        "execution role; the interface ids are not known in advance, so the EC2 actions "
        "take Resource '*' (the EC2 part of AWSLambdaVPCAccessExecutionRole).",
    )


def skip_choice_checks(
    cfn_function: lambda_.CfnFunction,
    log_group: logs.ILogGroup,
    *,
    log_group_created: bool,
    log_encrypted: bool,
    in_vpc: bool,
    reserved: bool,
) -> None:
    """checkov skips, with the reason, for defaults that are the caller's choice.

    Each skip is recorded only while the default is in effect: passing the option makes the
    check apply (and pass) again.
    """
    if not in_vpc:
        skip_checkov(
            cfn_function,
            "CKV_AWS_117",
            "No VPC by default: the function needs no private network access unless the "
            "caller passes vpc= (the role then gets Lambda's network-interface actions).",
        )
    if not reserved:
        skip_checkov(
            cfn_function,
            "CKV_AWS_115",
            "Reserved concurrency is a capacity decision that also caps the function; pass "
            "reserved_concurrent_executions= (an SQS source's max_concurrency bounds a queue).",
        )
    if log_group_created and not log_encrypted:
        cfn_log_group = log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        skip_checkov(
            cfn_log_group,
            "CKV_AWS_158",
            "CloudWatch Logs encrypts log data at rest by default; a customer-managed key is "
            "opt-in (log_encryption_key=).",
        )


def skip_sqs_function_dlq(cfn_function: lambda_.CfnFunction) -> None:
    """An SQS-triggered function without a function DLQ."""
    if cfn_function.dead_letter_config is None:
        Validations.of(cfn_function).acknowledge(ACK_FUNCTION_DLQ)
        skip_checkov(
            cfn_function,
            "CKV_AWS_116",
            "SQS-triggered: the function is invoked synchronously by the event source "
            "mapping; failed messages go to the source queue's redrive dead-letter queue",
        )
