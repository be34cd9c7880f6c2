"""The gated project as the ``deploygate`` command sees it (no pytest session involved).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pytest_deploygate.checks import build_registry, builtin_kinds
from pytest_deploygate.checks.base import CheckKind
from pytest_deploygate.config import ProjectConfig, load_config
from pytest_deploygate.errors import DeployGateError
from pytest_deploygate.spec_library import SpecFile, available, select, spec_path
from pytest_deploygate.spec_loader import apply_overrides, load_spec
from pytest_deploygate.spec_model import Criterion, GateSpec


class Refusal(Exception):
    """The command refuses: one clear line, exit code 2."""


@dataclass
class Workspace:
    """Root, config, spec directory and check kinds of the gated project."""

    root: Path
    spec_dir: Path
    plugins: list[str] = field(default_factory=list)
    _config: ProjectConfig | None = None
    _kinds: Mapping[str, CheckKind] | None = None

    @property
    def config(self) -> ProjectConfig:
        """deploygate.yaml (a malformed one is a refusal naming file and line)."""
        if self._config is None:
            try:
                self._config = load_config(self.root)
            except DeployGateError as exc:
                raise Refusal(str(exc)) from None
        return self._config

    @property
    def kinds(self) -> Mapping[str, CheckKind]:
        """Built-in kinds plus those of ``--plugin`` modules."""
        if self._kinds is None:
            groups = [builtin_kinds()]
            for name in self.plugins:
                try:
                    module = importlib.import_module(name)
                except ImportError as exc:
                    raise Refusal(f"--plugin {name}: cannot import: {exc}") from None
                hook = getattr(module, "pytest_deploygate_check_kinds", None)
                if hook is None:
                    raise Refusal(f"--plugin {name}: defines no pytest_deploygate_check_kinds")
                groups.append(hook(config=None))
            self._kinds = build_registry(groups)
        return self._kinds

    def spec_files(self) -> dict[int, list[SpecFile]]:
        """Every gate spec available to this project (its own checklists included)."""
        return available(self.spec_dir, self.root / ".isdlc" / "checklists")

    def gate(self, expression: str) -> GateSpec:
        """Load the one gate ``expression`` names (``12``, ``GATE-12``, ``12-production``)."""
        try:
            chosen = select(expression, self.spec_files(), None)
        except DeployGateError as exc:
            raise Refusal(str(exc).replace("--gate", "GATE")) from None
        if len(chosen) != 1:
            raise Refusal(f"{expression!r} names {len(chosen)} gates; name one")
        try:
            cache = Path(tempfile.gettempdir()) / f"pytest-deploygate-{os.getuid()}"
            return load_spec(spec_path(chosen[0], cache), self.kinds)
        except DeployGateError as exc:
            raise Refusal(str(exc)) from None

    def items(self, spec: GateSpec) -> tuple[Criterion, ...]:
        """The gate's items with this project's evidence overrides applied."""
        try:
            return apply_overrides(spec, self.config, self.kinds)
        except DeployGateError as exc:
            raise Refusal(str(exc)) from None

    def git(self, *args: str) -> tuple[int, str]:
        """Run git in the project root."""
        try:
            done = subprocess.run(["git", "-C", str(self.root), *args], capture_output=True,
                                  text=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 128, str(exc)
        return done.returncode, (done.stdout or done.stderr).strip()


def say(text: str) -> None:
    """A line on stdout."""
    sys.stdout.write(text + "\n")


def complain(text: str) -> None:
    """A line on stderr."""
    sys.stderr.write(f"deploygate: {text}\n")
