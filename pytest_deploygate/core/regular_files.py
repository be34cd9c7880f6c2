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
import hashlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path

__all__ = ["UnusableFile", "open_regular_file", "read_regular_file", "sha256_of_regular_file"]

_CHUNK = 1024 * 1024


class UnusableFile(Exception):
    """The path is not a regular file, or holds more than the limit; ``reason`` says which
    in words that follow the file's name (``file is 9 bytes, over the 8 byte limit``)."""

    def __init__(self, reason: str, *, over_limit: bool = False) -> None:
        self.reason = reason
        #: True when only the size is wrong (a bigger limit would read it).
        self.over_limit = over_limit
        super().__init__(reason)


def open_regular_file(path: Path, flags: int = os.O_RDONLY, mode: int = 0o666
                      ) -> tuple[int, os.stat_result]:
    """A descriptor of the regular file at ``path`` (opened with ``flags``, never waiting on
    a pipe) and its status, read from the descriptor. The caller closes it.

    Raises :class:`UnusableFile` for a device, pipe or socket, ``IsADirectoryError`` for a
    directory, and ``OSError`` (``FileNotFoundError``...) when the path cannot be opened.
    """
    descriptor = os.open(path, flags | os.O_NONBLOCK | os.O_CLOEXEC, mode)
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(path))
        if not stat.S_ISREG(info.st_mode):
            raise UnusableFile("not a regular file (a device, a pipe or a socket)")
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, info


def read_regular_file(path: Path, limit: int) -> bytes:
    """The bytes of the regular file at ``path`` (at most ``limit`` of them).

    Raises :class:`UnusableFile` for a device, pipe or socket and for a file over the limit
    (also one that grows past it while read), ``IsADirectoryError`` for a directory, and
    ``OSError`` (``FileNotFoundError``...) when the path cannot be opened.
    """
    return b"".join(_chunks(path, limit))


def sha256_of_regular_file(path: Path, limit: int | None = None) -> str:
    """The SHA-256 of the regular file at ``path``, read in pieces (a release artifact may be
    large: it is never held whole). Raises as :func:`read_regular_file` does; without a
    ``limit`` the whole file is hashed, however big, but never more than it held when opened
    (:class:`UnusableFile` if it grew meanwhile)."""
    digest = hashlib.sha256()
    for chunk in _chunks(path, limit):
        digest.update(chunk)
    return digest.hexdigest()


def _chunks(path: Path, limit: int | None) -> Iterator[bytes]:
    # (A generator: the file is opened at the first piece asked for and closed after the
    # last, or when the reader stops early.)
    descriptor, info = open_regular_file(path)
    try:
        # Without a limit, the size at opening is the bound: a regular file that a process
        # keeps extending (a sparse gigabyte per write costs it nothing) never ends.
        bound = info.st_size if limit is None else limit
        if info.st_size > bound:
            raise UnusableFile(f"file is {info.st_size} bytes, over the {limit} byte limit",
                               over_limit=True)
        size = 0
        while size <= bound:
            chunk = os.read(descriptor, min(_CHUNK, bound + 1 - size))
            if not chunk:
                break
            size += len(chunk)
            if size > bound and limit is None:
                raise UnusableFile("file grew while it was read: it must be complete first")
            if size > bound:
                raise UnusableFile(f"file grew past the {limit} byte limit while it was "
                                   "read", over_limit=True)
            yield chunk
    finally:
        os.close(descriptor)
