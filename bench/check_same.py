"""Check that ``scale-same`` (plain aws-cdk-lib) synthesizes what ``scale`` (our constructs) does.

    python bench/check_same.py [N] [ACCOUNTS]     # default 60 functions in 3 accounts

Synthesizes both apps in this process and compares, stack by stack: the templates (parsed
JSON: every resource, property, list order and DependsOn), the stack dependencies of the
manifest, and the cdk-nag acknowledgements (``aws:cdk:acknowledged-rules``) of every construct
path. Prints what differs and exits 1 if anything does. tests/test_bench_same.py runs the same
comparison on a small app.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
for entry in (str(BENCH), str(BENCH.parent)):
    if entry not in sys.path:
        sys.path.insert(0, entry)

import synth_app  # noqa: E402

ACKNOWLEDGED = "aws:cdk:acknowledged-rules"


def synthesize(case: str, outdir: Path, count: int, accounts: int) -> Path:
    """``bench/synth_app.py``'s ``case`` app, synthesized into ``outdir``."""
    import aws_cdk as cdk

    build = synth_app._load(case)
    app = cdk.App(context=synth_app._context(), outdir=str(outdir))
    build(app, count, accounts)  # type: ignore[call-arg]
    app.synth()
    return outdir


def assembly_facts(outdir: Path) -> dict[str, Any]:
    """What the comparison looks at: templates, stack dependencies, acknowledgements."""
    manifest = json.loads((outdir / "manifest.json").read_text())
    templates: dict[str, Any] = {}
    dependencies: dict[str, list[str]] = {}
    acknowledged: dict[str, dict[str, str]] = {}
    for name, artifact in manifest["artifacts"].items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        templates[name] = json.loads((outdir / f"{name}.template.json").read_text())
        dependencies[name] = sorted(
            d for d in artifact.get("dependencies", []) if not d.endswith(".assets")
        )
    for metadata_file in outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == ACKNOWLEDGED:
                    acknowledged.setdefault(path, {}).update(entry["data"])
    return {"templates": templates, "dependencies": dependencies, "acknowledged": acknowledged}


def differences(ours: dict[str, Any], same: dict[str, Any]) -> list[str]:
    """Every difference between two :func:`assembly_facts`, one line each."""
    found: list[str] = []
    for kind in ("dependencies", "acknowledged"):
        for key in sorted(set(ours[kind]) | set(same[kind])):
            if ours[kind].get(key) != same[kind].get(key):
                found.append(
                    f"{kind} of {key}: ours {ours[kind].get(key)!r}, same {same[kind].get(key)!r}"
                )
    for stack in sorted(set(ours["templates"]) | set(same["templates"])):
        mine, theirs = ours["templates"].get(stack), same["templates"].get(stack)
        if mine is None or theirs is None:
            found.append(f"stack {stack}: only in {'same' if mine is None else 'ours'}")
            continue
        for section in sorted(set(mine) | set(theirs)):
            if section != "Resources":
                if mine.get(section) != theirs.get(section):
                    found.append(f"{stack}: section {section} differs")
                continue
            resources, other = mine["Resources"], theirs["Resources"]
            for logical_id in sorted(set(resources) | set(other)):
                if resources.get(logical_id) != other.get(logical_id):
                    found.append(
                        f"{stack}/{logical_id}: ours "
                        f"{json.dumps(resources.get(logical_id), sort_keys=True)[:400]}, same "
                        f"{json.dumps(other.get(logical_id), sort_keys=True)[:400]}"
                    )
    return found


def compare(count: int, accounts: int) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="check-same-") as tmp:
        ours = assembly_facts(synthesize("scale", Path(tmp) / "ours", count, accounts))
        same = assembly_facts(synthesize("scale-same", Path(tmp) / "same", count, accounts))
    if not ours["templates"]:
        return ["no stack synthesized"]
    return differences(ours, same)


def main(argv: list[str]) -> int:
    count = int(argv[0]) if argv else 60
    accounts = int(argv[1]) if len(argv) > 1 else 3
    found = compare(count, accounts)
    for line in found:
        print(line)
    print(
        f"scale and scale-same, {count} functions in {accounts} account(s): "
        + (
            "the same templates, stack dependencies and acknowledgements"
            if not found
            else f"{len(found)} differences"
        )
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
