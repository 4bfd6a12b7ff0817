"""A fuzz test of the audit gate: a real assembly, mutated as a stranger's might be.

The committed integ snapshot ``tests/integ/integ_cross_account.py.snapshot`` (a cross-account
function and its registry, synthesized by the CDK) is mutated: a value of the manifest or of a
template swapped for another type, a key removed, a value nested deep. Whatever the mutation, the
command ends with exit status 0, 1 or 2, at most one line on stderr, and never the CLI's last line
of defence ("this is a bug"): every input is judged, not merely survived. In-process (one
interpreter, no subprocess per example) and a bounded number of examples keep it fast; the
mutations are small (at most one value nested 200 deep); each audit runs under an address-space
cap (RLIMIT_AS: the process's size plus 1 GiB) and hypothesis' deadline bounds its time.
"""

from __future__ import annotations

import contextlib
import io
import json
import resource
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecr_lambda_access import cli

SNAPSHOT = Path(__file__).parent / "integ" / "integ_cross_account.py.snapshot"
FILES = (
    "manifest.json",
    "CrossAccountWorkload.template.json",
    "CrossAccountRegistry.template.json",
    "CrossAccountWorkload.metadata.json",
    "CrossAccountImage.template.json",
    "CrossAccountWorkload.assets.json",
)
ORIGINAL = {name: json.loads((SNAPSHOT / name).read_text()) for name in FILES}

Path_ = tuple[str | int, ...]


def _locations(value: Any, here: Path_ = ()) -> list[Path_]:
    """Every location of a JSON document (the root included)."""
    found = [here]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _locations(item, (*here, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _locations(item, (*here, index))
    return found


LOCATIONS = {name: _locations(document) for name, document in ORIGINAL.items()}

REPLACEMENTS = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    st.booleans(),
    st.none(),
    st.text(max_size=20),
    st.sampled_from(["", "../../etc/passwd", "/dev/zero", "*", "arn:aws:iam::*:root", "\x1b[2J"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.just({"Ref": 5}),
    st.just({"Fn::Join": ["", [1, {"Ref": ["x"]}]]}),
    st.just({"Fn::GetAtt": 7}),
    st.just({"Fn::Sub": [5, {}]}),
)
KINDS = ("replace", "remove", "nest", "wrap")


def _mutate(document: Any, location: Path_, kind: str, replacement: Any) -> Any:
    if not location:
        return replacement if kind == "replace" else [document]
    parent = document
    for step in location[:-1]:
        parent = parent[step]
    last = location[-1]
    if kind == "remove":
        del parent[last]
    elif kind == "replace":
        parent[last] = replacement
    elif kind == "nest":  # the value 200 levels down, in alternating lists and objects
        value = parent[last]
        for depth in range(200):
            value = [value] if depth % 2 else {"Fn::Join": value}
        parent[last] = value
    else:  # wrap: the value where a list or an object of it belongs
        parent[last] = {"value": parent[last]} if isinstance(parent[last], list) else [parent[last]]
    return document


SHALLOW = {name: [p for p in found if len(p) <= 4] for name, found in LOCATIONS.items()}
"""Where a stranger's change meets the most code: a resource's properties and their values, an
artifact's fields; drawn three times as often as any location."""
WEIGHTED_FILES = (
    *FILES,
    "CrossAccountWorkload.template.json",
    "CrossAccountWorkload.template.json",
    "CrossAccountRegistry.template.json",
    "manifest.json",
)


@st.composite
def mutations(draw: st.DrawFn) -> list[tuple[str, Path_, str, Any]]:
    found = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(WEIGHTED_FILES))
        where = SHALLOW if draw(st.integers(0, 3)) else LOCATIONS
        location = draw(st.sampled_from(where[name]))
        found.append((name, location, draw(st.sampled_from(KINDS)), draw(REPLACEMENTS)))
    return found


HEADROOM = 1024 * 1024 * 1024
"""Bytes of address space one audit may add to the test process (RLIMIT_AS, while it runs)."""


@contextlib.contextmanager
def memory_cap() -> Iterator[None]:
    """The process's address space capped at its current size plus HEADROOM (Linux)."""
    status = Path("/proc/self/status").read_text()
    size = int(status.split("VmSize:", 1)[1].split()[0]) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    cap = size + HEADROOM if hard == resource.RLIM_INFINITY else min(size + HEADROOM, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _audit(directory: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with memory_cap(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["audit", str(directory), *args])
    return status, out.getvalue(), err.getvalue()


def test_the_unmutated_snapshot_passes() -> None:
    with tempfile.TemporaryDirectory() as directory:
        shutil.copytree(SNAPSHOT, directory, dirs_exist_ok=True)
        status, out, err = _audit(Path(directory))
    assert (status, err) == (0, "")
    assert "passed: 1 function(s): 1 ok" in out


@settings(
    max_examples=int(__import__("os").environ.get("FUZZ_EXAMPLES", "150")),
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=not __import__("os").environ.get("FUZZ_EXAMPLES"),
)
@given(changes=mutations(), output=st.sampled_from(["text", "json", "sarif", "junit"]))
def test_a_mutated_assembly_is_judged_never_crashes(
    changes: list[tuple[str, Path_, str, Any]], output: str
) -> None:
    documents = json.loads(json.dumps(ORIGINAL))
    for name, location, kind, replacement in changes:
        replacement = json.loads(json.dumps(replacement))  # never the strategy's own object
        try:
            documents[name] = _mutate(documents[name], location, kind, replacement)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed or retyped the location
    with tempfile.TemporaryDirectory() as directory:
        shutil.copytree(SNAPSHOT, directory, dirs_exist_ok=True)
        for name, document in documents.items():
            (Path(directory) / name).write_text(json.dumps(document))
        status, out, err = _audit(Path(directory), "--format", output)
    assert status in (0, 1, 2), (status, err)
    assert err.count("\n") <= 1, err
    assert "Traceback" not in out + err
    assert "this is a bug" not in err, err
    assert "memory available" not in err, err  # a MemoryError under the cap
    if status == 2:
        assert err.startswith("ecr-lambda-access: error: "), err
    else:
        assert err == "", err


ONE_FIELD = [
    (name, location)
    for name in ("CrossAccountWorkload.template.json", "CrossAccountRegistry.template.json")
    for location in LOCATIONS[name]
    if len(location) >= 3 and location[0] == "Resources"
] + [
    ("manifest.json", location)
    for location in LOCATIONS["manifest.json"]
    if 2 <= len(location) <= 4
    and location[1] in ("CrossAccountWorkload", "CrossAccountRegistry", "CrossAccountImage")
]


def test_every_one_field_type_swap_of_the_functions_and_repositories_is_judged() -> None:
    """Exhaustive where the fuzz test samples: each value of the function's and the
    repository's resources (and of their stacks' artifacts) once as a number, once in the
    wrong container, once removed, as the issue's 110 one-field mutations did."""
    assert len(ONE_FIELD) > 150
    crashed: list[str] = []
    with tempfile.TemporaryDirectory() as directory:
        shutil.copytree(SNAPSHOT, directory, dirs_exist_ok=True)
        for name, location in ONE_FIELD:
            for kind, replacement in (("replace", 12345), ("wrap", None), ("remove", None)):
                document = _mutate(
                    json.loads(json.dumps(ORIGINAL[name])), location, kind, replacement
                )
                (Path(directory) / name).write_text(json.dumps(document))
                status, _, err = _audit(Path(directory))
                if status not in (0, 1, 2) or "this is a bug" in err or err.count("\n") > 1:
                    crashed.append(f"{name} {location} {kind}: {err.strip()}")
            (Path(directory) / name).write_text(json.dumps(ORIGINAL[name]))
    assert crashed == []
