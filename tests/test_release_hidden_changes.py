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
