"""Whether code of the checkout was imported into this process (the signing run, verdict).

``python -m pytest`` or ``python -m pytest_deploygate`` run from the checkout put it first on
``sys.path``, and so do ``PYTHONPATH`` and a ``pythonpath`` ini setting: a committed ``yaml/``,
``defusedxml.py`` or ``pytest/`` is then imported in place of the installed one, and it decides
what is signed or what verdict says. A committed ``pytest_deploygate/`` is beyond any check
here (it runs in place of this code): the pipeline avoids that with the installed
``deploygate`` and ``pytest`` scripts or ``python -P -m`` (docs/ci-recipes.md). What this
module finds is the rest: a module imported from the project that did not hide itself.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Iterable
from pathlib import Path


@functools.cache  # (the interpreter's own folders: the three checks of a verdict ask each)
def installed_folders() -> tuple[Path, ...]:
    """Where this interpreter's installed packages and standard library live: a virtual
    environment inside the checkout is no repository code on sys.path (pip wrote it). Asked
    of the interpreter, not read from folder names: a committed ``vendor/site-packages/`` on
    ``pythonpath`` is the repository's code."""
    import sysconfig

    paths = sysconfig.get_paths()
    return tuple({Path(paths[name]).resolve() for name in
                  ("purelib", "platlib", "stdlib", "platstdlib", "scripts")
                  if paths.get(name)})


def interpreter_folders_in(checkout: Path) -> tuple[Path, ...]:
    """This interpreter's own folders (its prefix: a virtual environment, and the installed
    folders) that lie inside ``checkout``: pip wrote them, unless the repository did."""
    checkout = checkout.resolve()
    places = {Path(sys.prefix).resolve(), Path(sys.exec_prefix).resolve(), *installed_folders()}
    inside = sorted(place for place in places if place.is_relative_to(checkout))
    # The outermost ones: a prefix holds its site-packages and scripts.
    return tuple(place for place in inside
                 if not any(place != other and place.is_relative_to(other) for other in inside))


def path_entry_in(checkout: Path) -> str | None:
    """A ``sys.path`` entry inside ``checkout`` other than this interpreter's own folders
    (and this package's own source folder: an editable install gating its own repository).
    What is imported from such a folder is the repository's code, whether or not it still
    shows in ``sys.modules``."""
    import os

    checkout = checkout.resolve()
    exempt = (*installed_folders(), Path(__file__).resolve().parents[2])
    for entry in list(sys.path):
        try:
            folder = Path(entry or os.getcwd()).resolve()
        except (OSError, RuntimeError, ValueError):
            continue
        if folder.is_relative_to(checkout) and folder not in exempt[-1:] and \
                not any(folder.is_relative_to(place) for place in exempt[:-1]):
            return entry or "(the current folder)"
    return None


def imported_from(project: Path, extra: Iterable[tuple[str, object]] = ()
                  ) -> tuple[str, Path] | None:
    """The first module (name, file) of ``sys.modules`` (and ``extra``: name, module) whose
    file lies in ``project`` outside the installed folders; None when there is none.

    This package's own folder is not counted: when it is in the project (an editable install
    of pytest-deploygate gating its own repository) this code is the package, and a package
    shadowing it would not be asking."""
    project = project.resolve()
    exempt = (*installed_folders(), Path(__file__).resolve().parents[1])
    modules = [(name, module) for name, module in list(sys.modules.items())]
    folders: dict[str, str] = {}
    for name, module in (*modules, *extra):
        file = getattr(module, "__file__", None)
        if not isinstance(file, str) or not file:
            continue
        try:
            where = Path(_resolved(file, folders))
        except (OSError, RuntimeError, ValueError):
            continue
        if where.is_relative_to(project) and \
                not any(where.is_relative_to(folder) for folder in exempt):
            return str(name), where
    return None


def _resolved(file: str, folders: dict[str, str]) -> str:
    """``os.path.realpath(file)``, each folder resolved once (``folders``: folder -> where it
    leads). Most modules share a few folders (the standard library, site-packages), and
    resolving every file's path part by part was a tenth of a verdict. A file that is itself
    a symbolic link (or a name realpath treats specially) is resolved whole, as before."""
    import os

    # (Not os.path.abspath: it drops "x/.." as text, where a link x leads elsewhere.)
    absolute = file if os.path.isabs(file) else os.path.join(os.getcwd(), file)
    folder, base = os.path.split(absolute)
    if not base or base in (".", "..") or ".." in absolute.split(os.sep) or \
            os.path.islink(absolute):
        return os.path.realpath(absolute)
    resolved = folders.get(folder)
    if resolved is None:
        resolved = folders[folder] = os.path.realpath(folder)
    return os.path.join(resolved, base)
