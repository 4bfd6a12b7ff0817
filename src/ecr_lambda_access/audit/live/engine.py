"""The engine: :class:`LiveCheck` asks AWS, read-only and on a bounded thread pool, about every
target (the calls are :mod:`.fetch`'s), and has each function judged (:mod:`.judge`) into a
:class:`~.report.LiveReport`.
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .credentials import _WORKERS, AccountAccess, AccountCredentials, _error_text
from .fetch import Fetch, Snapshot
from .judge import _function_key, _repo_key, _same_repository, judge
from .report import LiveReport
from .targets import LiveTarget, parse_image_uri
from .verdicts import _Deployed, _digest_of, _Image, _Policy

DEFAULT_TIMEOUT = 300.0
"""Seconds the whole live check may take (``--timeout``): what is not checked by then is
``unverifiable``, with the reason."""


class DeadlineExceeded(Exception):
    """The run's deadline passed before this call was made."""


class LiveCheck(Fetch):
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

    def _observe(
        self,
        repositories: Sequence[tuple[str, str, str]],
        targets: Sequence[LiveTarget],
        reachable: Callable[[str | None], bool],
    ) -> tuple[dict[tuple[str, str, str], _Policy], dict[str, _Deployed]]:
        """The repositories' deployed policies and the targets' deployed functions, on one pool:
        one GetFunction per deployed function (targets that are the same function share it)."""
        unique: dict[tuple[str | None, ...], LiveTarget] = {}
        for t in targets:
            if reachable(t.account):
                unique.setdefault(_function_key(t), t)
        work: list[tuple[str, Any]] = [("policy", k) for k in repositories] + [
            ("function", t) for t in unique.values()
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
        for t in targets:
            first = unique.get(_function_key(t))
            if first is not None and first.function in deployed:
                deployed.setdefault(t.function, deployed[first.function])
        return policies, deployed

    def _observe_images(
        self,
        targets: Sequence[LiveTarget],
        policies: Mapping[tuple[str, str, str], _Policy],
        deployed: Mapping[str, _Deployed],
        reachable: Callable[[str | None], bool],
    ) -> tuple[
        dict[tuple[str, str, str, str], _Image],
        dict[tuple[str, str, str, str], list[Mapping[str, Any]] | str],
    ]:
        """DescribeImages for each target's tag or digest and the digest its deployed function
        runs; then the replication status, in the source, of a replica's missing images."""
        wanted: dict[tuple[str, str, str], list[str]] = {}
        for t in targets:
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
        replication_keys = sorted(
            {
                (*t.replica_source, t.image.repository, t.image.reference)
                for t in targets
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
        return images, replication

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
        policies, deployed = self._observe(repositories, checkable, reachable)

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

        # 3. images (the synthesized reference and the digest each deployed function runs),
        # 4. replication status of missing images of replicas whose source is known
        images, replication = self._observe_images(checkable, policies, deployed, reachable)

        snapshot = Snapshot(accesses, policies, deployed, images, replication)
        reports = judge(targets, snapshot, organization_id=self.organization_id)
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
