"""``--format markdown``: the report for people, in a GitHub job summary or a merge-request comment.

* a verdict line and the counts of each status;
* **who can pull what**, a Mermaid flowchart: the registries (account and Region) with their
  repositories, replicas linked to their source, the accounts with the functions that pull from
  each repository, failing edges crossed and red, unchecked ones dotted;
* the functions (a table: every function on a small assembly; past :data:`GROUP_THRESHOLD`
  functions, a table per account and the functions that are not ``ok``), then the findings.

Short enough for GitHub's limits: a comment holds 65,536 characters (a job summary 1 MiB), and
Mermaid refuses a diagram over 50,000 characters or 500 edges. Past :data:`GROUP_THRESHOLD`
functions the graph draws one node per account and Region instead of one per function, and the
output says so; rows are capped; a graph that would still be too large is left out, with the
reason. Every name from the assembly is escaped: Markdown and HTML specials in tables, every
character outside a small safe set as a Mermaid entity code in the graph, control characters
shown as ``U+XXXX``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from ..report import AuditReport, FunctionReport
from ..rules import FAILING_STATUSES, HELP_URI, OK, STRICT_FAILING_STATUSES
from .base import Formatter

__all__ = [
    "MarkdownFormatter",
    "render_markdown",
    "GROUP_THRESHOLD",
    "COMMENT_LIMIT",
    "MERMAID_MAX_TEXT",
    "MERMAID_MAX_EDGES",
]

GROUP_THRESHOLD = 40
"""Past this many functions, the graph draws accounts, not functions."""
MAX_ROWS = 50
"""At most this many rows per table (functions that are not ok, findings, accounts)."""
COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment's body (a job summary may hold 1 MiB per step)."""
MERMAID_MAX_TEXT = 50_000
"""Mermaid's default ``maxTextSize``: a longer diagram is not drawn."""
MERMAID_MAX_EDGES = 500
"""Mermaid's default ``maxEdges``."""
_BUDGET = COMMENT_LIMIT - 4_096
"""What the whole output may take, with room for a comment's own header."""
_DETAIL_CHARS = 240

_FAIL_COLOR = "#d1242f"


class MarkdownFormatter(Formatter):
    """The report as GitHub-flavoured Markdown with a Mermaid graph of who can pull what."""

    name = "markdown"

    def write(self, report: AuditReport, out: TextIO, *, path: str, strict: bool) -> None:
        out.write(render_markdown(report, path, strict=strict))


# escaping ---------------------------------------------------------------------------------


def printable(text: str) -> str:
    """Control, format and unassigned characters (a newline, an escape, a bidi override) as
    ``U+XXXX``, so a name cannot break a table row or hide text."""
    return "".join(
        f"U+{ord(c):04X}" if unicodedata.category(c).startswith("C") else c for c in text
    )


_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~<>&])")


def md(text: str) -> str:
    """Text for a Markdown paragraph or table cell: every inline special backslash-escaped
    (GitHub's tables honour ``\\|``), ``<``, ``>``, ``&`` as HTML entities."""
    escaped = _MD_SPECIAL.sub(
        lambda m: m.group(1) if m.group(1) in "<>&" else "\\" + m.group(1), printable(text)
    )
    return html.escape(escaped, quote=False)


_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ./:@,=+_-]")


def mermaid_text(text: str) -> str:
    """Text for a quoted Mermaid label: every character outside a small safe set (quotes,
    brackets, ``#``, ``;``, ``<``, non-ASCII...) as a ``#NNN;`` entity code, which Mermaid
    decodes after parsing."""
    return "".join(c if _MERMAID_SAFE.fullmatch(c) else f"#{ord(c)};" for c in printable(text))


def _where(account: str | None, region: str | None) -> str:
    return f"{account or '(env-agnostic)'} · {region or '(env-agnostic)'}"


# the graph --------------------------------------------------------------------------------


@dataclass
class _Graph:
    """Mermaid flowchart lines, with ids generated here (never from names)."""

    lines: list[str] = field(default_factory=lambda: ["flowchart LR"])
    edges: int = 0
    failing_edges: list[int] = field(default_factory=list)
    ids: dict[tuple[str, str], str] = field(default_factory=dict)

    def node_id(self, kind: str, key: str) -> str:
        return self.ids.setdefault((kind, key), f"{kind}{len(self.ids)}")

    def subgraph(self, kind: str, key: str, title: str, nodes: Iterable[tuple[str, str]]) -> None:
        self.lines.append(f'  subgraph {self.node_id(kind, key)}["{mermaid_text(title)}"]')
        self.lines.extend(f'    {node_id}["{label}"]' for node_id, label in nodes)
        self.lines.append("  end")

    def edge(self, source: str, target: str, label: str, outcome: str) -> None:
        arrow = {"fail": "--x", "unchecked": "-.->", "replica": "-.->"}.get(outcome, "-->")
        self.lines.append(f'  {source} {arrow}|"{mermaid_text(label)}"| {target}')
        if outcome == "fail":
            self.failing_edges.append(self.edges)
        self.edges += 1

    def text(self) -> str:
        lines = list(self.lines)
        if self.failing_edges:
            indices = ",".join(str(i) for i in self.failing_edges)
            lines.append(f"  linkStyle {indices} stroke:{_FAIL_COLOR},stroke-width:2px")
        return "\n".join(lines) + "\n"


def _outcome(status: str, failing: frozenset[str]) -> str:
    return "fail" if status in failing else ("ok" if status == OK else "unchecked")


def _graph(report: AuditReport, failing: frozenset[str], *, grouped: bool) -> _Graph:
    graph = _Graph()
    graph.lines.append(f"  classDef fail stroke:{_FAIL_COLOR},color:{_FAIL_COLOR}")
    registries: dict[tuple[str | None, str | None], list[tuple[str, str]]] = defaultdict(list)
    known = {r.repository for r in report.repositories}
    for repository in report.repositories:
        label = repository.name or repository.path
        node = graph.node_id("r", repository.repository)
        registries[(repository.account, repository.region)].append((node, mermaid_text(label)))
    outside = sorted(
        {f.repository or f.image or "(unknown image)" for f in report.functions} - known
    )
    for (account, region), nodes in registries.items():
        key = f"{account}/{region}"
        graph.subgraph("g", key, f"registry {_where(account, region)}", nodes)
    if outside:
        nodes = [(graph.node_id("r", key), mermaid_text(key)) for key in outside]
        graph.subgraph("g", "(outside)", "outside the assembly", nodes)
    for repository in report.repositories:
        if repository.replica_of is not None:
            source = graph.node_id("r", repository.replica_of)
            if repository.replica_of not in known:  # a source this assembly does not hold
                graph.lines.append(f'  {source}["{mermaid_text(repository.replica_of)}"]')
            graph.edge(source, graph.node_id("r", repository.repository), "replica", "replica")

    def repository_of(function: FunctionReport) -> str:
        return graph.node_id("r", function.repository or function.image or "(unknown image)")

    by_place: dict[tuple[str | None, str | None], list[FunctionReport]] = defaultdict(list)
    for function in report.functions:
        by_place[(function.account, function.region)].append(function)
    failed_nodes: list[str] = []
    if not grouped:
        for (account, region), functions in by_place.items():
            nodes = []
            for function in functions:
                node = graph.node_id("f", function.function)
                nodes.append((node, mermaid_text(function.function)))
                if function.status in failing:
                    failed_nodes.append(node)
            graph.subgraph("a", f"{account}/{region}", f"account {_where(account, region)}", nodes)
        for function in report.functions:
            outcome = _outcome(function.status, failing)
            mark = {"fail": "✗ ", "unchecked": "? "}.get(outcome, "")
            graph.edge(
                repository_of(function),
                graph.node_id("f", function.function),
                mark + function.status,
                outcome,
            )
    else:
        for (account, region), functions in by_place.items():
            node = graph.node_id("a", f"{account}/{region}")
            count = len(functions)
            title = mermaid_text(f"account {_where(account, region)}")
            graph.lines.append(f'  {node}["{title}<br/>{count} function(s)"]')
            if any(f.status in failing for f in functions):
                failed_nodes.append(node)
            edges: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
            for function in functions:
                outcome = _outcome(function.status, failing)
                edges[(repository_of(function), outcome)][function.status] += 1
            for (source, outcome), statuses in edges.items():
                mark = {"fail": "✗ ", "unchecked": "? "}.get(outcome, "")
                label = ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))
                graph.edge(source, node, mark + label, outcome)
    if failed_nodes:
        graph.lines.append(f"  class {','.join(failed_nodes)} fail")
    return graph


# tables -----------------------------------------------------------------------------------


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def _clip(text: str, limit: int = _DETAIL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mark(status: str, failing: frozenset[str]) -> str:
    return {"fail": "❌", "unchecked": "⚠️"}.get(_outcome(status, failing), "✅")


def _function_rows(functions: Sequence[FunctionReport], failing: frozenset[str]) -> list[str]:
    rows = [
        (
            _mark(f.status, failing),
            md(f.function),
            md(_where(f.account, f.region)),
            f"`{f.status}`",
            md(f.repository or f.image or "-"),
            md(_clip(f.detail)) if f.status != OK else "",
        )
        for f in functions[:MAX_ROWS]
    ]
    lines = _table(("", "function", "account · Region", "status", "repository", "detail"), rows)
    if len(functions) > MAX_ROWS:
        lines.append(f"\n… and {len(functions) - MAX_ROWS} more (`--format json` lists them all).")
    return lines


def render_markdown(
    report: AuditReport,
    path: str,
    *,
    strict: bool,
    group_threshold: int = GROUP_THRESHOLD,
) -> str:
    """The ``--format markdown`` output (GitHub-flavoured Markdown with a Mermaid graph)."""
    failing = frozenset(STRICT_FAILING_STATUSES if strict else FAILING_STATUSES)
    counts = report.counts()
    failed = report.failed(strict=strict)
    out: list[str] = [
        f"### {'❌' if failed else '✅'} ecr-lambda-access audit {md(path)}: "
        f"{'FAILED' if failed else 'passed'}",
        "",
        f"**{len(report.functions)}** container-image function(s): "
        + (", ".join(f"{n} `{status}`" for status, n in sorted(counts.items())) or "none")
        + f"; {len(report.errors())} error(s), {len(report.warnings())} warning(s)"
        + (" (`--strict`: unchecked images fail too)." if strict else "."),
        "",
    ]
    grouped = len(report.functions) > group_threshold
    if report.functions or report.repositories:
        out += ["#### Who can pull what", ""]
        graph = _graph(report, failing, grouped=grouped)
        text = graph.text()
        if grouped:
            out += [
                f"Grouped by account: {len(report.functions)} functions are more than "
                f"{group_threshold}, so each node is an account and Region and each edge counts "
                "its functions' statuses.",
                "",
            ]
        if len(text) > MERMAID_MAX_TEXT or graph.edges > MERMAID_MAX_EDGES:
            out += [
                f"The graph is left out: {graph.edges} edges, {len(text):,} characters, over "
                f"what Mermaid draws ({MERMAID_MAX_EDGES} edges, {MERMAID_MAX_TEXT:,} "
                "characters). The tables below and `--format json` hold every verdict.",
                "",
            ]
        else:
            out += ["```mermaid", text.rstrip("\n"), "```", ""]
    if report.functions:
        if not grouped:
            out += ["#### Functions", "", *_function_rows(report.functions, failing), ""]
        else:
            by_place: dict[tuple[str | None, str | None], Counter[str]] = defaultdict(Counter)
            for f in report.functions:
                by_place[(f.account, f.region)][_outcome(f.status, failing)] += 1
            rows = [
                (
                    md(_where(*place)),
                    str(sum(c.values())),
                    str(c["ok"]),
                    str(c["fail"]),
                    str(c["unchecked"]),
                )
                for place, c in sorted(by_place.items(), key=lambda i: (-i[1]["fail"], str(i[0])))
            ]
            out += ["#### Accounts", ""]
            out += _table(
                ("account · Region", "functions", "ok", "failing", "unchecked"), rows[:MAX_ROWS]
            )
            if len(rows) > MAX_ROWS:
                out.append(f"\n… and {len(rows) - MAX_ROWS} more accounts.")
            out.append("")
            not_ok = [f for f in report.functions if f.status != OK]
            not_ok.sort(key=lambda f: _outcome(f.status, failing) != "fail")
            if not_ok:
                out += ["#### Functions that are not ok", "", *_function_rows(not_ok, failing), ""]
    else:
        out += ["No container-image Lambda functions in the assembly.", ""]
    if report.findings:
        findings = [
            (md(f.severity), f"`{f.code}`", md(f.resource), md(_clip(f.message)))
            for f in report.findings[:MAX_ROWS]
        ]
        header = ("severity", "finding", "resource", "message")
        out += ["#### Findings", "", *_table(header, findings)]
        if len(report.findings) > MAX_ROWS:
            out.append(f"\n… and {len(report.findings) - MAX_ROWS} more findings.")
        out.append("")
    out.append(f"What each status means and what to do: [the audit guide]({HELP_URI}).")
    text = "\n".join(out) + "\n"
    if len(text) > _BUDGET:  # only unusually long names get here: keep the verdict, say so
        cut = text[: _BUDGET - 200].rsplit("\n", 1)[0]
        if cut.count("```") % 2:
            cut += "\n```"
        text = cut + "\n\n… cut to stay under GitHub's comment limit (`--format json` is whole).\n"
    return text
