"""The committed ``deploygate.yaml`` of given folders, read from the repository and commit
that hold each (the monorepo's HEAD, or a submodule's pinned commit; never the work tree).

Which folders of a monorepo are projects' own, and whose, is decided by what the repository
commits: the ``project:`` a folder's committed deploygate.yaml names (folder_owners), and
the sign-off files the committed configs place in project folders (committed_folders). Both
read the committed bytes, one ``git cat-file --batch`` per repository: the work tree is the
job's to edit.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_deploygate.core.errors import SpecError, StateError
from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
from pytest_deploygate.evidence.git import git_command, git_environment
from pytest_deploygate.evidence.object_check import forged_object, object_is
from pytest_deploygate.gate.committed_paths import CommittedPath, Holder

#: The project config's file name (as committed_folders and evidence/config.py name it).
CONFIG_NAME = "deploygate.yaml"


def committed_configs(root: Path, folders: Mapping[str, CommittedPath]
                      ) -> dict[str, Mapping[str, Any] | None]:
    """Each folder's (relative, posix; "" for ``root`` itself) deploygate.yaml as the
    repository holding that folder commits it (``folders``: folder -> its committed
    deploygate.yaml, from committed_paths' proven listing: the monorepo at HEAD, or a
    submodule at its pinned commit; read by the blob id that listing gives), parsed: a
    mapping, or None when the folder has one that is not a readable mapping (it is refused,
    with its line, where a project is judged by it). Folders without one are left out. One
    ``git cat-file --batch`` per repository; a StateError (one line) when git cannot
    answer."""
    by_holder: dict[Holder, dict[str, str]] = {}
    for folder, committed in folders.items():
        by_holder.setdefault(committed.holder, {})[folder] = committed.object_id
    configs: dict[str, Mapping[str, Any] | None] = {}
    for holder, asked in by_holder.items():
        configs.update(_read(root, holder, dict(sorted(asked.items()))))
    return configs


def _read(root: Path, holder: Holder, asked: Mapping[str, str]
          ) -> dict[str, Mapping[str, Any] | None]:
    """The committed deploygate.yaml of ``asked`` (folder from ``root`` -> the blob id its
    commit names there), all held by ``holder``, in one ``git cat-file --batch``."""
    # By id, not "<commit>:./path": git resolves a path through subtrees it never hashes,
    # so a rewritten subtree object named another blob as the file (rt18b A06); the ids
    # come from committed_paths, which walked the commit's trees hashed. (A path resolved
    # from a subfolder once read every folder's as missing, rt17a A05; ids have no folder.)
    request = b"".join(f"{object_id}\n".encode("ascii", "replace")
                       for object_id in asked.values())
    where = f"{root}" if not holder.is_submodule else \
        f"{root}: the submodule {holder.folder}/ at {holder.commit[:12]}"
    try:
        result = subprocess.run(git_command(holder.checkout, ("cat-file", "--batch")),
                                input=request, capture_output=True, timeout=60, check=False,
                                env=git_environment(holder.checkout))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise StateError(f"{where}: cannot read the committed {CONFIG_NAME} of the project "
                         f"folders (git cat-file: {exc}), so whose each folder is cannot be "
                         "told; make git work in this checkout") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise StateError(f"{where}: cannot read the committed {CONFIG_NAME} of the project "
                         f"folders (git cat-file: {detail[-1] if detail else 'failed'}), so "
                         "whose each folder is cannot be told; make git work in this checkout")
    configs: dict[str, Mapping[str, Any] | None] = {}
    out, at = result.stdout, 0
    for folder, object_id in asked.items():
        shown = f"{folder}/" if folder else "the root"
        end = out.find(b"\n", at)
        if end < 0:
            raise StateError(f"{where}: git cat-file answered too little about the committed "
                             f"{CONFIG_NAME} of {shown}; whose that folder is cannot be told")
        line, at = out[at:end], end + 1
        header = line.split(b" ")  # ("<oid> <type> <size>", then the object and a newline)
        if len(header) != 3 or not header[2].isdigit() \
                or header[0].decode("ascii", "replace") != object_id:
            raise StateError(f"{where}: git cat-file answered {line[:80]!r} about the "
                             f"committed {CONFIG_NAME} of {shown}; whose that folder is "
                             "cannot be told")
        kind, size = header[1], int(header[2])
        blob, at = out[at:at + size], at + size + 1
        if not object_is(header[0], kind, blob):
            pinned = "HEAD" if not holder.is_submodule else \
                f"{holder.commit[:12]}, the commit the submodule {holder.folder}/ pins"
            raise StateError(forged_object(f"{root / folder / CONFIG_NAME} (at {pinned})",
                                           header[0]))
        if kind != b"blob" or size > DEFAULT_DOCUMENT_BYTES:
            configs[folder] = None
            continue
        configs[folder] = _parsed(root / folder / CONFIG_NAME, blob)
    return configs


def _parsed(path: Path, blob: bytes) -> Mapping[str, Any] | None:
    from pytest_deploygate.core.documents import read_yaml_document

    try:
        data = read_yaml_document(path, DEFAULT_DOCUMENT_BYTES, data=blob).data
    except SpecError:
        return None
    return data if isinstance(data, dict) else None
