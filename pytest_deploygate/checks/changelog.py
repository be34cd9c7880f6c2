"""``changelog``: CHANGELOG.md has an entry for the release version.

Accepts Keep a Changelog headings (``## [1.4.0] - 2026-02-04``) and plain ones (``## 1.4.0``,
``## v1.4.0``), the version whole (``## 1.4.0-rc1`` is another release's entry). The entry
must have a line of content (not a sub-heading or comment) before the next heading of its
level. Parameter ``path`` (default ``CHANGELOG.md``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.paths import OutsideRoot, inside_root
from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.version_text import NOT_AFTER


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Find the version's heading and its content."""
    version = ctx.project.version
    if not version:
        return CheckResult.missing("release version unknown: pass --gate-version or set "
                                   f"version in {ctx.project.config.display_name}")
    relative = params.get("path", "CHANGELOG.md")
    try:
        path = inside_root(ctx.project.root, relative)
    except OutsideRoot as exc:
        return CheckResult.missing(str(exc))
    if not path.is_file():
        return CheckResult.not_met(f"{relative} not found")
    try:
        data = read_regular_file(path, ctx.project.limits.evidence_bytes)
    except UnusableFile as exc:
        return CheckResult.missing(f"{relative}: {exc.reason}")
    except OSError as exc:
        return CheckResult.missing(f"{relative} cannot be read: {exc.strerror or exc}")
    evidence = Evidence("file", relative, sha256=hashlib.sha256(data).hexdigest())
    bare = re.escape(version.removeprefix("v"))
    # (The version whole: the heading of 1.4.0-rc1 or 1.4.0.1 is another release's entry.)
    heading = re.compile(rf"^#{{1,3}}\s+\[?v?{bare}{NOT_AFTER}\]?(?=$|[\s(:-])")
    lines = _shown_lines(data.decode("utf-8", errors="replace"))
    for index, (line, code) in enumerate(lines):
        if not code and heading.match(line.strip()):
            level = len(line.strip()) - len(line.strip().lstrip("#"))
            body = []
            for following, in_code in lines[index + 1:]:
                marks = None if in_code else re.match(r"^(#+)\s", following.strip())
                if marks and len(marks.group(1)) <= level:
                    break  # the next entry of the same level
                # Sub-headings (Keep a Changelog's "### Added") are the template of an
                # entry, not a line about the release.
                if following.strip() and not marks:
                    body.append(following)
            if not body:
                return CheckResult.not_met(f"{relative}:{index + 1}: the {version} entry is "
                                           "empty", evidence)
            return CheckResult.met(f"{relative}:{index + 1}: entry for {version}", evidence)
    return CheckResult.not_met(f"{relative} has no entry for {version}", evidence)


#: An HTML comment; one never closed runs to the end of the file, as Markdown renders it.
_COMMENT = re.compile(r"<!--.*?(?:-->|\Z)", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _shown_lines(text: str) -> list[tuple[str, bool]]:
    """The changelog's lines as markdown shows them, numbered as in the file, each with
    whether it is code: comments (over several lines too) blanked, fenced and indented code
    marked. A draft entry in a comment, or a contributing note's example heading in code, is
    no entry; code in an entry is content of it."""
    text = _COMMENT.sub(lambda m: "".join(c for c in m.group(0) if c == "\n"), text)
    shown: list[tuple[str, bool]] = []
    fence = ""
    for line in text.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= \
                    len(fence) and not line.strip().strip(fence[0]):
                fence = ""
            shown.append((line, True))
        elif opening:
            fence = opening.group(1)
            shown.append((line, True))
        else:
            # (Four spaces or a tab before a heading's marks: indented code.)
            shown.append((line, line.startswith(("    ", "\t")) and line.strip().startswith("#")))
    return shown


KIND = builtin_kind("changelog", evaluate)
