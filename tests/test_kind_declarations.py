"""Built-in kinds are declared as data (checks/declared.py) and their modules imported only to
evaluate (issue 15): the declaration is the single source of each kind's schema and ``reads``,
a module that disagrees with it never evaluates, and plugin kinds behave as before (a plugin
kind named like a built-in one is refused; the built-in objects may be registered again)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import pytest_deploygate.checks as checks
from pytest_deploygate.checks import build_registry, builtin_kinds, declared_kind
from pytest_deploygate.checks.declared import (
    CAPTURED_METRICS,
    CONSTITUTION_RULES,
    DECLARED,
    ITERATION_RULES,
    SARIF_SEVERITIES,
    TIERS,
    Declaration,
)
from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.core.value_class import replace

from conftest import GateProject


@pytest.mark.parametrize("name", sorted(DECLARED))
def test_every_kind_module_builds_its_kind_from_its_declaration(name: str) -> None:
    declared = DECLARED[name]
    kind = checks._load_builtin(name)
    module = sys.modules[f"pytest_deploygate.checks.{declared.module}"]
    assert kind is module.KIND
    # The very schema object checks were validated with, not an equal copy that could drift.
    assert kind.params_schema is declared.params_schema
    assert kind.reads == declared.reads
    assert (kind.prefetch is not None) == declared.prefetches
    assert kind.evaluate.__module__ == module.__name__


def test_declared_names_match_what_the_kinds_dispatch_on() -> None:
    from pytest_deploygate.checks import constitution, iteration, metrics_file, sarif

    assert sorted(constitution._RULES) == list(CONSTITUTION_RULES)
    assert tuple(constitution.DEFAULT_LIMITS) == TIERS
    assert sorted(iteration._RULES) == list(ITERATION_RULES)
    assert sorted(sarif.RANKS) == list(SARIF_SEVERITIES)
    assert metrics_file.METRICS == CAPTURED_METRICS


def test_every_declared_kind_is_a_built_in_kind_and_nothing_else() -> None:
    shown = [kind.name for kind in builtin_kinds()]
    assert shown == list(DECLARED)
    assert len(builtin_kinds()) == len(DECLARED)
    assert builtin_kinds()[0] is declared_kind(shown[0])
    assert [kind.name for kind in builtin_kinds()[1:3]] == shown[1:3]
    modules = {path.stem for path in Path(checks.__file__).parent.glob("*.py")
               if "\nKIND = " in path.read_text()}
    assert modules == {declared.module for declared in DECLARED.values()}


class _Unused:
    """A context nothing may touch: the kind must refuse before it reads anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the context was read ({name})")


@pytest.fixture
def fresh_kinds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(checks, "_LOADED", {})
    monkeypatch.setattr(checks, "_DECLARED_KINDS", {})


@pytest.mark.parametrize("change", [
    {"params_schema": {"type": "object"}},  # a schema other than the module's
    {"module": "git_tag"},  # a module defining another kind
    {"reads": "something else"},
    {"prefetches": True},
])
def test_a_module_that_disagrees_with_its_declaration_never_evaluates(
        monkeypatch: pytest.MonkeyPatch, fresh_kinds: None, change: dict[str, Any]) -> None:
    import pytest_deploygate.checks.changelog  # noqa: F401 (built from the true declaration)

    wrong: Declaration = replace(DECLARED["changelog"], **change)
    monkeypatch.setitem(DECLARED, "changelog", wrong)  # type: ignore[arg-type]
    kind = declared_kind("changelog")
    with pytest.raises(RuntimeError, match=r"declared in pytest_deploygate\.checks\.declared"):
        kind.evaluate({"kind": "changelog"}, _Unused())  # type: ignore[arg-type]


def _impostor(name: str) -> Any:
    from pytest_deploygate.checks.context import CheckKind

    return CheckKind(name, "always met", {"type": "object"},
                     lambda params, ctx: CheckResult.met("trust me"))


@pytest.mark.parametrize("plugin_first", [True, False])
def test_a_kind_named_like_a_built_in_one_is_refused_in_either_order(plugin_first: bool) -> None:
    groups: list[Any] = [builtin_kinds(), [_impostor("sarif")]]
    with pytest.raises(ValueError, match="check kind 'sarif' is registered twice"):
        build_registry(groups[::-1] if plugin_first else groups)


def test_a_built_in_kind_registered_again_is_one_kind(fresh_kinds: None) -> None:
    from pytest_deploygate.checks.state_value import KIND

    for groups in ([[KIND], builtin_kinds()], [builtin_kinds(), [KIND]],
                   [builtin_kinds(), list(builtin_kinds())]):
        registry = build_registry(groups)
        assert registry["state"].params_schema is KIND.params_schema
        assert len(registry) == len(DECLARED)


def test_a_registry_rebuilt_from_another_keeps_its_kinds_unloaded(fresh_kinds: None) -> None:
    # (what the command does when it adds installed plugins' kinds to its own)
    first = build_registry([builtin_kinds()])
    again = build_registry([list(first.values()), [_impostor("ticket")]])
    assert again["http"] is first["http"] is declared_kind("http")
    assert checks._LOADED == {}


#: A --plugin module whose kind is named like a built-in one.
CLASHING = '''
from pytest_deploygate import CheckKind, CheckResult, params_schema

def pytest_deploygate_check_kinds(config):
    return [CheckKind("sarif", "always met", params_schema({}),
                      lambda params, ctx: CheckResult.met("trust me"))]
'''

#: --plugin modules registering the built-in kinds again (the module's object, the declared).
AGAIN = {
    "same_module_kind": "from pytest_deploygate.checks.state_value import KIND\n\n"
                        "def pytest_deploygate_check_kinds(config):\n    return [KIND]\n",
    "same_declared": "from pytest_deploygate.checks import builtin_kinds\n\n"
                     "def pytest_deploygate_check_kinds(config):\n"
                     "    return list(builtin_kinds())\n",
}


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    import os

    env = {**os.environ, "PYTHONPATH": str(root / "plugins")}
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=root,
                          env=env, capture_output=True, text=True)


def test_the_command_refuses_a_plugin_kind_named_like_a_built_in_one(
        example: GateProject) -> None:
    (example.root / "plugins").mkdir()
    (example.root / "plugins" / "clashing.py").write_text(CLASHING)
    for command in (["show", "12"], ["validate"]):
        done = _cli(example.root, "--plugin", "clashing", *command)
        assert done.returncode == 2, done.stderr
        assert done.stderr == "deploygate: check kind 'sarif' is registered twice\n"


def test_the_command_accepts_the_built_in_kinds_registered_again(example: GateProject) -> None:
    (example.root / "plugins").mkdir()
    for name, text in AGAIN.items():
        (example.root / "plugins" / f"{name}.py").write_text(text)
        shown = _cli(example.root, "--plugin", name, "show", "12")
        assert shown.returncode == 0, shown.stderr
        assert "a dotted path in state.json" in shown.stdout
        checked = _cli(example.root, "--plugin", name, "validate")
        assert checked.returncode == 0, checked.stderr
