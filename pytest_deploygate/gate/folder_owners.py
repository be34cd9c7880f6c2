"""Whose each committed project folder is, by what the repository commits, at any depth.

A folder holding its own committed ``deploygate.yaml`` or ``.deploygate/`` (committed_folders)
is the project's whose id its committed ``deploygate.yaml`` names (``project: svc-a``), else
the project named like its last path part (``services/svc-a``: svc-a). Only the top level was
bound (``<root>/<id>``); a nested folder was placed by state.json alone, which whoever writes
state edits: two states' ``project.path`` swapped (``services/svc-a`` <-> ``services/svc-b``)
had svc-a judged, and passed, by svc-b's config and QA sign-off (rt16a A02).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import NamedTuple

from pytest_deploygate.gate.committed_folders import CONFIG_NAME

#: The key of deploygate.yaml that names the project whose folder holds it.
PROJECT_KEY = "project"


class FolderOwner(NamedTuple):
    """The project a committed project folder is bound to, and why."""

    project: str
    #: what makes it a project's folder ("its own deploygate.yaml", ...)
    holds: str
    #: bound by its deploygate.yaml's ``project:`` (else by its last path part)
    named: bool

    def describe(self, folder: str) -> str:
        """How a refusal names the folder: ``services/b/ (it holds ...)``."""
        why = f"; its {CONFIG_NAME} names project {self.project}" if self.named else ""
        return f"{folder}/ (it holds {self.holds}{why})"


def folder_owners(root: Path, committed: dict[str, str]) -> dict[str, FolderOwner]:
    """Each committed project folder (relative, posix) with the project it is bound to."""
    named = _named_projects(root, sorted(committed))
    return {folder: FolderOwner(named.get(folder, posixpath.basename(folder)), holds,
                                folder in named)
            for folder, holds in committed.items()}


def _named_projects(root: Path, folders: list[str]) -> dict[str, str]:
    """The ``project:`` each folder's deploygate.yaml at HEAD names (committed bytes, never
    the work tree's, which the job can edit). A file that is not a readable mapping with a
    text ``project`` names none: its folder is bound by its last part (and the file is
    refused, with its line, when a project is judged by it)."""
    from pytest_deploygate.gate.committed_configs import committed_configs

    named: dict[str, str] = {}
    for folder, data in committed_configs(root, folders).items():
        project = data.get(PROJECT_KEY) if data is not None else None
        if isinstance(project, str) and project:
            named[folder] = project
    return named
