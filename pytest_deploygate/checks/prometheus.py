"""``prometheus``: a PromQL instant query compared with a bound, once or over a window.

Parameters: ``query`` (a PromQL expression or a named default: ``error_ratio``, ``p99_ms``,
``up``, ``sample_age_s``; overridable per project), ``max`` / ``min`` (numbers or
``{threshold: name}``), optionally ``compare`` (``offset``, ``max_factor``, ``floor``: the value
now against the same query ``offset`` earlier, for "no spike" criteria) and ``window``
(repeated measurements, see :mod:`pytest_deploygate.evidence.windows`). The server comes from
``--gate-prometheus`` or ``prometheus.url`` in deploygate.yaml.

An inconclusive measurement fails the item as missing evidence: it never passes and never
fires a trigger. Values of different series are never taken for one: a bound holds every
series, ``compare`` needs one series with the same labels at both times, and a series that
stops answering during a window makes the later measurements inconclusive.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from pytest_deploygate.checks.ca_files import ca_file_path
from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.measurements import Measurement, Point, thin
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.timeutil import format_instant, parse_duration
from pytest_deploygate.evidence import promql
from pytest_deploygate.evidence.windows import Sample, WindowResult, observe


def endpoint(ctx: EvalContext) -> promql.Endpoint | CheckResult:
    """The configured Prometheus, or missing evidence saying how to configure one."""
    url = ctx.project.prometheus_url
    if not url:
        return CheckResult.missing(
            "no Prometheus configured: set prometheus.url in "
            f"{ctx.project.config.display_name} or pass --gate-prometheus=URL (or answer this "
            "criterion from another kind under evidence:)")
    settings = ctx.project.config.prometheus
    ca_file = ca_file_path(settings.get("ca_file"), ctx)
    if isinstance(ca_file, CheckResult):
        return ca_file
    if ca_file is not None:  # (the project's file, wherever pytest runs)
        settings = {**settings, "ca_file": ca_file}
    return promql.endpoint_from(url, settings)


def _bounds(params: Mapping[str, Any], ctx: EvalContext) -> tuple[float | None, float | None]:
    low = ctx.number(params["min"]) if "min" in params else None
    high = ctx.number(params["max"]) if "max" in params else None
    return low, high


def _measure_once(params: Mapping[str, Any], ctx: EvalContext, where: promql.Endpoint,
                  expr: str, checks: tuple[tuple[str, str, str], ...] = ()
                  ) -> Callable[[float], Sample]:
    """One measurement; called again for each measurement of a window, a fresh one per
    window (it remembers the window's series)."""
    low, high = _bounds(params, ctx)
    pick = "min" if low is not None and high is None else "max"
    compare = params.get("compare")
    # Every series measured so far in this window, in order of first sight.
    seen: dict[promql.Labels, None] = {}

    def measure(elapsed: float) -> Sample:
        at = ctx.project.now + timedelta(seconds=elapsed)
        now = promql.instant(where, expr, at, pick)
        if now.value is None:
            return Sample(False, "?", now.problem, at=elapsed)
        gone = tuple(labels for labels in seen if labels not in now.labels)
        seen.update(dict.fromkeys(now.labels))
        # Every series is held to both bounds: with a min and a max, the lowest series
        # against the min too (one target down among targets up is below "min: 1").
        most = now.value if now.most is None else now.most
        least = now.value if now.least is None else now.least
        value = now.value
        breached = high is not None and most > high
        if breached:
            value = most
        elif low is not None and least < low:
            breached, value = True, least
        shown = f"{value:.6g}"
        if breached:
            return Sample(True, shown, value=value, at=elapsed)
        if gone:
            # The series that stopped answering may be the very one that would breach now
            # (a crashed instance's error ratio): the rest holding is no evidence it would.
            return Sample(False, shown, f"query {expr}: {len(gone)} series measured earlier "
                          f"in the window no longer answer{'s' if len(gone) == 1 else ''} "
                          f"({promql.show_series(gone)}); aggregate the series away (sum, "
                          "max) if they come and go", at=elapsed)
        # A default query's value is evidence only when the series it reads are sound:
        # requests counted by HTTP status, every series still answering (see promql.GUARDS).
        problem = promql.guard_problem(where, str(params["query"]), checks, at)
        if problem is not None:
            return Sample(False, shown, problem, at=elapsed)
        if compare:
            then = at - timedelta(seconds=parse_duration(compare["offset"]))
            return _compared(compare, now, expr, ctx,
                             lambda: _sound(where, expr, str(params["query"]), checks, then,
                                            pick), elapsed)
        return Sample(False, shown, value=value, at=elapsed)

    return measure


def _sound(where: promql.Endpoint, expr: str, name: str,
           checks: tuple[tuple[str, str, str], ...], at: datetime, pick: str
           ) -> promql.Measurement:
    """The value at ``at``, held to the same guards as the value now: an earlier value read
    from unsound series (a restart, an instance gone, uncounted failures) is no baseline, and
    an inflated one would let a spike now pass as within ``max_factor``."""
    measured = promql.instant(where, expr, at, pick)
    if measured.value is None:
        return measured
    problem = promql.guard_problem(where, name, checks, at)
    return measured if problem is None else promql.Measurement(None, problem)


def _compared(compare: Mapping[str, Any], now: promql.Measurement, expr: str,
              ctx: EvalContext, earlier: Callable[[], promql.Measurement],
              elapsed: float) -> Sample:
    """The value now against the same series ``offset`` earlier: one series, the same one at
    both times, or no judgement (a value of one series against another's proves nothing)."""
    assert now.value is not None
    shown = f"{now.value:.6g}"
    offset = compare["offset"]
    if now.series != 1:
        return Sample(False, shown, _ambiguous(expr, now.labels, "now"), at=elapsed)
    then = earlier()
    if then.value is None:
        return Sample(False, shown, f"{offset} earlier: {then.problem}", now.value, elapsed)
    if then.series != 1:
        return Sample(False, shown, _ambiguous(expr, then.labels, f"{offset} earlier"),
                      now.value, elapsed)
    if then.labels != now.labels:
        return Sample(False, shown, f"ambiguous evidence: query {expr} answers the series "
                      f"{promql.show_series(now.labels)} now but "
                      f"{promql.show_series(then.labels)} {offset} earlier: compare needs "
                      "the same series at both times", now.value, elapsed)
    floor = ctx.number(compare.get("floor", 0))
    factor = ctx.number(compare["max_factor"])
    breached = now.value > floor and now.value > then.value * factor
    return Sample(breached, f"{shown} (was {then.value:.6g} {offset} earlier)",
                  value=now.value, at=elapsed)


def _ambiguous(expr: str, labels: tuple[promql.Labels, ...], when: str) -> str:
    return (f"ambiguous evidence: query {expr} answers {len(labels)} series {when} "
            f"({promql.show_series(labels)}), compare needs exactly one: aggregate it to one "
            "series (sum, max) or select one")


Job = tuple[Any, Callable[[], Any]]


def _job(params: Mapping[str, Any], ctx: EvalContext) -> Job | CheckResult:
    where = endpoint(ctx)
    if isinstance(where, CheckResult):
        return where
    expr = promql.render_query(params["query"], ctx.project.config.prometheus)
    checks = promql.guards(params["query"], ctx.project.config.prometheus)
    window = params.get("window")
    watch = ctx.project.watch_seconds if ctx.criterion.role == "trigger" else 0.0
    key = ("prometheus", where.base_url, expr, json.dumps(checks),
           json.dumps(_bounds(params, ctx)),
           json.dumps(params.get("compare"), sort_keys=True, default=str),
           json.dumps(window, sort_keys=True), watch, format_instant(ctx.project.now))
    progress = ctx.project.progress
    label = f"[{ctx.spec.id}][{ctx.criterion.id}]"
    if window:
        stop = ctx.project.rollback_fired if watch else None

        def work() -> Any:
            return observe(window, _measure_once(params, ctx, where, expr, checks), watch,
                           (lambda text: progress(f"{label} {text}")) if progress else None,
                           stop)
    else:
        def work() -> Any:
            return _measure_once(params, ctx, where, expr, checks)(0.0)
    return key, work


def prefetch(params: Mapping[str, Any], ctx: EvalContext) -> None:
    """Start the measurement in the background, so network waits overlap."""
    job = _job(params, ctx)
    if not isinstance(job, CheckResult):
        ctx.project.network.submit(*job)


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Judge the (shared) measurement or window."""
    job = _job(params, ctx)
    if isinstance(job, CheckResult):
        return job
    key, work = job
    outcome = ctx.project.wait_for(key, work)
    where = endpoint(ctx)
    assert not isinstance(where, CheckResult)
    expr = key[2]
    evidence = Evidence("prometheus", where.show("/api/v1/query"), detail=f"query={expr}")
    bound = _describe_bounds(params, ctx)
    result = _judge(outcome, bound, evidence)
    return result.measured(_measurement(outcome, params, ctx, expr))


def _measurement(outcome: Any, params: Mapping[str, Any], ctx: EvalContext,
                 expr: str) -> Measurement:
    """The samples as numbers, for the record's chart."""
    low, high = _bounds(params, ctx)
    samples = outcome.samples if isinstance(outcome, WindowResult) else (outcome,)
    points = thin([Point(s.at, s.value if s.problem is None else None, s.breached)
                   for s in samples])
    fired = isinstance(outcome, WindowResult) and outcome.fired and bool(samples)
    return Measurement(expr, points, low, high, samples[-1].at if fired else None,
                       windowed=isinstance(outcome, WindowResult))


def _judge(outcome: Any, bound: str, evidence: Evidence) -> CheckResult:
    if isinstance(outcome, WindowResult):
        text = outcome.describe()
        if outcome.fired:
            return CheckResult.not_met(f"{bound} breached: {text}", evidence)
        if outcome.stopped:
            return CheckResult.missing(f"watch ended early because another rollback trigger "
                                       f"fired: {text}", evidence)
        if outcome.too_inconclusive:
            problems = "; ".join(sorted({s.problem for s in outcome.samples if s.problem}))
            return CheckResult.missing(f"inconclusive: {text}; {problems}", evidence)
        return CheckResult.met(f"{bound} held: {text}", evidence)
    sample: Sample = outcome
    if sample.problem is not None:
        return CheckResult.missing(f"inconclusive: {sample.problem}", evidence)
    if sample.breached:
        return CheckResult.not_met(f"measured {sample.shown}, breaching {bound}", evidence)
    return CheckResult.met(f"measured {sample.shown}, within {bound}", evidence)


def _describe_bounds(params: Mapping[str, Any], ctx: EvalContext) -> str:
    parts = []
    if "min" in params:
        parts.append(f">= {ctx.describe_number(params['min'])}")
    if "max" in params:
        parts.append(f"<= {ctx.describe_number(params['max'])}")
    if params.get("compare"):
        compare = params["compare"]
        parts.append(f"no more than x{ctx.describe_number(compare['max_factor'])} the value "
                     f"{compare['offset']} earlier")
    return " and ".join(parts) or "any value"


KIND = builtin_kind("prometheus", evaluate, prefetch)
