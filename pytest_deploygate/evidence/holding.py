"""Which commits hold a release: those whose newest release-content commit is the release
commit, asked of git in two processes (four at most) however many commits are asked about.

"The newest release-content commit of C" is ``git log -1 --format=%H C -- <release
content>``: git walks from C with its default history simplification, and the first commit
it shows is the answer. That walk is a single line of commits: a commit whose release content
equals its parent's (TREESAME, a bookkeeping-only commit) is skipped for that parent; a merge
whose release content equals one of its parents' is skipped for the first such parent (the
others are pruned); the first commit that differs from all its parents is the answer, and a
root commit is the answer unless its release content is empty (then there is none). Asking
that per commit cost a git process per distinct reflog commit; here git answers, in a
constant number of processes, the questions that walk asks, and the walk is followed here:

1. ``rev-list --parents --boundary --ancestry-path <commits> ^<release>``: every commit
   between the release commit and those asked about, with all its parents (no pathspec, so
   git simplifies nothing), and the boundary's (the release commit's among them). A walk
   that ends at the release commit only passes through them; one that leaves them reaches a
   commit that is not a descendant of the release commit, and ends at one of its ancestors.
2. ``diff-tree --stdin``: for each of those commits (and the release commit) and each of its
   parents, whether their release content is the same.

Two processes. Where more than _DIRECT_LIMIT commits lie between (a runner's reflog can name
a later release thousands of commits after an old one), step 2 would compare them all:
first ``diff-tree --stdin`` asks which of the commits have the release commit's release
content (every commit of a walk that ends at the release commit has it: TREESAME is equality
of release content), and steps 1 and 2 are taken for those only. Four processes.

Whatever git's output is not exactly what was asked for, the answer is None: the caller
then knows nothing (fail closed), never "held".

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pytest_deploygate.evidence.release import Git

#: A full commit id (SHA-1 or SHA-256): what git writes in a reflog and prints for %H.
_COMMIT_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
#: Commits between the release and those asked about that are compared directly (each with
#: each parent, one diff-tree line); beyond that, those without the release's content are
#: left out first.
_DIRECT_LIMIT = 256
#: diff-tree's options for "does the release content differ": every input line gets a header
#: (``--always``) that names its commit, then the names of the changed paths, one a line
#: (quoted where unusual, so never empty and never starting with NUL). Submodule changes
#: are changes whatever a tracked .gitmodules says (git log's walk ignores that setting), and
#: renames are a deletion and an addition, as in that walk.
_DIFF_TREE = ("diff-tree", "--stdin", "--root", "--always", "-r", "--name-only",
              "--no-renames", "--ignore-submodules=none", "--no-ext-diff", "--no-textconv",
              "--format=%x00%H")


def is_commit_id(text: str) -> bool:
    """Whether ``text`` is a full commit id as git writes it (nothing git could read as an
    option or a revision expression)."""
    return _COMMIT_ID.fullmatch(text) is not None


def commits_holding(git: Git, release: str, commits: Sequence[str],
                    specs: Sequence[str]) -> frozenset[str] | None:
    """Those of ``commits`` that are the ``release`` commit or whose newest release-content
    commit (``specs``: the pathspecs from ``--`` of the release content) is it; None when
    git's answers cannot be read."""
    if not is_commit_id(release) or not all(is_commit_id(commit) for commit in commits):
        return None
    others = list(dict.fromkeys(commit for commit in commits if commit != release))
    held = {release} if release in commits else set()
    if not others:
        return frozenset(held)
    graph = _ancestry(git, release, others)
    if graph is not None and len(graph[0]) > _DIRECT_LIMIT:
        alike = _alike(git, [f"{commit} {release}" for commit in others], specs, strict=False)
        if alike is None:
            return None
        others = [commit for commit, same in zip(others, alike, strict=True) if same]
        if not others:
            return frozenset(held)
        graph = _ancestry(git, release, others)
    if graph is None:
        return None
    between, parents = graph
    if not between:
        return frozenset(held)  # none descends from the release commit
    # The release commit's own parents answer whether it is itself skipped (TREESAME).
    asked = [*between, release] if release in parents else list(between)
    pairs = [(commit, parent) for commit in asked for parent in parents[commit] or (None,)]
    same = _alike(git, [commit if parent is None else f"{commit} {parent}"
                        for commit, parent in pairs], specs, strict=True)
    if same is None:
        return None
    equal = dict(zip(pairs, same, strict=True))
    for commit in others:
        ends = _walk_end(commit, release, between, parents, equal)
        if ends is None:
            return None
        if ends:
            held.add(commit)
    return frozenset(held)


def _walk_end(start: str, release: str, between: set[str], parents: dict[str, list[str]],
              equal: dict[tuple[str, str | None], bool]) -> bool | None:
    """Whether git's walk from ``start`` ends at ``release`` (None: a commit it needs was not
    in git's answer)."""
    commit = start
    for _ in range(len(between) + 2):
        if commit not in between and commit != release:
            return False  # not a descendant of the release: its walk ends at an ancestor
        if commit not in parents:
            return None
        if not parents[commit]:
            # A root: shown unless its release content is empty; either way not the release
            # unless it is the release commit, shown when it has release content.
            return commit == release and not equal.get((commit, None), True)
        kept = next((parent for parent in parents[commit] if equal.get((commit, parent))),
                    None)
        if kept is None:
            return commit == release  # differs from every parent: the walk shows it
        if commit == release:
            return False  # the release commit is itself skipped: the walk goes past it
        commit = kept
    return None  # longer than the commits there are: a cycle git never prints


def _ancestry(git: Git, release: str, tips: list[str]
              ) -> tuple[set[str], dict[str, list[str]]] | None:
    """The commits that are descendants of ``release`` and ancestors of (or among) ``tips``,
    and the parents of each and of the boundary commits (the release commit among them)."""
    # (--ignore-missing: a commit whose object is gone is not between, so not held, as
    # git log failing on it was not.)
    code, out = git("rev-list", "--parents", "--boundary", "--ancestry-path",
                    "--ignore-missing", *tips, f"^{release}")
    if code != 0:
        return None
    between: set[str] = set()
    parents: dict[str, list[str]] = {}
    for line in out.splitlines():
        boundary = line.startswith("-")
        ids = line.removeprefix("-").split(" ")
        if not all(is_commit_id(commit) for commit in ids) or ids[0] in parents:
            return None
        parents[ids[0]] = ids[1:]
        if not boundary:
            between.add(ids[0])
    return between, parents


def _alike(git: Git, lines: list[str], specs: Sequence[str], *, strict: bool
           ) -> list[bool] | None:
    """For each diff-tree input line ("commit other" or a lone root "commit"), whether the
    two (a root: the commit and nothing) have the same release content. Not ``strict``: a
    commit git cannot read (a reflog entry whose objects are gone) is answered False, as
    ``git log`` failing on it was; otherwise every line must be answered."""
    code, out = git(*_DIFF_TREE, *specs, stdin="".join(f"{line}\n" for line in lines))
    if code != 0:
        return None
    answers: list[tuple[str, bool]] = []
    for line in out.split("\n"):
        if line.startswith("\0"):
            answers.append((line[1:], True))
        elif line:
            if not answers:
                return None
            answers[-1] = (answers[-1][0], False)
    result: list[bool] = []
    position = 0
    for line in lines:
        commit = line.partition(" ")[0]
        if position < len(answers) and answers[position][0] == commit:
            result.append(answers[position][1])
            position += 1
        elif strict:
            return None
        else:
            result.append(False)
    return result if position == len(answers) else None
