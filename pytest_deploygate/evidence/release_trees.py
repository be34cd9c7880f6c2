"""The release tree at many commits at once: each sign-off and waiver commit of a run.

Binding an approval to the release asks for the release tree at the commit that added its
line. One ``git ls-tree`` (or two, with ``.isdlc/checklists``) per commit made a run with
forty sign-off commits start eighty git processes. Here the listings of every commit come from
two ``git cat-file --batch`` processes (the top-level trees, then the folders the release
content keeps part of), and the trees are made by the same function as one commit's
(:func:`~pytest_deploygate.evidence.release.tree_without_top_level`), so both ways agree by
construction. Whatever the batch cannot answer is asked of git one commit at a time, as
before.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path

from pytest_deploygate.evidence.git import git_command, git_environment
from pytest_deploygate.evidence.object_check import object_is
from pytest_deploygate.evidence.release import (
    RECORD_FILES_IN,
    RELEASE_CONTENT_INSIDE,
    Git,
    release_tree,
    top_level_only,
    tree_without_top_level,
)

#: Object id length in bytes, by object format.
_RAW_LENGTH = {"sha1": 20, "sha256": 32}


def release_trees(root: Path, revisions: Iterable[str], *, bookkeeping: tuple[str, ...],
                  prefix: str, object_format: str | None) -> dict[str, str | None]:
    """The release tree at each of ``revisions`` (None where git cannot say), as
    :func:`~pytest_deploygate.evidence.release.release_tree` gives it for one."""
    wanted = list(dict.fromkeys(revisions))
    if object_format not in _RAW_LENGTH or not top_level_only(bookkeeping) or len(wanted) < 2:
        return {revision: release_tree(root, revision, bookkeeping=bookkeeping, prefix=prefix,
                                       object_format=object_format) for revision in wanted}
    assert object_format is not None
    raw_length = _RAW_LENGTH[object_format]
    git = Git(root)
    top = prefix.removesuffix("/")
    listings = _listings(root, [f"{revision}:{top}" for revision in wanted], raw_length)
    # The folders of which the release content keeps part: asked in one more batch.
    records = {path.removesuffix(RECORD_FILES_IN) for path in bookkeeping
               if path.endswith(RECORD_FILES_IN)}
    partial = ({name for name in RELEASE_CONTENT_INSIDE if name in bookkeeping} | records)
    inner = []
    for revision in wanted:
        for entry in (listings.get(f"{revision}:{top}") or "").split("\0"):
            meta, _, name = entry.partition("\t")
            if name in partial and meta.split(" ")[1:2] == ["tree"]:
                inner.append(f"{revision}:{top}/{name}" if top else f"{revision}:{name}")
    listings.update(_listings(root, inner, raw_length))
    return {revision: tree_without_top_level(git, revision, bookkeeping, prefix, object_format,
                                             listings=listings) for revision in wanted}


def _listings(root: Path, names: list[str], raw_length: int) -> dict[str, str]:
    """``ls-tree -z`` text of each tree named (``<revision>:<path>``) that git has; names it
    does not have, or that are no tree, are left out (the caller then asks ``ls-tree``)."""
    if not names or any("\n" in name for name in names):
        return {}
    try:
        done = subprocess.run(
            git_command(root, ("--no-optional-locks", "cat-file", "--batch")),
            input="".join(f"{name}\n" for name in names).encode("utf-8", "surrogateescape"),
            capture_output=True, timeout=60, check=False, env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired):
        return {}
    if done.returncode != 0:
        return {}
    data, position, found = done.stdout, 0, {}
    for name in names:
        end = data.find(b"\n", position)
        if end < 0:
            break
        header = data[position:end].split(b" ")
        if len(header) == 2 and header[1] == b"missing":
            position = end + 1
            continue
        if len(header) != 3 or not header[2].isdigit():
            break  # (an answer this does not know: the rest is asked of ls-tree)
        size = int(header[2])
        body = data[end + 1:end + 1 + size]
        position = end + 1 + size + 1
        if header[1] != b"tree" or len(body) != size or not object_is(header[0], b"tree", body):
            continue  # (ls-tree asked instead; a forged subtree then fails the dirty check)
        listing = _ls_tree_text(body, raw_length)
        if listing is not None:
            found[name] = listing
    return found


def _ls_tree_text(body: bytes, raw_length: int) -> str | None:
    """A tree object's entries as ``git ls-tree -z`` prints them (``<mode> <type> <id>\\t
    <name>``, NUL-terminated; names as :class:`Git` decodes them); None for a malformed one."""
    entries, position = [], 0
    while position < len(body):
        space = body.find(b" ", position)
        nul = body.find(b"\0", space + 1) if space >= 0 else -1
        if space < 0 or nul < 0 or nul + 1 + raw_length > len(body):
            return None
        mode = body[position:space].decode("ascii", "replace").rjust(6, "0")
        name = body[space + 1:nul].decode("utf-8", "surrogateescape")
        object_id = body[nul + 1:nul + 1 + raw_length].hex()
        kind = _KINDS.get(mode, "blob")
        entries.append(f"{mode} {kind} {object_id}\t{name}\0")
        position = nul + 1 + raw_length
    return "".join(entries)


#: The object type of a tree entry, by its mode (git's own: a folder, a submodule).
_KINDS: Mapping[str, str] = {"040000": "tree", "160000": "commit"}
