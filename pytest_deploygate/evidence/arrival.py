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
and the caller falls back to the commit time, saying so. A line that is not as git writes
it (a tab in a name is git's; garbage is not) may hide the arrival: nothing is known then.

A reflog entry is dated by git's committer clock, which ``GIT_COMMITTER_DATE`` in the job's
environment sets (a CI variable): an entry dated last year, or tomorrow, made a report an
earlier run left in the work tree "newer than the arrival". The newest entry is appended when
it is written, so the reflog file's modification time (the kernel's) is that moment, and the
entries before it were written before it, in order. So the dates of the run of entries from
the arrival on (and of the entry the arrival left) are checked whichever entry the arrival
is: the newest dated otherwise than the file's time, any entry dated after it, or an entry
dated before an older one (each beyond a few minutes of slack) is a time that was set
(actions/checkout's ``checkout -B`` on a reused runner writes two entries, both dated by the
job's ``GIT_COMMITTER_DATE``). The arrival is then the file's time (no earlier than the
truth), never the committer's own date. Something that rewrites the file later without an
entry (``git reflog expire``, ``git gc``) only moves the floor later. A backdated older entry
in front of an honest newest one, in order, is not seen: the reflog is the job user's file.

Which entries hold the release is asked of git for all of them at once
(:mod:`pytest_deploygate.evidence.holding`, a constant number of processes, not one per
commit); when git's answer cannot be read, the arrival is unknown and so is the floor (the
evidence is missing), never the commit time.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import re
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
    reflog = log_path if log_path.is_absolute() else root / log_path
    try:
        entries, written = _entries(reflog)
    except _Unreadable as exc:
        return Arrival(None, f"HEAD's reflog {reflog} has {exc} that is not git's",
                       unreadable=True)
    if not entries or written is None:
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
    start = None  # where the newest run of entries holding the release starts
    for position in range(len(entries) - 1, -1, -1):
        if entries[position][0] not in held:
            break  # (not holding it, or one too many to ask about: later, never earlier)
        start = position
    if start is None:
        return Arrival(None, f"HEAD's reflog never reached the release commit "
                             f"{release_commit[:12]}")
    arrived = entries[start][1]
    # The run's dates, and the entry it left (the arrival came after it), are checked
    # against each other and against the file's own time, whichever entry is the arrival.
    set_dates = _set_dates([at for _, at in entries[max(0, start - 1):]], written)
    if set_dates is not None:
        # No entry is written after its file was, and the newest was written when its file
        # was: that time is no earlier than the arrival, whatever the entries say.
        return Arrival(written, (f"HEAD's reflog was last written at {_shown(written)}, "
                                 f"{set_dates}: its times were set (GIT_COMMITTER_DATE in "
                                 "the job's environment?), so the file's own time is the "
                                 "arrival"))
    return Arrival(arrived, "HEAD's reflog")


def _set_dates(dates: list[datetime], written: datetime) -> str | None:
    """Why ``dates`` (reflog entries oldest first, the last the file's newest) are not when
    the entries were written to a file last written at ``written``, or None when they can be.

    git appends an entry when it is made, so honest dates rise with the entries (a clock
    step back of a few minutes is slack) and the newest is the file's modification time.
    A set clock dates some entry otherwise: the newest before the file's time (every entry
    of actions/checkout's ``checkout -B`` dated hours ago), any entry after it, or an older
    entry after a newer one (a backdated arrival behind an honest newest entry)."""
    newest = dates[-1]
    if abs(newest - written) > _WRITTEN_SKEW:
        return f"its newest entry is dated {_shown(newest)}"
    latest = dates[0]
    for at in dates:
        if at > written + _WRITTEN_SKEW:
            return f"an entry is dated {_shown(at)}, after that"
        if at < latest - _WRITTEN_SKEW:
            return f"an entry dated {_shown(at)} follows one dated {_shown(latest)}"
        latest = max(latest, at)
    return None


def _shown(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


#: One reflog line: "<old> <new> <name> <<email>> <seconds> <zone>[\t<message>]". git keeps
#: no ``<``, ``>`` or newline in a name or email (it drops them), but keeps a tab: the header
#: ends at the first ``>``, never at the first tab (a ``GIT_COMMITTER_NAME`` with a tab hid
#: the checkout's entries, and the floor fell back to the committer's date).
_LINE = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) [^<>\n]*"
                   rb"<[^<>\n]*> (-?[0-9]{1,20}) [+-][0-9]{4}(?:\t|$)")


class _Unreadable(Exception):
    """A line of the reflog is not one git writes."""


def _entries(path: Path) -> tuple[list[tuple[str, datetime]], datetime | None]:
    """The (new commit, time) of each reflog line, oldest first, and when the file was last
    written (its modification time). A line that is not git's raises _Unreadable: what it
    hides may be the arrival, so nothing is known (never the entries around it)."""
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
    if lines and not lines[-1]:
        lines.pop()  # (after the last newline)
    entries = []
    for number, line in enumerate(lines, 1):
        match = _LINE.match(line)
        if match is None:
            raise _Unreadable(f"a line ({len(lines) - number + 1} from the end)")
        try:
            at = datetime.fromtimestamp(int(match[3]), UTC)
        except (ValueError, OverflowError, OSError):
            raise _Unreadable(f"a date ({len(lines) - number + 1} lines from the end)") \
                from None
        entries.append((match[2].decode("ascii"), at))
    return entries, written
