"""``prometheus_rules``: alerting is working: Prometheus has alerting rules, none in error,
and an Alertmanager to send them to.

Parameter ``min_rules`` (default 1). Reads ``/api/v1/rules?type=alert`` and
``/api/v1/alertmanagers`` of the configured Prometheus. A rule not evaluated yet
(``health: unknown``) proves nothing: the check is then evidence missing, naming it, however
many other rules are healthy. Rules that fire reach nobody without an active Alertmanager: with
none (none configured, or every one dropped by relabelling) the check is evidence missing too
(see :mod:`pytest_deploygate.evidence.alertmanagers` for what "active" can and cannot tell).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.checks.prometheus import endpoint
from pytest_deploygate.core.redaction import redact_url
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.evidence import promql
from pytest_deploygate.evidence.alertmanagers import Alertmanagers, alertmanagers


def _key(where: promql.Endpoint) -> tuple[str, str]:
    return ("prometheus-rules", where.base_url)


def _receivers_key(where: promql.Endpoint) -> tuple[str, str]:
    return ("prometheus-alertmanagers", where.base_url)


def prefetch(params: Mapping[str, Any], ctx: EvalContext) -> None:
    """Start fetching the rules and the Alertmanagers."""
    where = endpoint(ctx)
    if not isinstance(where, CheckResult):
        ctx.project.network.submit(_key(where), lambda: promql.alerting_rules(where))
        ctx.project.network.submit(_receivers_key(where), lambda: alertmanagers(where))


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
    receivers = ctx.project.wait_for(_receivers_key(where), lambda: alertmanagers(where))
    both = (evidence, Evidence("prometheus", where.show("/api/v1/alertmanagers")))
    unheard = _no_receiver(receivers, where)
    if unheard is not None:
        return CheckResult.missing(unheard, *both)
    assert isinstance(receivers, Alertmanagers)
    return CheckResult.met(f"{len(healthy)} alerting rule(s) loaded, none in error: "
                           + ", ".join(healthy[:8]) + "; alerts go to "
                           + ", ".join(redact_url(url) for url in receivers.active[:4])
                           + (f", +{len(receivers.active) - 4} more"
                              if len(receivers.active) > 4 else ""), *both)


def _no_receiver(receivers: Alertmanagers | str, where: promql.Endpoint) -> str | None:
    """Why alerts that fire would reach nobody (or the answer is unusable); None when an
    Alertmanager is active."""
    if isinstance(receivers, str):
        return f"inconclusive: cannot tell where alerts go: {receivers}"
    # Prometheus lists a static target without probing it: one at the Prometheus's own
    # address (the wrong port copied) is listed active, and the alerts POSTed there reach
    # Prometheus's web server, which answers 404. It is no Alertmanager.
    itself = _host_port(where.base_url)
    others = [url for url in receivers.active if _host_port(url) != itself]
    if receivers.active and not others:
        return (f"no Alertmanager: the active one ({redact_url(receivers.active[0])}) is the "
                f"Prometheus itself ({where.show()}, prometheus.url of deploygate.yaml): "
                "alerts sent there reach nobody; point alerting: alertmanagers: in the "
                "Prometheus server's prometheus.yml at the Alertmanager")
    if receivers.active:
        return None
    # Dropped ones receive nothing: relabelling removed them before any alert is sent.
    dropped = (f" ({len(receivers.dropped)} dropped by relabelling: "
               + ", ".join(redact_url(url) for url in receivers.dropped[:3]) + ")"
               if receivers.dropped else "")
    return (f"no active Alertmanager{dropped}: alerts that fire reach nobody; configure "
            "alerting: alertmanagers: in the Prometheus server's prometheus.yml (a Prometheus "
            "just started reports its Alertmanagers after a few seconds: run the gate again)")


def _host_port(url: str) -> tuple[str, int | None]:
    """A URL's host (lower case) and port (the scheme's default when none is written)."""
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    return (parts.hostname or "", port if port is not None else default)


KIND = builtin_kind("prometheus_rules", evaluate, prefetch)
