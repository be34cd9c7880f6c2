"""What may define the gate from outside the release repository: only the CI job's command line.

The gate is defined by its spec folder and by pytest's configuration file (which names the
spec folder, the record directory, the size limits and addopts). Each must be release content
(in the repository, bound by the release tree) or named by the command line of the CI job,
which is trusted. A spec folder outside the repository that a file of the repository names
(``deploygate_specs = "../specs"`` or an absolute path in its ini, or ``-o`` in its addopts),
or that the environment names (PYTEST_ADDOPTS), was no release content: edited after the
sign-offs, the old release kept passing, bound by verdict. So was a configuration file pytest
found above the repository. And a link in the repository leading out of it, on the way to
either, chooses what is read wherever the path was named.

Only a work tree is judged: outside git there is no release to bind (the record says so).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from pytest_deploygate.core.pytest_config_files import holds_pytest_configuration
from pytest_deploygate.evidence.gate_definition import (
    repository_top,
    spec_folder_outside_problem,
    way_out,
)

SETTING = "deploygate_specs"


def refuse_outside_definition(config: pytest.Config, root: Path, spec_dir: Path) -> None:
    """Raise ``pytest.UsageError`` (one line: the file, the setting, what to do) when the
    spec folder or pytest's configuration file lies outside the repository of the gate root
    ``root`` and the command line did not name it, or leads out of it through a link of the
    repository."""
    top = repository_top(root) if root.is_dir() else None
    if top is None:
        return
    command_line = _command_line(config)
    _refuse_config_file(config, top, command_line)
    named_by = _spec_folder_named_by(config, top, command_line)
    problem = spec_folder_outside_problem(spec_dir, top, named_by is not None,
                                          "-o deploygate_specs=DIR")
    if problem:
        where = f"{named_by}: " if named_by else ""
        raise pytest.UsageError(f"{where}{SETTING} = {config.getini(SETTING)!r}: {problem}")


def _refuse_config_file(config: pytest.Config, top: Path, command_line: argparse.Namespace
                        ) -> None:
    """pytest's configuration file outside the repository configures the gate unreviewed,
    unless the command line named it (``-c``)."""
    inipath = config.inipath
    if inipath is None:
        return
    outside, link = way_out(inipath, top)
    if not outside:
        return
    named = _named_by_command_line(config, command_line, inipath)
    if named and link is None:
        return
    if link is None and not holds_pytest_configuration(inipath):
        return  # (a pyproject.toml without a pytest table: pytest's rootdir, no settings)
    how = f"through {link}, a link in it," if link is not None else \
        "(pytest found it in a folder above it)" if not named else ""
    raise pytest.UsageError(
        f"pytest reads its configuration from {inipath}, outside the repository "
        f"{top} {how}: it configures the gate (deploygate_specs, addopts) and is no release "
        "content; put pytest's configuration in the repository, or name the file itself on "
        "the command line (-c FILE)")


def _spec_folder_named_by(config: pytest.Config, top: Path, command_line: argparse.Namespace
                          ) -> str | None:
    """What named the spec folder, when it is not the command line (None): the file of the
    repository (its ini value, or ``-o`` in its addopts), the environment, or an ini file
    outside the repository that the command line did not name."""
    if _overrides(getattr(command_line, "override_ini", None)):
        return None
    inipath = config.inipath
    if _overrides(getattr(config.option, "override_ini", None)):
        if SETTING in os.environ.get("PYTEST_ADDOPTS", ""):
            return "PYTEST_ADDOPTS (the environment, not the command line)"
        return f"addopts of {inipath}"
    if inipath is None:
        return None  # (the default gate_specs/ of the rootdir the command line chose)
    if _named_by_command_line(config, command_line, inipath) and \
            way_out(inipath, top) == (True, None):
        return None  # (-c FILE outside the repository: the CI job's own file)
    if config.getini(SETTING) != "gate_specs" or not getattr(command_line, "rootdir", None):
        return str(inipath)  # (its value, or its folder as the rootdir of gate_specs/)
    return None  # (--rootdir on the command line chose the default gate_specs/)


def _overrides(entries: object) -> bool:
    """Whether ``-o``/``--override-ini`` entries set the spec folder."""
    if not isinstance(entries, (list, tuple)):
        return False
    return any(str(entry).partition("=")[0].strip() == SETTING for entry in entries)


def _named_by_command_line(config: pytest.Config, command_line: argparse.Namespace,
                           inipath: Path) -> bool:
    """Whether ``-c``/``--config-file`` on the command line named ``inipath``."""
    named = getattr(command_line, "inifilename", None)
    if not named:
        return False
    path = Path(config.invocation_params.dir, str(named))
    try:
        return path.absolute() == inipath.absolute() or path.resolve() == inipath.resolve()
    except (OSError, RuntimeError):
        return False


def _command_line(config: pytest.Config) -> argparse.Namespace:
    """The options the command line alone gives (not the ini's addopts, not PYTEST_ADDOPTS),
    parsed by pytest's own parser: on xdist's workers too, which get the controller's."""
    try:
        return config._parser.parse_known_args(
            [str(arg) for arg in config.invocation_params.args
             if str(arg) not in ("-h", "--help")])
    except (ValueError, pytest.UsageError, SystemExit):
        return argparse.Namespace()
