"""``gate_passed``: earlier gates recorded as passed in state.json.

Parameters: ``gate`` (one number) or ``gates`` (a list); ``phase`` (the key, when it cannot be
found from the number); ``allow_skipped`` (a skipped phase counts, default false);
``allow_conditional`` (``gate_status: conditional_pass`` counts, default false);
``only_required`` (phases absent from ``workflow.phases_required`` are not asked for).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.base import CheckKind, CheckResult, Evidence, params_schema
from pytest_deploygate.evaluation import EvalContext
from pytest_deploygate.state import type_name


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when every named gate passed; missing when a phase is not in state.json."""
    gates = [params["gate"]] if "gate" in params else list(params["gates"])
    state = ctx.project.state
    phases = state.lookup("phases")
    if not phases.found or not isinstance(phases.value, Mapping):
        shown = phases.problem if not phases.found else (
            f"phases is {type_name(phases.value)}, not an object")
        return CheckResult.missing(shown)
    required = state.get("workflow.phases_required")
    failures: list[str] = []
    missing: list[str] = []
    passed: list[str] = []
    evidence: list[Evidence] = []
    for number in gates:
        key = params.get("phase") if len(gates) == 1 and "phase" in params else state.phase_key(
            number)
        label = f"GATE-{number:02d}"
        if key is None:
            missing.append(f"{label}: no phase {number:02d}-* in state.json phases")
            continue
        if params.get("only_required") and isinstance(required, list) and key not in required:
            passed.append(f"{label} not required by workflow.phases_required")
            continue
        phase = state.get(f"phases.{key}")
        if not isinstance(phase, Mapping):
            missing.append(f"{label}: phases.{key} is not an object in state.json")
            continue
        status, flag, gate_status = phase.get("status"), phase.get("gate_passed"), phase.get(
            "gate_status")
        evidence.append(Evidence("state", f"phases.{key}",
                                 detail=f"gate_passed={_j(flag)} status={_j(status)}"))
        if status == "skipped":
            if params.get("allow_skipped"):
                passed.append(f"{label} skipped (allowed)")
            else:
                failures.append(f"{label} not passed: phases.{key}.status is 'skipped'")
        elif flag is True and gate_status == "conditional_pass" and not params.get(
                "allow_conditional"):
            failures.append(f"{label} only conditionally passed: phases.{key}.gate_status is "
                            "'conditional_pass'")
        elif flag is True:
            passed.append(f"{label} passed")
        else:
            failures.append(f"{label} not passed: phases.{key}.gate_passed is {_j(flag)} "
                            f"(status {_j(status)})")
    if failures:
        return CheckResult.not_met("; ".join(failures + missing), *evidence)
    if missing:
        return CheckResult.missing("; ".join(missing), *evidence)
    return CheckResult.met("; ".join(passed), *evidence)


def _j(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return f"'{value}'" if isinstance(value, str) else str(value)


KIND = CheckKind(
    name="gate_passed",
    reads="phases.<key>.gate_passed of earlier gates in state.json",
    params_schema=params_schema(
        {
            "gate": {"type": "integer", "minimum": 0},
            "gates": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}},
            "phase": {"type": "string"},
            "allow_skipped": {"type": "boolean"},
            "allow_conditional": {"type": "boolean"},
            "only_required": {"type": "boolean"},
        },
        oneOf=[{"required": ["gate"]}, {"required": ["gates"]}],
    ),
    evaluate=evaluate,
)
