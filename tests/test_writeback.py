"""--gate-update-state and --gate-validation-record: concurrent writers lose no update, a
killed writer leaves the old or the new state.json, never a broken one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from conftest import INNER_ARGS, GateProject

GATE = """spec_version: 1
gate: {n}
id: GATE-{n}
title: Gate {n}
phase: {n}-part
decision: [{{id: ok, title: OK}}]
sections:
  - id: s
    title: S
    stage: pre
    decision: ok
    criteria:
      - {{id: state-readable, text: State readable, check: {{kind: state, path: project.name}}}}
"""


def test_update_state_and_validation_record(example: GateProject, fixed_clock: object
                                            ) -> None:
    # fixed_clock, not --gate-now: a replay never writes back.
    before = example.state()
    result = example.run("--gate=12", "--gate-update-state", "--gate-validation-record")
    assert result.ret == 0
    after = example.state()
    phase = after["phases"]["12-production"]
    assert phase["gate_passed"] is True
    assert phase["gate_validation"]["decision"] == "PASS"
    assert phase["gate_validation"]["validated_at"] == "2026-02-10T00:00:00Z"
    assert phase["gate_validation"]["record"].endswith("gate-records/GATE-12.xml")
    # Every other key kept, in its order.
    assert list(after) == list(before)
    assert list(after["phases"]) == list(before["phases"])
    assert after["cloud_configuration"] == before["cloud_configuration"]
    validation = json.loads((example.root / "docs" / ".validations" /
                             "gate-12-production.json").read_text())
    assert validation["gate"] == "GATE-12" and validation["phase"] == "12-production"
    assert validation["status"] == "passed"
    assert len(validation["checklist"]) == 68
    assert validation["constitutional_validation"]["status"] == "compliant"
    assert {a["id"] for a in validation["artifacts"]} == {
        "pre-deployment-checklist", "deployment-log-production", "post-deployment-verification",
        "release-notes"}
    assert validation["artifacts"][0]["files"][0]["sha256"]


def test_pre_stage_does_not_claim_the_gate_passed(example: GateProject) -> None:
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre", "--gate-update-state").ret == 0
    phase = example.state()["phases"]["12-production"]
    assert phase["gate_passed"] is None
    assert phase["gate_validation"]["stage"] == "pre"


def test_incomplete_run_writes_nothing_back(example: GateProject) -> None:
    before = example.state_path.read_bytes()
    example.run("--gate=12", "-k", "security", "--gate-update-state")
    assert example.state_path.read_bytes() == before


def test_twenty_concurrent_write_backs_lose_no_update(example: GateProject) -> None:
    specs = example.root / "gate_specs"
    specs.mkdir()
    numbers = list(range(20, 40))
    for n in numbers:
        (specs / f"{n}-part.yaml").write_text(GATE.format(n=n))

    def gate(n: int) -> int:
        return subprocess.run(
            [sys.executable, "-m", "pytest", *INNER_ARGS, f"--gate={n}", "--gate-update-state",
             f"--gate-record-dir=records-{n}", "-q"],
            cwd=example.root, capture_output=True).returncode

    with ThreadPoolExecutor(len(numbers)) as pool:
        codes = list(pool.map(gate, numbers))
    assert codes == [0] * len(numbers)
    phases = example.state()["phases"]
    assert all(phases[f"{n}-part"]["gate_passed"] is True for n in numbers)
    assert phases["12-production"]["constitutional_validation"]["status"] == "compliant"


KILLED_WRITER = """
import os, sys, time
from pathlib import Path
import pytest_deploygate.core.atomic as atomic
from pytest_deploygate.gate.writeback import update_json

where = sys.argv[2]
real_replace, real_fsync = os.replace, os.fsync

def stall(*args):
    Path(sys.argv[3]).write_text("stalled")
    time.sleep(60)

if where == "before-rename":
    atomic.os.replace = lambda *a: (stall(), real_replace(*a))
else:
    atomic.os.fsync = lambda fd: (stall(), real_fsync(fd))

update_json(Path(sys.argv[1]), lambda data: data.update(written_by="killed writer"))
"""


def test_killed_writer_leaves_old_or_new_never_broken(example: GateProject,
                                                      tmp_path: Path) -> None:
    script = tmp_path / "writer.py"
    script.write_text(KILLED_WRITER)
    original = example.state_path.read_bytes()
    for where in ("before-rename", "before-fsync"):
        flag = tmp_path / f"{where}.flag"
        process = subprocess.Popen([sys.executable, str(script), str(example.state_path), where,
                                    str(flag)])
        deadline = time.monotonic() + 30
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert flag.exists(), "the writer never reached the stall point"
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        assert example.state_path.read_bytes() == original
        json.loads(example.state_path.read_text())
    # A later writer is not blocked by the killed one's lock (flock dies with the process).
    result = example.run("--gate=12", "--gate-update-state")
    assert result.ret == 0
    assert example.state()["phases"]["12-production"]["gate_passed"] is True
