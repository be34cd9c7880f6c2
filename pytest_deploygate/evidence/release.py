"""The release being gated: what was built and deployed, not whatever HEAD happens to be.

Release content is every file git tracks under the project root except the gate's own
bookkeeping: ``.deploygate/`` (sign-offs, approvers, waivers), the record files in the record
directory and ``.isdlc/`` (the framework's working state, which the gate reads and hashes
into the record) less ``.isdlc/checklists/``: the project's checklists are the gate's
definition, so a commit to them is a new release like any change of what is gated.
Nothing else can be declared bookkeeping: a setting that could exclude ``src/`` would let
unreviewed code ship under an old gate. A monorepo project in its own folder has, besides its
folder, the files at the monorepo root that define its gate (checklists, spec folder,
configuration: see gate_definition.py) as release content; the bookkeeping tuple carries
them as ``OUTSIDE_MARK`` entries, paths from the repository's top.

The release identity is

- the **commit**: the newest commit that changes release content (git's history
  simplification drops merges that only bring in sign-offs, since their release content equals
  a parent's), so committing a sign-off never moves it and a content change always does;
- the **tree**: the git tree of the release content at HEAD (built in a temporary index, so
  the user's index is never touched), comparable across commits and tags;
- the **version**, and whether tracked release content has uncommitted changes (**dirty**).

Outside a git repository there is none: ``problem`` says why, and whatever needs a release
(tag, freshness against the commit, stage binding, ``deploygate verdict``) is refused.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import subprocess
from collections.abc import Callable, Mapping
from datetime import datetime
from fnmatch import fnmatchcase
from pathlib import Path

from pytest_deploygate.core.private_temp import (
    PrivateTempUnavailable,
    private_temporary_directory,
)
from pytest_deploygate.core.programs import find_program, program_path
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.committed_checkout import (
    as_committed_checkout,
    committed_checkouts,
    is_lfs_content,
)
from pytest_deploygate.evidence.gate_definition import CHECKLISTS as CHECKLISTS_FROM_TOP
from pytest_deploygate.evidence.gate_definition import OUTSIDE_MARK
from pytest_deploygate.evidence.git import authors_since, git_command, git_environment
from pytest_deploygate.evidence.git_programs import as_environment, programs_off
from pytest_deploygate.evidence.object_check import object_is
from pytest_deploygate.evidence.shallow import fetch_history_hint
from pytest_deploygate.evidence.toplevel_cache import show_toplevel
from pytest_deploygate.isdlc.layout import (
    CURRENT_ALIASES,
    CURRENT_CHECKLIST_PHASES,
    CURRENT_KEYS,
    LEGACY_KEYS,
)

#: Bookkeeping directories relative to the project root (plus the record files).
BOOKKEEPING_DIRS = (".deploygate", ".isdlc")
#: The one folder inside a bookkeeping directory that is release content (by its name there).
#: The framework installs the project's gate checklists in ``.isdlc/checklists/`` (both
#: layouts: its installer and updater copy them there; it writes nothing else there as it
#: works). The gate imports them on the fly and prefers them to the built-in specs, so they
#: are what it judges: as bookkeeping, a committed checklist with a criterion removed kept the
#: release, and the old release's sign-offs, records and tag bound to a weaker gate.
RELEASE_CONTENT_INSIDE = {".isdlc": "checklists"}
#: The project's own checklists: release content inside the framework's bookkeeping folder.
CHECKLISTS = ".isdlc/checklists"
#: The project's own spec folder when the ini names none (cli/project_ini.py's default).
DEFAULT_SPEC_FOLDER = "gate_specs"
#: The project's configuration file (evidence/config.py's CONFIG_FILE).
CONFIG_FILE_NAME = "deploygate.yaml"
#: The names of the files the gate writes in its record directory (``GATE-12-pre.xml``, its
#: ``.md``, ``.html`` and ``.intoto.json``; ``13-production.xml`` in today's layout). In the
#: record directory only these are bookkeeping, never the whole folder: the directory is
#: whatever --gate-record-dir, the ini setting or a link left by a build step says, and a
#: folder of release content (``src/``) named there made a change to it no change at all
#: (a sign-off of other content counted, and the record bound to the changed release).
#: Named exactly (a gate number, or a phase key of either layout), not by a pattern: any
#: "number, dash, word" (Liquibase's ``01-create-users.xml``, a chapter ``02-intro.md``) was
#: a record too. (A spec with an id of its own, not a phase key, writes release content.)
RECORD_IDS = ("GATE-[0-9][0-9]", "GATE-[0-9][0-9][0-9]", *sorted(
    {*LEGACY_KEYS, *CURRENT_KEYS, *CURRENT_ALIASES, *CURRENT_CHECKLIST_PHASES}))
RECORD_FILE_GLOBS = tuple(f"{stem}{stage}.{suffix}" for stem in RECORD_IDS
                          for stage in ("", "-pre", "-post")
                          for suffix in ("xml", "md", "html", "intoto.json"))
#: How a bookkeeping tuple names "the record files in this folder": ``gate-records/*``.
RECORD_FILES_IN = "/*"
#: Record properties that carry the identity.
COMMIT_PROPERTY = "deploygate.commit"
TREE_PROPERTY = "deploygate.tree"
VERSION_PROPERTY = "deploygate.version"
DIRTY_PROPERTY = "deploygate.dirty"
#: The value of the commit and tree properties when there is no release identity.
UNKNOWN = "unknown"
_SHOWN = 5
_VERSION_TAG = re.compile(r"^v?\d+(\.\d+)*([.+-].*)?$")


@value_class(frozen=True)
class ReleaseIdentity:
    """Commit, tree and version of the gated release; ``problem`` says why there is none."""

    commit: str | None
    tree: str | None
    version: str | None
    dirty: bool
    problem: str | None
    #: Committer time of :attr:`commit` (what ``not_before: commit`` compares against).
    committed_at: datetime | None = None
    #: Tracked release-content paths with uncommitted changes (some of them, for messages).
    changed: tuple[str, ...] = ()
    #: The path of the project root inside its repository (``""`` at the top).
    prefix: str = ""
    #: The repository's object format (``sha1``, ``sha256``), when git said.
    object_format: str | None = None

    @property
    def known(self) -> bool:
        """True when there is a release commit and tree to bind to."""
        return self.problem is None and self.commit is not None and self.tree is not None

    def describe(self) -> str:
        """``commit 1a2b3c4d5e6f tree 9f8e7d6c5b4a version 1.4.0`` for messages."""
        if not self.known:
            return f"no release identity ({self.problem})"
        assert self.commit is not None and self.tree is not None
        text = f"commit {self.commit[:12]} tree {self.tree[:12]} version {self.version}"
        return text + (" (uncommitted changes)" if self.dirty else "")

    def properties(self) -> dict[str, str]:
        """The record properties naming this release."""
        props = {COMMIT_PROPERTY: self.commit or UNKNOWN, TREE_PROPERTY: self.tree or UNKNOWN,
                 DIRTY_PROPERTY: str(self.dirty).lower()}
        if self.version:
            props[VERSION_PROPERTY] = self.version
        if self.problem:
            props["deploygate.release_problem"] = self.problem
        return props


class Git:
    """git in one directory, controlled (see :func:`git_environment`); every answer as
    (exit code, stdout)."""

    def __init__(self, root: Path, env: Mapping[str, str] | None = None) -> None:
        self.root = root
        self.env = env

    def __call__(self, *args: str, stdin: str | None = None) -> tuple[int, str]:
        try:
            # (First: listing the job's drivers answers the top too, for the cache below.)
            env = git_environment(self.root, self.env)
        except OSError as exc:
            return 128, str(exc)
        if args == ("rev-parse", "--show-toplevel") and self.env is None and stdin is None:
            # (Asked again and again of the same checkout: once per discovery key.)
            return show_toplevel(self.root, lambda: self._run(args, None, env))
        return self._run(args, stdin, env)

    def _run(self, args: tuple[str, ...], stdin: str | None, env: dict[str, str]
             ) -> tuple[int, str]:
        try:
            # The same controlled git as sign-off attribution: no GIT_* variables, no user or
            # system configuration, no mailmap or replace refs to rewrite authors or history.
            # Bytes, decoded here: text mode turns every "\r" git prints into "\n", so a path
            # renamed from "a\nb" to "a\rb" kept the release tree (and the sign-offs given
            # on the other content), and the cat-file batch, which reads bytes, disagreed.
            done = subprocess.run(
                git_command(self.root, ("--no-optional-locks", *args)),
                input=None if stdin is None else stdin.encode("utf-8", "surrogateescape"),
                capture_output=True, timeout=60, check=False, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 128, str(exc)
        return done.returncode, done.stdout.decode("utf-8", "surrogateescape")


def bookkeeping_paths(root: Path, record_dir: Path | None) -> tuple[str, ...]:
    """The bookkeeping directories relative to the project root, and the record files in the
    record directory (``gate-records/*``, see RECORD_FILE_GLOBS) when it lies inside the root.

    The record directory is taken as named, its last part not followed when it is a link:
    ``gate-records`` linked to ``src`` keeps the records' names in ``gate-records/``, not
    ``src/``'s files."""
    paths = list(BOOKKEEPING_DIRS)
    if record_dir is not None:
        named = Path(os.path.normpath(os.path.abspath(record_dir)))
        try:
            relative = (named.parent.resolve() / named.name).relative_to(
                root.resolve()).as_posix()
        except (ValueError, OSError):
            relative = ""
        entry = relative + RECORD_FILES_IN
        if relative and relative != "." and entry not in paths:
            paths.append(entry)
    # A monorepo project's gate definition outside its folder (the root's checklists, spec
    # folder and configuration) is its release content: see gate_definition.py.
    from pytest_deploygate.evidence.gate_definition import outside_entries

    return (*paths, *outside_entries(root))


def spec_folder_problem(root: Path, folder: Path) -> str | None:
    """Why the gate may not read its specs from ``folder`` (None when it may): a folder in
    the gate's bookkeeping (``.deploygate/specs``, ``.isdlc/gates``, followed through links)
    holds no release content, so a committed spec there (a criterion removed) changed the
    gate while the old release, its sign-offs and its records kept binding."""
    try:
        relative = folder.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return _outside_problem(root, folder)
    # A spec's name, not the folder's: the framework's folder holds the checklists too.
    if relative == "." or not is_bookkeeping(f"{relative}/12-production.yaml",
                                             BOOKKEEPING_DIRS):
        return None
    return (f"{relative}/ is the gate's bookkeeping, not release content, so a commit there "
            "would change the gate without a new release; keep the specs in a folder of "
            "release content (gate_specs/)")


def _outside_problem(root: Path, folder: Path) -> str | None:
    """Why a spec folder outside the project may not be read: one in the project's own
    repository (``../gate_specs`` of a project in a folder of it) holds no release content
    of the project, so a commit weakening a spec there kept the release, its sign-offs and
    its records, and the gate and verdict both read the weaker spec. A folder outside the
    repository is the machine's (None: not this rule's to judge), and one that does not
    exist holds no spec (the default ``gate_specs/`` of an ini above the project)."""
    if not (folder.exists() or folder.is_symlink()):
        return None
    code, top = Git(root)("rev-parse", "--show-toplevel")
    top = top.removesuffix("\n")
    if code != 0 or not top:
        return None
    try:
        inside = folder.resolve().is_relative_to(Path(top).resolve())
    except (OSError, RuntimeError):
        inside = True
    if not inside:
        return None
    return (f"{folder} is outside the project {root} but in its repository, so a commit "
            "there would change the gate without a new release of the project; keep the "
            "specs in a folder of the project (gate_specs/)")


def release_content_pathspecs(bookkeeping: tuple[str, ...]) -> list[str]:
    """The pathspecs (from ``--``) of the release content under the current directory:
    ``git log -1 --format=%H <commit> <these>`` names a commit's release commit."""
    return _pathspecs(bookkeeping)


def _glob_escaped(text: str) -> str:
    return re.sub(r"([*?\\[\]])", r"\\\1", text)


def _pathspecs(bookkeeping: tuple[str, ...]) -> list[str]:
    specs = ["--", "."]
    for path in bookkeeping:
        if path.startswith(OUTSIDE_MARK):
            # Release content outside the project's folder, from the repository's top.
            specs.append(f":(top,literal){path.removeprefix(OUTSIDE_MARK)}")
        elif path.endswith(RECORD_FILES_IN):
            folder = _glob_escaped(path.removesuffix(RECORD_FILES_IN))
            specs += [f":(exclude,glob){folder}/{name}" for name in RECORD_FILE_GLOBS]
        elif path in RELEASE_CONTENT_INSIDE:
            specs += _excluding_all_but(path, RELEASE_CONTENT_INSIDE[path])
        else:
            specs.append(f":(exclude,literal){path}")
    return specs


def _excluding_all_but(folder: str, kept: str) -> list[str]:
    """Exclude pathspecs for everything in ``folder`` but its entry ``kept`` and what is
    below it.

    A git pathspec cannot take an exclusion back, so "every name in the folder but
    ``kept``" is spelled out: a name whose first letter differs, one that shares the first
    letters and differs in the next, a shorter start of ``kept``, or ``kept`` and more; each
    as itself and with everything below it."""
    base = _glob_escaped(folder)
    names = [f"[!{kept[0]}]*", f"{kept}?*"]
    for length in range(1, len(kept)):
        names += [f"{kept[:length]}[!{kept[length]}]*", kept[:length]]
    return [f":(exclude,glob){base}/{name}{below}" for name in names for below in ("", "/**")]


def _is_record_file(name: str) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in RECORD_FILE_GLOBS)


def is_bookkeeping(relative: str, bookkeeping: tuple[str, ...]) -> bool:
    """Whether the path (relative to the project root) is the gate's bookkeeping, by the
    entries of :func:`bookkeeping_paths`."""
    for path in bookkeeping:
        if path.startswith(OUTSIDE_MARK):
            continue  # (release content outside the project, never bookkeeping)
        if path.endswith(RECORD_FILES_IN):
            folder, _, name = relative.rpartition("/")
            if folder == path.removesuffix(RECORD_FILES_IN) and _is_record_file(name):
                return True
        elif relative == path or relative.startswith(path + "/"):
            inside = RELEASE_CONTENT_INSIDE.get(path)
            if inside is None:
                return True
            kept = f"{path}/{inside}"
            # The folder itself holds release content too (a link to it is refused as a
            # folder that holds bookkeeping; one through it to a checklist is fine).
            if relative != path and relative != kept and not relative.startswith(kept + "/"):
                return True
    return False


def release_identity(root: Path, *, record_dir: Path | None, version: str | None,
                     spec_dir: Path | None = None) -> ReleaseIdentity:
    """The release identity of the project at ``root`` (never raises).

    ``spec_dir``: the folder of the project's own gate specs (default ``gate_specs/``), whose
    spec files must be HEAD's as the checklists must (an untracked spec there is read by the
    gate and by verdict, yet git diff never shows it)."""
    git = Git(root)
    specs = spec_dir if spec_dir is not None else root / DEFAULT_SPEC_FOLDER
    # One git process for five answers, a line each (a git process is most of this
    # function's cost): inside a work tree?, the root's path in it, where shallow is kept, the
    # object format, and HEAD's commit (this last one fails in a repository without commits).
    # (HEAD's tree, which git hash-checks as it peels HEAD's commit: the dirty check proves
    # the index it reads from HEAD is that tree.)
    code, answers = git("rev-parse", "--is-inside-work-tree", "--show-prefix", "--git-path",
                        "shallow", "--show-object-format", "--verify", "-q", "HEAD^{tree}")
    lines = answers.removesuffix("\n").split("\n")
    if code == 0 and len(lines) == 5 and lines[0].strip() == "true":
        prefix, shallow_path, object_format, head_tree = lines[1:5]
        return _identity(git, root, record_dir, version, prefix, shallow_path, object_format,
                         specs, head_tree)
    code, answers = git("rev-parse", "--is-inside-work-tree", "--show-prefix", "--git-path",
                        "shallow")
    lines = answers.removesuffix("\n").split("\n")
    if code == 0 and len(lines) != 3:
        # A path with a line break in it: ask one question at a time, as lines cannot tell.
        lines = [git("rev-parse", option)[1].removesuffix("\n")
                 for option in ("--is-inside-work-tree", "--show-prefix")]
        lines.append(git("rev-parse", "--git-path", "shallow")[1].removesuffix("\n"))
    if code != 0 and answers.strip():
        # git did not run (its own errors go to stderr, never here): a configuration whose
        # programs cannot be listed, no git found. Say why, not "no repository".
        return ReleaseIdentity(None, None, version, False, answers.strip())
    if code != 0 or lines[0].strip() != "true":
        return ReleaseIdentity(None, None, version, False,
                               f"{root} is not in a git repository, so there is no release "
                               "commit or tree")
    # Raw, never stripped: " svc/" and "svc/" are different directories.
    prefix, shallow_path = lines[1], lines[2]
    if git("rev-parse", "--verify", "-q", "HEAD")[0] != 0:
        return ReleaseIdentity(None, None, version, False,
                               f"the git repository at {root} has no commit yet")
    return _identity(git, root, record_dir, version, prefix, shallow_path, None, specs)


def _identity(git: Git, root: Path, record_dir: Path | None, version: str | None,
              prefix: str, shallow_path: str, object_format: str | None,
              specs: Path, head_tree: str | None = None) -> ReleaseIdentity:
    """The identity of a work tree with commits (``prefix``: the root's path in it, raw)."""
    bookkeeping = bookkeeping_paths(root, record_dir)
    code, out = git("log", "-1", "--format=%H %cI", "HEAD", *_pathspecs(bookkeeping))
    if code != 0:
        return ReleaseIdentity(None, None, version, False, f"git log failed in {root}")
    if not out.strip():
        return ReleaseIdentity(None, None, version, False,
                               "no commit holds any release content (only bookkeeping files "
                               "are committed)")
    commit, _, stamp = out.strip().partition(" ")
    if commit in _shallow_boundary(root, shallow_path):
        return ReleaseIdentity(None, None, version, False,
                               "the repository is a shallow clone cut off at the newest "
                               "release-content commit, so which commit made the release "
                               f"cannot be told: {fetch_history_hint()}")
    tree = release_tree(root, "HEAD", bookkeeping=bookkeeping, prefix=prefix,
                        object_format=object_format)
    if tree is None:
        return ReleaseIdentity(None, None, version, False,
                               f"git could not build the release tree in {root}")
    linked = _link_problem(git, prefix, bookkeeping)
    if linked:
        return ReleaseIdentity(None, None, version, False, linked)
    changed = _uncommitted(git, root, prefix, bookkeeping, specs, head_tree, object_format)
    return ReleaseIdentity(commit, tree, version, bool(changed), None,
                           committed_at=datetime.fromisoformat(stamp), changed=changed,
                           prefix=prefix, object_format=object_format)


#: How many links one path may pass through (the kernel's own limit is 40).
_LINK_HOPS = 40


def _link_problem(git: Git, prefix: str, bookkeeping: tuple[str, ...]) -> str | None:
    """Why a symbolic link in the release content at HEAD makes the release content not say
    what is deployed (None when every link resolves to release content).

    A link is a blob holding its target's name: the file it points to is what runs. A link
    into the gate's bookkeeping (``src/settings.py -> ../.isdlc/settings.py``), out of the
    project, or to a file git does not track let that file change after the sign-offs
    without a new release (a bookkeeping commit keeps the release, its sign-offs and its tag).
    So every link must resolve, through any further links, to tracked release content that
    holds no bookkeeping."""
    top = prefix.removesuffix("/")
    code, listing = git("ls-tree", "-r", "-z", "--full-tree", f"HEAD:{top}" if top else "HEAD")
    if code != 0:
        return "git could not list the release content to check its symbolic links"
    links: dict[str, str] = {}
    files: dict[str, str] = {}
    folders: set[str] = set()
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split(" ")
        if len(parts) != 3 or is_bookkeeping(path, bookkeeping):
            continue
        files[path] = parts[0]
        if parts[0] == "120000":
            links[path] = parts[2]
        folder = path.rpartition("/")[0]
        while folder and folder not in folders:
            folders.add(folder)
            folder = folder.rpartition("/")[0]
    if not links:
        return None
    targets = _blobs(git, links)
    if targets is None:
        return "git could not read the symbolic links in the release content"
    for path in sorted(links):
        why = _link_target_problem(path, targets, files, folders, bookkeeping)
        if why:
            return (f"{prefix}{path} is a symbolic link to {targets[path]!r}, which {why}: "
                    "that file can change without a new release, so the release content "
                    "does not say what is deployed; commit the file itself in place of the "
                    "link")
    return None


def _blobs(git: Git, links: Mapping[str, str]) -> dict[str, str] | None:
    """Each link's target (path -> the blob's text), one ``git cat-file`` for all."""
    try:
        done = subprocess.run(
            git_command(git.root, ("--no-optional-locks", "cat-file", "--batch")),
            input="".join(f"{oid}\n" for oid in links.values()).encode(),
            capture_output=True, timeout=60, check=False, env=git_environment(git.root))
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0:
        return None
    data, position, targets = done.stdout, 0, {}
    for path in links:
        end = data.find(b"\n", position)
        header = data[position:end].split(b" ") if end >= 0 else []
        if len(header) != 3 or header[1] != b"blob" or not header[2].isdigit():
            return None
        size = int(header[2])
        target = data[end + 1:end + 1 + size]
        if not object_is(header[0], b"blob", target):
            return None  # (not the committed link: the release content cannot be told)
        targets[path] = os.fsdecode(target)
        position = end + 1 + size + 1
    return targets


def _link_target_problem(path: str, targets: Mapping[str, str], files: Mapping[str, str],
                         folders: set[str], bookkeeping: tuple[str, ...]) -> str | None:
    """Why the link at ``path`` does not resolve to release content (None when it does)."""
    if targets[path].startswith("/"):
        return "is an absolute path, outside the release content"
    pending = path.split("/")[:-1] + targets[path].split("/")
    resolved: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not resolved:
                return "points outside the project"
            resolved.pop()
            continue
        candidate = "/".join([*resolved, part])
        if is_bookkeeping(candidate, bookkeeping):
            return "points into the gate's bookkeeping, which is not release content"
        if candidate in targets:
            hops += 1
            if hops > _LINK_HOPS:
                return "is a loop of symbolic links"
            inner = targets[candidate]
            if inner.startswith("/"):
                return "passes through a link to an absolute path, outside the release content"
            pending[:0] = inner.split("/")
            continue
        if files.get(candidate) == "160000":
            return None  # inside a submodule: pinned by its commit, and checked for changes
        if candidate not in files and candidate not in folders:
            return "names nothing git tracks as release content"
        if candidate in files and pending and any(p not in ("", ".") for p in pending):
            return "names a path below a file"
        resolved.append(part)
    target = "/".join(resolved)
    for entry in outside_the_marks(bookkeeping):
        held = entry.removesuffix(RECORD_FILES_IN)
        if not target or held == target or held.startswith(target + "/"):
            return "is a folder that holds the gate's bookkeeping"
    return None


#: Settings that make git trust what the index remembers of a file instead of looking at it:
#: the repository's own configuration is the developer's, so the dirty check sets them back.
#: (core.fsmonitor is off for every controlled git: see git.py.) In the scratch index of
#: :func:`_uncommitted`, which holds no stat data at all, they are a second line only.
_LOOK_AT_THE_FILES = ("-c", "core.ignoreStat=false", "-c", "core.checkStat=default",
                      "-c", "core.trustctime=true", "-c", "core.untrackedCache=false",
                      # (Porcelain git diff hashes a file whose stat data differs only
                      # under this; false listed every file of the scratch index as changed.)
                      "-c", "diff.autoRefreshIndex=true",
                      # What counts as a change is the gate's to say, not the job's
                      # .git/config: core.autocrlf (true or input) or core.eol=crlf made a
                      # CR/LF-only edit of a file with no text attribute compare equal,
                      # core.filemode=false an executable bit set by hand, core.symlinks=false
                      # a link replaced by a file holding its target. Pinned to git's own
                      # defaults on Linux, as the repository was checked out; HEAD's committed
                      # .gitattributes still choose each file's conversion (a file under one
                      # is compared with what checkout writes: _converted_differently).
                      *(part for setting in ("core.autocrlf=false", "core.eol=lf",
                                             "core.safecrlf=false", "core.filemode=true",
                                             "core.symlinks=true", "core.ignorecase=false")
                        for part in ("-c", setting)))
#: Settings that keep the scratch index one plain file in its private folder, every entry a
#: full one: no shared index written beside the repository's (core.splitIndex), no sparse
#: index or skip-worktree bits from a sparse-checkout definition.
_PLAIN_INDEX = ("-c", "core.splitIndex=false", "-c", "index.sparse=false",
                "-c", "core.sparseCheckout=false")


def _uncommitted(git: Git, root: Path, prefix: str, bookkeeping: tuple[str, ...],
                 spec_dir: Path, head_tree: str | None = None,
                 object_format: str | None = None) -> tuple[str, ...]:
    """Tracked release-content paths whose work tree or index differs from HEAD (paths as
    ``git diff`` names them, from the repository's top).

    The work tree is compared with HEAD through a scratch index read from HEAD, never
    through the job's own ``.git/index``: that file is the job user's, and its stat data is
    what git trusts to skip a file. An entry given HEAD's blob id and the edited file's own
    ctime, mtime, inode and size (rewritten by hand, checksum and all) made an edited
    CHANGELOG.md look committed to ``git diff HEAD``. The scratch index holds no stat data,
    so git hashes every file, and no skip-worktree or assume-unchanged bit (which git diff
    and git status never look past). The job's index is compared with HEAD apart
    (``git diff --cached``: blob ids only, no stat data), as a staged change is one too."""
    specs = _pathspecs(bookkeeping)
    # No filter driver of the job's configuration runs as git hashes the files (a clean
    # command could say anything, and is a program of the job user's): git_environment
    # switches every one off (git_programs.py). A file under one is compared byte for byte
    # below (_converted_differently), as it was.
    try:
        private = private_temporary_directory("deploygate-dirty-")
    except PrivateTempUnavailable as exc:
        return (f"(the dirty check has {exc})",)
    with private as tmp:
        # (A private folder: not the work tree, not .git, gone when done; its index.lock too.)
        scratch = Git(root, {"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        code, _ = scratch(*_PLAIN_INDEX, "read-tree", "HEAD")
        if code != 0:
            return ("(git read-tree failed)",)
        # read-tree hashes HEAD's commit and root tree, never a subtree it reads: a loose
        # object overwritten under a reviewed subtree's id (listing an edited file's blob)
        # filled the index with entries that hid the edit (rt17c A02). Every entry, hashed up
        # the way git writes trees, must make HEAD's tree. (One listing, hashed here: cheaper
        # than a second index and write-tree into a private object folder.)
        if _index_is_not(scratch, head_tree, object_format):
            return (_FORGED_STORE,)
        # Hash every file once and remember its stat data now, in the scratch index only:
        # git diff then compares each entry it finds changed by content, reading HEAD's
        # blob, which is several times slower for every file than this hash. (A cache of
        # this process's own making: its answer is never needed, so its exit code is not;
        # an entry it leaves stale, or racily clean, git diff compares in full.)
        scratch(*_LOOK_AT_THE_FILES, *_PLAIN_INDEX, "update-index", "-q", "--refresh")
        # --ignore-submodules=all: each submodule is checked below (submodules.py), its
        # folder against the commit HEAD pins, moved HEAD, removed gitfile and all. git's own
        # look into one trusted the submodule's own index (its assume-unchanged and
        # skip-worktree bits, its stat data: rt17b A01) and took a folder without its .git
        # for one not checked out, whatever it held (rt17b A04).
        code, diff = scratch(*_LOOK_AT_THE_FILES, *_PLAIN_INDEX, "diff", "--no-ext-diff",
                             "--no-textconv", "--ignore-submodules=all", "--name-only", "-z",
                             *specs)
        if code != 0:
            return ("(git diff failed)",)
        changed = [p for p in diff.split("\0") if p]
        # HEAD's entries (mode, blob), for the files git compares only after converting.
        code, listing = scratch(*_LOOK_AT_THE_FILES, *_PLAIN_INDEX, "ls-files", "-v", "-s",
                                "-z", *specs)
        if code != 0:
            return (*changed, "(git ls-files failed)")
    # (--ita-visible-in-index: a file added with ``git add -N`` is a new file, as git diff
    # HEAD listed it, and git ls-files lists it.)
    code, staged = git("diff", "--cached", "--ita-visible-in-index", "--no-ext-diff",
                       "--no-textconv", "--ignore-submodules=none", "--name-only", "-z",
                       "HEAD", *specs)
    if code != 0:
        return (*changed, "(git diff --cached failed)")
    changed += [p for p in staged.split("\0") if p]
    files: dict[str, tuple[str, str]] = {}
    for entry in listing.split("\0"):
        meta, _, path = entry.partition("\t")
        parts = meta.split(" ")
        if len(parts) != 4:
            continue
        files[path] = (parts[1], parts[2])
        if not (parts[0] == "S" or parts[0].islower()):
            continue  # (git looked at this file itself)
        # (Never so in a scratch index read from HEAD; compared byte for byte if ever.)
        if _differs_from_index(root / path, parts[1], parts[2]):
            changed.append(posixpath.normpath(prefix + path))
    differing, lfs_objects = _converted_differently(git, root, prefix, files)
    changed += [posixpath.normpath(prefix + path) for path in differing]
    from pytest_deploygate.evidence.submodules import (
        Comparison,
        gitlinks,
        uncommitted_submodules,
    )

    # (Whatever .gitmodules or diff.ignoreSubmodules say: ``ignore = all`` hid an edit.)
    changed += uncommitted_submodules(root, prefix, gitlinks(files), Comparison(
        Git, _LOOK_AT_THE_FILES, _PLAIN_INDEX, _converted_differently))
    for path in lfs_objects:
        # git diff, which reads no user configuration, compares an LFS file's content with
        # its pointer when git-lfs is installed for the runner's user only (not --local):
        # the file is committed when it is the object HEAD's pointer (the index's) names.
        name = posixpath.normpath(prefix + path)
        if name in changed and git("rev-parse", "--verify", "-q", f"HEAD:{name}"
                                   ) == (0, files[path][1] + "\n"):
            changed.remove(name)
    changed += _uncommitted_in(git, root, prefix, CHECKLISTS)
    changed += _uncommitted_specs(git, root, prefix, spec_dir)
    # The project's own deploygate.yaml, untracked (none committed): git diff does not show
    # it, and the gate is configured by it all the same (sign-off authorship turned off).
    changed += _uncommitted_in(git, root, prefix, ".", CONFIG_FILE_NAME.__eq__)
    changed += _uncommitted_outside(root, prefix, bookkeeping)
    return tuple(dict.fromkeys(changed))


#: The one line of a dirty check whose object store does not hold what HEAD's tree id says.
_FORGED_STORE = ("(the repository's object store does not hold the tree HEAD names, a corrupt "
                 "or forged object: run git fsck, and clone again)")


def _index_is_not(scratch: Git, tree: str | None, object_format: str | None) -> bool:
    """Whether the index ``scratch`` uses, just read from a commit, is not that commit's
    tree ``tree`` (unknown: asked of git here), every entry hashed (git_tree.index_tree_id)."""
    from pytest_deploygate.evidence.git_tree import index_tree_id

    if tree is None or object_format is None:
        code, answers = scratch("rev-parse", "--show-object-format", "--verify", "-q",
                                "HEAD^{tree}")
        lines = answers.split()
        if code != 0 or len(lines) != 2:
            return True
        object_format, tree = lines
    code, listing = scratch(*_PLAIN_INDEX, "ls-files", "-s", "-z", "--full-name", "--", ":/")
    return code != 0 or index_tree_id(listing, object_format) != tree


def _uncommitted_outside(root: Path, prefix: str, bookkeeping: tuple[str, ...]) -> list[str]:
    """The files of the release content outside the project's folder (its gate definition
    at a monorepo root) that are there untracked, or gone: git diff shows an edited one, not
    a checklist, spec or deploygate.yaml added without a commit, which the gate reads all
    the same."""
    outside = outside_paths(bookkeeping)
    if not outside:
        return []
    from pytest_deploygate.evidence.gate_definition import links_of, spec_folder_of
    from pytest_deploygate.spec.library import is_spec_name

    top = root.resolve()
    for _ in range(prefix.removesuffix("/").count("/") + 1 if prefix else 0):
        top = top.parent
    git = Git(top)
    specs = spec_folder_of(root)
    links = links_of(root)
    changed: list[str] = []
    files: dict[str, set[str]] = {}
    for path in outside:
        folder, _, name = path.rpartition("/")
        if path in links:
            # A link on the way to the spec folder: git diff shows a committed one changed
            # (or gone); one HEAD does not hold as a link is a spec folder nobody committed.
            code, listing = git("ls-tree", "-z", "--full-tree", "HEAD", "--", path)
            if code != 0 or not listing.startswith("120000 "):
                changed.append(path)
        elif path in (CHECKLISTS_FROM_TOP, specs) or path.endswith("/" + CHECKLISTS_FROM_TOP):
            counts = is_spec_name if path == specs else (lambda name: True)
            changed += _uncommitted_in(git, top, "", path, counts)
        else:  # (configuration files: one listing per folder)
            files.setdefault(folder or ".", set()).add(name)
    for folder, names in files.items():
        changed += _uncommitted_in(git, top, "", folder, names.__contains__)
    return changed


def _uncommitted_specs(git: Git, root: Path, prefix: str, specs: Path) -> list[str]:
    """The spec files of the project's spec folder (paths from the repository's top) that
    are not HEAD's: an untracked ``gate_specs/12-production.yaml`` (a criterion removed)
    took the gate's place, and the gate and verdict read it alike, so a failing release
    passed, bound by verdict. Only names the gate reads as specs count. (A folder outside
    the project is refused as the spec folder: spec_folder_problem.)"""
    from pytest_deploygate.spec.library import is_spec_name

    try:
        relative = specs.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError):
        return []
    # (The project root itself too: git diff shows no untracked file there either.)
    return _uncommitted_in(git, root, prefix, relative, is_spec_name)


def _uncommitted_in(git: Git, root: Path, prefix: str, relative: str,
                    counts: Callable[[str], bool] = lambda name: True) -> list[str]:
    """The files of the folder ``relative`` (to ``root``) whose name ``counts`` and whose
    work-tree file is not HEAD's (paths from the repository's top): edited, added or
    removed without a commit (a gate spec nobody reviewed: a project checklist keeping only
    two criteria that pass made a failing release PASS, bound by verdict). git diff sees an
    edited one (release content), but not an untracked one, which the gate reads all the
    same."""
    folder = root / relative
    inside = f"{prefix}{relative}/" if relative != "." else prefix  # (git's spelling)
    present = sorted(p.name for p in folder.iterdir() if counts(p.name)) \
        if folder.is_dir() else []
    code, listing = git("ls-tree", "-z", "--name-only", "--full-tree",
                        f"HEAD:{inside.removesuffix('/')}")
    committed = {name for name in listing.split("\0") if name and counts(name)} \
        if code == 0 else set()
    # A folder in a submodule (``gate_specs`` kept as one): HEAD holds no tree there, only
    # the gitlink, so every file read as "not committed" and an honest release was dirty to
    # the gate and refused by verdict. Its files are compared with the commit the gitlink
    # pins (content-addressed: a change there is a new commit of the superproject).
    pinned = None if code == 0 else _pinned_by_submodule(git, root, prefix, relative)
    if isinstance(pinned, str):
        # A submodule HEAD pins on the way, not checked out (a clone without
        # --recurse-submodules, or emptied): its files, the project's own specs, cannot be
        # read, and an empty folder let the built-in spec judge instead (rt17c A03).
        return [f"{prefix}{pinned}"]
    if pinned is not None:
        committed = {name for name in pinned if counts(name)}
    changed = [f"{inside}{name}" for name in sorted(committed - set(present))]
    for name in present:
        path = folder / name
        if path.is_symlink():  # (a link is read as its target: never the reviewed file)
            differs = True
        elif path.is_dir():
            differs = name not in committed
        elif pinned is not None:
            # (Raw bytes, no conversion: fail closed on a file checkout would convert.)
            differs = name not in pinned or _differs_from_index(path, *pinned[name])
        else:
            differs = uncommitted_file_problem(root, path) is not None
        if differs:
            changed.append(f"{inside}{name}")
    return changed


def _pinned_by_submodule(git: Git, root: Path, prefix: str, relative: str
                         ) -> dict[str, tuple[str, str]] | str | None:
    """The entries (name: mode, object) of the folder ``relative`` (to ``root``) at the
    commit a gitlink of HEAD pins, when the folder is in a submodule HEAD commits and checked
    out; the submodule's path (from ``root``) when it is one HEAD commits but not checked out
    as that commit (its folder missing, a link, no checkout of its own, or the pinned commit
    or folder not in it); None when no gitlink of HEAD is on the way. Read from the
    submodule's own objects by that commit's id, never by its HEAD or branch (which the job
    can move)."""
    parts = [] if relative == "." else relative.split("/")
    for at in range(1, len(parts) + 1):
        link = "/".join(parts[:at])
        code, entry = git("ls-tree", "-z", "--full-tree", "HEAD", "--", f"{prefix}{link}")
        meta, _, name = entry.removesuffix("\0").partition("\t")
        fields = meta.split(" ")
        if code != 0 or name != f"{prefix}{link}" or len(fields) != 3:
            return None
        if fields[0] == "040000":
            continue
        if fields[0] != "160000":
            return None  # (a file or a link on the way: no folder HEAD commits)
        module = root / link
        from pytest_deploygate.evidence.submodules import checkout_of_its_own

        if checkout_of_its_own(module, Git) is None:
            return link  # (not checked out: gone, a link, git answered for the superproject)
        sub = Git(module)
        rest = "/".join(parts[at:])
        code, listing = sub("ls-tree", "-z", "--full-tree",
                            f"{fields[2]}:{rest}" if rest else fields[2])
        if code != 0:
            return link  # (the pinned commit, or that folder in it, is not there)
        pinned: dict[str, tuple[str, str]] = {}
        for line in listing.split("\0"):
            meta, _, name = line.partition("\t")
            fields_in = meta.split(" ")
            if name and len(fields_in) == 3:
                pinned[name] = (fields_in[0], fields_in[2])
        return pinned
    return None


#: The attributes under which git compares a file only after converting it (``ident``
#: collapses ``$Id: anything $`` to ``$Id$``, ``text``/``eol``/``crlf`` drop carriage
#: returns, ``working-tree-encoding`` re-encodes, ``filter`` runs a clean command).
_CONVERTING = ("text", "eol", "crlf", "ident", "filter", "working-tree-encoding")


def _converted_differently(git: Git, root: Path, prefix: str, files: Mapping[str, tuple[str, str]]
                           ) -> tuple[list[str], list[str]]:
    """The tracked files (paths as ``files`` names them, from ``root``) whose work-tree bytes
    are not what git would check out for their index entry, among those a conversion
    attribute applies to.

    git diff compares such a file after its clean conversion, so any ``.gitattributes``
    (committed, or left untracked in the work tree) could make a changed file compare equal:
    under ``ident``, ``VERSION = "$Id: "; os.system(...) #$"`` cleans to the committed
    ``VERSION = "$Id$"``. Here the work-tree bytes are compared with what checking the
    entry out writes (``git cat-file --filters``), byte for byte, unless they are the
    committed bytes themselves (a file as it was committed, before a checkout). Second: the
    files tracked by Git LFS that hold the object their index entry's pointer names."""
    regular = [path for path, (mode, _) in files.items() if mode in ("100644", "100755")]
    if not regular:
        return [], []
    code, answer = git("check-attr", "-z", "--stdin", *_CONVERTING,
                       stdin="".join(path + "\0" for path in regular))
    if code != 0:
        return ["(git check-attr failed)"], []
    fields = answer.split("\0")
    triples = [fields[index:index + 3] for index in range(0, len(fields) - 2, 3)]
    converted = list(dict.fromkeys(
        path for path, _, value in triples if value not in ("unspecified", "unset")))
    if not converted:
        return [], []
    lfs = {path for path, name, value in triples if name == "filter" and value == "lfs"}
    # The committed bytes themselves need no checkout (a file as committed, not checked out).
    compared = [path for path in converted if _differs_from_index(root / path, *files[path])]
    if not compared:
        return [], []
    # (One process per file whose bytes are not the blob's: few, the checked-out ident,
    # eol=crlf and LFS files. In a batch, git's header gives the unfiltered size.) Under the
    # committed .gitattributes alone, no filter driver run (committed_checkout.py): the job's
    # own attributes or line-ending settings never make other bytes the release's. Release
    # content tracked by Git LFS counts when it is the object its committed pointer names.
    top = {path: posixpath.normpath(f"{prefix}{path}") for path in compared}
    matching = committed_checkouts(root, [(top[path], files[path][1],
                                           _work_tree_bytes(root / path), path in lfs)
                                          for path in compared])
    differing = [path for path in compared if top[path] not in matching]
    lfs_objects = [path for path in compared if path in lfs and top[path] in matching]
    return differing, lfs_objects


def uncommitted_file_problem(root: Path, path: Path) -> str | None:
    """Why the work-tree file at ``path`` (resolved) is not byte for byte what HEAD holds
    (None when it is: the committed bytes, or what checking them out writes).

    For reviewed files kept with the gate's bookkeeping (the approvers file): a change to
    release content makes the work tree dirty, but bookkeeping is left out of that check, and
    an approvers file edited in the work tree and never committed was never reviewed."""
    git = Git(root)
    code, top = git("rev-parse", "--show-toplevel")
    if code != 0 or not top.strip("\n"):
        return "it is not in a git checkout"
    try:
        relative = path.relative_to(Path(top.strip("\n")).resolve()).as_posix()
    except ValueError:
        return "it is not in the git checkout"
    code, object_id = git("rev-parse", "--verify", "-q", f"HEAD:{relative}")
    object_id = object_id.strip()
    if code != 0 or not object_id:
        return "it is not committed"
    # (No Git LFS leniency here: a reviewed file is its blob's bytes, converted by git
    # alone, under the committed .gitattributes alone: committed_checkout.py. Never by a
    # filter driver, a line-ending setting or attributes of the job's own.)
    if not _differs_from_index(path, "100644", object_id) or \
            as_committed_checkout(root, relative, object_id, _work_tree_bytes(path)):
        return None
    return "its content differs from the committed one"


def checked_out_by_the_runner(root: Path, path: Path) -> bool:
    """Whether the work-tree file at ``path`` (resolved) is what the runner's own git writes
    checking HEAD's blob out: with its user and system configuration (``core.autocrlf``, a
    global attributes file, an LFS filter), which the gate's controlled git never reads.

    For evidence only, where "committed" is the strict answer (a committed report is dated
    by its commit, or refused): a committed LF report checked out with CRLF by a runner's
    ``core.autocrlf`` was neither the blob nor the controlled checkout, and looked written
    by the run. Never for a reviewed file, where "committed" is the lenient one. The runner's
    configuration is the job user's (a smudge filter there prints anything), which is why:
    it only moves a file from "written by the run" to "committed", refused or dated by a
    commit, where anyone could have committed the same bytes."""
    git = Git(root)
    code, top = git("rev-parse", "--show-toplevel")
    try:
        relative = path.relative_to(Path(top.strip("\n")).resolve()).as_posix()
    except ValueError:
        return False
    code, object_id = git("rev-parse", "--verify", "-q", f"HEAD:{relative}")
    if code != 0 or not object_id.strip():
        return False
    try:
        # The runner's git and configuration, but never a git or a filter program of the
        # checkout (core.programs): its PATH is the one the gate's own git gets. And no
        # driver program at all (git_programs.py): the configuration's filters are the job
        # user's, and would run as them beside the signing key (rt16a A06); neither is any
        # configuration the step's environment gives git (it would override the switch).
        program = [find_program("git", root)]
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("GIT_CONFIG_PARAMETERS", "GIT_CONFIG_COUNT",
                                      "GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_"))}
        env["PATH"] = program_path(root)
        env = as_environment(programs_off(program, root, env), env)
        done = subprocess.run(
            [*program, "-C", str(root), "--no-optional-locks", "cat-file",
             "--filters", f"--path={relative}", object_id.strip()],
            capture_output=True, timeout=60, check=False, stdin=subprocess.DEVNULL, env=env)
    except (OSError, subprocess.TimeoutExpired):
        return False
    work = _work_tree_bytes(path)
    # (Git LFS content, which the runner's git-lfs smudge wrote: the object the committed
    # pointer names, checked without running git-lfs.)
    return done.returncode == 0 and work is not None and (
        work == done.stdout or is_lfs_content(done.stdout, work))


def _work_tree_bytes(path: Path) -> bytes | None:
    """The raw bytes of a regular work-tree file (None when it is anything else)."""
    from pytest_deploygate.core.regular_files import UnusableFile, open_regular_file

    try:
        descriptor, _ = open_regular_file(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            return handle.read()
    except (OSError, UnusableFile):
        return None


def _differs_from_index(path: Path, mode: str, object_id: str) -> bool:
    """Whether the work-tree file at ``path`` is not the blob ``object_id`` with ``mode``:
    missing, another kind of file, another executable bit, other bytes. Compared raw (no
    attribute filters: a clean filter in the repository's configuration could lie), so a
    file checked out with converted line endings counts as changed (fail closed)."""
    from pytest_deploygate.core.regular_files import UnusableFile, open_regular_file

    if mode == "160000":  # a submodule: its own repository, not a file here
        return False
    digest = hashlib.new("sha1" if len(object_id) == 40 else "sha256")
    try:
        if mode == "120000":
            if not path.is_symlink():
                return True
            target = os.fsencode(os.readlink(path))
            digest.update(b"blob %d\0" % len(target) + target)
            return digest.hexdigest() != object_id
        if path.is_symlink():
            return True
        descriptor, info = open_regular_file(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(descriptor, "rb") as handle:
            if (mode == "100755") != bool(info.st_mode & 0o100):
                return True
            digest.update(b"blob %d\0" % info.st_size)
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except (OSError, UnusableFile):
        return True
    return digest.hexdigest() != object_id


def shallow_boundary(root: Path) -> set[str]:
    """The commits the repository at ``root`` is cut off at (empty when it is complete)."""
    code, path = Git(root)("rev-parse", "--git-path", "shallow")
    return _shallow_boundary(root, path.removesuffix("\n")) if code == 0 else set()


def _shallow_boundary(root: Path, path: str) -> set[str]:
    """The commits a shallow clone is cut off at (``path``: ``git rev-parse --git-path
    shallow``, relative to ``root`` unless absolute)."""
    if not path:
        return set()
    shallow = Path(path)
    if not shallow.is_absolute():
        shallow = root / shallow
    try:
        return set(shallow.read_text().split())
    except OSError:
        return set()


def release_tree(root: Path, revision: str, *, bookkeeping: tuple[str, ...],
                 prefix: str | None = None, object_format: str | None = None) -> str | None:
    """The git tree of the release content at ``revision`` (None when git cannot say).

    Built in a temporary index from ``git ls-tree``, with bookkeeping paths left out: the
    user's index and work tree are never touched. ``object_format`` (``sha1``, ``sha256``:
    ``git rev-parse --show-object-format``), when known, lets the usual case hash the tree
    here instead of asking ``git mktree``.
    """
    git = Git(root)
    if prefix is None:
        prefix = git("rev-parse", "--show-prefix")[1].removesuffix("\n")
    if top_level_only(bookkeeping):
        return tree_without_top_level(git, revision, bookkeeping, prefix, object_format)
    return _tree_by_index(git, revision, bookkeeping, prefix)


def top_level_only(bookkeeping: tuple[str, ...]) -> bool:
    """Whether every bookkeeping path is a top-level name (or the record files of one):
    then a release tree is made from a few listings, not from every path."""
    return all("/" not in path.removesuffix(RECORD_FILES_IN) and not
               path.startswith(OUTSIDE_MARK) for path in bookkeeping)


def outside_the_marks(bookkeeping: tuple[str, ...]) -> tuple[str, ...]:
    """The bookkeeping entries proper (release content outside the project left out)."""
    return tuple(path for path in bookkeeping if not path.startswith(OUTSIDE_MARK))


def outside_paths(bookkeeping: tuple[str, ...]) -> tuple[str, ...]:
    """The release content outside the project's folder (paths from the repository's top)."""
    return tuple(path.removeprefix(OUTSIDE_MARK) for path in bookkeeping
                 if path.startswith(OUTSIDE_MARK))


def tree_without_top_level(git: Git, revision: str, bookkeeping: tuple[str, ...],
                           prefix: str, object_format: str | None = None,
                           listings: Mapping[str, str] | None = None) -> str | None:
    """The tree at ``revision`` (under ``prefix``) less top-level bookkeeping entries, made
    with ``git mktree`` from the top-level listing: two small git processes, however large
    the repository. Git trees are canonical, so this is the same tree :func:`_tree_by_index`
    builds from every path. ``listings``: ``ls-tree -z`` answers already read, by the name
    of the tree (``<revision>:<path>``); what it lacks is asked of ``git ls-tree``."""
    def listing_of(name: str) -> str | None:
        if listings is not None and name in listings:
            return listings[name]
        # --full-tree: run from a subdirectory (the project's root), ls-tree would list only
        # the entries under that directory's path *inside* the named tree, which is nothing.
        code, answer = git("ls-tree", "-z", "--full-tree", name)
        return answer if code == 0 else None

    # A trailing "/" is how rev-parse spells a prefix; "<rev>:<dir>" names the subtree.
    top = prefix.removesuffix('/')
    listing = listing_of(f"{revision}:{top}")
    if listing is None:
        return None
    records = {path.removesuffix(RECORD_FILES_IN) for path in bookkeeping
               if path.endswith(RECORD_FILES_IN)}
    kept = []
    for entry in listing.split("\0"):
        name = entry.partition("\t")[2]
        if entry and name in bookkeeping and name in RELEASE_CONTENT_INSIDE:
            if entry.split(" ", 2)[1] != "tree":
                # A link or file in the folder's place is release content, as is_bookkeeping,
                # git log's pathspecs and the index builder count it (left out here, a link
                # repointed at another folder kept the tree, and the tree differed with the
                # record folder's depth).
                kept.append(entry)
                continue
            # The framework's folder less its bookkeeping: its release content alone.
            inner = f"{top}/{name}" if top else name
            folder = listing_of(f"{revision}:{inner}")
            if folder is None:
                return None
            left = [e for e in folder.split("\0")
                    if e and e.partition("\t")[2] == RELEASE_CONTENT_INSIDE[name]]
            if not left:
                continue  # (git keeps no empty folder in a tree)
            subtree = _make_tree(git, left, object_format)
            if subtree is None:
                return None
            kept.append(f"040000 tree {subtree}\t{name}")
            continue
        if not entry or name in bookkeeping:
            continue
        if name in records and entry.split(" ", 2)[1] == "tree":
            # The record folder less its record files (one more small listing).
            inner = f"{top}/{name}" if top else name
            folder = listing_of(f"{revision}:{inner}")
            if folder is None:
                return None
            left = [e for e in folder.split("\0")
                    if e and not (e.split(" ", 2)[1] != "tree"
                                  and _is_record_file(e.partition("\t")[2]))]
            if not left:
                continue  # (git keeps no empty folder in a tree)
            subtree = _make_tree(git, left, object_format)
            if subtree is None:
                return None
            entry = f"040000 tree {subtree}\t{name}"
        kept.append(entry)
    return _make_tree(git, kept, object_format)


def _make_tree(git: Git, entries: list[str], object_format: str | None) -> str | None:
    """The id of a tree of these ``ls-tree -z`` entries (hashed here when the object format
    is known, else by ``git mktree``)."""
    if object_format is not None:
        from pytest_deploygate.evidence.git_tree import tree_id

        computed = tree_id(entries, object_format)
        if computed is not None:
            return computed
    code, tree = git("mktree", "-z", stdin="".join(entry + "\0" for entry in entries))
    return tree.strip() if code == 0 and tree.strip() else None


def _tree_by_index(git: Git, revision: str, bookkeeping: tuple[str, ...],
                   prefix: str) -> str | None:
    """The general way (a bookkeeping path below the top level): every path, filtered, into
    a temporary index, and the index written as a tree."""
    root = git.root
    code, listing = git("ls-tree", "-r", "-z", "--full-tree", revision)
    if code != 0:
        return None
    # A project with release content outside its folder (a monorepo project's gate
    # definition at the root): the tree from the repository's top, of its folder and those
    # paths, each where it is. (A tree is still a tree: equal trees, equal release.)
    outside = outside_paths(bookkeeping)
    entries = []
    for entry in listing.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        mode, _, rest = meta.partition(" ")
        _, _, sha = rest.partition(" ")
        if outside and any(path == o or path.startswith(o + "/") for o in outside):
            entries.append(f"{mode} {sha}\t{path}")
            continue
        if not path.startswith(prefix):
            continue
        relative = path[len(prefix):]
        if is_bookkeeping(relative, bookkeeping):
            continue
        entries.append(f"{mode} {sha}\t{path if outside else relative}")
    try:
        private = private_temporary_directory("deploygate-index-")
    except PrivateTempUnavailable:
        return None
    with private as tmp:
        scratch = Git(root, {"GIT_INDEX_FILE": str(Path(tmp) / "index")})
        if entries:
            code, _ = scratch("update-index", "-z", "--index-info",
                              stdin="\0".join(entries) + "\0")
            if code != 0:
                return None
        else:
            scratch("read-tree", "--empty")
        code, tree = scratch("write-tree")
    return tree.strip() if code == 0 and tree.strip() else None


def tag_release(root: Path, identity: ReleaseIdentity, tag_commit: str, *,
                record_dir: Path | None) -> str | None:
    """None when ``tag_commit`` carries the same release content as ``identity``; else what
    differs (the tree and up to five paths)."""
    bookkeeping = bookkeeping_paths(root, record_dir)
    tree = release_tree(root, tag_commit, bookkeeping=bookkeeping, prefix=identity.prefix)
    if tree is None:
        return f"git cannot read the release content of {tag_commit[:12]}"
    if tree == identity.tree:
        return None
    assert identity.commit is not None and identity.tree is not None
    code, diff = Git(root)("diff", "--name-only", "-z", tag_commit, identity.commit,
                            *_pathspecs(bookkeeping))
    paths = [p for p in diff.split("\0") if p] if code == 0 else []
    shown = ", ".join(paths[:_SHOWN]) + (f", +{len(paths) - _SHOWN} more"
                                         if len(paths) > _SHOWN else "")
    return (f"its release content (tree {tree[:12]}) differs from the gated release's (commit "
            f"{identity.commit[:12]}, tree {identity.tree[:12]})"
            + (f" in {shown}" if shown else ""))


def previous_release_tag(root: Path, identity: ReleaseIdentity, *,
                         record_dir: Path | None) -> str | None:
    """The commit of the nearest earlier version tag whose release content differs from this
    release (tags of this very release, under any name, and tags named for this version are
    skipped); None when there is none."""
    if not identity.known:
        return None
    assert identity.commit is not None
    git = Git(root)
    bookkeeping = bookkeeping_paths(root, record_dir)
    start = identity.commit
    for _ in range(50):
        # A tag named for this very version is not a previous release, wherever it points.
        current = [f"--exclude={prefix}{identity.version.removeprefix('v')}"
                   for prefix in ("v", "")] if identity.version else []
        code, out = git("describe", "--tags", "--abbrev=0", *current, start)
        name = out.strip()
        if code != 0 or not name:
            return None
        code, target = git("rev-parse", "--verify", "-q", f"refs/tags/{name}^{{commit}}")
        target = target.strip()
        if code != 0 or not target:
            return None
        if _VERSION_TAG.match(name):
            tree = release_tree(root, target, bookkeeping=bookkeeping, prefix=identity.prefix)
            if tree is not None and tree != identity.tree:
                return target
        if git("rev-parse", "--verify", "-q", f"{target}^")[0] != 0:
            return None
        start = f"{target}^"
    return None


def release_authors(root: Path, identity: ReleaseIdentity, *, record_dir: Path | None
                    ) -> frozenset[str] | None:
    """Author and committer e-mails of every release-content commit since the previous version
    tag (else of the whole history), lower-cased; None when there is no release identity."""
    if not identity.known:
        return None
    assert identity.commit is not None
    previous = previous_release_tag(root, identity, record_dir=record_dir)
    revisions = [identity.commit] + ([f"^{previous}"] if previous else [])
    code, out = Git(root)("log", "--full-history", "--format=%ae%n%ce", *revisions,
                           *_pathspecs(bookkeeping_paths(root, record_dir)))
    if code != 0:
        return None
    return frozenset(line.strip().lower() for line in out.splitlines() if line.strip())


def binding_problems(properties: Mapping[str, str], identity: ReleaseIdentity) -> list[str]:
    """Why a record (its suite properties) is not of ``identity``'s release; empty when it is.

    Used by the post stage (binding to the pre record) and by ``deploygate verdict`` (binding
    a record to the release about to be deployed).
    """
    if not identity.known:
        return [f"there is no release to bind it to: {identity.problem}"]
    assert identity.commit is not None and identity.tree is not None
    problems = []
    if identity.dirty:
        shown = ", ".join(identity.changed[:_SHOWN]) + (
            f", +{len(identity.changed) - _SHOWN} more" if len(identity.changed) > _SHOWN
            else "")
        # (Named: an untracked checklist is no file git diff shows, yet the gate reads it.)
        checklists = any(f"/{CHECKLISTS}/" in f"/{path}" for path in identity.changed)
        problems.append(
            f"the work tree has uncommitted changes to release content ({shown}): commit them "
            "(a new release) or discard them" if not checklists else
            f"the work tree has uncommitted changes to release content, the project's "
            f"checklists among them ({shown}): commit them (a new release) or discard them")
    if properties.get(DIRTY_PROPERTY) == "true":
        problems.append("the record was made from uncommitted changes to release content")
    commit = properties.get(COMMIT_PROPERTY)
    if commit != identity.commit:
        problems.append(f"it is for commit {commit!r}, this release is {identity.commit}")
    tree = properties.get(TREE_PROPERTY)
    if tree != identity.tree:
        problems.append(f"it is for release tree {tree!r}, this release's tree is "
                        f"{identity.tree}")
    if properties.get(VERSION_PROPERTY, "") != (identity.version or ""):
        problems.append(f"it is for version {properties.get(VERSION_PROPERTY)!r}, this is "
                        f"{identity.version!r}")
    return problems


def record_binding_problems(root: Path, properties: Mapping[str, str], *,
                            record_dir: Path | None, version: str | None = None) -> list[str]:
    """Why a gate record is not of the release at ``root`` now (for ``deploygate verdict``).

    ``version`` defaults to the project's own (deploygate.yaml, pyproject.toml, package.json).
    """
    if version is None:
        from pytest_deploygate.core.errors import DeployGateError
        from pytest_deploygate.evidence.config import load_config

        try:
            load_config(root)
        except DeployGateError as exc:
            return [f"the project's version cannot be read: {exc}"]
        version = project_version(root)
    identity = release_identity(root, record_dir=record_dir, version=version)
    return binding_problems(properties, identity)


def project_version(root: Path) -> str | None:
    """The project's own version: deploygate.yaml, else pyproject.toml or package.json (None
    when none says, or deploygate.yaml cannot be read)."""
    from pytest_deploygate.core.errors import DeployGateError
    from pytest_deploygate.evidence.config import load_config

    try:
        declared = load_config(root).version
    except DeployGateError:
        declared = None
    return declared or manifest_version(root)


def gated_release_authors(root: Path, since: datetime | None = None, *,
                          record_dir: Path | None = None) -> frozenset[str] | None:
    """Everyone git names as an author or committer of the release being gated, by two rules
    whose union counts (each closes a different way to hide an author): every release-content
    commit since the previous version tag (else the whole history), and every commit from HEAD
    down to the phase start. Never read from a file; None when git cannot say (fail closed)."""
    identity = release_identity(root, record_dir=record_dir, version=project_version(root))
    by_release = release_authors(root, identity, record_dir=record_dir)
    by_phase = authors_since(root, since)
    if by_release is None or by_phase is None:
        return None
    return by_release | by_phase


def manifest_version(root: Path) -> str | None:
    """The version in pyproject.toml, else package.json (None when neither has one).

    Only a pyproject.toml that is read and names no version defers to package.json: one that
    cannot be read (over the document limit, a pipe, not UTF-8, not TOML, a ``project`` that
    is no table) gives no version at all. Otherwise a commit that pads or breaks it would make
    package.json's (an older release's) version the release's, and "the notes name the
    version" would be judged against it.
    """
    from pytest_deploygate.core.limits import DEFAULT_DOCUMENT_BYTES
    from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file

    pyproject = root / "pyproject.toml"
    if pyproject.exists() or pyproject.is_symlink():  # (a pipe, a folder: unreadable)
        import tomllib  # only when deploygate.yaml names no version

        try:
            # A manifest is a small document: one swapped for a pipe, or grown to gigabytes,
            # names no version (and the gate waits for neither).
            text = read_regular_file(pyproject, DEFAULT_DOCUMENT_BYTES).decode("utf-8")
            table = tomllib.loads(text).get("project", {})
        except (OSError, UnusableFile, UnicodeDecodeError, tomllib.TOMLDecodeError,
                RecursionError):  # (arrays nested deeper than the parser recurses)
            return None
        if not isinstance(table, dict):
            return None
        version = table.get("version")
        if version is not None:
            return version if isinstance(version, str) and version else None
    package = root / "package.json"
    if package.is_file():
        try:
            text = read_regular_file(package, DEFAULT_DOCUMENT_BYTES).decode("utf-8")
            version = json.loads(text).get("version")
        except (OSError, UnusableFile, UnicodeDecodeError, ValueError, AttributeError,
                RecursionError):
            version = None
        if isinstance(version, str) and version:
            return version
    return None
