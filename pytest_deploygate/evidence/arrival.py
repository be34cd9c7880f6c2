"""When this checkout arrived at the release: the floor of ``not_before: commit``.

A release commit's committer time is whatever its committer said (``GIT_COMMITTER_DATE``
set to last year): against it alone, reports left untracked in a reused work tree by an
earlier run (a self-hosted runner that does not clean) counted as newer than the release.
Evidence of this release is written after this checkout got it, and git's reflog of HEAD says
which checkout that was: every clone, ``git init`` + ``fetch`` + ``checkout``
(actions/checkout), ``fetch`` + ``checkout -f`` (GitLab) and ``pull`` writes an entry.

The arrival is the oldest entry of the newest run of entries whose commit holds the release
commit: a re-checkout of the same commit, or a sign-off committed on top of the release, is
no new arrival (a move of HEAD to another commit still bounds the floor: below); arriving
from an older commit is one, and so is arriving from a later release: a commit holds the
release only when its newest release-content commit is the release commit (a descendant that
changed the code is another release, and the reports a reused work tree kept from its run
are not this release's). Where the reflog says nothing usable (``core.logAllRefUpdates`` off, a bare
repository, an expired log, its newest entry not HEAD's commit) there is no arrival time,
and the caller refuses the floor (never the commit time: the committer's claim). A line
that is not as git writes it (a tab in a name is git's; garbage is not) may hide the
arrival: nothing is known then.

A reflog entry is dated by git's committer clock, which ``GIT_COMMITTER_DATE`` in the job's
environment sets (a CI variable): a checkout dated before a report an earlier run left in the
work tree, followed by any honestly dated entry (``git reset --hard``), made that report
"newer than the arrival" (rt14d), however the dates were checked against each other. So no
date in the reflog is read. The reflog says which entry is the arrival and which commit it
left (git writes those, whatever the clock); when it happened is what the kernel kept: the
earliest inode change time of the files that checkout wrote, the files that differ between
the commit left and the one arrived at (every file for a clone;
:mod:`pytest_deploygate.evidence.checkout_writes`). No call of the job's user sets a change
time back, so the floor is no earlier than the checkout, unless a file of the release was
put in the work tree before it (an earlier run's ``git checkout main -- CHANGELOG.md`` while
HEAD stayed at the older commit: the checkout does not rewrite it, rt15c A03). So the floor is
also no earlier than the last change of the files that hold HEAD
(:mod:`pytest_deploygate.evidence.head_written`), which git writes whenever HEAD moves to
another commit. That holds too when a later entry moved HEAD on to another commit holding the
release (a sign-off committed or checked out on top, a pull): the move rewrote them, and
nothing git keeps still dates the first arrival (the files it wrote may be an earlier run's,
rt16b A02), so the floor is that move and a run's reports written before it are refused. A
later ``git reset --hard`` or detached checkout of the same commit rewrites no file that is
as committed, nor HEAD, so a run's reports written before them keep counting. (A release
committed in this work tree arrived by ``git commit``, which writes no file: its changed
files' change times are when they were edited, when that content came into the work tree.)
When the
checkout wrote no file that is still in the work tree (it arrived from a commit of the same
content), the reflog file's own change time is the arrival: the newest entry was appended
then, no earlier than the arrival (the reports of a run written before a later entry are
then refused: later, never earlier, than the truth).

Which entries hold the release is asked of git for all of them at once
(:mod:`pytest_deploygate.evidence.holding`, a constant number of processes, not one per
commit); when git's answer cannot be read, the arrival is unknown and so is the floor (the
evidence is missing), never the commit time.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.checkout_writes import checkout_written
from pytest_deploygate.evidence.head_written import HeadWritten, head_written
from pytest_deploygate.evidence.holding import commits_holding, is_commit_id
from pytest_deploygate.evidence.release import Git, release_content_pathspecs

#: The newest part of the reflog read (a runner's reflog grows by a few lines a run).
_TAIL_BYTES = 4 << 20
#: Distinct commits asked about (git is asked once for all of them). A run of entries
#: holding the release that goes past them (or past the part of the file read) has no
#: known arrival: the reflog file's own change time stands in (later, never earlier, than
#: the truth). A release's work tree with its sign-offs committed in it holds dozens.
_MAX_COMMITS = 1024


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
    the same release content, ``bookkeeping`` left out): which entry of HEAD's reflog that
    was, dated by the files it wrote; never raises."""
    git = Git(root)
    # (The top of the work tree as "../" steps from root: never a newline in it.)
    code, answer = git("rev-parse", "--git-path", "logs/HEAD", "--show-cdup", "--verify",
                       "-q", "HEAD")
    lines = answer.removesuffix("\n").split("\n")
    if code != 0 or len(lines) != 3:
        return Arrival(None, "git could not name HEAD's reflog")
    log_path, top, head = Path(lines[0]), root / lines[1], lines[2].strip()
    reflog = log_path if log_path.is_absolute() else root / log_path
    try:
        entries, changed, cut = _entries(reflog)
    except _Unreadable as exc:
        return Arrival(None, f"HEAD's reflog {reflog} has {exc} that is not git's",
                       unreadable=True)
    if not entries or changed is None:
        return Arrival(None, "HEAD has no reflog (core.logAllRefUpdates off, or a bare or "
                             "copied repository)")
    if entries[-1][1] != head:
        return Arrival(None, f"HEAD's reflog does not end at HEAD ({head[:12]})")
    # The commits asked about: the distinct ones of the newest entries, at most _MAX_COMMITS.
    asked = list(dict.fromkeys(commit for _, commit in reversed(entries)))[:_MAX_COMMITS]
    held = commits_holding(git, release_commit, [c for c in asked if is_commit_id(c)],
                           release_content_pathspecs(bookkeeping))
    if held is None:
        return Arrival(None, "git's answer to which entries of HEAD's reflog hold the release "
                             f"commit {release_commit[:12]} could not be read", unreadable=True)
    start = None  # where the newest run of entries holding the release starts
    for position in range(len(entries) - 1, -1, -1):
        if entries[position][1] not in held:
            break  # (not holding it, or one too many to ask about)
        start = position
    if start is None:
        return Arrival(None, f"HEAD's reflog never reached the release commit "
                             f"{release_commit[:12]}")
    broken = next((position for position in range(max(start, 1), len(entries))
                   if entries[position][0] != entries[position - 1][1]), None)
    if broken is not None:
        # git writes each entry from where HEAD was, the last entry's commit: a line whose
        # "from" is not that was written by hand (a "clone" line put in front of the real
        # checkout named every file as written by it, and the oldest file's time as its).
        return Arrival(None, f"HEAD's reflog {reflog}: the entry {len(entries) - broken} from "
                             "the end does not start where the one before it ended (an entry "
                             "written by hand, or one removed)", unreadable=True)
    # HEAD came to its commit no earlier than the arrival (rt15c A03: the files the arrival
    # "wrote" may have been put there before it, with the reports of an earlier run). When
    # a later entry moved HEAD on to another commit of the release (a sign-off committed or
    # checked out on top, a pull, a reset or `checkout -B` to it), the files holding HEAD
    # were rewritten by that move, and nothing git keeps dates the first arrival any more
    # (the reflog file is appended to by every entry; the files the arrival wrote may be an
    # earlier run's, rt16b A02). So the floor is that move, later, never earlier, than the
    # truth: reports written between the arrival and the move are refused (write them after
    # the last step that moves HEAD).
    placed = head_written(git, root, head)
    if placed.at is None:
        return Arrival(None, f"when HEAD came to its commit is unknown: {placed.problem}")
    left, arrived = entries[start]
    if (start == 0 and cut) or (start > 0 and entries[start - 1][1] not in set(asked)):
        # The run goes on before what was read or asked about: the arrival is older, and
        # the entry found is no checkout that arrived (it wrote no release file).
        because = (f"the entries holding the release go on before the newest "
                   f"{len(asked)} commits asked about")
    else:
        written = checkout_written(git, top, left, arrived)
        if written.at is not None:
            return _no_earlier_than_head(
                Arrival(written.at, f"HEAD's reflog names the checkout of {arrived[:12]}; "
                                    "the earliest inode change time of the files its "
                                    f"checkout wrote, {written.files} read"), placed)
        because = written.problem or (f"its checkout of {arrived[:12]} wrote no file that is "
                                      "in the work tree")
    # The reflog file was last changed no earlier than that entry was appended.
    return _no_earlier_than_head(
        Arrival(changed, f"HEAD's reflog: {because}, so its file's own inode change time"),
        placed)


def _no_earlier_than_head(arrival: Arrival, placed: HeadWritten) -> Arrival:
    """The arrival, or when the files holding HEAD changed if that is later: a file the
    arrival "wrote" may have been put in the work tree before it (an earlier run's
    ``git checkout <release> -- <file>``), but git wrote where HEAD is when it last moved
    (at the arrival, or at a later move within the release)."""
    if placed.at is None or arrival.at is None or placed.at <= arrival.at:
        return arrival
    return Arrival(placed.at, f"{arrival.why}; but HEAD came to its commit later: the inode "
                              f"change time of {placed.files}")


#: One reflog line: "<old> <new> <name> <<email>> <seconds> <zone>[\t<message>]". git keeps
#: no ``<``, ``>`` or newline in a name or email (it drops them), but keeps a tab: the header
#: ends at the email's ``>``, never at the first tab (a ``GIT_COMMITTER_NAME`` with a tab hid
#: the checkout's entries, and the floor fell back to the committer's date).
_LINE = re.compile(rb"([0-9a-f]{40}|[0-9a-f]{64}) ([0-9a-f]{40}|[0-9a-f]{64}) [^<>\n]*"
                   rb"<[^<>\n]*> -?[0-9]{1,20} [+-][0-9]{4}(?:\t|$)")


class _Unreadable(Exception):
    """A line of the reflog is not one git writes."""


def _entries(path: Path) -> tuple[list[tuple[str, str]], datetime | None, bool]:
    """The (commit left, commit arrived at) of each reflog line, oldest first; when the file
    was last changed (its inode change time, the kernel's: its modification time, like the
    lines' dates, is the job user's to set); whether older lines were not read. A line that
    is not git's raises _Unreadable: what it hides may be the arrival, so nothing is known
    (never the entries around it)."""
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            size = info.st_size
            handle.seek(max(0, size - _TAIL_BYTES))
            data = handle.read(_TAIL_BYTES)
        changed = datetime.fromtimestamp(info.st_ctime_ns / 1e9, UTC)
    except (OSError, OverflowError, ValueError):
        return [], None, False
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
        entries.append((match[1].decode("ascii"), match[2].decode("ascii")))
    return entries, changed, size > _TAIL_BYTES
