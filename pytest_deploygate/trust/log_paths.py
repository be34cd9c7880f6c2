"""Every path a sign-off log ever had, for the rule that a rollback report is never withdrawn.

A rollback report (``present: true``) removed from the log still counts (trust/signoffs.py).
Reading the history of the log's current path alone lost the reports of an earlier path: a
``git mv`` of the log, or a change of ``attestations.log`` in deploygate.yaml to a new file
(a copy, or an empty one), left the reports in a file nobody read. So the history read is that
of every path the log had:

- the path configured now, and the default one;
- every ``attestations.log`` any committed deploygate.yaml named (every commit reachable from
  HEAD that changed it, side branches included);
- the earlier names of each of these, as git follows a rename (``git log --follow``).

Fail closed: when git cannot say, the caller says so instead of judging without the history.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from pytest_deploygate.evidence.config import CONFIG_FILE, DEFAULT_ATTESTATION_LOG
from pytest_deploygate.evidence.git import GitError, git_command, git_environment
from pytest_deploygate.evidence.object_check import forged_object, object_is

#: How many committed versions of deploygate.yaml are read: a bound on the work a long
#: history can make the gate do. Past it, the caller is told the history is cut short (fail
#: closed: the versions past it are the oldest, where a log's earlier name is).
MAX_CONFIG_VERSIONS = 2000


def log_paths_ever(root: Path, configured: str) -> list[str]:
    """The paths (relative to ``root``) the sign-off log has had, the configured one first.

    Raises GitError when git cannot show the history."""
    paths = _unique([configured, DEFAULT_ATTESTATION_LOG,
                     *_configured_logs_in_history(root)])
    named: list[str] = []
    for path in paths:
        named += _earlier_names(root, path)
    return _unique([*paths, *named])


def _unique(paths: list[str]) -> list[str]:
    kept: list[str] = []
    for path in paths:
        normal = os.path.normpath(path).replace(os.sep, "/")
        # A path outside the project is no log the gate reads (inside_root refuses it).
        if normal in kept or normal.startswith(("../", "/")) or normal in ("..", "."):
            continue
        kept.append(normal)
    return kept


def _run(root: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(git_command(root, ("--literal-pathspecs", *args)), input=stdin,
                              capture_output=True, timeout=120, check=False,
                              env=git_environment(root))
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git could not run: {exc}") from None
    if done.returncode != 0:
        raise GitError(f"git cannot show the history of the sign-off log's paths: "
                       f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
    return done.stdout


def _configured_logs_in_history(root: Path) -> list[str]:
    """``attestations.log`` of every committed deploygate.yaml (a version that cannot be
    read named no log the gate could have read then, and is left out)."""
    prefix = _prefix(root)
    # One more than the bound: a history past it is said to be cut short, never read as if
    # whole (2,000 commits touching deploygate.yaml after the log was moved hid the version
    # that named its earlier file, and a rollback report removed from it vanished).
    commits = _run(root, "log", "--full-history", "--format=%H", f"-{MAX_CONFIG_VERSIONS + 1}",
                   "HEAD", "--", CONFIG_FILE).decode("ascii", "replace").split()
    if not commits:
        return []
    if len(commits) > MAX_CONFIG_VERSIONS:
        raise GitError(f"{prefix}{CONFIG_FILE} has more than {MAX_CONFIG_VERSIONS} committed "
                       "versions, more than the gate reads for the sign-off log's earlier "
                       "paths, so a rollback report removed from an earlier log file cannot "
                       "be ruled out")
    # One git process for every version: "<id> blob <size>\n<bytes>\n", or "<name> missing"
    # where a commit deleted the file.
    data = _run(root, "cat-file", "--batch",
                stdin="".join(f"{c}:{prefix}{CONFIG_FILE}\n" for c in commits).encode())
    texts: dict[bytes, bytes] = {}
    position = 0
    while position < len(data):
        end = data.index(b"\n", position)
        header = data[position:end].split(b" ")
        position = end + 1
        if len(header) == 3 and header[1] == b"blob" and header[2].isdigit():
            size = int(header[2])
            text = data[position:position + size]
            if not object_is(header[0], b"blob", text):
                raise GitError(forged_object(f"{prefix}{CONFIG_FILE} (a committed version)",
                                             header[0]))
            texts.setdefault(header[0], text)
            position += size + 1
    return [log for text in texts.values() if (log := _log_of(text)) is not None]


def _log_of(text: bytes) -> str | None:
    """The log one version of deploygate.yaml names (None when it cannot be read)."""
    from pytest_deploygate.core.errors import DeployGateError
    from pytest_deploygate.core.private_temp import private_temporary_directory
    from pytest_deploygate.evidence.config import load_config

    # (A private folder: one TMPDIR names inside the work tree would be the job's release
    # content while the gate runs; see core.private_temp.)
    try:
        with private_temporary_directory("deploygate-config-") as folder:
            Path(folder, CONFIG_FILE).write_bytes(text)
            return load_config(Path(folder)).attestation_log
    except (DeployGateError, OSError):
        return None


def _earlier_names(root: Path, relative: str) -> list[str]:
    """The names the file at ``relative`` had before git saw it renamed (relative to
    ``root``)."""
    # -z: without it git quotes a name with a tab, a quote or a non-ASCII byte ("a\tb"),
    # which then matched no path and was silently left out.
    out = _run(root, "log", "-z", "--follow", "--name-only", "--format=", "HEAD", "--",
               relative)
    prefix = _prefix(root)
    names = []
    for name in out.decode("utf-8", "surrogateescape").split("\0"):
        if name and name.startswith(prefix):
            names.append(name[len(prefix):])
    return names


def _prefix(root: Path) -> str:
    """The path of ``root`` in its repository (``""`` at the top, else ending in ``/``)."""
    return _run(root, "rev-parse", "--show-prefix").decode(
        "utf-8", "surrogateescape").removesuffix("\n")
