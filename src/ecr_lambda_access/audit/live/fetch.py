"""Fetch: the AWS calls of the live check, each turning one answer into plain data (the
observations of :mod:`.verdicts`), and :class:`Snapshot`, everything one run observed.

No judgement here (that is :mod:`.judge`) and no pool or retries (that is :mod:`.engine`): a
class that mixes in :class:`Fetch` gives it ``_call(account, region, service, operation,
**kwargs)``, the one way to AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .credentials import AccountAccess, _error_code, _error_text
from .targets import LiveTarget
from .verdicts import _Deployed, _Image, _Policy

_DESCRIBE_IMAGES_BATCH = 100  # DescribeImages takes at most 100 imageIds


@dataclass(frozen=True)
class Snapshot:
    """What one run observed, as plain data: the judge's only input besides the targets."""

    accesses: Mapping[str, AccountAccess] = field(default_factory=dict)
    """Account id -> whether (and how) it was reached."""
    policies: Mapping[tuple[str, str, str], _Policy] = field(default_factory=dict)
    """(account, Region, repository name) -> its deployed policy."""
    deployed: Mapping[str, _Deployed] = field(default_factory=dict)
    """Target's ``function`` -> the deployed function (GetFunction)."""
    images: Mapping[tuple[str, str, str, str], _Image] = field(default_factory=dict)
    """(account, Region, repository name, tag or digest) -> the image (DescribeImages)."""
    replication: Mapping[tuple[str, str, str, str], list[Mapping[str, Any]] | str] = field(
        default_factory=dict
    )
    """(source account, source Region, repository name, reference) -> the replication statuses
    of the image in the source (DescribeImageReplicationStatus), or why they cannot be read."""


class Fetch:
    """The read-only calls, each answer as plain data; never raises for what AWS answers."""

    _call: Callable[..., Any]
    """``_call(account, region, service, operation, **kwargs)``: given by the engine."""

    def _policy(self, key: tuple[str, str, str]) -> _Policy:
        account, region, name = key
        try:
            text = self._call(
                account,
                region,
                "ecr",
                "GetRepositoryPolicy",
                registryId=account,
                repositoryName=name,
            )["policyText"]
        except Exception as error:
            code = _error_code(error)
            if code == "RepositoryPolicyNotFoundException":
                return _Policy(document=None)
            if code == "RepositoryNotFoundException":
                return _Policy(exists=False)
            return _Policy(error=_error_text(error))
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            return _Policy(error=f"the deployed policy is not JSON: {error}")
        return _Policy(document=document if isinstance(document, Mapping) else None)

    def _function_name(self, target: LiveTarget) -> tuple[str | None, str | None]:
        """The deployed function's name (CloudFormation's physical id when generated)."""
        if target.function_name is not None:
            return target.function_name, None
        assert target.account is not None and target.region is not None
        try:
            detail = self._call(
                target.account,
                target.region,
                "cloudformation",
                "DescribeStackResource",
                StackName=target.stack_name,
                LogicalResourceId=target.logical_id,
            )["StackResourceDetail"]
        except Exception as error:
            return None, (
                "the function's name is not in the template (CloudFormation generates it, or it "
                f"is a deploy-time value) and could not be read from stack {target.stack_name}: "
                f"{_error_text(error)}"
            )
        return str(detail.get("PhysicalResourceId")), None

    def _deployed(self, target: LiveTarget) -> _Deployed:
        name, error = self._function_name(target)
        if name is None:
            return _Deployed(error=error)
        assert target.account is not None and target.region is not None
        arn = f"arn:{target.partition}:lambda:{target.region}:{target.account}:function:{name}"
        try:
            response = self._call(
                target.account, target.region, "lambda", "GetFunction", FunctionName=arn
            )
        except Exception as error:
            if _error_code(error) == "ResourceNotFoundException":
                return _Deployed(name=name, arn=arn, missing=True)
            return _Deployed(name=name, arn=arn, error=_error_text(error))
        configuration = response.get("Configuration") or {}
        code = response.get("Code") or {}
        return _Deployed(
            name=name,
            arn=arn,
            state=configuration.get("State"),
            state_reason=configuration.get("StateReason"),
            state_reason_code=configuration.get("StateReasonCode"),
            last_update_status=configuration.get("LastUpdateStatus"),
            last_update_reason_code=configuration.get("LastUpdateStatusReasonCode"),
            image_uri=code.get("ImageUri"),
            resolved_image_uri=code.get("ResolvedImageUri"),
        )

    def _images(self, key: tuple[str, str, str], references: Sequence[str]) -> dict[str, _Image]:
        """DescribeImages for these tags/digests of one repository, in batches of 100."""
        account, region, name = key
        found: dict[str, _Image] = {}

        def ident(reference: str) -> dict[str, str]:
            return (
                {"imageDigest": reference}
                if reference.startswith("sha256:")
                else {"imageTag": reference}
            )

        def describe(batch: Sequence[str]) -> list[Mapping[str, Any]]:
            response = self._call(
                account,
                region,
                "ecr",
                "DescribeImages",
                registryId=account,
                repositoryName=name,
                imageIds=[ident(r) for r in batch],
            )
            return list(response.get("imageDetails") or [])

        def record(details: Iterable[Mapping[str, Any]], wanted: Sequence[str]) -> None:
            for detail in details:
                digest = detail.get("imageDigest")
                for reference in wanted:
                    if reference == digest or reference in (detail.get("imageTags") or ()):
                        found[reference] = _Image(True, digest)

        references = list(dict.fromkeys(references))
        for start in range(0, len(references), _DESCRIBE_IMAGES_BATCH):
            batch = references[start : start + _DESCRIBE_IMAGES_BATCH]
            try:
                details = describe(batch)
            except Exception as error:
                code = _error_code(error)
                if code == "ImageNotFoundException" and len(batch) > 1:
                    for reference in batch:  # at least one is missing: ask for each
                        found.update(self._images(key, [reference]))
                    continue
                for reference in batch:
                    if code == "ImageNotFoundException":
                        found[reference] = _Image(False)
                    elif code == "RepositoryNotFoundException":
                        found[reference] = _Image(False, error="the repository does not exist")
                    else:
                        found[reference] = _Image(None, error=_error_text(error))
                continue
            record(details, batch)
            for reference in batch:
                found.setdefault(reference, _Image(False))
        return found

    def _replication(self, key: tuple[str, str, str, str]) -> list[Mapping[str, Any]] | str:
        account, region, name, reference = key
        try:
            if not reference.startswith("sha256:"):
                details = self._images((account, region, name), [reference])
                image = details.get(reference)
                if image is not None and image.present is None:
                    return f"the source repository cannot be read: {image.error}"
                if image is None or not image.present or image.digest is None:
                    return f"tag {reference} is not in the source repository either"
                reference = image.digest
            response = self._call(
                account,
                region,
                "ecr",
                "DescribeImageReplicationStatus",
                registryId=account,
                repositoryName=name,
                imageId={"imageDigest": reference},
            )
        except Exception as error:
            return _error_text(error)
        return list(response.get("replicationStatuses") or [])
