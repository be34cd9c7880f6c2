"""Reading a file the gate judges: a regular file, and never more than its byte limit.

Checking the size with ``stat`` and then reading the whole path is not enough. A path can be
a symlink committed to the repository that points at ``/dev/zero`` or ``/dev/urandom``
(``stat`` says 0 bytes and the read never ends), or a named pipe (opening it waits for a
writer), and a file can grow between the two calls. So the file is opened once, without
waiting (``O_NONBLOCK``), its kind is checked on the open descriptor, and at most one byte
more than the limit is read.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["UnusableFile", "read_regular_file"]

_CHUNK = 1024 * 1024


class UnusableFile(Exception):
    """The path is not a regular file, or holds more than the limit; ``reason`` says which
    in words that follow the file's name (``file is 9 bytes, over the 8 byte limit``)."""

    def __init__(self, reason: str, *, over_limit: bool = False) -> None:
        self.reason = reason
        #: True when only the size is wrong (a bigger limit would read it).
        self.over_limit = over_limit
        super().__init__(reason)


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit`` of them).

    Raises :class:`UnusableFile` for a device, pipe or socket and for a file over the limit
    (also one that grows past it while read), ``IsADirectoryError`` for a directory, and
    ``OSError`` (``FileNotFoundError``...) when the path cannot be opened.
    """
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(info.st_mode):
            raise UnusableFile("not a regular file (a device, a pipe or a socket)")
        if info.st_size > limit:
            raise UnusableFile(f"file is {info.st_size} bytes, over the {limit} byte limit",
                               over_limit=True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(descriptor, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise UnusableFile(f"file grew past the {limit} byte limit while it was read",
                               over_limit=True)
        return b"".join(chunks)
    finally:
        os.close(descriptor)
