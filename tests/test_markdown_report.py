"""`audit --format markdown`: the verdict table and the Mermaid graph of who can pull what.

The graph is parsed by Mermaid's own parser (the pinned `mermaid` npm package, headless through
jsdom, one Node process: tests/mermaid/parse.mjs), on a small assembly, a CDK app with a replica
and a failing function, a report full of hostile names, and a 500-function fleet, which must stay
under GitHub's comment limit and Mermaid's own limits."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import live_fleet as lf
import pytest
from support import DIGEST, REGISTRY, ROOT, WORKLOAD, WORKLOAD_2, env, new_app

from ecr_lambda_access import cli
from ecr_lambda_access.audit import AuditReport, Finding, FunctionReport, RepositoryReport
from ecr_lambda_access.audit.formatters import FORMATTERS, MarkdownFormatter, render_markdown
from ecr_lambda_access.audit.formatters.markdown import (
    COMMENT_LIMIT,
    GROUP_THRESHOLD,
    MERMAID_MAX_EDGES,
    MERMAID_MAX_TEXT,
    md,
    mermaid_text,
)
from ecr_lambda_access.audit.verdicts import audit_assembly

PARSER = ROOT / "tests" / "mermaid" / "parse.mjs"


def mermaid_parse(texts: list[str]) -> list[dict[str, object]]:
    """Mermaid's own verdict on each diagram text (one Node process for all of them)."""
    result = subprocess.run(
        [os.environ.get("JSII_NODE", "node"), str(PARSER)],
        cwd=ROOT,
        input=json.dumps(texts),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    answers = json.loads(result.stdout)
    assert isinstance(answers, list) and len(answers) == len(texts)
    return answers


def graphs(markdown: str) -> list[str]:
    return re.findall(r"```mermaid\n(.*?)```", markdown, flags=re.DOTALL)


def cells(row: str) -> list[str]:
    return re.split(r"(?<!\\)\|", row.strip())[1:-1]


def rows_of(markdown: str, heading: str) -> list[list[str]]:
    section = markdown.split(f"#### {heading}\n", 1)[1].split("\n#### ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    return [cells(line) for line in lines[2:]]


# the assemblies ---------------------------------------------------------------------------


def function(name: str, status: str, account: str, repository: str | None) -> FunctionReport:
    return FunctionReport(
        function=name,
        stack="Workload",
        account=account,
        region="us-east-1",
        image=None if repository is None else f"{repository}:v1",
        repository=repository,
        status=status,
        detail=f"detail of {name}",
        logical_id="Fn",
        template_path="Workload.template.json",
    )


HOSTILE = [
    'Work"load/<script>alert(1)</script>',
    "pipe|name`tick`*star*_under_[link](x)",
    "new\nline\x1b[31mred\u202eevil",
    "semi;colon#hash-->arrow end subgraph",
    "ünïcødé/函数/🚀",
]


def hostile_report() -> AuditReport:
    source = 'arn:aws:ecr:us-east-1:111111111111:repository/shared/"orders"|x'
    replica = 'arn:aws:ecr:us-east-1:222222222222:repository/shared/"orders"|x'
    repositories = tuple(
        RepositoryReport(
            repository=arn,
            name='shared/"orders"|x',
            path=f"{stack}/Images<b>",
            stack=stack,
            account=account,
            region="us-east-1",
            has_policy=True,
            policy_size=100,
            unconditioned_service_statements=(),
            consumers=(),
            logical_id="Images",
            template_path=f"{stack}.template.json",
            replica_of=source if arn == replica else None,
        )
        for arn, stack, account in ((source, "Registry", REGISTRY), (replica, "Replica", WORKLOAD))
    )
    statuses = ["ok", "missing-root-grant", "unverifiable", "denied", "external"]
    functions = [
        function(name, status, WORKLOAD if i % 2 else WORKLOAD_2, source if i < 3 else replica)
        for i, (name, status) in enumerate(zip(HOSTILE, statuses, strict=True))
    ]
    functions.append(
        function("outside|fn", "external", WORKLOAD, "arn:aws:ecr:us-east-1:9:repository/a]b")
    )
    finding = Finding(
        severity="warning",
        code="unconditioned-service-principal",
        resource=HOSTILE[2],
        stack="Registry",
        message="message with | pipe and <tag>",
        logical_id="Images",
        template_path="Registry.template.json",
    )
    return AuditReport(functions=tuple(functions), repositories=repositories, findings=(finding,))


@pytest.fixture(scope="module")
def fleet_500(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    directory = tmp_path_factory.mktemp("fleet") / "out"
    lf.write_fleet(directory, lf.accounts(25), ["us-east-1", "eu-west-1"], 20, unnamed=2)
    report = audit_assembly(directory)
    assert len(report.functions) == 500
    # a few that fail: another account's functions the policy does not admit
    failing = (
        tuple(replace(f, status="missing-root-grant") for f in report.functions[:7])
        + report.functions[7:]
    )
    return replace(report, functions=failing)


@pytest.fixture(scope="module")
def small_fleet(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    directory = tmp_path_factory.mktemp("small") / "out"
    lf.write_fleet(directory, lf.accounts(3), ["us-east-1", "eu-west-1"], 2, unnamed=1)
    return audit_assembly(directory)


@pytest.fixture(scope="module")
def cdk_app(tmp_path_factory: pytest.TempPathFactory) -> AuditReport:
    """A real synth: a source repository, an account replica with a function running from it,
    and a function in an account the source's policy does not admit (missing-root-grant)."""
    from aws_cdk import Stack

    from ecr_lambda_access import ContainerFunction, CrossAccountImageRepo

    outdir = tmp_path_factory.mktemp("cdk")
    app = new_app(outdir)
    registry = Stack(app, "Registry", env=env(REGISTRY))
    images = CrossAccountImageRepo(
        registry, "Images", repository_name="shared/orders", consumers=[WORKLOAD]
    )
    replica_stack = Stack(app, "Replica", env=env(WORKLOAD, "eu-west-1"))
    images.add_replica(replica_stack)
    ContainerFunction(replica_stack, "Api", repository=images, tag_or_digest=DIGEST)
    stranger = Stack(app, "Stranger", env=env(WORKLOAD_2))
    ContainerFunction(
        stranger,
        "Worker",
        repository=f"arn:aws:ecr:us-east-1:{REGISTRY}:repository/shared/orders",
        tag_or_digest=DIGEST,
        function_name="stranger-worker",
    )
    app.synth()
    return audit_assembly(outdir)


# the tests --------------------------------------------------------------------------------


@pytest.mark.synth
def test_every_graph_parses_with_mermaids_own_parser(
    small_fleet: AuditReport, fleet_500: AuditReport, cdk_app: AuditReport
) -> None:
    reports = {
        "small": small_fleet,
        "500": fleet_500,
        "cdk": cdk_app,
        "hostile": hostile_report(),
        "empty": AuditReport((), (), ()),
    }
    texts: list[str] = []
    for name, report in reports.items():
        for strict in (False, True):
            found = graphs(render_markdown(report, "cdk.out", strict=strict))
            assert len(found) == (0 if name == "empty" else 1), name
            texts += found
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    in_docs = [block for page in pages for block in graphs(page.read_text())]
    assert in_docs, "the guides draw at least one diagram"
    texts += in_docs  # the diagrams the guides draw by hand, too
    broken = "flowchart LR\n  a -->\n"  # the control: Mermaid's parser does reject text
    answers = mermaid_parse([*texts, broken])
    assert answers[-1]["ok"] is False
    for text, answer in zip(texts, answers[:-1], strict=True):
        assert answer["ok"] is True and answer["type"] == "flowchart-v2", (answer, text)


def test_500_functions_fit_a_comment_and_say_they_are_grouped(fleet_500: AuditReport) -> None:
    markdown = render_markdown(fleet_500, "cdk.out", strict=False)
    assert len(markdown) < COMMENT_LIMIT
    assert f"Grouped by account: 500 functions are more than {GROUP_THRESHOLD}" in markdown
    (graph,) = graphs(markdown)
    assert len(graph) <= MERMAID_MAX_TEXT
    edges = graph.count('|"')
    assert 0 < edges <= MERMAID_MAX_EDGES
    accounts = rows_of(markdown, "Accounts")
    assert len(accounts) == 25
    assert sum(int(row[1]) for row in accounts) == 500
    assert sum(int(row[3]) for row in accounts) == 7
    not_ok = rows_of(markdown, "Functions that are not ok")
    assert [row[3].strip() for row in not_ok[:7]] == ["`missing-root-grant`"] * 7
    assert "--x|" in graph and "linkStyle" in graph  # failing edges crossed and red
    # and as strict: the unverifiable (unnamed) ones fail too
    strict = render_markdown(fleet_500, "cdk.out", strict=True)
    assert len(strict) < COMMENT_LIMIT and "FAILED" in strict


def test_a_small_assembly_lists_every_function(small_fleet: AuditReport) -> None:
    markdown = render_markdown(small_fleet, "cdk.out", strict=False)
    assert "Grouped by account" not in markdown
    rows = rows_of(markdown, "Functions")
    assert [row[1].strip() for row in rows] == [md(f.function) for f in small_fleet.functions]
    (graph,) = graphs(markdown)
    assert graph.count('|"') == len(small_fleet.functions)


@pytest.mark.synth
def test_replicas_and_failing_edges_are_drawn(cdk_app: AuditReport) -> None:
    statuses = {f.function: f.status for f in cdk_app.functions}
    assert statuses == {"Replica/Api": "ok", "Stranger/Worker": "missing-root-grant"}
    markdown = render_markdown(cdk_app, "cdk.out", strict=False)
    (graph,) = graphs(markdown)
    assert graph.count('-.->|"replica"|') == 1
    assert graph.count("--x|") == 1 and '--x|"#10007; missing-root-grant"|' in graph
    assert re.search(r"linkStyle \d+ stroke:#d1242f", graph)
    assert "FAILED" in markdown.splitlines()[0]


def test_hostile_names_are_escaped() -> None:
    report = hostile_report()
    markdown = render_markdown(report, "cdk.out|`x`", strict=False)
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f\u202e]", markdown)
    assert "<script>" not in markdown and "<tag>" not in markdown and "<b>" not in markdown
    for row in rows_of(markdown, "Functions"):
        assert len(row) == 6, row
    (finding,) = rows_of(markdown, "Findings")
    assert len(finding) == 4
    (graph,) = graphs(markdown)
    for line in graph.splitlines()[1:]:
        # quotes only as label delimiters, no name reaches the graph's syntax
        assert line.count('"') in (0, 2, 4), line
        assert "-->arrow" not in line and "#hash" not in line
    assert mermaid_text('a"b;c#d') == "a#34;b#59;c#35;d"
    assert md("a|b`c") == "a\\|b\\`c"


def test_markdown_is_a_format_of_the_command(
    small_fleet: AuditReport, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert FORMATTERS["markdown"] is MarkdownFormatter
    directory = tmp_path / "out"
    lf.write_fleet(directory, lf.accounts(2), ["us-east-1"], 1)
    assert cli.main(["audit", str(directory), "--format", "markdown"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("### ✅ ecr-lambda-access audit ")
    assert graphs(out) and "#### Functions" in out
    buffer = io.StringIO()
    MarkdownFormatter().write(small_fleet, buffer, path="cdk.out", strict=False)
    assert buffer.getvalue() == render_markdown(small_fleet, "cdk.out", strict=False)


def test_what_would_not_fit_is_left_out_and_said() -> None:
    repository = "arn:aws:ecr:us-east-1:111111111111:repository/r"
    functions = tuple(
        function(f"Stack/{i:02d}" + "x" * 1_500, "missing-root-grant", WORKLOAD, repository)
        for i in range(GROUP_THRESHOLD)
    )
    markdown = render_markdown(AuditReport(functions, (), ()), "cdk.out", strict=False)
    assert not graphs(markdown)
    assert "The graph is left out: 40 edges" in markdown
    assert len(markdown) < COMMENT_LIMIT
    assert markdown.endswith("GitHub's comment limit (`--format json` is whole).\n")
    assert markdown.startswith("### ❌ ecr-lambda-access audit cdk.out: FAILED")
