"""``metrics_file``: error ratio, p99 and freshness from a captured metrics exposition.

For teams without a Prometheus reachable from CI: the service's ``/metrics`` text (Prometheus
or OpenMetrics format), captured after the smoke run and kept as an artifact, read by the
format's grammar (:mod:`pytest_deploygate.evidence.exposition`). Parameters: ``metric``
(``error_ratio``: 5xx over all of ``http_requests_total``, cumulative since the process
started; ``p99_ms``: from ``http_request_duration_seconds_bucket`` the way
``histogram_quantile`` computes it; ``sample_age_s``: age of the capture at the evaluation
time, from the file time and the samples' own timestamps, whichever is older; ``series``:
usable samples in the file), ``min`` / ``max``, and the file parameters (``paths``, default
``metrics_file`` of the config; ``not_before``; ``max_age_days``, default 1 day).

Impossible or unusable evidence is missing evidence, never 0: a counter that is NaN, infinite
or negative, a series twice (a label with an empty value is no label), histogram buckets that
are not cumulative or give one bound twice (``le="0.1"``, ``le="0.10"``), ``http_requests_total``
series without a ``code`` label (``status=`` instead) or with a code that is not an HTTP status
(``5xx`` is one), counts that add up past a float's range, no requests at all, a capture older
than ``max_age_days`` by file time or by any sample's timestamp, or a sample timestamped after
the evaluation clock (``--gate-now``). A committed capture is this deploy's only when it is
committed as bookkeeping after the release commit, with content that did not exist before it
(the last deploy's capture, or one moved from before the release, is refused).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import CAPTURED_METRICS, builtin_kind
from pytest_deploygate.checks.evidence_files import (
    EvidenceFile,
    committed_of,
    content_time,
    gather,
)
from pytest_deploygate.core.measurements import single
from pytest_deploygate.core.results import CheckResult, Status
from pytest_deploygate.core.timeutil import format_instant
from pytest_deploygate.core.value_class import value_class
from pytest_deploygate.evidence.committed import future_problem
from pytest_deploygate.evidence.exposition import (
    ExpositionError,
    parse_exposition,
    read_number,
)
from pytest_deploygate.evidence.release import Git

#: The metrics a capture answers (the schema's ``metric`` enum, declared in checks/declared.py).
METRICS = CAPTURED_METRICS


#: Captured metrics older than this (file time or any sample's own timestamp) are stale:
#: evidence missing. A capture is taken after the smoke run of this deploy, not last week.
#: Override per check with ``max_age_days``.
DEFAULT_MAX_AGE_DAYS = 1.0
#: Sample timestamps later than the evaluation clock by more than this are impossible.
FUTURE_SKEW = timedelta(minutes=5)
#: Names that are counters by convention (and by the text format's histogram rules): their
#: samples must be finite and non-negative.
_COUNTER_SUFFIXES = ("_total", "_bucket", "_count", "_created")
#: An HTTP status as exporters label it: "503", or a class such as "5xx". ASCII digits only: a
#: fullwidth or Arabic-Indic "503" reads as an error and would count as a success.
_STATUS_CODE = re.compile(r"[1-5](?:[0-9]{2}|xx)")


@value_class(frozen=True)
class Capture:
    """The samples of a capture and the oldest and newest sample timestamp, if any."""

    samples: tuple[tuple[str, tuple[tuple[str, str], ...], float], ...]
    oldest: datetime | None
    newest: datetime | None


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Compute the metric from the file and compare it with the bounds."""
    file_params = {k: v for k, v in params.items() if k != "max_age_days"}
    if not params.get("paths") and not params.get("report"):
        configured = ctx.project.config.metrics_file
        if not configured:
            return CheckResult.missing("no metrics file: set metrics_file in "
                                       f"{ctx.project.config.display_name} or give paths")
        file_params["paths"] = [configured]
    found = gather(file_params, ctx)
    if isinstance(found, CheckResult):
        return found
    # Every capture the paths match is judged, the worst counts: reading only one (say the
    # last by name) would let a clean file committed beside the real capture stand in for it.
    committed = committed_of(found.files, ctx)
    if isinstance(committed, str):
        return CheckResult.missing(f"inconclusive: {committed}, so the capture's age is unknown",
                                   *found.evidence)
    for capture in found.files:
        tracked = committed.get(capture.relative)
        impossible = future_problem(capture.relative, capture.modified, tracked,
                                    ctx.project.now)
        if impossible:
            return CheckResult.missing(f"inconclusive: {impossible}", *found.evidence)
        # A capture committed with the release existed before the release commit, so before
        # the release was deployed: it is no capture of this deploy, however recent its commit
        # (its committer's time). One committed as bookkeeping after the deploy (under
        # .isdlc/) is dated by its commit below.
        if tracked is not None and tracked.release_content:
            return CheckResult.missing(
                f"inconclusive: {capture.relative} is committed release content (last changed "
                f"in {tracked.commit[:12]}), taken before this release was deployed: capture "
                "the metrics in CI after the smoke run and keep the file untracked",
                *found.evidence)
        if tracked is not None:
            before = _committed_before_release(tracked.commit, capture.relative, ctx)
            if before:
                return CheckResult.missing(
                    f"inconclusive: {capture.relative} was last changed in "
                    f"{tracked.commit[:12]}, {before}: it is an earlier deploy's capture, not "
                    "this release's; capture the metrics after this release's deploy",
                    *found.evidence)
    # A committed capture is as old as its commit, not as the checkout that wrote it.
    captures = [EvidenceFile(capture.relative, capture.data,
                             content_time(capture, committed.get(capture.relative)),
                             capture.evidence) for capture in found.files]
    results = [_judge(params, ctx, capture, found.evidence) for capture in captures]
    for status in (Status.MISSING, Status.NOT_MET):
        worst = next((result for result in results if result.status == status), None)
        if worst is not None:
            return worst
    return results[-1]


def _committed_before_release(commit: str, relative: str, ctx: EvalContext) -> str | None:
    """Why the commit that last changed a committed capture is not one made after the release
    commit (None when it is a descendant of it). Its committer time is its committer's
    claim; the history is not: a capture committed before (or with) the release commit, as
    the last deploy's committed under .isdlc/ before the next release, existed before this
    release was deployed."""
    release = ctx.project.commit
    if release is None:
        return "and there is no release commit to compare it with"
    if commit == release:
        return f"the release commit {release[:12]} itself, so before the release was deployed"
    git = Git(ctx.project.root)
    code, _ = git("merge-base", "--is-ancestor", release, commit)
    if code != 0:
        return (f"a commit that does not come after the release commit {release[:12]} (made "
                "before the release was deployed)")
    # Moved (or copied) after the release from where it was committed before it: the same
    # content existed before the release commit, under another name.
    code, blob = git("rev-parse", "--verify", "-q", f"HEAD:./{relative}")
    if code != 0 or not blob.strip():
        return "and git cannot name its content at HEAD"
    code, earlier = git("log", "-1", "--format=%H", f"--find-object={blob.strip()}", release)
    if code != 0:
        return "and git cannot tell whether its content existed before the release commit"
    if earlier.strip():
        return (f"whose content existed before the release commit {release[:12]} (in "
                f"{earlier.strip()[:12]}), so before the release was deployed")
    return None


def _judge(params: Mapping[str, Any], ctx: EvalContext, capture: EvidenceFile,
           evidence: tuple[Any, ...]) -> CheckResult:
    """One capture against the bounds."""
    parsed = _parse(capture.data)
    if isinstance(parsed, str):
        return CheckResult.missing(f"inconclusive: {capture.relative}: {parsed}", *evidence)
    stale = _stale(params, capture, parsed, ctx)
    if stale:
        return CheckResult.missing(f"inconclusive: {capture.relative}: {stale}", *evidence)
    value = _metric(params["metric"], capture, parsed, ctx)
    if not isinstance(value, str) and not math.isfinite(value):
        # NaN breaches no bound (every comparison is false): it would be met.
        value = f"{params['metric']} is {value} (counts past a float's range?)"
    if isinstance(value, str):
        return CheckResult.missing(f"inconclusive: {capture.relative}: {value}", *evidence)
    low = ctx.number(params["min"]) if "min" in params else None
    high = ctx.number(params["max"]) if "max" in params else None
    bounds = " and ".join(
        ([f">= {ctx.describe_number(params['min'])}"] if low is not None else [])
        + ([f"<= {ctx.describe_number(params['max'])}"] if high is not None else []))
    shown = f"{params['metric']} = {value:.6g} in {capture.relative}"
    measured = single(f"{params['metric']} ({capture.relative})", value, low, high)
    if (low is not None and value < low) or (high is not None and value > high):
        return CheckResult.not_met(f"{shown}, breaching {bounds}",
                                   *evidence).measured(measured)
    return CheckResult.met(f"{shown}, within {bounds}", *evidence).measured(measured)


def _stale(params: Mapping[str, Any], capture: EvidenceFile, parsed: Capture,
           ctx: EvalContext) -> str | None:
    """Why the capture cannot describe the release being evaluated now, if it cannot."""
    now = ctx.project.now
    if parsed.newest is not None and parsed.newest > now + FUTURE_SKEW:
        return (f"a sample is timestamped {format_instant(parsed.newest)}, after the evaluation "
                f"time {format_instant(now)}")
    if "max_age_days" in params:
        limit = ctx.number(params["max_age_days"])
    elif params["metric"] == "sample_age_s":
        return None  # the criterion's own bound is the freshness rule
    else:
        limit = DEFAULT_MAX_AGE_DAYS
    oldest = min([capture.modified] + ([parsed.oldest] if parsed.oldest else []))
    age_days = (now - oldest).total_seconds() / 86400
    if age_days > limit:
        what = "a sample is timestamped" if oldest != capture.modified else "the file was modified"
        return (f"stale capture: {what} {format_instant(oldest)}, {age_days:.1f} days before "
                f"the evaluation time, over the maximum age of {limit:g} days (max_age_days)")
    return None


def _metric(name: str, capture: EvidenceFile, parsed: Capture, ctx: EvalContext
            ) -> float | str:
    samples = parsed.samples
    if name == "sample_age_s":
        oldest = min([capture.modified] + ([parsed.oldest] if parsed.oldest else []))
        age = (ctx.project.now - oldest).total_seconds()
        return max(age, 0.0)
    if name == "series":
        return float(len(samples))
    if name == "error_ratio":
        return _error_ratio(samples)
    return _p99_ms(samples)


def _error_ratio(samples: Sequence[tuple[str, tuple[tuple[str, str], ...], float]]
                 ) -> float | str:
    requests = [(dict(labels), value) for sample_name, labels, value in samples
                if sample_name == "http_requests_total"]
    if not requests:
        return "no http_requests_total samples"
    unlabelled = [labels for labels, _ in requests if "code" not in labels]
    if unlabelled:
        # An error ratio needs every request classified: a series without ``code`` (say,
        # ``status=`` instead) would silently count as "no errors".
        seen = sorted({name for labels in unlabelled for name in labels}) or ["none"]
        return (f"{len(unlabelled)} http_requests_total series have no 'code' label (labels: "
                f"{', '.join(seen)}); cannot tell errors from successes")
    unclassified = sorted({labels["code"] for labels, _ in requests
                           if not _STATUS_CODE.fullmatch(labels["code"])})
    if unclassified:
        return (f"http_requests_total has code labels that are not HTTP statuses "
                f"({', '.join(map(repr, unclassified))}); cannot tell errors from successes")
    total = sum(value for _, value in requests)
    if not math.isfinite(total):
        return "http_requests_total adds up past a float's range"
    if total <= 0:
        return "http_requests_total counts no requests"
    errors = sum(value for labels, value in requests if labels["code"].startswith("5"))
    return errors / total


def _p99_ms(samples: Sequence[tuple[str, tuple[tuple[str, str], ...], float]]) -> float | str:
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = defaultdict(list)
    for sample_name, labels, value in samples:
        if sample_name != "http_request_duration_seconds_bucket":
            continue
        named = dict(labels)
        if "le" not in named:
            return "an http_request_duration_seconds_bucket sample has no 'le' label"
        upper = read_number(named["le"])
        if upper is None:
            return f"le={named['le']!r} is not a number"
        if math.isnan(upper):
            return "le=NaN is not a bucket bound"
        series[tuple((k, v) for k, v in labels if k != "le")].append((upper, value))
    buckets: dict[float, float] = defaultdict(float)
    for labels, counts in series.items():
        ordered = sorted(counts)
        twice = next((earlier[0] for earlier, later in itertools.pairwise(ordered)
                      if earlier[0] == later[0]), None)
        if twice is not None:
            # le="0.1" and le="0.10" are two series but one bucket: added up, they would
            # move requests below the bound.
            return (f"histogram {_series('http_request_duration_seconds_bucket', labels)} has "
                    f"two buckets with the bound le={twice:g}")
        if any(later[1] < earlier[1] for earlier, later in itertools.pairwise(ordered)):
            return (f"histogram {_series('http_request_duration_seconds_bucket', labels)} is "
                    "not cumulative (a count falls as le grows): impossible")
        for upper, value in ordered:
            buckets[upper] += value
    quantile = histogram_quantile(0.99, buckets)
    if quantile is None:
        return "no usable http_request_duration_seconds_bucket histogram"
    return quantile * 1000


@functools.lru_cache(maxsize=32)
def _parse(data: bytes) -> Capture | str:
    # Several criteria read the same capture: it is parsed once.
    samples = []
    stamps = []
    seen: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    try:
        exposed = parse_exposition(data.decode("utf-8"))
    except (UnicodeDecodeError, ExpositionError) as exc:
        return f"not a Prometheus text exposition: {exc}"
    for sample in exposed:
        # A label with an empty value is no label (Prometheus's data model): {code="200",
        # pod=""} is {code="200"} again, and code="" is no code.
        labels = tuple(sorted((name, value) for name, value in sample.labels if value))
        key = (sample.name, labels)
        if key in seen:
            return f"series {_series(sample.name, labels)} appears twice"
        seen.add(key)
        value = float(sample.value)
        # A histogram's _sum may be negative (negative observations): only its buckets and
        # count are counters, which the suffixes cover.
        counter = sample.family_type == "counter" or sample.name.endswith(_COUNTER_SUFFIXES)
        if counter and not (math.isfinite(value) and value >= 0):
            return (f"counter {_series(sample.name, labels)} is {sample.value}: a "
                    "counter is a finite, non-negative number")
        if not math.isfinite(value):
            continue  # a gauge or quantile without data: not a sample we can use
        if sample.timestamp is not None:
            stamp = sample.timestamp
            if not math.isfinite(stamp) or abs(stamp) > _MAX_TIMESTAMP:
                return f"series {_series(sample.name, labels)} has timestamp {stamp}"
            stamps.append(stamp)
        samples.append((sample.name, labels, value))
    if not samples:
        return "no samples"
    return Capture(tuple(samples),
                   datetime.fromtimestamp(min(stamps), UTC) if stamps else None,
                   datetime.fromtimestamp(max(stamps), UTC) if stamps else None)


#: Year 9999 in seconds: a larger timestamp is not a time.
_MAX_TIMESTAMP = 253402300799.0


def _series(name: str, labels: tuple[tuple[str, str], ...]) -> str:
    inner = ",".join(f'{k}="{v}"' for k, v in labels)
    return f"{name}{{{inner}}}" if inner else name


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


KIND = builtin_kind("metrics_file", evaluate)
