"""The gated project: its root, state, config, evaluation clock, commit and version.

Built once per session and shared by every gate evaluated in it, so state.json is read once
and git is asked once.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from pytest_deploygate.config import ProjectConfig
from pytest_deploygate.state import StateDoc

if TYPE_CHECKING:
    from pytest_deploygate.attestations import AttestationStore


@dataclass
class Project:
    """Everything about the gated project that checks may read."""

    root: Path
    state: StateDoc
    config: ProjectConfig
    now: datetime
    version_override: str | None = None
    _attestations: AttestationStore | None = field(default=None, repr=False)

    @functools.cached_property
    def commit(self) -> str | None:
        """The gated project's HEAD commit, or None when it is not a git checkout."""
        try:
            result = subprocess.run(
                ["git", "-C", str(self.root), "rev-parse", "--verify", "HEAD"],
                capture_output=True, text=True, timeout=10, check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return (result.stdout.strip() or None) if result.returncode == 0 else None

    @functools.cached_property
    def version(self) -> str | None:
        """The release version: --gate-version, deploygate.yaml, pyproject.toml, package.json."""
        return self.version_override or self.config.version or _manifest_version(self.root)

    @property
    def attestations(self) -> AttestationStore:
        """The attestation log and approvers, read on first use."""
        if self._attestations is None:
            from pytest_deploygate.attestations import AttestationStore

            self._attestations = AttestationStore.load(self.root, self.config)
        return self._attestations

    @property
    def name(self) -> str:
        """The project's name from state.json, else its directory name."""
        name = self.state.get("project.name")
        return name if isinstance(name, str) and name else self.root.name


def _manifest_version(root: Path) -> str | None:
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            version = tomllib.loads(pyproject.read_text("utf-8")).get("project", {}).get("version")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            version = None
        if isinstance(version, str) and version:
            return version
    package = root / "package.json"
    if package.is_file():
        try:
            version = json.loads(package.read_text("utf-8")).get("version")
        except (OSError, UnicodeDecodeError, ValueError, AttributeError):
            version = None
        if isinstance(version, str) and version:
            return version
    return None
