"""Monorepo folders the committed configs mark, and the ``project:`` key wherever it is.

- A group config (``services/deploygate.yaml`` shared by ``services/svc-a/`` and
  ``services/svc-b/``, which have none of their own) made ``services/`` a project's folder
  (project "services", which has no state): every project under it was refused. A folder
  marked by its deploygate.yaml alone, naming no project and holding project folders, is a
  shared config, as the root's is; folders and sign-offs stay each project's.
- A sign-off log configured outside ``.deploygate/`` (``attestations.log:
  signoffs/attestations.jsonl``) left the folder holding it unmarked: with svc-b's state
  deleted, svc-a's project.path could lead into svc-b's folder, judged by svc-b's sign-offs.
- ``project:`` in a deploygate.yaml that is no project folder's (the root's) was ignored: a
  config naming a project configures that project alone, or the run is refused.

Real repositories (developer, security officer, QA lead and an attacker committing under
their own names), judged by ``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    CONFIG,
    DEV,
    EVE,
    JUNIT,
    QA,
    SAM,
    SPEC,
    commit,
    gate,
    git,
    monorepo,
    prop,
    sign,
    verdict,
)

from conftest import INNER_ARGS

__all__ = ["monorepo"]  # (the fixture, imported to be used here)


def _state(root: Path, pid: str, path: str) -> None:
    state = root / ".isdlc" / "projects" / pid / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"project": {"name": pid, "path": path}, "phases": {}}))


def _base(tmp_path: Path) -> Path:
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    return root


def _service(root: Path, pid: str, log: str = ".deploygate") -> None:
    _state(root, pid, f"services/{pid}")
    folder = root / "services" / pid
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
    (folder / log).mkdir()
    (folder / log / "approvers.yaml").write_text(APPROVERS)
    (folder / log / "attestations.jsonl").write_text("")
    (folder / "reports").mkdir()
    (folder / "reports" / "unit.xml").write_text(JUNIT)


def _refused(root: Path, project: str, line: str) -> None:
    """verdict (on the record of an earlier run) and the gate refuse with the same line."""
    refused = verdict(root, project)
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr
    result = gate(root, project)
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout + result.stderr, result.stdout[-3000:]


@pytest.fixture
def group(tmp_path: Path) -> Path:
    """svc-a and svc-b in services/<id>, configured by the shared services/deploygate.yaml
    (none of their own); security signed both, QA only svc-b."""
    root = _base(tmp_path)
    (root / "services").mkdir()
    (root / "services" / "deploygate.yaml").write_text(CONFIG.format(version="2.0.0"))
    for pid in ("svc-a", "svc-b"):
        _service(root, pid)
    commit(root, DEV, "services sharing a config")
    for pid in ("svc-a", "svc-b"):
        sign(root, f"services/{pid}", "security-sign-off", SAM, "security-officer")
    sign(root, "services/svc-b", "qa-sign-off", ANA, "qa-lead")
    return root


def test_projects_under_a_shared_group_config_are_judged_in_their_folders(
        group: Path) -> None:
    result = gate(group, "svc-b")
    assert result.returncode == 0, result.stdout[-3000:]
    assert prop(group, "svc-b", "version") == "2.0.0"  # (the group's config judged it)
    checked = verdict(group, "svc-b")
    assert checked.returncode == 0, checked.stderr
    assert gate(group, "svc-a").returncode == 1  # (its own FAIL: QA has not signed)
    assert verdict(group, "svc-a").returncode == 1


def test_a_group_folder_is_no_place_for_another_project(group: Path) -> None:
    # svc-c's project.path names the group folder: it holds svc-a's and svc-b's folders.
    assert gate(group, "svc-a").returncode == 1
    _state(group, "svc-c", "services")
    commit(group, EVE, "bookkeeping: svc-c")
    result = gate(group, "svc-c")
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert "svc-c/state.json: project.path 'services' holds project svc-a's directory " \
        "services/svc-a" in result.stdout
    # With svc-b's state deleted, svc-a's project.path cannot lead into svc-b's folder.
    _state(group, "svc-c", "services/svc-c")
    git(group, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(group, "svc-a", "services/svc-b")
    commit(group, EVE, "bookkeeping: paths")
    _refused(group, "svc-a", "svc-a/state.json: project.path 'services/svc-b' leads into "
             "project svc-b's directory services/svc-b/")


def test_a_project_folder_with_its_config_alone_holding_a_fixture_stays_its_own(
        tmp_path: Path) -> None:
    # svc-b's folder: its deploygate.yaml, no sign-offs yet, and a fixture project folder in
    # its tests. It is svc-b's (named like it), not a shared group config: svc-b is judged
    # there, and svc-a may not be placed inside it.
    root = _base(tmp_path)
    _service(root, "svc-a")
    _state(root, "svc-b", "services/svc-b")
    folder = root / "services" / "svc-b"
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "app.py").write_text("NAME = 'svc-b'\n")
    (folder / "deploygate.yaml").write_text(CONFIG.format(version="1.0.0"))
    fixture = folder / "tests" / "fixtures" / "demo"
    (fixture / ".deploygate").mkdir(parents=True)
    (fixture / ".deploygate" / "attestations.jsonl").write_text("")
    commit(root, DEV, "svc-a and svc-b")
    result = gate(root, "svc-b")
    assert result.returncode == 1, result.stdout[-3000:]  # (judged: no sign-offs yet)
    assert "state.json:" not in result.stdout
    assert gate(root, "svc-a").returncode == 1
    _state(root, "svc-a", "services/svc-b/src")
    git(root, "rm", "-q", "-r", "services/svc-a/.deploygate", who=EVE)
    commit(root, EVE, "bookkeeping")
    _refused(root, "svc-a", "svc-a/state.json: project.path 'services/svc-b/src' leads into "
             "project svc-b's directory services/svc-b")


def test_a_group_config_that_names_a_project_configures_it_alone(group: Path) -> None:
    text = (group / "services" / "deploygate.yaml").read_text()
    (group / "services" / "deploygate.yaml").write_text(text + "project: svc-a\n")
    commit(group, DEV, "services/deploygate.yaml is svc-a's")
    result = gate(group, "svc-b")
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert verdict(group, "svc-b").returncode == 4


def test_a_project_config_at_the_root_configures_that_project_alone(monorepo: Path) -> None:
    # svc-c has no deploygate.yaml of its own: the root's judges it. Naming svc-b there
    # was ignored; now it says the file is svc-b's, so svc-c is refused, in one line.
    assert gate(monorepo, "svc-c").returncode == 1
    text = (monorepo / "deploygate.yaml").read_text()
    (monorepo / "deploygate.yaml").write_text(text + "project: svc-b\n")
    commit(monorepo, DEV, "root config names svc-b")
    for pid in ("svc-a", "svc-b", "svc-c"):
        sign(monorepo, pid, "security-sign-off", SAM, "security-officer", note="again")
    sign(monorepo, "svc-b", "qa-sign-off", ANA, "qa-lead", note="again")
    _refused(monorepo, "svc-c", "deploygate.yaml:4: project: 'svc-b' says this file "
             "configures project svc-b alone, but it is the nearest deploygate.yaml of "
             "project svc-c (judged in svc-c/)")
    # svc-b (a config of its own) is judged as before.
    assert gate(monorepo, "svc-b").returncode == 0
    assert verdict(monorepo, "svc-b").returncode == 0


def test_a_root_config_naming_the_project_it_judges_is_honoured(monorepo: Path) -> None:
    text = (monorepo / "deploygate.yaml").read_text()
    (monorepo / "deploygate.yaml").write_text(text + "project: svc-c\n")
    commit(monorepo, DEV, "root config names svc-c")
    sign(monorepo, "svc-c", "security-sign-off", SAM, "security-officer", note="again")
    sign(monorepo, "svc-c", "qa-sign-off", ANA, "qa-lead")
    result = gate(monorepo, "svc-c")
    assert result.returncode == 0, result.stdout[-3000:]
    assert verdict(monorepo, "svc-c").returncode == 0


def test_project_in_a_single_projects_config_is_refused(tmp_path: Path) -> None:
    root = _base(tmp_path)
    (root / ".isdlc").mkdir()
    (root / ".isdlc" / "state.json").write_text(json.dumps({"phases": {}}))
    (root / ".deploygate").mkdir()
    (root / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (root / ".deploygate" / "attestations.jsonl").write_text("")
    commit(root, DEV, "shop")

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"],
                              cwd=root, capture_output=True, text=True, check=False)

    assert run().returncode == 1  # (a record: no sign-offs yet)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0") + "project: shop\n")
    commit(root, DEV, "shop names itself")
    line = ("deploygate.yaml:4: project: 'shop' names the monorepo project this file "
            "configures, but this run gates the repository's single project")
    checked = subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "verdict",
                              "gate-records/GATE-12.xml"], cwd=root, capture_output=True,
                             text=True, check=False)
    assert checked.returncode == 4, checked.stderr
    assert line in checked.stderr
    ran = run()
    assert ran.returncode == 2, ran.stdout[-3000:]
    assert line in ran.stdout + ran.stderr


@pytest.fixture
def outside_logs(tmp_path: Path) -> Path:
    """svc-a and svc-b in services/<id>, their sign-off files in signoffs/ (the root's config
    says so, sign-offs not bound to the release), no deploygate.yaml or .deploygate/ of
    their own. Security signed both, QA only svc-b."""
    root = _base(tmp_path)
    (root / "deploygate.yaml").write_text(
        CONFIG.format(version="3.0.0") + "attestations:\n  log: signoffs/attestations.jsonl\n"
        "  approvers: signoffs/approvers.yaml\n"
        # (Outside .deploygate/ the log is release content: each sign-off a new release, so
        # sign-offs are not bound to it here.)
        "  bind_to_release: false\n")
    for pid in ("svc-a", "svc-b"):
        _service(root, pid, log="signoffs")
    commit(root, DEV, "services, sign-offs in signoffs/")
    for pid in ("svc-a", "svc-b"):
        _sign_outside(root, f"services/{pid}", "security-sign-off", SAM, "security-officer")
    _sign_outside(root, "services/svc-b", "qa-sign-off", ANA, "qa-lead")
    return root


def _sign_outside(root: Path, folder: str, criterion: str, signer: str, role: str) -> None:
    at = "2026-01-01T00:00:00Z"
    line = json.dumps({"gate": 12, "criterion": criterion, "signer": signer, "role": role,
                       "at": at})
    with (root / folder / "signoffs" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    commit(root, signer, f"{folder}: {criterion}")


def test_a_folder_holding_a_configured_sign_off_log_is_its_projects(
        outside_logs: Path) -> None:
    honest = gate(outside_logs, "svc-b")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(outside_logs, "svc-b").returncode == 0
    assert gate(outside_logs, "svc-a").returncode == 1  # (QA has not signed svc-a)
    # svc-b's state deleted, svc-a's project.path moved into svc-b's folder.
    git(outside_logs, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(outside_logs, "svc-a", "services/svc-b")
    commit(outside_logs, EVE, "bookkeeping: paths")
    # (Before: svc-a judged in services/svc-b by svc-b's sign-offs, PASS.)
    line = ("svc-a/state.json: project.path 'services/svc-b' leads into project svc-b's "
            "directory services/svc-b/ (it holds its own sign-off file signoffs/")
    result = gate(outside_logs, "svc-a")
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout, result.stdout[-3000:]
    assert prop(outside_logs, "svc-a", "decision") != "PASS"
    refused = verdict(outside_logs, "svc-a")
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr


def _platform(top: Path, folder: str) -> Path:
    """Two services whose folders were renamed across (svc-a lives in services/svc-b and
    svc-b in services/svc-a: each folder's committed deploygate.yaml says whose it is), in
    ``folder`` of the repository at ``top`` ("" for the top itself)."""
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    (top / "README.md").write_text("the platform\n")
    root = top / folder if folder else top
    root.mkdir(exist_ok=True)
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    owners = {"svc-a": "svc-b", "svc-b": "svc-a"}  # project -> the folder it lives in
    for pid, place in owners.items():
        _service(root, place)
        (root / "services" / place / "deploygate.yaml").write_text(
            CONFIG.format(version="2.0.0") + f"project: {pid}\n")
    for pid, place in owners.items():  # (after: _service writes a state named by the folder)
        _state(root, pid, f"services/{place}")
    commit(top, DEV, "the platform's services, renamed")
    for place in owners.values():
        sign(root, f"services/{place}", "security-sign-off", SAM, "security-officer")
    sign(root, "services/svc-a", "qa-sign-off", ANA, "qa-lead")  # (svc-b's folder)
    return root


def test_project_keys_are_read_when_the_monorepo_is_a_folder_of_its_repository(
        tmp_path: Path) -> None:
    """rt17a A05: the committed deploygate.yaml of each folder was asked of git as
    ``HEAD:<folder>/deploygate.yaml``, a path from the repository's top, with the folders
    named from the monorepo's root: in a monorepo below the top every lookup said "missing",
    so no ``project:`` was read and each folder was bound by its name alone: folders renamed
    across (what ``project:`` is for) were refused, and swapping the states' paths judged
    each project by the other's sign-offs. A folder of the repository judges as its top."""
    judged = {}
    for folder in ("", "plat"):
        root = _platform(tmp_path / (folder or "top"), folder)
        result = gate(root, "svc-b")
        judged[folder] = (result.returncode, prop(root, "svc-b", "decision")
                          if result.returncode in (0, 1) else result.stdout[-1500:])
    assert judged["plat"] == judged[""], judged
    assert judged[""] == (0, "PASS"), judged
