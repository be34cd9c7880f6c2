"""Import the plugin's own modules with Python's ordinary loader, not pytest's rewriter.

pytest marks the package of every ``pytest11`` plugin for assertion rewriting, so each of
this package's modules goes through its import hook: read, parsed into an AST, searched for
asserts, compiled from the AST. The hook keeps its own ``.pyc`` (never the one ``pip``
compiled at install time) and writes none when bytecode writing is off
(``PYTHONDONTWRITEBYTECODE=1``), so on such machines every gate run parsed and compiled the
whole plugin, about twice the cost of an ordinary compile. The package has no test assertions
to rewrite (its modules say ``PYTEST_DONT_REWRITE``); a module whose name happens to match
``python_files`` (``test_*.py``) would even be rewritten as a test file.

:class:`PlainImportFinder`, put ahead of pytest's hook for the length of one pytest session,
hands this package's submodules to :class:`importlib.machinery.PathFinder`: the same files
and the same code as an import outside pytest, through the standard loader (which reads and
writes ``.pyc`` files as the interpreter is told to). Nothing else is affected: any other name
falls through to the next finder.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from collections.abc import Callable, Sequence
from types import ModuleType

#: The whole plugin, every stage of it.
PACKAGE = __name__.partition(".")[0]


class PlainImportFinder(importlib.abc.MetaPathFinder):
    """Finds ``<package>.*`` modules the way Python does without any import hook."""

    def __init__(self, package: str) -> None:
        self.prefix = package + "."

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if not fullname.startswith(self.prefix):
            return None
        return importlib.machinery.PathFinder.find_spec(fullname, path, target)


def install(package: str = PACKAGE) -> Callable[[], None]:
    """Put a finder for ``package`` first on ``sys.meta_path`` unless one is there already;
    return what removes it."""
    finder = next((f for f in sys.meta_path if isinstance(f, PlainImportFinder)
                   and f.prefix == package + "."), None)
    if finder is None:
        finder = PlainImportFinder(package)
        sys.meta_path.insert(0, finder)

    def remove() -> None:
        if finder in sys.meta_path:
            sys.meta_path.remove(finder)

    return remove
