"""Import rules for the checklists of today's framework (the 21-phase layout).

Today's checklists keep the older numbering in their own text, so their references are
translated to phase keys here: "GATE-11 Passed (Staging)" is the test-deploy phase
(``12-test-deploy``), "All previous gates passed" means the phases before this one, work-item
folders such as ``BUG-NNNN-{id}`` are the active work item's ``artifact_folder``, a test
iteration limit is read from ``iteration_requirements.test_iteration`` (not from the
constitutional validation), and criteria of one workflow scope (bug-report only) are N/A in
the others.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from typing import Any

from pytest_deploygate.importer.parse import Outline
from pytest_deploygate.importer.text import plain
from pytest_deploygate.isdlc.layout import LEGACY_TO_CURRENT, legacy_gate_key

BUG_REPORT = "bug-report"
_SCOPE_HEADING = re.compile(r"\bbug[- ]report scope\b", re.I)
# A work item's folder as the checklists spell it: BUG-NNNN-{id}, UPG-NNNN-{name}-v{version}.
_WORK_ITEM_FOLDER = re.compile(r"^[A-Z]{2,5}-N{2,}[^/]*$|\{[^}]*\}")
_ITERATION_SECTION = re.compile(r"autonomous (test )?iteration", re.I)


def scope_regions(outline: Outline) -> list[tuple[int, int, str]]:
    """Line ranges of the checklist that belong to one workflow scope (start, end, scope)."""
    regions = []
    titles = outline.h2_titles
    for index, (title, line) in enumerate(titles):
        if _SCOPE_HEADING.search(title):
            end = titles[index + 1][1] if index + 1 < len(titles) else 10 ** 9
            regions.append((line, end, BUG_REPORT))
    return regions


def scope_at(regions: list[tuple[int, int, str]], line: int) -> str | None:
    """The scope of a source line, or None when it lies outside every scope region."""
    return next((scope for start, end, scope in regions if start <= line < end), None)


def scope_check(regions: list[tuple[int, int, str]], line: int) -> dict[str, Any] | None:
    """``when`` for an item: its own scope, or "not bug-report" for the full criteria of a
    checklist that has relaxed bug-report criteria; None when the checklist has no scopes."""
    if not regions:
        return None
    scope = scope_at(regions, line)
    if scope is not None:
        return {"kind": "scope", "is": scope}
    return {"kind": "scope", "not": BUG_REPORT}


def prerequisite_phase(number: int) -> str | None:
    """``GATE-11`` as today's checklists write it (older numbering) -> ``12-test-deploy``."""
    legacy = legacy_gate_key(number)
    return LEGACY_TO_CURRENT.get(legacy) if legacy else None


def artifact_path(path: str) -> str:
    """``docs/requirements/BUG-NNNN-{id}/x.md`` -> ``docs/requirements/{artifact_folder}/x.md``;
    a placeholder anywhere else is kept (the artifact check refuses what it cannot fill)."""
    parts = path.split("/")
    if len(parts) > 2 and parts[:2] == ["docs", "requirements"] and \
            _WORK_ITEM_FOLDER.search(parts[2]):
        parts[2] = "{artifact_folder}"
    return "/".join(parts)


def iteration_check(section_title: str, text: str, found: dict[str, float | None]
                    ) -> dict[str, Any] | None:
    """The check of an item in an "Autonomous (Test) Iteration" section: the framework's
    ``iteration_requirements.test_iteration`` record of the phase."""
    if not _ITERATION_SECTION.search(section_title) or "constitutional" in \
            section_title.lower():
        return None
    lowered = plain(text).lower()
    if "iteration count logged" in lowered:
        return {"kind": "test_iteration", "criterion": "logged"}
    if lowered.startswith("final status recorded"):
        return {"kind": "test_iteration", "criterion": "final_status"}
    if lowered.startswith("iterations within limit"):
        check: dict[str, Any] = {"kind": "test_iteration", "criterion": "within_limit"}
        limits = {n.split("_")[1]: {"threshold": n} for n in found
                  if n.startswith("iterations_") and
                  n.split("_")[1] in ("quick", "standard", "enterprise")}
        if limits:
            check["limits"] = limits
        default = re.search(r"\(default:\s*(\d+)\)", lowered)
        if default:
            check["limit"] = int(default.group(1))
        return check
    if lowered.startswith("if escalated"):
        return {"kind": "test_iteration", "criterion": "escalation_documented"}
    if re.search(r"\bno (test failures )?repeated", lowered):
        return {"kind": "test_iteration", "criterion": "no_repeated_failures"}
    return None
