"""A monorepo project is judged in a folder of its own, by what the repository commits, whatever
state.json says or lacks (rt15a #1, #2).

Which folder a project is judged in (its deploygate.yaml, approvers and sign-offs) was decided
from the states in ``.isdlc/projects/``, which whoever writes state edits or deletes
(bookkeeping, no new release):

- svc-b's state deleted, then svc-a's ``project.path`` naming ``svc-b``: nothing told that
  svc-b/ was another project's, and svc-a was judged (PASS) by svc-b's QA sign-off;
- ``project.path: "."`` moved svc-a, which has svc-a/, to the root, where a root project's
  sign-offs judged it (the root was exempt from every comparison).

Real repositories (developer, security officer, QA lead, attacker committing under their own
names), judged by ``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict`` in
subprocesses, as tests/test_monorepo_release_content.py builds them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from test_monorepo_definition_names_links_folders import services
from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    DEV,
    EVE,
    JUNIT,
    SAM,
    commit,
    gate,
    git,
    monorepo,
    prop,
    verdict,
)

from conftest import INNER_ARGS

__all__ = ["monorepo", "services"]  # (the fixtures, imported to be used here)


def _state(root: Path, pid: str, path: str | None) -> None:
    state = root / ".isdlc" / "projects" / pid / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    project = {"name": pid} if path is None else {"name": pid, "path": path}
    state.write_text(json.dumps({"project": project, "phases": {}}))


def _sign(root: Path, folder: str, criterion: str, signer: str, role: str) -> None:
    """As test_monorepo_release_content.sign, for any folder (the root: ".")."""
    at = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    line = json.dumps({"gate": 12, "criterion": criterion, "signer": signer, "role": role,
                       "at": at})
    with (root / folder / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    commit(root, signer, f"{folder}: {criterion}")


def _root_project(root: Path, signed: bool) -> None:
    """svc-d: a state and no folder, so it is gated at the root, with the root's own
    approvers and sign-off log; signed by security and QA when ``signed``."""
    _state(root, "svc-d", None)
    (root / ".deploygate").mkdir()
    (root / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (root / ".deploygate" / "attestations.jsonl").write_text("")
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "unit.xml").write_text(JUNIT)
    commit(root, DEV, "svc-d at the root")
    if signed:
        _sign(root, ".", "security-sign-off", SAM, "security-officer")
        _sign(root, ".", "qa-sign-off", ANA, "qa-lead")


def _assert_refused(root: Path, project: str, line: str) -> None:
    result = gate(root, project)
    # Before: judged in another project's folder, or the root, by its sign-offs: PASS.
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout + result.stderr, result.stdout[-3000:]
    assert prop(root, project, "decision") != "PASS"
    refused = verdict(root, project)
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr


def test_a_deleted_state_does_not_free_a_projects_own_folder(monorepo: Path) -> None:
    # svc-a has svc-a/ and only the security sign-off; svc-b/ has QA's too.
    assert gate(monorepo, "svc-a").returncode == 1
    git(monorepo, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(monorepo, "svc-a", "svc-b")
    commit(monorepo, EVE, "bookkeeping")
    _assert_refused(monorepo, "svc-a", "svc-a/state.json: project.path 'svc-b' leads into "
                    "project svc-b's directory svc-b/ (it holds its own sign-off folder "
                    ".deploygate/)")


def test_a_project_with_a_folder_is_not_moved_to_a_folder_of_nobodys(monorepo: Path) -> None:
    # shared/: a folder of nobody in particular (no config, no sign-offs of its own), where
    # the root's deploygate.yaml would judge svc-a instead of svc-a's own.
    (monorepo / "shared").mkdir()
    (monorepo / "shared" / "tools.py").write_text("HELP = 'shared tooling'\n")
    commit(monorepo, EVE, "shared tooling")
    _state(monorepo, "svc-a", "shared")
    commit(monorepo, EVE, "bookkeeping")
    _assert_refused(monorepo, "svc-a", "svc-a/state.json: project.path 'shared' names another "
                    "folder, but project svc-a has a folder of its own, svc-a/")


def test_a_project_without_a_folder_cannot_take_one_whose_state_was_deleted(
        monorepo: Path) -> None:
    # svc-d (at the root, unsigned) points at svc-b/ once svc-b's state is gone: svc-b/, which
    # holds its own deploygate.yaml and sign-offs, is svc-b's by what the repository commits.
    _root_project(monorepo, signed=False)
    assert gate(monorepo, "svc-d").returncode == 1  # (honest: judged at the root, unsigned)
    git(monorepo, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(monorepo, "svc-d", "svc-b")
    commit(monorepo, EVE, "bookkeeping")
    _assert_refused(monorepo, "svc-d", "svc-d/state.json: project.path 'svc-b' leads into "
                    "project svc-b's directory svc-b/ (it holds its own sign-off folder "
                    ".deploygate/)")


def test_a_deleted_state_does_not_free_a_folder_named_by_project_path(services: Path) -> None:
    # svc-a in services/a, svc-b in services/b (each by its state's project.path).
    assert gate(services, "svc-a").returncode == 1
    git(services, "rm", "-q", "-r", ".isdlc/projects/svc-b", who=EVE)
    _state(services, "svc-a", "services/b")
    commit(services, EVE, "bookkeeping")
    _assert_refused(services, "svc-a", "svc-a/state.json: project.path 'services/b' leads "
                    "into project svc-b's directory services/b/ (it holds its own sign-off "
                    "folder .deploygate/; its deploygate.yaml names project svc-b)")


def test_project_path_dot_does_not_move_a_project_out_of_its_folder(monorepo: Path) -> None:
    _root_project(monorepo, signed=True)
    assert gate(monorepo, "svc-d").returncode == 0  # (honest: the root project, signed)
    assert verdict(monorepo, "svc-d").returncode == 0
    assert gate(monorepo, "svc-a").returncode == 1
    _state(monorepo, "svc-a", ".")
    commit(monorepo, EVE, "bookkeeping")
    _assert_refused(monorepo, "svc-a", "svc-a/state.json: project.path '.' names the "
                    "repository root, but project svc-a has a folder of its own, svc-a/")
    # The root project is not refused for it: its folder is the root by what is committed.
    assert gate(monorepo, "svc-d").returncode == 0


@pytest.mark.parametrize("path", [".", None])
def test_a_project_whose_state_drops_its_folder_is_not_judged_at_the_root(
        services: Path, path: str | None) -> None:
    # svc-a's folder services/a is named only by its state: with "." (or no project.path)
    # it lands at the root, with the root project's sign-offs.
    _root_project(services, signed=True)
    assert gate(services, "svc-a").returncode == 1
    _state(services, "svc-a", path)
    commit(services, EVE, "bookkeeping")
    where = "no project.path and no folder svc-a/" if path is None else "project.path '.'"
    _assert_refused(services, "svc-a", f"svc-a/state.json: {where}, so it would be judged "
                    "in the repository root, but project svc-a has a folder of its own, "
                    "services/a/ (it holds its own sign-off folder .deploygate/; its "
                    "deploygate.yaml names project svc-a)")


def test_honest_layouts_are_not_refused(monorepo: Path) -> None:
    # A root project beside projects in their folders, a project.path naming the project's
    # own folder, and a folder of a project moved with its state in one commit.
    _root_project(monorepo, signed=True)
    _state(monorepo, "svc-b", "svc-b/")
    commit(monorepo, DEV, "svc-b: state names its folder")
    for pid in ("svc-d", "svc-b"):
        assert gate(monorepo, pid).returncode == 0, gate(monorepo, pid).stdout[-3000:]
        assert verdict(monorepo, pid).returncode == 0
    (monorepo / "services").mkdir()
    shutil.move(monorepo / "svc-b", monorepo / "services" / "svc-b")
    _state(monorepo, "svc-b", "services/svc-b")
    commit(monorepo, DEV, "svc-b: moved to services/svc-b")
    result = gate(monorepo, "svc-b")
    # A new release (its files moved): judged in its new folder, its sign-offs given again.
    assert result.returncode == 1, result.stdout[-3000:]
    assert "state.json:" not in result.stdout + result.stderr
    for criterion, signer, role in (("security-sign-off", SAM, "security-officer"),
                                    ("qa-sign-off", ANA, "qa-lead")):
        _sign(monorepo, "services/svc-b", criterion, signer, role)
    assert gate(monorepo, "svc-b").returncode == 0
    assert verdict(monorepo, "svc-b").returncode == 0
    result = gate(monorepo, "svc-d")  # (a new release of the root's content: unsigned)
    assert result.returncode == 1, result.stdout[-3000:]
    assert "state.json:" not in result.stdout + result.stderr


def test_all_projects_at_once(monorepo: Path) -> None:
    # --gate-project=all: each is judged in its own folder, the root project at the root.
    _root_project(monorepo, signed=True)
    result = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12",
                             "--gate-project=all"], cwd=monorepo, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 1, result.stdout[-3000:]  # (svc-a, svc-c unsigned by QA)
    assert "state.json:" not in result.stdout + result.stderr
    assert prop(monorepo, "svc-b", "decision") == "PASS"
    assert prop(monorepo, "svc-d", "decision") == "PASS"
