"""Writing a gate's outcome back into state.json, safely under concurrency.

The plugin's own writers serialise on a lock file beside state.json, re-read the state just
before replacing it and start over if it changed since they read it (a writer that does not
take the lock, such as the framework's own hooks, may have replaced it), and replace it
atomically (temp file, fsync, rename). Every other key is kept, in its order.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pytest_deploygate.core.atomic import write_atomic

MAX_ATTEMPTS = 20


class WriteBackError(Exception):
    """state.json could not be updated; the message says why."""


def update_json(path: Path, change: Callable[[dict[str, Any]], None]) -> None:
    """Apply ``change`` to the JSON object in ``path`` without losing concurrent updates."""
    lock_path = path.with_name(path.name + ".lock")
    with open(lock_path, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            for _ in range(MAX_ATTEMPTS):
                raw = path.read_bytes()
                data = _load(path, raw)
                change(data)
                indent = _indent_of(raw)
                payload = (json.dumps(data, indent=indent, ensure_ascii=False) + "\n").encode()
                if hashlib.sha256(path.read_bytes()).digest() != hashlib.sha256(raw).digest():
                    continue  # someone outside the lock replaced it meanwhile: start over
                write_atomic(path, payload, mode=_mode(path))
                return
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    raise WriteBackError(f"{path} kept changing under us; gave up after {MAX_ATTEMPTS} tries")


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
