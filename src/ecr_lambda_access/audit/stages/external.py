"""A repository outside the assembly: ``external`` with the statements its owner must write, or
``unverifiable`` when the image or the function's environment is known only at deploy time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import policy
from ...policy import LambdaConsumer
from ...policy.size import partition_of_region
from ..checks.external import ID as EXTERNAL
from ..checks.unverifiable import ID as UNVERIFIABLE
from ..model import ModelImage
from ..results import FunctionReport
from ..values import Unknown, reasons
from .draft import Draft

__all__ = ["external_or_unverifiable"]


def external_or_unverifiable(draft: Draft, image: ModelImage, why_not: str) -> FunctionReport:
    report, name = draft.report, draft.name
    account = draft.env.account
    repository_arn = str(image.repository_arn(draft.env.partition))
    if (isinstance(image.account, Unknown) and image.account != account) or isinstance(
        image.repository, Unknown
    ):
        return report(
            UNVERIFIABLE,
            f"the image {image.uri} is not known before deploy: "
            + (
                why_not
                or "its account or repository name is a deploy-time value "
                f"({reasons(image.account, image.repository)})"
            ),
            repository=repository_arn,
        )
    if why_not and ("deploy time" in why_not):
        return report(UNVERIFIABLE, why_not, repository=repository_arn)
    same_account = image.account == account
    consumer = LambdaConsumer(
        account=str(account), function_name=name if isinstance(name, str) else None
    )
    statements: tuple[Mapping[str, Any], ...] = ()
    if isinstance(account, str) and isinstance(image.region, str):
        # the image's account is the function's, or known (an unknown other one returned above)
        statements = tuple(
            policy.repository_policy_statements(
                [consumer],
                repository_account=str(image.account),
                region=image.region,
                partition=partition_of_region(image.region),
            )
        )
    sources = f"function:{consumer.pattern}"
    if same_account:
        grant = (
            f"a statement for lambda.amazonaws.com with ecr:BatchGetImage and "
            f"ecr:GetDownloadUrlForLayer limited by aws:SourceArn "
            f"arn:...:lambda:{image.region}:{account}:{sources}"
        )
    else:
        grant = (
            f"the root of account {account} and lambda.amazonaws.com with "
            f"aws:SourceArn arn:...:lambda:{image.region}:{account}:"
            f"{sources}, both for ecr:BatchGetImage and ecr:GetDownloadUrlForLayer"
        )
    detail = (
        f"repository {repository_arn} is not in this assembly, so its policy "
        f"cannot be checked: its owner must grant {grant}"
        + (" (required_statements in --format json)" if statements else "")
    )
    if why_not:
        detail += f". Note: {why_not}"
    if isinstance(account, Unknown):
        detail = (
            f"the function's stack is env-agnostic, so its account is known only at deploy "
            f"time; {detail}"
        )
        return report(UNVERIFIABLE, detail, repository=repository_arn)
    return report(EXTERNAL, detail, repository=repository_arn, required_statements=statements)
