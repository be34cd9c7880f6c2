"""What checking a committed blob out writes, decided by git's built-in conversions only.

A file whose bytes are not the committed blob's may still be committed content: git's
checkout converts line endings (``text``, ``eol``, ``core.autocrlf``), expands ``$Id$``
(``ident``) and re-encodes (``working-tree-encoding``). ``git cat-file --filters`` applies
those, and also the smudge (or ``process``) command of every ``filter`` driver that the
repository's configuration defines. That configuration (``.git/config`` and whatever it
includes) and the attributes choosing the driver (``.git/info/attributes``,
``core.attributesFile``, an untracked ``.gitattributes``) are the job user's files: a driver
``cat EDITED-FILE`` "checked out" any local edit, so a never-reviewed approvers file was as
committed. So every driver is switched off here: what counts is the blob's bytes plus git's
built-in conversions, each a fixed function of the reviewed bytes.

Git LFS is the one filter honest release repositories use: its blob is a pointer naming the
content by SHA-256, so a work-tree file holding exactly that content is the reviewed content,
checked without running git-lfs (or anything the configuration names).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from pathlib import Path

from pytest_deploygate.evidence.git import git_command, git_environment

#: A Git LFS pointer (spec v1): the version line, optional ``ext-`` lines, the object's
#: SHA-256 and its size, keys sorted, each line ending in LF.
_LFS_POINTER = re.compile(
    rb"version https://git-lfs\.github\.com/spec/v1\n"
    rb"(?:ext-[0-9]-[a-z0-9]+ [^\n]*\n)*"
    rb"oid sha256:(?P<oid>[0-9a-f]{64})\n"
    rb"size (?P<size>0|[1-9][0-9]{0,18})\n")


class FilterDrivers:
    """The filter drivers the configuration at one root defines, read from git once (on
    first need) however many files are then compared: a ``git config`` process per file
    compared was most of the cost. Made by the caller for one comparison of a tree's files
    and dropped with it, never kept by the module: a later run reads the configuration
    afresh."""

    def __init__(self, root: Path) -> None:
        self._root = root
        self._names: list[str] | None = None
        self._read = False

    def names(self) -> list[str] | None:
        """The drivers' names (None when git cannot say)."""
        if not self._read:
            self._names, self._read = _filter_drivers(self._root), True
        return self._names


def as_checked_out(root: Path, git_path: str, object_id: str, work: bytes | None, *,
                   lfs: bool = False, drivers: FilterDrivers | None = None) -> bool:
    """Whether ``work`` (a work-tree file's bytes) is what checking out blob ``object_id``
    at ``git_path`` (from the repository's top) writes with every filter driver off; with
    ``lfs``, also the content a Git LFS pointer blob names. False when git cannot say.

    ``drivers``: the configuration's filter drivers at ``root`` as the caller has them read
    for all the files it compares (read here, for this file alone, without it)."""
    if work is None:
        return False
    names = (drivers if drivers is not None else FilterDrivers(root)).names()
    if names is None:
        return False
    # Set through GIT_CONFIG_COUNT (command-line scope, over every configuration file), not
    # ``-c``, which splits at the first "=": a driver's name may hold one.
    off = [(f"filter.{name}.{key}", value) for name in names
           for key, value in (("smudge", ""), ("process", ""), ("required", "false"))]
    extra = {"GIT_CONFIG_COUNT": str(len(off))}
    for index, (key, value) in enumerate(off):
        extra[f"GIT_CONFIG_KEY_{index}"] = key
        extra[f"GIT_CONFIG_VALUE_{index}"] = value
    try:
        done = subprocess.run(
            git_command(root, ("--no-optional-locks", "cat-file", "--filters",
                               f"--path={git_path}", object_id)),
            capture_output=True, timeout=60, check=False, env=git_environment(root, extra))
    except (OSError, subprocess.TimeoutExpired):
        return False
    if done.returncode != 0:
        return False
    if work == done.stdout:
        return True
    return lfs and _is_lfs_content(done.stdout, work)


def _filter_drivers(root: Path) -> list[str] | None:
    """The names of the filter drivers the configuration git reads at ``root`` defines (its
    includes too); None when git cannot say."""
    try:
        done = subprocess.run(
            git_command(root, ("--no-optional-locks", "config", "-z", "--get-regexp",
                               r"^filter\..*\.")),
            capture_output=True, timeout=60, check=False, env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode == 1 and not done.stdout:
        return []  # (no driver at all)
    if done.returncode != 0:
        return None
    names: dict[str, None] = {}
    for entry in done.stdout.split(b"\0"):
        key = entry.partition(b"\n")[0].decode("utf-8", "surrogateescape")
        # filter.<name>.<key>: the name is everything between the first and the last dot.
        if key.count(".") >= 2:
            names[key[key.index(".") + 1:key.rindex(".")]] = None
    return list(names)


def _is_lfs_content(pointer: bytes, work: bytes) -> bool:
    """Whether ``work`` is the object the Git LFS pointer ``pointer`` names."""
    found = _LFS_POINTER.fullmatch(pointer)
    return found is not None and len(work) == int(found["size"]) and \
        hashlib.sha256(work).hexdigest() == found["oid"].decode()
