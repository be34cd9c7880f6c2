"""Red team: hostile environments, phases and record folders fed to `deploygate hook run`.
The framework advances on anything but exit 2, so every doubt must exit 2 with one reason."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from typing import Any

import pytest
from test_today_hook import spec

from conftest import GateProject, today_state

PHASE = "06-implementation"
OTHER = "05-test-strategy"
WORKFLOW = [OTHER, PHASE, "16-quality-loop", "08-code-review"]


def gate_spec(project: GateProject, phase: str, status_wanted: str) -> None:
    """A gate of one criterion: the phase's status equals ``status_wanted``."""
    spec(project, status_wanted, phase=phase, title="T")


@pytest.fixture
def hooked(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    """Today's layout at 06-implementation: its own gate fails, 05-test-strategy's passes."""
    state = today_state(template_state, PHASE, phases=WORKFLOW)
    state["phases"][PHASE] = {"status": "in_progress"}
    state["phases"][OTHER] = {"status": "completed"}
    project.set_state(state)
    gate_spec(project, PHASE, "completed")   # fails: the phase is in progress
    gate_spec(project, OTHER, "completed")   # passes
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(project.root), "hook", "install"], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    return project


def run_hook(project: GateProject, **env: str) -> subprocess.CompletedProcess[str]:
    """hook.sh as the framework runs it: sh, the project as cwd, its ISDLC_* variables."""
    variables = {k: v for k, v in os.environ.items() if not k.startswith("ISDLC_")}
    variables.update(ISDLC_PHASE=PHASE, ISDLC_PROJECT_ROOT=str(project.root),
                     ISDLC_HOOK_POINT="pre-gate")
    variables.update(env)
    script = project.root / ".isdlc" / "hooks" / "deploygate" / "hook.sh"
    return subprocess.run(["sh", str(script)], cwd=project.root, env=variables,
                          capture_output=True, text=True, timeout=600)


def one_line_block(done: subprocess.CompletedProcess[str], *words: str) -> None:
    """Blocked (exit 2), with a short reason holding every one of ``words``."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert len(done.stdout) + len(done.stderr) < 4000, len(done.stdout)
    assert all(len(line) <= 300 for line in done.stdout.splitlines())
    for word in words:
        assert word in done.stdout, done.stdout


def test_the_gate_of_the_advancing_phase_decides(hooked: GateProject) -> None:
    one_line_block(run_hook(hooked), f"the advance of {PHASE} is blocked: its gate decided FAIL")
    assert run_hook(hooked, ISDLC_PHASE=OTHER).returncode == 0


@pytest.mark.parametrize("phase", [
    f"{PHASE},{OTHER}", f"{OTHER},{PHASE}", f"{PHASE} {OTHER}", "all", "current", "06",
    "GATE-06", "../06-implementation", "06-implementation\n05-test-strategy", "6" * 100_000,
])
def test_a_phase_that_is_not_one_key_blocks(hooked: GateProject, phase: str) -> None:
    """Whatever selects several gates (or none by its key) is refused before pytest runs:
    the hook reads one record, and the one it read was a passing gate of another phase."""
    done = run_hook(hooked, ISDLC_PHASE=phase.replace("\\n", "\n"))
    one_line_block(done, "ISDLC_PHASE", "not one phase key", "blocking the advance")
    assert not (hooked.root / "gate-records").exists()


def test_a_record_left_in_the_folder_is_not_this_runs(hooked: GateProject) -> None:
    """A passing record of another gate, dated ahead, was taken as the run's own."""
    assert run_hook(hooked, ISDLC_PHASE=OTHER).returncode == 0
    records = hooked.root / "gate-records"
    for name in ("zz.xml", "99-nothing.xml"):
        shutil.copy(records / f"{OTHER}.xml", records / name)
        os.utime(records / name, (4102444800, 4102444800))  # 2100
    one_line_block(run_hook(hooked), f"{PHASE} T: FAIL", "is blocked")
    # a phase without a gate writes nothing: the PASS record under its name is not its run's
    one_line_block(run_hook(hooked, ISDLC_PHASE="99-nothing"),
                   "wrote no record gate-records/99-nothing.xml")


@pytest.mark.parametrize("how", ["ini", "env"])
def test_a_pass_that_is_not_of_now_blocks(hooked: GateProject, how: str) -> None:
    """The project's pytest configuration reached the hook's run: a replay's PASS (or one under
    overridden thresholds) is not the gate passing now. Now neither the project's addopts nor
    PYTEST_ADDOPTS reaches it (rt12c): the gate is evaluated now, and a replay property would
    still block."""
    gate_spec(hooked, PHASE, "in_progress")  # the gate passes
    assert run_hook(hooked).returncode == 0
    replay = "--gate-now=2020-01-02T00:00:00Z"
    if how == "ini":
        (hooked.root / "pytest.ini").write_text(f"[pytest]\naddopts = {replay}\n")
        done = run_hook(hooked)
    else:
        done = run_hook(hooked, PYTEST_ADDOPTS=replay)
    assert done.returncode == 0, done.stdout
    record = (hooked.root / "gate-records" / f"{PHASE}.xml").read_text()
    assert "deploygate.replay" not in record and "2020-01-02" not in record


def test_output_stays_within_what_the_framework_reads(hooked: GateProject) -> None:
    """The framework reads 1 MiB of a hook's output and advances when there is more: a long
    phase key in pytest's error, a long value in a criterion's message, are clipped."""
    done = run_hook(hooked, ISDLC_PHASE="06-" + "a" * 120_000)
    one_line_block(done, "wrote no record", "characters)")
    state = hooked.state()
    state["phases"][PHASE]["status"] = "\x1b[8m" + "x" * 500_000
    hooked.set_state(state)
    done = run_hook(hooked)
    one_line_block(done, "not met:", "its gate decided FAIL")
    assert "\x1b" not in done.stdout


@pytest.mark.parametrize("root", ["", "relative/project", "/nonexistent/project", "FILE"])
def test_a_project_root_that_is_no_project_blocks(hooked: GateProject, root: str) -> None:
    if root == "FILE":
        root = str(hooked.state_path)
    one_line_block(run_hook(hooked, ISDLC_PROJECT_ROOT=root), "ISDLC_PROJECT_ROOT",
                   "blocking the advance")


@pytest.mark.parametrize("state", ["missing", "directory", "not an object", "not utf-8",
                                   "link out", "truncated"])
def test_state_that_cannot_be_read_blocks(hooked: GateProject, state: str,
                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    path = hooked.state_path
    path.unlink()
    if state == "directory":
        path.mkdir()
    elif state == "not an object":
        path.write_text("[1, 2]")
    elif state == "not utf-8":
        path.write_bytes(b'{"phases": {"\xff": 1}}')
    elif state == "link out":
        outside = tmp_path_factory.mktemp("outside") / "state.json"
        outside.write_text('{"phases": {"06-implementation": {"status": "completed"}}}')
        path.symlink_to(outside)
    elif state == "truncated":
        path.write_text('{"phases": {')
    done = run_hook(hooked)
    assert done.returncode == 2, done.stdout
    assert "blocked" in done.stdout or "blocking" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_install_refuses_what_is_not_one_phase(project: GateProject) -> None:
    (project.root / ".isdlc").mkdir()
    for args in (["--on", "all"], ["--gate", f"{PHASE},{OTHER}"], ["--on", "06"]):
        done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                               str(project.root), "hook", "install", *args],
                              capture_output=True, text=True)
        assert done.returncode == 2 and "not one phase key" in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1
    assert not (project.root / ".isdlc" / "hooks").exists()


def test_a_gate_past_its_timeout_blocks(hooked: GateProject) -> None:
    (hooked.root / "tests").mkdir()
    (hooked.root / "tests" / "test_slow.py").write_text(
        "import time, pytest\n"
        f"@pytest.mark.gate({PHASE!r})\n"
        "def test_slow():\n    time.sleep(60)\n")
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(hooked.root), "hook", "install", "--force", "--timeout", "3",
                           "--tests", "tests"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    started = time.monotonic()
    one_line_block(run_hook(hooked), "ran longer than 3 s")
    assert time.monotonic() - started < 30


@pytest.mark.parametrize(("option", "value"), [
    ("--record-dir", "records]\ntimeout_ms: 1\nx: [y"), ("--record-dir", "a,b"),
    ("--record-dir", "records #"), ("--name", "deploygate\ntimeout_ms: 1"), ("--name", "-x"),
])
def test_install_writes_no_value_that_rewrites_hook_yaml(project: GateProject, option: str,
                                                         value: str) -> None:
    """The framework reads hook.yaml line by line: a line break in --record-dir wrote
    `timeout_ms: 1` (every run a timeout, which the framework warns about and advances on)."""
    (project.root / ".isdlc").mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(project.root), "hook", "install", f"{option}={value}"],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stdout
    assert len(done.stderr.splitlines()) == 1 and option in done.stderr, done.stderr
    assert not (project.root / ".isdlc" / "hooks").exists() or \
        not any((project.root / ".isdlc" / "hooks").rglob("hook.yaml"))
