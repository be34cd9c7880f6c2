# ruff: noqa: F811  (the fixtures come from test_release_identity)
"""Uncommitted changes git is told not to look at still make the release dirty.

The developer controls the work tree and the index flags of the checkout: ``git update-index
--skip-worktree`` or ``--assume-unchanged`` on a tracked file hides its local changes from
``git status`` and ``git diff``, and repository settings (``core.ignoreStat``,
``core.checkStat``, ``core.trustctime``) make git trust stale stat data. The CI step's
``GIT_*`` variables (GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE) can point git at another,
clean checkout. None of them may make a changed work tree a clean release. Real repositories
(examples/release_repo.py) gated through pytester, bound by ``deploygate verdict``.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest
from index_forgery import forge_stat_data
from test_release_identity import (  # noqa: F401  (fixtures: a real release repository)
    built,
    gate,
    git,
    release,
    verdict,
)

from conftest import GateProject

CHANGED = "CHANGELOG.md"


def change(project: GateProject, relative: str = CHANGED) -> None:
    path = project.root / relative
    path.write_text(path.read_text() + "- a change nobody reviewed\n")


def pre_record_dirty(project: GateProject) -> str:
    gate(project, "--gate-stage=pre")
    return project.record("GATE-12-pre").properties["deploygate.dirty"]


@pytest.mark.parametrize("flag", ["--skip-worktree", "--assume-unchanged"])
def test_a_change_hidden_by_an_index_flag_is_uncommitted(release: GateProject, flag: str
                                                         ) -> None:
    change(release)
    git(release, "update-index", flag, CHANGED)
    assert git(release, "status", "--porcelain") == "", "git itself is fooled"
    assert pre_record_dirty(release) == "true"
    done = verdict(release, "gate-records/GATE-12-pre.xml")
    assert done.returncode == 4
    assert f"uncommitted changes to release content ({CHANGED})" in done.stderr


def test_a_file_removed_behind_skip_worktree_is_uncommitted(release: GateProject) -> None:
    git(release, "update-index", "--skip-worktree", CHANGED)
    (release.root / CHANGED).unlink()
    assert pre_record_dirty(release) == "true"


def test_a_flagged_file_with_its_committed_content_is_clean(release: GateProject) -> None:
    git(release, "update-index", "--skip-worktree", CHANGED)
    git(release, "update-index", "--assume-unchanged", "pyproject.toml")
    assert pre_record_dirty(release) == "false"


def test_repository_settings_that_trust_stale_stat_data_do_not_hide_a_change(
        release: GateProject) -> None:
    # checkStat and trustctime make a same-size edit that keeps its old mtime look untouched.
    git(release, "config", "core.checkStat", "minimal")
    git(release, "config", "core.trustctime", "false")
    path = release.root / CHANGED
    # An index that remembers the file's stat data, not racily (its entry older than it).
    past = time.time() - 100
    os.utime(path, (past, past))
    git(release, "update-index", "--refresh")
    time.sleep(1.1)  # (the edit's ctime is a later second than the one remembered)
    text = path.read_bytes()
    path.write_bytes(text[:-2] + (b"X" if text[-2:-1] != b"X" else b"Y") + text[-1:])
    os.utime(path, (past, past))
    assert git(release, "status", "--porcelain") == "", "git itself is fooled"
    assert pre_record_dirty(release) == "true"


def test_git_variables_of_the_step_cannot_point_at_a_clean_checkout(
        release: GateProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clean = tmp_path / "clean"
    shutil.copytree(release.root, clean, symlinks=True)
    # The project is dirty and its tag is gone; the clean copy keeps both.
    change(release)
    git(release, "tag", "-d", "v1.4.0")
    monkeypatch.setenv("GIT_DIR", str(clean / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(clean))
    monkeypatch.setenv("GIT_INDEX_FILE", str(clean / ".git" / "index"))
    monkeypatch.setenv("GIT_OBJECT_DIRECTORY", str(clean / ".git" / "objects"))
    gate(release)
    record = release.record()
    assert record.properties["deploygate.dirty"] == "true"
    assert record.outcomes()["version-tagged"] == "failure"
    assert "no tag" in record.case("version-tagged")["message"]


def test_an_edit_behind_forged_index_stat_data_is_uncommitted(release: GateProject) -> None:
    # The index is the job user's file: its CHANGELOG.md entry keeps HEAD's blob id and is
    # given the edited file's own stat data, so git trusts it and never hashes the file.
    change(release)
    forge_stat_data(release.root / ".git" / "index", CHANGED, release.root / CHANGED)
    assert git(release, "diff", "HEAD", "--name-only") == "", "git itself is fooled"
    assert git(release, "status", "--porcelain") == "", "git itself is fooled"
    assert pre_record_dirty(release) == "true"
    done = verdict(release, "gate-records/GATE-12-pre.xml")
    assert done.returncode == 4
    assert f"uncommitted changes to release content ({CHANGED})" in done.stderr
    # The job's index is read, never written: the forged entry is still there.
    assert git(release, "diff", "HEAD", "--name-only") == ""


def test_a_change_only_staged_is_uncommitted(release: GateProject) -> None:
    # A new file added to the index (git ls-files lists it: packagers ship what it lists)
    # and a file removed from it are changes of the release as git diff HEAD saw them.
    (release.root / "NOTES.md").write_text("staged, never committed\n")
    git(release, "add", "NOTES.md")
    git(release, "rm", "-q", "--cached", "pyproject.toml")
    (release.root / "TODO.md").write_text("intended, never committed\n")
    git(release, "add", "--intent-to-add", "TODO.md")
    assert pre_record_dirty(release) == "true"
    done = verdict(release, "gate-records/GATE-12-pre.xml")
    assert done.returncode == 4
    assert all(name in done.stderr for name in ("NOTES.md", "pyproject.toml", "TODO.md"))


def test_an_untouched_work_tree_with_a_fresh_index_is_clean(release: GateProject) -> None:
    # Every file hashed (the scratch index holds no stat data) is no change: an honest
    # checkout, its index rewritten with new stat data for every file, stays clean.
    for name in git(release, "ls-files").splitlines():
        os.utime(release.root / name)
    git(release, "update-index", "--really-refresh")
    assert pre_record_dirty(release) == "false"


def test_no_clean_filter_of_the_job_runs_and_a_committed_file_under_one_is_clean(
        release: GateProject, tmp_path: Path) -> None:
    # Every file is hashed now, so each one under a filter attribute would start the clean
    # command of the job's own .git/config, a program of the job user's: none may run.
    ran = tmp_path / "ran"
    git(release, "config", "filter.spy.clean", f"touch {ran}; cat")
    git(release, "config", "filter.spy.required", "true")
    (release.root / ".git" / "info" / "attributes").write_text(f"{CHANGED} filter=spy\n")
    assert pre_record_dirty(release) == "false"
    assert verdict(release, "gate-records/GATE-12-pre.xml").returncode == 0
    assert not ran.exists()
