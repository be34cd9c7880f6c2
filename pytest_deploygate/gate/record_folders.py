"""The record folders of a ``--gate`` command, worked out from the record options alone.

A command that stops on a usage error (``--gate-now=yesterday``, an ``ftp://`` Prometheus, an
empty option, a bad ini size limit, an unknown option) has no :class:`Settings`: reading them
raises again. Its earlier records must go all the same (the last run's PASS for the same
release stayed for a deploy job's verdict), so the folders are read here with no other
validation: ``--gate-record-dir``, else the ini ``deploygate_record_dir``, else
``<root>/gate-records``; a value that cannot be read falls back to the next one.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pytest_deploygate.core.value_class import value_class

#: Every stage: a command whose stage could not be read clears the records of each.
EVERY_STAGE = ("all", "pre", "post")


@value_class(frozen=True)
class RecordFolders:
    """Where a stopped ``--gate`` command's earlier records may be, and of which stages."""

    record_dir: Path
    projects: tuple[str, ...]
    stages: tuple[str, ...]
    #: The other folders the command could have meant (the ini's, the default one): an
    #: option from PYTEST_ADDOPTS (``--help --gate-record-dir=elsewhere``, or an untracked
    #: pytest.ini's addopts) moved the clearing away from the folder the deploy job reads.
    also: tuple[Path, ...] = ()


def record_folders(config: pytest.Config, option: Callable[[str], object]) -> RecordFolders:
    """The record folder and projects named by ``option`` (``config.getoption``, or the
    early namespace of a command whose full parse failed) and the ini file; every stage."""
    rootdir = Path(config.rootpath)
    root = _readable(option("gate_root"), Path.cwd()) or rootdir
    candidates = [_readable(option("gate_record_dir"), Path.cwd()),
                  _readable(_ini(config, "deploygate_record_dir"), rootdir),
                  root / "gate-records", rootdir / "gate-records", Path.cwd() / "gate-records"]
    named = [folder for folder in candidates if folder is not None]
    record_dir = named[0]
    projects = option("gate_project")
    # Every stage, even when --gate-stage reads well: the options did not (PYTEST_ADDOPTS
    # with --gate-stage=post and a bad --gate-watch left the stage-all PASS).
    return RecordFolders(
        record_dir=record_dir,
        projects=tuple(str(p) for p in projects) if isinstance(projects, list | tuple) else (),
        stages=EVERY_STAGE,
        also=tuple(dict.fromkeys(folder for folder in named[1:] if folder != record_dir)))


def _ini(config: pytest.Config, name: str) -> object:
    try:
        return config.getini(name)
    except (ValueError, KeyError):  # (not registered yet: no value of it)
        return None


def _readable(value: object, base: Path) -> Path | None:
    """The path a record option names, or None when it names none that can be read."""
    if not value or not str(value).strip():
        return None
    from pytest_deploygate.core.paths import configured_path

    try:
        return configured_path(str(value), base)
    except ValueError:
        return None
