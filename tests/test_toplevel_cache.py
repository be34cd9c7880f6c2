"""The gate asks git for a checkout's top once per repository, and again whenever what git's
discovery depends on changes in between (real repositories, real git)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pytest_deploygate.evidence.release import Git


def _init(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(folder)], check=True)


def _top(folder: Path) -> str:
    code, out = Git(folder)("rev-parse", "--show-toplevel")
    return out.strip("\n") if code == 0 else ""


def test_a_nested_repository_made_in_between_is_seen(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    _init(outer)
    (outer / "reports" / "smoke").mkdir(parents=True)
    assert _top(outer / "reports" / "smoke") == str(outer.resolve())
    assert _top(outer / "reports") == str(outer.resolve())
    _init(outer / "reports")  # a nested clone appears between the folder and the top
    assert _top(outer / "reports" / "smoke") == str((outer / "reports").resolve())
    # The repository replaced by a file pointing elsewhere: asked again, never the old top.
    subprocess.run(["rm", "-rf", str(outer / "reports" / ".git")], check=True)
    assert _top(outer / "reports" / "smoke") == str(outer.resolve())


def test_a_configured_work_tree_is_seen(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    _init(outer)
    other = tmp_path / "elsewhere"
    other.mkdir()
    assert _top(outer) == str(outer.resolve())
    subprocess.run(["git", "-C", str(outer), "config", "core.worktree", str(other)],
                   check=True)
    assert _top(outer) == str(other.resolve())
