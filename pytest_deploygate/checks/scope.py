"""``scope``: the workflow scope of the gated work item (today's framework).

Some checklists carry criteria for one scope only ("Bug Report Scope (Relaxed Criteria)" of
the requirements gate): those are N/A in the other scopes, never mandatory. The scope is read
as the framework's agents read it: ``active_workflow.agent_modifiers.<phase>.scope``, else
``active_workflow.scope``, else a ``fix`` workflow is the ``bug-report`` scope and any other
workflow type the ``feature`` scope. Without an active workflow the scope is unknown, and
unknown is missing evidence (fail closed), not N/A.

Parameters: ``is`` (met when the scope is this one) or ``not`` (met when it is another one).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.results import CheckResult, Evidence


def workflow_scope(state: Mapping[str, Any], phase: str) -> tuple[str | None, str]:
    """The scope and where it was read (or why it is unknown)."""
    workflow = state.get("active_workflow")
    if not isinstance(workflow, Mapping):
        return None, "the workflow scope is unknown: state.json has no active_workflow"
    modifiers = workflow.get("agent_modifiers")
    mine = modifiers.get(phase) if isinstance(modifiers, Mapping) else None
    if isinstance(mine, Mapping) and isinstance(mine.get("scope"), str):
        return mine["scope"], f"active_workflow.agent_modifiers.{phase}.scope"
    if isinstance(workflow.get("scope"), str):
        return workflow["scope"], "active_workflow.scope"
    kind = workflow.get("type")
    if isinstance(kind, str) and kind:
        scope = "bug-report" if kind == "fix" else "feature"
        return scope, f"active_workflow.type is {kind!r}"
    return None, "the workflow scope is unknown: active_workflow has no type and no scope"


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when the scope is (or is not) the one named; missing when it is unknown."""
    scope, where = workflow_scope(ctx.project.state.data, ctx.spec.phase)
    if scope is None:
        return CheckResult.missing(where)
    evidence = Evidence("state", where, detail=f"scope={scope}")
    if "is" in params:
        if scope == params["is"]:
            return CheckResult.met(f"the workflow scope is {scope!r} ({where})", evidence)
        return CheckResult.not_met(f"{params['is']!r} criteria: the workflow scope is "
                                   f"{scope!r} ({where})", evidence)
    if scope != params["not"]:
        return CheckResult.met(f"the workflow scope is {scope!r} ({where})", evidence)
    return CheckResult.not_met(f"replaced by the {scope!r} criteria: the workflow scope is "
                               f"{scope!r} ({where})", evidence)


KIND = builtin_kind("scope", evaluate)
