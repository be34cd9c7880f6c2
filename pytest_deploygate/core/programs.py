"""The external programs the gate starts, found where the release's files cannot put them.

The plugin and the ``deploygate`` CLI start git, and git starts ssh-keygen or gpg to check a
commit's signature. The job's ``PATH`` is the job's to set and a commit can put an executable
anywhere in the checkout: a committed ``tools/bin/git`` first on PATH rewrote git's answers,
and a sign-off was credited to someone else. So a program is looked up

1. in the system's standard folders (``getconf PATH``: ``/bin:/usr/bin`` on Linux,
   ``/usr/bin:/bin:/usr/sbin:/sbin`` on macOS), which only root writes: a job's PATH cannot
   put anything ahead of them, nor can a folder of another checkout on the same runner;
2. only when it is not there, in the PATH folders that lie outside the checkout (Homebrew's
   gpg in ``/opt/homebrew/bin``, git on NixOS). A relative PATH folder (a place in the current
   folder, the checkout) and a folder that is, or leads through a link, inside the checkout
   being judged or the current folder's repository are never searched.

It is started by that absolute path, and the PATH its children get (git's ssh-keygen, gpg,
a filter) is the same list of folders. A program found nowhere else is refused with one
line, never taken from the checkout.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


def _system_folders() -> tuple[str, ...]:
    confstr = getattr(os, "confstr", None)  # (POSIX only)
    try:
        standard = confstr("CS_PATH") if confstr else None
    except (ValueError, OSError):  # a system without the name
        standard = None
    folders = tuple(f for f in (standard or "").split(os.pathsep) if os.path.isabs(f))
    return folders or ("/usr/bin", "/bin")


#: The system's standard folders for its utilities, searched first (see the module's text).
SYSTEM_FOLDERS: tuple[str, ...] = _system_folders()


class ProgramNotFound(OSError):
    """A program the gate needs is nowhere outside the checkout; the message says what to do.
    (An OSError: every caller already treats a program that cannot start as no answer.)"""


def find_program(name: str, root: Path | None = None) -> str:
    """The absolute path of the program ``name`` for a run about the checkout at ``root``
    (None: the current folder's only); ProgramNotFound when there is none outside it."""
    found = _find(name, SYSTEM_FOLDERS, ())
    if found is None:
        places = checkout_places(root)
        found = _find(name, _job_folders(places), places)
    if found is None:
        raise ProgramNotFound(
            f"{name} was not found in the system folders ({os.pathsep.join(SYSTEM_FOLDERS)}) "
            "or in a PATH folder outside the checkout (folders in the checkout, and relative "
            f"ones, are never searched: the release's files must not choose the {name} that "
            f"judges them); install {name} on the runner")
    return found


def program_path(root: Path | None = None) -> str:
    """The PATH for a program the gate starts (the folders find_program searches), so that
    what it starts in turn is not the checkout's either."""
    return os.pathsep.join((*SYSTEM_FOLDERS, *_job_folders(checkout_places(root))))


def checkout_places(root: Path | None) -> tuple[str, ...]:
    """The folders whose files a commit chooses, resolved: ``root`` and the repository it
    lies in (its nearest folder above holding ``.git``), and the current folder's repository.
    (Not the current folder itself outside a repository: a job started in ``/`` is no
    checkout.)"""
    places: list[str] = []
    if root is not None:
        places.append(os.path.realpath(root))
        places.append(_repository_top(places[0]) or places[0])
    if _has_cwd():
        top = _repository_top(os.path.realpath(os.getcwd()))
        if top:
            places.append(top)
    return tuple(dict.fromkeys(places))


def _has_cwd() -> bool:
    try:
        os.getcwd()
    except OSError:  # the current folder was removed
        return False
    return True


def _repository_top(real: str) -> str | None:
    folder = real
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _job_folders(places: tuple[str, ...]) -> tuple[str, ...]:
    """The job's PATH folders that may be searched after the system's (see the module's text)."""
    folders: list[str] = []
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        # An empty or relative entry names a place in the current folder.
        if not entry or not os.path.isabs(entry) or entry in (*SYSTEM_FOLDERS, *folders):
            continue
        if not _inside_any(os.path.realpath(entry), places):
            folders.append(entry)
    return tuple(folders)


def _find(name: str, folders: tuple[str, ...], places: tuple[str, ...]) -> str | None:
    for folder in folders:
        candidate = os.path.join(folder, name)
        try:
            status = os.stat(candidate)
        except (OSError, ValueError):
            continue
        if not stat.S_ISREG(status.st_mode) or not os.access(candidate, os.X_OK):
            continue
        # A link in a folder outside the checkout that leads into it is the checkout's file.
        # (The system folders are searched with no places: only root writes there, and the
        # link is not resolved at all: git is looked up before every git process.)
        if places and _inside_any(os.path.realpath(candidate), places):
            continue
        return candidate
    return None


def _inside_any(real: str, places: tuple[str, ...]) -> bool:
    return any(real == place or real.startswith(place.rstrip(os.sep) + os.sep)
               for place in places)
