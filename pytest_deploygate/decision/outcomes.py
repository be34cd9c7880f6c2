"""What happened to each gate item, gathered from pytest's reports.

Reports carry an :class:`ItemOutcome` (set by the item, serialised across pytest-xdist
workers by its own ``to_dict``/``from_dict``), so the controller can tell "not met" from
"evidence missing" from "N/A" without parsing failure text.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.core.results import STATUS_RANK, CheckResult, Status
from pytest_deploygate.core.value_class import field, value_class

#: How many distinct messages, evidence dicts and evidence lists an outcome book remembers
#: to share with later outcomes (see ``OutcomeBook._share``).
_SHARED_LIMIT = 1024

#: (JUnit element, its ``type``), or (None, None) for a passing testcase: never one of the two.
JunitForm = tuple[str, str] | tuple[None, None]

#: How a record writes each status.
JUNIT_FORMS: dict[Status, JunitForm] = {
    Status.MET: (None, None),
    Status.NOT_APPLICABLE: ("skipped", "not-applicable"),
    Status.WAIVED: ("skipped", "waived"),
    Status.SKIPPED_PREREQ: ("skipped", "prerequisite-unmet"),
    Status.NOT_MET: ("failure", "not-met"),
    Status.SKIPPED: ("failure", "not-evaluated"),
    Status.MISSING: ("error", "evidence-missing"),
    Status.ERROR: ("error", "check-error"),
}
#: The form of an item that got no outcome (deselected, stopped early, interrupted).
NOT_RUN_FORM: tuple[str, str] = ("skipped", "not-run")
ROLLBACK_TYPE = "rollback-triggered"


def junit_form(status: str | None, role: str) -> JunitForm:
    """The (element, type) a record writes for an item of ``role`` with this status."""
    if status is None:
        return NOT_RUN_FORM
    # (Status() goes through the enum machinery: twice per item at every record written.)
    member = status if type(status) is Status else \
        _STATUS_OF.get(status) if type(status) is str else None
    form = JUNIT_FORMS.get(member if member is not None else Status(status),
                           ("error", "unknown-outcome"))
    if role == "trigger" and status == Status.NOT_MET and form[0] is not None:
        return form[0], ROLLBACK_TYPE
    return form


def as_status(value: str) -> Status:
    """The status named ``value``; a name outside the vocabulary (a broken third-party kind)
    is an error, never a pass."""
    try:
        return _STATUS_OF.get(value, Status.ERROR)
    except TypeError:  # unhashable: no status either
        return Status.ERROR


#: Each status by its name (``Status(value)`` goes through the enum machinery: once per
#: report of every item).
_STATUS_OF: dict[str, Status] = {status.value: status for status in Status}


class NoSuchForm(ValueError):
    """A testcase's element and type are not what any outcome is written as."""


def status_from_junit(element: str | None, kind: str | None, role: str) -> Status | None:
    """The status a record's (element, type) stands for, for an item of ``role``; None for
    "not run". Raises :class:`NoSuchForm` for a form the writer never produces for that role
    (a ``rollback-triggered`` on a criterion, a ``not-met`` on a trigger)."""
    if (element, kind) == NOT_RUN_FORM:
        return None
    for status in Status:
        if junit_form(status, role) == (element, kind):
            return status
    raise NoSuchForm(f"<{element or 'testcase'} type={kind!r}> is no outcome of a {role}")


@value_class(slots=True)
class Outcome:
    """The outcome of one item: what decision and records read, built from a check's
    :class:`~pytest_deploygate.core.results.CheckResult` or from pytest's report of a test."""

    status: Status
    message: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    duration: float = 0.0
    #: What a metric check measured (``Measurement.to_dict()``), for the record's charts.
    measurement: dict[str, Any] | None = None

    @classmethod
    def of(cls, result: CheckResult) -> Outcome:
        """The outcome of an evaluated check."""
        return cls(as_status(result.status), result.message,
                   [e.to_dict() for e in result.evidence],
                   measurement=result.measurement.to_dict() if result.measurement else None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form (how it travels from a pytest-xdist worker)."""
        data = {"status": str(self.status), "message": self.message,
                "evidence": self.evidence, "duration": self.duration}
        if self.measurement is not None:
            data["measurement"] = self.measurement
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Outcome:
        """The inverse of :meth:`to_dict`; a status outside the vocabulary is an error."""
        return cls(as_status(str(data.get("status"))), str(data.get("message", "")),
                   list(data.get("evidence", [])), float(data.get("duration", 0.0)),
                   data.get("measurement"))


@value_class(frozen=True)
class ItemOutcome:
    """What one report of a gate item says: whose item, and its outcome. Carried on
    pytest's report (and across pytest-xdist) to the controller's :class:`OutcomeBook`."""

    record: str
    item_id: str
    outcome: Outcome
    #: A user's gate-marked test: its criterion's fields (the xdist controller collects
    #: nothing, so this is how it learns the criterion).
    criterion: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly form."""
        data = {"record": self.record, "id": self.item_id, **self.outcome.to_dict()}
        if self.criterion is not None:
            data["criterion"] = dict(self.criterion)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ItemOutcome:
        """The inverse of :meth:`to_dict`."""
        return cls(str(data["record"]), str(data["id"]), Outcome.from_dict(data),
                   data.get("criterion"))


class OutcomeBook:
    """Outcomes by (record name, item id), merged across setup, call and teardown."""

    def __init__(self) -> None:
        self._outcomes: dict[tuple[str, str], Outcome] = {}
        self._user_meta: dict[str, dict[str, Mapping[str, Any]]] = {}
        # Content seen lately, to share (see _share): messages by their text, evidence
        # lists by their dicts' items.
        self._messages: dict[str, str] = {}
        self._evidence: dict[tuple[tuple[tuple[str, Any], ...], ...], list[dict[str, str]]] = {}

    def add(self, reported: ItemOutcome, duration: float) -> None:
        """Merge one report's outcome for an item."""
        record, item_id = reported.record, reported.item_id
        given = reported.outcome
        # The book's own outcome (its duration is the book's to add up), built directly:
        # ``replace`` reads the fields generically, on every report of every item.
        new = Outcome(given.status, given.message, given.evidence, 0.0, given.measurement)
        if reported.criterion is not None:
            self._user_meta.setdefault(record, {}).setdefault(item_id, reported.criterion)
        key = (record, item_id)
        old = self._outcomes.get(key)
        if old is None or STATUS_RANK.get(new.status, 0) < STATUS_RANK.get(old.status, 0):
            new.duration = (old.duration if old else 0.0) + duration
            self._share(new)
            self._outcomes[key] = new
        else:
            old.duration += duration

    def _share(self, outcome: Outcome) -> None:
        """Point a kept outcome at the book's copy of a message or an evidence list it holds
        already: criteria checked alike (one state path, one artifact file, one signer) say
        the same, and a big gate keeps every outcome to the end. So the book's messages and
        evidence are read-only (every reader only reads them).

        The caches are bounded: content repeats across neighbouring criteria, and a unique
        message or evidence would otherwise be kept twice."""
        messages = self._messages
        if len(messages) >= _SHARED_LIMIT:
            messages.clear()
        outcome.message = messages.setdefault(outcome.message, outcome.message)
        evidence = outcome.evidence
        try:
            # (Most outcomes have one piece of evidence: its items are the key, built fast.)
            key = (tuple(evidence[0].items()),) if len(evidence) == 1 else tuple(
                tuple(data.items()) for data in evidence)
            known = self._evidence.get(key)
        except (AttributeError, TypeError):  # not mappings, or an unhashable value
            return
        if known is not None:
            outcome.evidence = known
            return
        # Only text is shared: a hit then means equal text (1 == 1.0 == True would share
        # values that are written differently).
        if not all(type(name) is str and type(value) is str
                   for data in evidence for name, value in data.items()):
            return
        if len(self._evidence) >= _SHARED_LIMIT:
            self._evidence.clear()
        self._evidence[key] = evidence

    def user_criteria(self, record: str) -> dict[str, Mapping[str, Any]]:
        """Users' gate-marked tests seen in reports of this record (id -> criterion fields).

        Under pytest-xdist the controller collects nothing, so this is how it learns them.
        """
        return self._user_meta.get(record, {})

    def get(self, record: str, item_id: str) -> Outcome | None:
        """The outcome of an item, or None when it never reported."""
        return self._outcomes.get((record, item_id))
