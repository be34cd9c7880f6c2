"""The gate decision: PASS, FAIL, SKIPPED, ROLLBACK or INCOMPLETE, and each Gate Decision row.

Ranking: SKIPPED (a prerequisite is unmet: nothing was evaluated) > ROLLBACK (a trigger's
condition was measured present; missing trigger evidence is a FAIL) > INCOMPLETE (an item got
no outcome: deselected, stopped early, interrupted) > FAIL > PASS.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

from pytest_deploygate.core.results import PASSING, Status
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.decision.outcomes import Outcome
from pytest_deploygate.spec.model import Criterion, DecisionRow


class Verdict(StrEnum):
    """A gate's decision, an item's verdict or a Gate Decision row's status."""

    PASS = "PASS"
    FAIL = "FAIL"
    SKIPPED = "SKIPPED"
    ROLLBACK = "ROLLBACK"
    INCOMPLETE = "INCOMPLETE"
    NOT_APPLICABLE = "N/A"
    WAIVED = "WAIVED"
    NOT_IN_STAGE = "NOT IN STAGE"
    #: A Gate Decision row of the checklist that no section of the spec feeds.
    UNMAPPED = "UNMAPPED"


PASS, FAIL, SKIPPED, ROLLBACK, INCOMPLETE = (Verdict.PASS, Verdict.FAIL, Verdict.SKIPPED,
                                             Verdict.ROLLBACK, Verdict.INCOMPLETE)
NOT_IN_STAGE = Verdict.NOT_IN_STAGE
UNMAPPED = Verdict.UNMAPPED
NOT_APPLICABLE = Verdict.NOT_APPLICABLE
WAIVED = Verdict.WAIVED
#: Exit code of ``deploygate verdict`` for each decision.
EXIT_CODES = {PASS: 0, FAIL: 1, ROLLBACK: 2, SKIPPED: 3, INCOMPLETE: 5}


@value_class(frozen=True)
class RowResult:
    """One Gate Decision row."""

    id: str
    title: str
    status: str
    failing: tuple[str, ...] = ()


@value_class(frozen=True)
class Decision:
    """The decision of one gate record."""

    status: Verdict
    rows: tuple[RowResult, ...]
    reasons: tuple[str, ...] = ()
    counts: dict[Verdict, int] = field(default_factory=dict)

    @property
    def waivers(self) -> int:
        """How many items passed by waiver."""
        return self.counts.get(WAIVED, 0)

    @property
    def label(self) -> str:
        """``PASS``, or ``PASS (2 waivers)``: a waived pass never reads like a clean one."""
        if self.waivers:
            plural = "s" if self.waivers != 1 else ""
            return f"{self.status} ({self.waivers} waiver{plural})"
        return self.status

    @property
    def failing_rows(self) -> list[RowResult]:
        """Rows that did not pass (N/A and not-in-stage rows excluded)."""
        return [r for r in self.rows
                if not r.status.startswith(PASS) and r.status not in (NOT_APPLICABLE,
                                                                      NOT_IN_STAGE, UNMAPPED)]

    def summary(self, per_row: int = 3) -> str:
        """One line: the status, the rows that made it (a few criteria each), the reasons."""
        if self.status == PASS:
            return self.label
        parts = []
        for row in self.failing_rows:
            shown = ", ".join(row.failing[:per_row])
            if len(row.failing) > per_row:
                shown += f", +{len(row.failing) - per_row} more"
            parts.append(f"{row.title}: {row.status}" + (f" ({shown})" if shown else ""))
        parts += list(self.reasons)
        return f"{self.status}: " + "; ".join(parts) if parts else self.status


def item_verdict(item: Criterion, outcome: Outcome | None) -> Verdict:
    """PASS, FAIL, ROLLBACK, INCOMPLETE, SKIPPED, WAIVED or N/A for one item."""
    if outcome is None:
        return INCOMPLETE
    if outcome.status == Status.SKIPPED_PREREQ:
        return SKIPPED
    if outcome.status == Status.NOT_APPLICABLE:
        return NOT_APPLICABLE
    if outcome.status == Status.WAIVED:
        return WAIVED
    if outcome.status in PASSING:
        return PASS
    if item.role == "trigger" and outcome.status == Status.NOT_MET:
        return ROLLBACK
    return FAIL


def decide(items: Sequence[Criterion], outcomes: Sequence[Outcome | None],
           rows: Sequence[DecisionRow], skipped_reason: str | None,
           extra_reasons: Sequence[str] = (), fed_rows: set[str] | None = None) -> Decision:
    """Derive the decision and each row from the items' outcomes.

    ``fed_rows``: the rows any item of the whole spec feeds; a row outside it is UNMAPPED
    (shown, but it cannot fail or pass: the Gate Status still counts every item).
    """
    verdicts = [item_verdict(i, o) for i, o in zip(items, outcomes, strict=True)]
    counts = {v: verdicts.count(v) for v in set(verdicts)}
    row_results = []
    for row in rows:
        if fed_rows is not None and row.id not in fed_rows and row.id != "other":
            row_results.append(RowResult(row.id, row.title, UNMAPPED))
            continue
        mine = [(i, v) for i, v in zip(items, verdicts, strict=True) if i.decision == row.id]
        row_results.append(_row(row, mine, skipped_reason is not None))
    reasons = list(extra_reasons)
    if skipped_reason is not None:
        status = SKIPPED
        reasons.insert(0, skipped_reason)
    elif ROLLBACK in verdicts:
        status = ROLLBACK
    elif INCOMPLETE in verdicts:
        status = INCOMPLETE
        missing = counts[INCOMPLETE]
        reasons.append(f"{missing} of {len(items)} criteria got no outcome "
                       "(deselected, stopped early or interrupted)")
    elif FAIL in verdicts or SKIPPED in verdicts or extra_reasons:
        status = FAIL
    else:
        status = PASS
    return Decision(status, tuple(row_results), tuple(reasons), counts)


def _row(row: DecisionRow, mine: list[tuple[Criterion, Verdict]], skipped: bool) -> RowResult:
    if not mine:
        return RowResult(row.id, row.title, NOT_IN_STAGE)
    if skipped:
        return RowResult(row.id, row.title, SKIPPED)
    verdicts = [v for _, v in mine]
    for status in (ROLLBACK, INCOMPLETE, FAIL):
        if status in verdicts:
            failing = tuple(i.id for i, v in mine if v in (ROLLBACK, INCOMPLETE, FAIL))
            return RowResult(row.id, row.title, status, failing)
    if all(v == NOT_APPLICABLE for v in verdicts):
        return RowResult(row.id, row.title, NOT_APPLICABLE)
    waived = tuple(i.id for i, v in mine if v == WAIVED)
    return RowResult(row.id, row.title, f"{PASS} ({len(waived)} waived)" if waived else PASS,
                     waived)
