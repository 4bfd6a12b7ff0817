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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from .credentials import _WORKERS, AccountCredentials
from .fetch import Fetch, Snapshot
from .judge import _function_key, _repo_key, _same_repository, judge
from .report import LiveReport
from .targets import LiveTarget, parse_image_uri
from .verdicts import _Deployed, _digest_of, _Image, _Policy


class LiveCheck(Fetch):
    """Checks targets against what is deployed, with a bounded pool of threads."""

    def __init__(
        self,
        credentials: AccountCredentials,
        *,
        organization_id: str | None = None,
        max_workers: int = _WORKERS,
    ) -> None:
        self.credentials = credentials
        self.organization_id = organization_id
        self.max_workers = max(1, max_workers)
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    # calls -------------------------------------------------------------------------------

    def _call(self, account: str, region: str, service: str, operation: str, **kwargs: Any) -> Any:
        with self._calls_lock:
            self._calls[f"{service}:{operation}"] += 1
        client = self.credentials.client(account, service, region)
        method = re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()
        return getattr(client, method)(**kwargs)

    def _map(self, function: Callable[[Any], Any], items: Iterable[Any]) -> list[Any]:
        items = list(items)
        if not items:
            return []
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(function, items))

    # the run ------------------------------------------------------------------------------

    def run(self, targets: Sequence[LiveTarget]) -> LiveReport:
        """Check every target; never raises for what AWS answers."""
        started = time.perf_counter()
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
                self._map(lambda a: self.credentials.access(a, regions[a]), regions),
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
            zip(more, self._map(lambda a: self.credentials.access(a, more[a]), more), strict=True)
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
        policies.update(zip(late, self._map(self._policy, late), strict=True))

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
        image_results = self._map(lambda k: self._images(k, wanted[k]), list(wanted))
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
            zip(replication_keys, self._map(self._replication, replication_keys), strict=True)
        )

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
