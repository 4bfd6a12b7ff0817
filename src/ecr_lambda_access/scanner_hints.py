"""The scanner acknowledgements the library itself decides, each with its reason.

cdk-nag (``Validations.of(...).acknowledge``) and checkov (``Metadata.checkov.skip``) findings
about something this library chose are acknowledged here, next to the reason: the X-Ray and VPC
``Resource '*'`` policies, the ``:*`` (log streams) of the function's own log group, the event
source mapping's missing on-failure destination (SQS has none), and in repository.py
organization mode's ``*`` principal (ECR1) and AES-256 (checkov CKV_AWS_136). Findings about
what the user chooses (no VPC, no reserved concurrency, no function dead-letter queue, no log
group key) stay: they are the user's to acknowledge (docs/scanners.md).
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from constructs import IConstruct

from ._annotations import skip_checkov

__all__ = [  # and ACK_XRAY, ACK_VPC, ACK_ESM_DESTINATION (module __getattr__: made on first use)
    "acknowledge",
    "log_streams_acknowledgment",
    "skip_vpc_policy_checks",
]

_ACKNOWLEDGMENTS: dict[str, tuple[str, str]] = {
    "ACK_XRAY": (
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "X-Ray's xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level "
        "permissions: AWS requires Resource '*'. This policy holds only those two actions.",
    ),
    "ACK_VPC": (
        "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        "Lambda creates the function's VPC network interfaces with the execution role; "
        "ec2:CreateNetworkInterface, ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets only "
        "work on Resource '*' and the interface ids are not known in advance. This policy holds "
        "only the six actions of AWSLambdaVPCAccessExecutionRole's EC2 part.",
    ),
    "ACK_ESM_DESTINATION": (
        "Serverless::Serverless-LambdaEventSourceMappingDestination",
        "An SQS event source mapping has no on-failure destination (Lambda supports one for "
        "stream and Kafka sources only); failed messages return to the queue and move to its "
        "redrive dead-letter queue after maxReceiveCount receives.",
    ),
}
"""The library's own acknowledgements (``ACK_XRAY``, ``ACK_VPC``, ``ACK_ESM_DESTINATION``): made on
first use, not at import (the first jsii struct of a process loads jsii's type checking, about
70 ms, which an import of the constructs need not pay)."""
_MADE: dict[str, Acknowledgment] = {}


def __getattr__(name: str) -> Acknowledgment:
    if name not in _ACKNOWLEDGMENTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _MADE:
        ack_id, reason = _ACKNOWLEDGMENTS[name]
        _MADE[name] = Acknowledgment(id=ack_id, reason=reason)
    return _MADE[name]


def log_streams_acknowledgment(resolved_arn: Any) -> Acknowledgment:
    """IAM5 for the ``:*`` of the function's own log group ARN (its log streams).

    ``resolved_arn`` is the ARN as the template holds it; cdk-nag names the finding after it
    (``Ref`` written ``<Name>``).
    """
    return Acknowledgment(
        id=f"AwsSolutions::AwsSolutions-IAM5[Resource::{_nag_text(resolved_arn)}]",
        reason=(
            "logs:CreateLogStream and logs:PutLogEvents on the function's own log group "
            "(/aws/lambda/<function name>): Lambda names the log streams at run time, so the "
            "ARN ends with ':*' (the streams of that one group, nothing else)."
        ),
    )


def _nag_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_nag_text(part) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return f"<{value['Ref']}>"
    return str(value)


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
