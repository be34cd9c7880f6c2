"""What checking a blob out writes under the repository's committed attributes alone, with no
configuration or attributes of the job's.

A reviewed file (the approvers file, deploygate.yaml, a checklist), and release content under
a converting attribute, counts as committed when its work-tree bytes are its blob's, or what
git's checkout writes for that blob. What checkout writes was
asked of the job's own repository, where the job's ``.git/config`` (``core.autocrlf``,
``core.eol``, ``core.attributesFile``, its includes), ``.git/info/attributes`` and any
uncommitted ``.gitattributes`` in the work tree choose the conversion: with
``working-tree-encoding=ISO646-NO`` (whose Æ and Å are ASCII's [ and ]) in
``.git/info/attributes``, a reviewed ``roles: Æsre, security-officerÅ`` (no role) was "as
checked out" as ``roles: [sre, security-officer]``, and the sre signed for security (PASS).

So the question goes to a repository of the gate's own, made for it in a temporary folder:
the job's objects (through ``objects/info/alternates``, read only), an empty configuration
(no driver, no line-ending or attributes-file setting: each pinned on the command line as
well), no ``info/attributes``, and a work tree holding only the ``.gitattributes`` files that
HEAD commits in the reviewed file's folder and the folders above it. What it answers is a
fixed function of committed content (``* text=auto`` checks out LF on Linux, as the job's
checkout did; a committed ``eol=crlf`` or ``ident`` is honoured). No filter driver is ever
run (there is none in that configuration: a driver ``cat EDITED-FILE`` of the job's
``.git/config`` once "checked out" any local edit), so no ``git config`` of the job's is read
either. Git LFS is the one filter honest release repositories use: its blob is a pointer
naming the content by SHA-256, so release content holding exactly that content is the
committed content, checked without running git-lfs.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

from pytest_deploygate.core.private_temp import (
    PrivateTempUnavailable,
    private_temporary_directory,
)
from pytest_deploygate.core.programs import find_program
from pytest_deploygate.evidence.git import controlled_environment, git_command, git_environment
from pytest_deploygate.evidence.object_check import object_is

#: Settings that would convert a checkout, pinned to git's own defaults on Linux (the
#: repository made here has no configuration of its own; these say so once more).
_PINNED = ("core.autocrlf=false", "core.eol=lf", "core.attributesFile=/dev/null")

_ATTRIBUTES = ".gitattributes"

#: A Git LFS pointer (spec v1): the version line, optional ``ext-`` lines, the object's
#: SHA-256 and its size, keys sorted, each line ending in LF.
_LFS_POINTER = re.compile(
    rb"version https://git-lfs\.github\.com/spec/v1\n"
    rb"(?:ext-[0-9]-[a-z0-9]+ [^\n]*\n)*"
    rb"oid sha256:(?P<oid>[0-9a-f]{64})\n"
    rb"size (?P<size>0|[1-9][0-9]{0,18})\n")


def as_committed_checkout(root: Path, git_path: str, object_id: str,
                          work: bytes | None) -> bool:
    """Whether ``work`` (a work-tree file's bytes) is what checking out blob ``object_id`` at
    ``git_path`` (from the repository's top) writes under HEAD's committed .gitattributes
    only. False when git cannot say (never a reason to count a file as committed)."""
    return git_path in committed_checkouts(root, [(git_path, object_id, work, False)])


def committed_checkouts(root: Path, files: Sequence[tuple[str, str, bytes | None, bool]]
                        ) -> set[str]:
    """Which of ``files`` (path from the repository's top, blob, work-tree bytes or None,
    whether Git LFS content counts) hold what checking their blob out writes under HEAD's
    committed .gitattributes only; with the LFS flag, also the content the Git LFS pointer
    blob names. One repository of the gate's own serves them all (three git processes to
    make it, one per file)."""
    wanted = [entry for entry in files if entry[2] is not None]
    if not wanted:
        return set()
    objects = _objects_folder(root)
    attributes = _committed_attributes(root, [entry[0] for entry in wanted],
                                       [entry[1] for entry in wanted])
    if objects is None or attributes is None:
        return set()
    # (cat-file --filters prints what the store holds under an id, unhashed: a blob forged
    # there as the edited file's bytes matched. Only blobs proven their id's are compared.)
    wanted = [entry for entry in wanted if entry[1] in attributes[1]]
    if not wanted:
        return set()
    matching: set[str] = set()
    try:
        private = private_temporary_directory("deploygate-checkout-")
    except PrivateTempUnavailable:
        return set()  # (git cannot say: nothing counts as committed)
    with private as temporary:
        place = Path(temporary)
        git_dir, work_tree = place / "git", place / "work"
        (git_dir / "objects" / "info").mkdir(parents=True)
        (git_dir / "refs").mkdir()
        work_tree.mkdir()
        (git_dir / "HEAD").write_text("ref: refs/heads/main\n")
        sha256 = len(wanted[0][1]) == 64
        (git_dir / "config").write_text(
            "[core]\n\trepositoryformatversion = 1\n\tbare = false\n"
            "[extensions]\n\tobjectFormat = sha256\n" if sha256 else
            "[core]\n\trepositoryformatversion = 0\n\tbare = false\n")
        (git_dir / "objects" / "info" / "alternates").write_bytes(bytes(objects) + b"\n")
        for folder, content in attributes[0].items():
            (work_tree / folder).mkdir(parents=True, exist_ok=True)
            (work_tree / folder / _ATTRIBUTES).write_bytes(content)
        pinned = [part for setting in _PINNED for part in ("-c", setting)]
        # The configuration git reads here is this repository's own (empty) and the gate's
        # controlled home: no driver is defined anywhere, so there is none to list and switch
        # off (git_environment would list the job's for every call: a new temporary folder
        # each time, never the same cached answer).
        env = controlled_environment(root, {
            "GIT_DIR": str(git_dir), "GIT_WORK_TREE": str(work_tree),
            "GIT_INDEX_FILE": str(place / "index"), "GIT_ATTR_NOSYSTEM": "1"})
        for git_path, object_id, work, lfs in wanted:
            try:
                done = subprocess.run(
                    [find_program("git", root), "--no-replace-objects", *pinned, "cat-file",
                     "--filters", f"--path={git_path}", object_id],
                    capture_output=True, timeout=60, check=False, cwd=work_tree, env=env,
                    stdin=subprocess.DEVNULL)
            except (OSError, subprocess.TimeoutExpired):
                continue
            if done.returncode == 0 and (done.stdout == work or
                                         (lfs and is_lfs_content(done.stdout, work))):
                matching.add(git_path)
    return matching


def is_lfs_content(pointer: bytes, work: bytes | None) -> bool:
    """Whether ``work`` is the object the Git LFS pointer ``pointer`` names."""
    found = _LFS_POINTER.fullmatch(pointer)
    return found is not None and work is not None and len(work) == int(found["size"]) and \
        hashlib.sha256(work).hexdigest() == found["oid"].decode()


def _objects_folder(root: Path) -> Path | None:
    """The job repository's object folder (absolute), or None when git cannot say."""
    done = _git(root, ("rev-parse", "--git-path", "objects"))
    if done is None or done.returncode != 0:
        return None
    raw = done.stdout.removesuffix(b"\n")
    if not raw or b"\n" in raw:
        return None  # (a path with a line break: cannot be told from the output)
    path = Path(raw.decode("utf-8", "surrogateescape"))
    return path if path.is_absolute() else (root / path).resolve()


def _committed_attributes(root: Path, git_paths: list[str], blobs: list[str]
                          ) -> tuple[dict[str, bytes], set[str]] | None:
    """HEAD's .gitattributes in the folder of each of ``git_paths`` and each one above it, by
    folder (relative to the top, "." for the top), as committed regular files; and which of
    ``blobs`` the object store holds as their ids say (read in the same ``git cat-file``).
    None when git cannot say, or an attributes blob is not what its id says. (A committed
    link named .gitattributes is not read by git: left out.)"""
    folders = {".": None}
    for git_path in git_paths:
        parent = posixpath.dirname(git_path)
        while parent and parent not in folders:
            folders[parent] = None
            parent = posixpath.dirname(parent)
    names = [_ATTRIBUTES if folder == "." else f"{folder}/{_ATTRIBUTES}" for folder in folders]
    listed = _git(root, ("ls-tree", "-z", "--full-tree", "HEAD", "--", *names))
    if listed is None or listed.returncode != 0:
        return None
    attribute_blobs: dict[str, str] = {}
    for entry in listed.stdout.split(b"\0"):
        meta, _, name = entry.partition(b"\t")
        parts = meta.split(b" ")
        path = name.decode("utf-8", "surrogateescape")
        folder = posixpath.dirname(path) or "."
        # (Only the names asked for: a pathspec names a prefix, not necessarily one file.)
        if len(parts) == 3 and parts[0] in (b"100644", b"100755") and parts[1] == b"blob" \
                and posixpath.basename(path) == _ATTRIBUTES and folder in folders:
            attribute_blobs[folder] = parts[2].decode()
    asked = [*attribute_blobs.values(), *blobs]
    if any(not blob.isalnum() for blob in asked):
        return None
    read = _git(root, ("cat-file", "--batch"),
                stdin="".join(f"{blob}\n" for blob in asked).encode())
    if read is None or read.returncode != 0:
        return None
    contents: dict[str, bytes] = {}
    rest = read.stdout
    for blob in asked:
        header, _, rest = rest.partition(b"\n")
        fields = header.split(b" ")
        if len(fields) != 3 or fields[0].decode() != blob or not fields[2].isdigit():
            if blob in attribute_blobs.values():
                return None
            continue  # (missing, or no blob: never compared)
        size = int(fields[2])
        if fields[1] == b"blob" and object_is(blob, b"blob", rest[:size]):
            contents[blob] = rest[:size]
        rest = rest[size + 1:]
    if any(blob not in contents for blob in attribute_blobs.values()):
        return None  # (not the committed attributes: git cannot say which they are)
    return ({folder: contents[blob] for folder, blob in attribute_blobs.items()},
            set(contents))


def _git(root: Path, args: tuple[str, ...], stdin: bytes | None = None
         ) -> subprocess.CompletedProcess[bytes] | None:
    """git ``args`` in the job's repository at ``root`` (object reads only), or None."""
    try:
        return subprocess.run(git_command(root, ("--no-optional-locks", *args)),
                              capture_output=True, timeout=60, check=False,
                              input=b"" if stdin is None else stdin,
                              env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired):
        return None
