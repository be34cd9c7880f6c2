"""The decision table at the end of pytest's terminal report.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_deploygate.decision.decide import PASS, SKIPPED, Decision
from pytest_deploygate.records.content import RecordContent

_COLOURS = {PASS: {"green": True}, SKIPPED: {"yellow": True}}
_MAX_FAILING = 6
#: Above this many gate records the summary is one line per record.
_MAX_TABLES = 3
#: Failing criteria listed per gate in the GitHub job summary (the records have them all).
_MAX_STEP_ITEMS = 25


def write_summary(reporter: Any, results: list[tuple[Any, Decision, list[Path]]],
                  errors: list[str], cwd: Path, warnings: list[str] | None = None) -> None:
    """One table per gate: row, status, failing criteria; then the record paths."""
    if not results and not errors:
        return
    reporter.write_sep("=", "deploygate: gate decision")
    for warning in warnings or []:
        reporter.write_line(f"warning: {warning}", yellow=True)
    if len(results) > _MAX_TABLES:
        _compact(reporter, results, cwd)
        results = []
    for plan, decision, paths in results:
        colour = _COLOURS.get(decision.status, {"red": True, "bold": True})
        title = plan.spec.title if plan.spec else plan.spec_file.slug
        reporter.write_line(f"{plan.record_name} {title} (stage {plan.stage}): "
                            f"{decision.label}", **colour)
        width = max([len(r.title) for r in decision.rows] + [10])
        for row in decision.rows:
            failing = list(row.failing)
            shown = ", ".join(failing[:_MAX_FAILING])
            if len(failing) > _MAX_FAILING:
                shown += f", +{len(failing) - _MAX_FAILING} more"
            reporter.write_line(f"  {row.title:<{width}}  {row.status:<12} {shown}".rstrip())
        for reason in decision.reasons:
            reporter.write_line(f"  {reason}")
        for path in paths:
            reporter.write_line(f"  record: {_relative(path, cwd)}")
    for error in errors:
        reporter.write_line(f"deploygate: error: {error}", red=True, bold=True)


def _compact(reporter: Any, results: list[tuple[Any, Decision, list[Path]]], cwd: Path) -> None:
    """One line per gate and project: many projects must stay readable."""
    width = max(len(plan.record_name) for plan, _, _ in results)
    for plan, decision, paths in results:
        colour = _COLOURS.get(decision.status, {"red": True, "bold": True})
        failing = ", ".join(row.title for row in decision.failing_rows)
        where = _relative(paths[0].parent, cwd) if paths else ""
        reporter.write_line(f"{plan.record_name:<{width}}  {decision.label:<18} {failing}"
                            .rstrip() + (f"  [{where}]" if where else ""), **colour)
    counts: dict[str, int] = {}
    for _, decision, _ in results:
        counts[decision.status] = counts.get(decision.status, 0) + 1
    reporter.write_line(", ".join(f"{n} {status}" for status, n in sorted(counts.items())))


def _relative(path: Path, cwd: Path) -> str:
    try:
        return os.path.relpath(path, cwd)
    except ValueError:
        return str(path)


def step_summary(contents: list[RecordContent], paths: list[list[Path]], cwd: Path) -> str:
    """Markdown for ``$GITHUB_STEP_SUMMARY``: per gate, the decision, its table, what failed."""
    from pytest_deploygate.records.markdown import cell
    from pytest_deploygate.records.wording import headline, item_message

    lines: list[str] = []
    for content, written in zip(contents, paths, strict=True):
        decision = content.decision
        lines += [f"### {content.name} {cell(content.title)}: {decision.label}", "",
                  f"> {cell(headline(content))}", "",
                  "| Criteria | Status | Notes |", "|----------|--------|-------|"]
        lines += [f"| {cell(row.title)} | {row.status} | {cell(', '.join(row.failing))} |"
                  for row in decision.rows]
        failing = [item for item in content.items
                   if item.verdict not in (PASS, "N/A", "WAIVED")]
        if failing:
            lines += ["", f"Failing criteria ({len(failing)}):", ""]
            shown = failing[:_MAX_STEP_ITEMS]
            lines += [f"- **{cell(item.criterion.id)}** {cell(item.text)} — "
                      f"{cell(item_message(item, content.gate_id))}" for item in shown]
            if len(failing) > len(shown):
                lines.append(f"- … and {len(failing) - len(shown)} more (see the records)")
        if written:
            lines += ["", "Records: " + ", ".join(f"`{_relative(p, cwd)}`" for p in written)]
        lines.append("")
    return "\n".join(lines) + "\n"


def append_step_summary(target: str, text: str) -> str | None:
    """Append to the GitHub job summary file; the problem in one line if it cannot."""
    from pytest_deploygate.records.markdown import UNENCODABLE_AS

    try:
        # A lone surrogate (a user's test docstring) as an escape, as the records write it.
        with open(target, "a", encoding="utf-8", errors=UNENCODABLE_AS) as handle:
            handle.write(text)
    except OSError as exc:
        return f"GITHUB_STEP_SUMMARY {target}: cannot append: {exc.strerror or exc}"
    return None
