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


def checkout_head(folder: Path, git: Callable[..., tuple[int, str]]) -> str | None:
    """The commit ``folder``'s own checkout has at HEAD (``git``: controlled git there), or
    None when git answers for another work tree (its ``.git`` gone, moved or pointing
    elsewhere: not this folder's checkout) or HEAD is no commit. One git process.

    Shared by the dirty check below and the check that a monorepo project's folder is a
    submodule checked out as its parents pin it (gate/pinned_chain.py)."""
    code, answer = git("rev-parse", "--show-toplevel", "--verify", "-q", "HEAD")
    lines = answer.split("\n")
    if code != 0 or len(lines) < 2 or not lines[1].strip():
        return None
    try:
        if Path(lines[0]).resolve() != folder.resolve():
            return None
    except (OSError, RuntimeError):
        return None
    return lines[1].strip()


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
    if checkout_head(folder, sub) != pinned:
        return False  # (another work tree's answer, another commit, or none)
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
        scratch(*how.look_at_the_files, *how.plain_index, "update-index", "-q", "--refresh")
        code, diff = scratch(*how.look_at_the_files, *how.plain_index, "diff", "--no-ext-diff",
                             "--no-textconv", "--ignore-submodules=all", "--name-only", "-z")
        if code != 0 or diff.strip("\0"):
            return False
        # Untracked files count, as git's own look into a submodule counted them (ignored
        # ones, by the submodule's .gitignore, do not).
        code, others = scratch(*how.plain_index, "ls-files", "-z", "--others", "--exclude-standard",
                               "--directory", "--no-empty-directory")
        if code != 0 or others.strip("\0"):
            return False
        code, listing = scratch(*how.plain_index, "ls-files", "-s", "-z")
        if code != 0:
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
