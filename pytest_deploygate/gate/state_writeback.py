"""What a decided gate writes back: state.json's gate fields and the framework's own
validation record (``docs/.validations/gate-NN-<phase>.json``).

In today's 21-phase layout the write-back is one the framework understands: the phase is
updated under its canonical key; only ``gate_passed`` (a timestamp on PASS, as the framework's
agents write it, else false) and the plugin's own ``deploygate`` block are written, never a
field the framework's code owns (``status``, ``gate_validation``, ``constitutional_validation``,
``iteration_requirements``, ...); ``state_version`` is bumped as the framework's writers do
(the version on disk plus one), so its state-write-validator accepts the write and rejects a
stale writer; the validation record is ``docs/.validations/gate-<phase key>.json`` with the
framework's status words (passed, blocked, skipped); paths are relative to the project.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.decision.decide import (
    FAIL,
    INCOMPLETE,
    NOT_APPLICABLE,
    PASS,
    ROLLBACK,
    SKIPPED,
    WAIVED,
)
from pytest_deploygate.gate.writeback import update_json
from pytest_deploygate.records.content import RecordContent, RecordItem

if TYPE_CHECKING:
    from pytest_deploygate.checks.project import Project
    from pytest_deploygate.gate.plan import GatePlan


#: The framework's status words for a gate decision (its gate_validation says "blocked").
FRAMEWORK_STATUS: dict[str, str] = {PASS: "passed", SKIPPED: "skipped"}
#: Per item: the words the framework's agents use in their own checklists.
FRAMEWORK_ITEM_STATUS: dict[str, str] = {
    PASS: "pass", FAIL: "fail", ROLLBACK: "fail", SKIPPED: "skipped",
    NOT_APPLICABLE: "not_applicable", WAIVED: "waived", INCOMPLETE: "not_run"}


def passes_gate(status: str, stage: str) -> bool:
    """Whether a decision passes the gate: a PASS of the whole gate or of its post stage (bound
    to a PASS pre stage). A pre stage's PASS does not: the deploy and the post stage it gates
    are still to come, so it is written as ``blocked``, never as ``passed``."""
    return status == PASS and stage != "pre"


def framework_status(status: str, stage: str) -> str:
    """``passed``, ``skipped`` or ``blocked`` (everything else stops the phase)."""
    if status == PASS and not passes_gate(status, stage):
        return "blocked"
    return FRAMEWORK_STATUS.get(status, "blocked")


def _status_word(status: str, stage: str) -> str:
    # The 13-phase layout's words: ``passed``, else the decision (``fail``, ``rollback``, ...);
    # a pre stage's PASS is ``blocked``, as on today's layout.
    if status == PASS:
        return framework_status(status, stage)
    return status.lower()


def _write_gate_passed(phase: dict[str, Any], status: str, stage: str, passed: object) -> None:
    # A pass is written only for the whole gate or the post stage; every other decision
    # withdraws an earlier pass (the last release's): a failure as false, a pre stage's PASS
    # as null, the framework's own "not passed yet" (its installer writes gate_passed: null).
    # Otherwise a pipeline that stops after a passing pre stage (the deploy failed, the post
    # stage never ran) leaves the phase passed for a release whose deploy nobody verified.
    if passes_gate(status, stage):
        phase["gate_passed"] = passed
    else:
        phase["gate_passed"] = None if status == PASS else False


def update_state(state_path: Path, plan: GatePlan, content: RecordContent, record: Path) -> None:
    """Set ``phases.<key>.gate_passed`` (true only for the whole gate or post stage; false on
    any decision but PASS) and ``gate_validation``."""
    assert plan.spec is not None
    if plan.spec_file.key:
        _update_state_today(state_path, plan, content, record)
        return
    decision = content.decision
    block = {
        "status": _status_word(decision.status, plan.stage),
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
        _write_gate_passed(phase, decision.status, plan.stage, True)
        phase["gate_validation"] = block

    try:
        update_json(state_path, change)
    except TypeError as exc:
        from pytest_deploygate.gate.writeback import WriteBackError

        raise WriteBackError(f"{state_path}: {exc}") from None


def _update_state_today(state_path: Path, plan: GatePlan, content: RecordContent,
                        record: Path) -> None:
    key = plan.spec_file.key
    assert key is not None and plan.project is not None
    decision = content.decision
    validated_at = format_instant(content.evaluated_at)
    block = {
        "decision": decision.status,
        "status": framework_status(decision.status, plan.stage),
        "stage": plan.stage,
        "validated_at": validated_at,
        "record": project_relative(plan.project.root, record),
        "spec": plan.spec_file.describe().replace(str(plan.project.root) + "/", ""),
    }

    def change(data: dict[str, Any]) -> None:
        phases = data.setdefault("phases", {})
        if not isinstance(phases, dict):
            raise TypeError("phases is not an object")
        phase = phases.setdefault(key, {})
        if not isinstance(phase, dict):
            raise TypeError(f"phases.{key} is not an object")
        _write_gate_passed(phase, decision.status, plan.stage, validated_at)
        phase["deploygate"] = block
        version = data.get("state_version")
        if not isinstance(version, int) or isinstance(version, bool) or version <= 0:
            version = 0  # missing or not a count: start again
        data["state_version"] = version + 1

    try:
        update_json(state_path, change)
    except TypeError as exc:
        from pytest_deploygate.gate.writeback import WriteBackError

        raise WriteBackError(f"{state_path}: {exc}") from None


def project_relative(root: Path, path: Path) -> str:
    """``gate-records/13-production.xml``: a path as the project sees it."""
    return Path(os.path.relpath(path, root)).as_posix()


def write_validation_record(project: Project, plan: GatePlan, content: RecordContent) -> Path:
    """Write the framework's validation record for this gate and return its path."""
    spec = plan.spec
    assert spec is not None
    if plan.spec_file.key:
        return _write_validation_record_today(project, plan, content)
    suffix = spec.phase.split("-", 1)[1] if "-" in spec.phase else spec.phase
    path = project.root / "docs" / ".validations" / f"gate-{spec.gate:02d}-{suffix}.json"
    checklist = []
    artifacts = []
    for item in content.items:
        entry = _entry(item)
        checklist.append(entry)
        if item.criterion.role == "artifact":
            files = [e for e in entry["evidence"] if e.get("kind") == "file"]
            artifacts.append({"id": item.criterion.id, "name": item.criterion.artifact.name
                              if item.criterion.artifact else item.text,
                              "outcome": item.verdict, "files": files})
    document = {
        "gate": spec.id,
        "phase": spec.phase,
        "status": _status_word(content.decision.status, plan.stage),
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


def _entry(item: RecordItem) -> dict[str, Any]:
    """One item of a validation record's checklist."""
    outcome = item.outcome
    return {
        "id": item.criterion.id,
        "text": item.text,
        "section": item.criterion.section_title,
        "stage": item.criterion.stage,
        "outcome": item.verdict,
        "message": outcome.message if outcome else "not run",
        "evidence": outcome.evidence if outcome else [],
    }


def _write_validation_record_today(project: Project, plan: GatePlan, content: RecordContent
                                   ) -> Path:
    key = plan.spec_file.key
    assert key is not None and plan.spec is not None
    path = project.root / "docs" / ".validations" / f"gate-{key}.json"
    checklist = []
    artifacts = []
    for item in content.items:
        entry = {"status": FRAMEWORK_ITEM_STATUS.get(item.verdict, "fail"), **_entry(item)}
        checklist.append(entry)
        if item.criterion.role == "artifact":
            files = [e.get("ref") for e in entry["evidence"] if e.get("kind") in ("file",
                                                                                "directory")]
            artifacts.append({"id": item.criterion.id, "name": item.criterion.artifact.name
                              if item.criterion.artifact else item.text,
                              "status": entry["status"], "paths": files})
    document = {
        "gate": key,
        "phase": key,
        "status": framework_status(content.decision.status, plan.stage),
        "decision": content.decision.status,
        "stage": plan.stage,
        "validated_at": format_instant(content.evaluated_at),
        "validated_by": "pytest-deploygate",
        "record": project_relative(project.root, plan.record_dir / f"{plan.file_stem}.xml"),
        "checklist": checklist,
        "constitutional_validation": project.state.get(
            f"phases.{key}.constitutional_validation"),
        "artifacts": artifacts,
    }
    write_atomic(path, (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode())
    return path
