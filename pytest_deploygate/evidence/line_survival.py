"""Whether a line git blame gives to commit C lived on from C to HEAD, from hashed objects.

line_proof shows that C added the line; it does not show that the line HEAD holds is that
one. git blame takes each commit's parents from the commit-graph file, and the trees and
blobs on its way from the store, none of them hashed: in a kept workspace a graph skipping
the commit that withdrew a sign-off, or one forged blob of it, made blame walk past the
withdrawal to the signer's commit (or to an unmerged branch's), and Eve's re-added line
counted as the signer's (rt18b A05, A05b, A02). So a line counts only when hashed objects
show a chain of commits from HEAD down to C, each one's parents read from its own commit
object, in which every commit's file at the path holds the line.

One walk per file for all its lines, through the reader blame_lines already has open (one
``git cat-file --batch``, no process per commit): a search from HEAD over commits whose blob
still holds a line looked for, each commit visited once per line at most, a branch left as
soon as its blob holds none of the lines still looked for, and a line no longer looked for
once every commit claiming it is reached. Unchanged trees and blobs share ids, so each is
read (and hashed) once: the cost is one commit object and the trees down to the file per
commit on the way, back to the oldest claimed commit of a line; plus each distinct blob.

A merge is the one commit whose file can hold a line none of its own changes added: at a
merge M holding the line, a parent P lacking it, whose history holds the claimed commit C
(``is_ancestor(C, P)``), is a side that withdrew it after C; M kept it or put it back, which a
three-way merge never does (the withdrawal wins). Blame still named C, and the chain
M -> the other parent -> C holds the line: a merge that put back Ana's withdrawn QA line,
even a ``commit-tree -p R -p C`` with C itself as a parent, counted as Ana's (rt18c A01).
Such a line is not attributed: its signer signs again.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from pytest_deploygate.core.trust_rules import split_git_lines
from pytest_deploygate.evidence.line_proof import CommitFiles
from pytest_deploygate.evidence.object_reader import ObjectUnproven

#: Whether commit A is an ancestor of (or is) commit B.
IsAncestor = Callable[[str, str], bool]


def unsurvived_lines(files: CommitFiles, head: str | None,
                     claims: Mapping[int, tuple[str, str, bytes]],
                     is_ancestor: IsAncestor) -> dict[int, str]:
    """Line number -> why hashed objects show no chain from ``head`` back to the line's
    commit holding it (or a merge on the way put the line back after a side withdrew it),
    for each claim (line number -> commit, path from the repository's top, the line's
    bytes) not proven."""
    by_path: dict[str, dict[bytes, set[str]]] = {}
    for commit, path, content in claims.values():
        by_path.setdefault(path, {}).setdefault(content, set()).add(commit)
    problems: dict[int, str] = {}
    for path, wanted in by_path.items():
        unreached, error = ({c: set(commits) for c, commits in wanted.items()}, "no HEAD commit"
                            ) if head is None else _walk(files, head, path, wanted, is_ancestor)
        for number, (commit, claim_path, content) in claims.items():
            if claim_path == path and commit in unreached.get(content, ()):
                problems[number] = (
                    f"no chain of commits from HEAD ({(head or '?')[:12]}) back to it holds "
                    f"this line in {path}" + (f" ({error})" if error else ""))
    return problems


def _walk(files: CommitFiles, head: str, path: str, wanted: Mapping[bytes, set[str]],
          is_ancestor: IsAncestor) -> tuple[dict[bytes, set[str]], str]:
    """The claims (line -> commits) no chain from ``head`` reaches, and the first object
    that could not be read on the way, or merge that put a withdrawn line back ("" when
    none)."""
    looking = {content: set(commits) for content, commits in wanted.items()}
    put_back: set[bytes] = set()  # (lines a merge kept after a side withdrew them)
    every = frozenset(wanted)
    holds: dict[str | None, frozenset[bytes]] = {None: frozenset()}  # blob id -> lines held
    seen: dict[str, set[bytes]] = {}  # commit -> lines it was visited for
    stack: list[tuple[str, frozenset[bytes]]] = [(head, every)]
    error = ""
    while stack and looking:
        commit, carried = stack.pop()
        visited = seen.setdefault(commit, set())
        todo = {content for content in carried
                if content in looking and content not in put_back} - visited
        if not todo:
            continue
        visited |= todo  # (what a commit's blob holds never changes: once per line)
        try:
            blob, parents = files.blob_at(commit, path)
            if blob is not None and blob not in holds:
                holds[blob] = every & frozenset(split_git_lines(files.read_blob(blob)))
        except ObjectUnproven as exc:
            error = error or str(exc)  # (that branch is not shown: fail closed)
            continue
        held = todo & holds[blob]
        for content in held:
            looking[content].discard(commit)
            if not looking[content]:
                del looking[content]
        if len(parents) > 1 and held:
            try:
                withdrawn = _put_back_by_merge(files, commit, parents, path, held, holds,
                                               looking, is_ancestor)
            except ObjectUnproven as exc:
                error = error or str(exc)
                continue
            if withdrawn:
                put_back.update(withdrawn)
                error = error or (f"merge {commit[:12]} kept or put the line back after its "
                                  "parent's side had withdrawn it: the signer signs again")
                held = held - withdrawn
        onward = frozenset(content for content in held if content in looking)
        if onward:
            stack.extend((parent, onward) for parent in reversed(parents))
    return looking, error


def _put_back_by_merge(files: CommitFiles, merge: str, parents: tuple[str, ...], path: str,
                       held: set[bytes], holds: dict[str | None, frozenset[bytes]],
                       looking: Mapping[bytes, set[str]], is_ancestor: IsAncestor
                       ) -> set[bytes]:
    """The lines ``merge`` holds that a parent lacks although the commit claiming them is
    in that parent's history (the parent's side withdrew them)."""
    every = frozenset(looking) | frozenset(held)
    withdrawn: set[bytes] = set()
    for parent in parents:
        blob, _ = files.blob_at(parent, path)
        if blob is not None and blob not in holds:
            holds[blob] = every & frozenset(split_git_lines(files.read_blob(blob)))
        lacking = held - holds.get(blob, frozenset()) - withdrawn
        for content in lacking:
            if any(is_ancestor(claimed, parent) for claimed in looking.get(content, ())):
                withdrawn.add(content)
    return withdrawn
