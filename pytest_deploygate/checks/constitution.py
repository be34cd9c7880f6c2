"""``constitution``: the phase's constitutional validation record in state.json.

Reads ``phases.<phase>.constitutional_validation``. Parameter ``criterion`` picks what is
checked: ``performed``, ``articles`` (with ``articles``: the ones that must be checked),
``iterations_logged``, ``violations_addressed``, ``status_compliant``, ``within_limit`` (with
``limits`` per tier) or ``escalation_documented`` (N/A unless the status is escalated).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence

DEFAULT_LIMITS = {"quick": 3, "standard": 5, "enterprise": 7}
_LEVEL_TIERS = {0: "quick", 1: "quick", 2: "standard", 3: "standard", 4: "enterprise"}


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Dispatch to the rule named by ``criterion``."""
    phase = params.get("phase") or ctx.spec.phase
    path = f"phases.{phase}.constitutional_validation"
    found = ctx.project.state.lookup(path)
    if not found.found:
        return CheckResult.missing(found.problem)
    record = found.value
    if not isinstance(record, Mapping):
        return CheckResult.missing(f"{path} is not an object")
    rule = _RULES[params["criterion"]]
    result = rule(record, params, ctx, path)
    evidence = Evidence("state", path, detail=f"status={record.get('status')!r} "
                        f"iterations_used={record.get('iterations_used')!r}")
    return CheckResult(result.status, result.message, (*result.evidence, evidence))


def _performed(record: Mapping[str, Any], _p: Any, _c: Any, path: str) -> CheckResult:
    completed, status = record.get("completed"), record.get("status")
    if completed is True and status not in (None, "pending"):
        return CheckResult.met(f"{path}.completed is true (status {status!r})")
    return CheckResult.not_met(f"{path}.completed is {completed!r}, status {status!r}: "
                               "self-validation not performed")


def _articles(record: Mapping[str, Any], params: Mapping[str, Any], _c: Any,
              path: str) -> CheckResult:
    required = list(params.get("articles") or [])
    extra = record.get("articles_required")
    if isinstance(extra, list):
        required += [a for a in extra if isinstance(a, str) and a not in required]
    checked = record.get("articles_checked")
    if not isinstance(checked, list):
        return CheckResult.missing(f"{path}.articles_checked is not a list")
    absent = [article for article in required if article not in checked]
    if absent:
        return CheckResult.not_met(f"articles not validated: {', '.join(absent)} "
                                   f"(checked: {', '.join(map(str, checked)) or 'none'})")
    return CheckResult.met(f"articles validated: {', '.join(required)}")


def _iterations_logged(record: Mapping[str, Any], _p: Any, _c: Any, path: str) -> CheckResult:
    used, history = record.get("iterations_used"), record.get("history")
    if isinstance(used, bool) or not isinstance(used, int) or used < 1:
        return CheckResult.not_met(f"{path}.iterations_used is {used!r}; no iteration logged")
    if not isinstance(history, list):
        return CheckResult.not_met(f"{path}.history is not a list")
    if len(history) != used:
        return CheckResult.not_met(f"iterations_used is {used} but history has "
                                   f"{len(history)} entries")
    return CheckResult.met(f"{used} iteration(s) logged in history")


def _violations_addressed(record: Mapping[str, Any], _p: Any, _c: Any, path: str
                          ) -> CheckResult:
    open_items = []
    history = record.get("history")
    for index, iteration in enumerate(history if isinstance(history, list) else []):
        violations = iteration.get("violations") if isinstance(iteration, Mapping) else None
        for violation in violations if isinstance(violations, list) else []:
            if not isinstance(violation, Mapping) or not violation.get("fix_applied"):
                open_items.append(f"history[{index}]: {_name(violation)} has no fix_applied")
    found = record.get("violations_found")
    escalated = record.get("status") == "escalated"
    if isinstance(found, list) and found and not escalated:
        open_items.append(f"violations_found lists {len(found)} open violation(s)")
    if escalated:
        unresolved = record.get("unresolved_violations")
        if not isinstance(unresolved, list) or not unresolved:
            open_items.append("status is escalated but unresolved_violations is empty")
        open_items = [o for o in open_items if "no fix_applied" not in o]
    if open_items:
        return CheckResult.not_met("; ".join(open_items))
    return CheckResult.met("every recorded violation has a fix applied or is escalated")


def _status_compliant(record: Mapping[str, Any], _p: Any, _c: Any, path: str) -> CheckResult:
    status = record.get("status")
    if status == "compliant":
        return CheckResult.met(f"{path}.status is 'compliant'")
    return CheckResult.not_met(f"{path}.status is {status!r}; must be 'compliant'")


def _within_limit(record: Mapping[str, Any], params: Mapping[str, Any], ctx: EvalContext,
                  path: str) -> CheckResult:
    used = record.get("iterations_used")
    if isinstance(used, bool) or not isinstance(used, int):
        return CheckResult.missing(f"{path}.iterations_used is {used!r}, not a number")
    limits = {**DEFAULT_LIMITS, **(params.get("limits") or {})}
    tier, how = tier_of(ctx)
    limit = int(ctx.number(limits[tier]))
    why = f"tier {tier} ({how}) allows {limit}"
    state_max = record.get("max_iterations")
    if isinstance(state_max, int) and not isinstance(state_max, bool) and state_max < limit:
        limit, why = state_max, f"{why}; {path}.max_iterations is lower: {state_max}"
    if used > limit:
        return CheckResult.not_met(f"{used} iterations used, over the limit of {limit}: {why}")
    return CheckResult.met(f"{used} iterations used, within {limit}: {why}")


def _escalation_documented(record: Mapping[str, Any], _p: Any, _c: Any, path: str
                           ) -> CheckResult:
    status = record.get("status")
    if status != "escalated":
        return CheckResult.not_applicable(f"N/A: {path}.status is {status!r}, not escalated")
    unresolved = record.get("unresolved_violations")
    if not isinstance(unresolved, list) or not unresolved:
        return CheckResult.not_met("escalated, but unresolved_violations is empty")
    lacking = [_name(v) for v in unresolved
               if not isinstance(v, Mapping) or not v.get("recommendation")]
    if lacking:
        return CheckResult.not_met("unresolved violations without a recommendation: "
                                   + ", ".join(lacking))
    return CheckResult.met(f"{len(unresolved)} unresolved violation(s) documented with "
                           "recommendations")


def tier_of(ctx: EvalContext) -> tuple[str, str]:
    """The project's tier and how it was determined (for messages)."""
    state = ctx.project.state
    track = state.get("workflow.track")
    if track in DEFAULT_LIMITS:
        return track, f"workflow.track is {track!r}"
    level = state.get("complexity_assessment.level")
    if isinstance(level, int) and not isinstance(level, bool) and level in _LEVEL_TIERS:
        return _LEVEL_TIERS[level], f"complexity_assessment.level is {level}"
    config = ctx.project.config
    if config.tier:
        return config.tier, f"tier from {config.display_name}"
    return "quick", (f"tier unknown (workflow.track {track!r}, complexity_assessment.level "
                     f"{level!r}), strictest limit applied; set tier in {config.display_name}")


def _name(violation: Any) -> str:
    if isinstance(violation, Mapping):
        return str(violation.get("article") or violation.get("violation") or "violation")
    return repr(violation)


_RULES = {
    "performed": _performed,
    "articles": _articles,
    "iterations_logged": _iterations_logged,
    "violations_addressed": _violations_addressed,
    "status_compliant": _status_compliant,
    "within_limit": _within_limit,
    "escalation_documented": _escalation_documented,
}

KIND = builtin_kind("constitution", evaluate)
