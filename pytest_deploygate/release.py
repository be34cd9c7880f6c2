"""The release being gated: its commit, tree and version.

Minimal version written by the ``verdict`` branch against the interface agreed in
COORDINATION.md (issue 9 owns this module; its version wins at merge). Here the release is
HEAD: its commit, its tree and the project's version.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ReleaseIdentity:
    """What is being released; ``problem`` says why there is no commit when there is none."""

    commit: str | None
    tree: str | None
    version: str | None
    dirty: bool
    problem: str | None


def _git(root: Path, *args: str) -> tuple[int, str]:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 128, str(exc)
    return done.returncode, done.stdout.strip()


def release_identity(root: Path, *, record_dir: Path | None, version: str | None
                     ) -> ReleaseIdentity:
    """The release of the project at ``root`` (``version`` overrides the project's own)."""
    from pytest_deploygate.config import load_config
    from pytest_deploygate.errors import DeployGateError
    from pytest_deploygate.project import _manifest_version

    if version is None:
        try:
            version = load_config(root).version
        except DeployGateError:
            version = None
        version = version or _manifest_version(root)
    code, commit = _git(root, "rev-parse", "--verify", "HEAD^{commit}")
    if code != 0 or not commit:
        return ReleaseIdentity(None, None, version, False,
                               f"{root} is not a git checkout with a commit")
    _, tree = _git(root, "rev-parse", "--verify", "HEAD^{tree}")
    _, status = _git(root, "status", "--porcelain", "--untracked-files=no")
    return ReleaseIdentity(commit, tree or None, version, bool(status), None)
