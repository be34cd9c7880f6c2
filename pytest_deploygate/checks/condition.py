"""``condition``: a named yes/no setting of the project (``conditions:`` in deploygate.yaml).

Used by ``when`` for "(if required)" / "(if applicable)" criteria. A condition nobody set is
missing evidence with the setting to add, never a silent N/A.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when the condition is true, not met when false, missing when unset."""
    name = params["name"]
    config = ctx.project.config
    if name not in config.conditions:
        return CheckResult.missing(
            f"condition '{name}' is not set: add 'conditions: {{{name}: true}}' (or false) "
            f"to {config.display_name}"
        )
    value = config.conditions[name]
    evidence = Evidence("config", f"conditions.{name}", detail=f"= {str(value).lower()}")
    if value:
        return CheckResult.met(f"conditions.{name} is true", evidence)
    return CheckResult.not_met(f"conditions.{name} is false", evidence)


KIND = builtin_kind("condition", evaluate)
