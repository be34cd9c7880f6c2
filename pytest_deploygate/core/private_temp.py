"""The gate's private temporary folders, never inside a git repository.

The dirty check's scratch index, the throwaway repository that says what checkout writes,
the controlled git home (its gitconfig) and the key folder of a signature check are made with
``tempfile``, which follows TMPDIR: an environment variable the job sets. Pointed into the
release repository's work tree, the gate's own folders appeared there while it ran (an honest
run pointing it at its checklist folder was refused as uncommitted work) and sat in files
the job's git reads; pointed into ``.git``, beside the objects and configuration git trusts.

So the folder TMPDIR names is used only when neither it nor any folder above it is a git work
tree (holds a ``.git``) or a git directory; otherwise the system's own temporary folder is.
When that is inside a repository too, there is none: PrivateTempUnavailable says so in one
line (callers fail closed).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: The system's temporary folders, in the order Python's tempfile tries them after TMPDIR.
_SYSTEM = ("/tmp", "/var/tmp", "/usr/tmp")


class PrivateTempUnavailable(OSError):
    """No temporary folder outside every git repository can be had."""


def private_temp_base() -> str:
    """A folder for the gate's temporary folders: tempfile's own choice (TMPDIR), unless it
    lies inside a git repository's work tree or git directory, then the first system one that
    does not. PrivateTempUnavailable when there is none."""
    for candidate in (tempfile.gettempdir(), *_SYSTEM):
        try:
            resolved = Path(candidate).resolve(strict=True)
        except (OSError, RuntimeError):
            continue
        if resolved.is_dir() and os.access(resolved, os.W_OK | os.X_OK) and \
                not _inside_a_repository(resolved):
            return str(resolved)
    raise PrivateTempUnavailable(
        f"no temporary folder outside a git repository: TMPDIR ({tempfile.gettempdir()}) and "
        f"{', '.join(_SYSTEM)} are inside one or unusable; point TMPDIR at a folder outside "
        "the repository")


def private_temporary_directory(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """``tempfile.TemporaryDirectory`` in :func:`private_temp_base`."""
    return tempfile.TemporaryDirectory(prefix=prefix, dir=private_temp_base())


def private_mkdtemp(prefix: str) -> str:
    """``tempfile.mkdtemp`` in :func:`private_temp_base`."""
    return tempfile.mkdtemp(prefix=prefix, dir=private_temp_base())


def _inside_a_repository(folder: Path) -> bool:
    """Whether ``folder`` (resolved) or a folder above it is a git work tree (holds ``.git``,
    a folder or a gitfile) or a git directory (a ``.git`` folder, a bare repository, a linked
    work tree's or submodule's folder under ``.git``)."""
    for place in (folder, *folder.parents):
        if place.name == ".git" or os.path.lexists(place / ".git"):
            return True
        if os.path.isfile(place / "HEAD") and (os.path.isdir(place / "objects") or
                                               os.path.isfile(place / "commondir")):
            return True
    return False
