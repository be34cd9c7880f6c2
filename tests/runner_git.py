"""The CI runner's own git, for tests that stand for a runner checking out a release.

The runner's git writes HEAD's reflog in the runner's time and under the runner's name: no
GIT_* variable of the test's environment (a developer's GIT_COMMITTER_DATE, or pytest's own
repository) leaks into it. ``when`` dates its entries as if made then, to stand for a
checkout made hours ago, as the clock cannot be moved.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def runner_env(when: float | None = None) -> dict[str, str]:
    """The runner's environment, its git dated ``when`` (seconds since the epoch) if given."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_AUTHOR_NAME="Runner", GIT_AUTHOR_EMAIL="runner@example.com",
               GIT_COMMITTER_NAME="Runner", GIT_COMMITTER_EMAIL="runner@example.com")
    if when is not None:
        env["GIT_COMMITTER_DATE"] = f"@{int(when)} +0000"
    return env


def runner_git(cwd: Path, *args: str, when: float | None = None) -> str:
    """``git ARGS`` run by the runner in ``cwd``; its output, stripped (a failure raises)."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, env=runner_env(when),
                          capture_output=True, text=True).stdout.strip()
