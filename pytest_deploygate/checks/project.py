"""The gated project: its root, state, config, evaluation clock, release and version.

Built once per session and shared by every gate evaluated in it, so state.json is read once
and git is asked once. What the project *is* is frozen here; what reads its evidence (git,
network, progress lines, the run's limits and caches, sign-off and waiver stores) is its
:class:`~pytest_deploygate.checks.services.EvidenceServices`, reached as ``services``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pytest_deploygate.checks.freshness_floor import Floor, release_floor
from pytest_deploygate.checks.services import EvidenceServices
from pytest_deploygate.core.limits import Limits
from pytest_deploygate.core.run_scope import RunScope
from pytest_deploygate.core.value_class import field, value_class
from pytest_deploygate.evidence.config import ProjectConfig
from pytest_deploygate.evidence.network import NetworkPool
from pytest_deploygate.evidence.release import (
    ReleaseIdentity,
    bookkeeping_paths,
    manifest_version,
    release_identity,
)
from pytest_deploygate.isdlc.state import StateDoc

if TYPE_CHECKING:
    from dataclasses import InitVar

    from pytest_deploygate.trust.signoffs import AttestationStore
    from pytest_deploygate.trust.waivers import WaiverStore


@value_class(frozen=True, eq=False)
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
    #: The project's own spec folder (its spec files are release content: release_identity).
    spec_dir: Path | None = None
    #: The run's limits and caches, handed to the services (a project built alone gets its
    #: own).
    scope: InitVar[RunScope | None] = None
    #: What reads this project's evidence (built from the fields above).
    services: EvidenceServices = field(init=False, repr=False)

    def __post_init__(self, scope: RunScope | None) -> None:
        object.__setattr__(self, "services", EvidenceServices(
            self.root, self.config, self.waivers_disabled, scope))

    @property
    def limits(self) -> Limits:
        """The run's size limits on files read."""
        return self.services.scope.limits

    @property
    def prometheus_url(self) -> str | None:
        """--gate-prometheus, else prometheus.url of deploygate.yaml."""
        return self.prometheus_url_override or self.config.prometheus.get("url")

    @property
    def health_urls(self) -> tuple[str, ...]:
        """health_urls of deploygate.yaml plus every --gate-health-url."""
        return tuple(dict.fromkeys((*self.config.health_urls, *self.extra_health_urls)))

    @functools.cached_property
    def release(self) -> ReleaseIdentity:
        """The gated release: commit, tree and version of the release content (not HEAD)."""
        return release_identity(self.root, record_dir=self.record_dir, version=self.version,
                                spec_dir=self.spec_dir)

    @functools.cached_property
    def bookkeeping(self) -> tuple[str, ...]:
        """The gate's bookkeeping paths here (never release content), resolved once a run:
        what a sign-off's or waiver's commit is compared without."""
        return bookkeeping_paths(self.root, self.record_dir)

    @property
    def commit_time(self) -> datetime | None:
        """Committer time of the release commit (for evidence that must be newer)."""
        return self.release.committed_at

    @functools.cached_property
    def freshness_floor(self) -> Floor | str:
        """What ``not_before: commit`` evidence must be newer than (the later of the commit
        time and this checkout's arrival at it), or why that cannot be told."""
        return release_floor(self.root, self.release, self.now, self.bookkeeping)

    @property
    def commit(self) -> str | None:
        """The release commit, or None when there is no release identity."""
        return self.release.commit if self.release.known else None

    @functools.cached_property
    def version(self) -> str | None:
        """The release version: --gate-version, deploygate.yaml, pyproject.toml, package.json."""
        return self.version_override or self.config.version or manifest_version(self.root)

    @property
    def name(self) -> str:
        """The project's name from state.json, else its directory name."""
        name = self.state.get("project.name")
        return name if isinstance(name, str) and name else self.root.name

    # The services, under the names check kinds have always used.

    def git(self, *args: str) -> tuple[int, str]:
        """Run git in the project root: (exit code, stdout); 128 when git cannot run."""
        return self.services.git(*args)

    @property
    def network(self) -> NetworkPool:
        """The run's pool of network requests, each made once."""
        return self.services.network

    def wait_for(self, key: Hashable, work: Callable[[], Any]) -> Any:
        """The network result for ``key``, showing queued progress lines while waiting."""
        return self.services.wait_for(key, work)

    @property
    def progress(self) -> Callable[[str], None] | None:
        """A thread-safe sink for progress lines, when someone shows them."""
        return self.services.progress.sink

    @property
    def rollback_fired(self) -> threading.Event:
        """Set when a watched rollback trigger fires: the other watches end."""
        return self.services.rollback_fired

    @property
    def memo(self) -> dict[Any, Any]:
        """Per-project memo for checks that would otherwise repeat file-system work."""
        return self.services.memo

    @property
    def attestations(self) -> AttestationStore:
        """The attestation log and approvers, read on first use."""
        return self.services.stores.attestations

    @property
    def waivers(self) -> WaiverStore:
        """The project's waivers (none unless enabled in deploygate.yaml)."""
        return self.services.stores.waivers

    def share_attestations(self, other: Project) -> None:
        """Use ``other``'s sign-off store (same root and settings): read it once."""
        self.services.stores.share(other.services.stores)
