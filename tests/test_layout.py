"""The architecture, checked: imports flow one way (entry points -> domain -> data model and pure rules).

Reads every module's top-level imports (what runs at import time) with ``ast``: no import circle among
``survey`` and ``pipeline`` modules, the pipeline never reaches the web app, the CLI or the app factory,
and the domain and data packages never import the web blueprints.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports at module level (TYPE_CHECKING blocks excluded)."""
    files = {}
    for package in ("survey", "pipeline"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            files[name] = path
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            graph[name] |= {t for t in targets if t in files and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_circle() -> None:
    assert cycles(import_graph()) == []


def test_imports_flow_one_way() -> None:
    graph = import_graph()
    entry_points = ("survey.web", "survey.cli", "survey.demo")
    wrong = [
        (module, target)
        for module, targets in graph.items()
        for target in targets
        if (module.startswith(("pipeline", "survey.domain", "survey.data", "survey.mail")))
        and (target == "survey" or target.startswith(entry_points))
    ]
    assert wrong == []


def test_the_graph_sees_the_project() -> None:
    """The check has teeth: it finds the modules and the imports it is about."""
    graph = import_graph()
    assert "survey.domain.rounds" in graph and "survey.data.models" in graph["survey.domain.rounds"]
    assert cycles({"a": {"b"}, "b": {"a"}, "c": set()}) == [["a", "b"]]
