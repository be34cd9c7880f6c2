"""A monorepo project's gate definition at the root, by every name pytest reads and every link
on the way to it; and its folder, which must be its own.

Three ways a release that FAILs was made to PASS without a new release (rt14c):

- a root ``pytest.toml`` (pytest 9 reads it first) naming an older, laxer spec folder: the
  release content listed pytest's ini files by a hand-kept list without it;
- the root's spec folder replaced by a committed link to that laxer folder: only the link's
  target was release content, never the link;
- svc-a's state.json (bookkeeping, no release) pointing ``project.path`` at svc-b's folder
  when svc-b lives at its own ``project.path``: svc-a was judged by svc-b's sign-offs.

Real repositories (developer, security officer, QA lead, attacker committing under their own
names), judged by ``pytest --gate=12 --gate-project=<id>`` and ``deploygate verdict`` in
subprocesses, as tests/test_monorepo_release_content.py builds them.
"""

from __future__ import annotations

import json
import shutil
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
    case_message,
    commit,
    gate,
    git,
    monorepo,
    prop,
    sign,
    verdict,
)

from pytest_deploygate.cli.project_ini import CONFIG_FILES
from pytest_deploygate.evidence.gate_definition import CONFIG_NAMES

__all__ = ["monorepo"]  # (the fixture, imported to be used here)


def _add_legacy_specs(root: Path, folder: str = "legacy_specs") -> None:
    """An older spec folder without the QA criterion, committed (e.g. the staging gate's):
    not the spec folder, so no release content of any project."""
    (root / folder).mkdir(parents=True)
    (root / folder / "12-production.yaml").write_text(SPEC % "")
    commit(root, DEV, f"{folder}: the old gate")


def _assert_a_new_release_that_does_not_pass(root: Path, project: str,
                                             released: tuple[str, str]) -> None:
    assert prop(root, project, "decision") != "PASS"
    assert (prop(root, project, "commit"), prop(root, project, "tree")) != released
    assert prop(root, project, "commit") == git(root, "rev-parse", "HEAD").strip()
    assert "made on other release content" in case_message(root, project, "security-sign-off")
    assert verdict(root, project).returncode != 0
    assert verdict(root, project, "--commit", released[0]).returncode == 4


def test_the_release_content_binds_every_configuration_file_pytest_reads() -> None:
    # One list for the ini reader and the release content; and it is pytest's own.
    assert set(CONFIG_FILES) <= set(CONFIG_NAMES)
    findpaths = pytest.importorskip("_pytest.config.findpaths")
    pytests_names = getattr(findpaths, "CONFIG_LOADERS_BY_NAME", None)
    if pytests_names is not None:  # (pytest >= 9)
        assert set(pytests_names) <= set(CONFIG_FILES)


@pytest.mark.parametrize("name", ["pytest.toml", ".pytest.toml"])
def test_a_root_pytest_toml_committed_after_the_sign_offs_is_a_new_release(
        monorepo: Path, name: str) -> None:
    _add_legacy_specs(monorepo)
    assert gate(monorepo, "svc-a").returncode == 1  # QA has not signed: FAIL
    released = prop(monorepo, "svc-a", "commit"), prop(monorepo, "svc-a", "tree")
    (monorepo / name).write_text('[pytest]\ndeploygate_specs = "legacy_specs"\n')
    commit(monorepo, EVE, f"pytest: configuration in {name}")
    gate(monorepo, "svc-a")
    # Before: the same release, the security sign-off bound, no QA criterion: PASS, verdict 0.
    _assert_a_new_release_that_does_not_pass(monorepo, "svc-a", released)


def test_a_root_pytest_toml_not_committed_steers_no_gate_run(monorepo: Path) -> None:
    """It was judged as a dirty release; now (rt15b A06) the run stops before it judges:
    an uncommitted configuration file steers the run (its addopts) before any record."""
    _add_legacy_specs(monorepo)
    (monorepo / "pytest.toml").write_text('[pytest]\ndeploygate_specs = "legacy_specs"\n')
    stopped = gate(monorepo, "svc-b")
    assert stopped.returncode == 4, stopped.stdout[-2000:]
    assert f"{monorepo / 'pytest.toml'}, but it is not committed" in stopped.stderr
    assert not (monorepo / "gate-records" / "svc-b" / "GATE-12.xml").exists()
    assert verdict(monorepo, "svc-b").returncode != 0


def _link_spec_folder(root: Path, target: str) -> None:
    git(root, "rm", "-q", "-r", "gate_specs")
    (root / "gate_specs").symlink_to(target)


def test_the_spec_folder_replaced_by_a_committed_link_is_a_new_release(
        monorepo: Path) -> None:
    _add_legacy_specs(monorepo)
    assert gate(monorepo, "svc-a").returncode == 1
    released = prop(monorepo, "svc-a", "commit"), prop(monorepo, "svc-a", "tree")
    _link_spec_folder(monorepo, "legacy_specs")
    commit(monorepo, EVE, "gate_specs: one folder of specs")
    gate(monorepo, "svc-a")
    # Before: only the link's (unchanged) target was bound, so the release stayed: PASS.
    _assert_a_new_release_that_does_not_pass(monorepo, "svc-a", released)
    # Signed again on the linked gate, it is an honest release: it passes and verdict binds.
    sign(monorepo, "svc-a", "security-sign-off", SAM, "security-officer",
         note="reviewed with the gate of legacy_specs")
    result = gate(monorepo, "svc-a")
    assert result.returncode == 0, result.stdout[-3000:]
    assert prop(monorepo, "svc-a", "dirty") == "false"
    checked = verdict(monorepo, "svc-a")
    assert checked.returncode == 0, checked.stderr


def test_the_spec_folder_replaced_by_a_link_not_committed_is_a_dirty_release(
        monorepo: Path) -> None:
    _add_legacy_specs(monorepo)
    shutil.rmtree(monorepo / "gate_specs")
    (monorepo / "gate_specs").symlink_to("legacy_specs")
    gate(monorepo, "svc-b")
    assert prop(monorepo, "svc-b", "dirty") == "true"
    assert verdict(monorepo, "svc-b").returncode == 4


def test_a_link_further_up_the_spec_folders_path_repointed_is_a_new_release(
        monorepo: Path) -> None:
    # The ini names conf/specs; conf is a committed link to conf-v2 (the reviewed specs).
    # Repointed at conf-v1 (the old, laxer ones), the spec folder's files never changed.
    for version, extra in (("conf-v1", ""), ("conf-v2", QA)):
        (monorepo / version / "specs").mkdir(parents=True)
        (monorepo / version / "specs" / "12-production.yaml").write_text(SPEC % extra)
    (monorepo / "conf").symlink_to("conf-v2")
    (monorepo / "pytest.ini").write_text("[pytest]\ndeploygate_specs = conf/specs\n")
    commit(monorepo, DEV, "specs by version")
    sign(monorepo, "svc-a", "security-sign-off", SAM, "security-officer",
         note="reviewed the versioned specs")
    assert gate(monorepo, "svc-a").returncode == 1  # QA has not signed: FAIL
    released = prop(monorepo, "svc-a", "commit"), prop(monorepo, "svc-a", "tree")
    (monorepo / "conf").unlink()
    (monorepo / "conf").symlink_to("conf-v1")
    commit(monorepo, EVE, "conf: back to v1")
    gate(monorepo, "svc-a")
    _assert_a_new_release_that_does_not_pass(monorepo, "svc-a", released)


@pytest.fixture
def services(tmp_path: Path) -> Path:
    """svc-a and svc-b in services/a and services/b, each named by its state's
    project.path (and by ``project:`` in its own committed deploygate.yaml). Both have the
    security officer's sign-off; only svc-b has QA's."""
    root = tmp_path / "mono"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % QA)
    (root / "deploygate.yaml").write_text(CONFIG.format(version="3.0.0"))
    for pid, folder in (("svc-a", "services/a"), ("svc-b", "services/b")):
        _state(root, pid, folder)
        files = root / folder
        (files / "src").mkdir(parents=True)
        (files / "src" / "app.py").write_text(f"NAME = {pid!r}\n")
        # (Not named like its project: its committed deploygate.yaml names it.)
        (files / "deploygate.yaml").write_text(CONFIG.format(version="1.4.0")
                                               + f"project: {pid}\n")
        (files / ".deploygate").mkdir()
        (files / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
        (files / ".deploygate" / "attestations.jsonl").write_text("")
        (files / "reports").mkdir()
        (files / "reports" / "unit.xml").write_text(JUNIT)
    commit(root, DEV, "two services")
    sign(root, "services/a", "security-sign-off", SAM, "security-officer")
    sign(root, "services/b", "security-sign-off", SAM, "security-officer")
    sign(root, "services/b", "qa-sign-off", ANA, "qa-lead")
    return root


def _state(root: Path, pid: str, folder: str) -> None:
    state = root / ".isdlc" / "projects" / pid / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"project": {"name": pid, "path": folder}, "phases": {}}))


@pytest.mark.parametrize(("folder", "relation"), [
    ("services/b", "leads into"),  # svc-b's folder itself: judged by its sign-offs
    ("services/b/src", "leads into"),  # inside it: its deploygate.yaml is the nearest
    ("services", "holds"),  # around it: svc-b's files and sign-offs are svc-a's too
])
def test_a_project_path_that_is_holds_or_lies_in_another_projects_folder_is_refused(
        services: Path, folder: str, relation: str) -> None:
    honest = gate(services, "svc-b")
    assert honest.returncode == 0, honest.stdout[-3000:]
    assert verdict(services, "svc-b").returncode == 0
    assert gate(services, "svc-a").returncode == 1  # QA has not signed svc-a: FAIL
    # svc-a's author edits svc-a's state: bookkeeping, no new release, nobody reviews it.
    _state(services, "svc-a", folder)
    commit(services, DEV, "svc-a: state")
    line = (f"svc-a/state.json: project.path {folder!r} {relation} project svc-b's directory "
            "services/b (project.path of .isdlc/projects/svc-b/state.json); a project's "
            "files must be its own")
    result = gate(services, "svc-a")
    # Before: svc-a judged in services/b, by svc-b's QA sign-off: PASS, and verdict 0.
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert line in result.stdout + result.stderr
    assert prop(services, "svc-a", "decision") != "PASS"
    refused = verdict(services, "svc-a")
    assert refused.returncode == 4, refused.stderr
    assert line in refused.stderr
    # Which state is wrong cannot be told: svc-b is refused too while they overlap, and
    # judged in its folder as before once svc-a's state is put right.
    overlapping = gate(services, "svc-b")
    assert overlapping.returncode not in (0, 1), overlapping.stdout[-3000:]
    assert "svc-b/state.json: project.path 'services/b'" in overlapping.stdout
    _state(services, "svc-a", "services/a")
    commit(services, DEV, "svc-a: state put right")
    assert gate(services, "svc-b").returncode == 0
    assert verdict(services, "svc-b").returncode == 0


def test_verdict_refuses_a_record_once_the_state_moves_the_project(services: Path) -> None:
    # svc-a's honest PASS (both signed), then its state moved into svc-b's folder: verdict
    # reads the folder from the same state, and says why it cannot bind.
    sign(services, "services/a", "qa-sign-off", ANA, "qa-lead")
    assert gate(services, "svc-a").returncode == 0
    assert verdict(services, "svc-a").returncode == 0
    _state(services, "svc-a", "services/b")
    commit(services, DEV, "svc-a: state")
    refused = verdict(services, "svc-a")
    assert refused.returncode == 4, refused.stderr
    assert ("svc-a/state.json: project.path 'services/b' leads into project svc-b's directory"
            in refused.stderr)


def test_another_projects_unreadable_state_is_a_refusal_not_a_blind_spot(
        services: Path) -> None:
    # svc-b's state broken: where its folder is cannot be told, so svc-a's project.path
    # into services/b is not waved through.
    _state(services, "svc-a", "services/b")
    (services / ".isdlc" / "projects" / "svc-b" / "state.json").write_text("{")
    commit(services, EVE, "states")
    result = gate(services, "svc-a")
    assert result.returncode not in (0, 1), result.stdout[-3000:]
    assert "project svc-b's folder cannot be told" in result.stdout + result.stderr
    assert verdict(services, "svc-a").returncode == 4
