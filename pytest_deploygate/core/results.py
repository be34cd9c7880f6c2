"""What a check returns, and the one vocabulary of outcome statuses.

A check result has three states that matter, because missing evidence must never be confused
with a criterion that was measured and not met (and neither is ever a pass). Every stage uses
these types: evidence readers return them, check kinds return them, records and the verdict
speak :class:`Status`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Literal

from pytest_deploygate.core.printable import shown
from pytest_deploygate.core.redaction import redact_text
from pytest_deploygate.core.value_class import replace, value_class

if TYPE_CHECKING:
    from pytest_deploygate.core.measurements import Measurement


class Status(StrEnum):
    """What happened to one item: the one vocabulary of results, reports, records and verdict.

    A ``StrEnum``, so a status travels as its plain string (pytest-xdist reports, JSON) and
    compares equal to it.
    """

    ERROR = "error"                    # the check or a user criterion raised unexpectedly
    MISSING = "missing"                # evidence missing, unreadable or inconclusive
    NOT_MET = "not_met"                # measured and not met (a fired trigger, for rollback items)
    SKIPPED = "skipped"                # skipped by the user's own code: not evaluated, so not met
    SKIPPED_PREREQ = "skipped_prereq"  # a prerequisite of the gate is unmet
    WAIVED = "waived"                  # a waiver in force: reported, does not fail the gate
    NOT_APPLICABLE = "not_applicable"  # ``when`` is false
    MET = "met"


#: Outcome statuses, worst first; a later report of an item never hides a worse one.
STATUS_RANK = {status: rank for rank, status in enumerate(Status)}


PASSING = frozenset({Status.MET, Status.NOT_APPLICABLE, Status.WAIVED})


#: What a check kind returns (a :class:`Status` of the evaluated kinds).
CheckStatus = Literal["met", "not_met", "missing", "not_applicable", "waived"]


@value_class(frozen=True)
class Evidence:
    """One piece of evidence a check read: a file, a state path, a sign-off, a URL."""

    kind: str
    ref: str
    sha256: str | None = None
    modified: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # Everything a check shows passes here: no URL secret reaches a record or terminal,
        # nor a control character. Every field, not only ref and detail: a kind may name its
        # evidence by its URL. (Unrolled, in field order, as the loop over the five names it
        # replaces: once per piece of evidence of every criterion.)
        value: str | None = self.kind
        if value:
            object.__setattr__(self, "kind", _cleaned(value))
        value = self.ref
        if value:
            object.__setattr__(self, "ref", _cleaned(value))
        value = self.sha256
        if value:
            object.__setattr__(self, "sha256", _cleaned(value))
        value = self.modified
        if value:
            object.__setattr__(self, "modified", _cleaned(value))
        value = self.detail
        if value:
            object.__setattr__(self, "detail", _cleaned(value))

    def describe(self) -> str:
        """One line for records and terminal output."""
        parts = [f"{self.kind} {self.ref}"]
        if self.sha256:
            parts.append(f"sha256={self.sha256}")
        if self.modified:
            parts.append(f"modified={self.modified}")
        if self.detail:
            parts.append(self.detail)
        return " ".join(parts)

    def to_dict(self) -> dict[str, str]:
        """A JSON-friendly form (used to carry results across pytest-xdist workers)."""
        return {k: v for k, v in vars(self).items() if v is not None}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Evidence:
        """The inverse of :meth:`to_dict` (records are written from the JSON form)."""
        return cls(kind=data.get("kind", "?"), ref=data.get("ref", ""),
                   sha256=data.get("sha256"), modified=data.get("modified"),
                   detail=data.get("detail"))


def describe_evidence(data: Mapping[str, str]) -> str:
    """``Evidence.from_dict(data).describe()``, redacted the same way, without building the
    value: each record describes every criterion's evidence (20,000 values at 5,000
    criteria)."""
    text = f"{_cleaned(data.get('kind', '?'))} {_cleaned(data.get('ref', ''))}"
    # (Unrolled: three times per criterion at every big gate.)
    value = data.get("sha256")
    if value:
        text += " sha256=" + _cleaned(value)
    value = data.get("modified")
    if value:
        text += " modified=" + _cleaned(value)
    value = data.get("detail")
    if value:
        text += " " + _cleaned(value)
    return text


def unchanged_by_cleaning(text: str) -> bool:
    """Whether redaction and :func:`shown` both return ``text`` as it is: no URL to redact,
    nothing to escape. (The one definition of the fast paths that skip them: a result's
    message, evidence fields, and a result the gate run books uncopied.)"""
    return "://" not in text and text.isprintable()


def _cleaned(value: str) -> str:
    """As :class:`Evidence` keeps a field: redacted, control characters as escapes."""
    if not value or unchanged_by_cleaning(value):
        return value
    return shown(redact_text(value))


@value_class(frozen=True)
class CheckResult:
    """The outcome of evaluating one check."""

    status: CheckStatus
    message: str
    evidence: tuple[Evidence, ...] = ()
    #: What a metric check measured, for the HTML record's charts (None for other kinds).
    measurement: Measurement | None = None

    def measured(self, measurement: Measurement | None) -> CheckResult:
        """The same result carrying what was measured."""
        return replace(self, measurement=measurement)

    def __post_init__(self) -> None:
        # Built-in and third-party kinds alike: a URL in a message is shown redacted, a control
        # character read from evidence (an ESC sequence, a NUL) as an escape.
        message = self.message
        if type(message) is str and unchanged_by_cleaning(message):
            return
        object.__setattr__(self, "message", shown(redact_text(message)))

    @classmethod
    def met(cls, message: str, *evidence: Evidence) -> CheckResult:
        """The criterion holds."""
        return cls("met", message, evidence)

    @classmethod
    def not_met(cls, message: str, *evidence: Evidence) -> CheckResult:
        """The evidence was read and the criterion does not hold."""
        return cls("not_met", message, evidence)

    @classmethod
    def missing(cls, message: str, *evidence: Evidence) -> CheckResult:
        """The evidence is missing, unreadable or inconclusive: never a pass."""
        return cls("missing", message, evidence)

    @classmethod
    def not_applicable(cls, message: str, *evidence: Evidence) -> CheckResult:
        """The criterion does not apply to this project (reported as skipped, N/A)."""
        return cls("not_applicable", message, evidence)
