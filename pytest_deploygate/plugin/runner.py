"""What runs a gate's items: collection, ordering, prerequisites before a gate's first item,
and each item's outcome attached to its report.

Registered on every process that runs items: a plain pytest session, and each pytest-xdist
worker (not the xdist controller, which runs nothing).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator

import pytest

from pytest_deploygate.decision.outcomes import ItemOutcome
from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.gate.run import GateRun
from pytest_deploygate.plugin.items import GateCollector, GateItem
from pytest_deploygate.plugin.report_data import REPORT_KEY, gate_item_data, user_item_data
from pytest_deploygate.plugin.user_items import UserMember, criterion_fields, join_user_items
from pytest_deploygate.spec.model import Criterion

#: pytest-xdist: where a worker leaves the user criteria it collected (before ``-k`` and
#: ``--deselect`` removed any), so the controller knows the full expected set.
EXPECTED_KEY = "deploygate_user_criteria"
#: pytest-xdist: set by a worker whose run pytest interrupted (``pytest.exit`` with any return
#: code included), which the controller cannot tell from the worker's exit status.
INTERRUPTED_KEY = "deploygate_interrupted"


class ItemRunner:
    """Collects and runs the items of a gate run in this process."""

    def __init__(self, config: pytest.Config, run: GateRun,
                 user_criteria: dict[str, list[Criterion]],
                 decision_of: Callable[[GatePlan], str] | None, *, worker: bool) -> None:
        self.config = config
        #: A pytest-xdist worker: its terminal is not the user's, progress is not shown.
        self.worker = worker
        self.run = run
        self.user_members: dict[str, UserMember] = {}
        #: Users' criteria by record, shared with the controller of a single-process run.
        self.user_criteria = user_criteria
        #: How an earlier gate of this run was decided (None under pytest-xdist, where
        #: state.json decides same-run prerequisites and no deferral happens).
        self.decision_of = decision_of

    def plan_of(self, item: pytest.Item) -> GatePlan | None:
        """The plan a gate item or a gate-marked user test belongs to."""
        if isinstance(item, GateItem):
            return item.gate_collector.plan
        member = self.user_members.get(item.nodeid)
        return self.run.plan_for(member.record) if member else None

    def _skip_reason(self, item: pytest.Item) -> str | None:
        """Why the item is skipped with its gate (an unmet prerequisite), if it is."""
        plan = self.plan_of(item)
        return self.run.skip_reason(plan) if plan is not None else None

    # -- collection -------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: pytest.Session, config: pytest.Config,
                                      items: list[pytest.Item]) -> None:
        """Add the gates' items in front, join users' gate-marked tests, apply skips.

        Runs before ``-k``/``-m``/``--deselect``/``--lf`` filter the list, so those see gate
        items like any others (and a filtered-out criterion makes the gate INCOMPLETE).
        """
        gate_items: list[pytest.Item] = []
        for plan in self.run.plans:
            source = plan.spec.source if plan.spec else plan.spec_file.path
            collector = GateCollector.from_parent(session, name=plan.node_name,
                                                  nodeid=plan.node_name, path=source,
                                                  plan=plan, run=self.run)
            gate_items.extend(session.genitems(collector))
        kept, dropped, refused = join_user_items(items, self.run.plans, self.user_members,
                                                 self.user_criteria)
        for item, problem in refused:
            # A collection error (pytest stops before running anything, as for a broken
            # spec): the test names no one gate, so it can be neither joined nor run.
            report = pytest.CollectReport(item.nodeid, "failed", f"deploygate: {problem}", [])
            config.hook.pytest_collectreport(report=report)
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        items[:] = self._gate_order(gate_items + kept)
        for item in items:
            reason = self._skip_reason(item)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))
        workeroutput = getattr(config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[EXPECTED_KEY] = {
                record: [criterion_fields(c) for c in criteria]
                for record, criteria in self.user_criteria.items()}

    def _gate_order(self, items: list[pytest.Item]) -> list[pytest.Item]:
        """Each gate's items (its users' tests included) before the next gate's, the rest last.

        A gate whose prerequisite is an earlier gate of this run is decided when its first
        item runs: every item of the earlier gate must have run by then.
        """
        order = {plan.record_name: index for index, plan in enumerate(self.run.plans)}

        def position(item: pytest.Item) -> int:
            plan = self.plan_of(item)
            return order[plan.record_name] if plan is not None else len(order)

        return sorted(items, key=position)

    # -- running ----------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtestloop(self, session: pytest.Session) -> None:
        """Before the items run, start every selected item's network evidence."""
        if self.config.option.collectonly:
            return
        for slot in self.run.slots:
            if slot.project is not None:
                slot.project.services.progress.show = self._show_progress
        if any(plan.deferred for plan in self.run.plans):
            # Other plugins may have reordered the items since collection (randomisers).
            session.items[:] = self._gate_order(session.items)
        for item in session.items:
            if isinstance(item, GateItem):
                self.run.prefetch(item.gate_collector.plan, item.criterion)

    def _show_progress(self, line: str) -> None:
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        capture = self.config.pluginmanager.get_plugin("capturemanager")
        if reporter is None or self.worker:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(f"deploygate: {line}")

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        """A worker's run was interrupted: say so to the controller (see RunController)."""
        workeroutput = getattr(self.config, "workeroutput", None)
        if workeroutput is not None:
            workeroutput[INTERRUPTED_KEY] = True

    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """Decide same-run prerequisites before a gate's first item; fail bad markers."""
        member = self.user_members.get(item.nodeid)
        if member is not None and member.problem:
            pytest.fail(member.problem, pytrace=False)
        plan = self.plan_of(item)
        if plan is None:
            return
        if plan.deferred and self.decision_of is not None:
            self.run.resolve_deferred(plan, self.decision_of)
        reason = self.run.skip_reason(plan)
        if reason and not item.get_closest_marker("skip"):
            pytest.skip(reason)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo[None]
                                  ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Attach the item's outcome (status, message, evidence) to its report."""
        report = yield
        if report.when != "call" and report.passed:
            return report  # a setup or teardown that passed says nothing (most of them)
        reported = None
        if isinstance(item, GateItem):
            if report.skipped and isinstance(report.longrepr, tuple):
                # An N/A criterion points at its line in the spec, not at plugin code.
                path, line, _ = item.location
                report.longrepr = (path, (line or 0) + 1, report.longrepr[2])
            outcome = gate_item_data(item, call, report)
            if report.when == "call":
                item.result = None  # copied into the report's outcome: free it (big gates)
            if outcome is not None:
                reported = ItemOutcome(item.gate_collector.record_name, item.criterion.id,
                                       outcome)
        elif item.nodeid in self.user_members:
            member = self.user_members[item.nodeid]
            outcome = user_item_data(item, call, report, self._skip_reason(item) is not None)
            if outcome is not None:
                reported = ItemOutcome(member.record, member.criterion.id, outcome,
                                       criterion_fields(member.criterion))
        if reported is not None:
            setattr(report, REPORT_KEY, reported)
        return report
