"""When HEAD last came to point at the commit it names, by the kernel's clock: the latest
inode change time of the files that hold it.

The files a checkout wrote do not date it on their own: a file of the release an earlier run
put in a reused work tree (``git checkout main -- CHANGELOG.md`` while HEAD stayed at an older
commit, or every file of it) is not rewritten by the arriving checkout, and its older change
time made that run's reports "newer than the arrival" (rt15b A01, rt15c A03). What git does
write whenever HEAD moves to another commit is the file that says where HEAD is:
``HEAD`` itself when it is detached (or when it comes to name another branch), or the loose
ref of the branch it names when that branch moves (git writes a changed ref loose, and
replaces it by a rename: a new inode, changed now). A ref that is only in ``packed-refs`` was
packed after its last move (``git pack-refs``/``gc`` rewrites that file then). git rewrites
neither when the commit stays (``reset --hard`` or a detached checkout of the same commit),
and no call of the job's user sets a change time back, so the later of the two change times
is no earlier than the moment HEAD came to its commit, whatever was done before.

A link, or anything but a regular file, where git keeps them, a ``HEAD`` that names neither
a commit id nor a branch, or a ref whose file does not hold HEAD's commit, leaves the time
unknown (None, with the reason): never an earlier one.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.release import Git

#: What git writes in HEAD: a commit id (detached) or the branch it names.
_DETACHED = re.compile(r"([0-9a-f]{40}|[0-9a-f]{64})\n?")
_SYMBOLIC = re.compile(r"ref: (refs/[^\0\n]+)\n?")
#: More than any HEAD or loose ref git writes; a bigger file is not one.
_SMALL = 4096
#: The part of packed-refs read (a runner's holds every branch and tag fetched).
_PACKED_BYTES = 64 << 20


@value_class(frozen=True)
class HeadWritten:
    """The latest change time of the files that hold HEAD's commit (None: unknown, and
    ``problem`` says why), and which files they were."""

    at: datetime | None
    files: str = ""
    problem: str = ""


def head_written(git: Git, root: Path, head: str) -> HeadWritten:
    """When the files that make HEAD (at ``root``) name the commit ``head`` were last
    changed; never raises."""
    code, answer = git("rev-parse", "--git-path", "HEAD", "--git-path", "packed-refs")
    lines = answer.removesuffix("\n").split("\n")
    if code != 0 or len(lines) != 2:
        return HeadWritten(None, problem="git could not name the file that holds HEAD")
    head_file, packed = (_at(root, line) for line in lines)
    content, head_changed, problem = _small_file(head_file)
    if content is None:
        return HeadWritten(None, problem=problem)
    detached, symbolic = _DETACHED.fullmatch(content), _SYMBOLIC.fullmatch(content)
    if detached is not None:
        if detached[1] != head:
            return HeadWritten(None, problem=f"{head_file} does not hold HEAD's commit "
                                             f"{head[:12]}")
        return HeadWritten(head_changed, str(head_file))
    if symbolic is None:
        return HeadWritten(None, problem=f"{head_file} names neither a commit nor a branch")
    ref = symbolic[1]
    code, answer = git("rev-parse", "--git-path", ref)
    if code != 0 or not answer.strip() or "\n" in answer.removesuffix("\n"):
        return HeadWritten(None, problem=f"git could not name the file of {ref}")
    loose = _at(root, answer.removesuffix("\n"))
    try:
        os.lstat(loose)
    except FileNotFoundError:
        return _packed(packed, ref, head, head_file, head_changed)
    except (OSError, ValueError) as exc:
        return HeadWritten(None, problem=f"{loose} cannot be read ({exc})")
    content, ref_changed, problem = _small_file(loose)
    if content is None:
        return HeadWritten(None, problem=problem)
    if content.removesuffix("\n") != head:
        # (Another symbolic ref, or not the commit HEAD resolves to: not what git wrote.)
        return HeadWritten(None, problem=f"{loose} does not hold HEAD's commit {head[:12]}")
    return HeadWritten(max(head_changed, ref_changed), f"{head_file} and {loose}")


def _packed(packed: Path, ref: str, head: str, head_file: Path, head_changed: datetime
            ) -> HeadWritten:
    """HEAD's branch only in ``packed-refs``: that file was rewritten after the branch last
    moved (git writes a moved branch loose; packing moved it there)."""
    try:
        descriptor = os.open(packed, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, ValueError) as exc:
        return HeadWritten(None, problem=f"{ref} has no file of its own and {packed} cannot "
                                         f"be read ({exc})")
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        data = handle.read(_PACKED_BYTES) if stat.S_ISREG(info.st_mode) else b""
    wanted = f"{head} {ref}".encode("utf-8", "surrogateescape")
    if not stat.S_ISREG(info.st_mode) or wanted not in data.split(b"\n"):
        return HeadWritten(None, problem=f"{ref} is neither a file of its own nor in "
                                         f"{packed} at HEAD's commit {head[:12]}")
    return HeadWritten(max(head_changed, _changed(info)), f"{head_file} and {packed}")


def _small_file(path: Path) -> tuple[str | None, datetime, str]:
    """A regular file's text (None when it is a link, not a regular file, too big or not
    text, with the reason) and its change time, from one open file (the inode read)."""
    never = datetime.min.replace(tzinfo=UTC)
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except (OSError, ValueError) as exc:
        return None, never, f"{path} cannot be read as a file ({exc})"
    with os.fdopen(descriptor, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            return None, never, f"{path} is not a regular file"
        data = handle.read(_SMALL + 1)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        text = ""
    if len(data) > _SMALL or not text:
        return None, never, f"{path} is not as git writes it"
    return text, _changed(info), ""


def _changed(info: os.stat_result) -> datetime:
    # (As arrival.py and checkout_writes.py read change times: equal times compare equal.)
    return datetime.fromtimestamp(info.st_ctime_ns / 1e9, UTC)


def _at(root: Path, named: str) -> Path:
    """A path git printed, relative to the folder it ran in."""
    path = Path(named)
    return path if path.is_absolute() else root / path
