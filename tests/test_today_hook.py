"""`deploygate hook install`: today's framework runs the gate before it advances a phase, with
its own user-hook runner and phase advance under Node."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import GateProject, run_node, today_state

PHASE = "06-implementation"
WORKFLOW = ["05-test-strategy", PHASE, "16-quality-loop", "08-code-review"]


def spec(project: GateProject, expected_status: str, prerequisite: str = "",
         phase: str = PHASE, title: str = "Implementation") -> None:
    """The phase's gate: one criterion on the phase's status (and an optional prerequisite)."""
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / f"{phase}.yaml").write_text(
        f"spec_version: 1\ngate: {int(phase[:2])}\nid: {phase}\ntitle: {title}\n"
        f"phase: {phase}\ndecision: [{{id: ok, title: OK}}]\n" + prerequisite +
        "sections:\n- id: s\n  title: S\n  stage: pre\n  decision: ok\n  criteria:\n"
        "  - {id: phase-in-progress, text: Phase in progress, check: {kind: state, path: "
        f"phases.{phase}.status, equals: {expected_status}}}}}\n")


@pytest.fixture
def advancing(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    """A build workflow at 06-implementation whose framework requirements are all met."""
    state = today_state(template_state, PHASE, phases=WORKFLOW)
    state["phases"][PHASE] = {
        "status": "in_progress",
        "iteration_requirements": {"test_iteration": {
            "completed": True, "current_iteration": 1, "max_iterations": 10,
            "status": "success", "history": [{"iteration": 1, "result": "PASSED"}]}},
        "constitutional_validation": {"completed": True, "status": "compliant",
                                      "iterations_used": 1, "max_iterations": 5},
    }
    state["skill_usage_log"] = [{"agent": "software-developer", "agent_phase": PHASE}]
    project.set_state(state)
    return project


def install(project: GateProject, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(project.root), "hook", "install", *args],
                          capture_output=True, text=True)


def advance(framework: Path, project: GateProject) -> dict[str, Any]:
    done = run_node(framework, "src/antigravity/phase-advance.cjs", project=project.root)
    return json.loads(done.stdout)


def test_failing_gate_blocks_the_advance(advancing: GateProject, framework: Path) -> None:
    spec(advancing, "completed")
    assert install(advancing).returncode == 0
    before = advancing.state()
    result = advance(framework, advancing)
    assert result["result"] == "HOOK_BLOCKED", result
    assert result["hook"] == "deploygate"
    output = result["hook_output"]
    assert f"deploygate: {PHASE} Implementation: FAIL (record gate-records/{PHASE}.xml)" \
        in output
    assert f"not met: [{PHASE}][phase-in-progress] Phase in progress" in output
    assert advancing.state() == before  # the framework did not advance
    assert (advancing.root / "gate-records" / f"{PHASE}.xml").is_file()


def test_passing_gate_lets_the_phase_advance(advancing: GateProject, framework: Path) -> None:
    spec(advancing, "in_progress")
    assert install(advancing).returncode == 0
    result = advance(framework, advancing)
    assert result["result"] == "ADVANCED", result
    assert (result["from"], result["to"]) == (PHASE, "16-quality-loop")
    state = advancing.state()
    assert state["active_workflow"]["current_phase"] == "16-quality-loop"
    assert state["phases"][PHASE]["status"] == "completed"
    # The framework's own log of the hook run says it passed.
    (log,) = (advancing.root / ".isdlc" / "hooks" / "deploygate" / "logs").glob("*.log")
    assert "Exit Code: 0" in log.read_text() and "PASS" in log.read_text()


def run_hook(project: GateProject, phase: str = PHASE, **env: str) -> subprocess.CompletedProcess:
    """Run hook.sh as the framework does (sh, cwd and ISDLC_* variables)."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("ISDLC_")}
    variables.update(ISDLC_PHASE=phase, ISDLC_PROJECT_ROOT=str(project.root),
                     ISDLC_HOOK_POINT="pre-gate", **env)
    script = project.root / ".isdlc" / "hooks" / "deploygate" / "hook.sh"
    return subprocess.run(["sh", str(script)], cwd=project.root, env=variables,
                          capture_output=True, text=True, timeout=600)


def test_skipped_blocks(advancing: GateProject) -> None:
    spec(advancing, "in_progress", prerequisite=(
        "prerequisites:\n- {id: staging, text: Staging enabled, check: {kind: state, path: "
        "cloud_configuration.deployment.staging_enabled, equals: true}}\n"))
    install(advancing)
    done = run_hook(advancing)
    assert done.returncode == 2
    assert "SKIPPED" in done.stdout and "is blocked" in done.stdout


def test_every_failure_of_the_hook_blocks(advancing: GateProject) -> None:
    spec(advancing, "in_progress")
    install(advancing)
    done = run_hook(advancing, phase="99-nothing")  # pytest's usage error, no record
    assert done.returncode == 2
    assert "wrote no record" in done.stdout and "no gate for '99-nothing'" in done.stdout
    done = run_hook(advancing, phase="")
    assert done.returncode == 2 and "ISDLC_PHASE" in done.stdout
    assert install(advancing, "--force", "--python", "/nonexistent/python").returncode == 0
    done = run_hook(advancing)  # the interpreter is gone: sh exits 127, the hook 2
    assert done.returncode == 2


def test_timeout_covers_the_watch(project: GateProject, framework: Path) -> None:
    (project.root / ".isdlc").mkdir()
    done = install(project, "--stage", "post", "--gate-watch", "15m", "--timeout", "600")
    assert done.returncode == 0, done.stderr
    hook_dir = project.root / ".isdlc" / "hooks" / "deploygate"
    script = ("const h = require(process.argv[1]); const c = h.parseHookConfig(process.argv[2]);"
              "console.log(JSON.stringify({t: c.timeoutMs, e: c.entryPoint, "
              "g: h.discoverHooksForTrigger('pre-gate', [c]).length}));")
    runner = framework / "src" / "claude" / "hooks" / "lib" / "user-hooks.cjs"
    parsed = subprocess.run(["node", "-e", script, str(runner), str(hook_dir)],
                            capture_output=True, text=True, check=True)
    config = json.loads(parsed.stdout)
    assert config == {"t": (600 + 900 + 60) * 1000, "e": "hook.sh", "g": 1}
    assert "--gate-watch 15m" in (hook_dir / "hook.sh").read_text()
    assert os.access(hook_dir / "hook.sh", os.X_OK)
    refused = install(project, "--gate-watch", "15m", "--force")
    assert refused.returncode == 2 and "--stage post" in refused.stderr
    again = install(project)
    assert again.returncode == 2 and "exists; pass --force" in again.stderr


def test_production_gate_on_the_deploy_phase(advancing: GateProject) -> None:
    spec_dir = advancing.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "13-production.yaml").write_text(
        "spec_version: 1\ngate: 13\nid: 13-production\ntitle: Production\n"
        "phase: 13-production\ndecision: [{id: ok, title: OK}]\nsections:\n- id: s\n"
        "  title: S\n  stage: pre\n  criteria:\n  - {id: enabled, text: Production enabled, "
        "check: {kind: state, path: cloud_configuration.deployment.production_enabled, "
        "equals: true}}\n")
    done = install(advancing, "--name", "production", "--on", "13-test-deploy",
                   "--gate", "13-production")
    assert done.returncode == 0, done.stderr
    script = advancing.root / ".isdlc" / "hooks" / "production" / "hook.sh"
    (advancing.root / ".isdlc" / "hooks" / "deploygate").mkdir()
    (advancing.root / ".isdlc" / "hooks" / "deploygate" / "hook.sh").write_text(
        script.read_text())
    passing_through = run_hook(advancing, phase=PHASE)
    assert passing_through.returncode == 0
    assert "not gated by this hook" in passing_through.stdout
    gated = run_hook(advancing, phase="12-test-deploy")  # the alias's canonical key
    assert gated.returncode == 2
    assert "13-production Production: FAIL (record gate-records/13-production.xml)" in \
        gated.stdout
