"""What happened to each gate item, gathered from pytest's reports.

Reports carry a small ``deploygate`` dict (set by the item, serialised across pytest-xdist
workers), so the controller can tell "not met" from "evidence missing" from "N/A" without
parsing failure text.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Outcome statuses, worst first; a later report of an item never hides a worse one.
STATUS_RANK = {
    "error": 0,            # the check or a user criterion raised unexpectedly
    "missing": 1,          # evidence missing, unreadable or inconclusive
    "not_met": 2,          # measured and not met (a fired trigger, for rollback items)
    "skipped": 3,          # skipped by the user's own code: not evaluated, so not met
    "skipped_prereq": 4,   # a prerequisite of the gate is unmet
    "waived": 5,           # a waiver in force: reported, does not fail the gate
    "not_applicable": 6,   # ``when`` is false
    "met": 7,
}

PASSING = frozenset({"met", "not_applicable", "waived"})


@dataclass
class Outcome:
    """The outcome of one item."""

    status: str
    message: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    duration: float = 0.0
    #: What a metric check measured (``Measurement.to_dict()``), for the record's charts.
    measurement: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        return {"status": self.status, "message": self.message, "evidence": self.evidence,
                "duration": self.duration}


class OutcomeBook:
    """Outcomes by (record name, item id), merged across setup, call and teardown."""

    def __init__(self) -> None:
        self._outcomes: dict[tuple[str, str], Outcome] = {}
        self._user_meta: dict[str, dict[str, dict[str, Any]]] = {}

    def add(self, record: str, item_id: str, data: dict[str, Any], duration: float) -> None:
        """Merge one report's outcome for an item."""
        new = Outcome(data["status"], data.get("message", ""), list(data.get("evidence", [])),
                      measurement=data.get("measurement"))
        if "criterion" in data:
            self._user_meta.setdefault(record, {}).setdefault(item_id, data["criterion"])
        key = (record, item_id)
        old = self._outcomes.get(key)
        if old is None or STATUS_RANK.get(new.status, 0) < STATUS_RANK.get(old.status, 0):
            new.duration = (old.duration if old else 0.0) + duration
            self._outcomes[key] = new
        else:
            old.duration += duration

    def user_criteria(self, record: str) -> dict[str, dict[str, Any]]:
        """Users' gate-marked tests seen in reports of this record (id -> criterion fields).

        Under pytest-xdist the controller collects nothing, so this is how it learns them.
        """
        return self._user_meta.get(record, {})

    def get(self, record: str, item_id: str) -> Outcome | None:
        """The outcome of an item, or None when it never reported."""
        return self._outcomes.get((record, item_id))
