"""When this checkout arrived at the release: the floor of ``not_before: commit``.

A release commit's committer time is whatever its committer said (``GIT_COMMITTER_DATE``
set to last year): against it alone, reports left untracked in a reused work tree by an
earlier run (a self-hosted runner that does not clean) counted as newer than the release.
Evidence of this release is written after this checkout got it, and git's reflog of HEAD says
when that was, in the runner's own time: every clone, ``git init`` + ``fetch`` + ``checkout``
(actions/checkout), ``fetch`` + ``checkout -f`` (GitLab) and ``pull`` writes an entry.

The arrival is the oldest entry of the newest run of entries whose commit holds the release
commit: a re-checkout of the same commit, or a sign-off committed on top of the release, does
not move it (reports written before them are of this release); arriving from an older
commit does, and so does arriving from a later release: a commit holds the release only when
its newest release-content commit is the release commit (a descendant that changed the
code is another release, and the reports a reused work tree kept from its run are not this
release's). Where the reflog says nothing usable (``core.logAllRefUpdates`` off, a bare
repository, an expired log, its newest entry not HEAD's commit) there is no arrival time,
and the caller falls back to the commit time, saying so.

A reflog entry is dated by git's committer clock, which ``GIT_COMMITTER_DATE`` in the job's
environment sets (a CI variable): an entry dated last year, or tomorrow, made a report an
earlier run left in the work tree "newer than the arrival". The newest entry is appended when
it is written, so the reflog file's modification time (the kernel's) is that moment: an
arrival dated after it, or an arrival that is the newest entry dated before it (beyond a few
minutes), is a time that was set; the arrival is then the file's time (no earlier than the
truth), never the committer's own date.

Which entries hold the release is asked of git for all of them at once
(:mod:`pytest_deploygate.evidence.holding`, a constant number of processes, not one per
commit); when git's answer cannot be read, the arrival is unknown and so is the floor (the
evidence is missing), never the commit time.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.holding import commits_holding, is_commit_id
from pytest_deploygate.evidence.release import Git, release_content_pathspecs

#: The newest part of the reflog read (a runner's reflog grows by a few lines a run).
_TAIL_BYTES = 4 << 20
#: Distinct commits asked about before giving up on older entries (the floor stays the
#: oldest arrival found: later, never earlier, than the truth).
_MAX_COMMITS = 32
#: How far the newest reflog entry's time may be from its file's modification time.
_WRITTEN_SKEW = timedelta(minutes=5)


@value_class(frozen=True)
class Arrival:
    """When HEAD of this checkout arrived at the release (None: the reflog cannot tell, and
    ``why`` says so)."""

    at: datetime | None
    why: str
    #: git's answer could not be read: nothing is known, not even that the commit time may
    #: stand in (the caller refuses the floor, fail closed).
    unreadable: bool = False


def checkout_arrival(root: Path, release_commit: str, bookkeeping: tuple[str, ...]
                     ) -> Arrival:
    """When the checkout at ``root`` arrived at ``release_commit`` (or a commit holding it:
    the same release content, ``bookkeeping`` left out), from the reflog of HEAD; never
    raises."""
    git = Git(root)
    code, answer = git("rev-parse", "--git-path", "logs/HEAD", "--verify", "-q", "HEAD")
    lines = answer.removesuffix("\n").split("\n")
    if code != 0 or len(lines) != 2:
        return Arrival(None, "git could not name HEAD's reflog")
    log_path, head = Path(lines[0]), lines[1].strip()
    entries, written = _entries(log_path if log_path.is_absolute() else root / log_path)
    if not entries:
        return Arrival(None, "HEAD has no reflog (core.logAllRefUpdates off, or a bare or "
                             "copied repository)")
    if entries[-1][0] != head:
        return Arrival(None, f"HEAD's reflog does not end at HEAD ({head[:12]})")
    # The commits asked about: the distinct ones of the newest entries, at most _MAX_COMMITS.
    asked = list(dict.fromkeys(commit for commit, _ in reversed(entries)))[:_MAX_COMMITS]
    held = commits_holding(git, release_commit, [c for c in asked if is_commit_id(c)],
                           release_content_pathspecs(bookkeeping))
    if held is None:
        return Arrival(None, "git's answer to which entries of HEAD's reflog hold the release "
                             f"commit {release_commit[:12]} could not be read", unreadable=True)
    arrived: datetime | None = None
    arrived_last = False  # the arrival is the newest entry (the one its file's time dates)
    for position, (commit, at) in enumerate(reversed(entries)):
        if commit not in held:
            break  # (not holding it, or one too many to ask about: later, never earlier)
        arrived, arrived_last = at, position == 0
    if arrived is None:
        return Arrival(None, f"HEAD's reflog never reached the release commit "
                             f"{release_commit[:12]}")
    if written is not None and (arrived > written + _WRITTEN_SKEW or (
            arrived_last and arrived < written - _WRITTEN_SKEW)):
        # Dated by a set clock: no entry is written after its file was, and the newest entry
        # was written when its file was. That time is no earlier than the arrival.
        return Arrival(written, (f"HEAD's reflog was last written at {_shown(written)}, the "
                                 f"arrival's entry is dated {_shown(arrived)}: its times were "
                                 "set (GIT_COMMITTER_DATE in the job's environment?), so the "
                                 "file's own time is the arrival"))
    return Arrival(arrived, "HEAD's reflog")


def _shown(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _entries(path: Path) -> tuple[list[tuple[str, datetime]], datetime | None]:
    """The (new commit, time) of each readable reflog line, oldest first, and when the file
    was last written (its modification time)."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            size = info.st_size
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read(_TAIL_BYTES)
        written = datetime.fromtimestamp(info.st_mtime, UTC)
    except (OSError, OverflowError, ValueError):
        return [], None
    lines = data.split(b"\n")
    if size > _TAIL_BYTES:
        lines = lines[1:]  # (the first is cut)
    entries = []
    for line in lines:
        # "<old> <new> <name> <<email>> <seconds> <+zone>\t<message>"
        head = line.partition(b"\t")[0].split(b" ")
        if len(head) < 5:
            continue
        try:
            commit = head[1].decode("ascii")
            at = datetime.fromtimestamp(int(head[-2]), UTC)
        except (UnicodeDecodeError, ValueError, OverflowError, OSError):
            continue
        entries.append((commit, at))
    return entries, written
