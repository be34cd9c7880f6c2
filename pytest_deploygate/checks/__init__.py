"""Built-in check kinds, and the registry that merges them with plugins' kinds.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Final, overload

from pytest_deploygate.checks.context import CheckKind
from pytest_deploygate.core.results import CheckResult, Evidence

#: Each built-in kind's name and the module (in this package) that defines it as ``KIND``.
#: A kind's module, and what it reads evidence with (HTTP and TLS, Prometheus, sign-off logs),
#: is imported only when a spec names the kind: a gate of state and sign-off checks, or
#: ``deploygate verdict``, never loads the network stack.
BUILTIN_MODULES: Final[Mapping[str, str]] = {
    "state": "state_value",
    "gate_passed": "gate_passed",
    "artifact": "artifact",
    "constitution": "constitution",
    "attestation": "attestation",
    "condition": "condition",
    "prometheus": "prometheus",
    "prometheus_rules": "prometheus_rules",
    "metrics_file": "metrics_file",
    "http": "http_check",
    "junit": "junit_reports",
    "sarif": "sarif",
    "git_tag": "git_tag",
    "changelog": "changelog",
    "command": "command",
    "scope": "scope",
    "test_iteration": "iteration",
    "coverage": "coverage",
}


def _load_builtin(name: str) -> CheckKind:
    module = importlib.import_module(f"{__name__}.{BUILTIN_MODULES[name]}")
    kind: CheckKind = module.KIND
    if kind.name != name:  # the table above and the module disagree: a packaging mistake
        raise RuntimeError(f"{module.__name__} defines kind {kind.name!r}, not {name!r}")
    return kind


class BuiltinKinds(Sequence[CheckKind]):
    """The built-in kinds as a sequence; :func:`build_registry` keeps them unloaded until a
    spec names one. Indexing or iterating loads them all (``deploygate show``, tests)."""

    def _all(self) -> list[CheckKind]:
        return [_load_builtin(name) for name in BUILTIN_MODULES]

    @overload
    def __getitem__(self, index: int) -> CheckKind: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[CheckKind]: ...

    def __getitem__(self, index: int | slice) -> CheckKind | Sequence[CheckKind]:
        return self._all()[index]

    def __len__(self) -> int:
        return len(BUILTIN_MODULES)

    def __iter__(self) -> Iterator[CheckKind]:
        # (Sequence's own __iter__ would index one by one, building the list each time.)
        return (_load_builtin(name) for name in BUILTIN_MODULES)


def builtin_kinds() -> BuiltinKinds:
    """The kinds shipped with the plugin."""
    return BuiltinKinds()


class KindRegistry(Mapping[str, CheckKind]):
    """Kinds by name. Built-in kinds are imported on first use; others are registered as
    objects. Read-only once built."""

    def __init__(self) -> None:
        self._kinds: dict[str, CheckKind | None] = {}  # None: a built-in not loaded yet

    def _add_builtins(self) -> None:
        for name in BUILTIN_MODULES:
            if name not in self._kinds:
                self._kinds[name] = None
            elif self._kinds[name] is not None and self._kinds[name] is not _load_builtin(name):
                self._conflict(name)  # (the built-in object itself, registered first, is fine)

    def _add(self, kind: CheckKind) -> None:
        if kind.name in self._kinds:
            known = self._kinds[kind.name]
            if known is None and kind.name in BUILTIN_MODULES:
                known = self[kind.name]  # the same built-in object registered again is fine
            if known is not kind:
                self._conflict(kind.name)
        self._kinds[kind.name] = kind

    @staticmethod
    def _conflict(name: str) -> None:
        raise ValueError(f"check kind '{name}' is registered twice")

    def __getitem__(self, name: str) -> CheckKind:
        kind = self._kinds[name]
        if kind is None:
            kind = self._kinds[name] = _load_builtin(name)
        return kind

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds


def build_registry(groups: Iterable[Iterable[CheckKind]]) -> Mapping[str, CheckKind]:
    """Merge kinds by name; a name registered twice is an error, not a silent override."""
    registry = KindRegistry()
    for group in groups:
        if isinstance(group, BuiltinKinds):
            registry._add_builtins()
            continue
        for kind in group or ():
            registry._add(kind)
    return registry


__all__ = ["BUILTIN_MODULES", "BuiltinKinds", "CheckKind", "CheckResult", "Evidence",
           "KindRegistry", "build_registry", "builtin_kinds"]
