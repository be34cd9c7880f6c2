"""Every file the monorepo commits, through its submodules, with the repository that holds it.

HEAD's own listing (its trees, walked hashed from the commit) stops at a gitlink: a
submodule appears as one entry, never its files. Which folders are projects' own was learnt
from that listing plus one level of submodules, each marked by a half-copy of the rules: a
nested submodule's project folder was no project's (rt17d A01), a sign-off file placed by
the root's config inside a submodule marked nothing (rt17d A04), and a submodule folder's
``project:`` was read from the superproject, which holds no file there (a false refusal). So
the listing is built once here, at any depth, each path knowing the repository (its
checkout) and the commit that hold it, and committed_folders marks it with one routine.

A submodule never initialised (its folder empty, or not there) holds no file the gate reads
and is skipped; one whose folder holds files without its ``.git`` (gone, moved, dangling) is a
StateError, since a nested submodule's own ``.git`` still works below it (rt18a A01).
Whether a checked-out one is exactly its pinned commit is the dirty check's question
(evidence/submodules.py), and for a project's folder project_dirs' (gate/pinned_chain.py).
Nested deeper than ``_DEPTH`` levels: a StateError (which folders are projects' own cannot
be told), as the dirty check fails closed there.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path
from typing import NamedTuple

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.evidence.git import git_command, git_environment
from pytest_deploygate.evidence.git_programs import _DEPTH, ConfigurationUnreadable
from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven
from pytest_deploygate.evidence.release import Git
from pytest_deploygate.evidence.tree_objects import (
    GITLINK_MODE,
    TREE_MODE,
    TreeEntry,
    all_entries,
    commit_root,
    entries,
)

#: The mode of a gitlink (a submodule's pinned commit) in a tree listing.
_GITLINK = GITLINK_MODE


class Holder(NamedTuple):
    """A repository whose committed files are listed: where git runs, which commit."""

    #: the folder git runs in (the monorepo root, or a submodule's checkout)
    checkout: Path
    #: the commit listed ("HEAD" for the monorepo, the pinned id for a submodule)
    commit: str
    #: its folder from the monorepo root ("" for the monorepo itself)
    folder: str

    @property
    def is_submodule(self) -> bool:
        return bool(self.folder)

    def inner(self, path: str) -> str:
        """``path`` (from the monorepo root) as a path inside this repository's commit."""
        return path[len(self.folder) + 1:] if self.folder else path


class CommittedPath(NamedTuple):
    """One committed file: its path from the monorepo root, and the repository holding it."""

    path: str
    holder: Holder
    #: the object the commit names at the path (a blob: read by this id, hashed)
    object_id: str


def committed_paths(root: Path) -> list[CommittedPath]:
    """Every file HEAD commits under ``root`` (relative, posix), and every file each
    checked-out submodule's pinned commit holds, nested ones too, joined with its folder.
    ``.isdlc/`` (the framework's bookkeeping) is left out. Empty outside git or before the
    first commit. A StateError (one line) when git cannot list a commit it should hold, or
    the object store does not hold the trees the commit names.

    Each commit's trees are walked here through one hashed ``git cat-file --batch`` per
    repository (evidence/tree_objects.py), not listed by ``git ls-tree -r``: git hashes a
    commit and its root tree, never the subtrees, so a subtree's loose object rewritten
    in a kept workspace (a gitlink added beside an untracked clone) was listed as committed
    (rt18b A06)."""
    found: list[CommittedPath] = []
    with _reader(root, root) as reader:
        try:
            head, tree = commit_root(reader, "HEAD")
        except ObjectUnproven as exc:
            # Outside git, or HEAD no commit yet: nothing committed, as the release identity
            # says (a second process, on failure only: the reader's own failure cannot tell
            # these from a damaged repository).
            answer = run_git(root, ("rev-parse", "--verify", "-q", "HEAD"))
            if not isinstance(answer, str) and answer.returncode != 0:
                return []
            raise StateError(f"{root}: git could not list the files HEAD commits ({exc}), "
                             "so which folders are projects' own cannot be told; repair the "
                             "repository (git fsck names what is missing or corrupt) and run "
                             "again") from None
        holder = Holder(root, "HEAD", "")
        tree_below = _root_subtree(root, reader, head, tree)
        if tree_below is not None:
            _collect(root, holder, reader, head, tree_below, _DEPTH, found)
    return found


def _root_subtree(root: Path, reader: ObjectReader, head: str, tree: str) -> str | None:
    """The tree HEAD commits at ``root`` (its repository's top, or a folder in it: the
    monorepo a folder of its repository, listed from there as ``ls-tree`` listed it from
    its folder), walked hashed; None when HEAD commits no folder there."""
    if (root / ".git").exists():
        return tree  # (the top: git finds the repository at root itself)
    code, answer = Git(root)("rev-parse", "--show-toplevel")
    try:
        parts = root.resolve().relative_to(Path(answer.removesuffix("\n")).resolve()).parts \
            if code == 0 and answer.strip() else None
    except (ValueError, OSError, RuntimeError):
        parts = None
    if parts is None:
        raise StateError(f"{root}: git cannot tell which repository's top holds this folder, "
                         "so which folders are projects' own cannot be told; make git work "
                         "in this checkout")
    try:
        for name in parts:
            entry = next((e for e in entries(reader, tree) if e.path == name), None)
            if entry is None or entry.mode != TREE_MODE:
                return None  # (no folder committed here: nothing HEAD commits under root)
            tree = entry.object_id
    except ObjectUnproven as exc:
        raise StateError(f"{root}: git could not list the files HEAD commits ({head}: the "
                         f"object store does not hold the tree the commit names: {exc}), so "
                         "which folders are projects' own cannot be told; run git fsck (it "
                         "names what is missing or corrupt), and clone again") from None
    return tree


def _reader(root: Path, checkout: Path) -> ObjectReader:
    """One hashed ``git cat-file --batch`` at ``checkout``."""
    try:
        return ObjectReader(git_command(checkout, ("cat-file", "--batch")),
                            git_environment(checkout))
    except ConfigurationUnreadable as exc:
        raise StateError(f"{checkout}: {exc}") from None
    except OSError as exc:
        raise StateError(f"{root}: git could not be run at {checkout} "
                         f"({exc.strerror or exc}), so which folders are projects' own cannot "
                         "be told; make git work in this checkout") from None


def _collect(root: Path, holder: Holder, reader: ObjectReader, commit: str, tree: str,
             depth: int, found: list[CommittedPath]) -> None:
    """Add the files of ``holder``'s commit (``commit``, root tree ``tree``, read through
    ``reader``) to ``found``, and walk each checked-out submodule it pins (one reader per
    repository)."""
    try:
        for entry in all_entries(reader, tree):
            _add(root, holder, entry, depth, found)
    except ObjectUnproven as exc:
        what = "HEAD commits" if not holder.is_submodule else \
            f"the submodule {holder.folder}/ holds at its pinned commit"
        raise StateError(f"{root}: git could not list the files {what} ({commit}: the "
                         f"object store does not hold the tree the commit names: {exc}), so "
                         "which folders are projects' own cannot be told; run git fsck (it "
                         "names what is missing or corrupt), and clone again") from None


def _add(root: Path, holder: Holder, entry: TreeEntry, depth: int,
         found: list[CommittedPath]) -> None:
    """Add one listed entry of ``holder``'s commit: a file, or a submodule's files."""
    name = entry.path
    path = posixpath.join(holder.folder, name) if holder.folder else name
    if path.split("/")[0] == ".isdlc":
        return  # (the framework's bookkeeping, no project's)
    if entry.mode != _GITLINK:
        found.append(CommittedPath(path, holder, entry.object_id))
        return
    checkout = root / path
    commit = entry.object_id
    if not (checkout / ".git").exists():
        if _never_initialised(checkout):
            return  # (not checked out: it holds no file the gate reads)
        # Files there, but no checkout of its own: git asked from a folder inside it
        # (a nested submodule's own gitfile still works) found a repository all the
        # same, while its listing here said nothing of it (rt18a A01).
        raise StateError(f"{root}: the submodule {path}/ holds files but is no checkout "
                         f"of the commit {commit[:12]} pinned for it (its .git gone, "
                         "moved or dangling), so which folders "
                         "below it are projects' own cannot be told; check it out "
                         "(git submodule update --init --recursive)")
    if depth <= 0:
        raise StateError(f"{root}: submodules nested more than {_DEPTH} levels deep at "
                         f"{path}/, so which folders are projects' own cannot be told; "
                         "nest submodules less deeply")
    inner = Holder(checkout, commit, path)
    with _reader(root, checkout) as reader:
        try:
            _, tree = commit_root(reader, commit)
        except ObjectUnproven as exc:
            raise StateError(f"{root}: git could not list the commit {commit[:12]} pinned "
                             f"at the submodule {path}/ ({exc}), so whether it holds a "
                             "project's folder cannot be told; check the submodule out "
                             "again (git submodule update --init --recursive --force)"
                             ) from None
        _collect(root, inner, reader, commit, tree, depth - 1, found)


def _never_initialised(checkout: Path) -> bool:
    """Whether a gitlink's folder holds nothing (never initialised: git writes nothing
    there) or is not there at all, as the dirty check (evidence/submodules.py) counts it; a
    link in its place, or a folder that cannot be read, is not."""
    if checkout.is_symlink():
        return False
    if not checkout.is_dir():
        return not checkout.exists()
    try:
        return not any(checkout.iterdir())
    except OSError:
        return False


def run_git(folder: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess[bytes] | str:
    """git ``args`` at ``folder`` (controlled: git_environment), or why it could not run.

    A StateError when the programs the job's git configuration names cannot be listed (a
    submodule working elsewhere, nested too deep): that reason says what to do, where "repair
    the repository (git fsck)" would not."""
    try:
        return subprocess.run(git_command(folder, args), capture_output=True, timeout=60,
                              check=False, env=git_environment(folder))
    except ConfigurationUnreadable as exc:
        raise StateError(f"{folder}: {exc}") from None
    except subprocess.TimeoutExpired:
        return f"git {args[0]} took over 60 seconds"
    except OSError as exc:
        return f"git could not be run: {exc.strerror or exc}"


def first_line(stderr: bytes) -> str:
    """git's own first line of complaint, past its hints and warnings (or that it gave none)."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    said = [line for line in lines if not line.startswith(("hint:", "warning:"))]
    return (said or lines or ["no message"])[0]
