"""A spec folder kept as a git submodule is release content pinned by its gitlink.

``gate_specs`` as a submodule of an honest monorepo (project svc-b, its sign-offs committed
by their signers): HEAD holds no tree at ``gate_specs``, only the gitlink, so each spec file
read as "not committed": the record said ``dirty=true`` under a PASS and ``deploygate
verdict`` refused the release (exit 4). A spec file in a submodule is committed when it is
the blob of the commit the superproject's gitlink pins; a submodule checked out elsewhere,
edited or holding an untracked spec is still uncommitted release content.

Real repositories (a spec repository, a monorepo with it as a submodule; developer, security
officer and QA lead committing under their own names), judged by ``pytest --gate=12`` and
``deploygate verdict`` in subprocesses.
"""

from __future__ import annotations

import json
import shutil
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
    prop,
    sign,
    verdict,
)

from conftest import INNER_ARGS


def _specs_repository(tmp_path: Path) -> Path:
    specs = tmp_path / "specs-repo"
    specs.mkdir()
    git(specs, "init", "-q", "-b", "main")
    (specs / "12-production.yaml").write_text(SPEC % QA)
    commit(specs, DEV, "gate 12 spec")
    return specs


def _project_files(folder: Path) -> None:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "app.py").write_text("NAME = 'svc-b'\n")
    (folder / ".deploygate").mkdir()
    (folder / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (folder / ".deploygate" / "attestations.jsonl").write_text("")
    (folder / "reports").mkdir()
    (folder / "reports" / "unit.xml").write_text(JUNIT)


def _with_submodule(tmp_path: Path, monorepo: bool) -> Path:
    specs = _specs_repository(tmp_path)
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    git(root, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(specs),
        "gate_specs")
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    if monorepo:
        state = root / ".isdlc" / "projects" / "svc-b" / "state.json"
        state.parent.mkdir(parents=True)
        state.write_text(json.dumps({"project": {"name": "svc-b"}, "phases": {}}))
        _project_files(root / "svc-b")
    else:
        (root / ".isdlc").mkdir()
        (root / ".isdlc" / "state.json").write_text(json.dumps({"phases": {}}))
        _project_files(root)
    commit(root, DEV, "svc-b, its gate specs as a submodule")
    folder = "svc-b" if monorepo else "."
    sign(root, folder, "security-sign-off", SAM, "security-officer")
    sign(root, folder, "qa-sign-off", ANA, "qa-lead")
    return root


@pytest.fixture
def monorepo(tmp_path: Path) -> Path:
    """svc-b in its folder, gate_specs/ a submodule; security and QA signed."""
    return _with_submodule(tmp_path, monorepo=True)


def _single(root: Path) -> tuple[subprocess.CompletedProcess[str],
                                 subprocess.CompletedProcess[str]]:
    ran = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"], cwd=root,
                         capture_output=True, text=True, check=False)
    checked = subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", "verdict",
                              "gate-records/GATE-12.xml"], cwd=root, capture_output=True,
                             text=True, check=False)
    return ran, checked


def test_an_honest_monorepo_with_submodule_specs_passes_and_verdict_agrees(
        monorepo: Path) -> None:
    result = gate(monorepo, "svc-b")
    assert result.returncode == 0, result.stdout[-3000:]
    assert prop(monorepo, "svc-b", "decision") == "PASS"
    assert prop(monorepo, "svc-b", "dirty") == "false"
    checked = verdict(monorepo, "svc-b")
    assert checked.returncode == 0, checked.stderr


def test_an_honest_single_project_with_submodule_specs_passes_and_verdict_agrees(
        tmp_path: Path) -> None:
    root = _with_submodule(tmp_path, monorepo=False)
    ran, checked = _single(root)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert "deploygate.dirty\" value=\"false" in (root / "gate-records" / "GATE-12.xml"
                                                   ).read_text()
    assert checked.returncode == 0, checked.stderr


def _laxer(folder: Path) -> None:
    # (The QA criterion removed: svc-b without QA's sign-off would pass.)
    (folder / "12-production.yaml").write_text(SPEC % "")


@pytest.mark.parametrize("how", ["edited", "removed", "moved", "not checked out"])
def test_submodule_specs_not_at_the_pinned_commit_are_uncommitted(
        monorepo: Path, how: str) -> None:
    module = monorepo / "gate_specs"
    if how == "edited":
        _laxer(module)
    elif how == "removed":  # (the built-in gate 12 judges it instead)
        (module / "12-production.yaml").unlink()
    elif how == "moved":  # a commit in the submodule the superproject does not pin
        _laxer(module)
        commit(module, EVE, "laxer gate")
    else:  # emptied, as a clone without --recurse-submodules leaves it (rt17c A03): the
        # built-in gate 12 judged instead, and an empty gitlink folder counted as clean
        shutil.rmtree(module)
        module.mkdir()
    gate(monorepo, "svc-b")
    assert prop(monorepo, "svc-b", "dirty") == "true"
    refused = verdict(monorepo, "svc-b")
    assert refused.returncode == 4, refused.stderr
    assert "uncommitted changes to release content (gate_specs" in refused.stderr
