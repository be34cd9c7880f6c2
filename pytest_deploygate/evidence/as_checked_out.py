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


def as_checked_out(root: Path, git_path: str, object_id: str, work: bytes | None, *,
                   lfs: bool = False) -> bool:
    """Whether ``work`` (a work-tree file's bytes) is what checking out blob ``object_id``
    at ``git_path`` (from the repository's top) writes with every filter driver off; with
    ``lfs``, also the content a Git LFS pointer blob names. False when git cannot say."""
    if work is None:
        return False
    extra = drivers_off(root)
    if extra is None:
        return False
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


def drivers_off(root: Path) -> dict[str, str] | None:
    """Environment for a controlled git (git_environment's ``extra``) that switches off every
    filter driver the configuration at ``root`` defines, both ways (``clean`` when git hashes
    a work-tree file, ``smudge`` and ``process`` when it writes one); None when git cannot say
    which drivers there are. A switched-off driver passes the bytes through unchanged."""
    drivers = _filter_drivers(root)
    if drivers is None:
        return None
    # Set through GIT_CONFIG_COUNT (command-line scope, over every configuration file), not
    # ``-c``, which splits at the first "=": a driver's name may hold one.
    off = [(f"filter.{name}.{key}", value) for name in drivers
           for key, value in (("clean", ""), ("smudge", ""), ("process", ""),
                              ("required", "false"))]
    extra = {"GIT_CONFIG_COUNT": str(len(off))}
    for index, (key, value) in enumerate(off):
        extra[f"GIT_CONFIG_KEY_{index}"] = key
        extra[f"GIT_CONFIG_VALUE_{index}"] = value
    return extra


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
