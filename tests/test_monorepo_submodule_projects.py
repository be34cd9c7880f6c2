"""A monorepo whose project folders are submodules, each its own repository.

HEAD's listing of the monorepo never looks inside a gitlink, so no submodule folder counted
as a project's own: with svc-a's state deleted, svc-b's project.path could name
services/svc-a and svc-b was judged by svc-a's QA sign-off, PASS and verdict 0 (rt17b A05,
the shape rt15a #1 had for plain folders). A submodule whose pinned commit holds a
deploygate.yaml or .deploygate/ at its top is a project's own folder, as a plain folder
holding them is. Real repositories, sign-offs committed by their signers in each submodule.
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


def _sign(repository: Path, criterion: str, signer: str, role: str) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with (repository / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(json.dumps({"gate": 12, "criterion": criterion, "signer": signer,
                                 "role": role, "at": at}) + "\n")
    commit(repository, signer, criterion)


def _monorepo(tmp_path: Path) -> Path:
    sources = tmp_path / "sources"
    for pid in ("svc-a", "svc-b"):
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
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    for pid in ("svc-a", "svc-b"):
        state = root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": pid, "path": f"services/{pid}"},
                                     "phases": {}}))
        git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q",
            str(sources / pid), f"services/{pid}")
    commit(root, DEV, "two services as submodules")
    for pid in ("svc-a", "svc-b"):
        _sign(root / "services" / pid, "security-sign-off", SAM, "security-officer")
    _sign(root / "services" / "svc-a", "qa-sign-off", ANA, "qa-lead")
    commit(root, DEV, "the services' sign-offs")
    for pid in ("svc-a", "svc-b"):
        reports = root / "services" / pid / "reports"
        reports.mkdir()
        (reports / "unit.xml").write_text(JUNIT)
    return root


def test_a_submodule_project_folder_cannot_be_claimed_by_another_project(
        tmp_path: Path) -> None:
    root = _monorepo(tmp_path)
    assert gate(root, "svc-a").returncode == 0  # (security and QA signed svc-a)
    assert gate(root, "svc-b").returncode == 1  # (no QA sign-off for svc-b)
    shutil.rmtree(root / ".isdlc" / "projects" / "svc-a")
    (root / ".isdlc" / "projects" / "svc-b" / "state.json").write_text(json.dumps(
        {"project": {"name": "svc-b", "path": "services/svc-a"}, "phases": {}}))
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "project.path 'services/svc-a' leads into project svc-a's directory " \
        "services/svc-a/ (it holds its own sign-off folder .deploygate/ (in its submodule))" \
        in claimed.stdout, claimed.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4


def test_project_folders_inside_one_submodule_cannot_be_claimed(tmp_path: Path) -> None:
    """rt17c A04: services/ as ONE submodule holding svc-a/ and svc-b/: only the pinned
    commit's top was listed, so neither folder was marked, and with svc-a's state deleted
    svc-b was judged by svc-a's QA sign-off (PASS, verdict 0)."""
    services = tmp_path / "services-source"
    git_dir_made = False
    for pid in ("svc-a", "svc-b"):
        folder = services / pid
        (folder / "src").mkdir(parents=True)
        if not git_dir_made:
            git(services, "init", "-q", "-b", "main")
            git_dir_made = True
        (folder / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        (folder / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
        (folder / ".deploygate").mkdir()
        (folder / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (folder / ".deploygate" / "attestations.jsonl").write_text("")
    (services / ".gitignore").write_text("reports/\n")
    commit(services, DEV, "the services")
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    for pid in ("svc-a", "svc-b"):
        state = root / ".isdlc" / "projects" / pid / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": pid, "path": f"services/{pid}"},
                                     "phases": {}}))
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(services),
        "services")
    commit(root, DEV, "the services as one submodule")
    module = root / "services"
    for pid in ("svc-a", "svc-b"):
        _sign(module / pid, "security-sign-off", SAM, "security-officer")
    _sign(module / "svc-a", "qa-sign-off", ANA, "qa-lead")
    commit(root, DEV, "the services' sign-offs")
    for pid in ("svc-a", "svc-b"):
        (module / pid / "reports").mkdir()
        (module / pid / "reports" / "unit.xml").write_text(JUNIT)
    assert gate(root, "svc-b").returncode == 1  # (no QA sign-off for svc-b)
    shutil.rmtree(root / ".isdlc" / "projects" / "svc-a")
    (root / ".isdlc" / "projects" / "svc-b" / "state.json").write_text(json.dumps(
        {"project": {"name": "svc-b", "path": "services/svc-a"}, "phases": {}}))
    claimed = gate(root, "svc-b")
    assert claimed.returncode not in (0, 1), claimed.stdout[-3000:]
    assert "leads into project svc-a's directory services/svc-a/" in claimed.stdout, \
        claimed.stdout[-3000:]
    assert verdict(root, "svc-b").returncode == 4
