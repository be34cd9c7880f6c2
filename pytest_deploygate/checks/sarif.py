"""``sarif``: SARIF 2.1.0 scan results, by glob: no result at or above a severity.

Parameters: ``paths`` or ``report`` (default ``sarif``), ``severity`` (``critical``, ``high``
default, ``medium``, ``low``), ``not_before``, ``max_age_days``. A result's severity is its
``security-severity`` property (result, then rule) when present (>= 9 critical, >= 7 high,
>= 4 medium), else its ``level`` (``error`` is high, ``warning`` medium, ``note`` low; the
level the run's ``invocations[].ruleConfigurationOverrides`` set for its rule, else the
rule's default level, else ``warning``, when the result has none). Suppressed results and
results with ``baselineState: absent`` do not count. With ``baseline_state: new`` only
results the scanner marked ``baselineState: new`` count: what a scan compared against the
pre-deploy scan discovered since (a rollback trigger must not re-read known findings, which
are the pre stage's to fail).

Read per the 2.1.0 specification, failing closed: a result is suppressed only when it has
suppressions and every one is accepted (no status counts as accepted; ``underReview`` and
``rejected`` do not suppress); ``"runs": []``, a run without ``results`` and a run whose
invocation did not succeed or reports an error notification (a file it could not parse) are
no scan (evidence missing); a ``security-severity`` that is not
a number from 0 to 10, or a ``level`` outside the specification, is evidence missing, never
low.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any, TypeGuard

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.checks.evidence_files import EvidenceFile, gather
from pytest_deploygate.checks.stated_times import sarif_time
from pytest_deploygate.core.results import CheckResult

RANKS = {"low": 1, "medium": 2, "high": 3, "critical": 4}
_LEVELS = {"error": "high", "warning": "medium", "note": "low", "none": "low"}
_SHOWN = 5


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """List results at or above the severity; met when there are none."""
    found = gather(params, ctx, default_report="sarif", stated=sarif_time)
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
        doc = json.loads(scan.data.decode("utf-8-sig"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return f"{scan.relative}: not valid JSON: {exc}"
    if not isinstance(doc, dict) or doc.get("version") != "2.1.0" or not isinstance(
            doc.get("runs"), list):
        return f"{scan.relative}: not a SARIF 2.1.0 log (version and runs[] required)"
    if not doc["runs"]:
        return f"{scan.relative}: runs is empty: no scan ran"
    out = []
    for run_index, run in enumerate(doc["runs"]):
        where = f"{scan.relative}: runs[{run_index}]"
        if not isinstance(run, dict):
            return f"{where} is malformed"
        failed = _failed_invocation(run)
        if failed:
            return f"{where}: {failed}: no scan"
        if "results" not in run or run["results"] is None:
            # SARIF 2.1.0 3.14.23: absent results mean the tool did not compute any.
            return f"{where} has no results array: the tool produced no results (no scan)"
        if not isinstance(run["results"], list):
            return f"{where}.results is malformed"
        components = _components(run)
        if isinstance(components, str):
            return f"{where}: {components}"
        configured = _configured_levels(run, components)
        if isinstance(configured, str):
            return f"{where}: {configured}"
        for index, result in enumerate(run["results"]):
            at = f"{where}.results[{index}]"
            if not isinstance(result, dict):
                return f"{where}.results holds a non-object"
            suppressed = _suppressed(result.get("suppressions"))
            if isinstance(suppressed, str):
                return f"{at}: {suppressed}"
            if suppressed or result.get("baselineState") == "absent":
                continue
            if new_only and result.get("baselineState") != "new":
                continue  # known before (or not compared): not discovered after the deploy
            rule_id = str(result.get("ruleId") or _rule_ref(result) or "unnamed-rule")
            rules = _result_rules(result, components)
            if isinstance(rules, str):
                return f"{at} ({rule_id}): {rules}"
            by_id = configured.get(rule_id)
            severity = _worst(_severity(result, rule, configured.get(id(rule), by_id))
                              for rule in rules or [{}])
            if severity not in RANKS:
                return f"{at} ({rule_id}): {severity}"
            out.append((rule_id, severity, _where(result)))
    return out


def _no_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; a scan that holds them is not a SARIF log.
    raise ValueError(f"{name} is not a JSON value")


def _failed_invocation(run: dict[str, Any]) -> str | None:
    invocations = run.get("invocations", [])
    if not isinstance(invocations, list):
        return "invocations is malformed"
    for index, invocation in enumerate(invocations):
        if not isinstance(invocation, dict):
            return f"invocations[{index}] is malformed"
        if invocation.get("executionSuccessful") is not True:
            # Required by the specification: missing or false, the scan did not complete.
            return f"invocations[{index}].executionSuccessful is " \
                   f"{json.dumps(invocation.get('executionSuccessful'))}"
        for name in _NOTIFICATIONS:
            failed = _error_notification(invocation.get(name))
            if failed is not None:
                return f"invocations[{index}].{name}{failed}"
    return None


#: Where an invocation reports its own trouble (3.20.21, 3.20.22). An error there is part of
#: the scan that did not run (a file the tool could not parse or analyse, a rule that did
#: not load), whatever executionSuccessful says: ESLint's SARIF formatter reports a file it
#: could not parse as a configuration notification of level error, and success true.
_NOTIFICATIONS = ("toolExecutionNotifications", "toolConfigurationNotifications")


def _error_notification(notifications: Any) -> str | None:
    """``[2] is an error (its message)`` for the first notification of level error (the
    default level is warning, 3.58.6), or what is malformed; None when there is none."""
    if notifications is None:
        return None
    if not isinstance(notifications, list):
        return " is not an array"
    for index, notification in enumerate(notifications):
        if not isinstance(notification, dict):
            return f"[{index}] is not an object"
        if notification.get("level", "warning") not in ("warning", "note", "none"):
            message = notification.get("message")
            text = message.get("text") if isinstance(message, dict) else None
            return (f"[{index}] is level {json.dumps(notification.get('level'))}"
                    + (f" ({str(text).splitlines()[0][:120]})" if text else ""))
    return None


def _suppressed(suppressions: Any) -> bool | str:
    """SARIF 2.1.0 3.27.23/3.35.3: suppressed only when every suppression is accepted.

    A suppression without a ``status`` counts as accepted; one ``underReview`` or
    ``rejected`` (or any other status) means the result still counts.
    """
    if suppressions is None:
        return False
    if not isinstance(suppressions, list):
        return "suppressions is not an array"
    if not suppressions:
        return False
    for index, suppression in enumerate(suppressions):
        if not isinstance(suppression, dict):
            return f"suppressions[{index}] is not an object"
        if suppression.get("status", "accepted") != "accepted":
            return False
    return True


def _components(run: dict[str, Any]) -> list[list[dict[str, Any]]] | str:
    """The rules of the driver (index 0) and of each extension (index 1 + n), per 3.19."""
    tool = run.get("tool", {})
    if not isinstance(tool, dict):
        return "tool is not an object"
    extensions = tool.get("extensions") or []
    if not isinstance(extensions, list):
        return "tool.extensions is not an array"
    out = []
    for name, component in [("driver", tool.get("driver") or {})] + [
            (f"extensions[{i}]", e) for i, e in enumerate(extensions)]:
        rules = component.get("rules") if isinstance(component, dict) else None
        if not isinstance(component, dict) or not isinstance(rules or [], list):
            return f"tool.{name} is malformed"
        out.append([rule if isinstance(rule, dict) else {} for rule in rules or []])
    return out


def _result_rules(result: dict[str, Any], components: list[list[dict[str, Any]]]
                  ) -> list[dict[str, Any]] | str:
    """Every rule the result refers to (3.27.5-3.27.7, 3.52): by ``ruleIndex``, by ``rule``
    (its ``index`` and ``toolComponent``), by ``ruleId`` (a hierarchical ``a/b`` id also
    names rule ``a``). Several references that disagree all count: the worst one wins. An
    index that points at no rule is evidence missing, not a rule without a severity."""
    found: list[dict[str, Any]] = []
    rule = result.get("rule")
    if rule is not None and not isinstance(rule, dict):
        return "rule is not an object"
    rule = rule or {}
    component = 0
    reference = rule.get("toolComponent")
    if reference is not None:
        index = reference.get("index") if isinstance(reference, dict) else None
        if not _is_index(index) or index + 1 >= len(components):
            return "rule.toolComponent names no extension of tool.extensions[] by index"
        component = index + 1
    rules = components[component]
    for name, index in (("ruleIndex", result.get("ruleIndex")), ("rule.index", rule.get("index"))):
        if index is None or index == -1:
            continue
        if not _is_index(index) or index >= len(rules):
            return f"{name} {json.dumps(index)} points at no rule"
        found.append(rules[index])
    for rule_id in (result.get("ruleId"), rule.get("id")):
        if not isinstance(rule_id, str):
            continue
        names = {"/".join(rule_id.split("/")[:n]) for n in range(1, rule_id.count("/") + 2)}
        found += [r for r in rules if str(r.get("id")) in names]
    return found


def _is_index(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _worst(severities: Iterable[str]) -> str:
    """The highest rank, or the first sentence saying a value is impossible."""
    ranked = []
    for severity in severities:
        if severity not in RANKS:
            return severity
        ranked.append(severity)
    return max(ranked, key=RANKS.__getitem__)


def _rule_ref(result: dict[str, Any]) -> str | None:
    rule = result.get("rule")
    return rule.get("id") if isinstance(rule, dict) else None


def _configured_levels(run: dict[str, Any], components: list[list[dict[str, Any]]]
                       ) -> dict[int | str, Any] | str:
    """The levels the run's invocations set for rules (3.20.5 ruleConfigurationOverrides),
    keyed by the rule object's id() and the rule's id; several for one rule: the worst."""
    levels: dict[int | str, Any] = {}
    for number, invocation in enumerate(run.get("invocations") or []):
        overrides = invocation.get("ruleConfigurationOverrides") or []
        if not isinstance(overrides, list):
            return f"invocations[{number}].ruleConfigurationOverrides is not an array"
        for index, override in enumerate(overrides):
            at = f"invocations[{number}].ruleConfigurationOverrides[{index}]"
            descriptor = override.get("descriptor") if isinstance(override, dict) else None
            configuration = override.get("configuration") if isinstance(override, dict) \
                else None
            if not isinstance(descriptor, dict) or not isinstance(configuration, dict):
                return f"{at} needs a descriptor and a configuration object"
            if "level" not in configuration:
                continue
            rules = _result_rules({"rule": descriptor}, components)
            if isinstance(rules, str):
                return f"{at}.descriptor: {rules}"
            # By the rule object, and by its id (results may name a rule the run lists not).
            keys: list[int | str] = [id(rule) for rule in rules]
            if isinstance(descriptor.get("id"), str):
                keys.append(descriptor["id"])
            if not keys:
                return f"{at}.descriptor names no rule of the run"
            for key in keys:
                earlier = levels.get(key)
                levels[key] = configuration["level"] if earlier is None else max(
                    (earlier, configuration["level"]), key=_level_rank)
    return levels


def _level_rank(level: Any) -> int:
    # (An impossible level ranks highest, so _severity names it.)
    return RANKS[_LEVELS[level]] if isinstance(level, str) and level in _LEVELS else 99


def _severity(result: dict[str, Any], rule: dict[str, Any], configured: Any = None) -> str:
    """A rank name, or (when the value is impossible) a sentence saying what is wrong.

    Without a level of its own, a result takes the level the run configured for its rule
    (``configured``), else the rule's default (3.27.10)."""
    for props in (result.get("properties"), rule.get("properties")):
        if isinstance(props, dict) and "security-severity" in props:
            raw = props["security-severity"]
            try:
                if isinstance(raw, bool) or not isinstance(raw, str | int | float):
                    raise ValueError
                score = float(raw)
            except ValueError:
                return f"security-severity {json.dumps(raw)} is not a number"
            if not 0.0 <= score <= 10.0:  # also false for NaN
                return f"security-severity {json.dumps(raw)} is not a score from 0 to 10"
            if score >= 9.0:
                return "critical"
            if score >= 7.0:
                return "high"
            return "medium" if score >= 4.0 else "low"
    level = result.get("level")
    if level is None and result.get("kind", "fail") != "fail":
        level = "none"  # 3.27.9: a result that is not a failure defaults to level none
    if level is None and configured is not None:
        level = configured
    if level is None:
        level = ((rule.get("defaultConfiguration") or {}).get("level")
                 if isinstance(rule.get("defaultConfiguration"), dict) else None) or "warning"
    if not isinstance(level, str) or level not in _LEVELS:
        return f"level {json.dumps(level)} is not a SARIF level (none, note, warning, error)"
    return _LEVELS[level]


def _where(result: dict[str, Any]) -> str:
    locations = result.get("locations")
    for location in locations if isinstance(locations, list) else []:
        physical = location.get("physicalLocation") if isinstance(location, dict) else None
        if isinstance(physical, dict):
            artifact, region = physical.get("artifactLocation"), physical.get("region")
            uri = artifact.get("uri", "?") if isinstance(artifact, dict) else "?"
            line = region.get("startLine") if isinstance(region, dict) else None
            return f"{uri}:{line}" if line else str(uri)
    return "no location"


KIND = builtin_kind("sarif", evaluate)
