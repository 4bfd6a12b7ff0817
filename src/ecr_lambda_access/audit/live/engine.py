"""The engine: :class:`LiveCheck` asks AWS, read-only and on a bounded thread pool, about every
target, and judges each function (:mod:`.verdicts`) into a :class:`~.report.LiveReport`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ...policy import Access, evaluate_pull, policy_text
from ..rules import NO_POLICY, OK, REGION_MISMATCH, UNVERIFIABLE
from .credentials import _WORKERS, AccountAccess, AccountCredentials, _error_code, _error_text
from .report import (
    DRIFTED,
    FUNCTION_FAILED,
    IMAGE_MISSING,
    IMAGE_REASON_CODES,
    LiveFunctionReport,
    LiveReport,
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

_DESCRIBE_IMAGES_BATCH = 100  # DescribeImages takes at most 100 imageIds
DEFAULT_TIMEOUT = 300.0
"""Seconds the whole live check may take (``--timeout``): what is not checked by then is
``unverifiable``, with the reason."""


class DeadlineExceeded(Exception):
    """The run's deadline passed before this call was made."""


class LiveCheck:
    """Checks targets against what is deployed, with a bounded pool of threads."""

    def __init__(
        self,
        credentials: AccountCredentials,
        *,
        organization_id: str | None = None,
        max_workers: int = _WORKERS,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.organization_id = organization_id
        self.max_workers = max(1, max_workers)
        self.timeout = timeout
        """The whole run's deadline in seconds (``--timeout``); None: no deadline."""
        self._deadline: float | None = None
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    # calls -------------------------------------------------------------------------------

    @property
    def _late(self) -> str:
        return f"not checked: the --timeout of {self.timeout:g} s ran out"

    def _call(self, account: str, region: str, service: str, operation: str, **kwargs: Any) -> Any:
        if self._deadline is not None and time.monotonic() >= self._deadline:
            raise DeadlineExceeded(self._late)
        with self._calls_lock:
            self._calls[f"{service}:{operation}"] += 1
        client = self.credentials.client(account, service, region)
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        return getattr(client, method)(**kwargs)

    def _map(
        self,
        function: Callable[[Any], Any],
        items: Iterable[Any],
        fallback: Callable[[Any, str], Any],
    ) -> list[Any]:
        """``function`` of each item on at most ``max_workers`` threads, in the items' order.

        An item not done by the deadline (or whose call raised) gets ``fallback(item, reason)``.
        The threads are daemons: a call stuck on an endpoint that never answers cannot hold the
        run (or the process's exit) past the deadline.
        """
        items = list(items)
        if not items:
            return []
        pending = object()
        results: list[Any] = [pending] * len(items)
        queue = list(enumerate(items))
        queue.reverse()
        lock = threading.Lock()
        finished = threading.Event()
        left = [len(items)]

        def work() -> None:
            while True:
                with lock:
                    if not queue:
                        return
                    index, item = queue.pop()
                try:
                    value = function(item)
                except Exception as error:  # a reason for this item, never a crash of the run
                    value = fallback(item, _error_text(error))
                with lock:
                    results[index] = value
                    left[0] -= 1
                    if left[0] == 0:
                        finished.set()

        for _ in range(min(self.max_workers, len(items))):
            threading.Thread(target=work, daemon=True, name="ecr-lambda-access-live").start()
        wait = None if self._deadline is None else max(0.0, self._deadline - time.monotonic())
        finished.wait(timeout=wait)
        with lock:
            return [
                fallback(item, self._late) if value is pending else value
                for item, value in zip(items, results, strict=True)
            ]

    # observations -------------------------------------------------------------------------

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

    # the run ------------------------------------------------------------------------------

    def run(self, targets: Sequence[LiveTarget]) -> LiveReport:
        """Check every target; never raises for what AWS answers."""
        started = time.perf_counter()
        if self.timeout is not None:
            self._deadline = time.monotonic() + self.timeout

        def unreached(account: str, reason: str) -> AccountAccess:
            return AccountAccess(
                account, self.credentials.via(account), error=f"cannot be reached: {reason}"
            )

        checkable = [t for t in targets if t.account and t.region]
        # 1. accounts (functions', repositories', replication sources'), each once
        regions: dict[str, str] = {}
        for t in checkable:
            regions.setdefault(str(t.account), str(t.region))
            if t.image is not None:
                regions.setdefault(t.image.account, t.image.region)
                if t.replica_source is not None:
                    regions.setdefault(*t.replica_source)
        accesses = dict(
            zip(
                regions,
                self._map(lambda a: self.credentials.access(a, regions[a]), regions, unreached),
                strict=True,
            )
        )

        def reachable(account: str | None) -> bool:
            return account is not None and accesses[account].reachable

        # 2. repository policies and deployed functions, concurrently
        repositories = sorted(
            {
                (t.image.account, t.image.region, t.image.repository)
                for t in checkable
                if t.image is not None and reachable(t.image.account)
            }
        )
        functions: dict[tuple[str | None, ...], LiveTarget] = {}  # one call per function
        for t in checkable:
            if reachable(t.account):
                functions.setdefault(_function_key(t), t)
        work: list[tuple[str, Any]] = [("policy", k) for k in repositories] + [
            ("function", t) for t in functions.values()
        ]
        results = self._map(
            lambda item: self._policy(item[1]) if item[0] == "policy" else self._deployed(item[1]),
            work,
            lambda item, reason: (
                _Policy(error=reason) if item[0] == "policy" else _Deployed(error=reason)
            ),
        )
        policies: dict[tuple[str, str, str], _Policy] = {}
        deployed: dict[str, _Deployed] = {}
        for (kind, item), result in zip(work, results, strict=True):
            if kind == "policy":
                policies[item] = result
            else:
                deployed[item.function] = result
        for t in checkable:  # functions of the assembly that are the same deployed function
            first = functions.get(_function_key(t))
            if first is not None and first.function in deployed:
                deployed.setdefault(t.function, deployed[first.function])

        # 2b. an image URI known only at deploy time (a parameter, an import): the deployed one
        targets = [self._with_deployed_image(t, deployed) for t in targets]
        checkable = [t for t in targets if t.account and t.region]
        more = {
            t.image.account: t.image.region
            for t in checkable
            if t.image is not None and t.image.account not in accesses
        }
        accesses.update(
            zip(
                more,
                self._map(lambda a: self.credentials.access(a, more[a]), more, unreached),
                strict=True,
            )
        )
        late = sorted(
            {
                _repo_key(t.image)
                for t in checkable
                if t.image is not None
                and reachable(t.image.account)
                and _repo_key(t.image) not in policies
            }
        )
        policies.update(
            zip(
                late,
                self._map(self._policy, late, lambda _, reason: _Policy(error=reason)),
                strict=True,
            )
        )

        # 3. images: the synthesized reference and the digest each deployed function runs
        wanted: dict[tuple[str, str, str], list[str]] = {}
        for t in checkable:
            if t.image is None or policies.get(_repo_key(t.image), _Policy()).exists is False:
                continue
            if not reachable(t.image.account):
                continue
            refs = wanted.setdefault(_repo_key(t.image), [])
            refs.append(t.image.reference)
            running = _digest_of(deployed.get(t.function, _Deployed()).resolved_image_uri)
            if running is not None and _same_repository(t.image, deployed[t.function]):
                refs.append(running)
        image_results = self._map(
            lambda k: self._images(k, wanted[k]),
            list(wanted),
            lambda k, reason: {ref: _Image(None, error=reason) for ref in wanted[k]},
        )
        images = {
            (*key, ref): image
            for key, found in zip(wanted, image_results, strict=True)
            for ref, image in found.items()
        }

        # 4. replication status of missing images of replicas whose source is known
        replication_keys = sorted(
            {
                (*t.replica_source, t.image.repository, t.image.reference)
                for t in checkable
                if t.image is not None
                and t.replica_source is not None
                and reachable(t.replica_source[0])
                and images.get((*_repo_key(t.image), t.image.reference), _Image(True)).present
                is False
            }
        )
        replication = dict(
            zip(
                replication_keys,
                self._map(self._replication, replication_keys, lambda _, reason: reason),
                strict=True,
            )
        )

        reports = [
            self._verdict(t, accesses, policies, deployed, images, replication) for t in targets
        ]
        return LiveReport(
            functions=tuple(reports),
            accounts=tuple(accesses[a] for a in sorted(accesses)),
            calls=dict(self._calls + self.credentials.calls),
            seconds=time.perf_counter() - started,
        )

    @staticmethod
    def _with_deployed_image(target: LiveTarget, deployed: Mapping[str, _Deployed]) -> LiveTarget:
        if target.image is not None:
            return target
        running = parse_image_uri(deployed.get(target.function, _Deployed()).image_uri)
        return target if running is None else replace(target, image=running, image_deployed=True)

    # verdicts (no I/O) --------------------------------------------------------------------

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
        elif not accesses[target.account].reachable:
            verdict.problem(
                UNVERIFIABLE,
                f"account {target.account} ({accesses[target.account].via}) "
                f"{accesses[target.account].error}",
            )
        else:
            self._function_verdict(target, function, verdict)
        image = target.image
        if image is None:
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
        if status == OK:
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
