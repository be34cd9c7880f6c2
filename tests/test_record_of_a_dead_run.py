"""A gate run that dies before it decides leaves no record, never the last run's.

A withdrawn sign-off or a new rollback report is bookkeeping: it does not make a new
release, so the last run's PASS still names the release being deployed. A run killed at a
CI timeout (or out of memory) must not leave that PASS for the deploy job's verdict.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from conftest import GateProject, custom_gate


def test_a_killed_run_leaves_no_earlier_record(project: GateProject) -> None:
    project.set_state({"phases": {}})
    started = project.root / "started"
    custom_gate(project, "- {id: slow, text: Slow, check: {kind: command, shell: true, "
                         "run: 'test ! -e block || { touch started; sleep 600; }'}}")
    records = project.root / "gate-records"
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--gate=12",
               "--gate-allow-commands"]
    first = subprocess.run(command, cwd=project.root, capture_output=True, text=True,
                           timeout=300)
    assert first.returncode == 0, first.stdout[-3000:]
    assert 'value="PASS"' in (records / "GATE-12.xml").read_text()

    (project.root / "block").touch()
    run = subprocess.Popen(command, cwd=project.root, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not started.exists():  # the criterion is being evaluated
            assert run.poll() is None and time.monotonic() < deadline, run.returncode
            time.sleep(0.05)
    finally:
        os.killpg(run.pid, signal.SIGKILL)  # our own process group only
        run.wait()
    left = sorted(p.name for p in records.iterdir()) if records.exists() else []
    assert left == [], left
