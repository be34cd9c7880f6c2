"""Write-back the framework understands (today's layout), checked by the framework's own
state validators under Node."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, GateProject, run_node, today_state

PHASE = "06-implementation"
FRAMEWORK_FIELDS = {
    "status": "in_progress",
    "started": "2026-05-01T09:00:00.000Z",
    "gate_validation": {"status": "blocked", "blocked_at": "2026-05-01T10:00:00.000Z",
                        "blocking_requirements": ["test_iteration"], "details": []},
    "constitutional_validation": {"completed": True, "status": "compliant",
                                  "iterations_used": 1, "max_iterations": 5},
    "iteration_requirements": {"test_iteration": {"completed": True, "current_iteration": 2,
                                                  "max_iterations": 10, "status": "success",
                                                  "history": [{}, {}]}},
}


def gate_spec(project: GateProject, expected_status: str) -> None:
    """A user spec of the phase with one criterion on the phase's status."""
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / f"{PHASE}.yaml").write_text(
        f"spec_version: 1\ngate: 6\nid: {PHASE}\ntitle: Implementation\nphase: {PHASE}\n"
        "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
        "  decision: ok\n  criteria:\n  - {id: status, text: Phase in progress, check: "
        f"{{kind: state, path: phases.{PHASE}.status, equals: {expected_status}}}}}\n")


@pytest.fixture
def framework_project(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    state = today_state(template_state, PHASE, phases=[
        "05-test-strategy", PHASE, "16-quality-loop", "08-code-review"])
    state["phases"][PHASE] = copy.deepcopy(FRAMEWORK_FIELDS)
    project.set_state(state)
    return project


def validate_write(framework: Path, before: str, after: str, tmp: Path) -> str:
    """Feed the framework's state-write-validator a Write of ``after`` over ``before``;
    return what it printed (a block is a JSON line with continue: false)."""
    disk = tmp / "disk"
    (disk / ".isdlc").mkdir(parents=True, exist_ok=True)
    (disk / ".isdlc" / "state.json").write_text(before)
    event = {"tool_name": "Write", "tool_input": {
        "file_path": str(disk / ".isdlc" / "state.json"), "content": after}}
    done = run_node(framework, "src/claude/hooks/state-write-validator.cjs", project=disk,
                    stdin=json.dumps(event))
    assert done.returncode == 0, done.stderr
    return done.stdout + done.stderr



@pytest.fixture(autouse=True)
def write_back_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Write-back runs evaluate now (a --gate-now replay never writes back): now is pinned to
    NOW's instant in this process instead."""
    import importlib
    from datetime import datetime

    pinned = datetime.fromisoformat(NOW.split("=", 1)[1].replace("Z", "+00:00"))
    monkeypatch.setattr(importlib.import_module("pytest_deploygate.core.timeutil"), "now_utc",
                        lambda: pinned)

@pytest.mark.parametrize("expected,decision,status", [
    ("in_progress", "PASS", "passed"), ("completed", "FAIL", "blocked")])
def test_write_back_the_framework_accepts(framework_project: GateProject, framework: Path,
                                          tmp_path: Path, expected: str, decision: str,
                                          status: str) -> None:
    gate_spec(framework_project, expected)
    before_text = framework_project.state_path.read_text()
    before = json.loads(before_text)
    framework_project.run(f"--gate={PHASE}", "--gate-update-state",
                          "--gate-validation-record")
    after_text = framework_project.state_path.read_text()
    after = json.loads(after_text)
    # Canonical key, version bumped as the framework's writers do, nothing of theirs touched.
    assert after["state_version"] == before["state_version"] + 1
    phase = after["phases"][PHASE]
    for field, value in FRAMEWORK_FIELDS.items():
        assert phase[field] == value, field
    assert phase["gate_passed"] == ("2026-06-01T12:00:00Z" if decision == "PASS" else False)
    assert phase["deploygate"] == {
        "decision": decision, "status": status, "stage": "all",
        "validated_at": "2026-06-01T12:00:00Z", "record": f"gate-records/{PHASE}.xml",
        "spec": f"user:gate_specs/{PHASE}.yaml"}
    rest_before = {k: v for k, v in before.items() if k not in ("phases", "state_version")}
    rest_after = {k: v for k, v in after.items() if k not in ("phases", "state_version")}
    assert rest_after == rest_before
    assert {k: v for k, v in after["phases"].items() if k != PHASE} == {
        k: v for k, v in before["phases"].items() if k != PHASE}
    # The framework's validation record: named by phase key, its words, relative paths.
    record = json.loads((framework_project.root / "docs" / ".validations" /
                         f"gate-{PHASE}.json").read_text())
    assert (record["gate"], record["phase"], record["status"]) == (PHASE, PHASE, status)
    assert record["record"] == f"gate-records/{PHASE}.xml"
    assert record["checklist"][0]["status"] == ("pass" if decision == "PASS" else "fail")
    text = json.dumps(record) + after_text
    assert str(framework_project.root) not in text
    # The framework's own validators accept the write ...
    verdict = validate_write(framework, before_text, after_text, tmp_path)
    assert '"continue":false' not in verdict.replace(" ", ""), verdict
    done = run_node(framework, "src/antigravity/validate-state.cjs",
                    project=framework_project.root)
    assert done.returncode == 0 and '"VALID"' in done.stdout, done.stdout + done.stderr
    # ... and reject a writer that did not bump the version (the lock the bump keeps).
    stale = dict(after, state_version=before["state_version"] - 1)
    verdict = validate_write(framework, after_text, json.dumps(stale, indent=2), tmp_path)
    assert "Version mismatch" in verdict, verdict


def test_write_back_starts_the_version_like_the_framework(project: GateProject,
                                                          template_state: dict) -> None:
    state = today_state(template_state, PHASE)
    del state["state_version"]  # the installer's state has none until a writer bumps it
    state["phases"][PHASE] = copy.deepcopy(FRAMEWORK_FIELDS)
    project.set_state(state)
    gate_spec(project, "in_progress")
    project.run(f"--gate={PHASE}", "--gate-update-state")
    assert project.state()["state_version"] == 1


def test_write_back_creates_the_phase_under_its_canonical_key(project: GateProject,
                                                              template_state: dict) -> None:
    state = today_state(template_state, "14-production")  # the workflow names an alias
    project.set_state(state)
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "13-production.yaml").write_text(
        "spec_version: 1\ngate: 13\nid: 13-production\ntitle: P\nphase: 13-production\n"
        "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
        "  criteria:\n  - {id: up, text: Up, check: {kind: state, path: phases}}\n")
    project.run("--gate=current", "--gate-update-state")
    phases = project.state()["phases"]
    assert phases["13-production"]["deploygate"]["decision"] == "PASS"
    assert "14-production" not in phases
    assert phases["12-production"] == state["phases"]["12-production"]  # the template's own
