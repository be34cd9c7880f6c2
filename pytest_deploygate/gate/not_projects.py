"""The folders a monorepo's root config says belong to no project of this repository.

A monorepo vendoring a repository that itself uses deploygate (an internal library, or
pytest-deploygate with its examples/acme-api/) commits that repository's deploygate.yaml and
.deploygate/ folders: each marked a project's folder no state names, and every project with
a project.path was refused (rt18a F1). The root's committed deploygate.yaml, a reviewed
file, may list such folders under ``monorepo: not_projects:``: a folder listed there, and
everything inside it, is no project's folder (not marked, and never a project's folder
by its state). Read from the committed file only (the work tree is the job's to edit).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.core.errors import StateError

#: Where the list is, in the root's deploygate.yaml.
SETTING = "monorepo.not_projects"


def not_project_folders(root_config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The folders (relative to the monorepo root, posix, normalised) the root's committed
    deploygate.yaml lists as no project's. A StateError (one line) for a listing that is
    not a list of folders inside the root: which folders are projects' cannot be told."""
    if root_config is None:
        return ()
    section = root_config.get("monorepo")
    if section is None:
        return ()
    listed = section.get("not_projects") if isinstance(section, dict) else None
    if listed is None and isinstance(section, dict):
        return ()
    if not isinstance(listed, list):
        raise StateError(f"deploygate.yaml (the root's, committed): {SETTING} must be a list "
                         "of folders from the root (monorepo: {not_projects: [vendor/lib]}); "
                         "fix it")
    folders = []
    for index, value in enumerate(listed):
        name = posixpath.normpath(value) if isinstance(value, str) and value else ""
        if not name or name.startswith(("/", "../")) or name in (".", "..") or \
                "\\" in name:
            raise StateError(f"deploygate.yaml (the root's, committed): {SETTING}[{index}] "
                             f"{value!r} is no folder inside the monorepo root; name a folder "
                             "from the root (vendor/lib)")
        folders.append(name)
    return tuple(folders)


def listed_in(folder: str, not_projects: tuple[str, ...]) -> str | None:
    """The listed folder ``folder`` (relative, posix) is or lies in, else None."""
    return next((listed for listed in not_projects
                 if folder == listed or folder.startswith(listed + "/")), None)
