"""What one gate run owns: its size limits and the files it has already read.

Created per run and handed down (GateRun -> Project -> readers), so nothing read or set by
one run is seen by the next run in the same process: a pytester ``runpytest`` after another,
an IDE that keeps the interpreter. Caches here are keyed by file version (path, mtime, size)
to share one read between the criteria and projects of a run; they die with the run, so a
file rewritten in place between runs is read again even when its size and mtime are the same.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import threading
from typing import Any

from pytest_deploygate.core.limits import DEFAULT_LIMITS, Limits


class RunScope:
    """The limits and the caches of one run."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS) -> None:
        self.limits = limits
        self._caches: dict[str, dict[Any, Any]] = {}
        self._lock = threading.Lock()

    def cache(self, name: str) -> dict[Any, Any]:
        """The run's cache called ``name`` (created empty on first use)."""
        with self._lock:
            return self._caches.setdefault(name, {})

    def __repr__(self) -> str:
        return f"RunScope({self.limits!r}, caches={sorted(self._caches)})"
