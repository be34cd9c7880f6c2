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
from collections.abc import Mapping
from typing import NamedTuple

from pytest_deploygate.gate.committed_folders import CONFIG_NAME, CommittedFolder


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


def folder_owners(committed: Mapping[str, CommittedFolder]) -> dict[str, FolderOwner]:
    """Each committed project folder (relative, posix) with the project it is bound to: the
    ``project:`` of its own committed deploygate.yaml (read by committed_folders from the
    repository and commit holding it: a submodule's pinned commit for a folder in a
    submodule, where the superproject holds no file), else its last path part. A file that
    is not a readable mapping with a text ``project`` names none (and is refused, with its
    line, when a project is judged by it)."""
    return {folder: FolderOwner(found.project or posixpath.basename(folder), found.holds,
                                found.project is not None)
            for folder, found in committed.items()}
