"""The package's layout is its data path: no import runs back up it, and no module imports
itself through others (docs/architecture.md draws the same order).

Every import statement counts, including those inside functions and ``TYPE_CHECKING`` blocks:
a type-only import up the path is still a dependency a reader must hold in mind.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_deploygate"
#: The stages, lowest first: a module may import from its own stage or a lower one.
STAGES = ("core", "isdlc", "importer", "spec", "evidence", "trust", "checks", "decision",
          "records", "signing", "gate", "plugin", "cli")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, modules: set[str], source: str | None = None) -> set[str]:
    """The plugin's modules ``path`` imports (``from pkg import sub`` counts as ``pkg.sub``)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source if source is not None else path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                found.add(sub if sub in modules else target)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m in modules and m != name}


def graph(changed: dict[Path, str] | None = None) -> dict[str, set[str]]:
    """Module -> the modules it imports; ``changed`` replaces some files' text."""
    paths = sorted(PACKAGE.rglob("*.py"))
    modules = {module_name(p) for p in paths}
    changed = changed or {}
    return {module_name(p): imports_of(p, modules, changed.get(p)) for p in paths}


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in STAGES else None


def test_every_module_belongs_to_a_stage() -> None:
    loose = [m for m in graph() if stage_of(m) is None
             and m not in ("pytest_deploygate", "pytest_deploygate.__main__")]
    assert loose == [], f"modules outside the stage packages: {loose}"


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    rank = {stage: index for index, stage in enumerate(STAGES)}
    upward = []
    for module, imported in edges.items():
        mine = stage_of(module)
        for other in imported:
            theirs = stage_of(other)
            if mine and theirs and rank[theirs] > rank[mine]:
                upward.append(f"{module} -> {other}")
    return upward


def cycles_in(edges: dict[str, set[str]]) -> list[list[str]]:
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for other in sorted(edges[module]):
            if state.get(other) == 1:
                cycles.append([*path[path.index(other):], other])
            elif other not in state:
                visit(other, [*path, other])
        state[module] = 2

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    return cycles


def test_no_import_runs_back_up_the_path() -> None:
    assert upward_imports(graph()) == []


def test_no_import_cycles() -> None:
    assert cycles_in(graph()) == []


def test_the_checks_see_an_upward_import_and_a_cycle() -> None:
    """The two checks above can fail: a type-only upward import written into core is both."""
    probe = PACKAGE / "core" / "results.py"
    source = probe.read_text("utf-8") + (
        "\nif TYPE_CHECKING:\n    from pytest_deploygate.gate.run import GateRun\n")
    edges = graph({probe: source})
    assert "pytest_deploygate.core.results -> pytest_deploygate.gate.run" in \
        upward_imports(edges)
    assert any(cycle[0] == "pytest_deploygate.core.results" or
               "pytest_deploygate.core.results" in cycle for cycle in cycles_in(edges))


def test_public_names_load_lazily_and_match_all() -> None:
    """``import pytest_deploygate`` loads nothing else; every name in ``__all__`` resolves."""
    code = (
        "import sys, pytest_deploygate as p\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('pytest_deploygate.'))\n"
        "assert loaded == [], loaded\n"
        "for name in p.__all__: getattr(p, name)\n"
        "assert set(p.__all__) == set(p._EXPORTS)\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert done.stdout.strip() == "ok", done.stderr


def test_py_typed_marker_ships() -> None:
    if not (PACKAGE / "py.typed").is_file():
        pytest.fail("pytest_deploygate/py.typed is missing: type checkers would ignore the "
                    "package's annotations")
