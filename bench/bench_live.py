"""The live check (`audit PATH --live`) on a fleet against moto: 500 functions in 25 accounts.

Runs on its own, without the synth benchmarks::

    scripts/with-env python bench/bench_live.py [--functions 500] [--accounts 25] [--rounds 3]
                                               [--json] [--update-docs]

``--update-docs`` replaces its own section (and summary row) of docs/benchmarks.md in place;
``make bench`` runs it as part of the whole benchmark (``--skip-live`` to leave it out).

The fleet (tests/live_fleet.py) is written as a cloud assembly (data, no synth) and deployed
into moto once; each round then runs the whole check with fresh credentials and clients (so
nothing is cached between rounds): the static audit of the assembly, AssumeRole and
GetCallerIdentity per account, and every read call. Variants:

* ``moto``: the calls as fast as moto answers them (in-process: the CPU, not the network, is the
  limit, so the thread pool matters little here);
* ``moto + L ms``: a simulated network latency of L ms per call (a ``before-send`` hook that
  sleeps), to show what the bounded concurrency buys against real AWS.

No network is used: fake credentials, moto's ``mock_aws``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import live_fleet as lf  # noqa: E402

from ecr_lambda_access.audit import live  # noqa: E402

REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")


def _environment() -> None:
    os.environ.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_SESSION_TOKEN="testing",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=os.devnull,
        AWS_SHARED_CREDENTIALS_FILE=os.devnull,
        AWS_EC2_METADATA_DISABLED="true",
    )
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)


def _one_run(
    assembly: Path, gaps: lf.MotoGaps, *, workers: int, latency: float
) -> tuple[float, live.LiveReport]:
    def factory(**kwargs: Any) -> Any:
        session = gaps.session_factory(**kwargs)
        if latency:
            session.events.register_first("before-send", lambda **_: time.sleep(latency) or None)
        return session

    started = time.perf_counter()
    _, targets = live.audit_with_targets(str(assembly))
    credentials = live.AccountCredentials(
        role_arn_template=lf.ROLE_TEMPLATE, session_factory=factory, max_workers=workers
    )
    report = live.LiveCheck(credentials, max_workers=workers).run(targets)
    return time.perf_counter() - started, report


def measure(
    functions: int, accounts: int, rounds: int, variants: list[tuple[int, float]]
) -> dict[str, Any]:
    from moto import mock_aws

    _environment()
    per_account = max(1, functions // accounts)
    results: dict[str, Any] = {
        "functions": per_account * accounts,
        "accounts": accounts,
        "regions": len(REGIONS),
        "repositories": len(REGIONS),
        "rounds": rounds,
        "variants": [],
        "measured": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "load_start": round(os.getloadavg()[0], 1),
    }
    with tempfile.TemporaryDirectory() as directory, mock_aws():
        fleet = lf.write_fleet(
            Path(directory) / "cdk.out", lf.accounts(accounts), list(REGIONS), per_account
        )
        gaps = lf.MotoGaps()
        started = time.perf_counter()
        lf.deploy(fleet, gaps)
        results["deploy_seconds"] = round(time.perf_counter() - started, 2)
        _one_run(fleet.assembly, gaps, workers=16, latency=0)  # warm: imports, models
        for workers, latency in variants:
            times = []
            for _ in range(rounds):
                seconds, report = _one_run(fleet.assembly, gaps, workers=workers, latency=latency)
                times.append(seconds)
                assert set(report.counts()) == {"ok"}, report.counts()
            results["variants"].append(
                {
                    "workers": workers,
                    "latency_ms": round(latency * 1000),
                    "median": round(statistics.median(times), 2),
                    "min": round(min(times), 2),
                    "max": round(max(times), 2),
                    "calls": dict(report.calls),
                    "accounts_reached": sum(a.reachable for a in report.accounts),
                }
            )
    results["load_end"] = round(os.getloadavg()[0], 1)
    return results


GOAL_SECONDS = 60.0
SECTION = "## 4c. The live check (`audit --live`) against moto"
DOCS = ROOT / "docs" / "benchmarks.md"


def table(results: dict[str, Any]) -> str:
    lines = [
        "| variant | workers | wall, median (min-max) | AWS calls |",
        "|---|---|---|---|",
    ]
    for v in results["variants"]:
        name = "moto" if not v["latency_ms"] else f"moto + {v['latency_ms']} ms per call"
        lines.append(
            f"| {name} | {v['workers']} | {v['median']:.2f} s ({v['min']:.2f}-{v['max']:.2f}) "
            f"| {sum(v['calls'].values())} |"
        )
    return "\n".join(lines)


def headline(results: dict[str, Any]) -> dict[str, Any]:
    """The default variant: moto, no added latency, 16 workers."""
    return next(v for v in results["variants"] if v["workers"] == 16 and not v["latency_ms"])


def summary_row(results: dict[str, Any]) -> tuple[str, str, str, str]:
    seconds = headline(results)["median"]
    return (
        f"4. live check (`audit --live`), {results['functions']} functions in "
        f"{results['accounts']} accounts, against moto",
        f"{seconds:.2f} s median",
        f"well under {GOAL_SECONDS:.0f} s",
        "met" if seconds < GOAL_SECONDS / 4 else "NOT met",
    )


def section(results: dict[str, Any]) -> str:
    calls = headline(results)["calls"]
    listed = ", ".join(f"{operation} {n}" for operation, n in sorted(calls.items()))
    return "\n".join(
        [
            SECTION,
            "",
            f"Measured {results['measured']} UTC (load average {results['load_start']} at the "
            f"start, {results['load_end']} at the end). "
            f"`python bench/bench_live.py` (runs on its own, `make bench-live`; `make bench` runs "
            "it too): "
            f"{results['functions']} container-image functions in {results['accounts']} "
            f"accounts and {results['regions']} Regions, one registry repository per Region "
            f"(tests/live_fleet.py), written as an assembly and deployed into moto once "
            f"({results['deploy_seconds']} s). Each round is the whole check with fresh "
            "credentials and clients: the static audit of the assembly, AssumeRole and "
            "GetCallerIdentity per account, every read call, the verdicts. "
            f"{results['rounds']} rounds per variant; every function `ok` in every round. The "
            "latency variants add a sleep before each request, as a network would: moto answers "
            "in-process, so without it the CPU (one interpreter, the GIL) is the limit and the "
            "thread pool matters little.",
            "",
            table(results),
            "",
            f"Calls of one run: {listed}. One `GetRepositoryPolicy` and one `DescribeImages` "
            "batch per repository (cached), one `GetFunction` per function, credentials once "
            "per account.",
            "",
        ]
    )


def update_docs(results: dict[str, Any], path: Path = DOCS) -> None:
    """Replace (or add) this section and its summary row in docs/benchmarks.md, in place."""
    text = path.read_text()
    block = section(results)
    if SECTION in text:
        start = text.index(SECTION)
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + block + (text[end + 1 :] if end != -1 else "")
    else:
        anchor = text.find("\n## Where the time goes")
        anchor = anchor + 1 if anchor != -1 else len(text)
        text = text[:anchor] + block + "\n" + text[anchor:]
    row = "| " + " | ".join(summary_row(results)) + " |"
    lines = text.split("\n")
    old = [i for i, line in enumerate(lines) if line.startswith("| 4. live check")]
    if old:
        lines[old[0]] = row
    else:
        last_four = max(i for i, line in enumerate(lines) if line.startswith("| 4. "))
        lines.insert(last_four + 1, row)
    path.write_text("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=500)
    parser.add_argument("--accounts", type=int, default=25)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=25)
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--update-docs",
        action="store_true",
        help="also replace this benchmark's section and summary row in docs/benchmarks.md",
    )
    args = parser.parse_args(argv)
    latency = args.latency_ms / 1000
    variants = [(16, 0.0), (4, latency), (16, latency), (32, latency)]
    results = measure(args.functions, args.accounts, args.rounds, variants)
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        print(
            f"{results['functions']} functions in {results['accounts']} accounts, "
            f"{results['regions']} Regions; deployed into moto in {results['deploy_seconds']} s"
        )
        print(table(results))
    if args.update_docs:
        update_docs(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
