"""The trust rules of records, table-driven on the built-in specs: which outcome the spec
allows for a criterion, both directions. `deploygate verdict` and the post stage's binding
apply them to records (tests/test_verdict_trust.py); the plugin applies the N/A rule while it
runs, so a record it writes always satisfies them."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deploygate.cli.workspace import Workspace
from pytest_deploygate.core.results import Status
from pytest_deploygate.decision.outcomes import NoSuchForm, junit_form, status_from_junit
from pytest_deploygate.spec.record_rules import allowed_statuses

REPO = Path(__file__).resolve().parent.parent

NA, WAIVED = Status.NOT_APPLICABLE, Status.WAIVED

# (gate, criterion, status, waivers enabled, allowed, the rule)
RULES = [
    (12, "change-management-approval", NA, False, True, "N/A with a `when` condition"),
    (12, "release-notes", NA, False, False, "no N/A for a required artifact"),
    (12, "security-sign-off", NA, False, False, "no N/A without a condition"),
    (12, "gate-10-passed", NA, False, False, "no N/A for a prerequisite"),
    (12, "escalation-documented", NA, False, True, "N/A when nothing was escalated"),
    (1, "traceability-matrix", NA, False, True, "N/A for an optional artifact"),
    (12, "security-sign-off", WAIVED, True, True, "waived where waivers are enabled"),
    (12, "security-sign-off", WAIVED, False, False, "no waiver while waivers are off"),
    (12, "gate-10-passed", WAIVED, True, False, "prerequisites are never waived"),
    (12, "error-rate-above-threshold", WAIVED, True, False, "triggers are never waived"),
    (12, "constitutional-validation-performed", WAIVED, True, False,
     "a section marked waivable: false"),
    (12, "release-notes", Status.MISSING, False, True, "failing outcomes are always possible"),
    (12, "release-notes", None, False, True, "not run is always possible (INCOMPLETE)"),
]


@pytest.fixture(scope="module")
def workspace() -> Workspace:
    return Workspace(REPO, REPO / "gate_specs")


@pytest.mark.parametrize(("gate", "item_id", "status", "waivers", "allowed", "rule"), RULES,
                         ids=[rule[-1] for rule in RULES])
def test_allowed_outcomes(workspace: Workspace, gate: int, item_id: str, status: Status | None,
                          waivers: bool, allowed: bool, rule: str) -> None:
    spec = workspace.gate(str(gate))
    assert (status in allowed_statuses(spec.item(item_id), spec, waivers)) is allowed, rule


@pytest.mark.parametrize(("conditions", "allowed"), [
    ({"change_management_required": False}, True),
    ({"change_management_required": True}, False),
    ({}, False),  # unset: the criterion is missing evidence, never N/A
    (None, True)])  # conditions unknown: the `when` may have been false
def test_na_only_when_the_projects_condition_can_be_false(
        workspace: Workspace, conditions: dict | None, allowed: bool) -> None:
    spec = workspace.gate("12")
    item = spec.item("change-management-approval")
    assert (NA in allowed_statuses(item, spec, False, conditions)) is allowed


def test_rollback_is_only_a_trigger_outcome() -> None:
    assert junit_form(Status.NOT_MET, "trigger") == ("failure", "rollback-triggered")
    assert status_from_junit("failure", "rollback-triggered", "trigger") == Status.NOT_MET
    with pytest.raises(NoSuchForm):
        status_from_junit("failure", "rollback-triggered", "criterion")
    with pytest.raises(NoSuchForm):
        status_from_junit("failure", "not-met", "trigger")


def test_every_status_reads_back_as_itself() -> None:
    for role in ("criterion", "trigger", "artifact", "prerequisite", "user", "binding"):
        for status in [*Status, None]:
            element, kind = junit_form(status, role)
            assert status_from_junit(element, kind, role) == status
