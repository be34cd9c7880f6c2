"""What the built-in check kinds declare: name, module, what they read, their parameters' schema.

The single source of each built-in kind's parameter schema and ``reads`` text: the kind's
module builds its ``KIND`` with :func:`builtin_kind`, which takes both from here, and the
registry checks, when it imports a kind's module, that the module did so. Loading, validating
and showing a spec (``deploygate verdict``, ``show``, ``validate``, a gate run's start-up) needs
only this data, so it never imports a kind's evaluation code nor what that reads evidence with
(HTTP, PromQL, exposition parsers, ...): a kind's module is imported when a check of that kind
is evaluated or prefetched.

This module imports nothing but the kind type itself: keep it that way.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pytest_deploygate.checks.context import CheckKind, Evaluate, Prefetch
from pytest_deploygate.core.value_class import value_class


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

#: The parameters every kind reading evidence files shares (``checks/evidence_files.py``).
FILE_PARAMS: dict[str, Any] = {
    "paths": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    "report": {"type": "string", "description": "A named set of globs under reports: in "
                                                "deploygate.yaml."},
    "not_before": {"enum": ["commit"]},
    "max_age_days": NUMBER_OR_THRESHOLD,
}

#: A duration of the http kind: seconds, or ``250ms``, ``5s``, ``1m``.
DURATION: dict[str, Any] = {"anyOf": [{"type": "number", "minimum": 0},
                                      {"type": "string", "pattern": "^[0-9.]+(ms|s|m)$"}]}

#: An observation window (``evidence/windows.py``): ``count`` samples ``interval`` apart.
WINDOW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["count", "interval"],
    "properties": {
        "count": {"type": "integer", "minimum": 1, "maximum": 10000},
        "interval": {"anyOf": [{"type": "number", "minimum": 0},
                               {"type": "string", "pattern": "^[0-9.]+(ms|s|m|h)$"}]},
        "failure_limit": {"type": "integer", "minimum": 0},
        "inconclusive_limit": {"type": "integer", "minimum": 0},
    },
}

#: Names a kind's module dispatches on; its own tables must have exactly these keys (tested).
CONSTITUTION_RULES: Final = ("articles", "escalation_documented", "iterations_logged",
                             "performed", "status_compliant", "violations_addressed",
                             "within_limit")
#: The workflow tiers whose limits the constitution and test_iteration kinds take.
TIERS: Final = ("quick", "standard", "enterprise")
ITERATION_RULES: Final = ("escalation_documented", "final_status", "logged",
                          "no_repeated_failures", "within_limit")
SARIF_SEVERITIES: Final = ("critical", "high", "low", "medium")
CAPTURED_METRICS: Final = ("error_ratio", "p99_ms", "sample_age_s", "series")


@value_class(frozen=True)
class Declaration:
    """One built-in kind as a spec sees it; ``module`` (in ``pytest_deploygate.checks``)
    defines it as ``KIND`` with the evaluation code. ``prefetches``: the kind starts its
    evidence in the background before the items run."""

    name: str
    module: str
    reads: str
    params_schema: Mapping[str, Any]
    prefetches: bool = False


_DECLARED = (
    Declaration("state", "state_value", "a dotted path in state.json", params_schema(
        {
            "path": {"type": "string", "minLength": 1},
            "equals": {},
            "not_equals": {},
            "in": {"type": "array", "minItems": 1},
            "truthy": {"const": True},
            "exists": {"type": "boolean"},
            "min": NUMBER_OR_THRESHOLD,
            "max": NUMBER_OR_THRESHOLD,
        },
        required=["path"],
    )),
    Declaration("gate_passed", "gate_passed",
                "phases.<key>.gate_passed of earlier gates in state.json", params_schema(
        {
            "gate": {"type": "integer", "minimum": 0},
            "gates": {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}},
            "phases": {"type": "array", "minItems": 1,
                       "items": {"type": "string", "pattern": "^[0-9]{2,3}-[a-z0-9-]+$"}},
            "previous": {"const": True},
            "phase": {"type": "string"},
            "allow_skipped": {"type": "boolean"},
            "allow_conditional": {"type": "boolean"},
            "only_required": {"type": "boolean"},
        },
        oneOf=[{"required": ["gate"]}, {"required": ["gates"]}, {"required": ["phases"]},
               {"required": ["previous"]}],
    )),
    Declaration("artifact", "artifact", "a file under the project root",
                params_schema({"artifact": {"type": "string"}}, required=["artifact"])),
    Declaration("constitution", "constitution",
                "phases.<key>.constitutional_validation in state.json", params_schema(
        {
            "criterion": {"enum": list(CONSTITUTION_RULES)},
            "articles": {"type": "array", "items": {"type": "string"}},
            "limits": {
                "type": "object",
                "additionalProperties": False,
                "properties": {t: NUMBER_OR_THRESHOLD for t in TIERS},
            },
            "phase": {"type": "string"},
        },
        required=["criterion"],
    )),
    Declaration("attestation", "attestation", "a sign-off in the attestation log", params_schema(
        {
            "roles": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "criterion": {"type": "string"},
            "max_age_days": {"type": "number", "exclusiveMinimum": 0},
        }
    )),
    Declaration("condition", "condition", "a named condition in deploygate.yaml", params_schema(
        {"name": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"}}, required=["name"]
    )),
    Declaration("prometheus", "prometheus",
                "a PromQL instant query against the Prometheus HTTP API", params_schema({
        "query": {"type": "string", "minLength": 1},
        "min": NUMBER_OR_THRESHOLD,
        "max": NUMBER_OR_THRESHOLD,
        "compare": {
            "type": "object", "additionalProperties": False,
            "required": ["offset", "max_factor"],
            "properties": {"offset": {"type": "string", "pattern": "^[0-9]+(s|m|h|d)$"},
                           "max_factor": NUMBER_OR_THRESHOLD, "floor": NUMBER_OR_THRESHOLD},
        },
        "window": WINDOW_SCHEMA,
    }, required=["query"], anyOf=[{"required": ["min"]}, {"required": ["max"]}]),
        prefetches=True),
    Declaration("prometheus_rules", "prometheus_rules",
                "alerting rules of the Prometheus HTTP API",
                params_schema({"min_rules": {"type": "integer", "minimum": 1}}),
                prefetches=True),
    Declaration("metrics_file", "metrics_file",
                "a captured Prometheus/OpenMetrics text exposition", params_schema({
        **FILE_PARAMS,
        "metric": {"enum": list(CAPTURED_METRICS)},
        "min": NUMBER_OR_THRESHOLD,
        "max": NUMBER_OR_THRESHOLD,
    }, required=["metric"], anyOf=[{"required": ["min"]}, {"required": ["max"]}])),
    Declaration("http", "http_check", "HTTP GET of health or integration endpoints",
                params_schema({
        "url": {"type": "string", "pattern": "^https?://"},
        "urls": {"type": "array", "items": {"type": "string", "pattern": "^https?://"},
                 "minItems": 1},
        "urls_from": {"enum": ["health_urls", "integration_urls"]},
        "expect": {"type": "array", "items": {"type": "integer", "minimum": 100,
                                              "maximum": 599}, "minItems": 1},
        "timeout": DURATION,
        "retries": {"type": "integer", "minimum": 0, "maximum": 10},
        "backoff": DURATION,
        "consecutive_failures": {"type": "integer", "minimum": 1},
        "probes": {"type": "integer", "minimum": 1, "maximum": 10000},
        "interval": DURATION,
        "verify_tls": {"type": "boolean"},
        "ca_file": {"type": "string"},
    }), prefetches=True),
    Declaration("junit", "junit_reports", "JUnit XML test reports (glob)", params_schema({
        **FILE_PARAMS,
        "min_tests": {"type": "integer", "minimum": 1},
        "allow_skipped": {"type": "boolean"},
    })),
    Declaration("sarif", "sarif", "SARIF 2.1.0 scan results (glob)",
                params_schema({**FILE_PARAMS, "severity": {"enum": list(SARIF_SEVERITIES)},
                               "baseline_state": {"enum": ["new"]}})),
    Declaration("git_tag", "git_tag", "tags of the gated project's git repository",
                params_schema({
        "at_commit": {"type": "boolean"},
        "prefixes": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    })),
    Declaration("changelog", "changelog", "CHANGELOG.md of the gated project",
                params_schema({"path": {"type": "string", "minLength": 1}})),
    Declaration("command", "command", "a command's exit status (opt-in: --gate-allow-commands)",
                params_schema({
        "run": {"anyOf": [{"type": "string", "minLength": 1},
                          {"type": "array", "items": {"type": "string"}, "minItems": 1}]},
        "shell": {"type": "boolean"},
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
    }, required=["run"])),
    Declaration("scope", "scope", "the workflow scope of the active work item in state.json",
                params_schema(
        {"is": {"type": "string", "minLength": 1}, "not": {"type": "string", "minLength": 1}},
        oneOf=[{"required": ["is"]}, {"required": ["not"]}],
    )),
    Declaration("test_iteration", "iteration",
                "phases.<key>.iteration_requirements.test_iteration in state.json",
                params_schema(
        {
            "criterion": {"enum": list(ITERATION_RULES)},
            "limits": {
                "type": "object",
                "additionalProperties": False,
                "properties": {t: NUMBER_OR_THRESHOLD for t in TIERS},
            },
            "limit": NUMBER_OR_THRESHOLD,
        },
        required=["criterion"],
    )),
    Declaration("coverage", "coverage",
                "line coverage from Cobertura XML or coverage.py JSON reports",
                params_schema({**FILE_PARAMS, "min": NUMBER_OR_THRESHOLD}, required=["min"])),
)

#: Every built-in kind by name, in the order ``deploygate show`` and the registry list them.
DECLARED: Final[Mapping[str, Declaration]] = {d.name: d for d in _DECLARED}


def builtin_kind(name: str, evaluate: Evaluate, prefetch: Prefetch | None = None) -> CheckKind:
    """The ``KIND`` of a built-in kind's module: its declared name, ``reads`` and schema (the
    very objects validation uses) with the module's evaluation code."""
    declared = DECLARED[name]
    return CheckKind(name=declared.name, reads=declared.reads,
                     params_schema=declared.params_schema, evaluate=evaluate, prefetch=prefetch)


__all__ = [
    "CAPTURED_METRICS",
    "CONSTITUTION_RULES",
    "DECLARED",
    "DURATION",
    "FILE_PARAMS",
    "ITERATION_RULES",
    "NUMBER_OR_THRESHOLD",
    "SARIF_SEVERITIES",
    "TIERS",
    "WINDOW_SCHEMA",
    "Declaration",
    "builtin_kind",
    "params_schema",
]
