"""Prerequisites "GATE-M passed" where gate M runs earlier in the same invocation.

Finding them is part of preparing the (frozen) plans; their results are learnt only while the
run goes on, so they live here, in the run's state, not in the plans.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.gate.plan import GatePlan, ProjectSlot
from pytest_deploygate.spec.model import Check, Criterion


def gate_passed_prerequisites(plan: GatePlan) -> Iterator[tuple[Criterion, Check]]:
    """The plan's ``gate_passed`` prerequisites, with their checks."""
    for item in plan.spec.items if plan.spec else ():
        if item.role == "prerequisite" and item.check is not None and \
                item.check.kind == "gate_passed":
            yield item, item.check


def identity(plan: GatePlan) -> int | str:
    """What a prerequisite names a gate by: its phase key (today's layout) or number."""
    return plan.spec_file.key or plan.spec_file.gate


def target(slot: ProjectSlot, check: Check) -> int | str | None:
    """The gate a ``gate_passed`` prerequisite waits for: one phase key, or one number."""
    phases = check.params.get("phases")
    if isinstance(phases, list) and len(phases) == 1 and slot.layout is not None:
        return slot.layout.canonical(str(phases[0]))
    return check.params.get("gate")


def same_run_targets(plan: GatePlan, earlier: Sequence[GatePlan]) -> dict[str, str]:
    """The plan's prerequisites that an earlier gate of this run decides: item id -> that
    gate's record name."""
    by_identity = {identity(p): p for p in earlier}
    found = {}
    for item, check in gate_passed_prerequisites(plan):
        gate = target(plan.slot, check)
        if gate in by_identity:
            found[item.id] = by_identity[gate].record_name
    return found


def xdist_warnings(plans: Sequence[GatePlan]) -> list[str]:
    """Under pytest-xdist another worker runs gate M, in no set order: state.json decides, as
    if the gates ran in separate invocations. One warning per prerequisite that says so."""
    numbers = {identity(p) for p in plans}
    warnings = []
    for plan in plans:
        for item, check in gate_passed_prerequisites(plan):
            if target(plan.slot, check) in numbers - {identity(plan)}:
                warnings.append(f"{plan.record_name}: {item.id} is decided from state.json, "
                                "not from this run (pytest-xdist); run the gates serially for "
                                "that")
    return warnings


def unmet_line(item: Criterion, result: CheckResult) -> str:
    """How an unmet prerequisite is named in the gate's skip reason."""
    note = f"; {item.note}" if item.note else ""
    return result.message + note


class SameRunPrerequisites:
    """What the run learnt of its plans' deferred prerequisites, by record name."""

    def __init__(self) -> None:
        self._results: dict[str, dict[str, CheckResult]] = {}
        self._unmet: dict[str, list[str]] = {}

    def pending(self, plan: GatePlan) -> bool:
        """True while a deferred prerequisite of the plan is undecided."""
        return any(item_id not in self._results.get(plan.record_name, {})
                   for item_id in plan.deferred)

    def result(self, plan: GatePlan, item_id: str) -> CheckResult | None:
        """The result of a prerequisite: decided in this run, or when the run was prepared."""
        decided = self._results.get(plan.record_name, {}).get(item_id)
        return decided if decided is not None else plan.prerequisite_results.get(item_id)

    def unmet(self, plan: GatePlan) -> tuple[str, ...]:
        """Every unmet prerequisite of the plan so far, those decided in this run last."""
        if not self._unmet:  # (the usual case: asked before every item; no name to build)
            return plan.unmet
        return (*plan.unmet, *self._unmet.get(plan.record_name, ()))

    def resolve(self, plan: GatePlan, plan_named: Callable[[str], GatePlan],
                decision_of: Callable[[GatePlan], str]) -> None:
        """Decide the plan's deferred prerequisites from this run's decisions of the earlier
        gates."""
        assert plan.spec is not None
        results = self._results.setdefault(plan.record_name, {})
        for item_id, record_name in plan.deferred.items():
            if item_id in results:
                continue
            earlier = plan_named(record_name)
            status = decision_of(earlier)
            if status == "PASS":
                result = CheckResult.met(f"{earlier.gate_id} passed in this run")
            else:
                result = CheckResult.not_met(f"{earlier.gate_id} not passed in this run: "
                                             f"its decision is {status}")
                self._unmet.setdefault(plan.record_name, []).append(
                    unmet_line(plan.spec.item(item_id), result))
            results[item_id] = result

