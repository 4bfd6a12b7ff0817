"""Profile one synth process on both sides of jsii: Python (pyinstrument) and Node (--cpu-prof).

``profile_case(argv, label, env)`` runs ``python -m pyinstrument bench/synth_app.py ...`` once
with ``NODE_OPTIONS=--cpu-prof`` and returns a Markdown section: the phases, the time spent in
our package (``src/ecr_lambda_access``) by function, and where the jsii kernel's Node process
spends its CPU time, by package.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyinstrument.frame import Frame
from pyinstrument.renderers import ConsoleRenderer
from pyinstrument.session import Session

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
OUR_PACKAGE = "/ecr_lambda_access/"
JSII_PACKAGE = "/jsii/"
TREE_LINES = 60
VALIDATE_PACKAGE = "@aws/cloudformation-validate"


@dataclass
class OurTime:
    inclusive: float = 0.0
    in_jsii: float = 0.0
    calls: int = 0


def _is_ours(frame: Frame) -> bool:
    return OUR_PACKAGE in (frame.file_path or "") and "/bench/" not in (frame.file_path or "")


def _outermost(frame: Frame, predicate: Any) -> list[Frame]:
    """The frames under ``frame`` (itself included) that match, not descending into matches."""
    if predicate(frame):
        return [frame]
    found: list[Frame] = []
    for child in frame.children:
        found += _outermost(child, predicate)
    return found


def our_functions(root: Frame) -> dict[str, OurTime]:
    """Inclusive time of our package's outermost frames, by function, and the part of it
    spent waiting on the jsii kernel (calls into aws-cdk-lib's JavaScript)."""
    result: dict[str, OurTime] = {}
    for frame in _outermost(root, _is_ours):
        name = f"{Path(frame.file_path or '').name}:{frame.function}"
        entry = result.setdefault(name, OurTime())
        entry.inclusive += frame.time
        entry.calls += 1
        entry.in_jsii += sum(
            f.time
            for child in frame.children
            for f in _outermost(child, lambda f: JSII_PACKAGE in (f.file_path or ""))
        )
    return result


def _package_of(url: str) -> str:
    if "node_modules/" in url:
        rest = url.rsplit("node_modules/", 1)[1].split("/")
        name = "/".join(rest[:2]) if rest[0].startswith("@") else rest[0]
        if name == "aws-cdk-lib" and len(rest) > 1:
            return f"aws-cdk-lib/{rest[1]}"
        return name
    if url.startswith("node:"):
        return "node (built-in modules)"
    if url.endswith(("program.js", "jsii-runtime.js")):
        return "jsii kernel"
    return url or "(V8 native: compilation, I/O)"


def node_cpu(profile_dir: Path) -> tuple[float, float, list[tuple[str, float]]]:
    """(busy CPU ms, idle ms, [(package, self ms)]) of the busiest Node process's profile.

    WebAssembly frames are charged to the JavaScript package that called them.
    """
    best: tuple[float, float, list[tuple[str, float]]] = (0.0, 0.0, [])
    for path in profile_dir.glob("*.cpuprofile"):
        data = json.loads(path.read_text())
        nodes = {n["id"]: n for n in data["nodes"]}
        parent = {c: n["id"] for n in data["nodes"] for c in n.get("children", [])}
        self_us: Counter[int] = Counter()
        for sample, delta in zip(data["samples"], data["timeDeltas"], strict=False):
            self_us[sample] += delta
        by_package: Counter[str] = Counter()
        idle = 0.0
        for node_id, micros in self_us.items():
            frame = nodes[node_id]["callFrame"]
            if frame["functionName"] == "(idle)":
                idle += micros
                continue
            url = frame["url"]
            walker = node_id
            while url.startswith("wasm") and walker in parent:
                walker = parent[walker]
                caller = nodes[walker]["callFrame"]["url"]
                if caller and not caller.startswith("wasm"):
                    url = caller
            if frame["functionName"] == "(garbage collector)":
                by_package["(garbage collector)"] += micros
            else:
                by_package[_package_of(url)] += micros
        busy = sum(by_package.values()) / 1000
        if busy > best[0]:
            ranked = [(name, us / 1000) for name, us in by_package.most_common(8)]
            best = (busy, idle / 1000, ranked)
    return best


def profile_case(
    argv: tuple[str, ...], label: str, env: dict[str, str]
) -> tuple[str, dict[str, float]]:
    """The Markdown section, and its headline numbers (seconds)."""
    work = Path(tempfile.mkdtemp(prefix="bench-profile-"))
    try:
        session_path = work / "synth.pyisession"
        cpu_dir = work / "cpu"
        outdir = work / "out"
        command = [
            sys.executable, "-m", "pyinstrument", "-r", "session", "-o", str(session_path),
            str(BENCH / "synth_app.py"), argv[0], str(outdir), *argv[1:],
        ]  # fmt: skip
        profiled_env = {**env, "NODE_OPTIONS": f"--cpu-prof --cpu-prof-dir={cpu_dir}"}
        done = subprocess.run(
            command, cwd=ROOT, env=profiled_env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"profile of {label} failed:\n{done.stderr[-4000:]}")
        phases = json.loads(done.stdout.strip().splitlines()[-1])
        session = Session.load(session_path)
        root = session.root_frame()
        if root is None:
            raise RuntimeError(f"profile of {label}: no samples")
        total = session.duration
        ours = our_functions(root)
        ours_total = sum(o.inclusive for o in ours.values())
        ours_jsii = sum(o.in_jsii for o in ours.values())
        busy, idle, packages = node_cpu(cpu_dir)
        tree = ConsoleRenderer(unicode=True, color=False, short_mode=True).render(session)
        tree_lines = [line for line in tree.splitlines() if line.strip()]
    finally:
        shutil.rmtree(work, ignore_errors=True)

    lines = [
        f"## Profile of the heaviest synth of ours: {label}",
        "",
        f"One run under pyinstrument (Python side) with `NODE_OPTIONS=--cpu-prof` (the jsii "
        f"kernel's Node side): {total:.2f} s under the profilers (both slow it down). Phases "
        f"inside the process: import {phases['import_s']:.2f} s (aws_cdk with the jsii kernel "
        f"start, and the app's modules), build {phases['build_s']:.2f} s, synth "
        f"{phases['synth_s']:.2f} s; Python's own CPU time {session.cpu_time:.2f} s.",
        "",
        f"**Our package** (`src/ecr_lambda_access`, outermost frames, construction and the "
        f"synth-time callbacks together): {ours_total:.3f} s = {ours_total / total:.1%} of the "
        f"process, of which {ours_jsii:.3f} s waiting on jsii calls into aws-cdk-lib and "
        f"{ours_total - ours_jsii:.3f} s our own Python.",
        "",
        "| function (outermost frames) | calls sampled | inclusive s | in jsii calls s |",
        "|---|---|---|---|",
    ]
    for name, entry in sorted(ours.items(), key=lambda item: -item[1].inclusive)[:10]:
        lines.append(f"| `{name}` | {entry.calls} | {entry.inclusive:.3f} | {entry.in_jsii:.3f} |")
    lines += [
        "",
        f"**The jsii kernel's Node process**: {busy / 1000:.2f} s of CPU ({idle / 1000:.2f} s "
        "idle, waiting for Python); by package (WebAssembly charged to its JavaScript caller):",
        "",
        "| package | CPU s |",
        "|---|---|",
        *(f"| {name} | {ms / 1000:.2f} |" for name, ms in packages),
        "",
        "pyinstrument's call tree (library frames collapsed):",
        "",
        "```",
        *tree_lines[:TREE_LINES],
        *(["..."] if len(tree_lines) > TREE_LINES else []),
        "```",
        "",
    ]
    stats = {
        "total": total,
        "ours": ours_total,
        "ours_jsii": ours_jsii,
        "node_busy": busy / 1000,
        "validate": dict(packages).get(VALIDATE_PACKAGE, 0.0) / 1000,
        "import": phases["import_s"],
        "build": phases["build_s"],
        "synth": phases["synth_s"],
    }
    return "\n".join(lines), stats
