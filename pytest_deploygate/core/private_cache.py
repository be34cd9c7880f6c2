"""Where a gate keeps what it remembers between runs: a folder only this user can write.

What a run remembers decides later runs: an imported checklist is read back as the gate's
spec, a schema-valid mark lets a spec skip its schema check. So the folder must be one that
neither the repository (a pull request can commit ``.pytest_cache/...``; pytest's cache and its
``cache_dir`` setting live in, or are chosen by, the checkout) nor another user of the machine
(a predictable name in the shared temp directory can be created first) can fill. It is
``<tmp>/pytest-deploygate-<uid>`` when that is a real directory of this user that no group or
other may write; otherwise a fresh private directory for this process, so nothing planted is
ever read and nothing is remembered.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import os
import shutil
import stat
import tempfile
from pathlib import Path


def written_only_by_me(folder: Path) -> bool:
    """A real directory (not a symlink) of this user that no group or other may write."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:  # no owners to compare: trust nothing
        return False
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (stat.S_ISDIR(info.st_mode) and info.st_uid == getuid()
            and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH))


def private_cache_dir() -> Path:
    """The folder for what runs remember (see the module docstring)."""
    getuid = getattr(os, "getuid", None)
    if getuid is not None:
        # (Never in the repository, wherever TMPDIR points: core/private_temp. The folder
        # is made before it is checked, so a folder in a checklist folder was an
        # uncommitted checklist even when it then went unused.)
        shared = Path(_base()) / f"pytest-deploygate-{getuid()}"
        with contextlib.suppress(OSError):
            shared.mkdir(mode=0o700, exist_ok=True)
        if written_only_by_me(shared) and not _in_a_checkout(shared):
            return shared
    return _fresh_for_this_process()


def _in_a_checkout(folder: Path) -> bool:
    # TMPDIR may point into the build's checkout (CI's "$PROJECT_DIR/tmp"): git would create a
    # committed pytest-deploygate-<uid>/ there as this user's own, so a checkout never counts.
    resolved = folder.resolve()
    return any((parent / ".git").exists() for parent in (resolved, *resolved.parents))


def _base() -> str:
    from pytest_deploygate.core.private_temp import PrivateTempUnavailable, private_temp_base

    try:
        return private_temp_base()
    except PrivateTempUnavailable:
        # (Every temporary folder is inside a repository: tempfile's own, as before; the
        # dirty check then sees it and refuses, failing closed.)
        return tempfile.gettempdir()


@functools.cache
def _fresh_for_this_process() -> Path:
    # mkdtemp: an unpredictable name, mode 0700, created by this call (never someone else's).
    folder = Path(tempfile.mkdtemp(prefix="pytest-deploygate-", dir=_base()))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder
