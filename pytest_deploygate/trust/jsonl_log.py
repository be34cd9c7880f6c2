"""Append-only JSON Lines logs (sign-offs, waivers): read, schema-check, attribute by git.

One object per line, so every line can be traced to the commit that added it. The file is
read exactly as git reads it (trust_rules: split on ``\\n`` only; a line holding another line
separator or a control character is unreadable), and each line's bytes must be the bytes
``git blame`` attributes, or the line is not attributed at all. A malformed line is reported
with file and line and skipped; it never stops the rest of the log.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.trust_rules import (
    line_text_problem,
    split_git_lines,
    value_text_problem,
)
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.evidence.git import GitError, LineOrigin, blame_lines, top_relative


@value_class
class LogLine:
    """A schema-valid line."""

    number: int
    data: dict[str, Any]
    origin: LineOrigin | None = None


@value_class
class JsonlLog:
    """A read log: its valid lines and what was wrong."""

    name: str
    exists: bool = False
    lines: list[LogLine] = field(default_factory=list)
    problem: str | None = None
    line_problems: list[str] = field(default_factory=list)
    git_problem: str | None = None


def read_jsonl(root: Path, relative: str, schema_name: str, with_origins: bool,
               scope: RunScope | None = None, *, keep: bool = True) -> JsonlLog:
    """Read ``relative`` under ``root``; problems are kept on the result, not raised.

    Within a run (``scope``) kept per file version (a monorepo's projects share one log):
    callers must not mutate it. ``keep=False`` reads it without keeping it, for a caller
    that keeps what it builds from the lines instead (the lines would be held twice).
    """
    scope = scope or RunScope()
    if not keep:
        return _read_jsonl(root, relative, schema_name, with_origins, scope)
    path = root / relative
    try:
        stat = path.stat()
        git_state = _git_state(root) if with_origins else None
    except OSError:
        return _read_jsonl(root, relative, schema_name, with_origins, scope)
    if git_state is _UNCACHEABLE:
        return _read_jsonl(root, relative, schema_name, with_origins, scope)
    key = (str(root), relative, schema_name, with_origins, stat.st_mtime_ns, stat.st_size,
           git_state)
    logs = scope.cache("jsonl-logs")
    cached = logs.get(key)
    if cached is None:
        cached = logs[key] = _read_jsonl(root, relative, schema_name, with_origins, scope)
    return cached


#: A repository whose state cannot be stamped (a linked worktree, a submodule).
_UNCACHEABLE = ("uncacheable",)


def _git_state(root: Path) -> tuple[int, ...] | tuple[str]:
    # Attribution changes with every commit although the file does not: key the cache on
    # the repository's index and HEAD too.
    for folder in (root.resolve(), *root.resolve().parents):
        dot_git = folder / ".git"
        if dot_git.is_file():  # a linked worktree or submodule: do not cache
            return _UNCACHEABLE
        if dot_git.exists():
            stamps: list[int] = []
            for name in ("index", "HEAD", "logs/HEAD"):
                try:
                    stamps.append((dot_git / name).stat().st_mtime_ns)
                except OSError:
                    stamps.append(0)
            return tuple(stamps)
    return ()


def _read_jsonl(root: Path, relative: str, schema_name: str, with_origins: bool,
                scope: RunScope) -> JsonlLog:
    log = JsonlLog(relative)
    try:
        path = inside_root(root, relative)
    except OutsideRoot as exc:
        log.problem = f"{relative}: {exc}"
        return log
    if not path.is_file():
        return log
    log.exists = True
    try:
        data = read_regular_file(path, scope.limits.evidence_bytes)
    except UnusableFile as exc:
        log.problem = f"{relative}: {exc.reason}"
        return log
    except OSError as exc:
        log.problem = f"cannot read {relative}: {exc}"
        return log
    from pytest_deploygate.core.documents import schema
    from pytest_deploygate.core.schema_check import checker_for

    # Precompiled: a valid line costs microseconds and no jsonschema import.
    validator = checker_for(schema(schema_name))
    seen: dict[bytes, int] = {}
    raw_lines = split_git_lines(data)
    for number, raw in enumerate(raw_lines, start=1):
        # (The line's place is written only into a problem: most lines have none.)
        try:
            text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            log.line_problems.append(f"{relative}:{number}: not UTF-8 ({exc.reason} at byte "
                                     f"{exc.start}); the line is not read")
            continue
        unreadable = line_text_problem(text)
        if unreadable:
            log.line_problems.append(f"{relative}:{number}: {unreadable}; the line is not read "
                                     "and proves nothing")
            continue
        stripped = text.strip(" ")
        if not stripped:
            continue
        try:
            # (json.loads refuses a leading U+FEFF in its own words before decoding: such a
            # line still goes through it, so its problem reads as it always did.)
            parsed = json.loads(stripped, object_pairs_hook=_no_duplicate_keys) \
                if stripped.startswith("\ufeff") else _DECODER.decode(stripped)
        except (ValueError, RecursionError) as exc:
            log.line_problems.append(f"{relative}:{number}: not a JSON object: {exc}")
            continue
        # The bytes were decoded strictly (no surrogate survives a UTF-8 decode), so only a
        # JSON escape can bring a lone surrogate into a value or key, and every escape of
        # one is written "\u": a line without "\u" holds none, and the walk could only
        # answer None. (A line that holds "\u" anywhere, escaped backslash or not, is walked.)
        escaped = value_text_problem(parsed) if "\\u" in stripped else None
        if escaped:
            log.line_problems.append(f"{relative}:{number}: {escaped}; the line is not read "
                                     "and proves nothing")
            continue
        error = next(iter(validator.iter_errors(parsed)), None)
        if error is not None:
            at = ".".join(str(p) for p in error.absolute_path) or "(line)"
            log.line_problems.append(f"{relative}:{number}: {at}: {error.message}")
            continue
        key = stripped.encode()
        if key in seen:
            log.line_problems.append(f"{relative}:{number}: duplicate of line {seen[key]}; "
                                     "ignored")
            continue
        seen[key] = number
        log.lines.append(LogLine(number, parsed))
    if with_origins and log.lines:
        _attribute(log, root, relative, raw_lines)
    return log


def _attribute(log: JsonlLog, root: Path, relative: str, raw_lines: list[bytes]) -> None:
    """Give each line the commit git blames for it, only where git saw the same bytes."""
    try:
        blamed = blame_lines(root, relative)
        here = top_relative(root, relative)
    except GitError as exc:
        log.git_problem = str(exc)
        return
    kept: list[LogLine] = []
    for line in log.lines:
        answer = blamed.get(line.number)
        if answer is not None and answer.origin.committed and answer.path != here:
            # git blame followed a rename: the commit added this line to another file (another
            # project's log, a scratch file), not to this log, so it signs nothing here.
            log.line_problems.append(f"{relative}:{line.number}: git shows this line added "
                                     f"to another file ({answer.path}) and moved here, so it "
                                     "was not signed in this log")
            continue
        if answer is not None and answer.content != raw_lines[line.number - 1]:
            # git read the file differently (an attribute filter or encoding): whatever it
            # attributes is not this line, so the line has no author at all.
            log.line_problems.append(f"{relative}:{line.number}: git blame shows different "
                                     "content for this line, so who added it is unknown")
            continue
        if answer is not None and answer.unproven is not None:
            # blame read history objects without hashing them: a forged one hands a line
            # to an earlier commit (its author). Unproven, the line has no author.
            log.line_problems.append(
                f"{relative}:{line.number}: git blame names commit {answer.origin.commit} "
                "for this line, but the object store does not hold what that commit names: "
                f"{answer.unproven}; run git fsck, and clone again (the line is not "
                "attributed)")
            continue
        line.origin = answer.origin if answer is not None else None
        kept.append(line)
    log.lines = kept


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A key given twice means two readers may see two different lines: refuse it.
    result = dict(pairs)
    if len(result) == len(pairs):  # (every key once: the usual line, one C call)
        return result
    seen: set[str] = set()
    for key, _ in pairs:  # name the first key given twice, as the error always did
        if key in seen:
            break
        seen.add(key)
    raise ValueError(f"key {key!r} appears twice")


#: One decoder for every line: ``json.loads(text, object_pairs_hook=...)`` builds a new
#: JSONDecoder (and its scanner) per call. A decoder keeps nothing between calls, and
#: ``decode`` is what ``loads`` calls on a ``str``, so each line parses exactly as before.
_DECODER = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)
