"""Append-only JSON Lines logs (sign-offs, waivers): read, schema-check, attribute by git.

One object per line, so every line can be traced to the commit that added it. A malformed
line is reported with file and line and skipped; it never stops the rest of the log.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_deploygate import limits
from pytest_deploygate.gitinfo import GitError, LineOrigin, blame
from pytest_deploygate.paths import OutsideRoot, inside_root


@dataclass
class LogLine:
    """A schema-valid line."""

    number: int
    data: dict[str, Any]
    origin: LineOrigin | None = None


@dataclass
class JsonlLog:
    """A read log: its valid lines and what was wrong."""

    name: str
    exists: bool = False
    lines: list[LogLine] = field(default_factory=list)
    problem: str | None = None
    line_problems: list[str] = field(default_factory=list)
    git_problem: str | None = None


def read_jsonl(root: Path, relative: str, schema_name: str, with_origins: bool) -> JsonlLog:
    """Read ``relative`` under ``root``; problems are kept on the result, not raised.

    Kept per file version (a monorepo's projects share one log): callers must not mutate it.
    """
    path = root / relative
    try:
        stat = path.stat()
        key = (str(root), relative, schema_name, with_origins, stat.st_mtime_ns, stat.st_size)
    except OSError:
        return _read_jsonl(root, relative, schema_name, with_origins)
    cached = _LOGS.get(key)
    if cached is None:
        cached = _LOGS[key] = _read_jsonl(root, relative, schema_name, with_origins)
    return cached


_LOGS: dict[tuple, JsonlLog] = {}


def _read_jsonl(root: Path, relative: str, schema_name: str, with_origins: bool) -> JsonlLog:
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
        if path.stat().st_size > limits.MAX_EVIDENCE_BYTES:
            log.problem = f"{relative} is over the {limits.MAX_EVIDENCE_BYTES} byte limit"
            return log
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        log.problem = f"cannot read {relative}: {exc}"
        return log
    import jsonschema

    from pytest_deploygate.documents import schema

    validator = jsonschema.Draft202012Validator(schema(schema_name))
    seen: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        where = f"{relative}:{number}"
        try:
            data = json.loads(stripped)
        except (ValueError, RecursionError) as exc:
            log.line_problems.append(f"{where}: not a JSON object: {exc}")
            continue
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            at = ".".join(str(p) for p in error.absolute_path) or "(line)"
            log.line_problems.append(f"{where}: {at}: {error.message}")
            continue
        if stripped in seen:
            log.line_problems.append(f"{where}: duplicate of line {seen[stripped]}; ignored")
            continue
        seen[stripped] = number
        log.lines.append(LogLine(number, data))
    if with_origins and log.lines:
        try:
            origins = blame(root, relative)
        except GitError as exc:
            log.git_problem = str(exc)
        else:
            for line in log.lines:
                line.origin = origins.get(line.number)
    return log
