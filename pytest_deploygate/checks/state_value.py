"""``state``: a value in state.json compared with an expectation.

Parameters: ``path`` (dotted; ``{phase}`` is the gate's phase key) and one or more of
``equals``, ``not_equals``, ``in``, ``truthy``, ``exists``, ``min``, ``max`` (numbers or
``{threshold: name}``). With no comparison the path must exist. A value that is NaN or
infinite (not JSON, but accepted by Python's reader) is evidence missing.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
import math
import operator
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Compare the value at ``path`` with every expectation given."""
    path = ctx.expand(params["path"])
    found = ctx.project.state.lookup(path)
    if params.get("exists") is False:
        if found.found:
            return CheckResult.not_met(f"{path} is present but must be absent")
        return CheckResult.met(f"{path} is absent")
    if not found.found:
        # Only an existence check measures absence; any comparison lacks its evidence.
        comparisons = set(params) - {"kind", "path", "exists"}
        return CheckResult.missing(found.problem) if comparisons else CheckResult.not_met(
            found.problem)
    value = found.value
    shown = _show(value)  # (once: the evidence and the message both show it)
    evidence = Evidence("state", path, detail=f"= {shown}")
    if isinstance(value, float) and not math.isfinite(value):
        # state.json is JSON, which has no NaN or Infinity; Python's reader accepts them, and
        # Infinity would pass any min bound and NaN any truthy test: impossible evidence.
        return CheckResult.missing(f"{path} is {value}, not a finite number: impossible "
                                   "evidence", evidence)
    failures = [message for message in _compare(params, value, ctx) if message]
    if failures:
        return CheckResult.not_met(f"{path} is {shown}; " + "; ".join(failures), evidence)
    return CheckResult.met(f"{path} is {shown}", evidence)


def _compare(params: Mapping[str, Any], value: Any, ctx: EvalContext) -> list[str]:
    out = []
    if "equals" in params and not _same(value, params["equals"]):
        out.append(f"expected {_show(params['equals'])}")
    if "not_equals" in params and _same(value, params["not_equals"]):
        out.append(f"must not be {_show(params['not_equals'])}")
    if "in" in params and not any(_same(value, option) for option in params["in"]):
        out.append("expected one of " + ", ".join(_show(o) for o in params["in"]))
    if params.get("truthy") is True and not value:
        out.append("expected a true or non-empty value")
    for bound, ok in (("min", operator.ge), ("max", operator.le)):
        if bound in params:
            if isinstance(value, bool) or not isinstance(value, int | float):
                out.append(f"expected a number for {bound} {ctx.describe_number(params[bound])}")
            elif not ok(value, ctx.number(params[bound])):
                word = "at least" if bound == "min" else "at most"
                out.append(f"expected {word} {ctx.describe_number(params[bound])}")
    return out


def _same(value: Any, expected: Any) -> bool:
    # JSON true is not 1 and "1" is not 1: compare type as well as value.
    return (type(value) is type(expected) and value == expected) or (
        isinstance(value, int | float) and not isinstance(value, bool)
        and isinstance(expected, int | float) and not isinstance(expected, bool)
        and value == expected)


#: What ``json.dumps(value, default=str)`` builds for every call, built once (an encoder keeps
#: nothing between calls).
_ENCODER = json.JSONEncoder(default=str)


def _show(value: Any) -> str:
    text = _ENCODER.encode(value)
    return text if len(text) <= 80 else text[:77] + "..."


KIND = builtin_kind("state", evaluate)
