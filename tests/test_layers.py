"""The import graph: layers import only downward, and no two modules import each other.

Read from the source with ``ast``, so imports inside functions and under ``TYPE_CHECKING``
count too: a cycle hidden in a function body still couples two modules.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import networkx as nx
import pytest
from packages import PACKAGES, module_names

MAX_LINES = 600


def _modules() -> dict[str, Path]:
    found = {}
    for name in module_names(importable=False):
        spec = importlib.util.find_spec(name)
        assert spec is not None and spec.origin is not None
        found[name] = Path(spec.origin)
    return found


def _layer(module: str) -> int:
    return next(i for i, p in enumerate(PACKAGES) if module == p or module.startswith(p + "."))


def _imported(tree: ast.AST, known: set[str]) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:  # `from package import module` names the module
                child = f"{node.module}.{alias.name}"
                names.add(child if child in known else node.module)
    return {n for n in names if n in known}


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    modules = _modules()
    g = nx.DiGraph()
    for name, path in modules.items():
        g.add_node(name)
        for target in _imported(ast.parse(path.read_text()), set(modules)) - {name}:
            g.add_edge(name, target)
    return g


def test_the_graph_covers_every_module(graph):
    assert len(graph) > 80 and "lookaround.base.errors" in graph


def test_layers_import_only_downward(graph):
    upward = [(a, b) for a, b in graph.edges if _layer(b) > _layer(a)]
    assert not upward


def test_no_two_modules_import_each_other(graph):
    assert not list(nx.simple_cycles(graph))


def test_no_module_is_longer_than_a_few_screens():
    long = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert not {n: lines for n, lines in long.items() if lines > MAX_LINES}
