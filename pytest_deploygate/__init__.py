"""pytest-deploygate: deployment-gate checklists as pytest suites.

Run ``pytest --gate=12`` in an iSDLC project: every criterion of the gate becomes a pytest
item checked against evidence, and a JUnit gate record is written to ``gate-records/``.

The public surface is what this module exports (``__all__``): the types a third-party check
kind needs (:class:`CheckKind`, :class:`CheckResult`, :class:`Evidence`, :class:`EvalContext`,
:func:`params_schema`, :data:`NUMBER_OR_THRESHOLD`, :class:`Measurement`), the outcome
vocabulary (:class:`Status`) and the objects the documented fixtures return
(:class:`GateSpec`, :class:`StateView`, :class:`ArtifactPaths`). Kinds are registered through
the ``pytest_deploygate_check_kinds`` hook (see :mod:`pytest_deploygate.plugin.hookspecs`).
Every other module is internal and may change between releases.

Names load on first use (module ``__getattr__``), so importing the package, which pytest does
for every run once the plugin is installed, costs nothing.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the internal module that defines it.
_EXPORTS = {
    "__version__": "pytest_deploygate.core.version",
    "CheckKind": "pytest_deploygate.checks.context",
    "EvalContext": "pytest_deploygate.checks.context",
    "CheckResult": "pytest_deploygate.core.results",
    "Evidence": "pytest_deploygate.core.results",
    "Status": "pytest_deploygate.core.results",
    "Measurement": "pytest_deploygate.core.measurements",
    "params_schema": "pytest_deploygate.checks.base",
    "NUMBER_OR_THRESHOLD": "pytest_deploygate.checks.base",
    "GateSpec": "pytest_deploygate.spec.model",
    "StateView": "pytest_deploygate.plugin.fixtures",
    "ArtifactPaths": "pytest_deploygate.plugin.fixtures",
}

__all__ = [
    "NUMBER_OR_THRESHOLD",
    "ArtifactPaths",
    "CheckKind",
    "CheckResult",
    "EvalContext",
    "Evidence",
    "GateSpec",
    "Measurement",
    "StateView",
    "Status",
    "__version__",
    "params_schema",
]

if TYPE_CHECKING:
    from pytest_deploygate.checks.base import NUMBER_OR_THRESHOLD, params_schema
    from pytest_deploygate.checks.context import CheckKind, EvalContext
    from pytest_deploygate.core.measurements import Measurement
    from pytest_deploygate.core.results import CheckResult, Evidence, Status
    from pytest_deploygate.core.version import __version__
    from pytest_deploygate.plugin.fixtures import ArtifactPaths, StateView
    from pytest_deploygate.spec.model import GateSpec


def __getattr__(name: str) -> Any:
    """Load a public name from its module on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pytest_deploygate' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
