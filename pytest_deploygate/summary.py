"""The decision table at the end of pytest's terminal report.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pytest_deploygate.decision import PASS, SKIPPED, Decision

_COLOURS = {PASS: {"green": True}, SKIPPED: {"yellow": True}}
_MAX_FAILING = 6
#: Above this many gate records the summary is one line per record.
_MAX_TABLES = 3


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
