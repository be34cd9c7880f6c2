"""When an evidence file's content was committed: its age, for freshness rules.

A checkout writes every tracked file at the time of the checkout, so on a CI runner the
modification time of a committed report or document says "just now" whatever its age, and a
report committed with the release (or an artifact untouched for a year) looked newer than the
release commit and younger than any ``max_age_days``. A file git tracks whose content is the
one committed is as old as the commit that last changed it (or as its modification time, when
that is older). A tracked file outside the gate's bookkeeping is release content: it was
committed with (or before) the release commit, so it is never evidence produced after it.
Whether the working copy is the committed content is decided by its bytes, not by git diff:
diff compares after its clean conversion, so a report committed with CRLF under a ``text``
attribute looked rewritten by the run (as new as its checkout); a file whose bytes are the
committed ones, or what checking them out writes, is committed content.
A file git attributes to a shallow clone's cut-off commit (which "adds" every file) has no
known commit time: git cannot tell, and the age is unknown.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.release import (
    Git,
    bookkeeping_paths,
    checked_out_by_the_runner,
    is_bookkeeping,
    shallow_boundary,
    uncommitted_file_problem,
)
from pytest_deploygate.evidence.shallow import fetch_history_hint

#: How far a file's modification time may run ahead of this machine's clock (a network file
#: system's server clock) before it is impossible.
FUTURE_MODIFIED = timedelta(minutes=5)


@value_class(frozen=True)
class CommittedFile:
    """A tracked evidence file whose working copy is the committed content."""

    #: The newest commit (from HEAD) that changed the file.
    commit: str
    #: That commit's committer time.
    at: datetime
    #: True when the file is release content (not the gate's bookkeeping).
    release_content: bool


def committed_files(root: Path, relatives: Sequence[str], record_dir: Path | None
                    ) -> dict[str, CommittedFile] | str:
    """The files of ``relatives`` (paths under ``root``) that git tracks unchanged, or a
    sentence saying why git could not tell (then no file's age can be trusted)."""
    git = Git(root)
    # (--show-toplevel first: in a work tree, the answer the gate already has for this
    # checkout, toplevel_cache.py; --is-inside-work-tree only when that fails, inside .git.)
    if not relatives or (git("rev-parse", "--show-toplevel")[0] != 0 and
                         git("rev-parse", "--is-inside-work-tree")[0] != 0):
        return {}  # not in a repository: nothing is tracked
    # Asked about the file the name leads to: git never follows a link, so a report read
    # through a linked folder (reports/ -> old-run/), or a link to a committed file, looked
    # untracked and as new as its checkout.
    real = {relative: _real_relative(root, relative) for relative in relatives}
    specs = ["--", *(f":(literal){name}" for name in dict.fromkeys(real.values()))]
    code, tracked = git("ls-files", "-z", "--cached", *specs)
    if code != 0:
        return f"git could not list the tracked files under {root}"
    names = [name for name in tracked.split("\0") if name]
    found = _committed_here(git, root, names, specs, record_dir) if names else {}
    if isinstance(found, str):
        return found
    nested = _committed_in_nested(root, [name for name in dict.fromkeys(real.values())
                                         if name not in names])
    if isinstance(nested, str):
        return nested
    found.update(nested)
    return {relative: found[name] for relative, name in real.items() if name in found}


def _committed_here(git: Git, root: Path, names: list[str], specs: list[str],
                    record_dir: Path | None) -> dict[str, CommittedFile] | str:
    """Which of the tracked ``names`` are unchanged since HEAD, and their last commits."""
    if git("rev-parse", "--verify", "-q", "HEAD")[0] != 0:
        return {}  # no commit yet: nothing is committed
    code, diff = git("diff", "--relative", "--name-only", "-z", "HEAD", *specs)
    if code != 0:
        return f"git could not compare the evidence files with HEAD under {root}"
    changed = {name for name in diff.split("\0") if name}
    bookkeeping = bookkeeping_paths(root, record_dir)
    cut_off = shallow_boundary(root)
    found = {}
    for name in names:
        path = (root / name).resolve()
        if name in changed and uncommitted_file_problem(root, path) and \
                not checked_out_by_the_runner(root, path):
            # Written over after the checkout: its modification time tells. (git diff
            # compares after its clean conversion: a file committed with CRLF under a
            # ``text`` attribute differs from its own checkout and looked rewritten by the
            # run, as new as the checkout. The bytes decide: the committed ones, or what
            # checking them out writes, are committed content: by the gate's controlled git
            # or by the runner's own, whose core.autocrlf or LFS filter wrote the checkout.)
            continue
        code, last = git("log", "-1", "--format=%H %cI", "HEAD", "--",
                          f":(literal){name}")
        commit, _, stamp = last.strip().partition(" ")
        if code != 0 or not stamp:
            return f"git could not tell when {name} was committed"
        if commit in cut_off:
            # A shallow clone's oldest commit has no parent to compare with: git says it
            # added every file, whenever each was really last changed.
            return (f"the repository is a shallow clone cut off at {commit[:12]}, which git "
                    f"names as the last change of {name}, so when it was committed cannot be "
                    f"told: {fetch_history_hint('git fetch --unshallow')}")
        found[name] = CommittedFile(commit, datetime.fromisoformat(stamp),
                                    not is_bookkeeping(name, bookkeeping))
    return found


def _committed_in_nested(root: Path, names: list[str]) -> dict[str, CommittedFile] | str:
    """The files of ``names`` (untracked here) that a repository inside the root commits: a
    submodule's (release content: the release pins its commit) or a nested clone's. The
    outer git lists no file inside either, so they looked untracked and as new as their
    checkout. One git process per folder holding such files."""
    folders: dict[str, list[str]] = {}
    for name in names:
        folders.setdefault(name.rpartition("/")[0], []).append(name)
    if not any(folders):
        return {}  # all at the root's top: in its own repository
    code, out = Git(root)("rev-parse", "--show-toplevel")
    here = out.removesuffix("\n")
    found: dict[str, CommittedFile] = {}
    for folder, inside in folders.items():
        if not folder:
            continue
        code, out = Git(root / folder)("rev-parse", "--show-toplevel")
        top = out.removesuffix("\n")
        if code != 0 or not top or top == here:
            continue  # not in a repository, or in the root's own: untracked
        try:
            nested_root = Path(top)
            prefix = (root / folder).resolve().relative_to(nested_root.resolve()).as_posix()
        except (OSError, RuntimeError, ValueError):
            return f"git could not tell which repository holds {folder}"
        code, superproject = Git(nested_root)("rev-parse", "--show-superproject-working-tree")
        submodule = code == 0 and bool(superproject.strip())
        by_name = {name: (f"{prefix}/" if prefix != "." else "") + name.rpartition("/")[2]
                   for name in inside}
        nested = committed_files(nested_root, list(by_name.values()), None)
        if isinstance(nested, str):
            return nested
        for name, there in by_name.items():
            if there in nested:
                committed = nested[there]
                found[name] = CommittedFile(committed.commit, committed.at,
                                            committed.release_content and submodule)
    return found


def _real_relative(root: Path, relative: str) -> str:
    """The path, relative to ``root``, of the file ``relative`` leads to through links (as
    given when it leads nowhere inside the root: the readers refuse such a file)."""
    try:
        return (root / relative).resolve().relative_to(root.resolve()).as_posix()
    except (OSError, RuntimeError, ValueError):
        return relative


def future_problem(relative: str, modified: datetime, tracked: CommittedFile | None,
                   clock: datetime) -> str | None:
    """Why a file's times are impossible, if they are: modified after the machine's own
    clock (a time set by ``touch -d`` or kept from an archive made elsewhere, which made a
    stale file newer than any release and ageless), or last committed after the evaluation
    clock (a future date made the file as young as its checkout)."""
    if modified > datetime.now(UTC) + FUTURE_MODIFIED:
        return (f"{relative} is modified {format_instant(modified)}, in the future of this "
                "machine's clock: its time was set, not written; produce it in this run")
    if tracked is not None and tracked.at > clock:
        return (f"{relative} is committed in {tracked.commit[:12]}, dated "
                f"{format_instant(tracked.at)}, after the evaluation time "
                f"{format_instant(clock)}")
    return None
