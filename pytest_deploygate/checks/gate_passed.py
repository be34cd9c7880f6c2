"""``gate_passed``: earlier gates recorded as passed in state.json.

Parameters: ``gate`` (one number) or ``gates`` (a list) in the 13-phase layout; ``phases`` (a
list of phase keys: ``12-test-deploy`` is staging in today's layout, and a key of the other
layout is translated, so staging is the test-deploy phase in either); ``previous: true`` (the
phases before the gate's own, never the gate's phase itself); ``phase`` (the key, when it
cannot be found from the number); ``allow_skipped`` (a skipped phase counts, default false);
``allow_conditional`` (``gate_status: conditional_pass`` counts, default false);
``only_required`` (phases absent from ``workflow.phases_required`` are not asked for).

A phase passed when ``phases.<key>.gate_passed`` is true; in today's layout also when it is a
timestamp (what the framework's agents write) or when the framework completed the phase
(``status`` or ``active_workflow.phase_status`` is ``completed``: it advances a phase only
through its gate). ``gate_passed: false`` is never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.isdlc.layout import CURRENT_TO_LEGACY, LEGACY_TO_CURRENT, Layout, layout_of
from pytest_deploygate.isdlc.state import StateDoc, type_name


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when every named gate passed; missing when a phase is not in state.json."""
    state = ctx.project.state
    phases = state.lookup("phases")
    if not phases.found or not isinstance(phases.value, Mapping):
        shown = phases.problem if not phases.found else (
            f"phases is {type_name(phases.value)}, not an object")
        return CheckResult.missing(shown)
    layout = layout_of(ctx.project)
    required = state.get("workflow.phases_required")
    verdicts = _Verdicts()
    for label, key, problem in _wanted(params, ctx, layout, phases.value):
        if key is None:
            verdicts.missing.append(problem)
        elif params.get("only_required") and isinstance(required, list) and \
                key not in required:
            verdicts.passed.append(f"{label} not required by workflow.phases_required")
        elif layout.current:
            _judge_today(label, key, params, state.data, verdicts)
        else:
            _judge_legacy(label, key, params, state, verdicts)
    return verdicts.result()


@value_class
class _Verdicts:
    """What was found about each phase asked about, gathered into one result."""

    failures: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)

    def result(self) -> CheckResult:
        """Not met when any phase did not pass, missing when any is unknown, else met."""
        if self.failures:
            return CheckResult.not_met("; ".join(self.failures + self.missing), *self.evidence)
        if self.missing:
            return CheckResult.missing("; ".join(self.missing), *self.evidence)
        return CheckResult.met("; ".join(self.passed), *self.evidence)


def _judge_legacy(label: str, key: str, params: Mapping[str, Any], state: StateDoc,
                  verdicts: _Verdicts) -> None:
    """The 13-phase layout: ``phases.<key>.gate_passed`` is true, and nothing else."""
    phase = state.get(f"phases.{key}")
    if not isinstance(phase, Mapping):
        verdicts.missing.append(f"{label}: phases.{key} is not an object in state.json")
        return
    status, flag, gate_status = phase.get("status"), phase.get("gate_passed"), phase.get(
        "gate_status")
    verdicts.evidence.append(Evidence("state", f"phases.{key}",
                                      detail=f"gate_passed={_j(flag)} status={_j(status)}"))
    if status == "skipped":
        if params.get("allow_skipped"):
            verdicts.passed.append(f"{label} skipped (allowed)")
        else:
            verdicts.failures.append(f"{label} not passed: phases.{key}.status is 'skipped'")
    elif flag is True and gate_status == "conditional_pass" and not params.get(
            "allow_conditional"):
        verdicts.failures.append(f"{label} only conditionally passed: phases.{key}.gate_status "
                                 "is 'conditional_pass'")
    elif flag is True:
        verdicts.passed.append(f"{label} passed")
    else:
        verdicts.failures.append(f"{label} not passed: phases.{key}.gate_passed is {_j(flag)} "
                                 f"(status {_j(status)})")


def _wanted(params: Mapping[str, Any], ctx: EvalContext, layout: Layout,
            phases: Mapping[str, Any]) -> list[tuple[str, str | None, str]]:
    """(label, phase key or None, why there is none) for every phase the check asks about."""
    state = ctx.project.state
    if "phases" in params:
        return [_by_key(str(key), layout) for key in params["phases"]]
    if params.get("previous"):
        return _previous(ctx, layout, phases)
    gates = [params["gate"]] if "gate" in params else list(params["gates"])
    out = []
    for number in gates:
        key = params.get("phase") if len(gates) == 1 and "phase" in params else state.phase_key(
            number)
        label = f"GATE-{number:02d}"
        out.append((label, key, f"{label}: no phase {number:02d}-* in state.json phases"))
    return out


def _by_key(key: str, layout: Layout) -> tuple[str, str | None, str]:
    """The key in the project's layout: an alias is resolved, and a key of the other layout
    is translated (staging is ``11-test-deploy`` or ``12-test-deploy``)."""
    canonical = layout.canonical(key)
    if canonical not in layout.keys:
        other = (LEGACY_TO_CURRENT if layout.current else CURRENT_TO_LEGACY).get(canonical)
        canonical = other or canonical
    return canonical, canonical, ""


def _previous(ctx: EvalContext, layout: Layout, phases: Mapping[str, Any]
              ) -> list[tuple[str, str | None, str]]:
    """The phases before the gate's own: those of its workflow (the active one, else the last
    finished one) before it, or every phase of that workflow when the gate's phase is in none
    (production follows the whole workflow); without a workflow, the layout's phases before
    it that state.json records. Never the gate's own phase."""
    own = layout.canonical(ctx.spec.phase)
    workflow = _workflow(ctx.project.state.data)
    listed = workflow.get("phases") if workflow else None
    if layout.current and isinstance(listed, list) and listed:
        keys = [layout.canonical(k) for k in listed if isinstance(k, str)]
        keys = keys[:keys.index(own)] if own in keys else keys
    else:
        keys = sorted((layout.canonical(k) for k in phases if isinstance(k, str)
                       and layout.canonical(k) in layout.keys
                       and layout.order(k) < layout.order(own)), key=layout.order)
    keys = [k for k in dict.fromkeys(keys) if k != own]
    if not keys:
        return [("previous gates", None,
                 f"no phase before {own} is recorded in state.json (no workflow lists one)")]
    return [(key, key, "") for key in keys]


def _workflow(state: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The active workflow, else the last finished one (``workflow_history``)."""
    active = state.get("active_workflow")
    if isinstance(active, Mapping):
        return active
    history = state.get("workflow_history")
    if isinstance(history, list):
        for entry in reversed(history):
            if isinstance(entry, Mapping) and isinstance(entry.get("phases"), list):
                return entry
    return None


def _judge_today(label: str, key: str, params: Mapping[str, Any], state: Mapping[str, Any],
                 verdicts: _Verdicts) -> None:
    """Today's layout: a true or timestamp ``gate_passed``, or a phase the framework completed."""
    failures, missing, passed = verdicts.failures, verdicts.missing, verdicts.passed
    phases = state.get("phases")
    phase = phases.get(key) if isinstance(phases, Mapping) else None
    workflow = _workflow(state)
    statuses = workflow.get("phase_status") if workflow else None
    in_workflow = statuses.get(key) if isinstance(statuses, Mapping) else None
    if not isinstance(phase, Mapping) and in_workflow is None:
        missing.append(f"{label}: phases.{key} is not in state.json and no workflow lists it")
        return
    phase = phase if isinstance(phase, Mapping) else {}
    flag, status = phase.get("gate_passed"), phase.get("status")
    verdicts.evidence.append(Evidence("state", f"phases.{key}", detail=(
        f"gate_passed={_j(flag)} status={_j(status)} workflow phase_status={_j(in_workflow)}")))
    if "skipped" in (status, in_workflow):
        if params.get("allow_skipped"):
            passed.append(f"{label} skipped (allowed)")
        else:
            failures.append(f"{label} not passed: the phase was skipped")
    elif flag is False:
        failures.append(f"{label} not passed: phases.{key}.gate_passed is false")
    elif (reopened := _reopened(key, flag, status, in_workflow, workflow)) is not None:
        failures.append(f"{label} not passed: {reopened}")
    elif phase.get("gate_status") == "conditional_pass" and not params.get("allow_conditional"):
        failures.append(f"{label} only conditionally passed: phases.{key}.gate_status is "
                        "'conditional_pass'")
    elif flag is True or _is_instant(flag):
        passed.append(f"{label} passed (phases.{key}.gate_passed is {_j(flag)})")
    elif "completed" in (status, in_workflow):
        passed.append(f"{label} passed: the framework completed the phase through its gate")
    else:
        failures.append(f"{label} not passed: phases.{key}.gate_passed is {_j(flag)}, status "
                        f"{_j(status)}, workflow phase_status {_j(in_workflow)}")


def _reopened(key: str, flag: Any, status: Any, in_workflow: Any,
              workflow: Mapping[str, Any] | None) -> str | None:
    """Why a pass recorded for the phase no longer holds, or None.

    The framework's rollback (``workflow-rollback.cjs``) re-opens its target phase
    (``in_progress``) and sets every later phase ``pending``, in ``status`` and the workflow's
    ``phase_status``, but leaves their ``gate_passed``: a phase rolled back because it broke
    kept counting as passed. A phase the framework holds ``pending`` has not passed; a re-opened
    one has only when its ``gate_passed`` is a time after the rollback's."""
    open_words = {"pending", "in_progress"}
    if "pending" in (status, in_workflow) and not {status, in_workflow} - open_words - {None}:
        return (f"the framework holds it pending (phases.{key}.status {_j(status)}, workflow "
                f"phase_status {_j(in_workflow)}): its gate_passed {_j(flag)} is of before")
    if not workflow or "in_progress" not in (status, in_workflow):
        return None
    action = workflow.get("recovery_action")
    if not isinstance(action, Mapping) or action.get("type") != "rollback":
        return None
    target, listed = action.get("phase"), workflow.get("phases")
    if not isinstance(listed, list) or target not in listed or key not in listed or \
            listed.index(key) < listed.index(target):
        return None
    rolled_at = _instant(action.get("timestamp"))
    passed_at = _instant(flag)
    if rolled_at is not None and passed_at is not None and passed_at > rolled_at:
        return None
    return (f"the framework rolled it back to {target} at "
            f"{_j(action.get('timestamp'))} (active_workflow.recovery_action), after its "
            f"gate_passed {_j(flag)}: run its gate again")


def _instant(value: Any) -> Any:
    """The instant a framework time names, or None."""
    if not _is_instant(value):
        return None
    from pytest_deploygate.core.timeutil import parse_instant

    return parse_instant(value)


def _is_instant(value: Any) -> bool:
    if not isinstance(value, str) or not value.strip():
        return False
    from pytest_deploygate.core.timeutil import parse_instant

    try:
        parse_instant(value)
    except ValueError:
        return False
    return True


def _j(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    return f"'{value}'" if isinstance(value, str) else str(value)


KIND = builtin_kind("gate_passed", evaluate)
