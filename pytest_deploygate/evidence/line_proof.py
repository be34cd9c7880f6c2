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

from collections.abc import Mapping

from pytest_deploygate.core.trust_rules import split_git_lines
from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven
from pytest_deploygate.evidence.tree_objects import commit_fields, tree_entries

#: Tree entry modes that name a blob (a file, an executable, a symlink).
_BLOB_MODES = frozenset((b"100644", b"100755", b"120000"))
_TREE_MODE = b"40000"


def unproven_lines(files: CommitFiles, claims: Mapping[int, tuple[str, str, bytes]]
                   ) -> dict[int, str]:
    """Line number -> why hashed objects (read through ``files``) do not show that its
    commit added it, for each claim (line number -> commit, path from the repository's top,
    the line's bytes) that is not proven. (That the line lived on from that commit to HEAD
    is line_survival's proof.) Each commit's file and each parent's is read once, for all its lines,
    and not kept afterwards (a long log's history is never held in memory)."""
    groups: dict[tuple[str, str], dict[int, bytes]] = {}
    for number, (commit, path, content) in claims.items():
        groups.setdefault((commit, path), {})[number] = content
    walker = files
    problems: dict[int, str] = {}
    for (commit, path), lines in groups.items():
        try:
            held, parents = walker.file_lines(commit, path)
            for number, content in lines.items():
                if content not in held:
                    problems[number] = f"commit {commit} does not hold this line in {path}"
            for parent in parents:
                in_parent, _ = walker.file_lines(parent, path)
                for number, content in lines.items():
                    if number not in problems and content in in_parent:
                        problems[number] = (f"its parent {parent} already holds this line "
                                            f"in {path}")
        except ObjectUnproven as exc:
            problems.update(dict.fromkeys(lines, str(exc)))
    return problems


class CommitFiles:
    """Commits and paths read through one reader; commits' headers and the one tree entry
    each walk needs are kept (small), blobs are not."""

    def __init__(self, reader: ObjectReader) -> None:
        self._reader = reader
        self._commits: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._entries: dict[tuple[str, bytes], tuple[bytes, str] | None] = {}

    def file_lines(self, commit: str, path: str) -> tuple[frozenset[bytes], tuple[str, ...]]:
        """The lines of ``path`` at ``commit`` (none when absent) and the commit's parents."""
        blob, parents = self.blob_at(commit, path)
        if blob is None:
            return frozenset(), parents
        return frozenset(split_git_lines(self._reader.read(blob, "blob"))), parents

    def blob_at(self, commit: str, path: str) -> tuple[str | None, tuple[str, ...]]:
        """The id of the blob at ``path`` in ``commit`` (None: no file there) and the
        commit's parents, both from hashed objects (the blob itself is not read)."""
        fields = self._commits.get(commit)
        if fields is None:
            fields = self._commits[commit] = commit_fields(
                self._reader.read(commit, "commit"), commit)
        tree, parents = fields
        width = len(commit) // 2
        mode, object_id = _TREE_MODE, tree
        for name in path.encode().split(b"/"):
            if mode != _TREE_MODE:
                return None, parents  # (a file where a folder would be: absent)
            key = (object_id, name)
            if key not in self._entries:
                entries = tree_entries(self._reader.read(object_id, "tree"), width, object_id)
                self._entries[key] = entries.get(name)
            entry = self._entries[key]
            if entry is None:
                return None, parents
            mode, object_id = entry
        if mode not in _BLOB_MODES:
            return None, parents  # (a folder or a submodule at the path: no line)
        return object_id, parents

    def read_blob(self, blob: str) -> bytes:
        """A blob's bytes, hashed (ObjectUnproven otherwise)."""
        return self._reader.read(blob, "blob")
