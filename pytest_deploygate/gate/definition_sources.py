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
import shlex
from collections.abc import Iterable
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
    _refuse_uncommitted_config_file(config, top, command_line)
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


#: The options that choose the folder judged and the folder of its records (dest, option):
#: ``-c FILE`` makes the file's folder pytest's rootdir.
_WHERE_OPTIONS = (("rootdir", "--rootdir"), ("inifilename", "-c"), ("gate_root", "--gate-root"),
                  ("gate_record_dir", "--gate-record-dir"), ("gate_project", "--gate-project"))
#: ini settings that choose where records go, refused from the environment as the options are
#: (``-o deploygate_record_dir=ELSEWHERE`` wrote the FAIL elsewhere: rt15c).
_WHERE_SETTINGS = ("deploygate_record_dir",)


def refuse_environment_folders(config: pytest.Config) -> None:
    """Raise ``pytest.UsageError`` when PYTEST_ADDOPTS chose the folder the gate judges (a
    test path, which moves pytest's rootdir and ini to another checkout; ``--rootdir``;
    ``-c``; ``--gate-root``) or the folder of its records (``--gate-record-dir``) and the
    command line did not name the same. The environment pointed the job's trusted command at
    an older checkout of the same release and wrote its PASS where the deploy job reads it
    (rt15b A04). Checked on the controller only (xdist's workers get its arguments as theirs)."""
    addopts = os.environ.get("PYTEST_ADDOPTS", "")
    if not addopts or hasattr(config, "workerinput"):
        return
    try:
        # (shlex, as pytest splits it: str.strip() also drops \x1f and other characters
        # shlex keeps, so "\x1f" passed for empty while pytest took it as a test path that
        # moved the gate's root: rt18b A04.)
        words = shlex.split(addopts)
    except ValueError:
        return  # (pytest's own parse of the same words failed first)
    if not words:
        return
    _refuse_hidden_options(words)
    try:
        environment = config._parser.parse_known_args(words)
    except (ValueError, pytest.UsageError, SystemExit):
        return  # (pytest's own parse of the same words failed first)
    _refuse_addopts_override(getattr(environment, "override_ini", None) or ())
    command_line = _command_line(config)
    for dest, option in _WHERE_OPTIONS:
        value = getattr(environment, dest, None)
        if value and not getattr(command_line, dest, None):
            _refuse_from_environment(f"{option}={value}")
    given = {str(entry).partition("=")[0].strip()
             for entry in getattr(command_line, "override_ini", None) or ()}
    for entry in getattr(environment, "override_ini", None) or ():
        key = str(entry).partition("=")[0].strip()
        if key in _WHERE_SETTINGS and key not in given:
            _refuse_from_environment(f"-o {entry}")
    named = {_place(config, arg) for arg in getattr(command_line, "file_or_dir", None) or ()}
    for arg in getattr(environment, "file_or_dir", None) or ():
        if _place(config, arg) not in named:
            _refuse_from_environment(f"the test path {arg}")


def _refuse_hidden_options(words: list[str]) -> None:
    """An argument file (``@FILE``) in PYTEST_ADDOPTS: argparse reads options from it that no
    word of the environment shows, and the checks of the environment's options (here, and
    the stage-all record a stage run from the environment makes stale) read its words
    (``@args`` holding ``--gate-stage=pre`` kept the stage-all PASS: rt16a A01)."""
    for word in words:
        if word.startswith("@"):
            raise pytest.UsageError(
                f"PYTEST_ADDOPTS (the environment, not the command line) names the argument "
                f"file {word}: options of a --gate run come from the job's command line and "
                "the repository's ini file; drop it from PYTEST_ADDOPTS")


def _refuse_addopts_override(entries: Iterable[object]) -> None:
    """``-o addopts=...`` in PYTEST_ADDOPTS (any spelling argparse accepts: ``-oaddopts=``,
    ``--override-ini=addopts=``, ``--override-ini addopts=``, in a short-option cluster):
    pytest applies it as the ini's addopts, so it carries any option past the checks of the
    environment's own (``-o addopts=--co --gate-record-dir=ELSEWHERE`` kept the PASS, and
    ``-o addopts=--gate-stage=pre`` made a stage-all job a pre run: rt16a A01, A03). Even
    an empty one: it drops the reviewed ini's addopts (its record folder, say)."""
    for entry in entries:
        if str(entry).partition("=")[0].strip() == "addopts":
            raise pytest.UsageError(
                f"PYTEST_ADDOPTS (the environment, not the command line) overrides the ini's "
                f"addopts (-o {entry}): options of a --gate run come from the job's command "
                "line and the repository's ini file; drop it from PYTEST_ADDOPTS")


def _refuse_from_environment(what: str) -> None:
    raise pytest.UsageError(
        f"PYTEST_ADDOPTS (the environment, not the command line) names {what}: the folder the "
        "gate judges and its record folder are the CI job's to choose; name it on the "
        "job's command line, or drop it from PYTEST_ADDOPTS")


def _place(config: pytest.Config, arg: object) -> str:
    """A test path as a place: the path of ``path::node`` from the invocation folder."""
    path, _, node = str(arg).partition("::")
    return f"{os.path.normpath(Path(config.invocation_params.dir, path))}::{node}"


def _refuse_uncommitted_config_file(config: pytest.Config, top: Path,
                                    command_line: argparse.Namespace) -> None:
    """pytest's configuration file in the repository steers the gate run (its addopts, the
    spec and record folders): it must be release content, committed and as committed. An
    untracked pytest.ini in the work tree wins over the committed pyproject.toml (rt15b A06).
    One the command line named (``-c``) is the CI job's own."""
    inipath = config.inipath
    if inipath is None or way_out(inipath, top)[0] or \
            _named_by_command_line(config, command_line, inipath) or \
            not holds_pytest_configuration(inipath):
        return
    from pytest_deploygate.evidence.committed_path import committed_as_named_problem

    # The path pytest chose, not where it leads: an untracked pytest.ini linking to an ini
    # committed as bookkeeping passed as committed (rt16a A08).
    problem = committed_as_named_problem(top, inipath)
    if problem:
        raise pytest.UsageError(
            f"pytest reads its configuration from {inipath}, but {problem}: it configures "
            "the gate (addopts, deploygate_specs, the record folder) and must be release "
            "content; commit it, or name a file on the command line (-c FILE)")


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
