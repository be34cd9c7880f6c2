"""Whether the commit git blame names for a line did add it, proven from hashed objects.

git blame reads the history's trees and blobs from the object store without hashing them:
in a kept workspace a loose object written under the id of an earlier commit's blob (its
bytes plus a new line) makes blame hand a line to that commit, and so to its author. So a
line blame gives to commit C counts only when hashed objects show it: C's commit object,
its trees down to the file blame names, the blob there holding the line's bytes, and for
each parent of C the blob at that path (absent: no line) not holding them. Anything else is
a reason, and the line is not attributed (fail closed).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pytest_deploygate.core.trust_rules import split_git_lines
from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven

#: Tree entry modes that name a blob (a file, an executable, a symlink).
_BLOB_MODES = frozenset((b"100644", b"100755", b"120000", b"100664"))
_TREE_MODE = b"40000"


class LineProver:
    """Proofs for one file's lines over one object reader; each commit's file read once."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._files: dict[tuple[str, str], frozenset[bytes] | None] = {}
        self._parents: dict[str, tuple[str, ...]] = {}

    def problem(self, commit: str, path: str, content: bytes) -> str | None:
        """Why ``commit`` is not proven to have added ``content`` as a line of ``path``
        (from the repository's top); None when it is."""
        try:
            if content not in self._lines(commit, path):
                return f"commit {commit} does not hold this line in {path}"
            for parent in self._parents[commit]:
                if content in self._lines(parent, path):
                    return f"its parent {parent} already holds this line in {path}"
        except ObjectUnproven as exc:
            return str(exc)
        return None

    def _lines(self, commit: str, path: str) -> frozenset[bytes]:
        key = (commit, path)
        if key not in self._files:
            self._files[key] = self._file_lines(commit, path)
        lines = self._files[key]
        return lines if lines is not None else frozenset()

    def _file_lines(self, commit: str, path: str) -> frozenset[bytes] | None:
        tree, parents = _commit_fields(self._reader.read(commit, "commit"), commit)
        self._parents[commit] = parents
        width = len(commit) // 2
        mode, object_id = _TREE_MODE, tree
        for name in path.encode().split(b"/"):
            if mode != _TREE_MODE:
                return None  # (a file where a folder would be: the path is absent)
            entry = _tree_entries(self._reader.read(object_id, "tree"), width, object_id
                                  ).get(name)
            if entry is None:
                return None
            mode, object_id = entry
        if mode not in _BLOB_MODES:
            return None  # (a folder or a submodule at the path: no line of a file)
        return frozenset(split_git_lines(self._reader.read(object_id, "blob")))


def _commit_fields(body: bytes, commit: str) -> tuple[str, tuple[str, ...]]:
    """The tree and the parents a (hashed) commit object names, from its headers."""
    tree = ""
    parents: list[str] = []
    for number, line in enumerate(body.split(b"\n")):
        if not line:
            break  # (end of the headers)
        key, _, value = line.partition(b" ")
        if number == 0 and key == b"tree":
            tree = value.decode("ascii", "replace")
        elif key == b"parent":
            parents.append(value.decode("ascii", "replace"))
    if len(tree) != len(commit):
        raise ObjectUnproven(f"commit {commit} names no tree git could read")
    return tree, tuple(parents)


def _tree_entries(data: bytes, width: int, tree: str) -> dict[bytes, tuple[bytes, str]]:
    """Name -> (mode, id) of a (hashed) tree object: ``<mode> <name>\\0<id bytes>`` each."""
    entries: dict[bytes, tuple[bytes, str]] = {}
    position = 0
    while position < len(data):
        space = data.find(b" ", position)
        nul = data.find(b"\0", space + 1)
        if space < 0 or nul < 0 or nul + 1 + width > len(data):
            raise ObjectUnproven(f"tree {tree} is not a tree git wrote")
        entries[data[space + 1:nul]] = (data[position:space], data[nul + 1:nul + 1 + width].hex())
        position = nul + 1 + width
    return entries
