"""One timed process: build a CDK app and ``app.synth()`` it into an output directory.

Run by ``bench/run.py`` once per measurement (whole-process timing: interpreter and jsii kernel
start-up are part of what a user pays on every ``cdk synth``)::

    python bench/synth_app.py ours OUTDIR           # examples/cross_account.py, our constructs
    python bench/synth_app.py hand OUTDIR           # bench/hand_written.py, plain aws-cdk-lib
    python bench/synth_app.py empty OUTDIR          # one stack, one resource: what any app pays
    python bench/synth_app.py consumers OUTDIR N    # one CrossAccountImageRepo, N consumer accounts
    python bench/synth_app.py fleet OUTDIR N        # 1 registry + N-1 workload stacks (audit input)

The app gets cdk.json's context (feature flags and the examples' accounts), as ``cdk synth``
gives it. The last line on stdout is a JSON object with the phases measured inside the process:
``import_s`` (aws_cdk with the jsii kernel start, and the modules that build the app),
``build_s`` (constructing the app), ``synth_s`` (``app.synth()``).
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

REGISTRY_ACCOUNT = "111111111111"
REGION = "us-east-1"
CASES = ("ours", "hand", "empty", "consumers", "fleet")

Builder = Callable[[Any, int], None]


def consumer_accounts(count: int) -> list[str]:
    """``count`` distinct 12-digit account ids, none of them the registry's."""
    return [f"{200_000_000_000 + index:012d}" for index in range(count)]


def fleet_accounts(stacks: int) -> list[str]:
    """The workload accounts of a ``fleet`` of ``stacks`` stacks: three workloads per account."""
    return consumer_accounts(max(1, (stacks - 1 + 2) // 3))


def _context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


def _load(case: str) -> Builder:
    """Import what the case needs (timed as start-up) and return the function that builds it."""
    from aws_cdk import Duration, Environment, Stack

    if case == "ours":
        from examples import cross_account
        from examples.settings import Settings

        def ours(app: Any, count: int) -> None:
            cross_account.build(app, Settings.from_context(app))

        return ours
    if case == "hand":
        import hand_written

        from examples.settings import Settings

        def hand(app: Any, count: int) -> None:
            hand_written.build(app, Settings.from_context(app))

        return hand
    if case == "empty":
        from aws_cdk import CfnWaitConditionHandle

        def empty(app: Any, count: int) -> None:
            # CloudFormation (and cdk.json's default validation rules) want one resource.
            stack = Stack(app, "Empty", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
            CfnWaitConditionHandle(stack, "Placeholder")

        return empty
    if case == "consumers":
        from ecr_lambda_access import CrossAccountImageRepo

        def consumers(app: Any, count: int) -> None:
            stack = Stack(app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION))
            CrossAccountImageRepo(
                stack,
                "Images",
                repository_name="shared/orders",
                consumers=consumer_accounts(count),
            )

        return consumers
    if case == "fleet":
        from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo
        from examples.queues import work_queue
        from examples.settings import EXAMPLE_DIGEST

        def fleet(app: Any, count: int) -> None:
            # One registry and count - 1 workload stacks (three per account, so that the
            # registry's policy, which names every function, stays under ECR's limit).
            registry = Stack(
                app, "Registry", env=Environment(account=REGISTRY_ACCOUNT, region=REGION)
            )
            images = CrossAccountImageRepo(registry, "Images", repository_name="shared/fleet")
            accounts = fleet_accounts(count)
            for index in range(count - 1):
                stack = Stack(
                    app,
                    f"Workload{index:03d}",
                    env=Environment(account=accounts[index // 3], region=REGION),
                )
                timeout = Duration.seconds(30)
                worker = ContainerFunction(
                    stack,
                    "Worker",
                    repository=images,
                    tag_or_digest=EXAMPLE_DIGEST,
                    timeout=timeout,
                    function_name=f"w{index:03d}",
                )
                worker.add_sqs_source(work_queue(stack, "Jobs", function_timeout=timeout))

        return fleet
    raise SystemExit(f"unknown case {case!r}: one of {', '.join(CASES)}")


def main(argv: list[str]) -> int:
    if len(argv) < 2 or argv[0] not in CASES:
        print(__doc__, file=sys.stderr)
        return 2
    case, outdir = argv[0], argv[1]
    count = int(argv[2]) if len(argv) > 2 else 1

    import aws_cdk as cdk

    build = _load(case)
    imported = time.perf_counter()

    app = cdk.App(context=_context(), outdir=outdir)
    build(app, count)
    built = time.perf_counter()

    app.synth()
    synthesized = time.perf_counter()
    phases = {
        "import_s": imported - _START,
        "build_s": built - imported,
        "synth_s": synthesized - built,
    }
    print(json.dumps(phases))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
