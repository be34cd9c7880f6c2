"""The iSDLC framework's two phase layouts, and telling which one a project follows.

A gate is identified by its phase key. The framework has had two layouts:

- the **13-phase** layout (``01-requirements`` ... ``12-production``, ``13-operations``), the
  model of the built-in specs in ``gate_specs/``; gates are known by number (``GATE-12``);
- the **21-phase** layout of today's framework (snapshot 0689df91,
  ``src/core/config/phase-ids.js``): ``00-quick-scan`` ... ``16-quality-loop``, two keys
  numbered 02, two numbered 12, three numbered 15, and an alias table (``14-production`` ->
  ``13-production``). Its checklists still carry the older numbering in their own text
  ("GATE-10 Local Testing"); its current phase is ``active_workflow.current_phase``.

The layout is read from state.json first (what the framework's own code writes), then from
the project's checklists; a project with neither sign keeps the 13-phase layout, so older
projects behave exactly as before.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from pytest_deploygate.core.value_class import value_class

if TYPE_CHECKING:
    from pytest_deploygate.isdlc.state import StateDoc

LEGACY = "13-phase"
CURRENT = "21-phase"

LEGACY_KEYS: tuple[str, ...] = (
    "01-requirements", "02-architecture", "03-design", "04-test-strategy",
    "05-implementation", "06-testing", "07-code-review", "08-validation", "09-cicd",
    "10-local-testing", "11-test-deploy", "12-production", "13-operations",
)

#: ``KNOWN_PHASE_KEYS`` of the framework's phase-ids.js, in its canonical order.
CURRENT_KEYS: tuple[str, ...] = (
    "00-quick-scan", "01-requirements", "02-impact-analysis", "02-tracing",
    "03-architecture", "04-design", "05-test-strategy", "06-implementation", "07-testing",
    "08-code-review", "09-validation", "10-cicd", "11-local-testing", "12-remote-build",
    "12-test-deploy", "13-production", "14-operations", "15-upgrade-plan",
    "15-upgrade-execute", "15-upgrade", "16-quality-loop",
)

#: ``PHASE_KEY_ALIASES`` of phase-ids.js: legacy workflow keys -> canonical keys.
CURRENT_ALIASES: Mapping[str, str] = {
    "13-test-deploy": "12-test-deploy",
    "14-production": "13-production",
    "15-operations": "14-operations",
    "16-upgrade-plan": "15-upgrade-plan",
    "16-upgrade-execute": "15-upgrade-execute",
}

#: Today's checklist names that are neither a key nor an alias. The upgrade checklist
#: (``16-upgrade-gate.md``, "Dependency/Tool Upgrade") closes the upgrade phase, whose parent
#: key is ``15-upgrade`` (its plan and execute sub-phases have built-in gates of their own).
CURRENT_CHECKLIST_PHASES: Mapping[str, str] = {"16-upgrade": "15-upgrade"}

#: The same phase in both layouts ("staging" is the test-deploy phase in either).
LEGACY_TO_CURRENT: Mapping[str, str] = {
    "01-requirements": "01-requirements", "02-architecture": "03-architecture",
    "03-design": "04-design", "04-test-strategy": "05-test-strategy",
    "05-implementation": "06-implementation", "06-testing": "07-testing",
    "07-code-review": "08-code-review", "08-validation": "09-validation",
    "09-cicd": "10-cicd", "10-local-testing": "11-local-testing",
    "11-test-deploy": "12-test-deploy", "12-production": "13-production",
    "13-operations": "14-operations",
}
CURRENT_TO_LEGACY: Mapping[str, str] = {v: k for k, v in LEGACY_TO_CURRENT.items()}

#: Checklist file slugs only today's framework ships (``01-requirements`` is in both).
CURRENT_CHECKLISTS = frozenset(
    {k for k in CURRENT_KEYS if k != "01-requirements"} | set(CURRENT_ALIASES)
    | set(CURRENT_CHECKLIST_PHASES))
LEGACY_CHECKLISTS = frozenset(LEGACY_KEYS) - {"01-requirements"}

#: Where today's agents put each phase's artifacts, searched in order (the agents' folder
#: trees and ``artifact-paths.json``): the work item's folder first, then the phase's own
#: documentation folders, then the project root.
_WORK_ITEM = "docs/requirements/{artifact_folder}"
CURRENT_ARTIFACT_DIRS: Mapping[str, tuple[str, ...]] = {
    "00-quick-scan": (_WORK_ITEM, "."),
    "01-requirements": (_WORK_ITEM, "docs/common", "."),
    "02-impact-analysis": (_WORK_ITEM, "."),
    "02-tracing": (_WORK_ITEM, "."),
    "03-architecture": (_WORK_ITEM, "docs/common", "docs/architecture", "."),
    "04-design": (_WORK_ITEM, "docs/common", "docs/design", "docs/design/api",
                  "docs/design/ui", "."),
    "05-test-strategy": (_WORK_ITEM, "docs/common", "docs/testing", "."),
    "06-implementation": (_WORK_ITEM, "docs/common", "."),
    "07-testing": (_WORK_ITEM, "docs/testing", "docs/security", "."),
    "08-code-review": (_WORK_ITEM, "docs/quality", "."),
    "09-validation": (_WORK_ITEM, "docs/security", "docs/quality", "."),
    "10-cicd": ("docs/devops", "."),
    "11-local-testing": ("docs/devops", "docs/common", "."),
    "12-remote-build": ("docs/devops", "."),
    "12-test-deploy": ("docs/deployment/staging", "docs/deployment", "."),
    "13-production": ("docs/deployment/production", "docs/deployment", "."),
    "14-operations": ("docs/operations", "."),
    "15-upgrade-plan": (_WORK_ITEM, "."),
    "15-upgrade-execute": (_WORK_ITEM, "."),
    "15-upgrade": (_WORK_ITEM, "."),
    "16-quality-loop": (_WORK_ITEM, "docs/quality", "docs/testing", "."),
}

_KEY = re.compile(r"^(?P<number>[0-9]{2,3})-(?P<name>[a-z0-9][a-z0-9-]*)$")


@value_class(frozen=True)
class Layout:
    """A phase layout and why it was chosen (for the report header)."""

    name: str
    reason: str

    @property
    def current(self) -> bool:
        """Today's 21-phase layout."""
        return self.name == CURRENT

    @property
    def keys(self) -> tuple[str, ...]:
        """The layout's phase keys in order."""
        return CURRENT_KEYS if self.current else LEGACY_KEYS

    def canonical(self, key: str) -> str:
        """The canonical key of a key, an alias or (today) a checklist's slug."""
        if not self.current:
            return key
        return CURRENT_ALIASES.get(key) or CURRENT_CHECKLIST_PHASES.get(key) or key

    def order(self, key: str) -> tuple[int, int]:
        """Sort key: the layout's own order, unknown keys after by number."""
        canonical = self.canonical(key)
        if canonical in self.keys:
            return 0, self.keys.index(canonical)
        return 1, key_number(canonical) or 0

    def describe(self) -> str:
        """``21-phase layout (state.json has active_workflow)``."""
        return f"iSDLC {self.name} layout ({self.reason})"


def key_number(key: str) -> int | None:
    """``13-production`` -> 13; None when the key has no number."""
    match = _KEY.match(key)
    return int(match["number"]) if match else None


def detect(state: Mapping[str, Any] | None, checklist_dir: Path | None) -> Layout:
    """Which layout a project follows: state.json first, then its checklists."""
    if isinstance(state, Mapping):
        found = _from_state(state)
        if found is not None:
            return found
    names = _checklist_slugs(checklist_dir)
    today = sorted(names & CURRENT_CHECKLISTS)
    if today:
        return Layout(CURRENT, f"project checklist {today[0]}-gate.md")
    older = sorted(names & LEGACY_CHECKLISTS)
    if older:
        return Layout(LEGACY, f"project checklist {older[0]}-gate.md")
    return Layout(LEGACY, "no sign of the 21-phase layout in state.json or .isdlc/checklists")


def _from_state(state: Mapping[str, Any]) -> Layout | None:
    # What only today's framework writes: its installer writes active_workflow (null at
    # first), its writers bump state_version.
    for marker in ("active_workflow", "state_version"):
        if marker in state:
            return Layout(CURRENT, f"state.json has {marker}")
    phases = state.get("phases")
    keys = [k for k in phases if isinstance(k, str)] if isinstance(phases, Mapping) else []
    current = state.get("current_phase")
    if isinstance(current, str):
        keys.append(current)
    today = [k for k in keys if k not in LEGACY_KEYS and
             (k in CURRENT_KEYS or k in CURRENT_ALIASES)]
    # Name the current phase when it decides, else the first key that does.
    if today:
        return Layout(CURRENT, f"state.json names phase "
                               f"{current if current in today else today[0]}")
    older = [k for k in keys if k in LEGACY_KEYS and k != "01-requirements"]
    if older:
        return Layout(LEGACY, f"state.json names phase "
                              f"{current if current in older else older[0]}")
    return None


def _checklist_slugs(directory: Path | None) -> set[str]:
    if directory is None or not directory.is_dir():
        return set()
    return {path.name.removesuffix("-gate.md") for path in directory.glob("*-gate.md")}


def current_phase(state: Mapping[str, Any]) -> tuple[str | None, str]:
    """The phase the project is in and where it was read: ``active_workflow.current_phase``
    first (today's framework), then top-level ``current_phase``."""
    workflow = state.get("active_workflow")
    if isinstance(workflow, Mapping):
        phase = workflow.get("current_phase")
        if isinstance(phase, str) and phase:
            return phase, "active_workflow.current_phase"
    phase = state.get("current_phase")
    return (phase if isinstance(phase, str) and phase else None), "current_phase"


def checklist_layout(slug: str) -> str:
    """The layout a checklist belongs to, judged by its file name (for ``deploygate import``
    without a project): today's names are today's, everything else the 13-phase layout."""
    return CURRENT if slug in CURRENT_CHECKLISTS else LEGACY


def legacy_gate_key(number: int) -> str | None:
    """The 13-phase key of ``GATE-NN`` as the checklists number gates (GATE-11 -> staging)."""
    return next((k for k in LEGACY_KEYS if key_number(k) == number), None)


_MEMO_KEY = ("deploygate", "layout")


class _MemoProject(Protocol):
    """What of a :class:`~pytest_deploygate.checks.project.Project` the layout needs (this module
    sits below the project and must not import it)."""

    @property
    def root(self) -> Path: ...
    @property
    def state(self) -> StateDoc: ...
    @property
    def memo(self) -> dict[Any, Any]: ...


def layout_of(project: _MemoProject) -> Layout:
    """The layout of a :class:`~pytest_deploygate.checks.project.Project` (set by the gate run that
    selected its gates, else detected from its state.json and checklists)."""
    known = project.memo.get(_MEMO_KEY)
    if not isinstance(known, Layout):
        known = project.memo[_MEMO_KEY] = detect(project.state.data,
                                                 project.root / ".isdlc" / "checklists")
    return known


def remember_layout(project: _MemoProject, layout: Layout) -> None:
    """Make checks of this project use the layout its gates were selected in."""
    project.memo[_MEMO_KEY] = layout
