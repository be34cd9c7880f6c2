"""Writing a gate's outcome back into state.json, safely under concurrency.

The plugin's own writers serialise on a lock file beside state.json, re-read the state just
before replacing it and start over if it changed since they read it (a writer that does not
take the lock, such as the framework's own hooks, may have replaced it), and replace it
atomically (temp file, fsync, rename). Every other key is kept, in its order.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_deploygate.core.atomic import write_atomic
from pytest_deploygate.core.limits import DEFAULT_EVIDENCE_BYTES
from pytest_deploygate.core.regular_files import UnusableFile, open_regular_file, read_regular_file

MAX_ATTEMPTS = 20


class WriteBackError(Exception):
    """state.json could not be updated; the message says why."""


def update_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the JSON object in ``path`` without losing concurrent updates."""
    lock_path = path.with_name(path.name + ".lock")
    with os.fdopen(_open_lock(lock_path), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for _ in range(MAX_ATTEMPTS):
                raw = _read_state(path)
                data = _load(path, raw)
                change(data)
                indent = _indent_of(raw)
                payload = (json.dumps(data, indent=indent, ensure_ascii=False) + "\n").encode()
                if hashlib.sha256(_read_state(path)).digest() != hashlib.sha256(raw).digest():
                    continue  # someone outside the lock replaced it meanwhile: start over
                write_atomic(path, payload, mode=_mode(path))
                return
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    raise WriteBackError(f"{path} kept changing under us; gave up after {MAX_ATTEMPTS} tries")


def _open_lock(lock_path: Path) -> int:
    # The lock and the state are files of the repository, so either may be a committed link
    # to a device or a named pipe made before the run: refused in words naming the file, never
    # waited on, and a link is never followed (it would create a file outside the project).
    try:
        descriptor, _ = open_regular_file(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW)
    except UnusableFile as exc:
        raise WriteBackError(f"{lock_path}: {exc.reason}: remove it") from None
    except OSError as exc:
        reason = "a link, not a lock file" if exc.errno == errno.ELOOP else exc.strerror
        raise WriteBackError(f"{lock_path}: {reason or exc}: remove it") from None
    return descriptor


def _read_state(path: Path) -> bytes:
    try:
        return read_regular_file(path, DEFAULT_EVIDENCE_BYTES)
    except UnusableFile as exc:
        raise WriteBackError(f"{path}: {exc.reason}, not written") from None


def _load(path: Path, raw: bytes) -> dict[str, Any]:
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise WriteBackError(f"{path}: not valid JSON any more, not written: {exc}") from None
    if not isinstance(data, dict):
        raise WriteBackError(f"{path}: not a JSON object, not written")
    return data


def _indent_of(raw: bytes) -> int | None:
    for line in raw.decode("utf-8", errors="replace").splitlines()[1:3]:
        stripped = line.lstrip(" ")
        if stripped and len(line) != len(stripped):
            return len(line) - len(stripped)
    return 2


def _mode(path: Path) -> int:
    return os.stat(path).st_mode & 0o777
