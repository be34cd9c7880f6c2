"""The gated project as the ``deploygate`` command sees it (no pytest session involved).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pytest_deploygate.core.errors import DeployGateError
from pytest_deploygate.core.limits import DEFAULT_LIMITS, Limits
from pytest_deploygate.core.value_class import field, value_class

if TYPE_CHECKING:  # what a command needs is imported when it needs it: verdict reads
    # its spec from a cache when it can, and must not pay for YAML, schemas or check kinds
    from pytest_deploygate.checks.context import CheckKind
    from pytest_deploygate.evidence.config import ProjectConfig
    from pytest_deploygate.spec.library import Library, SpecFile
    from pytest_deploygate.spec.model import Criterion, GateSpec

T = TypeVar("T")


class Refusal(Exception):
    """The command refuses: one clear line, exit code 2."""


@value_class
class Workspace:
    """Root, config, spec directory and check kinds of the gated project."""

    root: Path
    spec_dir: Path
    plugins: list[str] = field(default_factory=list)
    #: The size limits of the project's gate runs (its ini settings; see cli/project_ini).
    limits: Limits = DEFAULT_LIMITS
    #: The spec folder as named, links kept (``spec_dir`` is resolved): a monorepo project
    #: binds every link on the way to it as release content (evidence/gate_definition.py).
    spec_dir_as_named: Path | None = None
    #: The pytest configuration file the project's gate runs read (found as pytest finds
    #: it): release content where it lies in the repository (evidence/gate_definition.py).
    ini_path: Path | None = None
    #: The resolved top of the git work tree ``root`` is in, as ``main`` asked git for it
    #: (None: not asked, or not in one): each command asks once, not once per check.
    top: Path | None = None
    _config: ProjectConfig | None = None
    _kinds: Mapping[str, CheckKind] | None = None

    @property
    def config(self) -> ProjectConfig:
        """deploygate.yaml (a malformed one is a refusal naming file and line)."""
        if self._config is None:
            from pytest_deploygate.core.run_scope import RunScope
            from pytest_deploygate.evidence.config import load_config

            try:
                self._config = load_config(self.root, RunScope(self.limits))
            except DeployGateError as exc:
                raise Refusal(str(exc)) from None
        return self._config

    @property
    def kinds(self) -> Mapping[str, CheckKind]:
        """Built-in kinds plus those of ``--plugin`` modules (and, once a spec names a kind
        nobody registered, those of installed pytest plugins: see :meth:`gate`)."""
        if self._kinds is None:
            from pytest_deploygate.checks import build_registry, builtin_kinds

            groups: list[Iterable[CheckKind]] = [builtin_kinds()]
            for name in self.plugins:
                if not name.strip() or name.startswith("."):
                    raise Refusal(f"--plugin {name!r}: name a module to import (e.g. "
                                  "acme_gate_kinds), not a path")
                try:
                    module = importlib.import_module(name)
                except (Exception, SystemExit) as exc:  # a plugin's code may raise anything
                    # (and a sys.exit(0) in it was `deploygate verdict` exiting 0: deploy)
                    raise Refusal(f"--plugin {name}: cannot import: {type(exc).__name__}: "
                                  f"{exc}") from None
                hook = getattr(module, "pytest_deploygate_check_kinds", None)
                if hook is None:
                    raise Refusal(f"--plugin {name}: defines no pytest_deploygate_check_kinds")
                try:
                    groups.append(list(hook(config=None)))
                except (Exception, SystemExit) as exc:
                    raise Refusal(f"--plugin {name}: pytest_deploygate_check_kinds failed: "
                                  f"{type(exc).__name__}: {exc}") from None
            try:
                self._kinds = build_registry(groups)
            except ValueError as exc:  # a kind registered twice: one line, not a traceback
                raise Refusal(str(exc)) from None
        return self._kinds

    def spec_files(self) -> dict[int, list[SpecFile]]:
        """Every gate spec available to this project (its own checklists included)."""
        from pytest_deploygate.spec.library import available

        return available(self.spec_dir, self.root / ".isdlc" / "checklists")

    def library(self) -> Library:
        """The project's gates in its layout (read from state.json and its checklists)."""
        from pytest_deploygate.isdlc.state import load_state
        from pytest_deploygate.spec.library import open_library

        state = None
        with contextlib.suppress(DeployGateError):  # unreadable: the checklists decide
            state = load_state(self.root / ".isdlc" / "state.json")
        return open_library(self.spec_dir, self.root / ".isdlc" / "checklists",
                            state.data if state else None)

    def gate(self, expression: str) -> GateSpec:
        """Load the one gate ``expression`` names (``12``, ``GATE-12``, ``12-production``;
        ``13-production`` in today's layout)."""
        return self.load_gate(*self.gate_source(expression))

    def load_gate(self, path: Path, data: bytes | None = None) -> GateSpec:
        """Load and validate the gate spec at ``path`` (``data``: its bytes, when imported by
        this process; a refusal when it is not valid)."""
        from pytest_deploygate.spec.loader import load_spec

        return self._with_all_kinds(lambda: load_spec(path, self.kinds,
                                                            max_bytes=self.limits.document_bytes,
                                                            data=data))

    def gate_source(self, expression: str) -> tuple[Path, bytes | None]:
        """The YAML spec of the one gate ``expression`` names (a checklist is imported now:
        its bytes, see :func:`~pytest_deploygate.spec.library.spec_source`)."""
        from pytest_deploygate.spec.library import select, spec_source

        try:
            library = self.library()
            chosen = (library.select(expression, None) if library.layout.current
                      else select(expression, self.spec_files(), None))
        except DeployGateError as exc:
            raise Refusal(str(exc).replace("--gate: ", "").replace("--gate", "gate")) from None
        if len(chosen) != 1:
            raise Refusal(f"{expression!r} names {len(chosen)} gates; name one")
        from pytest_deploygate.core.private_cache import private_cache_dir

        cache = private_cache_dir()  # never a folder the repository or another user can fill
        try:
            return spec_source(chosen[0], cache)
        except DeployGateError as exc:
            raise Refusal(str(exc)) from None

    def log_gate(self, spec: GateSpec) -> int | str:
        """What a new sign-off or waiver names ``spec`` by: its phase key on today's layout
        (a number is ambiguous there), its number on the 13-phase layout."""
        from pytest_deploygate.isdlc.gate_names import log_name

        return log_name(spec.phase, spec.gate, self.library().layout)

    def _with_all_kinds(self, work: Callable[[], T]) -> T:
        """Run ``work``; if it names a kind nobody registered, load installed plugins' kinds
        and try once more. Failures become refusals."""
        try:
            return work()
        except DeployGateError as exc:
            if "unknown kind" not in str(exc) or not self._load_installed_kinds():
                raise Refusal(str(exc)) from None
        try:
            return work()
        except DeployGateError as exc:
            raise Refusal(str(exc)) from None

    def _load_installed_kinds(self) -> bool:
        """Add the kinds of installed pytest plugins (entry point group ``pytest11``) that
        implement the hook, as pytest would; True when any were added. Only done on demand:
        importing every installed pytest plugin is slow and rarely needed."""
        from importlib.metadata import entry_points

        from pytest_deploygate.checks import build_registry

        groups = [list(self.kinds.values())]
        for entry in entry_points(group="pytest11"):
            if entry.value.startswith("pytest_deploygate"):
                continue
            try:
                module = entry.load()
            except Exception:  # a broken foreign plugin must not break this command
                continue
            hook = getattr(module, "pytest_deploygate_check_kinds", None)
            if hook is not None:
                groups.append(hook(config=None))
        try:
            merged = build_registry(groups)
        except ValueError as exc:
            raise Refusal(str(exc)) from None
        added = len(merged) > len(self.kinds)
        self._kinds = merged
        return added

    def items(self, spec: GateSpec) -> tuple[Criterion, ...]:
        """The gate's items with this project's evidence overrides applied."""
        from pytest_deploygate.spec.loader import apply_overrides

        return self._with_all_kinds(lambda: apply_overrides(spec, self.config, self.kinds))

    def append_to_log(self, relative: str, what: str, entry: dict[str, object]) -> int:
        """Append ``entry`` to the log at ``relative`` (inside the root); its line number."""
        from pytest_deploygate.cli.logwrite import append_line
        from pytest_deploygate.core.paths import OutsideRoot, inside_root
        from pytest_deploygate.core.regular_files import UnusableFile

        try:
            path = inside_root(self.root, relative)
            return append_line(path, entry)
        except OutsideRoot as exc:
            raise Refusal(f"{what} {exc}") from None
        except UnusableFile as exc:
            raise Refusal(f"{relative}: {exc.reason}: make it a regular file") from None

    def git(self, *args: str, as_the_gate: bool = False) -> tuple[int, str]:
        """Run git in the project root: as the user (their identity and configuration, for
        a sign-off's commit), or ``as_the_gate`` reads the release: no ``GIT_*`` variable of
        the step, no user configuration (``evidence.git.git_environment``). Either way git,
        and what it starts (a signing program), is never a program of the checkout
        (``core.programs``)."""
        import subprocess

        from pytest_deploygate.core.programs import find_program, program_path

        try:
            if as_the_gate:
                from pytest_deploygate.evidence.git import git_command, git_environment

                command, env = git_command(self.root, args), git_environment(self.root)
            else:
                from pytest_deploygate.evidence.git_programs import as_environment, programs_off

                # The user's git, identity and signing setup, but no filter or diff driver
                # program and no fsmonitor of the configuration (the job user's files on a
                # kept workspace, rt16a A06): a sign-off commit needs none of them.
                git = [find_program("git", self.root), "-c", "core.fsmonitor=false"]
                command = [*git, "-C", str(self.root), *args]
                env = {**os.environ, "PATH": program_path(self.root)}
                env = as_environment(programs_off(git, self.root, env), env)
            done = subprocess.run(command, capture_output=True, text=True, timeout=30,
                                  check=False, env=env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return 128, str(exc)
        return done.returncode, (done.stdout or done.stderr).strip()


def say(text: str) -> None:
    """A line on stdout."""
    sys.stdout.write(text + "\n")


def complain(text: str) -> None:
    """A line on stderr."""
    sys.stderr.write(f"deploygate: {text}\n")
