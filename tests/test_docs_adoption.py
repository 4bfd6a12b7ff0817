"""docs/adoption.md stays true: every Python snippet runs (as test_readme.py does)."""

from __future__ import annotations

import re

import pytest
from support import ROOT

GUIDE = (ROOT / "docs" / "adoption.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", GUIDE, flags=re.DOTALL)

pytestmark = pytest.mark.synth


def test_the_guide_has_its_snippets() -> None:
    assert len(SNIPPETS) >= 3
    assert "ecr-lambda-access diff cdk.out.before cdk.out" in GUIDE


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_adoption_snippet_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    # conftest.py sets CDK_CONTEXT_JSON as `cdk synth` does, so App() gets cdk.json's flags.
    namespace: dict[str, object] = {"__name__": f"adoption_snippet_{index}"}
    exec(compile(SNIPPETS[index], f"docs/adoption.md snippet {index + 1}", "exec"), namespace)


def test_the_diff_snippet_reports_the_replacement_the_guide_describes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The guide says: drop cloudformation_generated_name=True and diff exits 1 naming
    FunctionName. Run that variant of the last snippet."""
    (snippet,) = [s for s in SNIPPETS if 'main(["diff"' in s]
    variant = snippet.replace(", cloudformation_generated_name=True", "").replace(
        'main(["diff", before, after]) == 0', 'main(["diff", before, after]) == 1'
    )
    assert variant != snippet
    exec(compile(variant, "docs/adoption.md diff variant", "exec"), {"__name__": "variant"})
    out = capsys.readouterr().out
    assert "REPLACED   AWS::Lambda::Function    Registry/Cleaner [" in out
    assert "replaced for FunctionName" in out
