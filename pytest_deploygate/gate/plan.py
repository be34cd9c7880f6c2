"""What one gate run is about: the gated projects and, per gate and stage, a plan of items.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pytest_deploygate.checks.project import Project
from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.results import CheckResult
from pytest_deploygate.isdlc.layout import Layout
from pytest_deploygate.spec.library import Library, SpecFile
from pytest_deploygate.spec.model import Criterion, GateSpec


class ConfigError(DeployGateError):
    """deploygate.yaml is broken: the run stops (exit 2) and no record is written."""


@dataclass
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


@dataclass
class GatePlan:
    """One gate (and stage) of one project in this run: its items and what decides whether
    they run."""

    spec_file: SpecFile
    stage: str
    slot: ProjectSlot
    record_dir: Path
    spec: GateSpec | None = None
    error: str | None = None
    thresholds: dict[str, float] = field(default_factory=dict)
    items: list[Criterion] = field(default_factory=list)
    #: Every item of the spec, all stages, with the project's evidence overrides applied.
    spec_items: tuple[Criterion, ...] = ()
    prerequisite_results: dict[str, CheckResult] = field(default_factory=dict)
    unmet: list[str] = field(default_factory=list)
    #: Prerequisites "GATE-M passed" where gate M runs earlier in this same invocation: they
    #: are decided by that run's outcome, just before this gate's first item.
    deferred: dict[str, GatePlan] = field(default_factory=dict)

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

    @property
    def skip_reason(self) -> str | None:
        """Why every item is skipped, when a prerequisite is unmet."""
        if not self.unmet:
            return None
        return f"{self.gate_id} skipped, prerequisite unmet: " + " | ".join(self.unmet)
