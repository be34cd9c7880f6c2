"""``http``: GET endpoints and expect a status, with timeout, retries and backoff.

Parameters: ``url`` / ``urls`` or ``urls_from`` (``health_urls`` or ``integration_urls`` of the
config; ``health_urls`` also takes every ``--gate-health-url``); ``expect`` (statuses, default
any 2xx); ``timeout`` (default 5s); ``retries`` (default 2) with ``backoff`` (default 0.5s,
doubling); ``verify_tls`` (default true) and ``ca_file`` (relative to the project root, see
ca_files). Redirects are not followed.

With ``consecutive_failures: N`` the check is a trigger ("health checks failing repeatedly"):
each URL is probed ``probes`` times (default 2N, never fewer than N) ``interval`` apart
(default 1s), and the trigger fires when N probes in a row fail. A timeout or refused
connection is a failed probe: an endpoint that does not answer is not healthy.

A URL's ``user:password@`` is sent as Basic authentication; URLs are shown redacted (no
userinfo, no query values), see :mod:`pytest_deploygate.core.redaction`.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from pytest_deploygate.checks.ca_files import ca_file_path
from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.core.redaction import redact_url
from pytest_deploygate.core.results import CheckResult, Evidence
from pytest_deploygate.core.timeutil import parse_duration
from pytest_deploygate.evidence.http import HttpAnswer, http_get


def _urls(params: Mapping[str, Any], ctx: EvalContext) -> list[str] | CheckResult:
    if "url" in params:
        return [params["url"]]
    if "urls" in params:
        return list(params["urls"])
    source = params.get("urls_from", "health_urls")
    project = ctx.project
    urls = list(project.health_urls if source == "health_urls"
                else project.config.integration_urls)
    if not urls:
        hint = " or pass --gate-health-url=URL" if source == "health_urls" else ""
        return CheckResult.missing(f"no {source} configured: add {source}: [...] to "
                                   f"{project.config.display_name}{hint}")
    return urls


def _accepts(status: int | None, expect: list[int] | None) -> bool:
    if status is None:
        return False
    return status in expect if expect else 200 <= status < 300


def _describe(answer: HttpAnswer) -> str:
    if answer.status is None:
        return answer.error or "no answer"
    return f"HTTP {answer.status}" + (f", {answer.error}" if answer.error else "")


def _probe_with_retries(url: str, params: Mapping[str, Any]) -> tuple[HttpAnswer, int]:
    timeout = parse_duration(params.get("timeout", 5))
    retries = int(params.get("retries", 2))
    backoff = parse_duration(params.get("backoff", 0.5))
    expect = params.get("expect")
    verify = params.get("verify_tls", True)
    attempts = 0
    while True:
        attempts += 1
        answer = http_get(url, timeout, verify_tls=verify, ca_file=params.get("ca_file"))
        if _accepts(answer.status, expect) or attempts > retries:
            return answer, attempts
        time.sleep(backoff * (2 ** (attempts - 1)))


def _probe_series(url: str, params: Mapping[str, Any], watch: float) -> list[HttpAnswer]:
    needed = int(params["consecutive_failures"])
    interval = parse_duration(params.get("interval", 1))
    # Never fewer probes than failures in a row that fire it: a trigger that could never
    # fire would pass an endpoint down at every probe.
    probes = max(int(params.get("probes", 2 * needed)), needed)
    if watch and interval > 0:
        probes = max(probes, math.ceil(watch / interval))
    timeout = parse_duration(params.get("timeout", 5))
    expect = params.get("expect")
    answers: list[HttpAnswer] = []
    run = 0
    start = time.monotonic()
    for index in range(probes):
        delay = start + index * interval - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        answer = http_get(url, timeout, verify_tls=params.get("verify_tls", True),
                          ca_file=params.get("ca_file"))
        answers.append(answer)
        run = 0 if _accepts(answer.status, expect) else run + 1
        if run >= needed:
            break
    return answers


def _key(url: str, params: Mapping[str, Any], watch: float) -> tuple[Any, ...]:
    relevant = tuple(sorted((k, str(v)) for k, v in params.items()
                            if k not in ("kind", "url", "urls", "urls_from")))
    return ("http", url, relevant, watch)


#: One URL's probing: the URL, its key in the run's network results, and the work (a series of
#: answers for a trigger, else the last answer and how many attempts it took).
_Job = tuple[str, Hashable, Callable[[], list[HttpAnswer] | tuple[HttpAnswer, int]]]


def _jobs(params: Mapping[str, Any], ctx: EvalContext) -> list[_Job] | CheckResult:
    urls = _urls(params, ctx)
    if isinstance(urls, CheckResult):
        return urls
    ca_file = ca_file_path(params.get("ca_file"), ctx)
    if isinstance(ca_file, CheckResult):
        return ca_file
    if ca_file is not None:  # (the project's file, wherever pytest runs)
        params = {**params, "ca_file": ca_file}
    series = "consecutive_failures" in params
    watch = ctx.project.watch_seconds if series and ctx.criterion.role == "trigger" else 0.0
    jobs: list[_Job] = []
    for url in urls:
        if series:
            jobs.append((url, _key(url, params, watch),
                         functools.partial(_probe_series, url, params, watch)))
        else:
            jobs.append((url, _key(url, params, 0.0),
                         functools.partial(_probe_with_retries, url, params)))
    return jobs


def prefetch(params: Mapping[str, Any], ctx: EvalContext) -> None:
    """Start every URL's probes in the background."""
    jobs = _jobs(params, ctx)
    if not isinstance(jobs, CheckResult):
        for _, key, work in jobs:
            ctx.project.network.submit(key, work)


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Met when every URL answers as expected (or, for a trigger, never fails N in a row)."""
    jobs = _jobs(params, ctx)
    if isinstance(jobs, CheckResult):
        return jobs
    evidence = []
    bad: list[str] = []
    good: list[str] = []
    for url, key, work in jobs:
        result = ctx.project.wait_for(key, work)
        url = redact_url(url)  # what is shown from here on
        if "consecutive_failures" in params:
            needed = int(params["consecutive_failures"])
            failed = [a for a in result if not _accepts(a.status, params.get("expect"))]
            fired = _longest_run(result, params.get("expect")) >= needed
            evidence.append(Evidence("url", url, detail=f"probes={len(result)} "
                                                        f"failed={len(failed)}"))
            line = f"{url}: {len(failed)} of {len(result)} probes failed " + (
                f"({_describe(failed[-1])})" if failed else "")
            (bad if fired else good).append(line.strip())
            continue
        answer, attempts = result
        evidence.append(Evidence("url", url, detail=f"{_describe(answer)} after {attempts} "
                                                    f"attempt(s), {answer.elapsed:.3f}s"))
        if _accepts(answer.status, params.get("expect")):
            good.append(f"{url}: HTTP {answer.status}")
        else:
            bad.append(f"{url}: {_describe(answer)} after {attempts} attempt(s)")
    if "consecutive_failures" in params and bad:
        return CheckResult.not_met(f"failing {params['consecutive_failures']} times in a row: "
                                   + "; ".join(bad), *evidence)
    if bad:
        return CheckResult.not_met("; ".join(bad), *evidence)
    return CheckResult.met("; ".join(good), *evidence)


def _longest_run(answers: list[HttpAnswer], expect: list[int] | None) -> int:
    longest = run = 0
    for answer in answers:
        run = 0 if _accepts(answer.status, expect) else run + 1
        longest = max(longest, run)
    return longest


KIND = builtin_kind("http", evaluate, prefetch)
