"""Checks (or refreshes) the committed snapshots of ``tests/integ/integ_*.py``, offline.

    python tests/integ/snapshots.py verify   # make integ (part of make test)
    python tests/integ/snapshots.py update   # after a reviewed change: rewrite the snapshots

Why this and not ``integ-runner``'s snapshot mode alone: the newest ``@aws-cdk/integ-runner`` on
npm (2.197.10, pinned in package.json) reads cloud assemblies up to schema 53, and aws-cdk-lib
2.275 writes schema 55 ("Cloud assembly schema version mismatch"). Until a release reads them,
this script does what its snapshot mode does, the same way, so the snapshots stay valid for it:

* each test file is synthesized as integ-runner runs it (``python integ_x.py`` in this
  directory, its environment ``CDK_INTEG_ACCOUNT=12345678``/``CDK_INTEG_REGION=test-region``,
  and the recommended feature flags integ-runner passes as context);
* the snapshot is that assembly without the staged asset directories (as integ-runner keeps it);
* verification compares every template and the test cases of ``integ.json``, with asset hashes
  replaced by ``AssetN`` (integ-runner's canonicalization), then runs ``ecr-lambda-access audit``
  on the assembly: the wiring the test would deploy must pass the pipeline check.

Exit status 0 when every snapshot matches, 1 otherwise (with a diff of what changed).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RUNNER = ROOT / "node_modules" / "@aws-cdk" / "integ-runner"
SYNTH_ENV = {"CDK_INTEG_ACCOUNT": "12345678", "CDK_INTEG_REGION": "test-region"}
TARGET_PARTITIONS = "@aws-cdk/core:target-partitions"  # integ-runner leaves it unset


def tests() -> list[Path]:
    return sorted(HERE.glob("integ_*.py"))


def snapshot_dir(test: Path) -> Path:
    return test.with_name(test.name + ".snapshot")


def runner_context() -> dict[str, Any]:
    flags_file = RUNNER / "lib" / "recommended-feature-flags.json"
    if not flags_file.exists():
        raise SystemExit(f"{flags_file} is missing: run `make setup` (npm ci installs it)")
    context: dict[str, Any] = json.loads(flags_file.read_text())
    context.pop(TARGET_PARTITIONS, None)
    return context


def synthesize(test: Path, outdir: Path) -> None:
    """Synthesize one test app into ``outdir`` the way integ-runner does."""
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CDK_", "AWS_"))},
        **SYNTH_ENV,
        "CDK_OUTDIR": str(outdir),
        "CDK_CONTEXT_JSON": json.dumps(runner_context()),
    }
    for name in ("JSII_NODE", "CDK_DISABLE_CLI_TELEMETRY"):
        if name in os.environ:
            environment[name] = os.environ[name]
    result = subprocess.run(
        [sys.executable, test.name],
        cwd=HERE,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"{test.name} failed to synthesize:\n{result.stderr}")


def strip_assets(assembly: Path) -> None:
    """Drop the staged asset directories and caches, as integ-runner does for its snapshots."""
    for entry in assembly.iterdir():
        if entry.is_dir() and (entry.name.startswith("asset.") or entry.name == ".cache"):
            shutil.rmtree(entry)


def asset_hashes(assembly: Path) -> list[str]:
    """Every asset id of the assembly's asset manifests (file and Docker image assets)."""
    found: list[str] = []
    for manifest in sorted(assembly.glob("*.assets.json")):
        data = json.loads(manifest.read_text())
        for kind in ("files", "dockerImages"):
            found += [key for key in data.get(kind, {}) if key not in found]
    return found


def canonical(value: Any, hashes: list[str]) -> Any:
    """The template with every asset hash replaced by ``AssetN`` (integ-runner's rule), and
    without the ``salt`` (the synth time) that makes an assertion run again on every deploy."""
    for resource in value.get("Resources", {}).values():
        if str(resource.get("Type", "")).startswith("Custom::DeployAssert@"):
            resource.get("Properties", {}).pop("salt", None)
    text = json.dumps(value, indent=1, sort_keys=True)
    for index, digest in enumerate(hashes, start=1):
        text = text.replace(digest, f"Asset{index}")
    return json.loads(text)


def templates(assembly: Path) -> Iterator[Path]:
    yield from sorted(assembly.glob("*.template.json"))


def test_cases(assembly: Path) -> Any:
    integ = json.loads((assembly / "integ.json").read_text())
    return integ["testCases"]


def compare(test: Path, actual: Path) -> list[str]:
    expected = snapshot_dir(test)
    if not expected.is_dir():
        return [f"{test.name}: no snapshot ({expected.name}); run `{sys.argv[0]} update`"]
    problems: list[str] = []
    names = [t.name for t in templates(actual)]
    if names != [t.name for t in templates(expected)]:
        problems.append(f"{test.name}: templates differ: {names}")
    for name in names:
        if not (expected / name).exists():
            continue
        got = canonical(json.loads((actual / name).read_text()), asset_hashes(actual))
        want = canonical(json.loads((expected / name).read_text()), asset_hashes(expected))
        if got != want:
            diff = difflib.unified_diff(
                json.dumps(want, indent=1, sort_keys=True).splitlines(),
                json.dumps(got, indent=1, sort_keys=True).splitlines(),
                f"{expected.name}/{name}",
                f"synthesized/{name}",
                lineterm="",
            )
            problems.append("\n".join(list(diff)[:80]))
    if test_cases(actual) != test_cases(expected):
        problems.append(f"{test.name}: integ.json test cases differ")
    return problems


def audit(test: Path, assembly: Path) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "ecr_lambda_access", "audit", str(assembly)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return [f"{test.name}: the audit fails the assembly:\n{result.stdout}{result.stderr}"]
    return []


def main(argv: list[str]) -> int:
    if argv not in (["verify"], ["update"]):
        print(__doc__, file=sys.stderr)
        return 2
    found = tests()
    if not found:
        print("no tests/integ/integ_*.py found", file=sys.stderr)
        return 1
    problems: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory(prefix="integ-snapshots-") as scratch:
        for test in found:
            outdir = Path(scratch) / test.name
            synthesize(test, outdir)
            strip_assets(outdir)
            found_problems = audit(test, outdir)
            if argv == ["update"]:
                shutil.rmtree(snapshot_dir(test), ignore_errors=True)
                shutil.copytree(outdir, snapshot_dir(test))
                status = "UPDATED"
            else:
                found_problems += compare(test, outdir)
                status = "CHANGED" if found_problems else "UNCHANGED"
            print(f"  {status:<10} {test.name}")
            if found_problems:
                problems[test.name] = found_problems
    for problem in (p for found_problems in problems.values() for p in found_problems):
        print(problem, file=sys.stderr)
    print(f"integ snapshots: {len(found) - len(problems)} of {len(found)} unchanged")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
