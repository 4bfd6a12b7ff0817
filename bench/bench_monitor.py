"""ImagePullMonitor's checker on a registry of 20 repositories and 500 functions, against moto.

Runs on its own::

    scripts/with-env python bench/bench_monitor.py [--repositories 20] [--functions 500]
                                                   [--accounts 25] [--rounds 3] [--latency-ms 0]

The registry (moto's default account, us-east-1) holds the repositories, each with the policy the
library writes for its consumers and one image; the functions run in ``--accounts`` consumer
accounts, spread over the repositories. Each round runs the whole check (``monitor_check.check``:
the reads, the metric, the event) with fresh clients, once without the read role (repository
side only) and once with it (plus AssumeRole and GetFunction per consumer). ``--latency-ms``
adds a simulated network latency per call (a ``before-send`` hook that sleeps). No network:
fake credentials, moto's ``mock_aws``. Prints the seconds and the AWS calls of a run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "src"))

import live_fleet as lf  # noqa: E402

from ecr_lambda_access import monitor_check  # noqa: E402
from ecr_lambda_access.policy import LambdaConsumer, repository_policy  # noqa: E402

OWN, REGION = "123456789012", "us-east-1"


def build(repositories: int, functions: int, accounts: int) -> tuple[dict[str, Any], lf.MotoGaps]:
    consumers = lf.accounts(accounts)
    gaps = lf.MotoGaps()
    entries = []
    session = lf.new_session()
    ecr = session.client("ecr", region_name=REGION)
    names = [f"team{i:02d}/app" for i in range(repositories)]
    placed: dict[str, list[tuple[str, str]]] = {n: [] for n in names}
    for index in range(functions):
        account = consumers[index % accounts]
        placed[names[index % repositories]].append((account, f"fn-{index:04d}"))
    roles: dict[str, str] = {}
    for name in names:
        document = repository_policy(
            [LambdaConsumer(a, function_name=f) for a, f in placed[name]],
            repository_account=OWN,
            region=REGION,
        )
        ecr.create_repository(repositoryName=name)
        ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(document))
        image = ecr.put_image(repositoryName=name, imageManifest=lf.manifest(), imageTag=lf.TAG)
        digest = image["image"]["imageId"]["imageDigest"]
        records = []
        for account, function in placed[name]:
            client = lf.account_session(account, REGION)
            if account not in roles:
                roles[account] = client.client("iam").create_role(
                    RoleName="fn-role", AssumeRolePolicyDocument="{}"
                )["Role"]["Arn"]
            client.client("lambda").create_function(
                FunctionName=function,
                PackageType="Image",
                Code={"ImageUri": f"{OWN}.dkr.ecr.{REGION}.amazonaws.com/{name}:{lf.TAG}"},
                Role=roles[account],
            )
            gaps.resolved[f"arn:aws:lambda:{REGION}:{account}:function:{function}"] = digest
            records.append(
                {
                    "function": f"Workload/{function}",
                    "stack": "Workload",
                    "stack_name": "Workload",
                    "logical_id": function.replace("-", ""),
                    "account": account,
                    "region": REGION,
                    "function_name": function,
                    "reference": lf.TAG,
                }
            )
        entries.append(
            {
                "name": name,
                "organization_id": None,
                "policy": document,
                "replica_source": None,
                "functions": records,
                "consumers": [],
            }
        )
    config = {
        "version": 1,
        "account": OWN,
        "region": REGION,
        "partition": "aws",
        "url_suffix": "amazonaws.com",
        "consumer_read_role": None,
        "repositories": entries,
    }
    return config, gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repositories", type=int, default=20)
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
    }.items():
        os.environ[name] = value

    def no_network(*_: Any, **__: Any) -> None:
        raise AssertionError("no network in the benchmark")

    socket.socket.connect = no_network  # type: ignore[method-assign,assignment]
    from moto import mock_aws

    with mock_aws():
        config, gaps = build(args.repositories, args.functions, args.accounts)

        def factory(**kwargs: Any) -> Any:
            session = gaps.session_factory(**kwargs)
            if args.latency_ms:
                delay = args.latency_ms / 1000
                session.events.register("before-send", lambda **_: time.sleep(delay))
            return session

        for label, read_role in (("repository side", None), ("with the read role", "x")):
            run_config = {
                **config,
                "consumer_read_role": (
                    "arn:aws:iam::{account}:role/ImagePullMonitorRead" if read_role else None
                ),
            }
            seconds = []
            summary: dict[str, Any] = {}
            for _ in range(args.rounds):
                started = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    summary = monitor_check.check(run_config, session_factory=factory)
                seconds.append(time.perf_counter() - started)
            print(
                json.dumps(
                    {
                        "variant": label,
                        "repositories": args.repositories,
                        "functions": args.functions,
                        "accounts": args.accounts,
                        "latency_ms": args.latency_ms,
                        "checked": summary["checked"],
                        "cannot_pull": summary["cannot_pull_count"],
                        "seconds_median": round(statistics.median(seconds), 3),
                        "seconds": [round(s, 3) for s in seconds],
                        "calls": summary["calls"],
                        "total_calls": sum(summary["calls"].values()),
                        # the whole process: moto's state and botocore's models included
                        "max_rss_mb": round(
                            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                        ),
                    }
                )
            )


if __name__ == "__main__":
    main()
