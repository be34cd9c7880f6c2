"""Every file the monorepo commits, through its submodules, with the repository that holds it.

HEAD's own listing (``git ls-tree -r HEAD``) stops at a gitlink: a submodule appears as one
entry, never its files. Which folders are projects' own was learnt from that listing plus
one level of submodules, each marked by a half-copy of the rules: a nested submodule's
project folder was no project's (rt17d A01), a sign-off file placed by the root's config
inside a submodule marked nothing (rt17d A04), and a submodule folder's ``project:`` was
read from the superproject, which holds no file there (a false refusal). So the listing is
built once here, at any depth, each path knowing the repository (its checkout) and the
commit that hold it, and committed_folders marks it with one routine.

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

#: The mode of a gitlink (a submodule's pinned commit) in a tree listing.
_GITLINK = "160000"


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


def committed_paths(root: Path) -> list[CommittedPath]:
    """Every file HEAD commits under ``root`` (relative, posix), and every file each
    checked-out submodule's pinned commit holds, nested ones too, joined with its folder.
    ``.isdlc/`` (the framework's bookkeeping) is left out. Empty outside git or before the
    first commit. A StateError (one line) when git cannot list a commit it should hold."""
    listing = run_git(root, ("ls-tree", "-r", "-z", "HEAD"))
    if isinstance(listing, str) or listing.returncode != 0:
        # Outside git, or HEAD no commit yet: nothing committed, as the release identity says
        # (a second process, on failure only: the listing's own failure cannot tell these
        # from a damaged repository).
        head = run_git(root, ("rev-parse", "--verify", "-q", "HEAD"))
        if not isinstance(head, str) and head.returncode != 0:
            return []
        why = listing if isinstance(listing, str) else first_line(listing.stderr)
        raise StateError(f"{root}: git could not list the files HEAD commits ({why}), so "
                         "which folders are projects' own cannot be told; repair the "
                         "repository (git fsck names what is missing or corrupt) and run "
                         "again")
    found: list[CommittedPath] = []
    _collect(root, Holder(root, "HEAD", ""), listing.stdout, _DEPTH, found)
    return found


def _collect(root: Path, holder: Holder, listing: bytes, depth: int,
             found: list[CommittedPath]) -> None:
    """Add ``holder``'s listed files to ``found``, and list each checked-out submodule it
    pins (one ``ls-tree`` per repository)."""
    for raw in listing.split(b"\0"):
        meta, tab, name = raw.decode("utf-8", "surrogateescape").partition("\t")
        if not tab:
            continue
        path = posixpath.join(holder.folder, name) if holder.folder else name
        if path.split("/")[0] == ".isdlc":
            continue  # (the framework's bookkeeping, no project's)
        fields = meta.split(" ")
        if fields[0] != _GITLINK:
            found.append(CommittedPath(path, holder))
            continue
        checkout = root / path
        commit = fields[2] if len(fields) == 3 else ""
        if not (checkout / ".git").exists():
            if _never_initialised(checkout):
                continue  # (not checked out: it holds no file the gate reads)
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
        listed = run_git(checkout, ("ls-tree", "-r", "-z", commit))
        if isinstance(listed, str) or listed.returncode != 0:
            why = listed if isinstance(listed, str) else first_line(listed.stderr)
            raise StateError(f"{root}: git could not list the commit {commit[:12]} pinned at "
                             f"the submodule {path}/ ({why}), so whether it holds a "
                             "project's folder cannot be told; check the submodule out again "
                             "(git submodule update --init --recursive --force)")
        _collect(root, Holder(checkout, commit, path), listed.stdout, depth - 1, found)


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
