"""Network evidence: one bounded thread pool per gate run, each distinct request made once.

Checks ask for a result by key; the first asker starts the request, later askers (and the
items that are run later) wait on the same future. Before the items run, the gate run asks
for every item's network evidence, so a gate with twenty endpoints costs about one round
trip rather than twenty.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

MAX_WORKERS = 64


class NetworkPool:
    """Memoised, concurrent evaluation of network requests."""

    def __init__(self, max_workers: int = MAX_WORKERS) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._max_workers = max_workers
        self._futures: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()

    def submit(self, key: Hashable, work: Callable[[], Any]) -> Future[Any]:
        """The future of ``work`` for ``key``, started on first request."""
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                if self._executor is None:
                    # Imported here: a gate without network evidence never needs the pool.
                    from concurrent.futures import ThreadPoolExecutor

                    self._executor = ThreadPoolExecutor(self._max_workers,
                                                        thread_name_prefix="deploygate-net")
                future = self._futures[key] = self._executor.submit(work)
            return future

    def get(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """The result of ``work`` for ``key`` (waits; exceptions propagate)."""
        return self.submit(key, work).result()

    def shutdown(self) -> None:
        """Stop the pool; requests still running are left to finish on their timeouts."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
