"""The README and the guides in docs/ stay true: every Python snippet of README.md and of every
docs/*.md runs, the README's example runs as a plain script with no feature flag and with the
flags a fresh `cdk init` writes, the README stays short and gives exactly two commands, and every
relative link of the documentation resolves (file and anchor)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

README = (ROOT / "README.md").read_text()
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [ROOT / "README.md", *DOCS]
"""Every page of the documentation: a guide added to docs/ is picked up without a change here."""

OTHERS_GUIDES = {
    "adoption.md",
    "audit-safety.md",
    "audit-registry.md",
    "evaluator.md",
    "monitor.md",
}
"""Guides written on other branches, linked from here: a link to one may not resolve until they
are merged (their snippets are run by the glob above as soon as they exist)."""

README_MAX_LINES = 300


def python_snippets(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


SNIPPETS = [
    (page.relative_to(ROOT).as_posix(), index, snippet)
    for page in PAGES
    for index, snippet in enumerate(python_snippets(page.read_text()))
]


def test_the_docs_have_snippets() -> None:
    pages = {page for page, _, _ in SNIPPETS}
    assert {"README.md", "docs/constructs.md", "docs/replicas.md", "docs/audit.md"} <= pages
    assert len(SNIPPETS) >= 8


@pytest.mark.parametrize(
    ("page", "index"), [(page, index) for page, index, _ in SNIPPETS], ids=lambda v: str(v)
)
def test_snippet_runs(page: str, index: int) -> None:
    # conftest.py sets CDK_CONTEXT_JSON as `cdk synth` does, so App() gets cdk.json's flags.
    (snippet,) = [s for p, i, s in SNIPPETS if (p, i) == (page, index)]
    namespace: dict[str, object] = {"__name__": f"snippet_{page}_{index}"}
    exec(compile(snippet, f"{page} snippet {index + 1}", "exec"), namespace)


def _init_flags() -> dict[str, object]:
    """The context `cdk init app --language python` writes into cdk.json: the recommended feature
    flags of the aws-cdk-lib installed (2.275's `recommended-feature-flags.json`, in its jsii
    tarball; the CDK CLI copies the same file into its init templates at build time)."""
    import tarfile

    import aws_cdk

    (tarball,) = (Path(aws_cdk.__file__).parent / "_jsii").glob("aws-cdk-lib@*.jsii.tgz")
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/recommended-feature-flags.json")
        assert member is not None
        flags = json.loads(member.read())
    assert isinstance(flags, dict) and flags["@aws-cdk/core:enablePartitionLiterals"] is True
    return flags


@pytest.mark.synth
@pytest.mark.parametrize("context", ["none", "cdk-init"])
def test_the_readme_example_runs_as_a_plain_app(context: str, tmp_path: Path) -> None:
    """As a user runs it: `python app.py` (no CDK_CONTEXT_JSON, no flag at all), and as `cdk
    synth` runs it in a fresh `cdk init` project (the CLI hands cdk.json's context over)."""
    example = python_snippets(README)[0]
    assert "App()" in example and "app.synth()" in example
    app = tmp_path / "app.py"
    app.write_text(example)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDK_")}
    if context == "cdk-init":
        env["CDK_CONTEXT_JSON"] = json.dumps(_init_flags())
    result = subprocess.run(
        [sys.executable, str(app)], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-3000:]


def test_the_readme_example_is_short() -> None:
    lines = [line for line in python_snippets(README)[0].splitlines() if line.strip()]
    assert len(lines) <= 30, len(lines)


def test_the_readme_is_short() -> None:
    assert len(README.splitlines()) <= README_MAX_LINES


def test_readme_gives_exactly_two_commands_on_a_fresh_machine() -> None:
    section = README.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL)
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands == ["make synth", "make test"]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(text: str) -> set[str]:
    found = set(re.findall(r'<a id="([^"]+)"></a>', text))
    text = re.sub(r"```.*?```", "", text, flags=re.DOTALL)  # `# comments` in code are no headings
    found |= {slug(h) for h in re.findall(r"(?m)^#{1,6} (.+)$", text)}
    return found


def test_every_relative_link_resolves() -> None:
    checked = 0
    for page in PAGES:
        text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            file, _, fragment = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if file and path.name in OTHERS_GUIDES and not path.exists():
                continue
            assert path.exists(), f"{page.name}: {target}"
            if fragment:
                assert fragment in anchors(path.read_text()), f"{page.name}: {target}"
            checked += 1
    assert checked >= 20


def test_a_broken_link_is_caught() -> None:
    assert "the-pipeline-check" in anchors((ROOT / "docs/audit.md").read_text())
    assert "no-such-section" not in anchors((ROOT / "docs/audit.md").read_text())
    assert slug("`ContainerFunction(scope, id)`: an `aws_lambda.Function`") == (
        "containerfunctionscope-id-an-aws_lambdafunction"
    )


def test_every_guide_is_linked() -> None:
    """Every docs/*.md is reachable: linked from the README or from another guide."""
    for page in DOCS:
        linked_from = [
            other.name
            for other in PAGES
            if other != page
            and re.search(rf"\]\((docs/)?{re.escape(page.name)}(#[^)]*)?\)", other.read_text())
        ]
        assert linked_from, f"docs/{page.name} is linked from no page"
    assert "(docs/adoption.md)" in README  # written on another branch: linked here already
