"""What git says about who added a line, and whether a commit is signed.

A sign-off's signer is established by git, not by the name typed into the log: the commit
that added the line must be authored (and, where required, signed) by the person it names.
One ``git blame --porcelain`` per file says which commit added every line; authors and times
come from the raw commit objects (``git cat-file``), and git always runs in a controlled
environment, so that nothing but the history itself decides attribution (trust_rules).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import subprocess
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from pytest_deploygate.core.private_temp import (
    PrivateTempUnavailable,
    private_mkdtemp,
    private_temp_base,
    private_temporary_directory,
)
from pytest_deploygate.core.programs import ProgramNotFound, find_program, program_path
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.git_programs import as_environment, programs_off
from pytest_deploygate.evidence.line_proof import CommitFiles, unproven_lines
from pytest_deploygate.evidence.line_survival import unsurvived_lines
from pytest_deploygate.evidence.object_check import forged_object
from pytest_deploygate.evidence.object_reader import ObjectReader, ObjectUnproven
from pytest_deploygate.evidence.shallow import fetch_history_hint

#: Paths whose commits are sign-off bookkeeping (the phase-start rule of authors_since).
BOOKKEEPING_PREFIX = ".deploygate/"
#: Configuration given on every git command line: whatever the repository, the user or the
#: machine configures, attribution is git's own (no mailmap rewriting an attacker into a
#: signer, no ignored revisions moving a line to another commit, no foreign verifier).
_ATTRIBUTION_CONFIG = ("mailmap.file=", "mailmap.blob=", "log.mailmap=false",
                       "blame.ignoreRevsFile=", "blame.markIgnoredLines=false",
                       "blame.markUnblamableLines=false", "i18n.logOutputEncoding=UTF-8",
                       "core.quotePath=true", "gpg.ssh.allowedSignersFile=",
                       "gpg.ssh.revocationFile=", "gpg.ssh.defaultKeyCommand=",
                       "core.fsmonitor=false",
                       # (git reads a commit's parents from .git/objects/info/commit-graph, a
                       # file no id hashes, before its object: a hand-written graph re-routes
                       # blame's walk to another commit, rt18b A05. Parents come from the
                       # commit objects alone; the same for a multi-pack index's offsets.)
                       "core.commitGraph=false", "core.multiPackIndex=false",
                       # (x509 signatures are none this checks: no program of the repository's
                       # .git/config may answer for one. A path that cannot exist.)
                       f"gpg.x509.program={os.devnull}/gpgsm")
#: No program the job's configuration names may run from the gate's git (rt16a A06): no
#: hook (the gate commits nothing, yet a command that could run one must not find it), no
#: credential helper, askpass or ssh command, no transport at all (the gate reads the local
#: repository only), no automatic gc or maintenance. Driver programs, configured per driver
#: name, are switched off in git_environment (git_programs.py).
_NO_PROGRAMS_CONFIG = (f"core.hooksPath={os.devnull}/hooks", "core.askPass=", "credential.helper=",
                       f"core.sshCommand={os.devnull}/ssh", "protocol.allow=never", "gc.auto=0",
                       "maintenance.auto=false", "core.pager=cat", "core.editor=:",
                       "sequence.editor=:")
#: The verifiers git starts to check a commit's signature, given to git by absolute path
#: (core.programs: never the checkout's); the setting -> the program.
_VERIFIERS = (("gpg.program", "gpg"), ("gpg.openpgp.program", "gpg"),
              ("gpg.ssh.program", "ssh-keygen"))


@value_class(frozen=True)
class LineOrigin:
    """The commit that added one line, its author, and the commit's (claimed) times."""

    commit: str
    author_email: str
    authored: datetime | None = None
    committed_at: datetime | None = None

    @property
    def committed(self) -> bool:
        """False for a line that is only in the work tree."""
        return not _is_uncommitted(self.commit)


@value_class(frozen=True)
class BlamedLine:
    """git blame's answer for one line: where it came from and the bytes git saw."""

    origin: LineOrigin
    content: bytes
    #: The file, relative to the repository's top, to which the commit added the line: git
    #: blame follows a whole-file rename, so a line may come from another file.
    path: str = ""
    #: Why hashed objects do not show the commit adding the line (None: they do).
    unproven: str | None = None


class GitError(Exception):
    """git could not answer; the message says what to do."""


def git_environment(root: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A controlled environment for git about the checkout at ``root``: no GIT_* variable, no
    user or system configuration (only their safe.directory entries, which say which
    checkouts may be read at all), and a PATH that leads nowhere into the checkout (what git
    starts is never the release's own: core.programs). Every driver program the job's own
    configuration names (a filter's clean, smudge or process command, a diff command or
    textconv) is switched off (git_programs.py): none runs as the job user while a signing
    key is in the gate's environment. ConfigurationUnreadable (an OSError, as when git cannot
    start) when git cannot list that configuration."""
    env = controlled_environment(root, extra)
    off = programs_off(_git_prefix(root), root, env)
    return as_environment(off, env)


def controlled_environment(root: Path, extra: Mapping[str, str] | None = None
                           ) -> dict[str, str]:
    """git_environment without the drivers switched off (to list them)."""
    home = _controlled_home(root)
    env = {"PATH": program_path(root), "HOME": str(home),
           "XDG_CONFIG_HOME": str(home), "GNUPGHOME": str(home / "gnupg"), "LC_ALL": "C",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": str(home / "gitconfig"),
           "GIT_NO_REPLACE_OBJECTS": "1", "GIT_GRAFT_FILE": os.devnull,
           "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "GIT_ATTR_NOSYSTEM": "1",
           # (Over any configuration: no pager, askpass, ssh or editor program.)
           "GIT_PAGER": "cat", "GIT_ASKPASS": "", "GIT_SSH_COMMAND": f"{os.devnull}/ssh",
           "GIT_EDITOR": ":"}
    env.update(extra or {})
    return env


_HOME: list[Path] = []


def _controlled_home(root: Path) -> Path:
    if not _HOME:
        home = Path(private_mkdtemp("deploygate-git-"))
        atexit.register(shutil.rmtree, home, True)
        (home / "gnupg").mkdir(mode=0o700)
        safe = _ambient_safe_directories(root)
        lines = "".join(f"\tdirectory = {_quote_config(d)}\n" for d in safe)
        (home / "gitconfig").write_text(f"[safe]\n{lines}" if lines else "")
        _HOME.append(home)
    return _HOME[0]


def _ambient_safe_directories(root: Path) -> list[str]:
    # The one setting carried over from the ambient configuration: CI runners mark their
    # checkouts safe there, and it cannot change what git attributes.
    try:
        result = subprocess.run([find_program("git", root), "config", "--get-all",
                                 "safe.directory"], capture_output=True, text=True, timeout=10,
                                check=False, cwd=private_temp_base(),
                                env={**os.environ, "PATH": program_path(root)})
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [line for line in result.stdout.splitlines() if line.strip()]


def _quote_config(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _git(root: Path, *args: str, timeout: float = 30,
         env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(git_command(root, args), capture_output=True, encoding="utf-8",
                              errors="replace", timeout=timeout, check=False,
                              env=git_environment(root, env))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not run: {exc}") from None


def _git_bytes(root: Path, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(git_command(root, args), capture_output=True, timeout=timeout,
                              check=False, env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not run: {exc}") from None


def git_command(root: Path, args: tuple[str, ...]) -> list[str]:
    """``git`` in ``root`` with the attribution configuration (see _ATTRIBUTION_CONFIG), git
    and its signature verifiers named by absolute path (core.programs). ProgramNotFound (an
    OSError, as when git cannot start) when git is nowhere outside the checkout."""
    git, *config = _git_prefix(root)
    return [git, "--no-replace-objects", "-C", str(root), *config, *args]


def _git_prefix(root: Path) -> list[str]:
    """git by absolute path and the configuration given on every command line."""
    settings = [*_ATTRIBUTION_CONFIG, *_NO_PROGRAMS_CONFIG,
                *(f"{setting}={verifier(program, root)}" for setting, program in _VERIFIERS)]
    return [find_program("git", root), *(part for setting in settings for part in ("-c", setting))]


def verifier(name: str, root: Path) -> str:
    """The absolute path of a signature verifier (gpg, ssh-keygen) for git's configuration;
    one that is nowhere outside the checkout becomes a path that cannot exist, so git cannot
    start it and no signature verifies (commit_signature says which program is missing)."""
    try:
        return find_program(name, root)
    except ProgramNotFound:
        return f"{os.devnull}/{name}"


def blame(root: Path, relative: str) -> dict[int, LineOrigin]:
    """Line number -> origin for every line of a file (uncommitted lines included)."""
    return {number: line.origin for number, line in blame_lines(root, relative).items()}


def blame_lines(root: Path, relative: str) -> dict[int, BlamedLine]:
    """Line number -> origin and content, for every line git sees in the work-tree file."""
    # (One git process for the three answers, a line each: HEAD's id last, where the
    # proof that each line lived on starts.)
    answers = _git(root, "rev-parse", "--is-inside-work-tree", "--is-shallow-repository",
                   "HEAD").stdout.split("\n")
    if answers[0].strip() != "true":
        raise GitError(f"{root} is not a git checkout: who added a line cannot be established")
    if len(answers) < 2 or answers[1].strip() == "true":
        raise GitError("the repository is a shallow clone, so git cannot show who added each "
                       f"line: {fetch_history_hint('git fetch --unshallow')}")
    result = _git_bytes(root, "blame", "--porcelain", "--no-textconv", "--no-ignore-revs-file",
                        "--", relative)
    if result.returncode != 0:
        stderr = result.stderr.decode("utf-8", "replace")
        if "no such path" in stderr or "does not exist" in stderr:
            return {}
        raise GitError(f"git blame {relative}: {stderr.strip()[:300]}")
    paths = porcelain_paths(result.stdout)
    blamed = parse_porcelain(result.stdout)
    # One git cat-file for the authors and the proofs: blame read the history's objects
    # (and parents, from the commit-graph) unhashed, so each committed line's commit must be
    # shown to add it (line_proof.py) and the line to live on from it to HEAD
    # (line_survival.py).
    head = answers[2].strip() if len(answers) > 2 else ""
    claims = {number: (commit, paths.get(number, ""), content)
              for number, (commit, content) in blamed.items() if not _is_uncommitted(commit)}
    with _object_reader(root) as reader:
        origins = _origins(reader, {commit for commit, _ in blamed.values()})
        files = CommitFiles(reader)
        unproven = unproven_lines(files, claims)
        survived = {number: claim for number, claim in claims.items() if number not in unproven}
        unproven.update(unsurvived_lines(
            files, head if len(head) in (40, 64) and _is_hex(head) else None, survived,
            _ancestry(root)))
    return {number: BlamedLine(origins[commit], content, paths.get(number, ""),
                               unproven.get(number))
            for number, (commit, content) in blamed.items()}


def _ancestry(root: Path) -> Callable[[str, str], bool]:
    """``is_ancestor(a, b)``: whether commit a is in b's history (git merge-base
    --is-ancestor, asked once per pair; a failure to answer counts as yes, which leaves a
    line unattributed: fail closed)."""
    answers: dict[tuple[str, str], bool] = {}

    def is_ancestor(older: str, newer: str) -> bool:
        if (older, newer) not in answers:
            done = _git(root, "merge-base", "--is-ancestor", older, newer)
            answers[older, newer] = done.returncode != 1
        return answers[older, newer]

    return is_ancestor


def top_relative(root: Path, relative: str) -> str | None:
    """``relative`` (under ``root``) as a path from the repository's top, as blame names it."""
    result = _git(root, "rev-parse", "--show-prefix")
    if result.returncode != 0:
        return None
    return result.stdout.strip("\n") + Path(relative).as_posix().removeprefix("./")


def parse_porcelain(output: bytes) -> dict[int, tuple[str, bytes]]:
    """Line number -> (commit, content) from ``git blame --porcelain``, read byte for byte
    (split on \\n only). Its author headers are not used: blame applies the work tree's
    .mailmap whatever the configuration says, so authors come from commit_origins."""
    return {number: (commit, content)
            for number, (commit, content, _) in _porcelain(output).items()}


def porcelain_paths(output: bytes) -> dict[int, str]:
    """Line number -> the ``filename`` git blame gives for the commit that added it."""
    return {number: path for number, (_, _, path) in _porcelain(output).items()}


def _porcelain(output: bytes) -> dict[int, tuple[str, bytes, str]]:
    # (Imported here: the release identity, all deploygate verdict needs of this module,
    # reads no authors.)
    from pytest_deploygate.core.trust_rules import split_git_lines

    blamed: dict[int, tuple[str, bytes, str]] = {}
    filenames: dict[str, str] = {}
    commit = ""
    final_line = 0
    for line in split_git_lines(output):
        if line.startswith(b"\t"):
            blamed[final_line] = (commit, line[1:], filenames.get(commit, ""))
            continue
        parts = line.split(b" ")
        if len(parts) >= 3 and len(parts[0]) in (40, 64) and all(c in b"0123456789abcdef"
                                                                 for c in parts[0]):
            commit, final_line = parts[0].decode(), int(parts[2])
        elif parts[0] == b"filename":
            # Each group names the file of its commit (quoted by core.quotePath when odd).
            filenames[commit] = line[len(b"filename "):].decode("utf-8", "replace")
    return blamed


def commit_origins(root: Path, commits: set[str]) -> dict[str, LineOrigin]:
    """Author and times of each commit, read from the raw commit objects (``git cat-file``):
    no mailmap, no replace refs, no formatting option can rewrite them."""
    if all(_is_uncommitted(c) for c in commits):
        return {c: LineOrigin(c, "") for c in commits}
    with _object_reader(root) as reader:
        return _origins(reader, commits)


def _object_reader(root: Path) -> ObjectReader:
    try:
        return ObjectReader(git_command(root, ("cat-file", "--batch")), git_environment(root))
    except OSError as exc:
        raise GitError(f"git could not run: {exc}") from None


def _origins(reader: ObjectReader, commits: set[str]) -> dict[str, LineOrigin]:
    origins = {c: LineOrigin(c, "") for c in commits}
    for commit in sorted(c for c in commits if not _is_uncommitted(c)):
        try:
            body = reader.read(commit, "commit")
        except ObjectUnproven as exc:
            # (An author read from other bytes than the commit's own: a forged object.)
            if "forged" in str(exc):
                raise GitError(forged_object(f"commit {commit}", commit)) from None
            raise GitError(f"git cat-file: {exc}") from None
        origins[commit] = _parse_commit(commit, body)
    return origins


def _is_hex(text: str) -> bool:
    return bool(text) and all(c in "0123456789abcdef" for c in text)


def _is_uncommitted(commit: str) -> bool:
    return set(commit) == {"0"}


def _parse_commit(commit: str, body: bytes) -> LineOrigin:
    people: dict[bytes, tuple[str, datetime | None]] = {}
    for line in body.split(b"\n"):
        if not line:
            break  # end of the headers
        key, _, value = line.partition(b" ")
        if key in (b"author", b"committer") and key not in people:
            people[key] = _person(value)
    email, authored = people.get(b"author", ("", None))
    _, committed = people.get(b"committer", ("", None))
    return LineOrigin(commit, email, authored, committed)


def _person(value: bytes) -> tuple[str, datetime | None]:
    # "Name <email> 1700000000 +0100". git takes the address from the first < to the first >
    # after it, and the date after the last >: an ident with more than one of either (only a
    # hand-made commit object has one) is read differently by different readers, so it
    # names nobody.
    if value.count(b"<") != 1 or value.count(b">") != 1:
        return "", None
    opening, closing = value.find(b"<"), value.find(b">")
    if closing < opening:
        return "", None
    email = value[opening + 1:closing].decode("utf-8", "replace")
    stamp = value[closing + 1:].split()
    return email, _time(stamp[0] if stamp else None)


def _time(raw: bytes | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(raw or b""), UTC)
    except (ValueError, OverflowError, OSError):
        return None


@value_class(frozen=True)
class Signature:
    """What git says about a commit's signature when given only the approvers' keys."""

    status: str
    fingerprints: tuple[str, ...]
    #: Why the signature could not be checked at all (a verifier missing), when it could not.
    problem: str = ""


def commit_signature(root: Path, commit: str, ssh_allowed_signers: str,
                     openpgp_keys: str) -> Signature:
    """Verify ``commit`` with keys from the approvers file only.

    ``ssh_allowed_signers`` is the content of an allowed-signers file and ``openpgp_keys``
    armored public keys; both live in a temporary directory for this call, never in the
    ambient git or gpg configuration. A verifier the keys need that is nowhere outside the
    checkout (core.programs) is status "E" with the ``problem`` saying so.
    """
    needed = [name for name, keys in (("ssh-keygen", ssh_allowed_signers),
                                      ("gpg", openpgp_keys)) if keys.strip()]
    for name in needed:
        try:
            find_program(name, root)
        except ProgramNotFound as exc:
            return Signature("E", (), f"cannot be checked: {exc}")
    try:
        private = private_temporary_directory("deploygate-keys-")
    except PrivateTempUnavailable as exc:
        return Signature("E", (), f"cannot be checked: {exc}")
    with private as temp:
        home = Path(temp)
        allowed = home / "allowed_signers"
        allowed.write_text(ssh_allowed_signers)
        gnupg = home / "gnupg"
        gnupg.mkdir(mode=0o700)
        env = {"GNUPGHOME": str(gnupg)}
        if openpgp_keys.strip():
            # No key imported means no signature verifies, which fails closed.
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                subprocess.run([find_program("gpg", root), "--batch", "--quiet", "--import"],
                               input=openpgp_keys.encode(), capture_output=True, timeout=30,
                               check=False, env=git_environment(root, env))
        result = _git(root, "-c", f"gpg.ssh.allowedSignersFile={allowed}", "log", "-1",
                      "--no-show-signature", "--format=%G?%x00%GK%x00%GF%x00%GP", commit,
                      "--", env=env)
    if result.returncode != 0:
        return Signature("E", ())
    status, *fingerprints = result.stdout.strip("\n").split("\x00")
    return Signature(status.strip() or "N", tuple(f for f in fingerprints if f.strip()))




def authors_since(root: Path, since: datetime | None) -> frozenset[str] | None:
    """Everyone git names as an author or committer of the release being gated: every commit
    that changes anything besides sign-off bookkeeping (``.deploygate/``) from HEAD back to
    the newest such commit, and on, in topological order, down to the deepest commit dated
    at or after ``since`` (the phase start). A later one-line commit by someone else never
    hides who wrote the release. Without a phase start, every such commit git shows in the
    last 200 counts (fail closed). None when git cannot say."""
    result = _git(root, "log", "--topo-order", "-n", "200", "--no-renames",
                  "--format=%x00%ae %ce %at %ct", "--name-only")
    if result.returncode != 0:
        return None
    from pytest_deploygate.core.trust_rules import ascii_lower

    commits: list[tuple[frozenset[str], int, bool]] = []
    for block in result.stdout.split("\x00"):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        fields = lines[0].split(" ")
        if len(fields) != 4:
            return None
        people = frozenset(ascii_lower(f) for f in fields[:2])
        try:
            newest = max(int(fields[2]), int(fields[3]))
        except ValueError:
            return None
        files = lines[1:]
        changes = not files or any(not f.startswith(BOOKKEEPING_PREFIX) for f in files)
        commits.append((people, newest, changes))
    deepest = -1
    for index, (_, newest, changes) in enumerate(commits):
        if changes and deepest < 0:
            deepest = index
        if since is None or newest >= since.timestamp():
            deepest = max(deepest, index)
    if deepest < 0:
        return None
    found = frozenset(person for people, _, changes in commits[:deepest + 1] if changes
                      for person in people)
    return found or None


def lines_ever_added(root: Path, relative: str, *also: str) -> dict[bytes, str] | None:
    """Every line any commit reachable from HEAD added to the file ``relative`` (under
    ``root``), or to any of the files ``also`` (the names the log had before), with the
    oldest commit that added it; None when git cannot say.

    For an append-only log: what was once committed there and is missing now was removed
    (merges are read against each parent, so a line brought in by a merge keeps the commit
    of its own branch, which is older; a line moved to another of the files keeps the commit
    that first added it)."""
    tops = [top_relative(root, path) for path in (relative, *also)]
    if any(top is None for top in tops):
        return None
    # --text: a "-diff" or "binary" attribute (committed, or in .git/info/attributes) would
    # print "Binary files differ" instead of the lines, so no removed line would be found.
    result = _git_bytes(root, "log", "-m", "-p", "--text", "--no-renames", "--no-ext-diff",
                        "--no-textconv", "--no-color", "-U0", "--format=%x00%H", "HEAD",
                        "--", *(":(top,literal)" + str(top) for top in tops), timeout=120)
    if result.returncode != 0:
        return None
    added: dict[bytes, str] = {}
    commit = ""
    for line in result.stdout.split(b"\n"):
        if line.startswith(b"\0"):
            commit = line[1:].decode("ascii", "replace").strip()
        elif line.startswith(b"+") and not line.startswith(b"+++ "):
            added[line[1:]] = commit  # (log order is newest first: the oldest stays)
    return added
