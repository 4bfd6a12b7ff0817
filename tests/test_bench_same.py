"""``bench/synth_app.py scale-same`` writes what our constructs write (issue 18).

The scale benchmark's ``same`` variant is plain aws-cdk-lib that claims the templates of
``scale`` (``ContainerFunction`` on ``CrossAccountImageRepo``): ``ours / same`` is then the
library's own overhead, and ``same / hand`` the cost of the template content. The claim is
checked here on a small app (functions in two accounts, two per repository's stack).
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import check_same  # noqa: E402


def test_scale_same_synthesizes_the_templates_and_acknowledgements_of_scale(
    tmp_path: Path,
) -> None:
    ours = check_same.assembly_facts(check_same.synthesize("scale", tmp_path / "ours", 4, 2))
    same = check_same.assembly_facts(check_same.synthesize("scale-same", tmp_path / "same", 4, 2))
    assert len(ours["templates"]) == 3  # the registry and two workload stacks
    assert sum(len(rules) for rules in ours["acknowledged"].values()) == 8  # two a function
    assert check_same.differences(ours, same) == []

    # The comparison sees a property, a dependency and an acknowledgement that differ.
    changed = copy.deepcopy(same)
    workload = sorted(changed["templates"])[-1]
    resources = changed["templates"][workload]["Resources"]
    role = next(r for r in resources.values() if r["Type"] == "AWS::IAM::Role")
    role["Properties"]["ManagedPolicyArns"] = ["arn:aws:iam::aws:policy/AWSLambdaExecute"]
    changed["dependencies"][workload] = []
    path = sorted(changed["acknowledged"])[0]
    changed["acknowledged"][path] = {}
    found = check_same.differences(ours, changed)
    assert len(found) == 3, found
