"""The layout reads as the architecture (docs/architecture.md): bed's packages import each other
in one direction only, the leaves import nothing of bed's above them, and nothing in bed/ (the
shim and the runner's smokes aside: they run in their own images) imports a package above it."""

from __future__ import annotations

import ast
from pathlib import Path

import bed

BED = Path(bed.__file__).parent
# Packages (and top modules) whose imports must stay inside this set: the ground floor and the leaf.
LEAVES = {"errors": set(), "redact": set(), "runner": set(), "model": {"runner"},
          "engine": {"errors", "redact"}, "exec": {"errors"}}


def package_edges() -> dict[str, set[str]]:
    """{package: the packages of bed it imports}, from every relative import under bed/."""
    edges: dict[str, set[str]] = {}
    for path in BED.rglob("*.py"):
        rel = path.relative_to(BED).with_suffix("").parts
        if rel[0] == "shim" or rel[:2] == ("runner", "tiers"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or node.level == 0:
                continue
            base = list(rel[:-1])[: len(rel) - node.level]
            target = [*base, *(node.module.split(".") if node.module else [])]
            names = [target[0]] if target else [a.name for a in node.names]
            edges.setdefault(rel[0], set()).update(n for n in names if n != rel[0])
    return edges


def test_no_two_packages_import_each_other_even_through_others() -> None:
    edges = package_edges()
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            assert state.get(nxt) != "open", f"a cycle of packages: {' -> '.join([*path, node, nxt])}"
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = "done"

    for package in sorted(edges):
        if package not in state:
            visit(package, [])


def test_the_leaves_import_nothing_above_them() -> None:
    edges = package_edges()
    for leaf, allowed in LEAVES.items():
        assert edges.get(leaf, set()) <= allowed, (leaf, edges.get(leaf, set()) - allowed)
