"""A monorepo's project folders learnt through its submodules at any depth, by one routine.

The committed project folders were learnt from HEAD's listing plus each top-level
submodule's pinned commit, marked by a half-copy of the rules: a project folder that is a
NESTED submodule was no project's (rt17d A01), a sign-off file the root's config places in
a folder inside a submodule marked nothing (rt17d A04), and a submodule folder's
``project:`` was read from the superproject, which holds no file inside a gitlink, so an
honest folder named unlike its project was refused. Real repositories, sign-offs committed
by their signers in the repository holding each folder; the gate and ``deploygate verdict``
run as the CI runs them.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    CONFIG,
    DEV,
    JUNIT,
    QA,
    SAM,
    SPEC,
    commit,
    gate,
    git,
    verdict,
)

PROJECTS = ("svc-a", "svc-b")


def _sign(log: Path, criterion: str, signer: str, role: str) -> None:
    """The signer appends their line to the log and commits it in the repository holding
    it."""
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with log.open("a") as handle:
        handle.write(json.dumps({"gate": 12, "criterion": criterion, "signer": signer,
                                 "role": role, "at": at}) + "\n")
    git(log.parent, "add", "-A", who=signer)
    git(log.parent, "commit", "-q", "-m", criterion, who=signer)


def _submodule(root: Path, source: Path, folder: str) -> None:
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(source), folder)


def _superproject(root: Path, config: str, folders: dict[str, str], qa: str = QA) -> None:
    """The monorepo's root: its spec (tests, security and, with ``qa``, QA sign-offs), its
    config, and a state per project naming its folder."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % qa)
    (root / "deploygate.yaml").write_text(config)
    for pid, folder in folders.items():
        state = root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": pid, "path": folder},
                                     "phases": {}}))


def _reports(root: Path, folders: dict[str, str]) -> None:
    for folder in folders.values():
        (root / folder / "reports").mkdir()
        (root / folder / "reports" / "unit.xml").write_text(JUNIT)


def _svc_b_claims_svc_a_folder(root: Path) -> None:
    """State edits only (the job user's files): svc-a's state deleted, svc-b's project.path
    naming svc-a's folder."""
    shutil.rmtree(root / ".isdlc" / "projects" / "svc-a")
    (root / ".isdlc" / "projects" / "svc-b" / "state.json").write_text(json.dumps(
        {"project": {"name": "svc-b", "path": "services/svc-a"}, "phases": {}}))


def test_a_nested_submodule_project_folder_cannot_be_claimed(tmp_path: Path) -> None:
    """rt17d A01: services/ one submodule whose svc-a/ and svc-b/ are submodules of it:
    HEAD's listing stops at services, the pinned commit's listing at svc-a and svc-b, so
    services/svc-a was no project's folder and svc-b was judged by svc-a's QA sign-off
    (PASS, verdict 0)."""
    sources = tmp_path / "sources"
    for pid in PROJECTS:
        source = sources / pid
        (source / "src").mkdir(parents=True)
        git(source, "init", "-q", "-b", "main")
        (source / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        (source / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
        (source / ".deploygate").mkdir()
        (source / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (source / ".deploygate" / "attestations.jsonl").write_text("")
        (source / ".gitignore").write_text("reports/\n")
        commit(source, DEV, pid)
    services = sources / "services"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    (services / "README").write_text("the services\n")
    for pid in PROJECTS:
        _submodule(services, sources / pid, pid)
    commit(services, DEV, "the services, each a submodule")
    root = tmp_path / "mono"
    folders = {pid: f"services/{pid}" for pid in PROJECTS}
    _superproject(root, CONFIG.format(version="3.0.0"), folders)
    _submodule(root, services, "services")
    git(root, "-c", "protocol.file.allow=always", "submodule", "update", "--init",
        "--recursive", "-q")
    commit(root, DEV, "the services as one submodule")
    module = root / "services"
    for pid in PROJECTS:
        _sign(module / pid / ".deploygate" / "attestations.jsonl", "security-sign-off", SAM,
              "security-officer")
    _sign(module / "svc-a" / ".deploygate" / "attestations.jsonl", "qa-sign-off", ANA,
          "qa-lead")
    commit(module, DEV, "the services' sign-offs")
    commit(root, DEV, "the services' sign-offs")
    _reports(root, folders)
    assert gate(root, "svc-a").returncode == 0  # (security and QA signed svc-a)
    assert gate(root, "svc-b").returncode == 1  # (no QA sign-off for svc-b)
    _svc_b_claims_svc_a_folder(root)
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "project.path 'services/svc-a' leads into project svc-a's directory " \
        "services/svc-a/ (it holds its own sign-off folder .deploygate/ (in its submodule))" \
        in claimed.stdout, claimed.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4


def test_a_sign_off_file_the_root_places_in_a_submodule_marks_its_folder(
        tmp_path: Path) -> None:
    """rt17d A04: the root's config places each project's sign-off log and approvers in its
    folder (no deploygate.yaml or .deploygate/ there), the folders inside ONE submodule:
    the placed files were looked for in HEAD's listing alone, so services/svc-a was no
    project's folder and svc-b was judged by svc-a's sign-offs (PASS, verdict 0)."""
    services = tmp_path / "services-source"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    for pid in PROJECTS:
        (services / pid / "src").mkdir(parents=True)
        (services / pid / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        (services / pid / "approvers.yaml").write_text(APPROVERS)
        (services / pid / "signoffs.jsonl").write_text("")
    (services / ".gitignore").write_text("reports/\n")
    commit(services, DEV, "the services")
    root = tmp_path / "mono"
    folders = {pid: f"services/{pid}" for pid in PROJECTS}
    # (A log outside .deploygate/ is release content: one sign-off, so that it is on the
    # release gated; the spec asks for tests and the security sign-off.)
    _superproject(root, CONFIG.format(version="3.0.0") + "attestations:\n"
                  "  log: signoffs.jsonl\n  approvers: approvers.yaml\n", folders, qa="")
    _submodule(root, services, "services")
    commit(root, DEV, "the services as one submodule")
    module = root / "services"
    _sign(module / "svc-a" / "signoffs.jsonl", "security-sign-off", SAM, "security-officer")
    commit(root, DEV, "svc-a's sign-off")
    _reports(root, folders)
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]  # (security signed svc-a)
    assert gate(root, "svc-b").returncode == 1  # (no sign-off for svc-b)
    _svc_b_claims_svc_a_folder(root)
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "project.path 'services/svc-a' leads into project svc-a's directory " \
        "services/svc-a/ (it holds its own sign-off file approvers.yaml (in its submodule))" \
        in claimed.stdout, claimed.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4


def test_a_submodule_folder_is_the_project_its_committed_config_names(tmp_path: Path) -> None:
    """False refusal: services/payments/ (in ONE submodule) holds a deploygate.yaml saying
    ``project: svc-a``, svc-a's state names it. The file was read from the superproject,
    which holds none inside a gitlink, so the folder was bound to "payments" by its name
    and svc-a refused for leading into project payments's directory."""
    services = tmp_path / "services-source"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    named = {"svc-a": "payments", "svc-b": "svc-b"}
    for pid, name in named.items():
        folder = services / name
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        (folder / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0") +
                                                f"project: {pid}\n")
        (folder / ".deploygate").mkdir()
        (folder / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (folder / ".deploygate" / "attestations.jsonl").write_text("")
    (services / ".gitignore").write_text("reports/\n")
    commit(services, DEV, "the services")
    root = tmp_path / "mono"
    folders = {pid: f"services/{name}" for pid, name in named.items()}
    _superproject(root, CONFIG.format(version="3.0.0"), folders)
    _submodule(root, services, "services")
    commit(root, DEV, "the services as one submodule")
    log = root / "services" / "payments" / ".deploygate" / "attestations.jsonl"
    _sign(log, "security-sign-off", SAM, "security-officer")
    _sign(log, "qa-sign-off", ANA, "qa-lead")
    commit(root, DEV, "svc-a's sign-offs")
    _reports(root, folders)
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 0
    assert gate(root, "svc-b").returncode == 1  # (no sign-off for svc-b)
    # svc-a's state deleted, a new state named like the folder still cannot claim it: its
    # committed config (in the submodule) names svc-a.
    shutil.rmtree(root / ".isdlc" / "projects" / "svc-a")
    state = root / ".isdlc" / "projects" / "payments" / "state.json"
    state.parent.mkdir()
    state.write_text(json.dumps({"project": {"name": "payments",
                                             "path": "services/payments"}, "phases": {}}))
    claimed = gate(root, "payments")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "leads into project svc-a's directory services/payments/ (it holds its own " \
        "sign-off folder .deploygate/ (in its submodule); its deploygate.yaml names project " \
        "svc-a)" in claimed.stdout, claimed.stdout[-3000:]


def test_a_group_config_at_a_submodules_top_is_no_projects_folder(tmp_path: Path) -> None:
    """services/ (ONE submodule) commits a deploygate.yaml shared by svc-a/ and svc-b/ below
    it (no project:, each with its own .deploygate/). The file was never read from the
    submodule's commit, so services/ stayed a project folder (services's) that no state
    names, and every project was refused; read from the commit holding it, it is a group
    config, as it is in a plain folder."""
    services = tmp_path / "services-source"
    services.mkdir()
    git(services, "init", "-q", "-b", "main")
    (services / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
    for pid in PROJECTS:
        (services / pid / "src").mkdir(parents=True)
        (services / pid / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        (services / pid / ".deploygate").mkdir()
        (services / pid / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (services / pid / ".deploygate" / "attestations.jsonl").write_text("")
    (services / ".gitignore").write_text("reports/\n")
    commit(services, DEV, "the services and their shared config")
    root = tmp_path / "mono"
    folders = {pid: f"services/{pid}" for pid in PROJECTS}
    _superproject(root, CONFIG.format(version="3.0.0"), folders)
    _submodule(root, services, "services")
    commit(root, DEV, "the services as one submodule")
    log = root / "services" / "svc-a" / ".deploygate" / "attestations.jsonl"
    _sign(log, "security-sign-off", SAM, "security-officer")
    _sign(log, "qa-sign-off", ANA, "qa-lead")
    commit(root, DEV, "svc-a's sign-offs")
    _reports(root, folders)
    honest = gate(root, "svc-a")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(root, "svc-a").returncode == 0
    assert gate(root, "svc-b").returncode == 1  # (no sign-off for svc-b)
    _svc_b_claims_svc_a_folder(root)
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "leads into project svc-a's directory services/svc-a/" in claimed.stdout, \
        claimed.stdout[-3000:]


def test_a_submodule_working_elsewhere_is_refused_with_its_own_reason(tmp_path: Path) -> None:
    """A checked-out submodule whose own configuration moves its work tree elsewhere
    (core.worktree, the job user's file) cannot be listed safely: the run stops with that
    reason and what to do, not with "repair the repository (git fsck)", which would send the
    release engineer after a repository that is fine."""
    source = tmp_path / "lib"
    source.mkdir()
    git(source, "init", "-q", "-b", "main")
    (source / "lib.py").write_text("VALUE = 1\n")
    commit(source, DEV, "lib")
    root = tmp_path / "mono"
    _superproject(root, CONFIG.format(version="3.0.0"), {"svc-a": "svc-a"})
    (root / "svc-a" / "src").mkdir(parents=True)
    (root / "svc-a" / "src" / "app.py").write_text("NAME = 'svc-a'\n")
    _submodule(root, source, "vendor/lib")
    commit(root, DEV, "svc-a with a vendored library")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    git(root / "vendor" / "lib", "config", "core.worktree", str(elsewhere))
    ran = gate(root, "svc-a")
    said = ran.stdout + ran.stderr
    assert ran.returncode not in (0, 1), said[-3000:]
    assert f"works on {elsewhere}" in said and "core.worktree" in said, said[-3000:]
    assert "git fsck" not in said and "Traceback" not in said, said[-3000:]
