"""The monorepo's project folders as the repository commits them, not as state.json says.

A folder (other than the root) that holds a committed ``deploygate.yaml`` or a committed file
in ``.deploygate/`` (a sign-off log, approvers, waivers) is some project's own folder: its
reviewed config and its sign-offs judge the project whose folder it is. Which projects exist
and where their folders are was learnt from ``.isdlc/projects/*/state.json`` alone, which whoever
writes state can delete or edit: with svc-b's state deleted, svc-a's ``project.path`` could name
``svc-b/`` and svc-a was judged (PASS) by svc-b's sign-offs (rt15a #1).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

from pytest_deploygate.evidence.git import git_command, git_environment

#: The files that make a folder a project's own (deploygate.yaml, or .deploygate/<anything>).
CONFIG_NAME = "deploygate.yaml"
BOOKKEEPING_NAME = ".deploygate"


def committed_project_folders(root: Path) -> dict[str, str]:
    """Each folder under ``root`` (relative, posix, never the root itself) whose HEAD holds a
    deploygate.yaml or a file in .deploygate/, with what it holds ("its own deploygate.yaml",
    "its own sign-off folder .deploygate/"). Empty outside git or before the first commit:
    nothing is committed there to learn from (and no release can be bound there)."""
    try:
        result = subprocess.run(git_command(root, ("ls-tree", "-r", "-z", "--name-only",
                                                   "HEAD")),
                                capture_output=True, timeout=60, check=False,
                                env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if result.returncode != 0:
        return {}
    folders: dict[str, str] = {}
    for raw in result.stdout.split(b"\0"):
        path = raw.decode("utf-8", "surrogateescape")
        parts = path.split("/")
        if BOOKKEEPING_NAME in parts[:-1]:
            at = parts.index(BOOKKEEPING_NAME)
            folder = posixpath.join(*parts[:at]) if at else ""
            what = f"its own sign-off folder {BOOKKEEPING_NAME}/"
        elif parts[-1] == CONFIG_NAME:
            folder = posixpath.join(*parts[:-1]) if len(parts) > 1 else ""
            what = f"its own {CONFIG_NAME}"
        else:
            continue
        if folder and parts[0] != ".isdlc":  # (the framework's bookkeeping, no project's)
            folders.setdefault(folder, what)
    return folders
