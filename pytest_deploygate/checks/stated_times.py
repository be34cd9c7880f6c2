"""When a report says its run happened: the time written inside JUnit, SARIF and coverage
reports, for the freshness rules (``not_before: commit``, ``max_age_days``).

A report downloaded from an earlier pipeline run, restored from a cache or copied from an
old build gets a fresh modification time, but still says when it ran: JUnit's
``<testsuite timestamp>``, SARIF's ``invocations[].startTimeUtc``, Cobertura's
``timestamp`` (milliseconds; gcovr writes seconds) and coverage.py's ``meta.timestamp``. The
earliest such time is how old the report is at least. Tools write JUnit and coverage.py
times without a timezone (the runner's local time): such a time is read as the latest
instant it can be (UTC-12), so no honest report is called older than it is. A time that is
stated but cannot be read (not an ISO 8601 string, not a whole number) is returned as a
sentence saying so: the report's age is then unknown, which is evidence missing under a
freshness rule, never "no time stated" (one suite's unreadable time hid the old run of a
report with a fresh one).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

#: The furthest west a local time can be from UTC: a naive time is at most this much later.
_LATEST_OFFSET = timedelta(hours=12)


#: A Cobertura ``timestamp`` below this is in seconds (gcovr), from it on in milliseconds.
_SECONDS_BELOW = 10**11

#: When a report says it ran; a sentence when it says so unreadably; None when it does not say.
Stated = datetime | str | None


def junit_time(data: bytes) -> Stated:
    """The earliest ``timestamp`` of the report's test suites (and of ``<testsuites>``)."""
    root = _xml(data)
    if root is None:
        return None
    return _earliest((f"<{suite.tag} name={suite.get('name')!r}> timestamp", suite.get("timestamp"))
                     for suite in [root, *root.iter("testsuite")]
                     if suite.tag in ("testsuite", "testsuites"))


def sarif_time(data: bytes) -> Stated:
    """The earliest start (else end) time of the log's invocations."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    runs = doc.get("runs") if isinstance(doc, dict) else None
    times = []
    for number, run in enumerate(runs if isinstance(runs, list) else []):
        invocations = run.get("invocations") if isinstance(run, dict) else None
        for index, invocation in enumerate(invocations if isinstance(invocations, list)
                                           else []):
            if isinstance(invocation, dict):
                times += [(f"runs[{number}].invocations[{index}].{name}", invocation.get(name))
                          for name in ("startTimeUtc", "endTimeUtc")]
    return _earliest(times)


def coverage_time(data: bytes) -> Stated:
    """Cobertura's ``timestamp`` (milliseconds since the epoch; gcovr's, seconds) or
    coverage.py's JSON ``meta.timestamp``."""
    if data.lstrip().startswith(b"{"):
        try:
            meta = json.loads(data).get("meta")
        except (ValueError, AttributeError, RecursionError):
            return None
        return _earliest([("meta.timestamp", meta.get("timestamp"))]
                         if isinstance(meta, dict) else [])
    root = _xml(data)
    raw = root.get("timestamp") if root is not None and root.tag == "coverage" else None
    if raw is None or not raw.strip():
        return None
    try:
        number = int(raw)
        # Cobertura and coverage.py write milliseconds, gcovr seconds. Read as milliseconds,
        # a value below 10**11 is before March 1973, when no such report was written; read
        # as seconds, a value above it is after the year 5000: each reading has its range.
        return datetime.fromtimestamp(number / (1 if number < _SECONDS_BELOW else 1000), UTC)
    except (ValueError, OverflowError, OSError):
        return (f"<coverage> timestamp {raw!r} is not a time in seconds or milliseconds since "
                "the epoch")


def _xml(data: bytes) -> Any:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        return SafeET.fromstring(data)
    except (DefusedXmlException, SafeET.ParseError):
        return None


def _earliest(values: Iterable[tuple[str, Any]]) -> Stated:
    """The earliest of the (where, value) times; the first unreadable one's sentence."""
    times = []
    for where, value in values:
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # not stated
        try:
            if not isinstance(value, str):
                raise ValueError
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return f"{where} {json.dumps(value)} is not an ISO 8601 date-time"
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC) + _LATEST_OFFSET
        times.append(moment)
    return min(times) if times else None
