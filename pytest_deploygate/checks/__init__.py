"""Built-in check kinds, and the registry that merges them with plugins' kinds.

A built-in kind is known by its declaration (:mod:`pytest_deploygate.checks.declared`: name,
``reads``, parameter schema): loading, validating and showing a spec need nothing else. The
kind's module (its evaluation code, and what that reads evidence with: HTTP and TLS,
Prometheus, exposition parsers, sign-off logs) is imported when a check of the kind is
evaluated or prefetched, so ``deploygate verdict``, ``show`` and ``validate`` never load it.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from types import ModuleType
from typing import Any, Final, TypeVar, overload

from pytest_deploygate.checks.context import CheckKind, EvalContext
from pytest_deploygate.checks.declared import DECLARED
from pytest_deploygate.core.results import CheckResult, Evidence

_T = TypeVar("_T")

#: Each built-in kind's name and the module (in this package) that defines it as ``KIND``.
BUILTIN_MODULES: Final[Mapping[str, str]] = {name: d.module for name, d in DECLARED.items()}

#: The built-in kinds whose module was imported (and checked against its declaration).
_LOADED: dict[str, tuple[ModuleType, CheckKind, str]] = {}
#: One declared kind object per name, so that registering it twice is recognised as the same
#: kind and the loader's validator cache (by object) holds one entry per kind.
_DECLARED_KINDS: dict[str, CheckKind] = {}


def _load_builtin(name: str) -> CheckKind:
    """The built-in kind's ``KIND``, its module imported on first use."""
    loaded = _LOADED.get(name)
    # (Checked against the module in sys.modules: a test harness that restores sys.modules
    # imports the module again, with a new KIND. The module's name is kept with it: it is
    # built from the constant declaration alone, and this runs once per criterion.)
    if loaded is not None and sys.modules.get(loaded[2]) is loaded[0]:
        return loaded[1]
    declared = DECLARED[name]
    module_name = f"{__name__}.{declared.module}"
    module = importlib.import_module(module_name)
    kind: CheckKind = module.KIND
    # Checks of this kind were validated by the declared schema: only a kind built from that
    # very schema (checks.declared.builtin_kind) may evaluate them. Anything else is a
    # packaging mistake (the table and the module disagree), refused rather than evaluated.
    if kind.name != name or kind.params_schema is not declared.params_schema or \
            kind.reads != declared.reads or (kind.prefetch is not None) != declared.prefetches:
        raise RuntimeError(f"{module.__name__} defines kind {kind.name!r}, not the {name!r} "
                           "declared in pytest_deploygate.checks.declared (name, reads, schema "
                           "or prefetch differ)")
    _LOADED[name] = (module, kind, module_name)
    return kind


def declared_kind(name: str) -> CheckKind:
    """The built-in kind ``name`` as a spec sees it: its declared ``reads`` and schema, and an
    ``evaluate`` (and ``prefetch``) that import the kind's module on first use."""
    kind = _DECLARED_KINDS.get(name)
    if kind is not None:
        return kind
    declared = DECLARED[name]

    def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
        return _load_builtin(name).evaluate(params, ctx)

    def prefetch(params: Mapping[str, Any], ctx: EvalContext) -> None:
        loaded = _load_builtin(name).prefetch
        if loaded is not None:  # (always, for a kind declared as prefetching: checked on load)
            loaded(params, ctx)

    kind = _DECLARED_KINDS[name] = CheckKind(
        name=name, reads=declared.reads, params_schema=declared.params_schema,
        evaluate=evaluate, prefetch=prefetch if declared.prefetches else None)
    return kind


def _is_builtin(kind: CheckKind, name: str) -> bool:
    """Whether ``kind`` is the built-in kind ``name`` (declared, or its module's ``KIND``)."""
    if name not in DECLARED:
        return False
    if kind is _DECLARED_KINDS.get(name):
        return True
    # Another object under a built-in's name: the built-in's own KIND registered again (fine),
    # or a different kind (a clash). Only then is the module imported to tell which; a module
    # that cannot be loaded cannot be what was registered, so that is a clash too (reported
    # in one line, not a traceback).
    try:
        return kind is _load_builtin(name)
    except Exception:
        return False


class BuiltinKinds(Sequence[CheckKind]):
    """The built-in kinds as a sequence of declared kinds (none of their modules imported)."""

    @overload
    def __getitem__(self, index: int) -> CheckKind: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[CheckKind]: ...

    def __getitem__(self, index: int | slice) -> CheckKind | Sequence[CheckKind]:
        names = list(DECLARED)
        if isinstance(index, slice):
            return [declared_kind(name) for name in names[index]]
        return declared_kind(names[index])

    def __len__(self) -> int:
        return len(DECLARED)

    def __iter__(self) -> Iterator[CheckKind]:
        return (declared_kind(name) for name in DECLARED)


def builtin_kinds() -> BuiltinKinds:
    """The kinds shipped with the plugin."""
    return BuiltinKinds()


class KindRegistry(Mapping[str, CheckKind]):
    """Kinds by name: the built-in kinds (declared, their modules imported on first
    evaluation) and others registered as objects. Read-only once built."""

    def __init__(self) -> None:
        self._kinds: dict[str, CheckKind] = {}

    def _add_builtins(self) -> None:
        for name in DECLARED:
            known = self._kinds.get(name)
            if known is None:
                self._kinds[name] = declared_kind(name)
            elif not _is_builtin(known, name):  # (the built-in registered first is fine)
                self._conflict(name)

    def _add(self, kind: CheckKind) -> None:
        known = self._kinds.get(kind.name)
        if known is None:
            self._kinds[kind.name] = kind
        elif known is not kind and not (_is_builtin(known, kind.name)
                                        and _is_builtin(kind, kind.name)):
            self._conflict(kind.name)  # (the same built-in kind registered again is fine)

    @staticmethod
    def _conflict(name: str) -> None:
        raise ValueError(f"check kind '{name}' is registered twice")

    def __getitem__(self, name: str) -> CheckKind:
        return self._kinds[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    @overload
    def get(self, name: str, /) -> CheckKind | None: ...

    @overload
    def get(self, name: str, /, default: CheckKind | _T) -> CheckKind | _T: ...

    def get(self, name: str, /, default: Any = None) -> Any:
        # (Mapping.get's answer without its two frames: twice per item, prefetch and run.)
        return self._kinds.get(name, default)


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
           "KindRegistry", "build_registry", "builtin_kinds", "declared_kind"]
