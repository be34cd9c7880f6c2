"""``artifact``: a required file of the gate, found under the project root.

The artifact is declared in the spec's ``artifacts`` (name, path or candidate paths,
``required``, optional ``contains`` patterns and ``max_age_days``). A bare file name is
searched in the gate's artifact directories in order. The file must resolve inside the
project root, be a regular non-empty file, match its content rules and be fresh enough.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.regular_files import (
    UnusableFile,
    read_regular_file,
    sha256_of_regular_file,
)
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.version_text import version_pattern
from pytest_deploygate.evidence.committed import committed_files, future_problem
from pytest_deploygate.spec.model import ArtifactSpec, GateSpec

ARTIFACT_FOLDER = "{artifact_folder}"


def candidates(spec: GateSpec, artifact: ArtifactSpec, folder: str | None = None) -> list[str]:
    """Relative paths tried for an artifact, in search order: each path (alternatives in
    order) in each of the gate's artifact directories (the project root is the last).
    ``{artifact_folder}`` is the active work item's folder; without one, candidates that
    need it are left out."""
    out = []
    for name in artifact.paths:
        for directory in spec.artifact_dirs:
            directory = directory.replace("{phase}", spec.phase).strip("/")
            candidate = name if directory in ("", ".") else f"{directory}/{name}"
            if ARTIFACT_FOLDER in candidate:
                if folder is None:
                    continue
                candidate = candidate.replace(ARTIFACT_FOLDER, folder)
            if candidate not in out:
                out.append(candidate)
    return out


def locate(root: Path, spec: GateSpec, artifact: ArtifactSpec, folder: str | None = None
           ) -> tuple[str | None, list[str]]:
    """The first candidate that exists as what its path names (a folder for a path ending in
    ``/``, anything else for any other path), else the first that exists as anything (judged,
    and refused as what it is), and every candidate tried.

    A folder at a file's path is no file, and a file at a folder's path (``Path`` drops the
    ``/``, so it "exists") is no folder: neither may hide a later candidate that is what the
    spec asked for (``path: [notes, other/]`` with an unrelated folder ``notes`` and the
    artifact in ``other/`` was "notes is a directory"). Passing over one gains nothing: the
    candidate judged instead is judged in full.
    """
    tried = candidates(spec, artifact, folder)
    first = None
    for relative in tried:
        path = root / relative
        if path.exists() or path.is_symlink():
            if path.is_dir() == relative.endswith("/"):
                return relative, tried
            first = first or relative
    return first, tried


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Find the artifact and check it."""
    artifact = ctx.spec.artifacts.get(params["artifact"])
    if artifact is None:
        return CheckResult.missing(f"artifact '{params['artifact']}' is not declared in the spec")
    root = ctx.project.root
    memo = ctx.project.memo
    # The work item's folder comes from state.json, which the run reads once and never
    # changes (the project's layout and phase start are kept in its memo alike): looked up
    # once a run, not once per artifact criterion. (The key names no spec: the answer is
    # the project's state's alone.)
    known = memo.get(_FOLDER_KEY)
    if known is None:
        known = memo[_FOLDER_KEY] = work_item_folder(ctx)
    folder, unknown = known
    if folder is None and any(ARTIFACT_FOLDER in p for p in artifact.paths):
        required = _required(artifact, ctx)
        if required is False:
            return CheckResult.not_applicable(f"N/A: optional, and {unknown}")
        return CheckResult.missing(f"{artifact.name}: {unknown}")
    # Located once per run: several criteria may name the same artifact.
    key = ("artifact", ctx.spec.id, artifact.id)
    if key not in memo:
        memo[key] = locate(root, ctx.spec, artifact, folder)
    found, tried = memo[key]
    if found is None:
        required = _required(artifact, ctx)
        listing = ", ".join(tried)
        if folder is None and any(ARTIFACT_FOLDER in d for d in ctx.spec.artifact_dirs):
            listing += f" (not searched in the work item's folder: {unknown})"
        if isinstance(required, CheckResult):
            return required
        if not required:
            return CheckResult.not_applicable(f"N/A: optional, not present (tried {listing})")
        return CheckResult.not_met(f"{artifact.name} not found; tried: {listing}")
    resolved_key = ("artifact-resolved", root, found)
    if resolved_key not in memo:  # resolved once per run, like the search above
        try:
            memo[resolved_key] = inside_root(root, found)
        except OutsideRoot as exc:
            memo[resolved_key] = exc
    path = memo[resolved_key]
    if isinstance(path, OutsideRoot):
        return CheckResult.not_met(f"{artifact.name}: {path}")
    return _inspect(artifact, found, path, ctx)


#: The project memo's key of :func:`work_item_folder`'s answer.
_FOLDER_KEY = ("artifact-work-item-folder",)


def work_item_folder(ctx: EvalContext) -> tuple[str | None, str]:
    """The active work item's folder name (``active_workflow.artifact_folder``), or None and
    why it is unknown."""
    found = ctx.project.state.lookup("active_workflow.artifact_folder")
    value = found.value if found.found else None
    if isinstance(value, str) and value.strip() and "/" not in value.strip("/") and \
            value.strip("/") not in (".", ".."):
        return value.strip("/"), ""
    shown = found.problem if not found.found else f"it is {value!r}"
    return None, ("the work item's artifact folder is unknown: active_workflow.artifact_folder "
                  f"names none ({shown})")


def _required(artifact: ArtifactSpec, ctx: EvalContext) -> bool | CheckResult | None:
    if isinstance(artifact.required, bool):
        return artifact.required
    result = ctx.evaluate(artifact.required)
    if result.status == "met":
        return True
    if result.status == "not_met":
        return False
    return result


def _inspect(artifact: ArtifactSpec, relative: str, path: Path, ctx: EvalContext) -> CheckResult:
    if relative.endswith("/"):
        return _inspect_directory(relative, path, ctx.project.root)
    # One stat answers is_dir, is_file and the size (three stats per criterion before). When
    # it fails, Path.is_dir and Path.is_file answer (False, or raise) as they always did.
    try:
        first: os.stat_result | None = path.stat()
    except (OSError, ValueError):
        first = None
    # Only a path that ends in "/" names a folder (the spec format says so). A folder found
    # at a file's path is no file, even when another alternative of the artifact is a folder:
    # ``path: [docs, other/]`` must not pass on a folder named ``docs``.
    is_dir = S_ISDIR(first.st_mode) if first is not None else path.is_dir()
    if not (S_ISREG(first.st_mode) if first is not None else path.is_file()):
        kind = "a directory" if is_dir else "not a regular file"
        return CheckResult.not_met(f"{relative} is {kind}")
    try:
        stat = first if first is not None else path.stat()
        limit = ctx.project.limits.evidence_bytes
        if stat.st_size > limit:
            return CheckResult.missing(f"{relative} is {stat.st_size} bytes, over the "
                                       f"{limit} byte limit")
        data, digest = _read_hashed(path, stat, limit, ctx.services.scope.cache("artifacts"))
    except UnusableFile as exc:
        return CheckResult.missing(f"{relative}: {exc.reason}")
    except OSError as exc:
        return CheckResult.missing(f"{relative} cannot be read: {exc.strerror or exc}")
    # The verdict is a function of the artifact's content (and the run's spec, version and
    # clock): criteria naming the same artifact share it, keyed by the content's hash.
    verdict_key = ("artifact-verdict", ctx.spec.id, artifact.id, relative, digest,
                   stat.st_mtime_ns)
    if verdict_key not in ctx.project.memo:
        ctx.project.memo[verdict_key] = _judge(artifact, relative, data, digest, stat, ctx)
    result: CheckResult = ctx.project.memo[verdict_key]
    return result


def _judge(artifact: ArtifactSpec, relative: str, data: bytes, digest: str,
           stat: os.stat_result, ctx: EvalContext) -> CheckResult:
    modified = datetime.fromtimestamp(stat.st_mtime, UTC)
    evidence = Evidence("file", relative, sha256=digest, modified=format_instant(modified))
    if not data.strip():
        return CheckResult.not_met(f"{relative} is empty", evidence)
    text = data.decode("utf-8", errors="replace")
    absent = [pattern for pattern in artifact.contains
              if not re.search(pattern, text, re.MULTILINE)]
    if absent:
        return CheckResult.not_met(
            f"{relative} lacks required content: " + ", ".join(f"/{p}/" for p in absent),
            evidence)
    if artifact.names_version:
        version = ctx.project.version
        if not version:
            return CheckResult.missing(f"{relative} must name the release version, which is "
                                       "unknown (no readable pyproject.toml or package.json "
                                       "names one): pass --gate-version or set version in "
                                       f"{ctx.project.config.display_name}", evidence)
        if not re.search(version_pattern(version), text):
            return CheckResult.not_met(f"{relative} does not name version {version}", evidence)
    if artifact.max_age_days is not None:
        # A committed artifact is as old as its commit: a checkout writes it "now".
        committed = committed_files(ctx.project.root, [relative], ctx.project.record_dir)
        if isinstance(committed, str):
            return CheckResult.missing(f"{committed}, so the age of {relative} is unknown",
                                       evidence)
        tracked = committed.get(relative)
        impossible = future_problem(relative, modified, tracked, ctx.project.now)
        if impossible:
            return CheckResult.missing(f"impossible evidence: {impossible}", evidence)
        written = modified if tracked is None else min(modified, tracked.at)
        age_days = (ctx.project.now - written).total_seconds() / 86400
        if age_days > artifact.max_age_days:
            shown = "" if tracked is None else f", as committed in {tracked.commit[:12]}"
            return CheckResult.not_met(
                f"{relative} is {age_days:.1f} days old{shown}; at most "
                f"{artifact.max_age_days:g} allowed", evidence)
    return CheckResult.met(f"{relative} present ({stat.st_size} bytes)", evidence)


def _read_hashed(path: Path, stat: os.stat_result, limit: int, memo: dict[Any, Any]
                 ) -> tuple[bytes, str]:
    # Several criteria read the same artifact (release notes: the artifact item and
    # "release notes published"): read and hash it once per version of the file, in a cache
    # the run owns (a later run, in the same process or not, reads the file again).
    key = ("artifact-bytes", path, stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if key not in memo:
        data = read_regular_file(path, limit)
        memo[key] = (data, hashlib.sha256(data).hexdigest())
    read: tuple[bytes, str] = memo[key]
    return read


def _inspect_directory(relative: str, path: Path, root: Path) -> CheckResult:
    # A directory artifact (``adrs/``, ``test-results/e2e/``) must hold at least one file.
    if not path.is_dir():
        return CheckResult.not_met(f"{relative} is not a directory")
    try:
        files = _files_under(path)
    except OSError as exc:
        return CheckResult.missing(f"{relative} cannot be listed: {exc.strerror or exc}")
    if not files:
        return CheckResult.not_met(f"{relative} is empty")
    digest = hashlib.sha256()
    real_root = root.resolve()
    held = False  # a file with content among them
    for file in files[:1000]:
        name = file.relative_to(path).as_posix()
        shown = f"{relative.rstrip('/')}/{name}"
        # A link in the folder is held to the root as the artifact's own path is: a file from
        # elsewhere on the runner is no evidence of this project. (The listed file itself is
        # resolved: its name may hold a backslash, which a configured path would not.)
        target = file.resolve()
        if real_root not in target.parents:
            return CheckResult.not_met(f"{shown} resolves outside the project root")
        try:
            # Read as every judged file is (a file swapped for a pipe or for a link to
            # /dev/zero after the listing would hang the gate), in pieces and whatever its
            # size (a test-results folder may hold big files; only its digest is kept), up
            # to the size it had when opened.
            content = sha256_of_regular_file(target)
        except UnusableFile as exc:
            return CheckResult.missing(f"{shown}: {exc.reason}")
        except OSError as exc:
            return CheckResult.missing(f"{shown} cannot be read: {exc.strerror or exc}")
        # (As the file system has the name: git commits any bytes as one, and a name that is
        # no UTF-8 is held in surrogate escapes, which a plain encode() refuses.)
        digest.update(os.fsencode(name) + b"\0")
        digest.update(bytes.fromhex(content))
        held = held or content != _EMPTY_SHA256
    evidence = Evidence("directory", relative, sha256=digest.hexdigest(),
                        detail=f"files={len(files)}")
    if not held:
        # An empty file is no artifact (``X is empty``), and a folder of nothing but empty
        # files is none either: a scaffold's ``adrs/.gitkeep`` met "ADRs present".
        return CheckResult.not_met(f"{relative} holds only empty files ({len(files)})",
                                   evidence)
    return CheckResult.met(f"{relative} holds {len(files)} file(s)", evidence)


#: The digest of an empty file (a folder's files are hashed, never held).
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _files_under(folder: Path) -> list[Path]:
    """The files in ``folder`` and its subfolders, sorted (links to files count, links to
    folders are not entered, as ``Path.rglob`` did). Walked with a list, not by recursion:
    a committed tree deeper than Python's recursion limit made ``rglob`` raise."""
    files: list[Path] = []
    pending = [folder]
    while pending:
        with os.scandir(pending.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file():
                    files.append(Path(entry.path))
    return sorted(files)


KIND = builtin_kind("artifact", evaluate)
