"""The instants ``not_before: commit`` holds evidence files to: the release commit's
committer time (what a file says of itself, its modification and stated run times, must be
later), and the later of that and the time this checkout arrived at the release (when the
file was put in the work tree, its inode change time, must be later: an artifact extracted
with the modification time of the earlier job that wrote it is put here after the checkout).

The committer time is the committer's claim (``GIT_COMMITTER_DATE``): backdated, a stale
report left untracked in a reused work tree looked newer than the release. The arrival time
is when the checkout HEAD's reflog names wrote its files, by their inode change time (the
reflog's own dates are the committer clock's: :mod:`pytest_deploygate.evidence.arrival`). A
commit dated after the evaluation clock is impossible evidence: a release that
did not exist yet at that time (or a future date that makes old evidence look fresh).

A replay (``--gate-now`` in the past) evaluates a moment before this checkout arrived: the
arrival says nothing about that moment, so the floor is then the commit time, and the
evidence line says so. When the reflog cannot tell the arrival (there is none: removed, or
``core.logAllRefUpdates`` off; it does not end at HEAD; git cannot say which entries hold the
release), there is no floor at all (evidence missing): the commit time would be the
committer's claim standing in for an arrival that may be later, and the reflog is the job
user's file to remove.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pytest_deploygate.core.results import Evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.arrival import checkout_arrival
from pytest_deploygate.evidence.release import ReleaseIdentity


@value_class(frozen=True)
class Floor:
    """Evidence must be newer than ``at``; ``evidence`` says where that time comes from."""

    at: datetime
    #: The release commit's committer time (``at`` when the arrival is unknown or older).
    committed: datetime
    evidence: Evidence


def release_floor(root: Path, release: ReleaseIdentity, now: datetime,
                  bookkeeping: tuple[str, ...]) -> Floor | str:
    """The floor of ``not_before: commit`` for ``release`` checked out at ``root`` (whose
    gate keeps ``bookkeeping``), or why there is none (then the evidence is missing)."""
    if not release.known or release.commit is None or release.committed_at is None:
        return (f"there is no release commit to compare with: {release.problem or 'unknown'}")
    commit, committed = release.commit, release.committed_at
    if committed > now:
        return (f"the release commit {commit[:12]} is dated {format_instant(committed)}, after "
                f"the evaluation time {format_instant(now)}: impossible, so the evidence's "
                "age against it is unknown")
    arrival = checkout_arrival(root, commit, bookkeeping)
    if arrival.unreadable:
        # Not the commit time instead: that is the committer's claim, and git's answer may
        # have been unreadable because the reflog says the checkout arrived later.
        return (f"{arrival.why}, so when this checkout arrived at the release commit "
                f"{commit[:12]} is unknown, and so is the evidence's age against it; check "
                "that git can read the repository (git fsck)")
    shown = f"commit time {format_instant(committed)}"
    if arrival.at is None:
        # Not the commit time instead: the reflog is the job user's file (removed, or HEAD
        # moved without an entry), and the committer's date is the committer's claim: a
        # backdated release made the reports an earlier run left in a reused work tree fresh.
        return (f"{arrival.why}, so when this checkout arrived at the release commit "
                f"{commit[:12]} is unknown, and so is the evidence's age against it; check the "
                "release out with git as CI does (clone, or fetch and checkout: each writes "
                "HEAD's reflog; keep core.logAllRefUpdates on)")
    if arrival.at > now:
        detail = (f"= {shown} (this checkout arrived at {format_instant(arrival.at)}, after "
                  "the evaluation time: a replay, so the committer's own date is the floor)")
        return Floor(committed, committed, Evidence("freshness-floor", commit[:12],
                                         modified=format_instant(committed), detail=detail))
    at = max(committed, arrival.at)
    detail = (f"= the later of the {shown} and this checkout's arrival at it "
              f"{format_instant(arrival.at)} ({arrival.why})")
    return Floor(at, committed, Evidence("freshness-floor", commit[:12],
                                         modified=format_instant(at), detail=detail))
