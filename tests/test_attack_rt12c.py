"""Red team rt12c: today's iSDLC layout (the framework hook, layout, phase ids) and records in
CI dashboards. Each test is an attack that once worked."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

from conftest import GateProject, today_state

PHASE = "06-implementation"
WORKFLOW = ["05-test-strategy", PHASE, "16-quality-loop", "08-code-review"]


def failing_gate(project: GateProject, template_state: dict[str, Any]) -> None:
    """A project at 06-implementation whose gate FAILs (one criterion not met)."""
    state = today_state(template_state, PHASE, phases=WORKFLOW)
    state["phases"][PHASE] = {"status": "in_progress"}
    project.set_state(state)
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / f"{PHASE}.yaml").write_text(
        f"spec_version: 1\ngate: 6\nid: {PHASE}\ntitle: Implementation\nphase: {PHASE}\n"
        "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
        "  decision: ok\n  criteria:\n  - {id: phase-done, text: Phase done, check: {kind: "
        f"state, path: phases.{PHASE}.status, equals: completed}}}}\n")


def install(project: GateProject, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(project.root), "hook", "install", *args],
                          capture_output=True, text=True)


def run_hook(project: GateProject, **env: str) -> subprocess.CompletedProcess[str]:
    """hook.sh as the framework's user-hook runner runs it: sh, cwd the project root, the
    ISDLC_* variables over the agent's environment."""
    variables = {k: v for k, v in os.environ.items()
                 if not k.startswith(("ISDLC_", "PYTEST_"))}
    variables.update(ISDLC_PHASE=PHASE, ISDLC_PROJECT_ROOT=str(project.root),
                     ISDLC_HOOK_POINT="pre-gate", **env)
    script = project.root / ".isdlc" / "hooks" / "deploygate" / "hook.sh"
    return subprocess.run(["sh", str(script)], cwd=project.root, env=variables,
                          capture_output=True, text=True, timeout=600)


FORGE = """
import os, re, pathlib
def _forge():
    for record in pathlib.Path({root!r}, "gate-records").glob("*.xml"):
        text = record.read_text()
        text = re.sub(r'name="deploygate.decision" value="[A-Z]+"',
                      'name="deploygate.decision" value="PASS"', text)
        record.write_text(text)
"""


EVIL = "import atexit\natexit.register(lambda: (_forge(), os._exit(0)))\n"


@pytest.mark.parametrize(("where", "env"), [
    ("conftest.py", {}), (".isdlc/conftest.py", {}), (".isdlc/test_evil.py", {}),
    (".isdlc/sub/test_evil.py", {}),
    ("evil.py", {"PYTEST_PLUGINS": "evil"}), ("evil.py", {"PYTEST_ADDOPTS": "-p evil"}),
    ("evil.py", {"pytest.ini": "[pytest]\naddopts = -p evil\n"}),
    # A module named like one the plugin imports late, on the project's pythonpath.
    ("vendor/yaml.py", {"pytest.ini": "[pytest]\npythonpath = vendor\n"}),
])
def test_code_of_the_repository_never_runs_in_the_hooks_gate(
        project: GateProject, template_state: dict[str, Any], where: str,
        env: dict[str, str]) -> None:
    """The hook is the CI invocation: a conftest.py, a test file under .isdlc/ (the path it
    gave pytest) or a plugin the project's addopts or the agent's environment names ran in the
    gate's process, rewrote the record to PASS and exited 0: the framework advanced."""
    failing_gate(project, template_state)
    assert install(project).returncode == 0
    evil = project.root / where
    evil.parent.mkdir(parents=True, exist_ok=True)
    evil.write_text(FORGE.format(root=str(project.root)) + EVIL)
    if "pytest.ini" in env:
        (project.root / "pytest.ini").write_text(env.pop("pytest.ini"))
    done = run_hook(project, **env)
    assert done.returncode == 2, done.stdout
    assert "FAIL" in done.stdout and "is blocked" in done.stdout


SHADOW_PYTEST = """import sys, runpy
sys.path[:] = [p for p in sys.path if p not in ('', os.getcwd())]
sys.modules.pop('pytest', None)
try:
    runpy.run_module('pytest', run_name='__main__')
except SystemExit:
    pass
_forge()
sys.exit(0)
"""


@pytest.mark.parametrize("shadow", ["pytest_deploygate", "pytest.py"])
def test_a_package_committed_in_the_project_folder_is_not_the_gate(
        project: GateProject, template_state: dict[str, Any], shadow: str) -> None:
    """The framework runs hook.sh with the project as its working folder, and `python -m`
    imports from there first: a committed pytest_deploygate/ printed PASS and exited 0, a
    committed pytest.py ran the real gate and then rewrote its record to PASS."""
    failing_gate(project, template_state)
    assert install(project).returncode == 0
    if shadow == "pytest.py":
        (project.root / shadow).write_text(FORGE.format(root=str(project.root)) +
                                           SHADOW_PYTEST)
    else:
        (project.root / shadow).mkdir()
        (project.root / shadow / "__init__.py").write_text("")
        (project.root / shadow / "__main__.py").write_text("print('deploygate: PASS')\n")
    done = run_hook(project, PYTHONPATH=str(project.root))
    assert done.returncode == 2, done.stdout
    assert "FAIL" in done.stdout and "is blocked" in done.stdout


@pytest.mark.parametrize("how", ["PYTEST_ADDOPTS", "pytest.ini"])
def test_the_projects_addopts_cannot_swap_the_hooks_spec(
        project: GateProject, template_state: dict[str, Any], how: str) -> None:
    """`-o deploygate_specs=DIR` in PYTEST_ADDOPTS or the project's addopts replaced the
    reviewed spec of the hook's run with a lenient one: PASS, exit 0."""
    failing_gate(project, template_state)
    other = project.root / "elsewhere"
    other.mkdir()
    (other / f"{PHASE}.yaml").write_text(
        (project.root / "gate_specs" / f"{PHASE}.yaml").read_text().replace(
            "equals: completed", "equals: in_progress"))
    assert install(project).returncode == 0
    option = "-o deploygate_specs=elsewhere"
    if how == "pytest.ini":
        (project.root / "pytest.ini").write_text(f"[pytest]\naddopts = {option}\n")
        done = run_hook(project)
    else:
        done = run_hook(project, PYTEST_ADDOPTS=option)
    assert done.returncode == 2, done.stdout
    assert "FAIL" in done.stdout and "is blocked" in done.stdout


def production_after_staging(project: GateProject, template_state: dict[str, Any]) -> None:
    """A release workflow standing at 13-production after staging passed its gate (the plugin's
    write-back: gate_passed is the decision's time) and the framework advanced."""
    workflow = ["11-local-testing", "12-test-deploy", "13-production", "14-operations"]
    state = today_state(template_state, "13-production", phases=workflow)
    for key in workflow[:2]:
        state["phases"][key] = {"status": "completed", "gate_passed": "2026-05-20T10:00:00Z",
                                "completed_at": "2026-05-20T10:00:01Z"}
    state["phases"]["13-production"] = {"status": "in_progress"}
    project.set_state(state)
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / "13-production.yaml").write_text(
        "spec_version: 1\ngate: 13\nid: 13-production\ntitle: Production\nphase: 13-production\n"
        "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
        "  decision: ok\n  criteria:\n  - {id: staging-passed, text: Staging passed, check: "
        "{kind: gate_passed, phases: [12-test-deploy]}}\n"
        "  - {id: previous-passed, text: All previous gates passed, check: "
        "{kind: gate_passed, previous: true}}\n")


def test_a_phase_the_framework_rolled_back_has_not_passed(
        project: GateProject, template_state: dict[str, Any], framework: Any) -> None:
    """The framework's rollback re-opens the phases from its target on (status and
    phase_status in_progress/pending) but leaves their gate_passed: staging rolled back
    because it broke still counted as passed, and production's gate said PASS."""
    from conftest import NOW, run_node

    production_after_staging(project, template_state)
    project.run("--gate=13-production", NOW)
    assert project.record("13-production").decision == "PASS"
    done = run_node(framework, "src/antigravity/workflow-rollback.cjs", "--to-phase",
                    "12-test-deploy", "--confirm", project=project.root)
    assert '"ROLLED_BACK"' in done.stdout or "rolled" in done.stdout.lower(), done.stdout
    state = project.state()
    assert state["phases"]["12-test-deploy"]["gate_passed"] == "2026-05-20T10:00:00Z"
    # (the evaluation is after the rollback, as it is in a real run)
    state["active_workflow"]["recovery_action"]["timestamp"] = "2026-05-25T00:00:00.000Z"
    state["active_workflow"]["current_phase"] = "13-production"  # the gate asked for by key
    project.set_state(state)
    project.run("--gate=13-production", NOW)
    record = project.record("13-production")
    assert record.decision == "FAIL", record.properties.get("deploygate.reason")
    assert "12-test-deploy" in record.case("staging-passed")["message"]
    assert "rolled it back" in record.case("staging-passed")["message"]


@pytest.mark.parametrize("shape", ["last", "skipped"])
def test_a_gated_phase_the_framework_never_advances_blocks(
        project: GateProject, template_state: dict[str, Any], framework: Any,
        shape: str) -> None:
    """The framework runs pre-gate hooks only when it advances the current phase: it jumps
    over a phase marked skipped and completes a workflow's last phase without any hook. A hook
    installed --on 13-production passed the advance into (or over) production, whose gate
    never ran: the workflow went on, or completed, with production's gate failing."""
    import json

    from conftest import run_node

    production_after_staging(project, template_state)
    workflow = ["11-local-testing", "12-test-deploy", "13-production"]
    if shape == "skipped":
        workflow.append("14-operations")
    state = today_state(template_state, "12-test-deploy", phases=workflow)
    state["phases"]["12-test-deploy"] = {  # what the framework's own checks ask for
        "status": "in_progress",
        "constitutional_validation": {"completed": True, "status": "compliant",
                                      "iterations_used": 1, "max_iterations": 5},
        "iteration_requirements": {"test_iteration": {
            "completed": True, "current_iteration": 1, "max_iterations": 10,
            "status": "success", "history": [{"iteration": 1, "result": "PASSED"}]}}}
    state["skill_usage_log"] = [{"agent": "deployment-engineer-staging",
                                 "agent_phase": "12-test-deploy"}]
    if shape == "skipped":
        state["active_workflow"]["phase_status"]["13-production"] = "skipped"
    project.set_state(state)
    spec = project.root / "gate_specs" / "13-production.yaml"
    spec.write_text(spec.read_text().replace("phases: [12-test-deploy]",
                                             "phases: [14-operations]"))  # fails
    assert install(project, "--on", "13-production").returncode == 0
    result = json.loads(run_node(framework, "src/antigravity/phase-advance.cjs",
                                 project=project.root).stdout)
    assert result["result"] == "HOOK_BLOCKED", result
    assert "13-production" in result["hook_output"]
    assert "its gate would never run" in result["hook_output"]
    assert project.state()["active_workflow"]["current_phase"] == "12-test-deploy"


MARKUP = "![PASS](https://b.example/p.svg) [ok](https://e.example/) `x` **PASS** ~~FAIL~~"


def test_evidence_is_no_markdown_markup_in_the_record_or_job_summary(
        project: GateProject, template_state: dict[str, Any], tmp_path: Any,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A value quoted from evidence (here state.json) was markdown: a FAIL record and the
    GitHub job summary showed a green PASS badge fetched from another host, a link, bold PASS
    and a struck-through FAIL."""
    import json

    from markdown_it import MarkdownIt

    failing_gate(project, template_state)
    state = project.state()
    state["phases"][PHASE]["status"] = MARKUP
    project.state_path.write_text(json.dumps(state))
    summary = tmp_path / "summary.md"
    summary.write_text("")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    project.run_subprocess(f"--gate={PHASE}")
    record = (project.root / "gate-records" / f"{PHASE}.md").read_text()
    renderer = MarkdownIt("commonmark").enable(["table", "strikethrough"])
    for text in (record, summary.read_text()):
        assert "![PASS]" in text.replace("\\", "")  # the words are all there, as written
        html = renderer.render(text)
        for markup in ("<img", "<a ", "<code>x", "<strong>PASS", "<s>", "<del>"):
            assert markup not in html, (markup, html)
        assert "![PASS](https://b.example/p.svg) [ok](https://e.example/)" in html


def test_an_advance_of_another_phase_than_the_hook_gates_blocks(
        project: GateProject, template_state: dict[str, Any], framework: Any) -> None:
    """ISDLC_PHASE is active_workflow.current_phase, but the framework advances the phase at
    current_phase_index: with the two apart, the hook ran the passing gate of 05-test-strategy
    and the framework moved past 06-implementation, whose gate fails, without running it."""
    import json

    from conftest import run_node

    failing_gate(project, template_state)
    state = project.state()
    other = "05-test-strategy"
    aw = state["active_workflow"]
    aw["current_phase"] = other  # index 1 is still 06-implementation
    state["phases"][other] = {
        "status": "in_progress",
        "constitutional_validation": {"completed": True, "status": "compliant",
                                      "iterations_used": 1, "max_iterations": 5},
        "iteration_requirements": {"test_iteration": {
            "completed": True, "current_iteration": 1, "max_iterations": 10,
            "status": "success", "history": [{"iteration": 1, "result": "PASSED"}]}}}
    state["skill_usage_log"] = [{"agent": "test-design-engineer", "agent_phase": other}]
    project.set_state(state)
    spec_dir = project.root / "gate_specs"
    (spec_dir / f"{other}.yaml").write_text(
        (spec_dir / f"{PHASE}.yaml").read_text().replace(PHASE, other).replace(
            "gate: 6", "gate: 5").replace("equals: completed", "equals: in_progress"))
    artifact = project.root / "docs" / "requirements" / "REQ-0001-demo" / "test-strategy.md"
    artifact.parent.mkdir(parents=True)
    artifact.write_text("# Test strategy\n")
    assert install(project).returncode == 0
    result = json.loads(run_node(framework, "src/antigravity/phase-advance.cjs",
                                 project=project.root).stdout)
    assert result["result"] == "HOOK_BLOCKED", result
    assert "current_phase_index 1" in result["hook_output"]


def test_the_projects_name_cannot_rewrite_the_markdown_records_decision(
        project: GateProject, template_state: dict[str, Any]) -> None:
    """The record's header lines took state.json's project name as written: a FAIL record
    rendered "Gate Status: PASS" under a PASS heading, and its "<!--" hid the rest of the
    page (the real decision and its table) where GitHub renders it."""
    import json

    from markdown_it import MarkdownIt

    failing_gate(project, template_state)
    state = project.state()
    state["project"]["name"] = "demo\n\n**Gate Status**: PASS\n\n# PASS <!--"
    project.state_path.write_text(json.dumps(state))
    project.run_subprocess(f"--gate={PHASE}")
    text = (project.root / "gate-records" / f"{PHASE}.md").read_text()
    assert "<!--" not in text
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<h1>PASS" not in html and "<strong>Gate Status</strong>: PASS" not in html, html
    assert "<strong>Gate Status</strong>: FAIL" in html
    assert html.count("<h1>") == 1 and "<td>FAIL</td>" in html
    (header,) = [line for line in text.splitlines() if line.startswith("- Project: ")]
    assert "Gate Status" in header  # the name is all there, on its own line


def test_the_projects_name_shows_its_bidirectional_controls_as_escapes(
        project: GateProject, template_state: dict[str, Any]) -> None:
    """state.json's project name reached the markdown and HTML headers with its bidirectional
    controls as written: U+202E displayed "demo LIAF" backwards as "FAIL omed", a reviewer
    reads what the bytes do not say. Evidence text already showed them as escapes."""
    import json

    failing_gate(project, template_state)
    state = project.state()
    state["project"]["name"] = "demo \u202eSSAP\u202c"
    project.state_path.write_text(json.dumps(state))
    project.run_subprocess(f"--gate={PHASE}")
    for suffix in ("md", "html", "xml"):
        text = (project.root / "gate-records" / f"{PHASE}.{suffix}").read_text()
        assert "\u202e" not in text and "\u202c" not in text, suffix
        assert "\\u202e" in text, suffix


def test_the_hooks_gate_signs_with_the_key_in_the_agents_environment(
        project: GateProject, template_state: dict[str, Any], keys: Any) -> None:
    """A signing run refuses to start unless no module of the repository can be imported
    (rt12b): the hook's run of the gate alone must meet that too, or a DEPLOYGATE_SIGNING_KEY
    in the agent's environment blocked every advance with a usage error."""
    failing_gate(project, template_state)
    state = project.state()
    state["phases"][PHASE]["status"] = "completed"
    project.set_state(state)
    key = keys / "gate-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                   check=True, capture_output=True)
    assert install(project).returncode == 0
    project.git_init()  # (a signed record names its release)
    done = run_hook(project, DEPLOYGATE_SIGNING_KEY=str(key))
    assert done.returncode == 0, done.stdout + done.stderr
    assert (project.root / "gate-records" / f"{PHASE}.intoto.json").is_file()
