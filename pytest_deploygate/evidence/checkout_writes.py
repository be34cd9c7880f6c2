"""When a checkout wrote the work tree, by the kernel's clock: the earliest inode change time
of the files it wrote.

A checkout from commit A to commit B writes every file that differs between them (a clone,
or a checkout onto an unborn branch, writes every file of B): it unlinks and creates them, so
their inode change time is when it did. No call the job's user can make sets a change time
back (``touch`` and ``utime`` set it to now); rewriting or editing a file later only moves
it later. So the earliest change time among those files is no earlier than the moment the
checkout began writing, whatever dates the job's git put in the reflog.

Which files differ is asked of git in one process (``diff-tree``). A file of B that is not
in the work tree (deleted since, or outside a sparse checkout) is skipped; submodules
(gitlinks) are skipped, as a checkout does not write them.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.holding import is_commit_id
from pytest_deploygate.evidence.release import Git

#: git's empty tree, by the length of the repository's object ids (SHA-1, SHA-256): what a
#: clone, or a checkout onto an unborn branch, moves from. git knows it without storing it.
_EMPTY_TREE = {40: "4b825dc642cb6eb9a060e54bf8d69288fbee4904",
               64: "6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321"}
#: The file modes a checkout writes: regular files, executables, symbolic links.
_WRITTEN_MODES = frozenset({"100644", "100755", "120000"})
#: Files whose change time is read at most (any of them bounds the checkout: the earliest
#: of more only tolerates more files rewritten after it).
_MAX_FILES = 4096


@value_class(frozen=True)
class Written:
    """The earliest change time of the files a checkout wrote (None when none of them is in
    the work tree), and how many were read; or ``problem`` when git could not say which."""

    at: datetime | None
    files: int = 0
    problem: str = ""


def checkout_written(git: Git, top: Path, left: str, arrived: str) -> Written:
    """When the checkout that moved HEAD from ``left`` (the null id: from nothing) to
    ``arrived`` in the work tree at ``top`` wrote it, from the files that differ."""
    if not is_commit_id(arrived) or not (is_commit_id(left) or set(left) == {"0"}):
        return Written(None, problem=f"the reflog names no commit ({left[:12]}, {arrived[:12]})")
    base = _EMPTY_TREE.get(len(arrived)) if set(left) == {"0"} else left
    if base is None or len(left) != len(arrived):
        return Written(None, problem=f"the reflog names no commit ({left[:12]}, {arrived[:12]})")
    code, out = git("diff-tree", "-r", "-z", "--raw", "--no-renames", "--no-abbrev",
                    "--ignore-submodules=none", "--no-ext-diff", "--no-textconv", base, arrived)
    paths = _written_paths(out) if code == 0 else None
    if paths is None:
        return Written(None, problem=f"git could not compare {left[:12]} with {arrived[:12]} "
                                     f"(exit {code})")
    earliest: int | None = None
    read = 0
    for relative in paths[:_MAX_FILES]:
        try:
            changed = os.lstat(top / relative).st_ctime_ns
        except (OSError, ValueError):
            continue  # (not in the work tree: deleted since, or outside a sparse checkout)
        read += 1
        earliest = changed if earliest is None else min(earliest, changed)
    if earliest is None:
        return Written(None)
    # (As a file's placing time is read: the same conversion, so equal times compare equal.)
    return Written(datetime.fromtimestamp(earliest / 1e9, UTC), read)


def _written_paths(out: str) -> list[str] | None:
    """The paths ``diff-tree -z --raw`` names with a mode a checkout writes on the new side,
    or None when its output is not that."""
    fields = out.split("\0")
    if fields and fields[-1] == "":
        fields.pop()
    if len(fields) % 2:
        return None
    paths = []
    for header, path in zip(fields[::2], fields[1::2], strict=True):
        # ":<old mode> <new mode> <old id> <new id> <status>"
        parts = header.split(" ")
        if len(parts) != 5 or not header.startswith(":") or not path:
            return None
        if parts[1] in _WRITTEN_MODES and parts[4] != "D":
            paths.append(path)
    return paths
