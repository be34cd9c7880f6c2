"""Schema helpers for check kinds' parameters.

Also still the home, by re-export, of the names the first release's extension guide imported
from here (``CheckKind``, ``CheckResult``, ``Evidence``): third-party kinds written against it
keep working. New code imports them from :mod:`pytest_deploygate`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import CheckKind, EvalContext
from pytest_deploygate.core.results import CheckResult, Evidence

__all__ = ["NUMBER_OR_THRESHOLD", "CheckKind", "CheckResult", "EvalContext", "Evidence",
           "params_schema"]


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
