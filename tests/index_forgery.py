"""Rewrite one entry of a git index by hand, as a job user who can write ``.git/index`` can.

The index (format version 2 or 3) caches, for every tracked path, the blob id git last saw
there and the file's stat data then (ctime, mtime, device, inode, mode, uid, gid, size).
git skips hashing a file whose stat data matches its entry. :func:`forge_stat_data` keeps
the entry's blob id (HEAD's) and writes in the edited file's own stat data, with the
index's SHA-1 trailer recomputed, so ``git diff HEAD`` and ``git status`` see nothing.
"""

from __future__ import annotations

import hashlib
import os
import struct
from pathlib import Path

#: Header: signature, version, entry count. Entry: ten 32-bit stat words, the object id
#: (20 bytes in a SHA-1 repository), 16-bit flags whose low 12 bits are the name length.
_HEADER = struct.Struct(">4sLL")
_STAT_WORDS = struct.Struct(">10L")
_OBJECT_ID_BYTES = 20
_FLAGS_AT = _STAT_WORDS.size + _OBJECT_ID_BYTES
_EXTENDED = 0x4000  # (version 3: two more flag bytes follow)


def forge_stat_data(index: Path, tracked: str, work_file: Path) -> None:
    """Give the entry ``tracked`` (a path from the repository's top) the stat data of
    ``work_file`` as it is now, keeping the entry's blob id. The file's mtime is first put
    in the past, so the index (written now) is newer than it and git does not treat the
    entry as "racily clean" (which would make it hash the file after all)."""
    past = 1_600_000_000
    os.utime(work_file, (past, past))
    info = work_file.stat()
    data = bytearray(index.read_bytes())
    signature, version, count = _HEADER.unpack_from(data, 0)
    assert signature == b"DIRC" and version in (2, 3), f"index version {version}"
    offset = _HEADER.size
    for _ in range(count):
        flags = struct.unpack_from(">H", data, offset + _FLAGS_AT)[0]
        name_at = offset + _FLAGS_AT + 2 + (2 if flags & _EXTENDED else 0)
        length = flags & 0xFFF
        name = bytes(data[name_at:name_at + length])
        if name == tracked.encode():
            mode = _STAT_WORDS.unpack_from(data, offset)[6]  # (the entry's mode stays)
            _STAT_WORDS.pack_into(
                data, offset, int(info.st_ctime), info.st_ctime_ns % 10**9,
                int(info.st_mtime), info.st_mtime_ns % 10**9, info.st_dev & 0xFFFFFFFF,
                info.st_ino & 0xFFFFFFFF, mode, info.st_uid, info.st_gid,
                info.st_size & 0xFFFFFFFF)
            break
        # Entries are padded with 1 to 8 NUL bytes to a multiple of eight.
        offset += (name_at - offset + length + 8) // 8 * 8
    else:
        raise AssertionError(f"{tracked} is not in {index}")
    body = bytes(data[:-20])
    index.write_bytes(body + hashlib.sha1(body).digest())
