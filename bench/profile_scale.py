"""Where one ``ContainerFunction`` spends its build time: cProfile of the ``scale`` case.

    python bench/profile_scale.py [N] [ACCOUNTS]      # default 100 functions, 1 account
    python bench/profile_scale.py N ACCOUNTS --hand   # the hand-written app, totals only
    python bench/profile_scale.py N ACCOUNTS --same   # the same templates by hand, totals only

Builds ``bench/synth_app.py``'s ``scale`` app (N functions) under cProfile, without synth, and
prints a Markdown table: the functions of our package (and the aws-cdk-lib calls they make)
with their cumulative milliseconds per function, next to the jsii requests per function.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH), str(BENCH.parent)]

import synth_app  # noqa: E402

ROWS = (
    # (label, file suffix, function name)
    ("ContainerFunction.__init__ (all)", "ecr_lambda_access/function.py", "__init__"),
    ("aws_lambda.Function.__init__ (CDK's)", "aws_cdk/aws_lambda/__init__.py", "__init__"),
    ("sources.resolve_repository", "ecr_lambda_access/sources.py", "resolve_repository"),
    ("sources.register", "ecr_lambda_access/sources.py", "register"),
    ("repository.add_consumer (size check)", "ecr_lambda_access/repository.py", "add_consumer"),
    ("function._pre_construction_name", "ecr_lambda_access/function.py", "_pre_construction_name"),
    ("function._configure_log_group", "ecr_lambda_access/function.py", "_configure_log_group"),
    ("function._grant_logs", "ecr_lambda_access/function.py", "_grant_logs"),
    ("function._star_policy (X-Ray)", "ecr_lambda_access/function.py", "_star_policy"),
    ("sources.same_stage", "ecr_lambda_access/sources.py", "same_stage"),
    ("scanner_hints.acknowledge", "ecr_lambda_access/scanner_hints.py", "acknowledge"),
)


def main(argv: list[str]) -> int:
    hand = "--hand" in argv
    same = "--same" in argv
    argv = [a for a in argv if not a.startswith("-")] + [a for a in argv if a == "-v"]
    count = int(argv[0]) if argv and argv[0] != "-v" else 100
    accounts = int(argv[1]) if len(argv) > 1 and argv[1] != "-v" else 1
    import aws_cdk as cdk

    build = synth_app._load("scale-hand" if hand else "scale-same" if same else "scale")
    synth_app.count_jsii()
    app = cdk.App(context=synth_app._context(), outdir="/tmp/unused-profile-scale")
    profiler = cProfile.Profile()
    start = time.perf_counter()
    profiler.enable()
    build(app, count, accounts)  # type: ignore[call-arg]
    profiler.disable()
    elapsed = time.perf_counter() - start
    stats = pstats.Stats(profiler)
    table: dict[tuple[str, str], tuple[int, float]] = {}
    for (file, _line, name), (_cc, calls, _tt, cumulative, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for _label, suffix, function in ROWS:
            if file.endswith(suffix) and name == function:
                old = table.get((suffix, function), (0, 0.0))
                # Recursion-free functions: the largest cumulative entry is the whole.
                table[(suffix, function)] = (max(old[0], calls), max(old[1], cumulative))
    variant = "hand-written: " if hand else "same templates by hand: " if same else ""
    print(
        f"{variant}{count} functions in {accounts} account(s): build "
        f"{elapsed:.2f} s under cProfile ({elapsed * 1000 / count:.1f} ms per function), "
        f"{synth_app.jsii_total() / count:.1f} jsii requests per function"
    )
    if hand or same:
        return 0
    print()
    print("| where | ms per function (cumulative, under cProfile) |")
    print("|---|---|")
    for label, suffix, function in ROWS:
        calls, cumulative = table.get((suffix, function), (0, 0.0))
        print(f"| {label} | {cumulative * 1000 / count:.2f} |")
    if "-v" in argv:
        stats.sort_stats("cumulative").print_stats(40)
    return 0


if __name__ == "__main__":
    sys.exit(main([a for a in sys.argv[1:]]))
