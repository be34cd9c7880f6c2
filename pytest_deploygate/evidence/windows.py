"""Observation windows: a measurement repeated over time, judged like an Argo Rollouts analysis.

``count`` measurements ``interval`` apart; the condition is breached when more than
``failure_limit`` of them breach the bound (the window stops early the moment that happens),
and the result is inconclusive when more than ``inconclusive_limit`` could not be taken (or
none could). A
watch (``--gate-watch``) extends the count to cover its duration.

The ``window`` parameter's schema is declared with the check kinds' (checks/declared.py).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from pytest_deploygate.core.timeutil import parse_duration
from pytest_deploygate.core.value_class import replace, value_class


@value_class(frozen=True)
class Sample:
    """One measurement: breached or not, or inconclusive (``problem`` set)."""

    breached: bool
    shown: str
    problem: str | None = None
    #: The number measured (None when inconclusive) and seconds since the window started,
    #: for charts.
    value: float | None = None
    at: float = 0.0


@value_class(frozen=True)
class WindowResult:
    """The samples of a window and how they are judged."""

    samples: tuple[Sample, ...]
    planned: int
    failure_limit: int
    inconclusive_limit: int
    stopped: bool = False  # another trigger fired during a watch: this one stopped early

    @property
    def failures(self) -> int:
        """Measurements that breached the bound."""
        return sum(1 for s in self.samples if s.problem is None and s.breached)

    @property
    def inconclusive(self) -> int:
        """Measurements that could not be taken."""
        return sum(1 for s in self.samples if s.problem is not None)

    @property
    def fired(self) -> bool:
        """More breaches than the failure limit; every measurement breaching is always more
        (a limit as high as the count would pass a window that breached throughout)."""
        return self.failures > min(self.failure_limit, self.planned - 1)

    @property
    def too_inconclusive(self) -> bool:
        """More unusable measurements than allowed, or not one usable: a window that
        measured nothing (every sample inconclusive, within a limit as high as the count)
        says nothing about the bound."""
        return self.inconclusive > self.inconclusive_limit or (
            bool(self.samples) and self.inconclusive == len(self.samples))

    def describe(self) -> str:
        """``3 of 10 measurements breached (limit 2): 0.07, 0.08, ...``."""
        values = ", ".join(s.shown for s in self.samples[:12])
        more = ", ..." if len(self.samples) > 12 else ""
        taken = len(self.samples)
        early = f" (stopped early after {taken} of {self.planned})" if taken < self.planned \
            and self.fired else ""
        return (f"{self.failures} of {taken} measurements breached (failure limit "
                f"{self.failure_limit}), {self.inconclusive} inconclusive (limit "
                f"{self.inconclusive_limit}){early}: {values}{more}")


def observe(window: Mapping[str, Any], measure: Callable[[float], Sample],
            watch_seconds: float = 0.0,
            progress: Callable[[str], None] | None = None,
            stop: threading.Event | None = None) -> WindowResult:
    """Take the window's measurements; ``measure`` gets the measurement's planned offset in
    seconds from the start (``index * interval``), the instant it is to measure.

    During a watch, the first trigger that fires sets ``stop``: the decision is ROLLBACK from
    that moment, and the other windows end instead of watching on.
    """
    interval = parse_duration(window["interval"])
    count = int(window["count"])
    if watch_seconds and interval > 0:
        count = max(count, math.ceil(watch_seconds / interval))
    failure_limit = int(window.get("failure_limit", 0))
    inconclusive_limit = int(window.get("inconclusive_limit", 0))
    start = time.monotonic()
    samples: list[Sample] = []
    for index in range(count):
        due = start + index * interval
        delay = due - time.monotonic()
        if delay > 0 and _stopped_while_waiting(stop, delay):
            return WindowResult(tuple(samples), count, failure_limit, inconclusive_limit,
                                stopped=True)
        # Measured at its planned offset, not at the moment it is taken: a measurement
        # delayed by a slow answer (or a loaded machine) still covers its own instant, so the
        # window's instants are evenly spaced and none is skipped or seen twice. (With no
        # interval, as fast as answers come: each at the moment it is taken.)
        planned = index * interval if interval > 0 else time.monotonic() - start
        sample = measure(planned)
        samples.append(sample if sample.at else replace(sample, at=planned))
        result = WindowResult(tuple(samples), count, failure_limit, inconclusive_limit)
        if progress is not None:
            progress(f"{index + 1}/{count}: {samples[-1].problem or samples[-1].shown}")
        if result.fired:
            if stop is not None:
                stop.set()
            return result
    return WindowResult(tuple(samples), count, failure_limit, inconclusive_limit)


def _stopped_while_waiting(stop: threading.Event | None, seconds: float) -> bool:
    """Wait ``seconds``; True when ``stop`` was set meanwhile (never, without one)."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)
