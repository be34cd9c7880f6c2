"""rt13: what defines the gate cannot change under an old release.

Real release repositories (examples/release_repo.py: several authors, a merged feature branch,
a tag, sign-offs committed by their signers), then what an attacker who commits under any name
does afterwards, judged by the real command lines: ``pytest --gate=12`` and
``deploygate verdict``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_attack_rt12a import (
    WEAKENED,
    _project_checklist,
    _report_health_checks_failing,
    build,
    decision,
    gate,
    git,
    verdict,
)

from conftest import INNER_ARGS

SAM = "sam.okafor@acme.example"  # the example's security officer


def _property(root: Path, name: str, record: str = "GATE-12") -> str:
    text = (root / "gate-records" / f"{record}.xml").read_text()
    found = re.search(rf'name="deploygate\.{name}" value="([^"]*)"', text)
    assert found is not None, name
    return found.group(1)


def _sign(root: Path, criterion: str, signer: str, role: str) -> None:
    line = json.dumps({"gate": 12, "criterion": criterion, "signer": signer, "role": role,
                       "at": "2026-02-03T15:25:00Z"})
    with (root / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    git(root, "add", ".deploygate/attestations.jsonl", who=signer)
    git(root, "commit", "-q", "-m", f"sign-off: {criterion}", who=signer)


# -- 1. the project's checklists are release content ---------------------------------------------

def test_a_committed_weaker_checklist_is_a_new_release(tmp_path: Path) -> None:
    root = build(tmp_path, _project_checklist)
    assert gate(root).returncode == 1  # the project's own checklist: this release fails it
    released = _property(root, "commit"), _property(root, "tree")
    checklist = root / ".isdlc" / "checklists" / "12-production-gate.md"
    checklist.write_text(WEAKENED)  # one criterion left, whose sign-off was given already
    git(root, "commit", "-q", "-a", "-m", "framework: tidy the production checklist")
    gate(root)
    # Before: the release did not move, the old sign-off bound, and the weaker gate said PASS.
    assert decision(root) != "PASS"
    assert (_property(root, "commit"), _property(root, "tree")) != released
    assert _property(root, "commit") == git(root, "rev-parse", "HEAD").strip()
    # Signed again on the release that carries the new checklist, it passes; verdict
    # recomputes the named commit's release tree by the same rules as the record's.
    _sign(root, "security-sign-off", SAM, "security-officer")
    assert gate(root).returncode == 0
    assert decision(root) == "PASS"
    assert verdict(root).returncode == 0
    checked = _deploy(root, "--commit", _property(root, "commit"))
    assert checked.returncode == 0, checked.stderr
    refused = _deploy(root, "--commit", released[0])
    assert refused.returncode == 4, refused.stderr
    assert "release tree" in refused.stderr


def test_framework_state_stays_bookkeeping(tmp_path: Path) -> None:
    root = build(tmp_path, _project_checklist)
    gate(root)
    released = _property(root, "commit"), _property(root, "tree")
    state = root / ".isdlc" / "state.json"
    state.write_text(state.read_text() + "\n")
    phase = root / ".isdlc" / "phases" / "12-production" / "notes.md"
    phase.parent.mkdir(parents=True, exist_ok=True)
    phase.write_text("notes\n")
    (root / ".isdlc" / "checklists-old.md").write_text("not a checklist folder\n")
    git(root, "add", "-A", ".isdlc")
    git(root, "commit", "-q", "-m", "framework state")
    gate(root)
    assert (_property(root, "commit"), _property(root, "tree")) == released


def _deploy(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "verdict",
                           "gate-records/GATE-12.xml", *args], cwd=root, capture_output=True,
                          text=True, check=False)


@pytest.mark.parametrize("folder", [".deploygate/specs", ".isdlc/gates"])
def test_a_spec_folder_in_the_bookkeeping_is_refused(tmp_path: Path, folder: str) -> None:
    root = build(tmp_path, lambda source: None)
    specs = root / folder
    specs.mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parent.parent / "gate_specs" / "12-production.yaml",
                specs)
    (root / "pytest.ini").write_text(f"[pytest]\ndeploygate_specs = {folder}\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "our own gate specs")
    done = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"], cwd=root,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 4, done.stdout
    assert f"{folder}/ is the gate's bookkeeping" in done.stderr
    assert "Traceback" not in done.stderr
    shown = subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "show", "12"],
                           cwd=root, capture_output=True, text=True, check=False)
    assert shown.returncode != 0
    assert shown.stderr.count("\n") == 1 and "is the gate's bookkeeping" in shown.stderr


# -- 2. a rollback report in any file the log ever was ------------------------------------------

def _unbind(root: Path) -> None:
    # Sign-offs and reports not bound to the release: a change of the configured log (a
    # release-content change) then keeps the sign-offs, and the report's removal is the attack.
    config = root / "deploygate.yaml"
    config.write_text(config.read_text() + "attestations:\n  bind_to_release: false\n")
    git(root, "commit", "-q", "-a", "-m", "sign-offs are not bound to the release")


@pytest.mark.parametrize("how", ["renamed and removed", "renamed, later removed"])
def test_a_report_in_an_earlier_log_file_still_rolls_back(tmp_path: Path, how: str) -> None:
    root = build(tmp_path, lambda source: None)
    _unbind(root)
    _report_health_checks_failing(root)
    gate(root)
    assert decision(root) == "ROLLBACK"
    old, new = root / ".deploygate" / "attestations.jsonl", root / ".deploygate" / "signoffs.jsonl"
    kept = "".join(line + "\n" for line in old.read_text().splitlines()[:-1])
    config = root / "deploygate.yaml"
    # git mv keeps every other line its signer's (blame follows a rename).
    git(root, "mv", ".deploygate/attestations.jsonl", ".deploygate/signoffs.jsonl")
    config.write_text(config.read_text().replace(
        "attestations:\n", "attestations:\n  log: .deploygate/signoffs.jsonl\n", 1))
    if how == "renamed and removed":
        new.write_text(kept)
        git(root, "commit", "-q", "-a", "-m", "the sign-off log's new name")
    else:
        git(root, "commit", "-q", "-a", "-m", "the sign-off log's new name")
        assert gate(root).returncode == 1 and decision(root) == "ROLLBACK"
        new.write_text(kept)
        git(root, "commit", "-q", "-a", "-m", "tidy the sign-off log")
    done = gate(root)
    # Before: only the new path's history was read, where the report was the renamer's.
    assert decision(root) == "ROLLBACK", done.stdout
    assert "a report is never withdrawn by deleting it" in done.stdout
    assert verdict(root).returncode == 2


# -- 3. code of the checkout in place of the installed package ----------------------------------

def test_verdict_refuses_when_a_module_of_the_checkout_was_imported(tmp_path: Path) -> None:
    """PYTHONPATH into the checkout (set by an earlier step of the job's own user) imports a
    module of the project before the installed ones: here a sitecustomize.py among the CI
    output, which runs at start-up in every Python process. verdict exited 0 with it."""
    root = build(tmp_path, lambda source: None)
    assert gate(root).returncode == 0
    script = Path(sys.executable).parent / "deploygate"
    plain = subprocess.run([str(script), "verdict", "gate-records/GATE-12.xml"], cwd=root,
                           capture_output=True, text=True, check=False)
    assert plain.returncode == 0, plain.stderr
    (root / "reports" / "sitecustomize.py").write_text("SHADOWED = True\n")
    done = subprocess.run([str(script), "verdict", "gate-records/GATE-12.xml"], cwd=root,
                          capture_output=True, text=True, check=False,
                          env={**os.environ, "PYTHONPATH": str(root / "reports")})
    assert done.returncode == 4, done.stderr
    # The variable is what counts (the module could have hidden itself from sys.modules):
    # tests/test_verdict_checkout_code.py.
    assert "PYTHONPATH names" in done.stderr
    assert "python -I -m pytest_deploygate verdict" in done.stderr
    assert "Traceback" not in done.stderr
