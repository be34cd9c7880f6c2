"""A monorepo project in its own folder: its gate definition at the root is its release content.

The framework keeps one checklists folder (``.isdlc/checklists/``) for every project of a
monorepo, and the gate reads the spec folder (``gate_specs/``) and a ``deploygate.yaml`` above
a project from the root too. A commit to any of them after the sign-offs changed what the
gate checked while the project's release (its folder), and so its sign-offs, stayed: a spec
with a criterion removed turned a FAIL into a PASS. And ``deploygate verdict`` bound every
monorepo record to the whole repository's release: an honest release was always refused.

Real repositories: three projects in folders, a developer, a security officer and a QA lead
who commit their own sign-offs, an attacker (Eve) who commits under her own name; judged by
``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict`` in subprocesses.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from conftest import INNER_ARGS

DEV = "dev@acme.example"
SAM = "sam.okafor@acme.example"  # security officer
ANA = "ana.silva@acme.example"  # QA lead
EVE = "eve@acme.example"
PROJECTS = ("svc-a", "svc-b", "svc-c")

SPEC = """\
spec_version: 1
gate: 12
id: GATE-12
title: Production gate
phase: 12-production
decision:
  - {id: checks, title: Checks passed}
sections:
  - id: checks
    title: Checks
    stage: pre
    decision: checks
    criteria:
      - {id: tests, text: Tests pass, check: {kind: junit, report: junit}}
      - {id: security-sign-off, text: Security sign-off,
         check: {kind: attestation, roles: [security-officer]}}
%s"""
QA = "      - {id: qa-sign-off, text: QA sign-off, check: {kind: attestation, roles: [qa-lead]}}\n"
APPROVERS = f"""\
approvers:
  - {{email: {SAM}, name: Sam Okafor, roles: [security-officer]}}
  - {{email: {ANA}, name: Ana Silva, roles: [qa-lead]}}
"""
CONFIG = "version: {version}\nreports:\n  junit: [reports/*.xml]\n"
JUNIT = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
         '<testcase classname="a" name="t2"/></testsuite>\n')
CHECKLIST = "# Gate 12: Production Gate\n\n## Approvals\n\n- [ ] Security sign-off\n"


def git(root: Path, *args: str, who: str = DEV) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": who.split("@")[0], "GIT_AUTHOR_EMAIL": who,
           "GIT_COMMITTER_NAME": who.split("@")[0], "GIT_COMMITTER_EMAIL": who}
    done = subprocess.run(["git", "-c", "commit.gpgsign=false", "-c", "core.hooksPath=/dev/null",
                           *args], cwd=root, env=env, capture_output=True, text=True,
                          check=True)
    return done.stdout


def commit(root: Path, who: str, message: str) -> None:
    git(root, "add", "-A", who=who)
    git(root, "commit", "-q", "-m", message, who=who)


def sign(root: Path, project: str, criterion: str, signer: str, role: str,
         note: str = "") -> None:
    """The signer appends their line to the project's log and commits it themselves (a
    line repeated byte for byte is ignored as a duplicate: a new sign-off says more)."""
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    entry = {"gate": 12, "criterion": criterion, "signer": signer, "role": role, "at": at}
    line = json.dumps({**entry, "note": note} if note else entry)
    with (root / project / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    commit(root, signer, f"{project}: {criterion}")


def gate(root: Path, project: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12",
                           f"--gate-project={project}"], cwd=root, capture_output=True,
                          text=True, check=False)


def verdict(root: Path, project: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "verdict",
                           f"gate-records/{project}/GATE-12.xml", *args], cwd=root,
                          capture_output=True, text=True, check=False)


def prop(root: Path, project: str, name: str) -> str:
    text = (root / "gate-records" / project / "GATE-12.xml").read_text()
    found = re.search(rf'name="deploygate\.{name}" value="([^"]*)"', text)
    assert found is not None, name
    return found.group(1)


def case_message(root: Path, project: str, criterion: str) -> str:
    text = (root / "gate-records" / project / "GATE-12.xml").read_text()
    found = re.search(rf'<testcase [^>]*name="[^"]*\[{criterion}\][^"]*"[^>]*>(.*?)</testcase>',
                      text, re.S)
    return found.group(1) if found else ""


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """Three projects in their folders; svc-a and svc-b have a deploygate.yaml of their own,
    svc-c is judged by the root's. The gate's spec is the root's gate_specs/. svc-a and
    svc-c have the security officer's sign-off, not QA's; svc-b has both."""
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    for pid in PROJECTS:
        state = root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": pid}, "phases": {}}))
        folder = root / pid
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        if pid != "svc-c":
            (folder / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
        (folder / ".deploygate").mkdir()
        (folder / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (folder / ".deploygate" / "attestations.jsonl").write_text("")
        (folder / "reports").mkdir()
        (folder / "reports" / "unit.xml").write_text(JUNIT)
    commit(root, DEV, "three services")
    for pid in PROJECTS:
        sign(root, pid, "security-sign-off", SAM, "security-officer")
    sign(root, "svc-b", "qa-sign-off", ANA, "qa-lead")
    return root


def test_an_honest_monorepo_release_passes_and_verdict_binds_it(monorepo: Path) -> None:
    result = gate(monorepo, "svc-b")
    assert result.returncode == 0, result.stdout[-3000:]
    assert prop(monorepo, "svc-b", "decision") == "PASS"
    assert prop(monorepo, "svc-b", "dirty") == "false"
    checked = verdict(monorepo, "svc-b")
    assert checked.returncode == 0, checked.stderr
    # The commit the record names, given explicitly, binds by the same rules.
    named = verdict(monorepo, "svc-b", "--commit", prop(monorepo, "svc-b", "commit"))
    assert named.returncode == 0, named.stderr
    # Another project's record in svc-b's place is refused.
    assert gate(monorepo, "svc-a").returncode == 1
    assert verdict(monorepo, "svc-a").returncode == 1  # (its own FAIL: bound, not refused)


def test_a_commit_in_another_projects_folder_is_no_release_of_this_one(
        monorepo: Path) -> None:
    assert gate(monorepo, "svc-b").returncode == 0
    released = prop(monorepo, "svc-b", "commit"), prop(monorepo, "svc-b", "tree")
    (monorepo / "svc-a" / "src" / "app.py").write_text("NAME = 'svc-a, changed'\n")
    commit(monorepo, DEV, "svc-a: a change")
    assert gate(monorepo, "svc-b").returncode == 0
    assert (prop(monorepo, "svc-b", "commit"), prop(monorepo, "svc-b", "tree")) == released
    assert verdict(monorepo, "svc-b").returncode == 0


def _weaken_spec(root: Path) -> None:
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % "")


def _add_checklist(root: Path) -> None:
    (root / ".isdlc" / "checklists").mkdir(parents=True)
    (root / ".isdlc" / "checklists" / "12-production-gate.md").write_text(CHECKLIST)


def _loosen_root_config(root: Path) -> None:
    # (Reports from a folder anyone writes in: a failing suite's place taken.)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0").replace(
        "[reports/*.xml]", "[reports/*.xml, /tmp/*.xml]"))


def _add_conftest(root: Path) -> None:
    # (pytest loads it for every project's run: it can register check kinds.)
    (root / "conftest.py").write_text("# the monorepo's pytest hooks\n")


@pytest.mark.parametrize(("project", "change"), [
    ("svc-a", _weaken_spec),  # the spec folder: the QA criterion removed
    ("svc-a", _add_checklist),  # the framework's checklists of every project
    ("svc-c", _loosen_root_config),  # the deploygate.yaml svc-c is judged by
    ("svc-a", _add_conftest),  # pytest's configuration of the root
], ids=["spec-folder", "checklists", "root-config", "root-conftest"])
def test_a_commit_to_the_gate_definition_at_the_root_is_a_new_release(
        monorepo: Path, project: str, change: object) -> None:
    assert gate(monorepo, project).returncode == 1  # QA has not signed: FAIL
    released = prop(monorepo, project, "commit"), prop(monorepo, project, "tree")
    assert callable(change)
    change(monorepo)
    commit(monorepo, EVE, "tidy the gate")
    gate(monorepo, project)
    # Before: the project's release did not move, the security sign-off bound, and the
    # weaker gate said PASS.
    assert prop(monorepo, project, "decision") != "PASS"
    assert (prop(monorepo, project, "commit"), prop(monorepo, project, "tree")) != released
    assert prop(monorepo, project, "commit") == git(monorepo, "rev-parse", "HEAD").strip()
    assert "made on other release content" in case_message(monorepo, project,
                                                            "security-sign-off")
    assert verdict(monorepo, project).returncode != 0
    assert verdict(monorepo, project, "--commit", released[0]).returncode == 4


def test_the_spec_weakened_and_signed_again_is_a_release_that_passes(monorepo: Path) -> None:
    _weaken_spec(monorepo)
    commit(monorepo, DEV, "the QA sign-off is no longer part of the production gate")
    sign(monorepo, "svc-a", "security-sign-off", SAM, "security-officer",
         note="reviewed the gate without QA")
    result = gate(monorepo, "svc-a")
    assert result.returncode == 0, result.stdout[-3000:]
    assert verdict(monorepo, "svc-a").returncode == 0


@pytest.mark.parametrize("where", ["gate_specs/12-production.yaml",
                                   ".isdlc/checklists/12-production-gate.md",
                                   "svc-c/deploygate.yaml"])
def test_an_uncommitted_gate_definition_at_the_root_is_a_dirty_release(
        monorepo: Path, where: str) -> None:
    # Untracked (or edited) where the gate reads it: no record of it binds.
    path = monorepo / where
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(SPEC % "" if where.endswith(".yaml") and "specs" in where
                    else CHECKLIST if where.endswith(".md")
                    else CONFIG.format(version="3.0.0"))
    project = "svc-c" if where.startswith("svc-c") else "svc-b"
    gate(monorepo, project)
    assert prop(monorepo, project, "dirty") == "true"
    refused = verdict(monorepo, project)
    assert refused.returncode == 4, refused.stderr
    assert "uncommitted changes to release content" in refused.stderr


TODAY_SPEC = """\
spec_version: 1
gate: 13
id: 13-production
title: Production gate
phase: 13-production
decision: [{id: checks, title: Checks passed}]
sections:
  - id: checks
    title: Checks
    stage: pre
    decision: checks
    criteria:
      - {id: tests, text: Tests pass, check: {kind: junit, report: junit}}
"""


def test_verdict_reads_the_layout_of_the_projects_own_state(tmp_path: Path) -> None:
    # Today's framework writes active_workflow in each project's state, and nothing at the
    # root: verdict read the root's (absent) state, took the 13-phase layout, and knew no
    # gate 13-production to verify svc-b's record against.
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "13-production.yaml").write_text(TODAY_SPEC)
    for pid in ("svc-a", "svc-b"):
        state = root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": pid}, "active_workflow": None,
                                     "state_version": 3, "phases": {}}))
        (root / pid / "reports").mkdir(parents=True)
        (root / pid / "deploygate.yaml").write_text(CONFIG.format(version="2.0.0"))
        (root / pid / "reports" / "unit.xml").write_text(JUNIT)
    commit(root, DEV, "two services")
    result = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS,
                             "--gate=13-production", "--gate-project=svc-b"], cwd=root,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    checked = subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "verdict",
                              "gate-records/svc-b/13-production.xml"], cwd=root,
                             capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr
