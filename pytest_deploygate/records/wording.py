"""What every record says first: the outcome word, then the reason.

CI dashboards show a few dozen characters of a message and drop the rest (GitLab drops the
failure type, mikepenz/action-junit-report shows FAIL, ROLLBACK and INCOMPLETE alike as
"failure", xunit-viewer clips near 95 characters). So each message leads with its outcome
word and the decision testcase with the decision word, its trigger or first failing
criterion, and the reason: all within the first 90 characters.

Done here, when a record is written, so check kinds keep plain messages (the terminal report
adds its own label).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pytest_deploygate.core.results import Status
from pytest_deploygate.decision.decide import (
    FAIL,
    INCOMPLETE,
    NOT_APPLICABLE,
    PASS,
    ROLLBACK,
    SKIPPED,
    WAIVED,
)
from pytest_deploygate.records.content import RecordContent, RecordItem

#: The word each outcome status leads with.
OUTCOME_WORDS = {
    Status.MET: "MET",
    Status.NOT_MET: "NOT MET",
    Status.MISSING: "EVIDENCE MISSING",
    Status.ERROR: "CHECK ERROR",
    Status.SKIPPED: "NOT EVALUATED",
    Status.SKIPPED_PREREQ: "SKIPPED",
    Status.WAIVED: "WAIVED",
    Status.NOT_APPLICABLE: "N/A",
}
TRIGGERED = "ROLLBACK TRIGGERED"
NOT_RUN = "NOT RUN"
_ALL_WORDS = sorted({*OUTCOME_WORDS.values(), TRIGGERED, NOT_RUN}, key=len, reverse=True)
_ALL_PREFIXES = tuple(f"{word}:" for word in _ALL_WORDS)
_LONGEST = max(len(prefix) for prefix in _ALL_PREFIXES)
#: How much of a criterion's message the one-line decision headline quotes.
_QUOTED = 160


def outcome_word(item: RecordItem) -> str:
    """``NOT MET``, ``ROLLBACK TRIGGERED``, ``N/A``, ... for one recorded item."""
    outcome = item.outcome
    if outcome is None:
        return NOT_RUN
    if item.criterion.role == "trigger" and outcome.status == Status.NOT_MET:
        return TRIGGERED
    return OUTCOME_WORDS.get(outcome.status, "CHECK ERROR")


def lead(word: str, message: str) -> str:
    """``WORD: message``, with the word exactly once (a check may already have said it)."""
    text = without_word(message)
    return f"{word}: {text}" if text else word


def without_word(message: str) -> str:
    """The message without any outcome words it already starts with."""
    text = message.strip()
    stripped = ":" in text  # (every word is followed by one: most messages have none)
    while stripped:
        stripped = False
        # The head only: no prefix is longer, and a character's capital is the same in it.
        upper = text[:_LONGEST].upper()
        if not upper.startswith(_ALL_PREFIXES):  # (one call: a time's colon is no word's)
            break
        for prefix in _ALL_PREFIXES:
            if upper.startswith(prefix):
                text = text[len(prefix):].lstrip()
                stripped = True
                break
    return text


def item_message(item: RecordItem, gate_id: str) -> str:
    """The recorded message of one item, led by its outcome word."""
    if item.outcome is None:
        return lead(NOT_RUN, f"deselected, stopped early or interrupted: the gate is "
                             f"{INCOMPLETE}")
    message = item.outcome.message
    if item.outcome.status == Status.SKIPPED_PREREQ:
        # "GATE-12 skipped, prerequisite unmet: ..." says SKIPPED twice before the reason.
        message = message.removeprefix(f"{gate_id} skipped, ")
    return lead(outcome_word(item), message)


def headline(content: RecordContent) -> str:
    """One line: the decision word, what made it (trigger, criterion, prerequisite), why."""
    decision = content.decision
    status = decision.status
    if content.error:
        return f"{status}: {content.error}"
    if status == SKIPPED:
        reason = decision.reasons[0] if decision.reasons else "a prerequisite is unmet"
        return f"{SKIPPED}: {reason.split('prerequisite unmet: ', 1)[-1]}"
    if status == PASS:
        return f"{decision.label}: {_pass_counts(content)}"
    if status == INCOMPLETE:
        not_run = [i.criterion.id for i in content.items if i.outcome is None]
        reason = next((r for r in decision.reasons if "got no outcome" in r),
                      "; ".join(decision.reasons) or "not every criterion got an outcome")
        # "(deselected, stopped early or interrupted)" stays in the breakdown: the first
        # characters name what did not run.
        reason = reason.split(" (deselected", 1)[0]
        return f"{INCOMPLETE}: {reason}" + (f"; not run: {_ids(not_run)}" if not_run else "")
    culprits = [i for i in content.items if i.verdict == (ROLLBACK if status == ROLLBACK
                                                          else FAIL)]
    if status == FAIL and not culprits:
        culprits = [i for i in content.items if i.verdict == SKIPPED]
    if not culprits:
        return f"{status}: " + ("; ".join(decision.reasons) or "see the criteria")
    first = culprits[0]
    message = first.outcome.message if first.outcome else ""
    if len(message) > _QUOTED:
        message = message[:_QUOTED - 1] + "…"
    more = [i.criterion.id for i in culprits[1:]]
    if status == ROLLBACK:
        text = f"{ROLLBACK}: {first.criterion.id} triggered: {without_word(message)}"
    else:
        text = f"{status}: {first.criterion.id} {lead(outcome_word(first), message)}"
    return text + (f" (+{len(more)} more: {_ids(more)})" if more else "")


def breakdown(content: RecordContent) -> list[str]:
    """The Gate Decision rows, then the decision's reasons, one per line."""
    decision = content.decision
    lines = [f"{row.title}: {row.status}" + (f" ({', '.join(row.failing)})" if row.failing
                                             else "") for row in decision.rows]
    return [f"Gate Status: {decision.label}", *lines, *decision.reasons]


def _pass_counts(content: RecordContent) -> str:
    counts = content.decision.counts
    parts = [f"{counts.get(PASS, 0)} of {len(content.items)} criteria met"]
    for word, label in ((WAIVED, "waived"), (NOT_APPLICABLE, "N/A")):
        if counts.get(word):
            parts.append(f"{counts[word]} {label}")
    return ", ".join(parts)


def _ids(ids: list[str], shown: int = 5) -> str:
    text = ", ".join(ids[:shown])
    return text + (f", +{len(ids) - shown} more" if len(ids) > shown else "")
