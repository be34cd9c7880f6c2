"""A stopped ``--gate-project=all`` run clears a project's record folder that is a symbolic link
to a folder (rt16a A07).

Runs write through such a link and ``deploygate verdict`` reads through it, but the stopped
run cleared only real folders: in a kept workspace svc-b's last PASS stayed behind
``gate-records/svc-b -> elsewhere`` after its QA sign-off was withdrawn, and verdict took it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from test_monorepo_release_content import ANA, commit, monorepo, verdict

from conftest import INNER_ARGS

__all__ = ["monorepo"]  # (the fixture, imported to be used here)


def _all(root: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12",
                           "--gate-project=all"], cwd=root, capture_output=True, text=True,
                          check=False, env=env)


def test_a_stopped_run_clears_a_linked_project_record_folder(monorepo: Path,
                                                              tmp_path: Path) -> None:
    _all(monorepo)  # Monday: svc-b (signed by security and QA) passes
    assert verdict(monorepo, "svc-b").returncode == 0
    # Its record folder becomes a link to a folder elsewhere holding that PASS.
    elsewhere = tmp_path / "elsewhere"
    (monorepo / "gate-records" / "svc-b").rename(elsewhere)
    (monorepo / "gate-records" / "svc-b").symlink_to(elsewhere)
    assert verdict(monorepo, "svc-b").returncode == 0
    # Tuesday: QA withdraws svc-b's sign-off (bookkeeping: the same release).
    log = monorepo / "svc-b" / ".deploygate" / "attestations.jsonl"
    log.write_text("".join(line for line in log.read_text().splitlines(keepends=True)
                           if "qa-sign-off" not in line))
    commit(monorepo, ANA, "svc-b: QA sign-off withdrawn")
    stopped = _all(monorepo, {**os.environ, "PYTEST_ADDOPTS": "--gate-now=bogus"})
    assert stopped.returncode == 4, stopped.stdout[-3000:] + stopped.stderr[-3000:]
    # Before: GATE-12.xml stayed in elsewhere/, and verdict exited 0.
    assert not (elsewhere / "GATE-12.xml").exists()
    assert verdict(monorepo, "svc-b").returncode != 0
    # The link itself stays (it is the workspace's folder, not a record).
    assert (monorepo / "gate-records" / "svc-b").is_symlink()
