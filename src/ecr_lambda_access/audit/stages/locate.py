"""Locate the repository and its source: the assembly's, the CDK bootstrap's, one replication
creates (:mod:`..checks.replica`), or one outside the assembly (:mod:`.external`)."""

from __future__ import annotations

import re
from typing import Any

from ..checks import replica
from ..checks.context import AuditContext
from ..checks.region_mismatch import ID as REGION_MISMATCH
from ..model import ModelImage, ModelRepository, parse_policy
from ..results import FunctionReport
from ..values import Unknown, Value, reasons, render
from .draft import Draft
from .external import external_or_unverifiable

__all__ = ["stage_locate", "find_repository", "bootstrap_repository_policy"]


def bootstrap_repository_policy(account: str, region: str, partition: str) -> dict[str, Any]:
    """The repository policy the CDK bootstrap template gives its container-assets repository
    (aws/aws-cdk-cli, packages/aws-cdk/lib/api/bootstrap/bootstrap-template.yaml,
    ``ContainerAssetsRepository``): lambda.amazonaws.com, only for functions of its own account
    and Region. A customized bootstrap template may differ."""
    return {
        "Version": "2008-10-17",
        "Statement": [
            {
                "Sid": "LambdaECRImageRetrievalPolicy",
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                "Condition": {
                    "StringLike": {
                        "aws:sourceArn": f"arn:{partition}:lambda:{region}:{account}:function:*"
                    }
                },
            }
        ],
    }


def is_bootstrap_repository(image: ModelImage) -> bool:
    """True for a name of the CDK bootstrap's container-assets repository of the image's own
    account and Region (``cdk-QUALIFIER-container-assets-ACCOUNT-REGION``); with an unknown
    account or Region, the name must hold that very value."""
    expected = (
        r"cdk-[a-z0-9]+-container-assets-"
        + re.escape(render(image.account))
        + "-"
        + re.escape(render(image.region))
    )
    return re.fullmatch(expected, render(image.repository)) is not None


def bootstrap_repository(draft: Draft, image: ModelImage) -> ModelRepository:
    """A stand-in for the CDK bootstrap's repository, with the policy the bootstrap gives it."""
    partition = draft.env.partition
    document = bootstrap_repository_policy(
        render(image.account), render(image.region), render(partition)
    )
    return ModelRepository(
        index=draft.index,
        logical_id="",
        name=image.repository,
        arn=image.repository_arn(partition),
        account=image.account,
        region=image.region,
        policy=parse_policy(document),
        path=f"CDK bootstrap repository {image.repository}",
    )


def stage_locate(audit: AuditContext, draft: Draft) -> FunctionReport | None:
    """The repository the image is in, or the verdict when it is not in the assembly."""
    image = draft.ref
    repository, why_not = find_repository(audit, image)
    draft.bootstrap = repository is None and is_bootstrap_repository(image)
    if draft.bootstrap:
        repository = bootstrap_repository(draft, image)
    if repository is None:
        created = replica.created_by_replication(audit, draft, image)
        if created is not None:
            return created
        return external_or_unverifiable(draft, image, why_not)
    draft.repository = repository
    consumers = audit.consumers.setdefault((repository.index, repository.logical_id), [])
    if not draft.bootstrap and draft.function.path not in consumers:
        consumers.append(draft.function.path)
    region = draft.env.region
    if (
        repository.region != region
        and not isinstance(repository.region, Unknown)
        and not isinstance(region, Unknown)
    ):
        return draft.report(
            REGION_MISMATCH,
            f"repository {repository.path} is in {repository.region} but the function "
            f"runs in {region}: Lambda runs images only from its own Region",
            repository=str(repository.arn),
        )
    return None


def _unknown(value: Value) -> bool:
    return isinstance(value, Unknown)


def find_repository(audit: AuditContext, image: ModelImage) -> tuple[ModelRepository | None, str]:
    """The repository of the assembly the image is in, or None and why not found."""
    name = image.repository
    if isinstance(name, Unknown):
        if name.target is not None and not name.parts:
            repository = audit.model.by_target.get(name.target)
            if repository is not None:
                return repository, ""
        return None, f"the repository name {name} is not known before deploy"
    candidates = list(audit.model.by_name.get(name, ()))
    exact = [c for c in candidates if c.account == image.account and c.region == image.region]
    if exact:
        return exact[0], ""
    unknown = [
        c
        for c in candidates
        if _unknown(c.account) or _unknown(c.region) or _unknown(image.account)
    ]
    if unknown:
        c = unknown[0]
        return None, (
            f"repository {c.path} has this name, but its account or Region, or the "
            f"image's, is known only at deploy time ({reasons(c.account, c.region, image.account)})"
        )
    if candidates:
        elsewhere = ", ".join(f"{c.path} (account {c.account}, {c.region})" for c in candidates)
        return None, (
            f"a repository named {name} is in the assembly elsewhere: {elsewhere}; "
            f"the image URI points to account {image.account}, "
            f"{image.region}: if that repository is meant, refer to it by its ARN "
            "(Repository.from_repository_arn), not by its name"
        )
    return None, ""
