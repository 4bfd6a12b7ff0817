"""Scale with replicas: consumer accounts served against policy characters and synth time.

One source repository (registry account, us-east-1), its replicas in the registry account's other
two Regions (eu-west-1, ap-southeast-2), and R replicas in consumer accounts, spread over the 3
Regions. Each repository's policy lists only its own consumers: the source admits
``PER_REPOSITORY`` accounts (so do its same-account replicas, in their Regions), and each account
replica admits its own account plus ``PER_REPOSITORY - 1`` others, with one ``ContainerFunction``
of that account registered on it. So accounts served grow with R while every policy stays under
ECR's 10,240 characters; ECR caps R at 25 (unique cross-account replication destinations).

Run on its own (it is not part of ``make bench``, which it leaves alone)::

    scripts/with-env python bench/replicas.py                # every row, writes its section
    scripts/with-env python bench/replicas.py --rounds 1 --output -
    python bench/replicas.py --case R OUTDIR                 # one timed process (used by the above)

It writes its table into ``docs/benchmarks.md`` between the ``replicas`` markers (appended when
absent); ``bench/run.py`` keeps that section when it rewrites the file.
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
REGISTRY = "111111111111"
SOURCE_REGION = "us-east-1"
REGIONS = ("us-east-1", "eu-west-1", "ap-southeast-2")
PER_REPOSITORY = 100
ROWS = (0, 1, 5, 10, 25)
BEGIN = "<!-- replicas:begin (bench/replicas.py) -->"
END = "<!-- replicas:end -->"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def replica_account(index: int) -> str:
    return f"{300_000_000_000 + index * 1000:012d}"


def consumers_of(index: int) -> list[str]:
    """``PER_REPOSITORY`` accounts for repository ``index`` (-1: the source), all distinct."""
    base = 500_000_000_000 + (index + 1) * 10_000
    return [f"{base + n:012d}" for n in range(PER_REPOSITORY)]


def run_case(replicas: int, outdir: str) -> dict[str, Any]:
    """Build and synthesize one app; the JSON of what was measured inside the process."""
    sys.path.insert(0, str(ROOT / "src"))
    import aws_cdk as cdk

    from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo
    from ecr_lambda_access.policy import policy_length

    imported = time.perf_counter()
    context = json.loads((ROOT / "cdk.json").read_text())["context"]
    app = cdk.App(context=context, outdir=outdir, analytics_reporting=False)
    source_stack = cdk.Stack(
        app, "Source", env=cdk.Environment(account=REGISTRY, region=SOURCE_REGION)
    )
    source = CrossAccountImageRepo(
        source_stack, "Images", repository_name="shared/orders", consumers=consumers_of(-1)
    )
    served = set(consumers_of(-1))
    repositories = [source]
    for region in REGIONS:
        if region != SOURCE_REGION:
            # The registry account's own replicas: the same consumers in the other Regions.
            stack = cdk.Stack(
                app, f"Registry-{region}", env=cdk.Environment(account=REGISTRY, region=region)
            )
            repositories.append(source.add_replica(stack))
    same_account = len(repositories)
    for index in range(replicas):
        account = replica_account(index)
        region = REGIONS[index % len(REGIONS)]
        stack = cdk.Stack(
            app, f"Account{index}", env=cdk.Environment(account=account, region=region)
        )
        others = consumers_of(index)[: PER_REPOSITORY - 1]
        repositories.append(source.add_replica(stack, consumers=others))
        ContainerFunction(
            stack, "Worker", repository=source, tag_or_digest=DIGEST, function_name="worker"
        )
        served.update([account, *others])
    built = time.perf_counter()
    assembly = app.synth()
    synthesized = time.perf_counter()

    def policy_chars(repository: Any) -> int:
        """The synthesized template's RepositoryPolicyText, as ECR receives it."""
        stack = cdk.Stack.of(repository)
        template = assembly.get_stack_by_name(stack.stack_name).template
        logical_id = stack.get_logical_id(repository.node.default_child)
        properties = template["Resources"][logical_id]["Properties"]
        return policy_length(properties["RepositoryPolicyText"])

    chars = [policy_chars(r) for r in repositories]
    return {
        "replicas": replicas,
        "regions": len({cdk.Stack.of(r).region for r in repositories}),
        "accounts_served": len(served),
        "max_chars": max(chars),
        "source_chars": chars[0],
        "same_account_chars": max(chars[1:same_account]),
        "replica_chars": statistics.median(chars[same_account:]) if replicas else None,
        "import_s": imported - _START,
        "build_s": built - imported,
        "synth_s": synthesized - built,
    }


def _one(replicas: int) -> tuple[float, dict[str, Any]]:
    with tempfile.TemporaryDirectory() as outdir:
        start = time.perf_counter()
        done = subprocess.run(
            [sys.executable, __file__, "--case", str(replicas), outdir],
            capture_output=True,
            text=True,
            check=False,
            env=os.environ,
        )
        wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"case {replicas} failed:\n{done.stderr[-3000:]}")
    return wall, json.loads(done.stdout.strip().splitlines()[-1])


def measure(counts: list[int], rounds: int) -> list[dict[str, Any]]:
    """Every row, ``rounds`` times, interleaved (the order rotated every round) so that the
    noise of a shared machine falls on all rows alike; medians per row."""
    walls: dict[int, list[float]] = {count: [] for count in counts}
    results: dict[int, list[dict[str, Any]]] = {count: [] for count in counts}
    for round_index in range(rounds):
        shift = round_index % len(counts)
        for count in counts[shift:] + counts[:shift]:
            print(f"round {round_index + 1}: replicas={count}", file=sys.stderr, flush=True)
            wall, result = _one(count)
            walls[count].append(wall)
            results[count].append(result)
    rows = []
    for count in counts:
        row = dict(results[count][0])
        row["wall_s"] = statistics.median(walls[count])
        row["wall_range"] = (min(walls[count]), max(walls[count]))
        row["synth_s"] = statistics.median(r["synth_s"] for r in results[count])
        rows.append(row)
    return rows


def render(rows: list[dict[str, Any]], rounds: int) -> str:
    base = rows[0]["wall_s"]
    lines = [
        BEGIN,
        "## 5. Replicas: one source, account replicas in 3 Regions (`bench/replicas.py`)",
        "",
        f"One source repository (us-east-1) admitting {PER_REPOSITORY} consumer accounts, its "
        "replicas in the registry account's eu-west-1 and ap-southeast-2 (the same consumers, "
        "in those Regions), and R replicas in consumer accounts' own registries, spread over "
        "us-east-1, eu-west-1 and ap-southeast-2. Each account replica admits its own "
        "account's function plus "
        f"{PER_REPOSITORY - 1} other accounts: every policy lists only its own consumers, so "
        "the accounts served grow with R while no policy grows. ECR allows at most 25 "
        "cross-account replication destinations per source registry. Policy characters: the "
        "rendered `RepositoryPolicyText` (`policy.policy_length`), limit 10,240. Wall: whole "
        f"process (interpreter, jsii kernel, build, synth), median (min-max) of {rounds} "
        "round(s), the rows interleaved; synth: `app.synth()` inside the process. "
        f"Load average when written: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs.",
        "",
        "| account replicas | Regions | consumer accounts served | policy chars, source | "
        "same-account replicas (largest) | account replicas (median) | largest policy | "
        "wall s | synth s | wall / no account replica |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        low, high = row["wall_range"]
        replica = "-" if row["replica_chars"] is None else f"{row['replica_chars']:,.0f}"
        lines.append(
            f"| {row['replicas']} | {row['regions']} | {row['accounts_served']:,} | "
            f"{row['source_chars']:,} | {row['same_account_chars']:,} | {replica} | "
            f"{row['max_chars']:,} | "
            f"{row['wall_s']:.2f} ({low:.2f}-{high:.2f}) | {row['synth_s']:.2f} | "
            f"{row['wall_s'] / base:.2f} |"
        )
    lines += [
        "",
        "One repository policy alone caps out at 114 whole accounts (section 2); with 25 account "
        "replicas the same image serves the table's last row, every policy under the limit.",
        END,
    ]
    return "\n".join(lines) + "\n"


def write_section(path: Path, section: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1].lstrip("\n")
        text = head + section + tail
    else:
        text = text.rstrip("\n") + "\n\n" + section
    path.write_text(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", nargs=2, metavar=("REPLICAS", "OUTDIR"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", default=",".join(map(str, ROWS)))
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(run_case(int(args.case[0]), args.case[1])))
        return 0
    rows = measure([int(x) for x in args.rows.split(",")], args.rounds)
    section = render(rows, args.rounds)
    print(section)
    if args.output != "-":
        write_section(Path(args.output), section)
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
