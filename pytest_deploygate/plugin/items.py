"""pytest nodes for a gate: a collector per gate, one per section, an item per criterion.

Node ids are ``GATE-12::<section-id>::<criterion-id>``: stable across runs, so ``-k``,
``--deselect`` and ``--lf`` work on criteria like on any test.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pytest_deploygate.core.results import CheckResult, Status
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.spec.model import Criterion


class CriterionFailed(Exception):
    """Raised by a gate item whose check result is not a pass; carries the result."""

    def __init__(self, result: CheckResult) -> None:
        self.result = result
        super().__init__(result.message)


class GateCollector(pytest.Collector):
    """All items of one gate (and stage)."""

    def __init__(self, *, plan: GatePlan, run: GateRun, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.plan = plan
        self.run = run
        #: The plan's record name, built once: every item's report names it. (A plan is
        #: frozen once the run is prepared, before collection, and a collector keeps its plan.)
        self.record_name = plan.record_name

    def collect(self) -> Iterator[pytest.Collector]:
        """Sections in checklist order; a broken spec or state is one clear collection error."""
        if self.plan.error:
            raise self.CollectError(f"deploygate: {self.plan.error}")
        sections: dict[str, list[Criterion]] = {}
        for item in self.plan.items:
            sections.setdefault(item.section_id, []).append(item)
        for section_id, items in sections.items():
            yield SectionCollector.from_parent(self, name=section_id, criteria=items)

    def reportinfo(self) -> tuple[Any, int, str]:
        """Points at the spec file."""
        return self.path, 0, self.name


class SectionCollector(pytest.Collector):
    """The items of one checklist section."""

    def __init__(self, *, criteria: list[Criterion], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.criteria = criteria

    def collect(self) -> Iterator[pytest.Item]:
        """One item per criterion."""
        for criterion in self.criteria:
            yield GateItem.from_parent(self, name=criterion.id, criterion=criterion)


class GateItem(pytest.Item):
    """One criterion: evaluated against evidence when run."""

    def __init__(self, *, criterion: Criterion, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.criterion = criterion
        self.result: CheckResult | None = None
        node = self.parent
        while not isinstance(node, GateCollector):
            assert node is not None
            node = node.parent
        # Found once: every hook of every phase of the item asks for it.
        self._gate: GateCollector = node
        self.text = criterion.render_text(node.plan.thresholds)
        self.extra_keyword_matches.update({criterion.role, criterion.stage})

    @property
    def gate_collector(self) -> GateCollector:
        """The gate this item belongs to."""
        return self._gate

    def runtest(self) -> None:
        """Evaluate the check; N/A skips, anything but met fails with the reason."""
        gate = self.gate_collector
        self.result = result = gate.run.evaluate(gate.plan, self.criterion)
        # A check speaks CheckStatus, the plain strings of those Status members.
        if result.status == "met":
            return
        if result.status in ("not_applicable", "waived"):
            pytest.skip(result.message)
        raise CriterionFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None
                     ) -> Any:
        """The reason and the evidence, not a traceback."""
        if isinstance(excinfo.value, CriterionFailed):
            result = excinfo.value.result
            labels: dict[str, str] = {Status.NOT_MET: "NOT MET", Status.MISSING: "EVIDENCE MISSING"}
            label = labels.get(result.status, result.status)
            if self.criterion.role == "trigger" and result.status == "not_met":
                label = "ROLLBACK TRIGGERED"
            lines = [f"{label}: [{self.gate_collector.plan.gate_id}][{self.criterion.id}] "
                     f"{self.text}", f"  {result.message}"]
            lines += [f"  evidence: {e.describe()}" for e in result.evidence]
            return "\n".join(lines)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Any, int, str]:
        """Spec file and line of the criterion, and its record name."""
        plan = self.gate_collector.plan
        return self.path, max(self.criterion.line - 1, 0), (
            f"[{plan.gate_id}][{self.criterion.id}] {self.text}")
