"""The outcome an item's report carries (``report.deploygate``): a small dict, serialised
across pytest-xdist workers with the report, read back by the controller's outcome book.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_deploygate.gate.plan import GatePlan
from pytest_deploygate.plugin.items import GateItem

REPORT_KEY = "deploygate"


def gate_item_data(item: GateItem, call: pytest.CallInfo[None], report: pytest.TestReport
                   ) -> dict[str, Any] | None:
    """The outcome of a gate item's phase, or None when the phase says nothing."""
    if report.when == "setup":
        if report.skipped:
            plan = item.gate_collector.plan
            status = "skipped_prereq" if plan.skip_reason else "skipped"
            return {"status": status, "message": _skip_reason(report), "evidence": []}
        if report.failed:
            return {"status": "error", "message": _exc_line(call), "evidence": []}
        return None
    if report.when == "teardown":
        return ({"status": "error", "message": _exc_line(call), "evidence": []}
                if report.failed else None)
    result = item.result
    if result is None:
        return {"status": "error", "message": _exc_line(call), "evidence": []}
    data = {"status": result.status, "message": result.message,
            "evidence": [e.to_dict() for e in result.evidence]}
    if result.measurement is not None:
        data["measurement"] = result.measurement.to_dict()
    return data


def user_item_data(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport,
                   plan: GatePlan | None) -> dict[str, Any] | None:
    """The outcome of a gate-marked user test's phase, or None when it says nothing."""
    message = ""
    if report.when == "call":
        if report.passed:
            status, message = "met", "the test passed"
        elif report.skipped:
            status = "skipped"
            message = "skipped by the test itself: " + _skip_reason(report)
        else:
            status, message = "not_met", _exc_line(call)
    elif report.failed:
        status, message = "error", _exc_line(call)
    elif report.when == "setup" and report.skipped:
        prereq = plan is not None and plan.skip_reason is not None
        status = "skipped_prereq" if prereq else "skipped"
        message = _skip_reason(report)
    else:
        return None
    return {"status": status, "message": message, "evidence": [
        {"kind": "test", "ref": item.nodeid}]}


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
