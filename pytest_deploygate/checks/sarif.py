"""``sarif``: SARIF 2.1.0 scan results, by glob: no result at or above a severity.

Parameters: ``paths`` or ``report`` (default ``sarif``), ``severity`` (``critical``, ``high``
default, ``medium``, ``low``), ``not_before``, ``max_age_days``. A result's severity is its
``security-severity`` property (result, then rule) when present (>= 9 critical, >= 7 high,
>= 4 medium), else its ``level`` (``error`` is high, ``warning`` medium, ``note`` low; the
rule's default level, else ``warning``, when the result has none). Suppressed results and
results with ``baselineState: absent`` do not count. With ``baseline_state: new`` only
results the scanner marked ``baselineState: new`` count: what a scan compared against the
pre-deploy scan discovered since (a rollback trigger must not re-read known findings, which
are the pre stage's to fail).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.base import CheckKind, CheckResult, params_schema
from pytest_deploygate.evaluation import EvalContext
from pytest_deploygate.evidence_files import FILE_PARAMS, EvidenceFile, gather

RANKS = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}
_SHOWN = 5


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """List results at or above the severity; met when there are none."""
    found = gather(params, ctx, default_report="sarif")
    if isinstance(found, CheckResult):
        return found
    floor = params.get("severity", "high")
    hits: list[str] = []
    total = 0
    new_only = params.get("baseline_state") == "new"
    for scan in found.files:
        results = _results(scan, new_only)
        if isinstance(results, str):
            return CheckResult.missing(results, *found.evidence)
        total += len(results)
        hits += [f"{rule} [{severity}] at {where}" for rule, severity, where in results
                 if RANKS[severity] >= RANKS[floor]]
    if hits:
        shown = "; ".join(hits[:_SHOWN]) + (f"; +{len(hits) - _SHOWN} more"
                                            if len(hits) > _SHOWN else "")
        counted = "new " if new_only else ""
        return CheckResult.not_met(f"{len(hits)} {counted}result(s) at or above {floor}: {shown} "
                                   f"(read {found.listing()})", *found.evidence)
    counted = "new " if new_only else ""
    return CheckResult.met(f"no {counted}result at or above {floor} ({total} {counted}below) "
                           f"in {found.listing()}", *found.evidence)


def _results(scan: EvidenceFile, new_only: bool = False) -> list[tuple[str, str, str]] | str:
    try:
        doc = json.loads(scan.data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"{scan.relative}: not valid JSON: {exc}"
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0" or not isinstance(
            doc.get("runs"), list):
        return f"{scan.relative}: not a SARIF 2.1.0 log (version and runs[] required)"
    out = []
    for run_index, run in enumerate(doc["runs"]):
        if not isinstance(run, dict) or not isinstance(run.get("results", []), list):
            return f"{scan.relative}: runs[{run_index}] is malformed"
        rules = _rules(run)
        for result in run.get("results", []):
            if not isinstance(result, dict):
                return f"{scan.relative}: runs[{run_index}].results holds a non-object"
            if result.get("suppressions") or result.get("baselineState") == "absent":
                continue
            if new_only and result.get("baselineState") != "new":
                continue  # known before (or not compared): not discovered after the deploy
            rule_id = str(result.get("ruleId") or _rule_ref(result) or "unnamed-rule")
            out.append((rule_id, _severity(result, rules.get(rule_id, {})), _where(result)))
    return out


def _rules(run: dict[str, Any]) -> dict[str, dict[str, Any]]:
    driver = (run.get("tool") or {}).get("driver") or {}
    rules = driver.get("rules") if isinstance(driver, dict) else None
    return {str(r.get("id")): r for r in rules or [] if isinstance(r, dict)}


def _rule_ref(result: dict[str, Any]) -> str | None:
    rule = result.get("rule")
    return rule.get("id") if isinstance(rule, dict) else None


def _severity(result: dict[str, Any], rule: dict[str, Any]) -> str:
    for props in (result.get("properties"), rule.get("properties")):
        if isinstance(props, dict) and "security-severity" in props:
            try:
                score = float(props["security-severity"])
            except (TypeError, ValueError):
                continue
            if score >= 9.0:
                return "critical"
            if score >= 7.0:
                return "high"
            return "medium" if score >= 4.0 else "low"
    level = result.get("level")
    if level is None:
        level = ((rule.get("defaultConfiguration") or {}).get("level")
                 if isinstance(rule.get("defaultConfiguration"), dict) else None) or "warning"
    return _LEVELS.get(str(level), "medium")


def _where(result: dict[str, Any]) -> str:
    for location in result.get("locations") or []:
        physical = location.get("physicalLocation") if isinstance(location, dict) else None
        if isinstance(physical, dict):
            uri = (physical.get("artifactLocation") or {}).get("uri", "?")
            line = (physical.get("region") or {}).get("startLine")
            return f"{uri}:{line}" if line else str(uri)
    return "no location"


KIND = CheckKind(
    name="sarif",
    reads="SARIF 2.1.0 scan results (glob)",
    params_schema=params_schema({**FILE_PARAMS, "severity": {"enum": sorted(RANKS)},
                                "baseline_state": {"enum": ["new"]}}),
    evaluate=evaluate,
)
