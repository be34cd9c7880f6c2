"""A commit's trees read through the hashed ObjectReader: the root tree the commit names,
and every entry below it, each tree object hashed before its entries are used.

``git ls-tree`` (and ``<commit>:<path>``) read subtrees from the object store without
hashing them (git checks the commit and the root tree it peels to, no deeper): in a kept
workspace a loose object written under a subtree's id, holding one more entry (a gitlink
beside an untracked clone), was listed as the commit's (rt18b A06). Walking the trees here,
from the hashed commit down, every entry used is the commit's, or the walk raises
ObjectUnproven. Tree objects are git's binary format: ``<mode> <name>\\0<raw id>`` each.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven

#: A subtree's mode, as ``ls-tree`` prints it (the object holds it without the leading 0).
TREE_MODE = "040000"
#: A gitlink's mode (a submodule's pinned commit).
GITLINK_MODE = "160000"

_HEX = frozenset("0123456789abcdef")


class TreeEntry(NamedTuple):
    """One entry of a tree: its path from the walk's start (posix, surrogate-escaped), its
    mode (six digits, as ``ls-tree`` prints it) and the object id it names."""

    path: str
    mode: str
    object_id: str


def commit_root(reader: ObjectReader, commit: str) -> tuple[str, str]:
    """(commit id, its root tree id) for ``commit`` (a full id, or a name such as HEAD),
    from the hashed commit object; ObjectUnproven when it is not there as named."""
    lowered = commit.lower()
    if len(lowered) in (40, 64) and set(lowered) <= _HEX:
        commit_id, body = lowered, reader.read(lowered, "commit")
    else:
        commit_id, body = reader.read_named(commit, "commit")
    tree, _ = commit_fields(body, commit_id)
    return commit_id, tree


def entries(reader: ObjectReader, tree: str) -> list[TreeEntry]:
    """The entries of the (hashed) tree ``tree``, in the tree's order, names alone."""
    return [TreeEntry(name.decode("utf-8", "surrogateescape"),
                      mode.decode("ascii", "replace").zfill(6), object_id)
            for name, (mode, object_id) in tree_entries(reader.read(tree, "tree"),
                                                        len(tree) // 2, tree).items()]


def all_entries(reader: ObjectReader, tree: str) -> Iterator[TreeEntry]:
    """Every file and gitlink below ``tree`` (subtrees walked, not listed), with its path
    from ``tree``, in ``ls-tree -r``'s order (a subtree's files where the subtree stands).
    A stack, not recursion: a tree nested a thousand deep is no traceback."""
    stack: list[tuple[str, Iterator[TreeEntry]]] = [("", iter(entries(reader, tree)))]
    while stack:
        prefix, pending = stack[-1]
        entry = next(pending, None)
        if entry is None:
            stack.pop()
            continue
        path = f"{prefix}{entry.path}"
        if entry.mode == TREE_MODE:
            stack.append((f"{path}/", iter(entries(reader, entry.object_id))))
        else:
            yield TreeEntry(path, entry.mode, entry.object_id)


def commit_fields(body: bytes, commit: str) -> tuple[str, tuple[str, ...]]:
    """The tree and the parents a (hashed) commit object names, from its headers, as git
    reads them: ``tree`` first, then the ``parent`` lines right after it. A ``parent``
    header anywhere else is no parent to git (fsck lets unknown headers pass), so a walk
    that took it followed a history git does not have (rt18c A02): refused."""
    tree = ""
    parents: list[str] = []
    in_parents = True
    for number, line in enumerate(body.split(b"\n")):
        if not line:
            break  # (end of the headers)
        key, _, value = line.partition(b" ")
        if number == 0:
            if key == b"tree":
                tree = value.decode("ascii", "replace")
        elif key == b"parent":
            if not in_parents:
                raise ObjectUnproven(f"commit {commit} has a parent header after its other "
                                     "headers, which git does not read as a parent")
            parents.append(value.decode("ascii", "replace"))
        else:
            in_parents = False
    if len(tree) != len(commit):
        raise ObjectUnproven(f"commit {commit} names no tree git could read")
    return tree, tuple(parents)


def tree_entries(data: bytes, width: int, tree: str) -> dict[bytes, tuple[bytes, str]]:
    """Name -> (mode, id) of a (hashed) tree object: ``<mode> <name>\\0<id bytes>`` each."""
    found: dict[bytes, tuple[bytes, str]] = {}
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        nul = data.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 1 + width > len(data):
            raise ObjectUnproven(f"tree {tree} is not a tree git wrote")
        found[data[space + 1:nul]] = (data[position:space], data[nul + 1:nul + 1 + width].hex())
        position = nul + 1 + width
    return found
