"""Appending one line to an append-only JSON Lines log (never rewriting existing lines).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def append_line(path: Path, entry: dict[str, Any]) -> int:
    """Append ``entry`` as one compact JSON line; return its line number."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry, ensure_ascii=False, separators=(", ", ": "))
    with open(path, "a+b") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        prefix = b""
        if size:
            handle.seek(size - 1)
            if handle.read(1) != b"\n":
                prefix = b"\n"  # the last line had no newline: never glue onto it
        handle.seek(0, os.SEEK_END)
        handle.write(prefix + line.encode("utf-8") + b"\n")
        handle.flush()
        os.fsync(handle.fileno())
    return len(path.read_bytes().splitlines())
