"""What a check kind is and what it returns.

A kind is a name, a JSON Schema for its parameters, and a function from (parameters, context)
to a :class:`CheckResult`. Results have three states, because missing evidence must never be
confused with a criterion that was measured and not met (and neither is ever a pass).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pytest_deploygate.redaction import redact_text

if TYPE_CHECKING:
    from pytest_deploygate.evaluation import EvalContext
    from pytest_deploygate.measurements import Measurement

Status = Literal["met", "not_met", "missing", "not_applicable", "waived"]


@dataclass(frozen=True)
class Evidence:
    """One piece of evidence a check read: a file, a state path, a sign-off, a URL."""

    kind: str
    ref: str
    sha256: str | None = None
    modified: str | None = None
    detail: str | None = None

    def __post_init__(self) -> None:
        # Everything a check shows passes here: no URL secret reaches a record or terminal.
        for name in ("ref", "detail"):
            value = getattr(self, name)
            if value:
                object.__setattr__(self, name, redact_text(value))

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


@dataclass(frozen=True)
class CheckResult:
    """The outcome of evaluating one check."""

    status: Status
    message: str
    evidence: tuple[Evidence, ...] = ()
    #: What a metric check measured, for the HTML record's charts (None for other kinds).
    measurement: Measurement | None = None

    def measured(self, measurement: Measurement | None) -> CheckResult:
        """The same result carrying what was measured."""
        return dataclasses.replace(self, measurement=measurement)

    def __post_init__(self) -> None:
        # Built-in and third-party kinds alike: a URL in a message is shown redacted.
        object.__setattr__(self, "message", redact_text(self.message))

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


Evaluate = Callable[[Mapping[str, Any], "EvalContext"], CheckResult]
Prefetch = Callable[[Mapping[str, Any], "EvalContext"], None]


@dataclass(frozen=True)
class CheckKind:
    """A registered check kind.

    ``params_schema`` validates the check's mapping (``kind`` included) when a spec loads, so
    a typo in a parameter is a spec error with a line number, not a surprise at run time.
    ``reads`` says in a few words what evidence the kind reads (shown by ``deploygate show``).
    ``prefetch``, for network kinds, starts the item's requests in the background before the
    items run, so their waits overlap.
    """

    name: str
    reads: str
    params_schema: Mapping[str, Any]
    evaluate: Evaluate
    prefetch: Prefetch | None = None


def params_schema(properties: Mapping[str, Any], required: list[str] | None = None,
                  **extra: Any) -> dict[str, Any]:
    """A closed object schema for a kind's parameters (``kind`` is always allowed)."""
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {"kind": {"type": "string"}, **properties},
        "additionalProperties": False,
        "required": ["kind", *(required or [])],
    }
    schema.update(extra)
    return schema


#: Schema fragment for a number or a reference to a named threshold.
NUMBER_OR_THRESHOLD: dict[str, Any] = {
    "anyOf": [
        {"type": "number"},
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["threshold"],
            "properties": {"threshold": {"type": "string"}},
        },
    ]
}
