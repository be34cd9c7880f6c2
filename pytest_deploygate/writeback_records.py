"""What a decided gate writes back: state.json's gate fields and the framework's own
validation record (``docs/.validations/gate-NN-<phase>.json``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.decision import PASS
from pytest_deploygate.records.atomic import write_atomic
from pytest_deploygate.records.content import RecordContent
from pytest_deploygate.timeutil import format_instant
from pytest_deploygate.writeback import update_json

if TYPE_CHECKING:
    from pytest_deploygate.gate_run import GatePlan
    from pytest_deploygate.project import Project


def update_state(state_path: Path, plan: GatePlan, content: RecordContent, record: Path) -> None:
    """Set ``phases.<key>.gate_passed`` (whole gate or post stage) and ``gate_validation``."""
    assert plan.spec is not None
    decision = content.decision
    block = {
        "status": "passed" if decision.status == PASS else decision.status.lower(),
        "decision": decision.label,
        "stage": plan.stage,
        "validated_at": format_instant(content.evaluated_at),
        "record": str(record),
    }
    phase_key = plan.spec.phase

    def change(data: dict[str, Any]) -> None:
        phases = data.setdefault("phases", {})
        phase = phases.setdefault(phase_key, {})
        if not isinstance(phase, dict):
            raise TypeError(f"phases.{phase_key} is not an object")
        if plan.stage in ("all", "post"):
            phase["gate_passed"] = decision.status == PASS
        phase["gate_validation"] = block

    try:
        update_json(state_path, change)
    except TypeError as exc:
        from pytest_deploygate.writeback import WriteBackError

        raise WriteBackError(f"{state_path}: {exc}") from None


def write_validation_record(project: Project, plan: GatePlan, content: RecordContent) -> Path:
    """Write the framework's validation record for this gate and return its path."""
    spec = plan.spec
    assert spec is not None
    suffix = spec.phase.split("-", 1)[1] if "-" in spec.phase else spec.phase
    path = project.root / "docs" / ".validations" / f"gate-{spec.gate:02d}-{suffix}.json"
    checklist = []
    artifacts = []
    for item in content.items:
        outcome = item.outcome
        entry = {
            "id": item.criterion.id,
            "text": item.text,
            "section": item.criterion.section_title,
            "stage": item.criterion.stage,
            "outcome": item.verdict,
            "message": outcome.message if outcome else "not run",
            "evidence": outcome.evidence if outcome else [],
        }
        checklist.append(entry)
        if item.criterion.role == "artifact":
            files = [e for e in entry["evidence"] if e.get("kind") == "file"]
            artifacts.append({"id": item.criterion.id, "name": item.criterion.artifact.name
                              if item.criterion.artifact else item.text,
                              "outcome": item.verdict, "files": files})
    document = {
        "gate": spec.id,
        "phase": spec.phase,
        "status": "passed" if content.decision.status == PASS else
        content.decision.status.lower(),
        "decision": content.decision.label,
        "stage": plan.stage,
        "validated_at": format_instant(content.evaluated_at),
        "validated_by": "pytest-deploygate",
        "checklist": checklist,
        "constitutional_validation": project.state.get(
            f"phases.{spec.phase}.constitutional_validation"),
        "artifacts": artifacts,
    }
    write_atomic(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
    return path
