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
import subprocess
from pathlib import Path
from typing import NamedTuple

from pytest_deploygate.core.errors import SpecError, StateError
from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
from pytest_deploygate.evidence.git import git_command, git_environment
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
    asked = [folder for folder in folders if "\n" not in folder]
    if not asked:
        return {}
    request = b"".join(f"HEAD:{folder}/{CONFIG_NAME}\n".encode("utf-8", "surrogateescape")
                       for folder in asked)
    try:
        result = subprocess.run(git_command(root, ("cat-file", "--batch")), input=request,
                                capture_output=True, timeout=60, check=False,
                                env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StateError(f"{root}: cannot read the committed {CONFIG_NAME} of the project "
                         f"folders (git cat-file: {exc}), so whose each folder is cannot be "
                         "told; make git work in this checkout") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StateError(f"{root}: cannot read the committed {CONFIG_NAME} of the project "
                         f"folders (git cat-file: {detail[-1] if detail else 'failed'}), so "
                         "whose each folder is cannot be told; make git work in this checkout")
    named: dict[str, str] = {}
    out, at = result.stdout, 0
    for folder in asked:
        end = out.find(b"\n", at)
        if end < 0:
            raise StateError(f"{root}: git cat-file answered too little about the committed "
                             f"{CONFIG_NAME} of {folder}/; whose that folder is cannot be told")
        line, at = out[at:end], end + 1
        if line.endswith((b" missing", b" ambiguous")):  # (no deploygate.yaml of its own)
            continue
        header = line.split(b" ")  # ("<oid> <type> <size>", then the object and a newline)
        if len(header) != 3 or not header[2].isdigit():
            raise StateError(f"{root}: git cat-file answered {line[:80]!r} about the committed "
                             f"{CONFIG_NAME} of {folder}/; whose that folder is cannot be told")
        kind, size = header[1], int(header[2])
        blob, at = out[at:at + size], at + size + 1
        if kind != b"blob" or size > DEFAULT_DOCUMENT_BYTES:
            continue
        project = _project_of(root / folder / CONFIG_NAME, blob)
        if project is not None:
            named[folder] = project
    return named


def _project_of(path: Path, blob: bytes) -> str | None:
    from pytest_deploygate.core.documents import read_yaml_document

    try:
        data = read_yaml_document(path, DEFAULT_DOCUMENT_BYTES, data=blob).data
    except SpecError:
        return None
    project = data.get(PROJECT_KEY) if isinstance(data, dict) else None
    return project if isinstance(project, str) and project else None
