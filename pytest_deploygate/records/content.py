"""The content of one gate record, shared by the JUnit and markdown writers.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.decision.decide import Decision
from pytest_deploygate.decision.outcomes import Outcome
from pytest_deploygate.records.names import REPLAY_PROPERTY as REPLAY_PROPERTY  # re-exported
from pytest_deploygate.spec.model import Criterion


@value_class(frozen=True)
class RecordItem:
    """An item as recorded: the criterion, its rendered text and its outcome."""

    criterion: Criterion
    text: str
    outcome: Outcome | None
    verdict: str


@value_class(frozen=True)
class RecordContent:
    """Everything a record says about one gate (and stage)."""

    name: str
    gate_id: str
    title: str
    stage: str
    decision: Decision
    items: tuple[RecordItem, ...]
    properties: dict[str, str]
    evaluated_at: datetime
    next_phase: str | None = None
    error: str | None = None
    #: The gate's thresholds as used in this run (for charts: measured against what).
    thresholds: Mapping[str, float] = field(default_factory=dict)
    #: The spec file relative to the project root, when it is a file of the project (the
    #: built-in library is not): what ``file`` attributes and criterion lines may point at.
    spec_file: str | None = None
    #: Who reviewed the gate (a counting ``gate-review`` sign-off), when anyone did.
    reviewer: str | None = None
