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


#: A folder of an index: its files (name: mode, id) and its folders (name: folder).
_Folder = tuple[dict[str, tuple[str, str]], dict[str, "_Folder"]]


def index_tree_id(listing: str, object_format: str) -> str | None:
    """The id of the root tree an index of these ``git ls-files -s -z`` entries (every
    path of the index, from the repository's top) writes, computed from the entries alone;
    None for anything this does not know to hash exactly (a conflict stage, a malformed
    entry: never equal to a commit's tree, so a caller fails closed).

    Why not trust git's own answer: ``git read-tree <commit>`` checks the hash of the commit
    and of its root tree, but fills the index from every subtree object without hashing it,
    and primes the index's cache-tree with the ids it read, so ``write-tree`` then answers
    the commit's tree whatever the subtree objects said. A loose object overwritten under a
    reviewed subtree's id, listing an edited file's blob, made an edit compare committed
    (rt17c A01, A02). These entries hashed up to the commit's (checked) tree id prove each
    entry is the commit's."""
    length = _ID_LENGTH.get(object_format)
    if length is None:
        return None
    root: _Folder = ({}, {})
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, tab, path = entry.partition("\t")
        fields = meta.split(" ")
        if (not tab or len(fields) != 3 or fields[2] != "0" or len(fields[1]) != length
                or not re.fullmatch(r"[0-9a-f]+", fields[1])
                or fields[0] not in ("100644", "100755", "120000", "160000")):
            return None
        *folders, name = path.split("/")
        where = root
        for folder in folders:
            if not folder or folder in where[0]:
                return None
            where = where[1].setdefault(folder, ({}, {}))
        if not name or name in where[0] or name in where[1]:
            return None
        where[0][name] = (fields[0], fields[1])
    return _folder_id(root, object_format)



def _folder_id(folder: _Folder, object_format: str) -> str | None:
    """The tree id of one folder of :func:`index_tree_id` (None: nothing git would write)."""
    files, folders = folder
    entries = [f"{mode} {'commit' if mode == '160000' else 'blob'} {object_id}\t{name}"
               for name, (mode, object_id) in files.items()]
    for name, inner in folders.items():
        if name in files:
            return None
        subtree = _folder_id(inner, object_format)
        if subtree is None:
            return None
        entries.append(f"040000 tree {subtree}\t{name}")
    return tree_id(entries, object_format)
