"""The object id of a git tree from ``git ls-tree -z`` entries, computed as git computes it.

What ``git mktree`` would print for the same entries, without a git process (and without
writing the object: the release identity only names the tree). Git sorts a tree's entries by
name, a subtree's name compared as if it ended in ``/``; the object is ``tree <size>\\0``
followed by ``<mode> <name>\\0<raw object id>`` per entry, the mode without leading zeros,
hashed with the repository's object format.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

#: One ``ls-tree`` entry: ``<mode> SP <type> SP <object id> TAB <name>``.
_ENTRY = re.compile(r"([0-7]{6}) (blob|tree|commit) ([0-9a-f]{40}|[0-9a-f]{64})\t(.+)", re.S)
_ID_LENGTH = {"sha1": 40, "sha256": 64}


def tree_id(entries: Iterable[str], object_format: str) -> str | None:
    """The id of the tree holding ``entries`` (``ls-tree -z`` lines, decoded as UTF-8 with
    surrogate escapes); None for anything this does not know to hash exactly as git does
    (then git is asked)."""
    length = _ID_LENGTH.get(object_format)
    if length is None:
        return None
    parsed: list[tuple[bytes, bytes]] = []
    for entry in entries:
        match = _ENTRY.fullmatch(entry)
        if match is None or len(match.group(3)) != length or "/" in match.group(4):
            return None
        mode, kind, object_id, name = match.groups()
        raw_name = name.encode("utf-8", "surrogateescape")
        if b"\0" in raw_name or (kind == "tree") != (mode == "040000"):
            return None
        sort_key = raw_name + (b"/" if kind == "tree" else b"")
        parsed.append((sort_key, mode.lstrip("0").encode() + b" " + raw_name + b"\0"
                       + bytes.fromhex(object_id)))
    keys = [key for key, _ in parsed]
    if len(set(keys)) != len(keys):
        return None
    body = b"".join(entry for _, entry in sorted(parsed))
    return hashlib.new(object_format, b"tree %d\0" % len(body) + body).hexdigest()
