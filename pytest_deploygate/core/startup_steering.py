"""Whether this interpreter was started so that code of the checkout could run in it.

A module of the checkout that runs at start-up (a ``sitecustomize.py``/``usercustomize.py``
or ``.pth`` reached through ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONUSERBASE`` or a ``HOME``
inside the checkout, bytecode under a ``PYTHONPYCACHEPREFIX`` there) can delete itself from
``sys.modules`` and take its folder off ``sys.path``: what it left behind is no evidence. So
this asks what it cannot undo from inside the process: the flags the interpreter started
with (``sys.flags``), the environment the process was started with (``/proc/self/environ``
is the kernel's copy of it, which ``os.environ`` edits do not change) and where the
interpreter's own folders are. ``python -I`` (the recipes' verdict: docs/ci-recipes.md)
ignores all of it, and this finds nothing to refuse.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

#: Variables naming a place code or bytecode is read from at start-up.
PATH_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP",
                  "PYTHONPYCACHEPREFIX", "PYTHONPLATLIBDIR")


def started_environment() -> dict[str, list[str]]:
    """Each ``PYTHON*`` variable's values: as the process was started (Linux) and as it is
    now. Both count: a start-up module can unset a variable in ``os.environ``, and a value
    set since start is read by the interpreter at exit (``PYTHONINSPECT``)."""
    found: dict[str, list[str]] = {}
    try:
        with open("/proc/self/environ", "rb") as handle:
            started = handle.read()
    except OSError:
        started = b""
    for entry in started.split(b"\0"):
        name, equals, value = entry.partition(b"=")
        if equals and name.startswith(b"PYTHON"):
            found.setdefault(os.fsdecode(name), []).append(os.fsdecode(value))
    for variable, text in os.environ.items():
        if variable.startswith("PYTHON"):
            found.setdefault(variable, []).append(text)
    return found


def _inside(text: str, project: Path, base: Path) -> Path | None:
    """``text`` as a path (relative ones from ``base``), when it lies in ``project``."""
    if not text:
        return None
    try:
        where = (base / text).resolve()
    except (OSError, RuntimeError, ValueError):
        return None
    return where if where.is_relative_to(project) else None


def environment_problem(project: Path) -> str | None:
    """A ``PYTHON*`` variable this interpreter honoured that points into ``project``."""
    if sys.flags.ignore_environment:
        return None
    project = project.resolve()
    cwd = Path(os.getcwd())
    for name, values in sorted(started_environment().items()):
        if name not in PATH_VARIABLES:
            continue
        for value in values:
            # An empty entry of a PYTHONPATH list is the current folder (the checkout).
            places = [place or os.curdir for place in value.split(os.pathsep)] \
                if name == "PYTHONPATH" and value else [value]
            # PYTHONPLATLIBDIR is a folder name under the prefix ("lib64"), or a way out of it.
            base = Path(sys.prefix) if name == "PYTHONPLATLIBDIR" else cwd
            for place in places:
                where = _inside(place, project, base)
                if where is not None:
                    return (f"{name} names {where}, inside the checkout: code there runs at "
                            "start-up, before any check, and can hide itself")
    return None


def user_site_problem(project: Path) -> str | None:
    """The user site folder (``.pth`` files and ``usercustomize`` run from it) inside the
    project: ``HOME`` (or ``PYTHONUSERBASE``) points into the checkout and ``-s`` is off."""
    if sys.flags.no_user_site:
        return None
    import site

    if not site.ENABLE_USER_SITE:
        return None
    folder = site.getusersitepackages()
    project = project.resolve()
    # Through a link in the project to a folder elsewhere, the project still chose the code.
    literal = Path(os.path.abspath(folder))
    where = literal if literal.is_relative_to(project) else _inside(folder, project,
                                                                     Path(os.getcwd()))
    # site.py reads the folder only when it exists (it is then on sys.path): a HOME in the
    # project with no such folder (pytester's, a runner's workspace) ran nothing from it.
    # (One whose start-up code deletes the folder it ran from is past any check made in the
    # process it steered: only ``python -I`` is out of its reach.)
    if where is None or not (where.is_dir() or folder in sys.path):
        return None
    return (f"the user site folder {where} is inside the project (HOME or PYTHONUSERBASE "
            "points there): its .pth files and usercustomize run at start-up")


def startup_problem(project: Path) -> str | None:
    """Why code of ``project`` may have run at start-up of this interpreter; None when the
    interpreter was started so that none could (``python -I``) or nothing points there."""
    return environment_problem(project) or user_site_problem(project)


def exit_prompted() -> bool:
    """Whether the interpreter will open its prompt instead of exiting when the command
    ends (``-i``, ``PYTHONINSPECT``, also when set after start): the prompt reads stdin,
    and at its end (an empty stdin in CI) the process exits 0 whatever the command said."""
    if sys.flags.inspect:
        return True
    if sys.flags.ignore_environment:
        return False
    return any(value for value in started_environment().get("PYTHONINSPECT", []))
