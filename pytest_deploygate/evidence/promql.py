"""Instant queries against a Prometheus HTTP API, and the default queries of a gate.

Every failure mode (refused, timeout, HTTP error, ``status: error``, a matrix where a vector
was expected, no data, NaN or Inf) becomes an *inconclusive* measurement with a reason: never
a value, so it can never pass a bound or fire a trigger. Credentials come from environment
variables named in the config and go only into request headers.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import base64
import json
import math
import os
import urllib.parse
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pytest_deploygate.core.redaction import redact_text, redact_url
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.http import http_get

#: An HTTP status as a request counter's ``code`` label holds it: ``503``, or a class ``5xx``.
_STATUS = "[1-5]([0-9][0-9]|xx)"
#: Requests counted by HTTP status (``code="200"``): what the default error ratio is over.
_BY_STATUS = f'http_requests_total{{{{labels}}code=~"{_STATUS}"}}'
DEFAULT_QUERIES = {
    # Client libraries create a status's series at its first request: a service that never
    # failed has no 5xx series, and 5xx over all was no data (evidence missing) for every
    # healthy service. No 5xx series is 0 errors, but only where requests are counted by
    # status at all (0 * the total): counters labelled otherwise (status=) stay no data,
    # never a ratio of 0.
    "error_ratio": f'(sum(rate(http_requests_total{{{{labels}}code=~"5.."}}[{{window}}])) or '
                   f"0 * sum(rate({_BY_STATUS}[{{window}}]))) / "
                   f"sum(rate({_BY_STATUS}[{{window}}]))",
    "p99_ms": "histogram_quantile(0.99, sum by (le) "
              "(rate(http_request_duration_seconds_bucket{{selector}}[{window}]))) * 1000",
    "up": "min(up{{selector}})",
    # Per target: the oldest sample is the one held to a bound (the freshest target's age
    # said nothing of a target whose last sample is minutes old).
    "sample_age_s": "time() - timestamp(up{{selector}})",
}

#: Series a sound answer of a default query never has: each a PromQL expression that answers
#: nothing when the query's series are sound, with what the series it does answer mean and
#: what to do. Judged where the default query itself is used (an override in the config's
#: ``prometheus.queries`` is the project's own query, read as written).
_UNCLASSIFIED = (
    f'count_over_time(http_requests_total{{{{labels}}code!~"{_STATUS}"}}[{{window}}])',
    "requests counted under a code that is not an HTTP status, or without a code label: "
    "the error ratio would count them as neither errors nor successes",
    "count every request by HTTP status (code=\"503\"), or set prometheus.queries.error_ratio "
    "in deploygate.yaml to a query that reads these labels")
_NEW_FAILURES = (
    'count_over_time(http_requests_total{{labels}code=~"5.."}[{window}]) == 1',
    "a 5xx series with one sample in the rate window: rate() cannot measure it yet, and "
    "without it the ratio would read 0",
    "measure again after the next scrapes")
# A client library creates a status's series at its first failure, and the first scrape may
# already count many (a burst before the scrape, or before a crash): rate() reads only what a
# series adds after its first sample, so a series born in the window with failures counted
# from the start reads as none (a 5xx series that then stays flat measures a ratio of 0).
_BORN_FAILING = (
    'min_over_time(http_requests_total{{labels}code=~"5.."}[{window}]) > 0 '
    'unless http_requests_total{{labels}code=~"5.."} offset {window}',
    "a 5xx series that began during the rate window with failures already counted: rate() "
    "never reads a series' first count, so those failures would read as none",
    "measure again once prometheus.rate_window ({window}) has passed since")


def _departed(series: str, what: str) -> tuple[str, str, str]:
    return (f"count_over_time({series}[{{window}}]) unless {series}",
            f"{what} that stopped answering during the rate window (an instance gone or "
            "restarted): the value would mix their last samples with the current series",
            "measure again once prometheus.rate_window ({window}) has passed since")


def _restarted(series: str, what: str) -> tuple[str, str, str]:
    # A counter that went down is a process that restarted: what it failed before it died
    # (a crash on a failing request) may never have been scraped, and a crash-looping
    # service that never lives to count a failure would read 0.
    return (f"resets({series}[{{window}}]) > 0",
            f"{what} that reset during the rate window (a process restarted or crashed: "
            "requests it served before it died may never have been counted)",
            "measure again once prometheus.rate_window ({window}) has passed without a "
            "restart")


def _stale(series: str, what: str, window: str = "{window}") -> tuple[str, str, str]:
    # Samples exported with timestamps (federation, honor_timestamps) get no staleness
    # marker: a dead target's last sample answers for five minutes. Older than four of the
    # series' own scrape intervals (and 10 s: a late scrape, a federation hop) is no longer
    # being scraped: the interval is the time between its first sample in the window (found
    # by a subquery) and its last, over the samples in between (one sample alone tells no
    # interval: divided by 0, never stale).
    seconds = "{window_s}" if window == "{window}" else "{lookback_s}"
    step = "{step}" if window == "{window}" else "{lookback_step}"
    return (f"{series} and (time() - timestamp({series})) > 4 * (timestamp({series}) - "
            f"clamp_min(min_over_time(timestamp({series})[{window}:{step}]), "
            f"time() - {seconds})) / (count_over_time({series}[{window}]) - 1) + 10",
            f"{what} whose last sample is older than four of its scrape intervals (a target "
            "no longer scraped whose samples carry timestamps, as federated ones do, so "
            "Prometheus never marks them stale)",
            "check that every target is scraped: the value is its last sample, not the present")


_REQUESTS = "http_requests_total{{selector}}"
_BUCKETS = "http_request_duration_seconds_bucket{{selector}}"
GUARDS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "error_ratio": (_UNCLASSIFIED, _departed(_REQUESTS, "http_requests_total series"),
                    _restarted(_REQUESTS, "http_requests_total counters"),
                    _stale(_REQUESTS, "http_requests_total series"), _NEW_FAILURES,
                    _BORN_FAILING),
    "p99_ms": (_departed(_BUCKETS, "histogram series"),
               _restarted(_BUCKETS, "histogram counters"),
               _stale(_BUCKETS, "histogram series")),
    "up": (_stale("up{{selector}}", "up series", "5m"),),
}


@value_class(frozen=True)
class Endpoint:
    """A Prometheus server and how to authenticate (secrets stay in the environment)."""

    base_url: str
    timeout: float = 5.0
    bearer_env: str | None = None
    basic_env: tuple[str, str] | None = None
    ca_file: str | None = None

    @property
    def shown(self) -> str:
        """The base URL as shown in messages and records (redacted)."""
        return self.show()

    def url_for(self, path: str, params: Mapping[str, str] | None = None) -> str:
        """An API URL: ``path`` after the base path; the base URL's own query (an auth
        proxy's token, say) kept before the API parameters."""
        base = urllib.parse.urlsplit(self.base_url)
        query = "&".join(q for q in (base.query, urllib.parse.urlencode(params or {})) if q)
        return urllib.parse.urlunsplit(base._replace(path=base.path.rstrip("/") + path,
                                                     query=query, fragment=""))

    def show(self, path: str = "") -> str:
        """An API URL as shown in messages and records (redacted)."""
        return redact_url(self.url_for(path) if path else self.base_url.rstrip("/"))

    def headers(self) -> dict[str, str] | str:
        """Request headers, or the reason they cannot be built (a missing variable)."""
        headers = {"Accept": "application/json"}
        if self.bearer_env:
            token = os.environ.get(self.bearer_env)
            if not token:
                return f"environment variable {self.bearer_env} (bearer token) is not set"
            headers["Authorization"] = f"Bearer {token}"
        elif self.basic_env:
            user, password = (os.environ.get(name) for name in self.basic_env)
            if user is None or password is None:
                return f"environment variables {' and '.join(self.basic_env)} are not set"
            pair = base64.b64encode(f"{user}:{password}".encode()).decode()
            headers["Authorization"] = f"Basic {pair}"
        return headers


#: A series' labels, sorted: ``(("code", "500"), ("job", "api"))``; a scalar has none.
Labels = tuple[tuple[str, str], ...]


@value_class(frozen=True)
class Measurement:
    """A value, or why there is none."""

    value: float | None
    problem: str | None = None
    series: int = 0
    #: The lowest and highest value over the series (a bound below and above at once holds
    #: every series only when both extremes are within it).
    least: float | None = None
    most: float | None = None
    #: Each series' labels, so that values of different series are never taken for one.
    labels: tuple[Labels, ...] = ()


def show_labels(labels: Labels) -> str:
    """``{code="500",job="api"}`` (``{}`` for none), as PromQL writes a series."""
    return "{" + ",".join(f'{name}={json.dumps(value)}' for name, value in labels) + "}"


def show_series(labels: tuple[Labels, ...], most: int = 3) -> str:
    """Some series' labels for a message: the first ``most``, and how many more."""
    shown = ", ".join(show_labels(one) for one in labels[:most])
    return shown + (f", +{len(labels) - most} more" if len(labels) > most else "")


def endpoint_from(url: str, settings: Mapping[str, Any]) -> Endpoint:
    """An Endpoint from the ``prometheus:`` config section."""
    basic = settings.get("basic_auth")
    return Endpoint(
        base_url=url.rstrip("/"),
        timeout=float(settings.get("timeout", 5)),
        bearer_env=settings.get("bearer_token_env"),
        basic_env=(basic["username_env"], basic["password_env"]) if basic else None,
        ca_file=settings.get("ca_file"),
    )


def render_query(name_or_expr: str, settings: Mapping[str, Any]) -> str:
    """A named query (config override, else default) or a literal expression, filled in."""
    queries: dict[str, str] = {**DEFAULT_QUERIES, **(settings.get("queries") or {})}
    template = queries.get(name_or_expr, name_or_expr)
    job = settings.get("job")
    selector = f'job="{job}"' if job else ""
    return (template.replace("{labels}", f"{selector}," if selector else "")
            .replace("{selector}", selector)
            .replace("{window}", settings.get("rate_window", "5m")))


def guards(name_or_expr: str, settings: Mapping[str, Any]) -> tuple[tuple[str, str, str], ...]:
    """The guards of a named default query (none for an expression, or a name the config's
    ``prometheus.queries`` overrides), filled in: (expression, meaning, what to do)."""
    if name_or_expr in (settings.get("queries") or {}):
        return ()
    from pytest_deploygate.core.timeutil import parse_duration

    window = settings.get("rate_window", "5m")
    filled = []
    for expr, meaning, todo in GUARDS.get(name_or_expr, ()):
        seconds = parse_duration(window)
        expr = (render_query(expr, settings).replace("{window_s}", f"{seconds:g}")
                .replace("{step}", f"{max(1, int(seconds / 60))}s"))
        expr = expr.replace("{lookback_s}", "300").replace("{lookback_step}", "5s")
        filled.append((expr, meaning,
                       todo.replace("{window}", window)))
    return tuple(filled)


def guard_problem(endpoint: Endpoint, name: str,
                  checks: tuple[tuple[str, str, str], ...], at: datetime | None) -> str | None:
    """Why the value of the default query ``name`` is no evidence (the first guard that
    answers a series, or cannot be answered), or None."""
    for expr, meaning, todo in checks:
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at.timestamp():.3f}"
        data = get_json(endpoint, "/api/v1/query", params)
        if isinstance(data, str):
            return f"query {name}: cannot check its series ({expr}): {data}"
        samples = instant_samples(data)
        if isinstance(samples, str):
            return f"query {name}: cannot check its series ({expr}): {samples}"
        if samples:
            labels = tuple(labels for labels, _stamp, _value in samples)
            return f"query {name}: {meaning}: {show_series(labels)}; {todo}"
    return None


def get_json(endpoint: Endpoint, path: str, params: Mapping[str, str]) -> Any | str:
    """GET an API path; the decoded ``data`` of a success, else a reason string."""
    headers = endpoint.headers()
    if isinstance(headers, str):
        return headers
    url = endpoint.url_for(path, params)
    answer = http_get(url, endpoint.timeout, headers, ca_file=endpoint.ca_file)
    where = endpoint.show(path)
    if answer.status is None:
        return f"{where}: {answer.error}"
    try:
        doc = json.loads(answer.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):  # (a hostile answer's "[[[[...")
        doc = None
    if not isinstance(doc, dict):
        return f"{where}: HTTP {answer.status}, not a Prometheus API answer"
    if doc.get("status") != "success":
        error = redact_text(str(doc.get("error") or doc.get("errorType")
                                or "no reason given")[:300])
        return f"{where}: HTTP {answer.status}, query failed: {error}"
    if answer.status != 200:
        return f"{where}: HTTP {answer.status}"
    warnings = doc.get("warnings")
    if warnings:
        # Thanos, Cortex and Mimir answer "success" with a warning when a store did not
        # answer (a partial response): the errors may be in the part that is missing.
        shown = redact_text("; ".join(str(w) for w in warnings) if isinstance(warnings, list)
                            else str(warnings))[:300]
        return f"{where}: the answer carries warnings (a partial or doubtful answer): {shown}"
    return doc.get("data")


def instant(endpoint: Endpoint, expr: str, at: datetime | None, pick: str = "max"
            ) -> Measurement:
    """Evaluate ``expr`` at ``at``; the max (or min) over the returned series."""
    params = {"query": expr}
    if at is not None:
        params["time"] = f"{at.timestamp():.3f}"
    data = get_json(endpoint, "/api/v1/query", params)
    if isinstance(data, str):
        return Measurement(None, data)
    samples = instant_samples(data)
    if isinstance(samples, str):
        return Measurement(None, f"{endpoint.show('/api/v1/query')}: {samples}")
    if not samples:
        return Measurement(None, "no data (empty result): the query matched no series")
    numbers = []
    for _labels, stamp, number in samples:
        if at is not None and abs(stamp - at.timestamp()) > MAX_SAMPLE_SKEW_S:
            return Measurement(None, f"sample time {stamp:.3f} is not the evaluation time "
                                     f"{at.timestamp():.3f} (a stale or replayed answer)")
        numbers.append(number)
    labels = tuple(labels for labels, _stamp, _number in samples)
    return Measurement(max(numbers) if pick == "max" else min(numbers), series=len(numbers),
                       least=min(numbers), most=max(numbers), labels=labels)


#: An instant query's samples carry the evaluation time; an answer for another time is stale.
MAX_SAMPLE_SKEW_S = 300.0


def instant_samples(data: Any) -> list[tuple[Labels, float, float]] | str:
    """(labels, timestamp, value) of each series of an instant query's ``data``, or what is
    wrong with its shape.

    The Prometheus HTTP API answers ``{"resultType": "vector", "result": [{"metric": {...},
    "value": [<unix time>, "<number>"]}, ...]}`` or ``{"resultType": "scalar", "result":
    [<unix time>, "<number>"]}``. Anything else, and any value that is not a finite number, is
    not a measurement. Nor is one label set twice: Prometheus never answers so (a proxy
    merging stores might), and which of the two values is the series is anybody's guess.
    """
    if not isinstance(data, dict):
        return "answer has no data object"
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        pair = _sample_pair(result, "result")
        return pair if isinstance(pair, str) else [((), *pair)]
    if kind != "vector":
        return f"expected an instant vector, got {kind!r}"
    if not isinstance(result, list):
        return f"result is {_brief(result)}, not a list of series"
    out: list[tuple[Labels, float, float]] = []
    seen: set[Labels] = set()
    for index, series in enumerate(result):
        where = f"result[{index}]"
        if not isinstance(series, dict):
            return f"{where} is {_brief(series)}, not a series object"
        metric = series.get("metric", {})
        if not isinstance(metric, dict) or not all(isinstance(value, str)
                                                   for value in metric.values()):
            return f"{where}.metric is {_brief(metric)}, not a label object"
        if "value" not in series:
            return f"{where} has no value" + (" (it has values: a range vector)"
                                               if "values" in series else "")
        pair = _sample_pair(series["value"], f"{where}.value")
        if isinstance(pair, str):
            return pair
        labels: Labels = tuple(sorted(metric.items()))
        if labels in seen:
            return f"{where} repeats the series {show_labels(labels)} (ambiguous answer)"
        seen.add(labels)
        out.append((labels, *pair))
    return out


def _sample_pair(raw: Any, where: str) -> tuple[float, float] | str:
    if not isinstance(raw, list) or len(raw) != 2:
        return f"{where} is {_brief(raw)}, not a [time, \"value\"] pair"
    stamp, value = raw
    if isinstance(stamp, bool) or not isinstance(stamp, int | float) or not math.isfinite(stamp):
        return f"{where} has time {_brief(stamp)}, not a unix time"
    if not isinstance(value, str):
        return f"{where} has value {_brief(value)}, not a number in a string"
    try:
        number = float(value)
    except ValueError:
        return f"{where} has value {_brief(value)}, not a number"
    if not math.isfinite(number):
        return f"value is {value} (no usable data)"
    return float(stamp), number


def _brief(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


@value_class(frozen=True)
class AlertingRules:
    """The alerting rules of a Prometheus, by health."""

    #: Evaluated without error (``health: ok``).
    healthy: tuple[str, ...] = ()
    #: In error: the name and the last error.
    broken: tuple[str, ...] = ()
    #: Never evaluated yet (``health: unknown``, or no health): no evidence either way.
    unevaluated: tuple[str, ...] = ()


def alerting_rules(endpoint: Endpoint) -> AlertingRules | str:
    """The alerting rules by health, or a reason string.

    The answer's shape is checked in full: a malformed group or rule is not silently skipped
    (nor counted as a healthy rule), it makes the answer unusable. A rule Prometheus has not
    evaluated yet (``unknown``) is kept apart: it says nothing about whether it works.
    """
    data = get_json(endpoint, "/api/v1/rules", {"type": "alert"})
    if isinstance(data, str):
        return data
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        return "rules answer has no groups"
    found: dict[str, list[str]] = {"ok": [], "err": [], "unknown": []}
    for index, group in enumerate(groups):
        rules = group.get("rules") if isinstance(group, dict) else None
        if not isinstance(rules, list):
            return f"rules answer: groups[{index}] has no rules list"
        for position, rule in enumerate(rules):
            where = f"rules answer: groups[{index}].rules[{position}]"
            if not isinstance(rule, dict) or not isinstance(rule.get("name"), str) \
                    or not rule["name"]:
                return f"{where} is not a named rule"
            if rule.get("type") not in (None, "alerting", "recording"):
                return f"{where} has type {_brief(rule.get('type'))}"
            if rule.get("type") == "recording":
                continue
            health = rule.get("health", "unknown")
            if health not in found:
                return f"{where} has health {_brief(health)}"
            found[health].append(rule["name"] if health != "err" else
                                 f"{rule['name']} ({str(rule.get('lastError', ''))[:120]})")
    return AlertingRules(tuple(found["ok"]), tuple(found["err"]), tuple(found["unknown"]))
