"""Evidence files found by glob: reports, scan results, captured metrics.

Every file is resolved inside the project root, read once with a size limit, hashed, and
checked for freshness (``not_before: commit`` and ``max_age_days``), so a PASS built on last
week's report is visible in the record, or refused.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from pytest_deploygate.checks.declared import FILE_PARAMS as FILE_PARAMS  # (declared there)
from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.evidence.committed import CommittedFile, committed_files, future_problem

MAX_FILES = 500


@value_class
class EvidenceFile:
    """One file read as evidence."""

    relative: str
    data: bytes
    modified: datetime
    evidence: Evidence
    #: When the file was put in the work tree: its inode's change time (written, extracted,
    #: renamed, its times set), which no program sets back.
    placed: datetime | None = None


@value_class
class FileSet:
    """The files a check reads, and what was wrong on the way."""

    files: list[EvidenceFile] = field(default_factory=list)
    patterns: list[str] = field(default_factory=list)
    #: Under ``not_before: commit``: the instant the files had to be newer than.
    floor: Evidence | None = None

    @property
    def evidence(self) -> tuple[Evidence, ...]:
        """Evidence entries of every file (and the freshness floor they were held to)."""
        files = tuple(f.evidence for f in self.files)
        return files if self.floor is None else (*files, self.floor)

    def listing(self) -> str:
        """``a.xml, b.xml`` for messages."""
        return ", ".join(f.relative for f in self.files)


#: When a file says it was produced: a time, a sentence saying it cannot be read, or None.
StatedTime = Callable[[bytes], datetime | str | None]


def gather(params: Mapping[str, Any], ctx: Any, default_report: str | None = None,
           stated: StatedTime | None = None) -> FileSet | CheckResult:
    """The evidence files named by ``paths`` or a named report set; a CheckResult on trouble.

    ``stated``: when a file says it was produced (a report's own run time); the freshness
    rules hold a file to the earlier of that and when it was written."""
    patterns = list(params.get("paths") or ())
    report = params.get("report") or (None if patterns else default_report)
    config = ctx.project.config
    if report:
        if report not in config.reports:
            return CheckResult.missing(
                f"no report files configured for '{report}': add 'reports: {{{report}: "
                f"[\"path/*.xml\"]}}' to {config.display_name}")
        patterns += list(config.reports[report])
    if not patterns:
        return CheckResult.missing("no paths given and no report set configured")
    found = FileSet(patterns=patterns)
    root = ctx.project.root
    seen: set[Path] = set()
    for pattern in patterns:
        pure = PurePosixPath(pattern)
        if pure.is_absolute() or ".." in pure.parts:
            return CheckResult.missing(f"{pattern!r}: paths must stay inside the project root")
        try:
            matches = sorted(root.glob(pattern))
        except RecursionError:  # ("**" over a committed tree deeper than Python recurses)
            return CheckResult.missing(f"{pattern!r}: a folder it searches is nested too deep "
                                       "to search")
        if not any(match.is_file() for match in matches):
            # Every pattern names a report a step of the run writes: one that wrote none (a
            # scanner that crashed) is missing, and the others' clean reports never stand in
            # for it.
            return CheckResult.missing(
                f"no file matches {pattern}" + (f" (of {', '.join(patterns)})"
                                                  if len(patterns) > 1 else "")
                + ": the run that writes it wrote nothing", *found.evidence)
        for match in matches:
            relative = match.relative_to(root).as_posix()
            try:
                resolved = inside_root(root, relative)
            except OutsideRoot as exc:
                return CheckResult.missing(str(exc))
            if resolved in seen or not resolved.is_file():
                continue
            seen.add(resolved)
            if len(seen) > MAX_FILES:
                return CheckResult.missing(f"more than {MAX_FILES} files match {patterns}")
            loaded = _read(relative, resolved, ctx.services.scope)
            if isinstance(loaded, CheckResult):
                return loaded
            found.files.append(loaded)
    if not found.files:
        return CheckResult.missing(f"no file matches {', '.join(patterns)}")
    if params.get("not_before") == "commit":
        floor = ctx.project.freshness_floor
        if isinstance(floor, str):
            return CheckResult.missing(f"not_before: commit, but {floor}", *found.evidence)
        # Shown with the files: what they were held to, and where that time comes from.
        found.floor = floor.evidence
    claims = _claims(found.files, params, ctx, stated)
    if isinstance(claims, str):
        return CheckResult.missing(claims, *found.evidence)
    impossible = _impossible(found, params, ctx)
    if impossible:
        return CheckResult.missing("impossible evidence: " + "; ".join(impossible),
                                   *found.evidence)
    stale = _stale(found, params, ctx, claims)
    if stale:
        return CheckResult.not_met("stale evidence: " + "; ".join(stale), *found.evidence)
    return found


def _read(relative: str, path: Path, scope: RunScope) -> EvidenceFile | CheckResult:
    try:
        stat = path.stat()
        limit = scope.limits.evidence_bytes
        if stat.st_size > limit:
            return CheckResult.missing(f"{relative} is {stat.st_size} bytes, over the "
                                       f"{limit} byte limit "
                                       "(ini deploygate_max_evidence_size)")
        # One read and hash per version of a file in a run, however many criteria (or
        # projects) use it.
        versions = scope.cache("evidence-files")
        key = (relative, path, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size)
        found = versions.get(key)
        if not isinstance(found, EvidenceFile):  # the cache holds nothing else
            found = versions[key] = _read_version(relative, path, stat.st_mtime_ns,
                                                  stat.st_ctime_ns, limit)
        return found
    except UnusableFile as exc:
        return CheckResult.missing(f"{relative}: {exc.reason}")
    except OSError as exc:
        return CheckResult.missing(f"{relative} cannot be read: {exc.strerror or exc}")


def _read_version(relative: str, path: Path, mtime_ns: int, ctime_ns: int, limit: int
                  ) -> EvidenceFile:
    data = read_regular_file(path, limit)
    modified = datetime.fromtimestamp(mtime_ns / 1e9, UTC)
    placed = datetime.fromtimestamp(ctime_ns / 1e9, UTC)
    evidence = Evidence("file", relative, sha256=hashlib.sha256(data).hexdigest(),
                        modified=format_instant(modified))
    return EvidenceFile(relative, data, modified, evidence, placed)


def _claims(files: Sequence[EvidenceFile], params: Mapping[str, Any], ctx: Any,
            stated: StatedTime | None) -> dict[str, datetime] | str:
    """When each file says it was produced (under a freshness rule only), or why one's stated
    time cannot be read: then its age is unknown, never judged by its modification time."""
    if stated is None or (params.get("not_before") != "commit" and "max_age_days" not in params):
        return {}
    # Parsed once per run per content, however many criteria read the file.
    memo = ctx.services.scope.cache("stated-times")
    claims = {}
    for f in files:
        key = (stated.__module__, stated.__qualname__, f.evidence.sha256)
        if key not in memo:
            memo[key] = stated(f.data)
        claim = memo[key]
        if isinstance(claim, str):
            return (f"{f.relative}: {claim}, so when it ran is unknown: write the tool's own "
                    "time stamp, or none")
        if claim is not None:
            claims[f.relative] = claim
    return claims


def _impossible(found: FileSet, params: Mapping[str, Any], ctx: Any) -> list[str]:
    """Times a freshness rule would read that cannot be true (under such a rule only)."""
    if params.get("not_before") != "commit" and "max_age_days" not in params:
        return []
    committed = committed_of(found.files, ctx)
    problems = [problem for f in found.files
                if (problem := future_problem(f.relative, f.modified,
                                              None if isinstance(committed, str)
                                              else committed.get(f.relative),
                                              ctx.project.now))]
    return problems


def _stale(found: FileSet, params: Mapping[str, Any], ctx: Any,
           claims: Mapping[str, datetime]) -> list[str]:
    if params.get("not_before") != "commit" and "max_age_days" not in params:
        return []
    committed = committed_of(found.files, ctx)
    if isinstance(committed, str):
        return [f"{committed}, so the files' age is unknown"]
    problems = []
    if params.get("not_before") == "commit":
        floor = ctx.project.freshness_floor
        commit_time = None if isinstance(floor, str) else floor.committed
        for f in found.files:
            tracked = committed.get(f.relative)
            if tracked is not None:
                # Committed content was written by whoever committed it, whenever its
                # committer time says: release content or bookkeeping (a report committed
                # under .isdlc/ after the release commit), it is no run of the release.
                what = "release content" if tracked.release_content else "bookkeeping"
                problems.append(f"{f.relative} is committed {what} (last changed in "
                                f"{tracked.commit[:12]}), not written after the release commit "
                                f"{ctx.project.commit[:12]}: produce it in CI, untracked")
            elif commit_time and (claimed := claims.get(f.relative)) and claimed < commit_time:
                problems.append(f"{f.relative} says it ran at {format_instant(claimed)}, before "
                                f"the release commit {ctx.project.commit[:12]} "
                                f"({format_instant(commit_time)})")
            elif commit_time and f.modified < commit_time:
                problems.append(f"{f.relative} (modified {format_instant(f.modified)}) is older "
                                f"than the release commit {ctx.project.commit[:12]} "
                                f"({format_instant(commit_time)})")
            elif (not isinstance(floor, str) and f.placed is not None
                  and f.placed < floor.at):
                # The commit time is its committer's claim (backdated, last year): a report
                # an earlier run left in a reused work tree was "newer". When the file was put
                # here (its inode's change time, set by the kernel: no utime moves it back; an
                # artifact extracted with its old modification time is put here now) must be
                # after this checkout got the release.
                problems.append(f"{f.relative} was put in the work tree at "
                                f"{format_instant(f.placed)}, before this checkout arrived at "
                                f"the release commit {ctx.project.commit[:12]} "
                                f"({format_instant(floor.at)}): left by an earlier run; "
                                "produce it in this run")
    if "max_age_days" in params:
        limit = ctx.number(params["max_age_days"])
        for f in found.files:
            tracked = committed.get(f.relative)
            written = content_time(f, tracked)
            claimed = claims.get(f.relative)
            said = ""
            if claimed is not None and claimed < written:
                written, said = claimed, f", by the run time it states ({format_instant(claimed)})"
            age = (ctx.project.now - written).total_seconds() / 86400
            if age > limit:
                problems.append(f"{f.relative} is {age:.1f} days old{_as_committed(tracked)}"
                                f"{said}, over {limit:g}")
    return problems


def committed_of(files: Sequence[EvidenceFile], ctx: Any) -> dict[str, CommittedFile] | str:
    """Which of ``files`` git tracks unchanged (asked once per run for the same files)."""
    key = ("committed-evidence", tuple((f.relative, f.modified) for f in files))
    if key not in ctx.project.memo:
        ctx.project.memo[key] = committed_files(ctx.project.root, [f.relative for f in files],
                                                ctx.project.record_dir)
    found: dict[str, CommittedFile] | str = ctx.project.memo[key]
    return found


def content_time(file: EvidenceFile, tracked: CommittedFile | None) -> datetime:
    """When the file's content was written: a committed file's checkout time is not it."""
    return file.modified if tracked is None else min(file.modified, tracked.at)


def _as_committed(tracked: CommittedFile | None) -> str:
    return "" if tracked is None else f", as committed in {tracked.commit[:12]}"
