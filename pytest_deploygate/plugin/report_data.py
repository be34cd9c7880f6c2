"""The outcome an item's report carries (``report.deploygate``, an
:class:`~pytest_deploygate.decision.outcomes.ItemOutcome`), read by the outcome book of the
process that decides.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import pytest

from pytest_deploygate.core.results import Status
from pytest_deploygate.decision.outcomes import Outcome
from pytest_deploygate.plugin.items import GateItem

REPORT_KEY = "deploygate"


def gate_item_data(item: GateItem, call: pytest.CallInfo[None], report: pytest.TestReport
                   ) -> Outcome | None:
    """The outcome of a gate item's phase, or None when the phase says nothing."""
    if report.when == "setup":
        if report.skipped:
            gate = item.gate_collector
            prereq = gate.run.skip_reason(gate.plan) is not None
            return Outcome(Status.SKIPPED_PREREQ if prereq else Status.SKIPPED,
                           _skip_reason(report))
        if report.failed:
            return Outcome(Status.ERROR, _exc_line(call))
        return None
    if report.when == "teardown":
        return Outcome(Status.ERROR, _exc_line(call)) if report.failed else None
    result = item.result
    if result is None:
        return Outcome(Status.ERROR, _exc_line(call))
    return Outcome.of(result)


def user_item_data(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
                   prerequisite_unmet: bool) -> Outcome | None:
    """The outcome of a gate-marked user test's phase, or None when it says nothing."""
    message = ""
    if report.when == "call":
        if report.passed:
            status, message = Status.MET, "the test passed"
        elif report.skipped:
            status = Status.SKIPPED
            message = "skipped by the test itself: " + _skip_reason(report)
        else:
            status, message = Status.NOT_MET, _exc_line(call)
    elif report.failed:
        status, message = Status.ERROR, _exc_line(call)
    elif report.when == "setup" and report.skipped:
        status = Status.SKIPPED_PREREQ if prerequisite_unmet else Status.SKIPPED
        message = _skip_reason(report)
    else:
        return None
    return Outcome(status, message, [{"kind": "test", "ref": item.nodeid}])


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "")


def _exc_line(call: pytest.CallInfo[None]) -> str:
    if call.excinfo is None:
        return "failed"
    text = call.excinfo.exconly().strip().splitlines()
    return " ".join(text[:3])[:500] if text else "failed"
