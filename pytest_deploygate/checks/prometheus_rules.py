"""``prometheus_rules``: alerting is working: Prometheus has alerting rules, none in error.

Parameter ``min_rules`` (default 1). Reads ``/api/v1/rules?type=alert`` of the configured
Prometheus. A rule not evaluated yet (``health: unknown``) proves nothing: the check is then
evidence missing, naming it, however many other rules are healthy.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.checks.prometheus import endpoint
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.evidence import promql


def _key(where: promql.Endpoint) -> tuple[str, str]:
    return ("prometheus-rules", where.base_url)


def prefetch(params: Mapping[str, Any], ctx: EvalContext) -> None:
    """Start fetching the rules."""
    where = endpoint(ctx)
    if not isinstance(where, CheckResult):
        ctx.project.network.submit(_key(where), lambda: promql.alerting_rules(where))


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when enough alerting rules exist and none is in error."""
    where = endpoint(ctx)
    if isinstance(where, CheckResult):
        return where
    answer = ctx.project.wait_for(_key(where), lambda: promql.alerting_rules(where))
    evidence = Evidence("prometheus", where.show("/api/v1/rules"))
    if isinstance(answer, str):
        return CheckResult.missing(f"inconclusive: {answer}", evidence)
    healthy, broken = answer.healthy, answer.broken
    minimum = int(params.get("min_rules", 1))
    if broken:
        return CheckResult.not_met(f"{len(broken)} alerting rule(s) in error: "
                                   + "; ".join(broken[:5]), evidence)
    if answer.unevaluated:
        # Fail closed: a rule never evaluated may be the one that would not fire; however
        # many others are healthy, that is no evidence alerting works.
        never = answer.unevaluated
        return CheckResult.missing(
            f"inconclusive: {len(never)} alerting rule(s) never evaluated (health unknown): "
            + ", ".join(never[:5]) + (f", +{len(never) - 5} more" if len(never) > 5 else "")
            + "; wait for Prometheus to evaluate them (their group's interval) and run the "
              "gate again", evidence)
    if len(healthy) < minimum:
        return CheckResult.not_met(f"{len(healthy)} alerting rule(s) loaded, at least "
                                   f"{minimum} required", evidence)
    return CheckResult.met(f"{len(healthy)} alerting rule(s) loaded, none in error: "
                           + ", ".join(healthy[:8]), evidence)


KIND = builtin_kind("prometheus_rules", evaluate, prefetch)
