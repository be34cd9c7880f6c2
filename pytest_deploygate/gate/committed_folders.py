"""The monorepo's project folders as the repository commits them, not as state.json says.

A folder (other than the root) that holds a committed ``deploygate.yaml`` or a committed file
in ``.deploygate/`` (a sign-off log, approvers, waivers) is some project's own folder: its
reviewed config and its sign-offs judge the project whose folder it is. Which projects exist
and where their folders are was learnt from ``.isdlc/projects/*/state.json`` alone, which whoever
writes state can delete or edit: with svc-b's state deleted, svc-a's ``project.path`` could name
``svc-b/`` and svc-a was judged (PASS) by svc-b's sign-offs (rt15a #1).

The files are every file the monorepo commits through its submodules, at any depth, each
read from the repository and commit that hold it (committed_paths), and ONE routine marks
them: a submodule's project folder is a project's as a plain folder is, whether it holds
its config, its .deploygate/ or a sign-off file a config above it places there, and its
``project:`` is read from the submodule's pinned commit (rt17d A01, A04).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from pytest_deploygate.gate.committed_paths import CommittedPath, Holder, committed_paths

#: The files that make a folder a project's own (deploygate.yaml, or .deploygate/<anything>).
CONFIG_NAME = "deploygate.yaml"
BOOKKEEPING_NAME = ".deploygate"

#: What marks a folder, weakest first: a folder marked twice says what says more (its
#: sign-off folder before a placed sign-off file before its config).
_BY_CONFIG, _BY_SIGN_OFF_FILE, _BY_SIGN_OFF_FOLDER = range(3)


class CommittedFolder(NamedTuple):
    """A committed project folder: what makes it one, and the project its committed
    deploygate.yaml names with ``project:`` (read from the repository holding it)."""

    #: "its own deploygate.yaml", "its own sign-off folder .deploygate/ (in its submodule)"...
    holds: str
    #: the text ``project:`` of its own committed deploygate.yaml, else None
    project: str | None


class _Mark(NamedTuple):
    rank: int
    what: str
    holder: Holder


class CommittedLayout(NamedTuple):
    """The committed project folders, and the folders the root's committed config lists as
    no project's (gate/not_projects.py)."""

    folders: dict[str, CommittedFolder]
    not_projects: tuple[str, ...]


def committed_project_folders(root: Path) -> dict[str, CommittedFolder]:
    """committed_layout's project folders."""
    return committed_layout(root).folders


def committed_layout(root: Path) -> CommittedLayout:
    """Each folder under ``root`` (relative, posix, never the root itself) whose committed
    files, through submodules at any depth (committed_paths), hold a deploygate.yaml, a
    file in .deploygate/ or a sign-off file a committed config places there, with what it
    holds and the project its committed deploygate.yaml names. Group folders (a shared
    deploygate.yaml above project folders) are left out. Empty outside git or before the
    first commit: nothing is committed there to learn from (and no release can be bound
    there).

    A StateError (one line: what failed, what to do) when HEAD is a commit and git cannot
    list it or a checked-out submodule's pinned commit (a missing or corrupt object, git not
    runnable): an empty answer there said "no project folder is committed", and a project's
    state could lead into another's folder."""
    paths = committed_paths(root)
    marks: dict[str, _Mark] = {}
    # (each folder with a deploygate.yaml, root's too: the file as its commit names it)
    config_holders: dict[str, CommittedPath] = {}
    for committed in paths:
        path, holder = committed.path, committed.holder
        parts = path.split("/")
        if BOOKKEEPING_NAME in parts[:-1]:
            at = parts.index(BOOKKEEPING_NAME)
            _mark(marks, posixpath.join(*parts[:at]) if at else "",
                  _Mark(_BY_SIGN_OFF_FOLDER, f"its own sign-off folder {BOOKKEEPING_NAME}/",
                        holder))
        elif parts[-1] == CONFIG_NAME:
            folder = posixpath.join(*parts[:-1]) if len(parts) > 1 else ""
            config_holders[folder] = committed
            _mark(marks, folder, _Mark(_BY_CONFIG, f"its own {CONFIG_NAME}", holder))
    if not config_holders:
        return CommittedLayout(_described(marks, {}), ())
    from pytest_deploygate.gate.committed_configs import committed_configs
    from pytest_deploygate.gate.not_projects import listed_in, not_project_folders

    read = committed_configs(root, config_holders)
    _mark_sign_off_files(marks, paths, read)
    # (Before the groups: a vendored repository's folders are not this repository's at all.)
    not_projects = not_project_folders(read.get(""))
    for folder in [folder for folder in marks if listed_in(folder, not_projects)]:
        del marks[folder]
    projects = {state.parent.name
                for state in (root / ".isdlc" / "projects").glob("*/state.json")}
    for folder in _group_folders(marks, read, projects):
        del marks[folder]
    return CommittedLayout(_described(marks, read), not_projects)


def _mark(marks: dict[str, _Mark], folder: str, mark: _Mark) -> None:
    """Mark ``folder`` (never the root, which holds every project by design), keeping the
    mark that says most."""
    if folder and (folder not in marks or marks[folder].rank < mark.rank):
        marks[folder] = mark


def _described(marks: Mapping[str, _Mark],
               configs: Mapping[str, Mapping[str, Any] | None]) -> dict[str, CommittedFolder]:
    """Each marked folder, what it holds (said to be in its submodule when a submodule
    commits it) and the ``project:`` its committed deploygate.yaml names."""
    described = {}
    for folder, mark in marks.items():
        data = configs.get(folder)
        project = data.get("project") if data is not None else None
        where = " (in its submodule)" if mark.holder.is_submodule else ""
        described[folder] = CommittedFolder(
            mark.what + where, project if isinstance(project, str) and project else None)
    return described


#: The settings that place a project's sign-off bookkeeping (relative to its folder).
_SIGN_OFF_SETTINGS = (("attestations", "log"), ("attestations", "approvers"),
                      ("waivers", "file"))


def _mark_sign_off_files(marks: dict[str, _Mark], paths: list[CommittedPath],
                         configs: Mapping[str, Mapping[str, Any] | None]) -> None:
    """Mark each folder that holds a committed sign-off file (log, approvers, waivers) where
    the committed deploygate.yaml that configures it (the nearest at or above it, in any
    repository: the root's config places files inside a submodule too) places one outside
    ``.deploygate/``: ``attestations.log: signoffs.jsonl`` left the folder holding svc-a's
    sign-offs unmarked, so with svc-a's state deleted another project's project.path could
    lead into it, judged by svc-a's sign-offs."""
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
    for path, holder, _ in paths:
        for name in names:
            if not path.endswith("/" + name):
                continue
            folder = path[:-len(name) - 1]
            nearest = _nearest_config(folder, configs)
            if nearest is None or name not in placed.get(nearest, ()):
                continue
            _mark(marks, folder, _Mark(_BY_SIGN_OFF_FILE, f"its own sign-off file {name}",
                                       holder))


def _nearest_config(folder: str, configs: Mapping[str, object]) -> str | None:
    """The folder of the committed deploygate.yaml nearest at or above ``folder``."""
    current = folder
    while True:
        if current in configs:
            return current
        if not current:
            return None
        current = posixpath.dirname(current)


def _group_folders(marks: Mapping[str, _Mark],
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
    marked = sorted(marks)
    groups = []
    for folder in marked:
        data = configs.get(folder)
        if marks[folder].rank != _BY_CONFIG or data is None or \
                "project" in data or posixpath.basename(folder) in projects:
            continue
        if any(other.startswith(folder + "/") for other in marked):
            groups.append(folder)
    return groups
