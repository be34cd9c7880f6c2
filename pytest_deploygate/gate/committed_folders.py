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

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.evidence.git import git_command, git_environment

#: The files that make a folder a project's own (deploygate.yaml, or .deploygate/<anything>).
CONFIG_NAME = "deploygate.yaml"
BOOKKEEPING_NAME = ".deploygate"


def committed_project_folders(root: Path) -> dict[str, str]:
    """Each folder under ``root`` (relative, posix, never the root itself) whose HEAD holds a
    deploygate.yaml or a file in .deploygate/, with what it holds ("its own deploygate.yaml",
    "its own sign-off folder .deploygate/"). Empty outside git or before the first commit:
    nothing is committed there to learn from (and no release can be bound there).

    A StateError (one line: what failed, what to do) when HEAD is a commit and git cannot
    list it (a missing or corrupt object, git not runnable): an empty answer there said "no
    project folder is committed", and a project's state could lead into another's folder."""
    listing = _run(root, ("ls-tree", "-r", "-z", "--name-only", "HEAD"))
    if isinstance(listing, str) or listing.returncode != 0:
        # Outside git, or HEAD no commit yet: nothing committed, as the release identity says
        # (a second process, on failure only: the listing's own failure cannot tell these
        # from a damaged repository).
        head = _run(root, ("rev-parse", "--verify", "-q", "HEAD"))
        if not isinstance(head, str) and head.returncode != 0:
            return {}
        why = listing if isinstance(listing, str) else _first_line(listing.stderr)
        raise StateError(f"{root}: git could not list the files HEAD commits ({why}), so "
                         "which folders are projects' own cannot be told; repair the "
                         "repository (git fsck names what is missing or corrupt) and run "
                         "again")
    folders: dict[str, str] = {}
    for raw in listing.stdout.split(b"\0"):
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


def _run(root: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess[bytes] | str:
    """git ``args`` at ``root``, or why it could not be run."""
    try:
        return subprocess.run(git_command(root, args), capture_output=True, timeout=60,
                              check=False, env=git_environment(root))
    except subprocess.TimeoutExpired:
        return f"git {args[0]} took over 60 seconds"
    except OSError as exc:
        return f"git could not be run: {exc.strerror or exc}"


def _first_line(stderr: bytes) -> str:
    """git's own first line of complaint, past its hints and warnings (or that it gave none)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    said = [line for line in lines if not line.startswith(("hint:", "warning:"))]
    return (said or lines or ["no message"])[0]
