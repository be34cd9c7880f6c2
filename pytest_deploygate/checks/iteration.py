"""``test_iteration``: the phase's autonomous test iteration record (today's framework).

Reads ``phases.<phase>.iteration_requirements.test_iteration``, which the framework's
test-watcher keeps (``current_iteration``, ``max_iterations``, ``history``, ``completed``,
``status`` success/escalated, ``identical_failure_count``, ``escalation_reason``). Parameter
``criterion``: ``logged``, ``within_limit`` (``limits`` per tier and/or ``limit``),
``final_status``, ``escalation_documented`` (N/A unless escalated) or
``no_repeated_failures``.

The iteration limit is the lowest of: the tier limit the checklist names, the ``limit``
parameter, the ``max_iterations`` the framework recorded for the run, and the phase's
``test_iteration.max_iterations`` in the project's ``.isdlc/config/iteration-requirements.json``
(with the active workflow's overrides). With none of them known the limit is missing evidence.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.constitution import tier_of
from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.results import CheckResult, Evidence

CONFIG = ".isdlc/config/iteration-requirements.json"
DEFAULT_CIRCUIT_BREAKER = 3


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Dispatch to the rule named by ``criterion``."""
    phase = ctx.spec.phase
    path = f"phases.{phase}.iteration_requirements.test_iteration"
    found = ctx.project.state.lookup(path)
    if not found.found:
        return CheckResult.missing(f"{found.problem}: no test iteration recorded")
    record = found.value
    if not isinstance(record, Mapping):
        return CheckResult.missing(f"{path} is not an object")
    result = _RULES[params["criterion"]](record, params, ctx, path)
    evidence = Evidence("state", path, detail=f"current_iteration="
                        f"{record.get('current_iteration')!r} status={record.get('status')!r}")
    return CheckResult(result.status, result.message, (*result.evidence, evidence))


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _logged(record: Mapping[str, Any], _p: Any, _c: Any, path: str) -> CheckResult:
    used, history = _count(record.get("current_iteration")), record.get("history")
    if used is None or used < 1:
        return CheckResult.not_met(f"{path}.current_iteration is "
                                   f"{record.get('current_iteration')!r}; no test run logged")
    if not isinstance(history, list) or len(history) != used:
        shown = len(history) if isinstance(history, list) else "no"
        return CheckResult.not_met(f"current_iteration is {used} but history has {shown} "
                                   "entries")
    return CheckResult.met(f"{used} test iteration(s) logged in history")


def _within_limit(record: Mapping[str, Any], params: Mapping[str, Any], ctx: EvalContext,
                  path: str) -> CheckResult:
    used = _count(record.get("current_iteration"))
    if used is None:
        return CheckResult.missing(f"{path}.current_iteration is "
                                   f"{record.get('current_iteration')!r}, not a number")
    bounds: list[tuple[int, str]] = []
    tiers = params.get("limits") or {}
    if tiers:
        tier, how = tier_of(ctx)
        if tier in tiers:
            bounds.append((int(ctx.number(tiers[tier])), f"tier {tier} ({how})"))
    if "limit" in params:
        bounds.append((int(ctx.number(params["limit"])), "the checklist's limit"))
    recorded = _count(record.get("max_iterations"))
    if recorded is not None:
        bounds.append((recorded, f"{path}.max_iterations"))
    configured, problem = _configured_limit(ctx)
    if problem:
        return CheckResult.missing(problem)
    if configured is not None:
        bounds.append(configured)
    if not bounds:
        return CheckResult.missing(f"no iteration limit is known for {ctx.spec.phase}: no tier "
                                   f"limit, no {path}.max_iterations, nothing in {CONFIG}")
    limit, why = min(bounds)
    shown = "; ".join(f"{w}: {n}" for n, w in bounds)
    if used > limit:
        return CheckResult.not_met(f"{used} test iterations used, over the limit of {limit} "
                                   f"({why}; limits: {shown})")
    return CheckResult.met(f"{used} test iterations used, within {limit} ({shown})")


def _configured_limit(ctx: EvalContext) -> tuple[tuple[int, str] | None, str | None]:
    """The framework's configured limit for the phase, or a reason the file is unusable."""
    file = ctx.project.root / CONFIG
    if not file.is_file():
        return None, None
    try:
        raw = read_regular_file(file, ctx.project.limits.evidence_bytes)
        data = json.loads(raw.decode("utf-8-sig"))
    except UnusableFile as exc:
        return None, f"{CONFIG}: {exc.reason}"
    except (OSError, ValueError, RecursionError) as exc:  # (JSON nested too deep: the last)
        return None, f"{CONFIG}: unreadable: {exc}"
    phase = ctx.spec.phase
    requirement = _get(data, "phase_requirements", phase, "test_iteration")
    workflow_type = ctx.project.state.get("active_workflow.type")
    override = _get(data, "workflow_overrides", str(workflow_type), phase, "test_iteration")
    for source, where in ((override, f"workflow_overrides.{workflow_type}.{phase}"),
                          (requirement, f"phase_requirements.{phase}")):
        value = _count(source.get("max_iterations")) if isinstance(source, Mapping) else None
        if value is not None:
            return (value, f"{CONFIG} {where}.test_iteration.max_iterations"), None
    return None, None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _final_status(record: Mapping[str, Any], _p: Any, _c: Any, path: str) -> CheckResult:
    status = record.get("status")
    if record.get("completed") is True and status in ("success", "escalated"):
        return CheckResult.met(f"{path}.status is {status!r} (completed)")
    return CheckResult.not_met(f"{path}: completed is {record.get('completed')!r}, status "
                               f"{status!r}; a final status (success or escalated) is not "
                               "recorded")


def _escalation_documented(record: Mapping[str, Any], _p: Any, _c: Any, path: str
                           ) -> CheckResult:
    status = record.get("status")
    if status != "escalated":
        return CheckResult.not_applicable(f"N/A: {path}.status is {status!r}, not escalated")
    reason, details = record.get("escalation_reason"), record.get("escalation_details")
    if not reason or not details:
        return CheckResult.not_met("escalated, but escalation_reason or escalation_details "
                                   "is empty")
    return CheckResult.met(f"escalated ({reason}): {details}")


def _no_repeated_failures(record: Mapping[str, Any], _p: Any, _c: Any, path: str
                          ) -> CheckResult:
    repeated = _count(record.get("identical_failure_count"))
    if repeated is None:
        if record.get("identical_failure_count") is None and _count(
                record.get("current_iteration")) is not None:
            repeated = 0
        else:
            return CheckResult.missing(f"{path}.identical_failure_count is "
                                       f"{record.get('identical_failure_count')!r}")
    if record.get("escalation_reason") == "circuit_breaker" or \
            repeated >= DEFAULT_CIRCUIT_BREAKER:
        return CheckResult.not_met(f"the same failure repeated {repeated} time(s) "
                                   f"(escalation_reason {record.get('escalation_reason')!r})")
    return CheckResult.met(f"no failure repeated {DEFAULT_CIRCUIT_BREAKER} times "
                           f"(identical_failure_count {repeated})")


_RULES = {
    "logged": _logged,
    "within_limit": _within_limit,
    "final_status": _final_status,
    "escalation_documented": _escalation_documented,
    "no_repeated_failures": _no_repeated_failures,
}

KIND = builtin_kind("test_iteration", evaluate)
