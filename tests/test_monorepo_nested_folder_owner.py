"""A monorepo project in a nested folder is judged only in a folder the repository commits as
its own, at any depth (rt16a A02).

Projects in ``services/svc-a``, ``services/svc-b`` and ``services/svc-c``, each placed by its
state's ``project.path``: only top-level folders were bound to a project by what HEAD commits,
so a bookkeeping commit swapping svc-a's and svc-b's ``project.path`` had svc-a (no QA
sign-off) judged in ``services/svc-b``, by svc-b's config and sign-offs: PASS, and verdict 0.
A folder holding its own committed ``deploygate.yaml`` or ``.deploygate/`` is now the
project's its committed deploygate.yaml names (``project:``), else the one named like it.

Real repositories (developer, security officer, QA lead, attacker committing under their own
names), judged by ``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict`` in
subprocesses.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_monorepo_definition_names_links_folders import services
from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    CONFIG,
    DEV,
    EVE,
    JUNIT,
    PROJECTS,
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

__all__ = ["services"]  # (the fixture, imported to be used here)


def _state(root: Path, pid: str, path: str) -> None:
    state = root / ".isdlc" / "projects" / pid / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"project": {"name": pid, "path": path}, "phases": {}}))


@pytest.fixture
def nested(tmp_path: Path) -> Path:
    """svc-a, svc-b and svc-c in services/<id>, named by their states' project.path; svc-a and
    svc-b have a deploygate.yaml of their own, svc-c is judged by the root's. Security signed
    all three; QA only svc-b. svc-b's tests hold a fixture project folder of their own."""
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    for pid in PROJECTS:
        _state(root, pid, f"services/{pid}")
        folder = root / "services" / pid
        (folder / "src").mkdir(parents=True)
        (folder / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        if pid != "svc-c":
            (folder / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0"))
        (folder / ".deploygate").mkdir()
        (folder / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (folder / ".deploygate" / "attestations.jsonl").write_text("")
        (folder / "reports").mkdir()
        (folder / "reports" / "unit.xml").write_text(JUNIT)
    fixture = root / "services" / "svc-b" / "tests" / "fixtures" / "demo"
    (fixture / ".deploygate").mkdir(parents=True)
    (fixture / "deploygate.yaml").write_text("version: 0.0.1\n")
    (fixture / ".deploygate" / "attestations.jsonl").write_text("")
    commit(root, DEV, "three services")
    for pid in PROJECTS:
        sign(root, f"services/{pid}", "security-sign-off", SAM, "security-officer")
    sign(root, "services/svc-b", "qa-sign-off", ANA, "qa-lead")
    return root


def _assert_refused(root: Path, project: str, line: str) -> None:
    result = gate(root, project)
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout + result.stderr, result.stdout[-3000:]
    assert prop(root, project, "decision") != "PASS"
    refused = verdict(root, project)
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr


def test_an_honest_nested_monorepo_is_judged_in_its_folders(nested: Path) -> None:
    # Each project in its own nested folder (svc-b's holding a fixture of its tests).
    result = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12",
                             "--gate-project=all"], cwd=nested, capture_output=True,
                            text=True, check=False)
    assert result.returncode == 1, result.stdout[-3000:]  # (svc-a, svc-c: no QA sign-off)
    assert "state.json:" not in result.stdout + result.stderr
    assert prop(nested, "svc-b", "decision") == "PASS"
    assert verdict(nested, "svc-b").returncode == 0
    for pid in ("svc-a", "svc-c"):
        assert prop(nested, pid, "decision") == "FAIL"
    sign(nested, "services/svc-a", "qa-sign-off", ANA, "qa-lead")
    assert gate(nested, "svc-a").returncode == 0
    assert verdict(nested, "svc-a").returncode == 0


def test_swapped_project_paths_do_not_judge_a_project_by_anothers_sign_offs(
        nested: Path) -> None:
    assert gate(nested, "svc-a").returncode == 1  # QA has not signed svc-a: FAIL
    # A bookkeeping commit (no new release): svc-a's and svc-b's project.path swapped.
    _state(nested, "svc-a", "services/svc-b")
    _state(nested, "svc-b", "services/svc-a")
    commit(nested, EVE, "bookkeeping: project paths")
    # Before: svc-a judged in services/svc-b, by svc-b's QA sign-off: PASS, verdict 0.
    _assert_refused(nested, "svc-a", "svc-a/state.json: project.path 'services/svc-b' leads "
                    "into project svc-b's directory services/svc-b/ (it holds its own "
                    "sign-off folder .deploygate/); a project's files must be its own")
    _assert_refused(nested, "svc-b", "svc-b/state.json: project.path 'services/svc-a' leads "
                    "into project svc-a's directory services/svc-a/")


@pytest.mark.parametrize(("path", "relation", "named"), [
    ("services/svc-b/src", "leads into", "project svc-b's directory services/svc-b/"),
    ("services", "holds", "project svc-a's directory services/svc-a/ (it holds its own "
     "sign-off folder .deploygate/)"),
    ("services/svc-b/tests", "leads into",
     "project svc-b's directory services/svc-b/"),
])
def test_a_folder_inside_or_around_another_projects_committed_folder_is_refused(
        nested: Path, path: str, relation: str, named: str) -> None:
    # svc-c's state (its own folder untouched) points inside or around the others' folders,
    # whose states are deleted: only what the repository commits tells whose they are.
    _state(nested, "svc-c", path)
    git(nested, "rm", "-q", "-r", ".isdlc/projects/svc-a", ".isdlc/projects/svc-b", who=EVE)
    commit(nested, EVE, "bookkeeping")
    _assert_refused(nested, "svc-c", f"svc-c/state.json: project.path {path!r} {relation} "
                    f"{named}")


def test_a_project_without_its_own_config_cannot_take_a_folder_by_dropping_its_own(
        nested: Path) -> None:
    # fx15e's narrower attack: svc-c (no deploygate.yaml of its own) deletes its own
    # .deploygate/ (so no committed folder is left unclaimed) and svc-b's state, and points
    # its project.path at services/svc-b: nothing bound that folder to svc-b.
    assert gate(nested, "svc-c").returncode == 1
    git(nested, "rm", "-q", "-r", "services/svc-c/.deploygate", ".isdlc/projects/svc-b",
        who=EVE)
    _state(nested, "svc-c", "services/svc-b")
    commit(nested, EVE, "bookkeeping")
    _assert_refused(nested, "svc-c", "svc-c/state.json: project.path 'services/svc-b' leads "
                    "into project svc-b's directory services/svc-b/")


def test_a_project_is_not_moved_out_of_its_nested_folder(nested: Path) -> None:
    # A root project (signed) beside them; svc-a's state moves it to the root while svc-c's
    # keeps services/svc-a claimed, so no committed folder is left without a state.
    (nested / ".deploygate").mkdir()
    (nested / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (nested / ".deploygate" / "attestations.jsonl").write_text("")
    (nested / "reports").mkdir()
    (nested / "reports" / "unit.xml").write_text(JUNIT)
    _state(nested, "svc-d", ".")
    commit(nested, DEV, "svc-d at the root")
    sign(nested, ".", "security-sign-off", SAM, "security-officer")
    sign(nested, ".", "qa-sign-off", ANA, "qa-lead")
    assert gate(nested, "svc-d").returncode == 0
    _state(nested, "svc-a", ".")
    _state(nested, "svc-c", "services/svc-a/src")
    commit(nested, EVE, "bookkeeping")
    _assert_refused(nested, "svc-a", "svc-a/state.json: project.path '.', so it would be "
                    "judged in the repository root, but project svc-a has a folder of its "
                    "own, services/svc-a/ (it holds its own sign-off folder .deploygate/)")


def test_a_folder_named_by_its_committed_config_is_bound_to_that_project(
        services: Path) -> None:
    # services/a and services/b name their projects in their committed deploygate.yaml.
    assert gate(services, "svc-b").returncode == 0
    assert gate(services, "svc-a").returncode == 1
    _state(services, "svc-a", "services/b")
    _state(services, "svc-b", "services/a")
    commit(services, EVE, "bookkeeping: project paths")
    _assert_refused(services, "svc-a", "svc-a/state.json: project.path 'services/b' leads "
                    "into project svc-b's directory services/b/ (it holds its own sign-off "
                    "folder .deploygate/; its deploygate.yaml names project svc-b)")


def test_a_nested_folder_not_named_like_its_project_must_name_it(services: Path) -> None:
    # Without project: in its deploygate.yaml, services/a is project a's by its name: svc-a is
    # refused there with the line that says what to add (a commit to its config: a new
    # release, signed again).
    config = services / "services" / "a" / "deploygate.yaml"
    config.write_text(config.read_text().replace("project: svc-a\n", ""))
    commit(services, DEV, "svc-a: config")
    _assert_refused(services, "svc-a", "svc-a/state.json: project.path 'services/a' leads "
                    "into project a's directory services/a/ (it holds its own sign-off "
                    "folder .deploygate/); a project's files must be its own and no other "
                    "project's: give each project its own folder, beside the others "
                    "(project.path in its state.json; a folder with its own deploygate.yaml, "
                    ".deploygate/ or sign-off files is the project's its deploygate.yaml "
                    "names with project:, else the one named like the folder)")
