"""No import cycle among the modules of ``ecr_lambda_access`` (DESIGN.md: dependencies run one way).

Every import statement of every module is an edge, wherever it is written:

* at the top of the module (under ``if``/``try`` too);
* under ``if TYPE_CHECKING:``: not run, but a dependency all the same (a module that names
  another's class in its signatures knows that module);
* inside a function: a deferred import is still a dependency, and hiding one in a function to
  dodge a cycle is exactly what this test is here to refuse.

``from package import name`` is an edge to ``package.name`` when that is a module, else to the
package; the implicit import of a module's parent packages is not an edge (``audit/__init__``
re-exports its submodules, which do not import it back). The one import no statement shows is the
package facade's ``importlib.import_module`` in its PEP 562 ``__getattr__`` (the constructs load on
first use): nothing imports the facade back (``__version__`` is in ``_version.py``).

No AWS, no jsii: the sources are parsed, not imported.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "ecr_lambda_access"
ROOT = Path(__file__).parents[1] / "src" / PACKAGE


def _modules(root: Path) -> dict[str, tuple[Path, bool]]:
    found: dict[str, tuple[Path, bool]] = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _targets(
    module: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: set[str]
) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = module.split(".") if is_package else module.split(".")[:-1]
    if node.level:
        base = base[: len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    return [
        f"{target}.{alias.name}" if f"{target}.{alias.name}" in modules else target
        for alias in node.names
    ]


def import_graph(root: Path = ROOT) -> dict[str, dict[str, int]]:
    """Module -> {imported module of the package: line of the first such import}."""
    modules = _modules(root)
    graph: dict[str, dict[str, int]] = {}
    for module, (path, is_package) in modules.items():
        edges: dict[str, int] = {}
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _targets(module, is_package, node, set(modules)):
                    if target in modules and target != module:
                        edges.setdefault(target, node.lineno)
        graph[module] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for other in graph.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                on_stack.discard(other)
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_package_imports_its_way_back_to_itself() -> None:
    graph = import_graph()
    found = cycles(graph)
    explained = [
        [f"{a} -> {b} (line {graph[a][b]})" for a in cycle for b in graph[a] if b in cycle]
        for cycle in found
    ]
    assert found == [], explained


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The controls: on the package, a top-level, a TYPE_CHECKING-only and a function-local
    import each make an edge; on a package made here, a cycle through each kind is found."""
    graph = import_graph()
    assert len(graph) > 70 and sum(map(len, graph.values())) > 150
    assert f"{PACKAGE}.sources" in graph[f"{PACKAGE}.function"]  # top level
    assert f"{PACKAGE}.audit.checks.context" in graph[f"{PACKAGE}.audit.checks.replica"]
    assert f"{PACKAGE}.checks" in graph[PACKAGE]  # under `if TYPE_CHECKING:`
    assert f"{PACKAGE}.audit.yaml_template" in graph[f"{PACKAGE}.audit.load"]  # in a function
    kinds = {
        "top": "from .low import x\n",
        "type-only": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import low\n",
        "local": "def f():\n    from .sub.low import x\n",
    }
    for kind, back in kinds.items():
        package = tmp_path / kind / "pkg"
        (package / "sub").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "sub" / "__init__.py").write_text("")
        low = package / ("sub" if kind == "local" else "") / "low.py"
        low.write_text("from ..high import y\n" if kind == "local" else "from .high import y\n")
        (package / "high.py").write_text(back)
        (package / "alone.py").write_text("import json\nfrom . import high\n")
        found = cycles(import_graph(package))
        low_name = "pkg.sub.low" if kind == "local" else "pkg.low"
        assert found == [sorted(["pkg.high", low_name])], kind
        low.write_text("")  # the control's control: without the way back, no cycle
        assert cycles(import_graph(package)) == [], kind
