"""Whether a reviewed file, by the path it was named by, is what HEAD commits there.

:func:`pytest_deploygate.evidence.release.uncommitted_file_problem` compares a file's bytes
with HEAD's blob at the file's resolved place. That judges where a symbolic link leads, never
the link: an untracked ``pytest.ini`` (or ``.deploygate/allowed_signers``) linking to a file
committed elsewhere as bookkeeping passed as "committed" (rt16a A08), though nobody reviewed
that file as the configuration. Here the path as named is walked from the repository's top:
every part of it must be at HEAD as the work tree has it, a link only where HEAD commits that
same link, and the file finally reached must be as committed.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from pytest_deploygate.evidence.object_check import object_is

#: Links followed at most (a loop of committed links is refused, not followed forever).
_MAX_LINKS = 16


def repository_top(root: Path) -> Path | None:
    """The resolved top of the git checkout holding ``root`` (None: not in one)."""
    from pytest_deploygate.evidence.release import Git

    code, top = Git(root)("rev-parse", "--show-toplevel")
    top = top.strip("\n")
    return Path(top).resolve() if code == 0 and top else None


def inside(path: Path, top: Path) -> bool:
    """Whether ``path``, as named or where it leads, lies in the checkout at ``top``."""
    named = Path(os.path.abspath(path))
    places = [named, *named.parents]
    return any(p.resolve() == top for p in places) or path.resolve().is_relative_to(top)


def committed_as_named_problem(root: Path, path: Path, top: Path | None = None) -> str | None:
    """Why ``path`` (in the checkout of ``root``) is not the file HEAD commits at that path
    (None when it is); one phrase, for "... but {problem}". ``top``: the checkout's resolved
    top when the caller asked git already (else it is asked here)."""
    top = top or repository_top(root)
    if top is None:
        return "it is not in a git checkout"
    relative = _from_top(Path(os.path.abspath(path)), top)
    if relative is None:
        return "it is not in the git checkout"
    from pytest_deploygate.evidence.release import uncommitted_file_problem

    parts = list(relative.parts)
    done: list[str] = []
    followed = 0
    while parts:
        part = parts.pop(0)
        if part == "..":  # (a link's target may climb; never above the top)
            if not done:
                return "it leads out of the git checkout"
            done.pop()
            continue
        if part == ".":
            continue
        place = top.joinpath(*done, part)
        # ("it": the file named itself; else the part of its way that is not committed.)
        name = "it" if not parts and not followed else str(PurePosixPath(*done, part))
        committed = _head_entry(root, PurePosixPath(*done, part).as_posix())
        if committed is None:
            return f"{name} is not committed"
        mode, object_id = committed
        if place.is_symlink():
            followed += 1
            target = os.readlink(place)
            if mode != "120000" or _blob(root, object_id) != os.fsencode(target):
                return f"{name} is a symbolic link that HEAD does not commit as that link"
            if followed > _MAX_LINKS or os.path.isabs(target):
                return f"{name} leads out of the git checkout"
            parts = [*PurePosixPath(target).parts, *parts]
            continue
        if mode == "120000":
            return f"{name} is committed as a symbolic link, not a file"
        done.append(part)
    return uncommitted_file_problem(root, top.joinpath(*done))


def _from_top(named: Path, top: Path) -> PurePosixPath | None:
    """``named`` (absolute, not resolved) from the checkout's top: after the first of its
    folders that is the top (the top itself may be reached through a link, e.g. /tmp; a link
    inside the checkout is then part of the path, judged as any other part)."""
    for folder in reversed(named.parents):
        if folder.resolve() == top:
            return PurePosixPath(named.relative_to(folder).as_posix())
    return None


def _head_entry(root: Path, relative: str) -> tuple[str, str] | None:
    """(mode, object id) of HEAD's entry at ``relative`` (from the top), None when none."""
    from pytest_deploygate.evidence.release import Git

    code, out = Git(root)("ls-tree", "--full-tree", "-z", "HEAD", "--", relative)
    for entry in out.split("\0"):
        meta, _, name = entry.partition("\t")
        fields = meta.split()
        if code == 0 and len(fields) == 3 and name == relative:
            return fields[0], fields[2]
    return None


def _blob(root: Path, object_id: str) -> bytes | None:
    from pytest_deploygate.evidence.git import GitError, _git_bytes

    try:
        done = _git_bytes(root, "cat-file", "blob", object_id)
    except GitError:
        return None
    if done.returncode != 0 or not object_is(object_id, "blob", done.stdout):
        return None  # (none, or other bytes than the committed blob: a forged object)
    return done.stdout


def allowed_signers_problem(root: Path, allowed: Path, top: Path | None = None) -> str | None:
    """Why an allowed-signers file in the repository cannot say whose signatures count (None:
    it is outside the repository, or committed and as committed at the path named).

    The file decides which keys make a record count: one in the work tree with an appended,
    never committed key (it is in .deploygate/, bookkeeping, so the release stays clean) let
    a record signed by that key pass (rt16a A05). A file outside the checkout (a CI secret
    store) is the job's own."""
    return verifier_file_problem(root, allowed, "allowed-signers file", top)


def verifier_file_problem(root: Path, path: Path, what: str, top: Path | None = None
                          ) -> str | None:
    """Why ``path``, a file that says whose signatures count (``what``: an allowed-signers
    file, a public key), cannot when it lies in the repository; None outside it, or when it
    is committed and as committed at the path named. A public key swapped in the work tree
    under .deploygate/ passed a record its swapper signed (rt17a A04), as an allowed-signers
    file did. ``top``: the checkout's resolved top when the caller asked git already (a
    deploy job's verdict did: one git process fewer); None: asked here."""
    top = top or repository_top(root)
    if top is None or not inside(path, top):
        return None
    problem = committed_as_named_problem(root, path, top)
    if problem is None:
        return None
    return (f"the {what} {path} is in the repository, but "
            f"{problem}: commit it (a reviewed change), or name a file outside the checkout")
