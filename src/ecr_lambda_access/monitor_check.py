"""The checker of :class:`~ecr_lambda_access.monitor.ImagePullMonitor`: the Lambda handler, pure
Python (the live check's fetch and judge, the policy evaluator) and boto3 from the runtime.

It reads its configuration from ``monitor.json`` next to the package in the code asset (what
the app registered at synth: repositories, their synthesized policies, consumers, functions and
images), asks AWS read-only, judges every function like ``audit --live``, and tells:

* the metric ``FunctionsThatCannotPull`` (namespace ``EcrLambdaAccess``), dimension
  ``Repository``: one datum per watched repository and one for ``Repository=ALL`` (ECR names are
  lowercase, so ``ALL`` names no repository), on every run, 0 when all is well;
* an EventBridge event on the default bus, ``detail-type`` ``Image Pull Check``, listing each
  function that cannot pull (several events of at most 50 functions when there are more);
* one JSON log line per run;
* the handler's result: ``{"cannot_pull": [{"function", "status", "detail"}, ...], ...}``.

Every status but ``ok`` counts as "cannot pull", ``unverifiable`` too: a consumer account the
checker cannot reach is reported, never ``ok``.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from .audit.live.credentials import AccountAccess, AccountCredentials
from .audit.live.engine import LiveCheck
from .audit.live.fetch import Snapshot
from .audit.live.judge import (
    judge,
    judge_repository_access,
)
from .audit.live.report import LiveFunctionReport
from .audit.live.targets import ImageRef, LiveTarget, parse_image_uri
from .audit.live.verdicts import _Deployed
from .audit.rules import OK

CONFIG_FILE = "monitor.json"
"""The configuration's name, at the root of the code asset."""
CONFIG_VERSION = 1
NAMESPACE = "EcrLambdaAccess"
METRIC_NAME = "FunctionsThatCannotPull"
DIMENSION = "Repository"
ALL_REPOSITORIES = "ALL"
"""The ``Repository`` dimension value of the run's total (the alarm's metric)."""
EVENT_SOURCE = "ecr-lambda-access"
DETAIL_TYPE = "Image Pull Check"
FUNCTIONS_PER_EVENT = 50
DETAIL_MAX_CHARS = 2000
_WORKERS = 8
_PUT_METRIC_BATCH = 500
_PUT_EVENTS_BATCH = 10


def load_config(path: str | Path | None = None) -> dict[str, Any]:
    """The configuration the construct wrote into the code asset."""
    where = Path(path) if path is not None else Path(__file__).resolve().parent.parent / CONFIG_FILE
    config: dict[str, Any] = json.loads(where.read_text(encoding="utf-8"))
    if config.get("version") != CONFIG_VERSION:
        raise ValueError(f"{where}: configuration version {config.get('version')!r} is not 1")
    return config


def _repository_ref(config: Mapping[str, Any], repository: Mapping[str, Any]) -> ImageRef:
    account, region, name = config["account"], config["region"], repository["name"]
    return ImageRef(
        uri=f"{account}.dkr.ecr.{region}.{config.get('url_suffix', 'amazonaws.com')}/{name}",
        account=account,
        region=region,
        repository=name,
        tag=None,
        digest=None,
    )


def _function_targets(config: Mapping[str, Any], repository: Mapping[str, Any]) -> list[LiveTarget]:
    base = _repository_ref(config, repository)
    source = repository.get("replica_source")
    # A name CloudFormation generates is read from the stack with the read role; without it the
    # function is judged as what it registered: every function of its account (``function:*``).
    unnamed = None if config.get("consumer_read_role") else "*"
    targets = []
    for f in repository.get("functions", ()):
        reference = f.get("reference")
        image: ImageRef | None = None
        if reference:
            digest = reference if reference.startswith("sha256:") else None
            image = replace(
                base,
                uri=base.uri + (f"@{reference}" if digest else f":{reference}"),
                tag=None if digest else reference,
                digest=digest,
            )
        targets.append(
            LiveTarget(
                function=f["function"],
                stack=f.get("stack", ""),
                stack_name=f.get("stack_name", ""),
                logical_id=f.get("logical_id", ""),
                account=f["account"],
                region=f["region"],
                function_name=f.get("function_name") or unnamed,
                image=image,
                synthesized_policy=repository.get("policy"),
                replica_source=(str(source[0]), str(source[1])) if source else None,
            )
        )
    return targets


def _consumer_targets(config: Mapping[str, Any], repository: Mapping[str, Any]) -> list[LiveTarget]:
    base = _repository_ref(config, repository)
    partition = config.get("partition", "aws")
    return [
        LiveTarget(
            function=(
                f"arn:{partition}:lambda:{config['region']}:{c['account']}:function:{c['pattern']}"
            ),
            stack="",
            stack_name="",
            logical_id="",
            account=c["account"],
            region=config["region"],
            function_name=c["pattern"],
            image=base,
            synthesized_policy=repository.get("policy"),
        )
        for c in repository.get("consumers", ())
    ]


class _MonitorCredentials(AccountCredentials):
    """The checker's own role in its account; the consumer read role in the others."""

    def __init__(self, own_account: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.own_account = own_account

    def via(self, account: str) -> str:
        return "the monitor's role" if account == self.own_account else super().via(account)

    def _resolve(self, account: str, region: str) -> dict[str, str] | None:
        return None if account == self.own_account else super()._resolve(account, region)


class MonitorCheck(LiveCheck):
    """One run of the checker over its configuration (no CloudWatch or EventBridge here): the
    live check's calls, pool and retries (:class:`~.audit.live.engine.LiveCheck`), in the order
    the monitor needs."""

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        session_factory: Callable[..., Any] | None = None,
        max_workers: int = _WORKERS,
        timeout: float | None = None,
    ) -> None:
        credentials = _MonitorCredentials(
            config["account"],
            role_arn_template=config.get("consumer_read_role"),
            session_factory=session_factory,
            max_workers=max(1, max_workers),
        )
        super().__init__(credentials, max_workers=max_workers, timeout=timeout)
        self.config = config

    def check_all(self) -> tuple[list[tuple[str, LiveFunctionReport]], dict[str, int], float]:
        """(repository name, report) per function and consumer, the calls, the seconds."""
        started = time.perf_counter()
        if self.timeout is not None:  # what is not checked by then is unverifiable
            self._deadline = time.monotonic() + self.timeout
        config = self.config
        own, region = config["account"], config["region"]

        def unreached(account: str, reason: str) -> AccountAccess:
            return AccountAccess(
                account, self.credentials.via(account), error=f"cannot be reached: {reason}"
            )

        observe = bool(config.get("consumer_read_role"))
        repositories = list(config.get("repositories", ()))
        functions = {r["name"]: _function_targets(config, r) for r in repositories}
        consumers = {r["name"]: _consumer_targets(config, r) for r in repositories}

        # 1. accounts: this one (the repositories and their same-account replication sources),
        #    and with the read role each consumer account of a function
        regions = {own: region}
        if observe:
            for targets in functions.values():
                for t in targets:
                    regions.setdefault(str(t.account), str(t.region))
        accesses: dict[str, AccountAccess] = dict(
            zip(
                regions,
                self._map(lambda a: self.credentials.access(a, regions[a]), regions, unreached),
                strict=True,
            )
        )

        def reachable(account: str | None) -> bool:
            return account is not None and account in accesses and accesses[account].reachable

        # 2. policies, and with the read role the deployed functions
        keys = [(own, region, r["name"]) for r in repositories] if reachable(own) else []
        observed = [t for targets in functions.values() for t in targets] if observe else []
        policies, deployed = self._observe(keys, observed, reachable)
        # a reference known only at deploy (a token): the deployed function's image
        for name, targets in functions.items():
            functions[name] = [_with_deployed_image(t, deployed, own, region) for t in targets]

        # 3. images: each function's tag or digest, and the digest it runs; 4. the replication
        #    status, in the source, of a replica's missing images
        images, replication = self._observe_images(
            [t for targets in functions.values() for t in targets], policies, deployed, reachable
        )

        snapshot = Snapshot(accesses, policies, deployed, images, replication)
        reports: list[tuple[str, LiveFunctionReport]] = []
        for repository in repositories:
            name = repository["name"]
            organization = repository.get("organization_id")
            for report in judge(
                functions[name],
                snapshot,
                organization_id=organization,
                observe_functions=observe,
            ):
                reports.append((name, report))
            for report in judge_repository_access(
                consumers[name], snapshot, organization_id=organization
            ):
                reports.append((name, report))
        calls = dict(self._calls + self.credentials.calls)
        return reports, calls, time.perf_counter() - started


def _with_deployed_image(
    target: LiveTarget, deployed: Mapping[str, _Deployed], account: str, region: str
) -> LiveTarget:
    if target.image is not None:
        return target
    running = parse_image_uri(deployed.get(target.function, _Deployed()).image_uri)
    if running is None or (running.account, running.region) != (account, region):
        return target
    return replace(target, image=running, image_deployed=True)


def _function_label(report: LiveFunctionReport, partition: str) -> str:
    """The function's ARN when its name is known, else its construct path."""
    if report.function.startswith("arn:"):
        return report.function
    if report.function_name and "*" not in report.function_name and report.account:
        return (
            f"arn:{partition}:lambda:{report.region}:{report.account}:function:"
            f"{report.function_name}"
        )
    return report.function


def _short(text: str) -> str:
    return text if len(text) <= DETAIL_MAX_CHARS else text[: DETAIL_MAX_CHARS - 3] + "..."


def check(
    config: Mapping[str, Any],
    *,
    session_factory: Callable[..., Any] | None = None,
    trigger: str = "direct",
    timeout: float | None = None,
) -> dict[str, Any]:
    """One run: check, publish the metric and the event, and return the summary.

    ``timeout``: seconds the checks may take; what is not checked by then is ``unverifiable``
    (and so counted), leaving the run time to publish.
    """
    import boto3

    started = time.perf_counter()
    partition = config.get("partition", "aws")
    reports, calls, seconds = MonitorCheck(
        config, session_factory=session_factory, timeout=timeout
    ).check_all()
    cannot_pull = [
        {
            "function": _function_label(report, partition),
            "repository": name,
            "status": report.status,
            "detail": _short(report.detail),
        }
        for name, report in reports
        if report.status != OK
    ]
    per_repository = Counter({r["name"]: 0 for r in config.get("repositories", ())})
    per_repository.update(item["repository"] for item in cannot_pull)
    session = (session_factory or boto3.Session)()
    region = config["region"]
    cloudwatch = session.client("cloudwatch", region_name=region)
    data = [
        {
            "MetricName": METRIC_NAME,
            "Dimensions": [{"Name": DIMENSION, "Value": name}],
            "Value": float(count),
            "Unit": "Count",
        }
        for name, count in sorted(per_repository.items())
    ] + [
        {
            "MetricName": METRIC_NAME,
            "Dimensions": [{"Name": DIMENSION, "Value": ALL_REPOSITORIES}],
            "Value": float(len(cannot_pull)),
            "Unit": "Count",
        }
    ]
    for start in range(0, len(data), _PUT_METRIC_BATCH):
        cloudwatch.put_metric_data(
            Namespace=NAMESPACE, MetricData=data[start : start + _PUT_METRIC_BATCH]
        )
    calls["cloudwatch:PutMetricData"] = -(-len(data) // _PUT_METRIC_BATCH)
    if cannot_pull:
        parts = [
            cannot_pull[i : i + FUNCTIONS_PER_EVENT]
            for i in range(0, len(cannot_pull), FUNCTIONS_PER_EVENT)
        ]
        entries = [
            {
                "Source": EVENT_SOURCE,
                "DetailType": DETAIL_TYPE,
                "Resources": sorted(
                    {
                        f"arn:{partition}:ecr:{region}:{config['account']}:repository/"
                        + item["repository"]
                        for item in part
                    }
                ),
                "Detail": json.dumps(
                    {
                        "checked": len(reports),
                        "cannot_pull_count": len(cannot_pull),
                        "part": index + 1,
                        "parts": len(parts),
                        "cannot_pull": part,
                    }
                ),
            }
            for index, part in enumerate(parts)
        ]
        events = session.client("events", region_name=region)
        for start in range(0, len(entries), _PUT_EVENTS_BATCH):
            answer = events.put_events(Entries=entries[start : start + _PUT_EVENTS_BATCH])
            if answer.get("FailedEntryCount"):
                raise RuntimeError(f"PutEvents failed for some entries: {answer.get('Entries')}")
        calls["events:PutEvents"] = -(-len(entries) // _PUT_EVENTS_BATCH)
    summary: dict[str, Any] = {
        "message": DETAIL_TYPE,
        "trigger": trigger,
        "checked": len(reports),
        "cannot_pull_count": len(cannot_pull),
        "statuses": dict(sorted(Counter(r.status for _, r in reports).items())),
        "repositories": dict(sorted(per_repository.items())),
        "cannot_pull": cannot_pull,
        "calls": dict(sorted(calls.items())),
        "check_seconds": round(seconds, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    print(json.dumps(summary, separators=(",", ":")))  # the run's one log line
    return summary


def handler(event: Mapping[str, Any] | None, context: Any) -> dict[str, Any]:
    """The Lambda entry point (``ecr_lambda_access.monitor_check.handler``)."""
    trigger = str((event or {}).get("detail-type") or "direct")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    # the checks stop a minute before Lambda's timeout, so the metric and the event still go out
    timeout = max(10.0, remaining() / 1000 - 60) if callable(remaining) else None
    return check(load_config(), trigger=trigger, timeout=timeout)
