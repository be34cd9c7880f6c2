"""The services a gated project's evidence is read through, owned by one gate run.

:class:`~pytest_deploygate.checks.project.Project` is what the project *is* (root, state,
config, clock, release); these are what *reads* for it: git in the project root, the network
pool, the queue of progress lines from background measurements, the run's limits and caches,
and the sign-off and waiver stores (read on first use, shared between the projects of a
monorepo that read the same files).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.evidence.network import NetworkPool
from pytest_deploygate.evidence.release import Git

if TYPE_CHECKING:
    from pytest_deploygate.trust.signoffs import AttestationStore
    from pytest_deploygate.trust.waivers import WaiverStore


class GitRunner:
    """git in one directory: (exit code, stdout), 128 when git cannot run.

    The release identity's controlled git (:class:`~pytest_deploygate.evidence.release.Git`):
    the CI step's environment is the developer's, so GIT_DIR, GIT_WORK_TREE, GIT_INDEX_FILE
    or GIT_OBJECT_DIRECTORY must not point a check at another repository (a tag found in a
    clean copy is no tag of this one), nor user or system configuration change git."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._git = Git(root)

    def __call__(self, *args: str) -> tuple[int, str]:
        code, out = self._git(*args)
        return code, out.strip()


class Progress:
    """Progress lines of long measurements: put from any thread, shown on the main thread."""

    def __init__(self) -> None:
        #: Where lines are shown; None when nobody shows them (then nothing is queued).
        self.show: Callable[[str], None] | None = None
        self._lines: queue.SimpleQueue[str] = queue.SimpleQueue()

    @property
    def sink(self) -> Callable[[str], None] | None:
        """A thread-safe sink for progress lines, when someone shows them."""
        return self._lines.put if self.show else None

    def drain(self) -> None:
        """Show the queued lines (main thread only)."""
        while self.show is not None:
            try:
                line = self._lines.get_nowait()
            except queue.Empty:
                return
            self.show(line)


class TrustStores:
    """The project's sign-off log with approvers, and its waivers, each read on first use."""

    def __init__(self, root: Path, config: ProjectConfig, waivers_disabled: bool,
                 scope: RunScope) -> None:
        self._root = root
        self._config = config
        self._waivers_disabled = waivers_disabled
        self._scope = scope
        self._attestations: AttestationStore | None = None
        self._waivers: WaiverStore | None = None
        self._owner: TrustStores | None = None

    def share(self, other: TrustStores) -> None:
        """Use ``other``'s sign-off store (same root and settings): read it once."""
        self._owner = other

    @property
    def attestations(self) -> AttestationStore:
        """The attestation log and approvers, read on first use."""
        if self._owner is not None:
            return self._owner.attestations
        if self._attestations is None:
            from pytest_deploygate.trust.signoffs import AttestationStore

            self._attestations = AttestationStore.load(self._root, self._config, self._scope)
        return self._attestations

    @property
    def waivers(self) -> WaiverStore:
        """The project's waivers (none unless enabled in deploygate.yaml)."""
        if self._waivers is None:
            from pytest_deploygate.trust.waivers import WaiverStore

            config = self._config
            roles = self.attestations.roles_by_signer if config.waiver_approver_roles else {}
            # (The sign-off store is read for a waiver's approver only when a rule needs it.)
            authors = (self.attestations.release_author_problem
                       if config.forbid_self_approval else None)
            self._waivers = WaiverStore.load(self._root, config, self._waivers_disabled, roles,
                                             self._scope, authors)
        return self._waivers


class EvidenceServices:
    """Everything that reads evidence for one project of one gate run."""

    def __init__(self, root: Path, config: ProjectConfig, waivers_disabled: bool = False,
                 scope: RunScope | None = None) -> None:
        #: The run's size limits and caches (shared by every project of the run).
        self.scope = scope or RunScope()
        self.git = GitRunner(root)
        self.network = NetworkPool()
        self.progress = Progress()
        #: Set when a watched rollback trigger fires: the other watches end (ROLLBACK is
        #: decided).
        self.rollback_fired = threading.Event()
        #: Per-project memo for checks that would otherwise repeat file-system work per
        #: criterion.
        self.memo: dict[Any, Any] = {}
        self.stores = TrustStores(root, config, waivers_disabled, self.scope)

    def wait_for(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """The network result for ``key``, showing queued progress lines while waiting."""
        # concurrent.futures loads with the first network request, not with every gate.
        from concurrent.futures import TimeoutError as FutureTimeout

        future = self.network.submit(key, work)
        while True:
            try:
                result = future.result(timeout=0.2)
            except FutureTimeout:
                self.progress.drain()
                continue
            self.progress.drain()
            return result
