"""Appending one line to an append-only JSON Lines log (never rewriting existing lines).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from pytest_deploygate.core.regular_files import open_regular_file


def append_line(path: Path, entry: dict[str, Any]) -> int:
    """Append ``entry`` as one compact JSON line; return its line number (as git numbers
    lines, which is how the gate names a sign-off).

    The log must be a regular file: a link to /dev/zero would be written to and then read
    without end, a named pipe would wait for a reader (:class:`UnusableFile`).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": "))
    descriptor, _ = open_regular_file(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    with os.fdopen(descriptor, "r+b", buffering=0) as handle:
        size = handle.seek(0, os.SEEK_END)
        prefix = b""
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                prefix = b"\n"  # the last line had no newline: never glue onto it
        pending = memoryview(prefix + line.encode("utf-8") + b"\n")
        while pending:  # (O_APPEND: at the end; unbuffered, so a short write is resumed)
            pending = pending[handle.write(pending) or 0:]
        os.fsync(handle.fileno())
        handle.seek(0)
        # The file now ends with a newline, so its lines are its newlines (split on "\n"
        # only, as git does: a "\r" inside an earlier line starts no line of its own).
        newlines = 0
        while chunk := handle.read(1024 * 1024):
            newlines += chunk.count(b"\n")
    return newlines
