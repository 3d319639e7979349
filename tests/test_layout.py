"""The layout's rules, checked on the source: no import circle between parts, the engine
never imports the declarations, nothing outside the CLI imports the CLI.

A *part* is a subpackage of calc (``calc.layers``, ``calc.spec``, ``calc.latency``,
``calc.cli``), a top-level module of calc (``calc.graph``, ``calc.counting`` ...), or the
``archs`` package as a whole.  Every import counts, those inside functions too.

``python tests/test_layout.py`` prints the part graph this test checks.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUBPACKAGES = {"layers", "spec", "latency", "cli"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def part_of(module: str) -> str:
    bits = module.split(".")
    if bits[0] == "archs":
        return "archs"
    if len(bits) == 1:
        return "calc"  # the package's public face (calc/__init__.py)
    return f"calc.{bits[1]}"


def imported_modules(path: Path) -> set[str]:
    """Every module ``path`` imports (at the top or inside functions)."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:  # `from calc import datafiles` imports a submodule
                sub = ROOT / Path(*f"{node.module}.{a.name}".split("."))
                is_module = sub.with_suffix(".py").exists() or sub.is_dir()
                out.add(f"{node.module}.{a.name}" if is_module else node.module)
    return {m for m in out if m.split(".")[0] in ("calc", "archs")}


def part_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted([*ROOT.joinpath("calc").rglob("*.py"), *ROOT.joinpath("archs").rglob("*.py")]):
        src = part_of(module_name(path))
        graph.setdefault(src, set())
        for m in imported_modules(path):
            dst = part_of(m)
            if dst != src:
                graph[src].add(dst)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_no_import_circle_between_parts():
    assert find_cycle(part_graph()) is None, " -> ".join(find_cycle(part_graph()))


def test_the_engine_never_imports_the_declarations():
    graph = part_graph()
    importers = {p for p, deps in graph.items() if "archs" in deps}
    assert importers <= {"calc.cli"}, importers


def test_archs_uses_the_engines_public_pieces():
    assert graph_deps("archs") <= {"calc.registry", "calc.blocks", "calc.graph", "calc.layers", "calc.errors",
                                   "calc.datafiles", "calc.published", "calc.latency"}


def test_nothing_outside_the_cli_imports_it():
    importers = {p for p, deps in part_graph().items() if "calc.cli" in deps}
    assert importers <= {"calc.__main__"}, importers


def test_the_public_face_is_imported_by_no_part():
    importers = {p for p, deps in part_graph().items() if "calc" in deps}
    assert not importers, importers


def graph_deps(part: str) -> set[str]:
    return part_graph()[part]


if __name__ == "__main__":
    g = part_graph()
    for part in sorted(g):
        print(f"{part:<16} -> {', '.join(sorted(g[part])) or '-'}")
    cycle = find_cycle(g)
    print("cycle: " + " -> ".join(cycle) if cycle else "no cycle")
    sys.exit(1 if cycle else 0)
