"""The README stays true: every Python snippet runs, and it gives exactly two commands."""

from __future__ import annotations

import re

import pytest
from support import ROOT

README = (ROOT / "README.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_snippets() -> None:
    assert len(SNIPPETS) >= 3


@pytest.mark.parametrize("index", range(len(SNIPPETS)))
def test_readme_snippet_runs(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    # conftest.py sets CDK_CONTEXT_JSON as `cdk synth` does, so App() gets cdk.json's flags.
    namespace: dict[str, object] = {"__name__": f"readme_snippet_{index}"}
    exec(compile(SNIPPETS[index], f"README.md snippet {index + 1}", "exec"), namespace)


def test_readme_gives_exactly_two_commands_on_a_fresh_machine() -> None:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make synth", "make test"]
