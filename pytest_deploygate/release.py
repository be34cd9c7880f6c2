"""The release being gated: its content (commit and tree) and version, not HEAD.

Minimal version written by the signing work against the interface in COORDINATION.md; the
release work owns this module and its version wins at merge.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Paths whose commits are sign-off bookkeeping, not part of the release being gated.
_BOOKKEEPING = ".deploygate/"


@dataclass(frozen=True)
class ReleaseIdentity:
    """What is released: the newest commit that changed release content, its tree, version."""

    commit: str | None
    tree: str | None
    version: str | None
    dirty: bool
    problem: str | None  # why there is no commit or tree


def release_identity(root: Path, *, record_dir: Path | None, version: str | None
                     ) -> ReleaseIdentity:
    """The release content of the checkout at ``root`` (sign-off commits do not move it)."""
    code, _ = _git(root, "rev-parse", "--verify", "HEAD")
    if code != 0:
        return ReleaseIdentity(None, None, version, False,
                               f"{root} is not a git checkout with a commit")
    code, out = _git(root, "log", "-n", "500", "--format=%x00%H", "--name-only")
    commit = None
    for block in out.split("\x00") if code == 0 else []:
        lines = [line for line in block.splitlines() if line.strip()]
        if lines and (len(lines) == 1 or any(not f.startswith(_BOOKKEEPING)
                                             for f in lines[1:])):
            commit = lines[0]
            break
    if commit is None:
        return ReleaseIdentity(None, None, version, False,
                               "no commit of release content in the last 500 commits")
    code, tree = _git(root, "rev-parse", f"{commit}^{{tree}}")
    if code != 0:
        return ReleaseIdentity(commit, None, version, False, f"no tree for commit {commit}")
    _, status = _git(root, "status", "--porcelain", "--untracked-files=no")
    ignored = {_BOOKKEEPING}
    if record_dir is not None:
        with contextlib.suppress(ValueError):  # a record dir outside the checkout
            ignored.add(record_dir.resolve().relative_to(root.resolve()).as_posix() + "/")
    dirty = any(not line[3:].startswith(tuple(ignored)) for line in status.splitlines())
    return ReleaseIdentity(commit, tree, version, dirty, None)


def _git(root: Path, *args: str) -> tuple[int, str]:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 128, ""
    return done.returncode, done.stdout.strip()
