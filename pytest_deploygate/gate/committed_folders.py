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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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
    listing = _run(root, ("ls-tree", "-r", "-z", "HEAD"))
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
    configs: list[str] = []  # (every folder with a committed deploygate.yaml, the root's too)
    paths: list[str] = []
    pinned: dict[str, str] = {}  # (submodule folder -> the commit HEAD pins there)
    for raw in listing.stdout.split(b"\0"):
        meta, tab, name = raw.decode("utf-8", "surrogateescape").partition("\t")
        if not tab:
            continue
        paths.append(name)
        fields = meta.split(" ")
        if len(fields) == 3 and fields[1] == "commit" and name.split("/")[0] != ".isdlc":
            pinned[name] = fields[2]
    for folder, holds in _submodule_projects(root, pinned).items():
        folders.setdefault(folder, holds)
    for path in paths:
        parts = path.split("/")
        if parts[0] == ".isdlc":
            continue  # (the framework's bookkeeping, no project's)
        if BOOKKEEPING_NAME in parts[:-1]:
            at = parts.index(BOOKKEEPING_NAME)
            folder = posixpath.join(*parts[:at]) if at else ""
            what = f"its own sign-off folder {BOOKKEEPING_NAME}/"
        elif parts[-1] == CONFIG_NAME:
            folder = posixpath.join(*parts[:-1]) if len(parts) > 1 else ""
            what = f"its own {CONFIG_NAME}"
            configs.append(folder)
        else:
            continue
        if folder:
            folders.setdefault(folder, what)
    if not configs:
        return folders
    from pytest_deploygate.gate.committed_configs import committed_configs

    read = committed_configs(root, configs)
    _mark_sign_off_files(folders, paths, read)
    projects = {state.parent.name
                for state in (root / ".isdlc" / "projects").glob("*/state.json")}
    for folder in _group_folders(folders, read, projects):
        del folders[folder]
    return folders


def _submodule_projects(root: Path, pinned: Mapping[str, str]) -> dict[str, str]:
    """The folders inside submodules whose pinned commit holds a deploygate.yaml or
    .deploygate/ there (the submodule's own top, or a folder of it): a project's own folder,
    as a folder holding them is. HEAD's listing never looks inside a gitlink, so a monorepo
    of submodule projects (or one submodule holding the project folders) had no folder
    marked, and with one state deleted another project's project.path led into it, judged
    by its sign-offs (rt17b A05, rt17c A04). A submodule not checked out holds no file the
    gate reads; one checked out that git cannot list is a StateError (whose it is cannot be
    told)."""
    found: dict[str, str] = {}
    for folder, commit in pinned.items():
        checkout = root / folder
        if not (checkout / ".git").exists():
            continue
        listed = _run(checkout, ("ls-tree", "-r", "-z", "--name-only", commit))
        if isinstance(listed, str) or listed.returncode != 0:
            why = listed if isinstance(listed, str) else _first_line(listed.stderr)
            raise StateError(f"{root}: git could not list the commit {commit[:12]} that HEAD "
                             f"pins at the submodule {folder}/ ({why}), so whether it holds a "
                             "project's folder cannot be told; check the submodule out again "
                             "(git submodule update --init --force)")
        for raw in listed.stdout.split(b"\0"):
            parts = raw.decode("utf-8", "surrogateescape").split("/") if raw else []
            if BOOKKEEPING_NAME in parts[:-1]:
                inner = parts[:parts.index(BOOKKEEPING_NAME)]
                what = f"its own sign-off folder {BOOKKEEPING_NAME}/ (in its submodule)"
            elif parts and parts[-1] == CONFIG_NAME:
                inner = parts[:-1]
                what = f"its own {CONFIG_NAME} (in its submodule)"
            else:
                continue
            place = posixpath.join(folder, *inner)
            if found.get(place, "").startswith("its own sign-off folder"):
                continue  # (the sign-off folder says more than the config)
            found[place] = what
    return found


#: The settings that place a project's sign-off bookkeeping (relative to its folder).
_SIGN_OFF_SETTINGS = (("attestations", "log"), ("attestations", "approvers"),
                      ("waivers", "file"))


def _mark_sign_off_files(folders: dict[str, str], paths: list[str],
                         configs: dict[str, Mapping[str, Any] | None]) -> None:
    """Mark each folder that holds a committed sign-off file (log, approvers, waivers) where
    the committed deploygate.yaml that configures it (the nearest at or above it) places one
    outside ``.deploygate/``: ``attestations.log: signoffs.jsonl`` left the folder holding
    svc-a's sign-offs unmarked, so with svc-a's state deleted another project's
    project.path could lead into it, judged by svc-a's sign-offs."""
    placed: dict[str, set[str]] = {}
    for folder, data in configs.items():
        for section, key in _SIGN_OFF_SETTINGS:
            part = data.get(section) if data is not None else None
            value = part.get(key) if isinstance(part, dict) else None
            if isinstance(value, str) and value and not value.startswith("/"):
                name = posixpath.normpath(value)
                if not name.startswith((BOOKKEEPING_NAME + "/", "../")) and name != "..":
                    placed.setdefault(folder, set()).add(name)
    if not placed:
        return
    names = {name for chosen in placed.values() for name in chosen}
    for path in paths:
        for name in names:
            if not path.endswith("/" + name):
                continue
            folder = path[:-len(name) - 1]
            if folder in folders and folders[folder] != f"its own {CONFIG_NAME}":
                continue  # (marked already by its sign-off folder)
            nearest = _nearest_config(folder, configs)
            if folder.split("/")[0] == ".isdlc" or nearest is None or \
                    name not in placed.get(nearest, ()):
                continue
            folders[folder] = f"its own sign-off file {name}"


def _nearest_config(folder: str, configs: Mapping[str, object]) -> str | None:
    """The folder of the committed deploygate.yaml nearest at or above ``folder``."""
    current = folder
    while True:
        if current in configs:
            return current
        if not current:
            return None
        current = posixpath.dirname(current)


def _group_folders(folders: Mapping[str, str],
                   configs: Mapping[str, Mapping[str, Any] | None],
                   projects: set[str]) -> list[str]:
    """The folders that hold a committed deploygate.yaml shared by the project folders below
    them (``services/deploygate.yaml`` configuring ``services/a/`` and ``services/b/``),
    which are no project's folder, as the root's config is not: marked by that file alone
    (no sign-off folder or file of their own, which a project's folder has), naming no
    project with ``project:``, not named like a project that has a state (``projects``),
    and holding another committed project folder. A folder whose committed file cannot be
    read stays a project's (fail closed).

    (Named like a project, it stays that project's: a fixture project folder committed in
    svc-b's tests, svc-b not signed yet, made ``services/svc-b/`` a group, and svc-b could
    be moved out of it, or refused in it for holding the fixture's folder.)"""
    marked = sorted(folders)
    groups = []
    for folder in marked:
        data = configs.get(folder)
        if folders[folder] != f"its own {CONFIG_NAME}" or data is None or \
                "project" in data or posixpath.basename(folder) in projects:
            continue
        if any(other.startswith(folder + "/") for other in marked):
            groups.append(folder)
    return groups


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
