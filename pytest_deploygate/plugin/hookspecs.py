"""Hooks other packages implement to extend pytest-deploygate.

Register a module or object as a pytest plugin (a ``pytest11`` entry point, a conftest.py, or
``-p``) and implement :func:`pytest_deploygate_check_kinds` to add check kinds; see
docs/extending.md for a complete example.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Sequence

    import pytest

    from pytest_deploygate.checks.context import CheckKind

hookspec = pluggy.HookspecMarker("pytest")


@hookspec
def pytest_deploygate_check_kinds(config: pytest.Config) -> Sequence[CheckKind]:
    """Return check kinds to make available to gate specs.

    Called once per gate run. Kind names must be unique across all plugins; a clash is an
    error rather than a silent override, since a gate's meaning must not depend on which
    plugin loaded last.
    """
    raise NotImplementedError  # pragma: no cover - a spec, never called
