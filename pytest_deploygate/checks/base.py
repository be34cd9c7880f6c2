"""Schema helpers for check kinds' parameters (defined with the built-in kinds' schemas in
:mod:`pytest_deploygate.checks.declared`, which imports nothing heavy).

Also still the home, by re-export, of the names the first release's extension guide imported
from here (``CheckKind``, ``CheckResult``, ``Evidence``): third-party kinds written against it
keep working. New code imports them from :mod:`pytest_deploygate`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pytest_deploygate.checks.context import CheckKind, EvalContext
from pytest_deploygate.checks.declared import NUMBER_OR_THRESHOLD, params_schema
from pytest_deploygate.core.results import CheckResult, Evidence

__all__ = ["NUMBER_OR_THRESHOLD", "CheckKind", "CheckResult", "EvalContext", "Evidence",
           "params_schema"]
