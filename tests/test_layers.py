"""The layers hold: the domain at the bottom, Spark jobs and the site above it, the DAGs and
the operator's shell on top (docs/architecture.md). Every import counts, also the ones
inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = ("tallyflow", "jobs", "dash_app", "dags", "tallyctl")

# What each layer may not import (first-party packages and the frameworks of other layers).
FORBIDDEN = {
    "tallyflow": {"jobs", "dash_app", "dags", "tallyctl", "airflow", "dash", "flask",
                  "plotly", "pyspark"},
    "jobs": {"dash_app", "dags", "tallyctl", "airflow", "dash", "flask", "plotly"},
    "dash_app": {"jobs", "dags", "tallyctl", "airflow", "pyspark"},
    "tallyctl": {"dags"},
    "dags": set(),
}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, at any depth (functions, ``if``, ``try``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                package = module.split(".")
                package = package if is_package else package[:-1]
                base = ".".join(package[: len(package) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.add(target)
            # ``from pkg import mod`` imports pkg.mod when it is a module
            found.update(f"{target}.{alias.name}" for alias in node.names)
    return found


def first_party_modules() -> dict[str, set[str]]:
    """Each first-party module and the first-party modules it imports."""
    paths = [p for package in FIRST_PARTY for p in (ROOT / package).rglob("*.py")]
    names = {module_name(p): p for p in paths}
    graph = {}
    for name, path in names.items():
        imported = imports_of(path.read_text(), name, path.name == "__init__.py")
        graph[name] = {m for m in imported if m in names and m != name}
    return graph


def violations(module: str, imported: set[str]) -> list[str]:
    layer = module.split(".")[0]
    return sorted(f"{module} imports {target}" for target in imported
                  if target.split(".")[0] in FORBIDDEN[layer])


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def _all_imports() -> dict[str, set[str]]:
    result = {}
    for package in FIRST_PARTY:
        for path in (ROOT / package).rglob("*.py"):
            name = module_name(path)
            result[name] = imports_of(path.read_text(), name, path.name == "__init__.py")
    return result


@pytest.mark.fast
def test_no_layer_imports_upward():
    found = [v for module, imported in _all_imports().items()
             for v in violations(module, imported)]
    assert found == []


@pytest.mark.fast
def test_no_modules_import_each_other_in_a_circle():
    assert cycles(first_party_modules()) == []


@pytest.mark.fast
@pytest.mark.parametrize(("module", "source"), [
    # the upward imports this layering removed, as they were written
    ("tallyflow.certification", "def f():\n    from jobs.tally_votes import run_micro_batches\n"),
    ("tallyflow.cli", "import dash_app.app\n"),
    ("tallyflow.votes.simulator", "from pyspark.sql import SparkSession\n"),
    ("jobs.tally_votes", "def main():\n    from tallyctl.stack.spark import session\n"),
    ("dash_app.results", "from jobs.recount_election import recount\n"),
    ("tallyflow.elections.lifecycle", "try:\n    import airflow\nexcept ImportError:\n    pass\n"),
])
def test_the_check_catches_an_upward_import_wherever_it_is_written(module, source):
    assert violations(module, imports_of(source, module)) != []


@pytest.mark.fast
def test_the_check_catches_a_circle():
    graph = {"tallyflow.elections.store": {"tallyflow.registrations.roll"},
             "tallyflow.registrations.roll": {"tallyflow.elections.store"},
             "tallyflow.db": set()}
    assert cycles(graph) == [["tallyflow.elections.store", "tallyflow.registrations.roll"]]


@pytest.mark.fast
def test_relative_imports_are_resolved():
    assert "tallyflow.votes.event" in imports_of("from .event import VoteEvent\n",
                                                 "tallyflow.votes.casting")
    assert "tallyflow.db" in imports_of("from .. import db\n", "tallyflow.votes.casting")


MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


@pytest.mark.fast
def test_modules_and_functions_stay_small():
    too_big = []
    for package in FIRST_PARTY:
        for path in (ROOT / package).rglob("*.py"):
            text = path.read_text()
            name = str(path.relative_to(ROOT))
            if len(text.splitlines()) > MAX_MODULE_LINES:
                too_big.append(f"{name}: {len(text.splitlines())} lines")
            too_big += [f"{name}:{node.lineno} {node.name}: "
                        f"{node.end_lineno - node.lineno + 1} lines"
                        for node in ast.walk(ast.parse(text))
                        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
                        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert too_big == []
