"""``deploygate validate`` says a spec it cannot read once, not once per sign-off naming it.

A project whose gate 12 spec is broken has every sign-off line of gate 12 refused with it:
the spec's refusal was repeated for each line (38 problems for one), burying the one to mend.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import EXAMPLE, REPO


def test_a_broken_spec_is_one_problem_and_one_for_the_lines_naming_it(tmp_path: Path) -> None:
    project = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("gate-records"))
    spec = (REPO / "gate_specs" / "12-production.yaml").read_text()
    broken = spec.replace("title: Production Deployment", "title: 2024-01-01", 1)
    assert broken != spec
    (project / "gate_specs").mkdir(exist_ok=True)
    (project / "gate_specs" / "12-production.yaml").write_text(broken)
    signed = [line for line in (project / ".deploygate" / "attestations.jsonl").read_text()
              .splitlines() if line.strip()]
    assert len(signed) > 2  # the example signs many gate 12 criteria

    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "validate"], cwd=project,
                          capture_output=True, text=True, timeout=120, env={**os.environ})
    lines = (done.stdout + done.stderr).splitlines()
    assert done.returncode == 1
    refusal = "title: 2024-01-01 is read as a date, which no JSON document holds; quote it"
    about_the_log = [line for line in lines if "attestations.jsonl:" in line]
    assert len(about_the_log) == 1, lines
    assert refusal in about_the_log[0]
    assert f"the {len(signed) - 1} other(s) naming that gate (lines 1, 2, 3" in about_the_log[0]
    assert sum(refusal in line for line in lines) == 2  # the spec itself, and the log once
