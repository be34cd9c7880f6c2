"""The plain objects under the plugin's hooks: a frozen plan, and the one outcome type that
travels from a pytest-xdist worker to the controller unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_deploygate.core.results import CheckResult, Evidence, Status
from pytest_deploygate.core.value_class import FrozenInstanceError
from pytest_deploygate.decision.outcomes import ItemOutcome, Outcome, OutcomeBook
from pytest_deploygate.gate.plan import GatePlan, ProjectSlot
from pytest_deploygate.spec.library import SpecFile


def test_a_plan_cannot_change_once_built(tmp_path: Path) -> None:
    slot = ProjectSlot(None, tmp_path / "state.json", tmp_path)
    spec_file = SpecFile(12, "production", tmp_path / "12-production.yaml", "builtin")
    plan = GatePlan(spec_file, "all", slot, tmp_path)
    with pytest.raises(FrozenInstanceError):
        plan.unmet = ("late",)  # type: ignore[misc]
    with pytest.raises(TypeError):
        plan.deferred["up"] = "GATE-11"  # type: ignore[index]
    assert plan.skip_reason(()) is None
    assert plan.skip_reason(("a", "b")) == "GATE-12 skipped, prerequisite unmet: a | b"


def test_an_outcome_survives_the_trip_from_a_worker() -> None:
    result = CheckResult("not_met", "p99 1800 ms > 1500 ms",
                         (Evidence("prometheus", "http://prom/q", detail="p99"),))
    sent = ItemOutcome("GATE-12-post", "latency", Outcome.of(result), {"id": "latency"})
    received = ItemOutcome.from_dict(sent.to_dict())
    assert received == sent
    assert received.outcome.status is Status.NOT_MET
    measured = Outcome(Status.MET, "ok", measurement={"kind": "value", "value": 3.0})
    assert Outcome.from_dict(measured.to_dict()) == measured


def test_an_unknown_status_is_an_error_never_a_pass() -> None:
    received = ItemOutcome.from_dict({"record": "GATE-12", "id": "x", "status": "fine"})
    assert received.outcome.status is Status.ERROR


def test_the_worst_phase_wins_and_durations_add() -> None:
    book = OutcomeBook()
    book.add(ItemOutcome("GATE-12", "x", Outcome(Status.MET, "call")), 1.0)
    book.add(ItemOutcome("GATE-12", "x", Outcome(Status.ERROR, "teardown")), 0.5)
    book.add(ItemOutcome("GATE-12", "x", Outcome(Status.MET, "late")), 0.25)
    outcome = book.get("GATE-12", "x")
    assert outcome is not None
    assert (outcome.status, outcome.message, outcome.duration) == (Status.ERROR, "teardown", 1.75)


def test_a_kind_cannot_change_what_was_booked() -> None:
    """A kind that keeps its result and tries to change it after booking changes nothing:
    the result and its evidence are frozen, and the book holds fresh copies of their data."""
    evidence = Evidence("file", "evidence.md", sha256="ab" * 32)
    result = CheckResult("met", "present", (evidence,))
    book = OutcomeBook()
    book.add(ItemOutcome("GATE-20", "c-1", Outcome.of(result)), 0.5)
    with pytest.raises(FrozenInstanceError):
        evidence.ref = "elsewhere.md"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        result.message = "changed"  # type: ignore[misc]
    booked = book.get("GATE-20", "c-1")
    assert booked is not None
    assert (booked.status, booked.message, booked.duration) == (Status.MET, "present", 0.5)
    assert booked.evidence == [{"kind": "file", "ref": "evidence.md", "sha256": "ab" * 32}]
    again = Outcome.of(result)
    again.evidence[0]["ref"] = "other"  # each outcome has its own copy of the data
    assert booked.evidence[0]["ref"] == "evidence.md"


def test_outcomes_said_alike_stay_each_items_own() -> None:
    """Items checked alike report the same message and evidence; each booked outcome still
    reads as reported (its own status and duration), and values equal only as numbers (1,
    1.0, True) are not taken for one another."""
    book = OutcomeBook()

    def said(item_id: str, status: Status, ref: object, duration: float) -> None:
        evidence = [{"kind": "state", "ref": ref, "detail": "= 'bench'"}]
        book.add(ItemOutcome("GATE-20", item_id, Outcome(status, "project.name is 'bench'",
                                                         evidence)), duration)  # type: ignore[arg-type]

    said("a", Status.MET, "project.name", 1.0)
    said("b", Status.MET, "project.name", 2.0)
    said("c", Status.NOT_MET, "project.name", 3.0)
    for item_id, ref in (("one", 1), ("float", 1.0), ("true", True)):
        said(item_id, Status.MET, ref, 0.0)
    outcomes = {i: book.get("GATE-20", i) for i in ("a", "b", "c", "one", "float", "true")}
    assert all(o is not None for o in outcomes.values())
    assert [(o.status, o.duration) for o in outcomes.values() if o][:3] == [
        (Status.MET, 1.0), (Status.MET, 2.0), (Status.NOT_MET, 3.0)]
    for item_id in ("a", "b", "c"):
        assert outcomes[item_id].to_dict()["evidence"] == [  # type: ignore[union-attr]
            {"kind": "state", "ref": "project.name", "detail": "= 'bench'"}]
    refs = {i: outcomes[i].evidence[0]["ref"] for i in ("one", "float", "true")}  # type: ignore[union-attr]
    assert [repr(r) for r in refs.values()] == ["1", "1.0", "True"]
