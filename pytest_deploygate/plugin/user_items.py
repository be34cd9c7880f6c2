"""Users' own Python criteria: tests marked ``@pytest.mark.gate(12, section=...)``.

The marker names its gate by number or phase key (``@pytest.mark.gate("13-production")``);
on today's layout a number two phases share (02, 12, 15) is a collection error naming them.

A marked test joins the gate's record like a spec criterion: its section decides its stage and
Gate Decision row, its id is ``id=`` or the test's node id, and an unmet prerequisite skips it
with the gate. A test of a section outside the stage being run is deselected (it checks a
moment the stage is not about).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.isdlc.gate_names import ambiguity, names_selected
from pytest_deploygate.records.names import DECISION_ID
from pytest_deploygate.spec.model import OTHER_ROW_ID, Criterion
from pytest_deploygate.spec.record_rules import BINDING_ID


@value_class
class UserMember:
    """A gate-marked test, its record and its criterion."""

    record: str
    criterion: Criterion
    problem: str | None = None


def join_user_items(items: list[pytest.Item], plans: list[GatePlan],
                    members: dict[str, UserMember], criteria: dict[str, list[Criterion]]
                    ) -> tuple[list[pytest.Item], list[pytest.Item], list[tuple[pytest.Item, str]]]:
    """Register gate-marked items with their plans; return (kept, deselected) items and the
    items whose marker names no one gate (an ambiguous number), with why: collection errors."""
    kept: list[pytest.Item] = []
    dropped: list[pytest.Item] = []
    refused: list[tuple[pytest.Item, str]] = []
    #: Per record: the ids already held, and by whom.
    held: dict[str, dict[str, str]] = {}
    for item in items:
        marker = item.get_closest_marker("gate")
        unclear = _ambiguous_marker(marker, plans) if marker else None
        if unclear:
            refused.append((item, unclear))
            continue
        plan = _plan_for_marker(marker, plans) if marker else None
        if marker is None or plan is None or plan.spec is None:
            kept.append(item)
            continue
        criterion, problem = _criterion(item, marker, plan)
        if plan.record_name not in held:
            held[plan.record_name] = _held_ids(plan, members)
        taken = held[plan.record_name].get(criterion.id)
        if taken:
            refused.append((item, f"@pytest.mark.gate({marker.args[0]!r}, "
                                  f"id={criterion.id!r}): {plan.gate_id} already has a "
                                  f"criterion {criterion.id!r} ({taken}); a test joins a gate "
                                  "under an id of its own (leave id= out to use its node id)"))
            continue
        if plan.stage != "all" and criterion.stage not in (plan.stage, None) and not problem:
            dropped.append(item)
            continue
        members[item.nodeid] = UserMember(plan.record_name, criterion, problem)
        held[plan.record_name][criterion.id] = f"{item.nodeid}'s"
        criteria.setdefault(plan.record_name, []).append(criterion)
        kept.append(item)
    return kept, dropped, refused


def _held_ids(plan: GatePlan, members: Mapping[str, UserMember]) -> dict[str, str]:
    """The ids the plan's gate already holds, and whose: the spec's (any stage), the record's
    own (the binding item, the decision) and gate-marked tests'.

    Outcomes are booked by id: a test under a spec criterion's id (or a second test under
    one id) answered for the criterion too, so a deselected criterion, or the post stage's
    binding to its pre record, took a passing test's outcome and the gate said PASS.
    """
    held = {c.id: "the spec's" for c in (*plan.spec_items, *plan.items)}
    held.update({DECISION_ID: "the record's own", BINDING_ID: "the record's own"})
    held.update({m.criterion.id: f"{node}'s" for node, m in members.items()
                 if m.record == plan.record_name})
    return held


def _plan_for_marker(marker: pytest.Mark, plans: list[GatePlan]) -> GatePlan | None:
    if not marker.args:
        return None
    return next((p for p in plans if names_plan(marker.args[0], p)), None)


def names_plan(named: object, plan: GatePlan) -> bool:
    """True when a ``gate`` marker's argument (number or phase key) names this plan's gate."""
    spec_file = plan.spec_file
    return names_selected(named, plan.slot.layout, number=spec_file.gate, slug=spec_file.slug,
                          key=spec_file.key)


def _ambiguous_marker(marker: pytest.Mark, plans: list[GatePlan]) -> str | None:
    """Why a marker's number names no one gate on today's layout (None when it is clear)."""
    if not marker.args or not isinstance(marker.args[0], (int, str)):
        return None
    named = marker.args[0]
    for plan in plans:
        layout = plan.slot.layout
        if layout is None or not layout.current:
            continue
        keys = ambiguity(named, layout, [p.spec_file.key for p in plans if p.spec_file.key])
        if keys:
            return (f"@pytest.mark.gate({named!r}): {named!r} is ambiguous in the "
                    f"{layout.name} layout: {', '.join(keys)}; name the phase, e.g. "
                    f"@pytest.mark.gate({keys[0]!r})")
    return None


def _criterion(item: pytest.Item, marker: pytest.Mark, plan: GatePlan
               ) -> tuple[Criterion, str | None]:
    assert plan.spec is not None
    sections = {c.section_id: c for c in plan.spec.items}
    section_id = marker.kwargs.get("section")
    problem = None
    stage = marker.kwargs.get("stage") or plan.stage
    title, decision = "Python criteria", OTHER_ROW_ID
    if section_id is not None:
        known = sections.get(section_id)
        if known is None:
            problem = (f"@pytest.mark.gate({marker.args[0]}, section={section_id!r}): "
                       f"{plan.gate_id} has no such section; sections: "
                       + ", ".join(dict.fromkeys(sections)))
        else:
            stage, title, decision = known.stage, known.section_title, known.decision
    doc = (getattr(getattr(item, "obj", None), "__doc__", None) or "").strip()
    text = doc.splitlines()[0] if doc else item.name
    from pytest_deploygate.core.printable import shown

    # Named in Python, not in a reviewed checklist: a control character or a lone surrogate
    # is shown as an escape (as evidence is), so every record and terminal can carry it.
    criterion = Criterion(
        id=shown(str(marker.kwargs.get("id") or item.nodeid)),
        text=shown(text),
        role="user",
        section_id=section_id or "python-criteria",
        section_title=title,
        stage=stage if stage in ("pre", "post") else plan.stage,
        decision=decision,
        check=None,
        waivable=bool(marker.kwargs.get("waivable", True)),
    )
    return criterion, problem


_FIELDS = ("id", "text", "section_id", "section_title", "stage", "decision", "waivable")


def criterion_fields(criterion: Criterion) -> dict[str, Any]:
    """The fields of a user criterion, JSON-friendly (they travel on pytest-xdist reports)."""
    return {name: getattr(criterion, name) for name in _FIELDS}


def criterion_from_fields(fields: Mapping[str, Any]) -> Criterion:
    """Rebuild a user criterion on the controller of a pytest-xdist run."""
    return Criterion(role="user", check=None, **{k: fields[k] for k in _FIELDS if k in fields})
