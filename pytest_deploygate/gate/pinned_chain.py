"""A monorepo project's folder must be committed content of the monorepo, or of a submodule
the monorepo pins, through every submodule on the way, each checked out at exactly the commit
its parent pins.

The repository a monorepo project is judged in is whatever git finds from its folder: its
release identity, its dirty check and the attribution of its sign-offs all run git there.
Which folders are projects' own is learnt from the monorepo's HEAD and the commits it pins
(committed_paths). Nothing tied the two together: a project submodule checked out at another
project's commit was judged there, clean, by that project's sign-offs (rt18a A03); with the
outer submodule's gitfile moved away, a nested submodule's folder was no project's, yet git
still found its repository (rt18a A01); an untracked clone of a signed project, named by a new
state, was judged as that project (rt18a A02). So the chain is checked here, shared by the
gate and ``deploygate verdict`` (project_dirs.project_dir): from the monorepo's top down to the
top of the repository git finds from the project's folder, each step a gitlink its parent's
commit pins (the monorepo's HEAD, then each pinned commit), checked out at exactly that commit
(evidence/submodules.checkout_head, as the dirty check asks it). Two git processes a
submodule: the parent's commit walked to the path (one hashed ``cat-file --batch``: ls-tree
read subtrees unhashed, rt18b A06), the submodule's HEAD and top in one question.

Whether each submodule's work tree is what its commit holds is the project's own dirty check
(for the project's repository and the submodules inside it); the folders above it hold no
file the project is judged by but its gate definition, which is bound on its own.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pathlib import Path

from pytest_deploygate.core.errors import StateError
from pytest_deploygate.evidence.git import git_command, git_environment
from pytest_deploygate.evidence.git_programs import _DEPTH, ConfigurationUnreadable
from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven
from pytest_deploygate.evidence.release import Git
from pytest_deploygate.evidence.submodules import GITLINK, checkout_head
from pytest_deploygate.evidence.tree_objects import TREE_MODE, commit_root, entries

_UPDATE = "check the submodules out as the monorepo commits them (git submodule update " \
    "--init --recursive)"


def refuse_unpinned_folder(root: Path, folder: Path, state_path: Path, where: str,
                           verified: set[tuple[Path, str]]) -> None:
    """A StateError (one line: the state, what, what to do) unless ``folder`` lies in the
    monorepo's own work tree or in a submodule chain the monorepo pins exactly. Nothing is
    asked when the monorepo root is in no repository (no release to bind to), or ``folder``
    is no folder (its release identity says so). ``verified``: the (checkout, commit) pairs
    this run found checked out as pinned, so gating every project asks each once."""
    code, answer = Git(root)("rev-parse", "--show-toplevel")
    if code != 0 or not folder.is_dir():
        return
    top = _real(answer)
    shown = _shown(top, folder)
    code, answer = Git(folder)("rev-parse", "--show-toplevel")
    own_top = _real(answer) if code == 0 else None
    if top is None or own_top is None:
        raise StateError(f"{state_path}: {where}: git cannot tell which repository holds "
                         f"{shown} (its .git unreadable, or pointing nowhere), so neither can "
                         f"the release it is judged as; {_UPDATE}")
    if own_top == top:
        return
    if top not in own_top.parents:
        raise StateError(f"{state_path}: {where}: {shown} is in a repository at {own_top}, "
                         "outside the monorepo's; a project's folder must be committed "
                         "content of the monorepo or of a submodule it pins")
    parent, commit, depth = top, "HEAD", _DEPTH
    while parent != own_top:
        link, pinned = _next_gitlink(parent, commit, own_top, state_path, where, shown)
        if link is None or pinned is None:
            raise StateError(f"{state_path}: {where}: {shown} is in the repository "
                             f"{_shown(top, own_top)}, which the monorepo does not commit "
                             "(an untracked clone, or a repository of its own): a project's "
                             "folder must be committed content of the monorepo or of a "
                             "submodule it pins; name a committed folder in project.path")
        checkout = parent / link
        if depth <= 0:
            raise StateError(f"{state_path}: {where}: {shown} lies in submodules nested more "
                             f"than {_DEPTH} levels deep, so whether they are checked out as "
                             "pinned cannot be told; nest submodules less deeply")
        if (checkout.resolve(), pinned) not in verified:
            head = checkout_head(checkout.resolve(), Git(checkout))
            if head != pinned:
                now = "is no checkout of its own (its .git gone or moved)" if head is None \
                    else f"is checked out at {head[:12]}"
                raise StateError(f"{state_path}: {where}: the submodule "
                                 f"{_shown(top, checkout)} {now}, but "
                                 f"{_shown(top, parent) if parent != top else 'the monorepo'}"
                                 f" pins {pinned[:12]} for it, so {shown} is not the content "
                                 f"the monorepo releases; {_UPDATE}")
            verified.add((checkout.resolve(), pinned))
        parent, commit, depth = checkout.resolve(), pinned, depth - 1


def _next_gitlink(parent: Path, commit: str, own_top: Path, state_path: Path, where: str,
                  shown: str) -> tuple[str | None, str | None]:
    """The first gitlink ``commit`` (of the repository at ``parent``) pins on the way to
    ``own_top``: its path from ``parent`` and the commit it pins (None, None: none)."""
    parts = own_top.relative_to(parent).parts
    # (The commit's trees walked from its hashed commit object, one folder on the way at a
    # time, through one cat-file process (as one ls-tree was): git's ls-tree read the
    # subtrees unhashed, so a rewritten subtree object pinned a gitlink beside an untracked
    # clone, rt18b A06. The first gitlink on the way is the next submodule.)
    try:
        reader = ObjectReader(git_command(parent, ("cat-file", "--batch")),
                              git_environment(parent))
    except (OSError, ConfigurationUnreadable) as exc:
        raise StateError(f"{state_path}: {where}: git could not run at {parent} ({exc}), so "
                         f"whether the monorepo pins the repository of {shown} cannot be "
                         "told; make git work in this checkout") from None
    with reader:
        try:
            commit_id, tree = commit_root(reader, commit)
        except ObjectUnproven as exc:
            raise StateError(f"{state_path}: {where}: git could not list the commit "
                             f"{commit[:12]} at {parent} on the way to {shown} ({exc}), so "
                             "whether the monorepo pins its repository cannot be told; check "
                             "the submodules out again (git submodule update --init "
                             "--recursive --force)") from None
        try:
            for end, name in enumerate(parts, start=1):
                found = {entry.path: entry for entry in entries(reader, tree)}.get(name)
                if found is not None and found.mode == GITLINK:
                    return "/".join(parts[:end]), found.object_id
                if found is None or found.mode != TREE_MODE:
                    break  # (not committed as a folder here: no submodule below it is pinned)
                tree = found.object_id
        except ObjectUnproven as exc:
            raise StateError(f"{state_path}: {where}: {parent} at {commit_id}: the object "
                             f"store does not hold the tree the commit names ({exc}), so "
                             f"whether the monorepo pins the repository of {shown} cannot be "
                             "told; run git fsck (it names what is missing or corrupt), and "
                             "clone again") from None
    return None, None


def _real(answer: str) -> Path | None:
    try:
        return Path(answer.removesuffix("\n")).resolve() if answer.strip() else None
    except (OSError, RuntimeError):
        return None


def _shown(top: Path | None, folder: Path) -> str:
    if top is None:
        return f"{folder}/"
    try:
        relative = folder.resolve().relative_to(top).as_posix()
    except (ValueError, OSError, RuntimeError):
        return f"{folder}/"
    return "the monorepo's top" if relative == "." else f"{relative}/"
