"""Each submodule HEAD commits must be checked out as exactly the commit its gitlink pins.

The superproject's dirty check (release.py ``_uncommitted``) compares the work tree with HEAD
through a scratch index, since the job's index can lie. git's own look into a submodule
(``git diff --ignore-submodules=none``) asked ``git status`` there, which trusts the
submodule's OWN index (``.git/modules/<name>/index``, the job user's file): an
assume-unchanged or skip-worktree bit, or forged stat data, hid an edit of the submodule's
files (rt17b A01); and a folder whose ``.git`` gitfile was removed counted as "not checked
out", whatever it held (rt17b A04). So each submodule is checked here the way the
superproject is: its folder must be a checkout of its own (``.git`` there, the top of its work
tree), its HEAD the pinned commit, and its work tree what that commit holds, compared through
a scratch index read from the pinned commit in a private folder. Nested submodules the same,
down to ``_DEPTH`` levels (deeper: a change, fail closed). Every git here runs controlled
(release.Git: git_environment, no driver of the job's configuration).

An empty folder (a submodule never initialised: git writes nothing there) stays clean, as
nothing of it is deployed from the work tree.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_deploygate.core.private_temp import (
    PrivateTempUnavailable,
    private_temporary_directory,
)
from pytest_deploygate.evidence.git_programs import _DEPTH
from pytest_deploygate.evidence.git_tree import index_tree_id


@dataclass(frozen=True)
class Comparison:
    """How release.py compares a work tree with a commit, handed in by it (this module is
    release.py's helper and must not import it back): its controlled ``Git(folder, env)``,
    the settings that make git look at every file and keep an index plain, and its check of
    files under a converting attribute."""

    git: Callable[..., Any]
    look_at_the_files: tuple[str, ...]
    plain_index: tuple[str, ...]
    converted_differently: Callable[..., tuple[list[str], list[str]]]

#: The mode of a gitlink (a submodule's commit) in an index or tree listing.
GITLINK = "160000"


def gitlinks(listing: Mapping[str, tuple[str, str]]) -> dict[str, str]:
    """The gitlinks (path: pinned commit) among ``ls-files -s`` entries (path: mode, id)."""
    return {path: object_id for path, (mode, object_id) in listing.items() if mode == GITLINK}


def uncommitted_submodules(root: Path, prefix: str, links: Mapping[str, str],
                           how: Comparison) -> list[str]:
    """The submodule paths (from the repository's top) of ``links`` (path from ``root``:
    pinned commit) whose folder is not exactly the commit pinned, nested ones included."""
    changed: list[str] = []
    for path, pinned in links.items():
        if not _is_pinned_checkout(root / path, pinned, _DEPTH, how):
            changed.append(posixpath.normpath(prefix + path))
    return changed


def checkout_of_its_own(folder: Path, git: Callable[..., Any], *revisions: str
                        ) -> list[str] | None:
    """The ids of ``revisions`` in ``folder``'s repository (none asked: an empty list) when
    ``folder`` is a checkout of its own: a real folder (no link in its place), the top of
    its own work tree (git answering for the superproject, or for a ``core.worktree``
    elsewhere, is not it); None when it is not, or a revision is not there. ``git``:
    release.Git, the controlled git of a folder. (One git process, cached when no revision
    is asked.)"""
    if folder.is_symlink() or not folder.is_dir():
        return None
    code, answers = git(folder)("rev-parse", "--show-toplevel", *revisions)
    if code != 0:
        return None
    # (From the end: the revisions' ids are one line each, the folder's path may hold any.)
    lines = answers.removesuffix("\n").rsplit("\n", len(revisions)) if revisions \
        else [answers.removesuffix("\n")]
    if len(lines) != len(revisions) + 1:
        return None
    try:
        if Path(lines[0]).resolve() != folder.resolve():
            return None
    except (OSError, RuntimeError):
        return None
    return lines[1:]


def checkout_head(folder: Path, git: Callable[..., tuple[int, str]]) -> str | None:
    """The commit ``folder``'s own checkout has at HEAD (``git``: controlled git there), or
    None when git answers for another work tree (its ``.git`` gone, moved or pointing
    elsewhere: not this folder's checkout) or HEAD is no commit. One git process.

    Shared with the check that a monorepo project's folder is a submodule checked out as
    its parents pin it (gate/pinned_chain.py)."""
    ids = checkout_of_its_own(folder, lambda _folder: git, "HEAD")
    return ids[0] if ids else None


def _is_pinned_checkout(folder: Path, pinned: str, depth: int, how: Comparison) -> bool:
    """Whether ``folder`` is the checkout of commit ``pinned`` (or an empty folder, never
    initialised), its work tree as that commit holds it, its own submodules too."""
    if folder.is_symlink() or not folder.is_dir():
        return False  # (gone, a file or a link in its place: not what the commit deploys)
    try:
        if not (folder / ".git").exists() and not (folder / ".git").is_symlink():
            # Nothing there at all: never initialised. Anything there without its .git (the
            # gitfile removed) is content git no longer looks at: a change.
            return not any(folder.iterdir())
    except OSError:
        return False
    sub = how.git(folder)
    # Its HEAD, and the pinned commit's tree (git hash-checks the commit as it peels it).
    ids = checkout_of_its_own(folder, how.git, "HEAD", f"{pinned}^{{tree}}")
    if ids is None or ids[0] != pinned:
        return False  # (not its own checkout, or checked out at another commit, or none)
    tree = ids[1]
    try:
        private = private_temporary_directory("deploygate-submodule-")
    except PrivateTempUnavailable:
        return False
    with private as tmp:
        scratch = how.git(folder, {"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        # The pinned commit by its id, never the submodule's index (its bits and stat data
        # are the job user's) nor its HEAD by name.
        if scratch(*how.plain_index, "read-tree", pinned)[0] != 0:
            return False
        code, listing = scratch(*how.plain_index, "ls-files", "-s", "-z")
        # read-tree hashes the commit and its root tree, never a subtree it reads: a loose
        # object overwritten under a reviewed subtree's id in the submodule's own store (the
        # job user's files), listing an edited file's blob, filled the index with entries
        # that hid the edit (rt17c A01). Every entry, hashed up as git writes trees, must
        # make the pinned commit's tree (from this listing, read anyway: no process more).
        if code != 0 or index_tree_id(listing, _object_format(tree)) != tree:
            return False
        scratch(*how.look_at_the_files, *how.plain_index, "update-index", "-q", "--refresh")
        code, diff = scratch(*how.look_at_the_files, *how.plain_index, "diff", "--no-ext-diff",
                             "--no-textconv", "--ignore-submodules=all", "--name-only", "-z")
        if code != 0 or diff.strip("\0"):
            return False
        if _has_untracked(scratch, folder, Path(tmp), how):
            return False
    files: dict[str, tuple[str, str]] = {}
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split(" ")
        if path and len(parts) == 3:
            files[path] = (parts[0], parts[1])
    # A file under a converting attribute (ident, text, a filter) compared after its clean
    # conversion in git diff: its bytes must be what checkout of the pinned blob writes.
    differing, _ = how.converted_differently(sub, folder, "", files)
    if differing:
        return False
    nested = gitlinks(files)
    if nested and depth <= 0:
        return False  # (nested deeper than the check follows: fail closed)
    return all(_is_pinned_checkout(folder / path, commit, depth - 1, how)
               for path, commit in nested.items())


def _object_format(object_id: str) -> str:
    """The object format an id of this length is of (git's two: sha1, sha256)."""
    return "sha256" if len(object_id) == 64 else "sha1"


def _has_untracked(scratch: Callable[..., tuple[int, str]], folder: Path, tmp: Path,
                   how: Comparison) -> bool:
    """Whether the submodule (its scratch index just read from the pinned commit, and its
    work tree compared equal with it) holds a file the commit does not, as git's own look
    into a submodule counted them.

    Ignored only by the ``.gitignore`` files the pinned commit holds (the diff proved their
    bytes are its): ``--exclude-standard`` honoured every ``.gitignore`` in the work tree,
    an untracked one too, and the submodule's ``info/exclude`` and ``core.excludesFile``
    (the job user's files): an untracked package beside a reviewed module, with a
    ``.gitignore`` of ``*`` beside it, was not seen (rt17c A07). So an untracked
    ``.gitignore`` is a change itself, unless its folder is one the commit's own rules
    ignore (:func:`_in_ignored_folders`: the ``.pytest_cache/`` an honest test run writes,
    with the ``.gitignore`` pytest puts in it); the other files are then listed by the
    ``.gitignore`` files there, which hide nothing the commit does not. (Ignored files the
    commit declares, ``__pycache__`` of an honest run, are no change.)"""
    code, stray = scratch(*how.plain_index, "ls-files", "-z", "--others", "--",
                          ":(glob)**/.gitignore")
    if code != 0:
        return True
    folders = {posixpath.dirname(path) for path in stray.split("\0") if path}
    if folders and not _in_ignored_folders(folder, folders, tmp, how):
        return True
    code, others = scratch(*how.plain_index, "ls-files", "-z", "--others",
                           "--exclude-per-directory=.gitignore", "--directory",
                           "--no-empty-directory")
    return code != 0 or bool(others.strip("\0"))


def _in_ignored_folders(folder: Path, folders: set[str], tmp: Path, how: Comparison) -> bool:
    """Whether each of ``folders`` (relative to the submodule's top, each holding an untracked
    ``.gitignore``) is ignored by the ``.gitignore`` files above it, its own left out.

    A folder is asked about by its name, without a trailing slash, so git weighs only the
    rules of the folders above it, never the untracked file inside it (which, holding
    ``*``, ignores its own folder). Of untracked ``.gitignore`` files one above another, the
    highest is weighed by committed rules alone: when its folder is ignored, everything
    below it was anyway. git runs with a private, empty git directory, so the submodule's
    ``info/exclude`` (the job user's file) has no say; its ``core.excludesFile`` is the
    gate's own git home's. The top of the submodule is never an ignored folder."""
    if "" in folders:
        return False
    private = tmp / "no-excludes.git"
    try:
        (private / "objects").mkdir(parents=True, exist_ok=True)
        (private / "refs").mkdir(exist_ok=True)
        (private / "HEAD").write_text("ref: refs/heads/main\n")
    except OSError:
        return False
    ask = how.git(folder, {"GIT_DIR": str(private), "GIT_WORK_TREE": str(folder)})
    # Each name behind "./": check-ignore reads a name as a pathspec, and one starting with
    # ":" as pathspec magic, so a folder named ":(top)__pycache__" was asked about as
    # __pycache__, which the commit ignores (rt18b A03); it takes no --literal-pathspecs.
    asked = {"./" + name for name in folders}
    code, ignored = ask("check-ignore", "-z", "--stdin",
                        stdin="".join(name + "\0" for name in sorted(asked)))
    # (check-ignore exits 1 when none is ignored; it names each ignored one as asked.)
    return code in (0, 1) and set(ignored.split("\0")) >= asked
