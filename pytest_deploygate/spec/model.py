"""Plain, immutable objects for a loaded gate spec.

The loader turns YAML into these; everything else (collection, evaluation, records) reads
them. A gate's items come out flat, in checklist order, each knowing its section, stage and
Gate Decision row, so nothing downstream has to walk the YAML again.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pytest_deploygate.core.value_class import field, value_class

Stage = Literal["pre", "post"]
#: What a run evaluates: one stage, or the whole gate.
RunStage = Literal["pre", "post", "all"]
Role = Literal["prerequisite", "artifact", "criterion", "trigger", "binding", "user"]

#: Row that collects items feeding none of the checklist's Gate Decision rows.
OTHER_ROW_ID = "other"
OTHER_ROW_TITLE = "Other criteria"

_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?::([^{}]*))?\}")


@value_class(frozen=True, slots=True)
class Check:
    """A check kind with its parameters, as written in the spec."""

    kind: str
    params: Mapping[str, Any]
    line: int = 0


@value_class(frozen=True)
class ArtifactSpec:
    """A required (or conditional) file of the gate."""

    id: str
    name: str
    paths: tuple[str, ...]
    required: bool | Check
    contains: tuple[str, ...] = ()
    max_age_days: float | None = None
    names_version: bool = False


@value_class(frozen=True, slots=True)
class Criterion:
    """One item of the gate: a prerequisite, artifact, criterion or rollback trigger."""

    id: str
    text: str
    role: Role
    section_id: str
    section_title: str
    #: A spec's items are of one stage; a Python criterion of no section belongs to every
    #: stage, so in a whole-gate run it is "all".
    stage: RunStage
    decision: str
    check: Check | None
    when: tuple[Check, ...] = ()
    waivable: bool = True
    line: int = 0
    note: str | None = None
    artifact: ArtifactSpec | None = None
    source_line: int | None = None

    def render_text(self, thresholds: Mapping[str, float]) -> str:
        """The criterion text with ``{name}`` / ``{name:fmt}`` replaced by threshold values.

        Shown in records and on the terminal, so a URL in it is shown redacted.
        """
        text = render_placeholders(self.text, thresholds)
        if "://" not in text:  # (what redact_text returns: no URL, no import to look up)
            return text
        from pytest_deploygate.core.redaction import redact_text

        return redact_text(text)


@value_class(frozen=True)
class DecisionRow:
    """One row of the checklist's Gate Decision table."""

    id: str
    title: str


@value_class(frozen=True)
class NextPhase:
    """Where the workflow goes when the gate passes."""

    gate: int
    title: str
    agent: str | None = None
    handler: str | None = None


@value_class(frozen=True)
class Branch:
    """A conditional continuation after a PASS (gate 10: by cloud provider)."""

    when: Check
    next: NextPhase | None = None
    outcome: str | None = None

    def describe(self) -> str:
        """The branch's consequence in one line."""
        if self.next is not None:
            text = f"Advance to Phase {self.next.gate}: {self.next.title}"
            return text + (f" ({self.next.handler})" if self.next.handler else "")
        return self.outcome or ""


@value_class(frozen=True)
class GateSpec:
    """A validated gate spec."""

    gate: int
    id: str
    slug: str
    title: str
    phase: str
    source: Path
    sha256: str
    items: tuple[Criterion, ...]
    decision_rows: tuple[DecisionRow, ...]
    thresholds: Mapping[str, float]
    artifact_dirs: tuple[str, ...]
    next: NextPhase | None = None
    primary_agent: str | None = None
    artifacts: Mapping[str, ArtifactSpec] = field(default_factory=dict)
    branches: tuple[Branch, ...] = ()

    def item(self, criterion_id: str) -> Criterion:
        """The item with this id (KeyError if none)."""
        for item in self.items:
            if item.id == criterion_id:
                return item
        raise KeyError(criterion_id)

    def rows_with_other(self) -> tuple[DecisionRow, ...]:
        """The decision rows plus the "Other criteria" row."""
        return (*self.decision_rows, DecisionRow(OTHER_ROW_ID, OTHER_ROW_TITLE))


def render_placeholders(text: str, values: Mapping[str, float]) -> str:
    """Replace ``{name}`` and ``{name:format}`` with values; unknown names are left as is."""
    if "{" not in text:  # most criteria name no threshold
        return text

    def substitute(match: re.Match[str]) -> str:
        name, fmt = match.group(1), match.group(2)
        if name not in values:
            return match.group(0)
        value = values[name]
        if value is None:
            return match.group(0)  # a threshold the project has not filled in yet
        if fmt:
            try:
                return format(value, fmt)
            except (ValueError, TypeError):
                return match.group(0)
        return _plain_number(value)

    return _PLACEHOLDER.sub(substitute, text)


def placeholder_names(text: str) -> list[str]:
    """Names of the ``{placeholders}`` in a text."""
    return [match.group(1) for match in _PLACEHOLDER.finditer(text)]


def _plain_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
