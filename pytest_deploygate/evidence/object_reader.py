"""Objects read from a repository's store one at a time, each hashed before it is used.

One interactive ``git cat-file --batch`` (request, response) serves every object a check
needs, however many commits it walks: a process per object or per commit would cost a
process start each. git prints what the store holds under an id without hashing it (a loose
object or a pack entry written by the job user in a kept workspace), so every object is
hashed here (object_check.object_is) and a mismatch raises :class:`ObjectUnproven`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Mapping, Sequence
from types import TracebackType

from pytest_deploygate.evidence.object_check import object_is

_HEX = frozenset("0123456789abcdef")


class ObjectUnproven(Exception):
    """The store does not hold, under an id, the object that id names (the message says
    what: missing, another type, other bytes)."""


class ObjectReader:
    """``git cat-file --batch`` kept open; use as a context manager (it stops git)."""

    def __init__(self, command: Sequence[str], env: Mapping[str, str]) -> None:
        self._process = subprocess.Popen(list(command), stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         env=dict(env))

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop git (its stdin closed, it ends on its own)."""
        process = self._process
        for stream in (process.stdin, process.stdout):
            if stream is not None and not stream.closed:
                # (git already gone, outside a repository: a request it never read is
                # still buffered, and closing flushes it into the closed pipe.)
                with contextlib.suppress(OSError):
                    stream.close()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def read(self, object_id: str, kind: str) -> bytes:
        """The bytes of object ``object_id`` (full hex id), proven to be the ``kind``
        (commit, tree, blob) object that id names; ObjectUnproven otherwise."""
        object_id = object_id.lower()
        if len(object_id) not in (40, 64) or not set(object_id) <= _HEX:
            raise ObjectUnproven(f"{object_id!r} is not an object id")
        # (Nothing is kept here: a caller keeps what it parsed, never a history of blobs.)
        found, data = self._ask(object_id)
        return self._proven(object_id, kind, found, data)

    def read_named(self, name: str, kind: str) -> tuple[str, bytes]:
        """The id git resolves ``name`` (``HEAD``) to, and the bytes of that object, proven
        to be the ``kind`` object that id names; ObjectUnproven otherwise. (What a name
        resolves to is the repository's to say; the object under the id is hashed.)"""
        if not name or any(c in name for c in "\n\0 "):
            raise ObjectUnproven(f"{name!r} is not a name git resolves here")
        found, data, object_id = self._ask_named(name)
        return object_id, self._proven(object_id, kind, found, data)

    @staticmethod
    def _proven(object_id: str, kind: str, found: bytes, data: bytes) -> bytes:
        if found != kind.encode():
            raise ObjectUnproven(f"{object_id} is a {found.decode('ascii', 'replace')}, "
                                 f"not a {kind}")
        if not object_is(object_id, found, data):
            raise ObjectUnproven(f"other bytes under {object_id} than that id names (a "
                                 "corrupt or forged object)")
        return data

    def _ask(self, object_id: str) -> tuple[bytes, bytes]:
        found, data, answered = self._ask_named(object_id)
        if answered != object_id:
            raise ObjectUnproven(f"git cat-file gave no answer for {object_id}")
        return found, data

    def _ask_named(self, object_id: str) -> tuple[bytes, bytes, str]:
        """(type, bytes, the id git answered under) for ``object_id`` (an id or a name)."""
        stdin, stdout = self._process.stdin, self._process.stdout
        if stdin is None or stdout is None:
            raise ObjectUnproven("git cat-file is not running")
        try:
            stdin.write(object_id.encode() + b"\n")
            stdin.flush()
            header = stdout.readline()
        except OSError as exc:
            raise ObjectUnproven(f"git cat-file could not answer: {exc}") from None
        parts = header.rstrip(b"\n").split(b" ")
        if len(parts) == 2 and parts[1] == b"missing":
            raise ObjectUnproven(f"no object {object_id}")
        answered = parts[0].decode("ascii", "replace") if parts else ""
        if len(parts) != 3 or len(answered) not in (40, 64) or not set(answered) <= _HEX \
                or not parts[2].isdigit():
            raise ObjectUnproven(f"git cat-file gave no answer for {object_id}")
        size = int(parts[2])
        data = stdout.read(size + 1)
        if len(data) != size + 1:
            raise ObjectUnproven(f"git cat-file ended within {object_id}")
        return parts[1], data[:size], answered
