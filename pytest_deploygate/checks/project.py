"""The gated project: its root, state, config, evaluation clock, release and version.

Built once per session and shared by every gate evaluated in it, so state.json is read once
and git is asked once.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import queue
import subprocess
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.evidence.network import NetworkPool
from pytest_deploygate.evidence.release import ReleaseIdentity, manifest_version, release_identity
from pytest_deploygate.isdlc.state import StateDoc

if TYPE_CHECKING:
    from pytest_deploygate.trust.signoffs import AttestationStore
    from pytest_deploygate.trust.waivers import WaiverStore


@dataclass
class Project:
    """Everything about the gated project that checks may read."""

    root: Path
    state: StateDoc
    config: ProjectConfig
    now: datetime
    version_override: str | None = None
    prometheus_url_override: str | None = None
    extra_health_urls: tuple[str, ...] = ()
    allow_commands: bool = False
    waivers_disabled: bool = False
    watch_seconds: float = 0.0
    #: Where this project's gate records go (bookkeeping: never release content).
    record_dir: Path | None = None
    network: NetworkPool = field(default_factory=NetworkPool, repr=False)
    #: Where progress lines of long measurements (watch windows) are shown; called on the
    #: main thread only, from :meth:`wait_for`.
    show_progress: Callable[[str], None] | None = field(default=None, repr=False)
    _progress: queue.SimpleQueue[str] = field(default_factory=queue.SimpleQueue, repr=False)
    #: Set when a watched rollback trigger fires: the other watches end (ROLLBACK is decided).
    rollback_fired: threading.Event = field(default_factory=threading.Event, repr=False)
    #: Per-run memo for checks that would otherwise repeat file-system work per criterion.
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)

    @property
    def progress(self) -> Callable[[str], None] | None:
        """A thread-safe sink for progress lines, when someone shows them."""
        return self._progress.put if self.show_progress else None

    def wait_for(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """The network result for ``key``, showing queued progress lines while waiting."""
        future = self.network.submit(key, work)
        while True:
            try:
                result = future.result(timeout=0.2)
            except FutureTimeout:
                self._drain()
                continue
            self._drain()
            return result

    def _drain(self) -> None:
        while self.show_progress is not None:
            try:
                line = self._progress.get_nowait()
            except queue.Empty:
                return
            self.show_progress(line)
    _attestations: AttestationStore | None = field(default=None, repr=False)
    _store_owner: Project | None = field(default=None, repr=False)

    @property
    def prometheus_url(self) -> str | None:
        """--gate-prometheus, else prometheus.url of deploygate.yaml."""
        return self.prometheus_url_override or self.config.prometheus.get("url")

    @property
    def health_urls(self) -> tuple[str, ...]:
        """health_urls of deploygate.yaml plus every --gate-health-url."""
        return tuple(dict.fromkeys((*self.config.health_urls, *self.extra_health_urls)))

    def git(self, *args: str) -> tuple[int, str]:
        """Run git in the project root: (exit code, stdout); 128 when git cannot run."""
        try:
            result = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True,
                                    text=True, timeout=20, check=False)
        except (OSError, subprocess.TimeoutExpired):
            return 128, ""
        return result.returncode, result.stdout.strip()

    @functools.cached_property
    def release(self) -> ReleaseIdentity:
        """The gated release: commit, tree and version of the release content (not HEAD)."""
        return release_identity(self.root, record_dir=self.record_dir, version=self.version)

    @property
    def commit_time(self) -> datetime | None:
        """Committer time of the release commit (for evidence that must be newer)."""
        return self.release.committed_at

    @property
    def commit(self) -> str | None:
        """The release commit, or None when there is no release identity."""
        return self.release.commit if self.release.known else None

    @functools.cached_property
    def version(self) -> str | None:
        """The release version: --gate-version, deploygate.yaml, pyproject.toml, package.json."""
        return self.version_override or self.config.version or manifest_version(self.root)

    @functools.cached_property
    def waivers(self) -> WaiverStore:
        """The project's waivers (none unless enabled in deploygate.yaml)."""
        from pytest_deploygate.trust.waivers import WaiverStore

        roles = self.attestations.roles_by_signer if self.config.waiver_approver_roles else {}
        return WaiverStore.load(self.root, self.config, self.waivers_disabled, roles)

    def share_attestations(self, other: Project) -> None:
        """Use ``other``'s sign-off store (same root and settings): read it once."""
        self._store_owner = other

    @property
    def attestations(self) -> AttestationStore:
        """The attestation log and approvers, read on first use."""
        if self._store_owner is not None:
            return self._store_owner.attestations
        if self._attestations is None:
            from pytest_deploygate.trust.signoffs import AttestationStore

            self._attestations = AttestationStore.load(self.root, self.config)
        return self._attestations

    @property
    def name(self) -> str:
        """The project's name from state.json, else its directory name."""
        name = self.state.get("project.name")
        return name if isinstance(name, str) and name else self.root.name


