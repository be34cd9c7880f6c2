"""A loaded gate spec as plain JSON data, and back: what a cache of loaded specs stores.

:func:`to_data` refuses (returns None) whatever JSON would not give back exactly: a parameter
value that is not a JSON value (a date, a tuple, a key that is not a string, a NaN), and any
model class with a field this module does not know (one added since it was written would be
lost on the way, so nothing is stored until it is taught here).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pytest_deploygate.core.frozen_data import FrozenList, freeze
from pytest_deploygate.spec.model import (
    ArtifactSpec,
    Branch,
    Check,
    Criterion,
    DecisionRow,
    GateSpec,
    NextPhase,
)

#: The fields each model class has, all of which the functions below carry.
_KNOWN_FIELDS = {
    GateSpec: {"gate", "id", "slug", "title", "phase", "source", "sha256", "items",
               "decision_rows", "thresholds", "artifact_dirs", "next", "primary_agent",
               "artifacts", "branches"},
    Criterion: {"id", "text", "role", "section_id", "section_title", "stage", "decision",
                "check", "when", "waivable", "line", "note", "artifact", "source_line"},
    Check: {"kind", "params", "line"},
    ArtifactSpec: {"id", "name", "paths", "required", "contains", "max_age_days",
                   "names_version"},
    DecisionRow: {"id", "title"},
    NextPhase: {"gate", "title", "agent", "handler"},
    Branch: {"when", "next", "outcome"},
}


def to_data(spec: GateSpec, items: Sequence[Criterion]) -> dict[str, Any] | None:
    """``spec`` and its ``items`` (overrides applied) as JSON data; None when JSON cannot
    hold them exactly (see the module docstring)."""
    if any(set(_fields(cls)) != known for cls, known in _KNOWN_FIELDS.items()):
        return None
    data = {"spec": _spec(spec), "items": [_criterion(item) for item in items]}
    return data if _json_exact(data) else None


def _fields(cls: type) -> list[str]:
    names: list[str] = []
    for klass in reversed(cls.__mro__):
        names += [name for name in getattr(klass, "__annotations__", {}) if name not in names]
    return names


def _json_exact(value: Any) -> bool:
    """True when JSON gives ``value`` back as it is (same types, same keys)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if not all(type(key) is str for key in item):
                return False
            stack.extend(item.values())
        elif type(item) in (list, FrozenList):
            stack.extend(item)
        elif type(item) is float:
            if item != item or item in (float("inf"), float("-inf")):
                return False
        elif not (item is None or type(item) in (str, int, bool)):
            return False
    return True


def from_data(data: Mapping[str, Any]) -> tuple[GateSpec, tuple[Criterion, ...]]:
    """The spec and items :func:`to_data` stored (KeyError/TypeError/ValueError when the data
    is not what it writes)."""
    raw = data["spec"]
    artifacts = {key: _artifact_from(value) for key, value in raw["artifacts"].items()}
    spec = GateSpec(
        gate=raw["gate"], id=raw["id"], slug=raw["slug"], title=raw["title"],
        phase=raw["phase"], source=Path(raw["source"]), sha256=raw["sha256"],
        items=tuple(_criterion_from(item, artifacts) for item in raw["items"]),
        decision_rows=tuple(DecisionRow(row_id, title) for row_id, title in raw["rows"]),
        thresholds=raw["thresholds"], artifact_dirs=tuple(raw["artifact_dirs"]),
        next=NextPhase(**raw["next"]) if raw["next"] is not None else None,
        primary_agent=raw["primary_agent"], artifacts=artifacts,
        branches=tuple(Branch(_check_from(b["when"]),
                              NextPhase(**b["next"]) if b["next"] is not None else None,
                              b["outcome"]) for b in raw["branches"]))
    items = tuple(_criterion_from(item, artifacts) for item in data["items"])
    return spec, items


def _spec(spec: GateSpec) -> dict[str, Any]:
    return {
        "gate": spec.gate, "id": spec.id, "slug": spec.slug, "title": spec.title,
        "phase": spec.phase, "source": str(spec.source), "sha256": spec.sha256,
        "items": [_criterion(item) for item in spec.items],
        "rows": [[row.id, row.title] for row in spec.decision_rows],
        "thresholds": dict(spec.thresholds), "artifact_dirs": list(spec.artifact_dirs),
        "next": _next(spec.next), "primary_agent": spec.primary_agent,
        "artifacts": {key: _artifact(value) for key, value in spec.artifacts.items()},
        "branches": [{"when": _check(b.when), "next": _next(b.next), "outcome": b.outcome}
                     for b in spec.branches],
    }


def _next(phase: NextPhase | None) -> dict[str, Any] | None:
    if phase is None:
        return None
    return {"gate": phase.gate, "title": phase.title, "agent": phase.agent,
            "handler": phase.handler}


def _check(check: Check) -> dict[str, Any]:
    return {"kind": check.kind, "params": dict(check.params), "line": check.line}


def _check_from(raw: Mapping[str, Any]) -> Check:
    # Read-only at every depth, as the loader makes them: nothing may write into a check's
    # parameters.
    return Check(raw["kind"], MappingProxyType(freeze(raw["params"])), raw["line"])


def _artifact(artifact: ArtifactSpec) -> dict[str, Any]:
    required: Any = artifact.required
    return {"id": artifact.id, "name": artifact.name, "paths": list(artifact.paths),
            "required": _check(required) if isinstance(required, Check) else required,
            "contains": list(artifact.contains), "max_age_days": artifact.max_age_days,
            "names_version": artifact.names_version}


def _artifact_from(raw: Mapping[str, Any]) -> ArtifactSpec:
    required = raw["required"]
    return ArtifactSpec(
        id=raw["id"], name=raw["name"], paths=tuple(raw["paths"]),
        required=_check_from(required) if isinstance(required, dict) else required,
        contains=tuple(raw["contains"]), max_age_days=raw["max_age_days"],
        names_version=raw["names_version"])


def _criterion(item: Criterion) -> dict[str, Any]:
    return {"id": item.id, "text": item.text, "role": item.role, "section_id": item.section_id,
            "section_title": item.section_title, "stage": item.stage,
            "decision": item.decision,
            "check": _check(item.check) if item.check is not None else None,
            "when": [_check(check) for check in item.when], "waivable": item.waivable,
            "line": item.line, "note": item.note,
            "artifact": item.artifact.id if item.artifact is not None else None,
            "source_line": item.source_line}


def _criterion_from(raw: Mapping[str, Any], artifacts: Mapping[str, ArtifactSpec]
                    ) -> Criterion:
    return Criterion(
        id=raw["id"], text=raw["text"], role=raw["role"], section_id=raw["section_id"],
        section_title=raw["section_title"], stage=raw["stage"], decision=raw["decision"],
        check=_check_from(raw["check"]) if raw["check"] is not None else None,
        when=tuple(_check_from(check) for check in raw["when"]), waivable=raw["waivable"],
        line=raw["line"], note=raw["note"],
        artifact=artifacts[raw["artifact"]] if raw["artifact"] is not None else None,
        source_line=raw["source_line"])
