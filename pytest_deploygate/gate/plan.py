"""What one gate run is about: the gated projects and, per gate and stage, a plan of items.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pytest_deploygate.checks.project import Project
from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.isdlc.layout import Layout
from pytest_deploygate.spec.library import Library, SpecFile
from pytest_deploygate.spec.model import Criterion, GateSpec, RunStage


def _empty() -> Mapping[Any, Any]:
    """A read-only empty mapping: a frozen plan's mappings cannot be changed through it."""
    return MappingProxyType({})


class ConfigError(DeployGateError):
    """deploygate.yaml is broken: the run stops (exit 2) and no record is written.

    ``plans``: every gate the run selected (of every project, the broken one's included),
    whose earlier records the stopped run removes: in a monorepo a broken config of one
    project (or a shared one outside the projects' folders) is no new release of the others,
    and their last PASS must not outlive a run that did not decide."""

    def __init__(self, message: str, plans: tuple[GatePlan, ...] = (),
                 every_gate_known: bool = True) -> None:
        super().__init__(message)
        self.plans = plans
        #: False when the run stopped before it selected every gate (``plans`` is part).
        self.every_gate_known = every_gate_known


@value_class
class ProjectSlot:
    """One gated project: the single project of a repository, or one of a monorepo's."""

    id: str | None
    state_path: Path
    root: Path
    project: Project | None = None
    error: str | None = None
    #: The project's phase layout and the gates available in it.
    library: Library | None = None

    @property
    def layout(self) -> Layout | None:
        """The layout the project's gates were selected in."""
        return self.library.layout if self.library else None


@value_class(frozen=True, eq=False)
class GatePlan:
    """One gate (and stage) of one project in this run: its items and what decides whether
    they run. Frozen once prepared: what a run learns later (same-run prerequisites) is kept
    by :class:`~pytest_deploygate.gate.prerequisites.SameRunPrerequisites`."""

    spec_file: SpecFile
    stage: RunStage
    slot: ProjectSlot
    record_dir: Path
    spec: GateSpec | None = None
    error: str | None = None
    thresholds: Mapping[str, float] = field(default_factory=_empty)
    items: tuple[Criterion, ...] = ()
    #: Every item of the spec, all stages, with the project's evidence overrides applied.
    spec_items: tuple[Criterion, ...] = ()
    #: Prerequisites evaluated when the run was prepared (same-run ones are not: see deferred).
    prerequisite_results: Mapping[str, CheckResult] = field(default_factory=_empty)
    #: Why those prerequisites are unmet, in spec order.
    unmet: tuple[str, ...] = ()
    #: Prerequisites "GATE-M passed" where gate M runs earlier in this same invocation
    #: (item id -> the earlier gate's record name): decided by that run's outcome, just
    #: before this gate's first item.
    deferred: Mapping[str, str] = field(default_factory=_empty)

    @property
    def project(self) -> Project | None:
        """The gated project (None when its state could not be read)."""
        return self.slot.project

    @property
    def gate_id(self) -> str:
        """``GATE-12``; in today's layout the phase key, ``13-production``."""
        if self.spec_file.key:
            return self.spec_file.key
        return self.spec.id if self.spec else self.spec_file.gate_id

    @property
    def file_stem(self) -> str:
        """``GATE-12`` for the whole gate, ``GATE-12-pre`` / ``GATE-12-post`` for a stage."""
        return self.gate_id if self.stage == "all" else f"{self.gate_id}-{self.stage}"

    @property
    def record_name(self) -> str:
        """The record's (and the collector's) name: ``GATE-12-pre``, ``GATE-12@billing``."""
        return self.file_stem + (f"@{self.slot.id}" if self.slot.id else "")

    @property
    def node_name(self) -> str:
        """The collector's node id: ``GATE-12`` (``GATE-12@billing``) in every stage, so
        ``-k``, ``--deselect`` and ``--lf`` handles carry across stages; the stage belongs in
        the record, not in the node id."""
        return self.gate_id + (f"@{self.slot.id}" if self.slot.id else "")

    def skip_reason(self, unmet: tuple[str, ...]) -> str | None:
        """Why every item is skipped, given the prerequisites unmet so far."""
        if not unmet:
            return None
        return f"{self.gate_id} skipped, prerequisite unmet: " + " | ".join(unmet)
