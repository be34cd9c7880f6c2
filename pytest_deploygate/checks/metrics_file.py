"""``metrics_file``: error ratio, p99 and freshness from a captured metrics exposition.

For teams without a Prometheus reachable from CI: the service's ``/metrics`` text (Prometheus
or OpenMetrics format), captured after the smoke run and kept as an artifact, parsed with
prometheus_client's parser. Parameters: ``metric`` (``error_ratio``: 5xx over all of
``http_requests_total``, cumulative since the process started; ``p99_ms``: from
``http_request_duration_seconds_bucket`` the way ``histogram_quantile`` computes it;
``sample_age_s``: age of the file at the evaluation time; ``series``: samples in the file),
``min`` / ``max``, and the file parameters (``paths``, default ``metrics_file`` of the config;
``not_before``; ``max_age_days``).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import math
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.base import (
    NUMBER_OR_THRESHOLD,
    CheckKind,
    CheckResult,
    params_schema,
)
from pytest_deploygate.evaluation import EvalContext
from pytest_deploygate.evidence_files import FILE_PARAMS, EvidenceFile, gather
from pytest_deploygate.measurements import single

METRICS = ("error_ratio", "p99_ms", "sample_age_s", "series")


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Compute the metric from the file and compare it with the bounds."""
    file_params = dict(params)
    if not params.get("paths") and not params.get("report"):
        configured = ctx.project.config.metrics_file
        if not configured:
            return CheckResult.missing("no metrics file: set metrics_file in "
                                       f"{ctx.project.config.display_name} or give paths")
        file_params["paths"] = [configured]
    found = gather(file_params, ctx)
    if isinstance(found, CheckResult):
        return found
    capture = found.files[-1]
    value = _metric(params["metric"], capture, ctx)
    if isinstance(value, str):
        return CheckResult.missing(f"inconclusive: {capture.relative}: {value}", *found.evidence)
    low = ctx.number(params["min"]) if "min" in params else None
    high = ctx.number(params["max"]) if "max" in params else None
    bounds = " and ".join(
        ([f">= {ctx.describe_number(params['min'])}"] if low is not None else [])
        + ([f"<= {ctx.describe_number(params['max'])}"] if high is not None else []))
    shown = f"{params['metric']} = {value:.6g} in {capture.relative}"
    measured = single(f"{params['metric']} ({capture.relative})", value, low, high)
    if (low is not None and value < low) or (high is not None and value > high):
        return CheckResult.not_met(f"{shown}, breaching {bounds}",
                                   *found.evidence).measured(measured)
    return CheckResult.met(f"{shown}, within {bounds}", *found.evidence).measured(measured)


def _metric(name: str, capture: EvidenceFile, ctx: EvalContext) -> float | str:
    if name == "sample_age_s":
        return max((ctx.project.now - capture.modified).total_seconds(), 0.0)
    samples = _samples(capture)
    if isinstance(samples, str):
        return samples
    if name == "series":
        return float(len(samples))
    if name == "error_ratio":
        total = errors = 0.0
        for sample_name, labels, value in samples:
            if sample_name == "http_requests_total":
                total += value
                if str(labels.get("code", "")).startswith("5"):
                    errors += value
        if total <= 0:
            return "no http_requests_total samples with a count"
        return errors / total
    buckets: dict[float, float] = defaultdict(float)
    for sample_name, labels, value in samples:
        if sample_name == "http_request_duration_seconds_bucket" and "le" in labels:
            buckets[float(labels["le"])] += value
    quantile = histogram_quantile(0.99, buckets)
    if quantile is None:
        return "no usable http_request_duration_seconds_bucket histogram"
    return quantile * 1000


def _samples(capture: EvidenceFile) -> list[tuple[str, dict[str, str], float]] | str:
    return _parse(capture.data)


@functools.lru_cache(maxsize=32)
def _parse(data: bytes) -> list[tuple[str, dict[str, str], float]] | str:
    # Several criteria read the same capture: it is parsed once.
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = data.decode("utf-8")
        out = []
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                value = float(sample.value)
                if math.isnan(value):
                    continue
                out.append((sample.name, dict(sample.labels), value))
    except (UnicodeDecodeError, ValueError, TypeError, IndexError, KeyError) as exc:
        return f"not a Prometheus text exposition: {exc}"
    if not out:
        return "no samples"
    return out


def histogram_quantile(q: float, buckets: Mapping[float, float]) -> float | None:
    """Prometheus's histogram_quantile over cumulative bucket counts keyed by ``le``."""
    ordered = sorted(buckets.items())
    if len(ordered) < 2 or not math.isinf(ordered[-1][0]):
        return None
    total = ordered[-1][1]
    if total <= 0:
        return None
    rank = q * total
    index = next(i for i, (_, count) in enumerate(ordered) if count >= rank)
    if index == len(ordered) - 1:
        return ordered[-2][0]
    upper, count = ordered[index]
    if index == 0 and upper <= 0:
        return upper
    lower, below = (0.0, 0.0) if index == 0 else ordered[index - 1]
    in_bucket = count - below
    if in_bucket <= 0:
        return upper
    return lower + (upper - lower) * ((rank - below) / in_bucket)


KIND = CheckKind(
    name="metrics_file",
    reads="a captured Prometheus/OpenMetrics text exposition",
    params_schema=params_schema({
        **FILE_PARAMS,
        "metric": {"enum": list(METRICS)},
        "min": NUMBER_OR_THRESHOLD,
        "max": NUMBER_OR_THRESHOLD,
    }, required=["metric"], anyOf=[{"required": ["min"]}, {"required": ["max"]}]),
    evaluate=evaluate,
)
