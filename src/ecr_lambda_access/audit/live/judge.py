"""Judge: a verdict per function from a :class:`~.fetch.Snapshot` of what AWS said. Pure: no
I/O, no boto3; shared by the live check (:mod:`.engine`) and the ImagePullMonitor's checker.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ...policy import Access, evaluate_pull, policy_text
from ..rules import NO_POLICY, OK, REGION_MISMATCH, UNSUPPORTED_IMAGE, UNVERIFIABLE
from .credentials import AccountAccess
from .fetch import Snapshot
from .report import (
    DRIFTED,
    FUNCTION_FAILED,
    IMAGE_MISSING,
    IMAGE_REASON_CODES,
    LiveFunctionReport,
)
from .targets import ImageRef, LiveTarget, parse_image_uri
from .verdicts import (
    _canonical,
    _Deployed,
    _difference,
    _digest_of,
    _failure_hint,
    _Image,
    _named,
    _Policy,
    _pull_verdict,
    _replication_detail,
    _statements,
    _Verdict,
)


def judge(
    targets: Sequence[LiveTarget],
    snapshot: Snapshot,
    *,
    organization_id: str | None = None,
    observe_functions: bool = True,
) -> list[LiveFunctionReport]:
    """A report per target, in order. ``observe_functions=False``: the deployed functions were
    not read (the monitor without consumer access): the verdict rests on the repository alone."""
    judging = Judge(organization_id=organization_id, observe_functions=observe_functions)
    return [
        judging._verdict(
            t,
            snapshot.accesses,
            snapshot.policies,
            snapshot.deployed,
            snapshot.images,
            snapshot.replication,
        )
        for t in targets
    ]


def judge_repository_access(
    targets: Sequence[LiveTarget], snapshot: Snapshot, *, organization_id: str | None = None
) -> list[LiveFunctionReport]:
    """Whether the deployed policy lets each target pull, and nothing else: for consumers known
    only as an account or a function-name pattern (``function_name`` is the pattern), whose
    images and functions are not known. Each target needs its ``image`` (the repository)."""
    judging = Judge(organization_id=organization_id, observe_functions=False)
    reports = []
    for target in targets:
        verdict = _Verdict()
        image = target.image
        access = snapshot.accesses.get(image.account) if image is not None else None
        if image is None or not target.account or not target.region:
            verdict.problem(UNVERIFIABLE, "the repository or the consumer's account is not known")
        elif access is None or not access.reachable:
            verdict.problem(
                UNVERIFIABLE,
                f"the repository's account {image.account} "
                + (f"({access.via}) {access.error}" if access is not None else "was not reached"),
            )
        else:
            judging._repository_verdict(target, image, _Deployed(), snapshot.policies, verdict)
        status, detail = verdict.status()
        if status == OK:
            detail = "the deployed repository policy lets these functions pull"
        reports.append(
            LiveFunctionReport(
                function=target.function,
                stack=target.stack,
                account=target.account,
                region=target.region,
                function_name=target.function_name,
                status=status,
                detail=detail,
                problems=tuple(verdict.problems),
                warnings=tuple(verdict.warnings),
            )
        )
    return reports


class Judge:
    """The verdicts (no I/O)."""

    def __init__(self, *, organization_id: str | None = None, observe_functions: bool = True):
        self.organization_id = organization_id
        self.observe_functions = observe_functions

    def _verdict(
        self,
        target: LiveTarget,
        accesses: Mapping[str, AccountAccess],
        policies: Mapping[tuple[str, str, str], _Policy],
        deployed: Mapping[str, _Deployed],
        images: Mapping[tuple[str, str, str, str], _Image],
        replication: Mapping[tuple[str, str, str, str], list[Mapping[str, Any]] | str],
    ) -> LiveFunctionReport:
        verdict = _Verdict()
        function = deployed.get(target.function, _Deployed())
        if not target.account or not target.region:
            verdict.problem(
                UNVERIFIABLE,
                "the stack is env-agnostic: the live check needs the function's account and Region",
            )
        elif not self.observe_functions:
            pass  # the repository alone decides (the monitor without consumer access)
        elif not accesses[target.account].reachable:
            verdict.problem(
                UNVERIFIABLE,
                f"account {target.account} ({accesses[target.account].via}) "
                f"{accesses[target.account].error}",
            )
        else:
            self._function_verdict(target, function, verdict)
        image = target.image
        if target.unsupported is not None:
            # what the static audit says: Lambda refuses this image, whatever is deployed
            verdict.problem(UNSUPPORTED_IMAGE, target.unsupported)
        elif image is None:
            verdict.problem(
                UNVERIFIABLE,
                "the synthesized image URI is not a known private ECR image, so its repository "
                "cannot be read",
            )
        elif target.account and target.region:
            if image.region != target.region:
                verdict.problem(
                    REGION_MISMATCH,
                    f"the image is in {image.region} but the function runs in {target.region}: "
                    "Lambda runs images only from its own Region",
                )
            access = accesses[image.account]
            if not access.reachable:
                verdict.problem(
                    UNVERIFIABLE,
                    f"the repository's account {image.account} ({access.via}) {access.error}",
                )
            else:
                self._repository_verdict(target, image, function, policies, verdict)
                self._image_verdict(target, image, function, images, replication, verdict)
        if target.image_deployed:
            verdict.warnings.append(
                "the template's image URI is known only at deploy time: the deployed function's "
                f"image ({target.image.uri if target.image else '-'}) was checked"
            )
        status, detail = verdict.status()
        if status == OK and not self.observe_functions:
            detail = "the deployed repository policy lets it pull; the image is in the repository"
        elif status == OK:
            detail = (
                f"deployed function {function.state or 'found'}; the deployed repository policy "
                "lets it pull; the image is in the repository"
            )
        return LiveFunctionReport(
            function=target.function,
            stack=target.stack,
            account=target.account,
            region=target.region,
            function_name=function.name or target.function_name,
            status=status,
            detail=detail,
            problems=tuple(verdict.problems),
            warnings=tuple(verdict.warnings),
            state=function.state,
            state_reason_code=function.state_reason_code or function.last_update_reason_code,
            deployed_image=function.image_uri,
        )

    def _function_verdict(self, target: LiveTarget, function: _Deployed, verdict: _Verdict) -> None:
        if function.error is not None:
            verdict.problem(UNVERIFIABLE, f"the deployed function cannot be read: {function.error}")
            return
        if function.missing:
            verdict.problem(
                UNVERIFIABLE,
                f"function {function.name} is not deployed in account {target.account}, "
                f"{target.region} (GetFunction: ResourceNotFoundException): deploy the stack "
                f"{target.stack_name} first",
            )
            return
        if function.state in ("Failed", "Inactive") and (
            function.state_reason_code in IMAGE_REASON_CODES
        ):
            verdict.problem(
                FUNCTION_FAILED,
                f"the function is {function.state} with StateReasonCode "
                f"{function.state_reason_code}"
                + (f" ({function.state_reason})" if function.state_reason else "")
                + _failure_hint(function.state_reason_code),
            )
        elif function.state in ("Failed", "Inactive") and function.state_reason_code not in (
            None,
            "Idle",
        ):
            verdict.warnings.append(
                f"the function is {function.state} with StateReasonCode "
                f"{function.state_reason_code}, not an image reason"
            )
        if (
            function.last_update_status == "Failed"
            and function.last_update_reason_code in IMAGE_REASON_CODES
        ):
            verdict.problem(
                FUNCTION_FAILED,
                f"its last update failed with LastUpdateStatusReasonCode "
                f"{function.last_update_reason_code}"
                + _failure_hint(function.last_update_reason_code),
            )
        image = target.image
        if image is not None and function.image_uri:
            deployed_digest = _digest_of(function.resolved_image_uri) or _digest_of(
                function.image_uri
            )
            differs = (
                deployed_digest != image.digest
                if image.digest is not None
                else function.image_uri != image.uri
            )
            if differs:
                verdict.warnings.append(
                    f"the deployed ImageUri {function.image_uri} is not the synthesized "
                    f"{image.uri}: the stack is not deployed yet, or the function drifted"
                )

    def _repository_verdict(
        self,
        target: LiveTarget,
        image: ImageRef,
        function: _Deployed,
        policies: Mapping[tuple[str, str, str], _Policy],
        verdict: _Verdict,
    ) -> None:
        policy = policies.get(_repo_key(image))
        if policy is None:  # not read (cannot happen for a reachable account): never say ok
            verdict.problem(UNVERIFIABLE, "the deployed repository policy was not read")
            return
        if policy.error is not None:
            verdict.problem(
                UNVERIFIABLE, f"the deployed repository policy cannot be read: {policy.error}"
            )
            return
        if not policy.exists:
            verdict.problem(
                IMAGE_MISSING,
                f"repository {image.repository_arn} does not exist (GetRepositoryPolicy: "
                "RepositoryNotFoundException)",
            )
            return
        assert target.account is not None and target.region is not None
        arn = function.arn or (
            f"arn:{target.partition}:lambda:{target.region}:{target.account}:function:"
            f"{target.function_name}"
            if target.function_name
            else None
        )
        if arn is None:
            verdict.problem(
                UNVERIFIABLE,
                "the function's name is not known, so the deployed policy's service grant "
                "cannot be checked",
            )
            return
        synthesized = target.synthesized_policy
        wanted = (
            evaluate_pull(
                synthesized,
                function_arn=arn,
                function_account=target.account,
                repository_account=image.account,
                partition=image.partition,
                organization_id=self.organization_id,
                repository_arn=image.repository_arn,
            )
            if synthesized is not None
            else None
        )
        synthesized_allows = wanted is not None and wanted.ok
        if policy.document is None:
            if synthesized_allows:
                verdict.problem(
                    DRIFTED,
                    f"repository {image.repository_arn} has no policy deployed, but the "
                    "synthesized one lets the function pull: it was deleted or replaced "
                    "outside CloudFormation; redeploy the repository's stack",
                )
            else:
                verdict.problem(
                    NO_POLICY, f"repository {image.repository_arn} has no policy deployed"
                )
            return
        access = evaluate_pull(
            policy.document,
            function_arn=arn,
            function_account=target.account,
            repository_account=image.account,
            partition=image.partition,
            organization_id=self.organization_id,
            repository_arn=image.repository_arn,
        )
        deployed_statements = _statements(policy.document)
        if access.ok:
            if synthesized is not None and {_canonical(s) for s in _statements(synthesized)} != {
                _canonical(s) for s in deployed_statements
            }:
                verdict.warnings.append(
                    "the deployed repository policy differs from the synthesized one ("
                    + _difference(synthesized, policy.document)
                    + "), but still lets this function pull"
                )
            return
        status, detail = _pull_verdict(access)
        if status == UNVERIFIABLE:
            verdict.problem(UNVERIFIABLE, f"deployed repository policy: {detail}")
            return
        shown = []
        denying = [g.statements for g in (access.root, access.service) if g.access is Access.DENIED]
        for statement in _named(deployed_statements, [n for names in denying for n in names]):
            shown.append(f"denying statement {policy_text(statement)}")
        if synthesized is not None and wanted is not None and synthesized_allows:
            present = {_canonical(s) for s in deployed_statements}
            granting = [n for g in (wanted.root, wanted.service) for n in g.statements]
            for statement in _named(_statements(synthesized), granting):
                if _canonical(statement) not in present:
                    shown.append(f"missing statement {policy_text(statement)}")
            verdict.problem(
                DRIFTED,
                f"the deployed policy of {image.repository_arn} no longer lets the function "
                f"pull ({detail}), though the synthesized one does"
                + (": " + "; ".join(shown) if shown else "")
                + ". It was changed outside CloudFormation: redeploy the repository's stack",
            )
            return
        verdict.problem(
            status,
            f"deployed policy of {image.repository_arn}: {detail}"
            + (": " + "; ".join(shown) if shown else ""),
        )

    def _image_verdict(
        self,
        target: LiveTarget,
        image: ImageRef,
        function: _Deployed,
        images: Mapping[tuple[str, str, str, str], _Image],
        replication: Mapping[tuple[str, str, str, str], list[Mapping[str, Any]] | str],
        verdict: _Verdict,
    ) -> None:
        key = _repo_key(image)
        synthesized = images.get((*key, image.reference))
        if synthesized is None:
            if not any(status == IMAGE_MISSING for status, _ in verdict.problems):
                verdict.problem(UNVERIFIABLE, "the image was not read")
            return  # else the repository does not exist: said above
        if synthesized.error is not None and synthesized.present is None:
            verdict.problem(UNVERIFIABLE, f"the image cannot be read: {synthesized.error}")
            return
        if synthesized.present is False:
            what = "digest" if image.digest else "tag"
            detail = (
                f"the synthesized {what} {image.reference} is not in repository "
                f"{image.repository_arn}"
            )
            if target.replica_source is not None:
                source = (*target.replica_source, image.repository, image.reference)
                detail += _replication_detail(image, source, replication.get(source))
            else:
                detail += " (deleted by a lifecycle rule, or never pushed)"
            verdict.problem(IMAGE_MISSING, detail)
        running = _digest_of(function.resolved_image_uri)
        if running is not None and running != image.reference and _same_repository(image, function):
            state = images.get((*key, running))
            if state is not None and state.present is False:
                verdict.problem(
                    IMAGE_MISSING,
                    f"the digest the deployed function runs, {running}, is no longer in "
                    f"repository {image.repository_arn} (a lifecycle rule?): Lambda cannot fetch "
                    "it again when the function is optimized or comes back from Inactive; "
                    "update the function's code (redeploy) to an image that exists",
                )


def _function_key(target: LiveTarget) -> tuple[str | None, ...]:
    if target.function_name is not None:
        return (target.account, target.region, target.function_name)
    return (target.account, target.region, target.stack_name, target.logical_id)


def _repo_key(image: ImageRef) -> tuple[str, str, str]:
    return (image.account, image.region, image.repository)


def _same_repository(image: ImageRef, function: _Deployed) -> bool:
    running = parse_image_uri(function.resolved_image_uri or function.image_uri)
    return running is not None and _repo_key(running) == _repo_key(image)
