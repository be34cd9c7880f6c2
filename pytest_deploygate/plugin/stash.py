"""Run-time facts of a gate run, kept in ``config.stash`` (not found by plugin name).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pytest_deploygate.decision.outcomes import OutcomeBook
    from pytest_deploygate.gate.run import GateRun
    from pytest_deploygate.gate.settings import Settings

#: The checked options of the run (set when ``--gate`` is given).
SETTINGS_KEY: pytest.StashKey[Settings] = pytest.StashKey()
#: The prepared run: projects, plans, prerequisites (set at session start).
RUN_KEY: pytest.StashKey[GateRun] = pytest.StashKey()
#: Set once the run has removed the earlier records it must (see plugin.session).
CLEARED_KEY: pytest.StashKey[bool] = pytest.StashKey()
#: Set once the command reached ``pytest_cmdline_main``: one that did not was stopped in pytest's
#: parse, after the plugin loaded (see plugin.__init__).
MAIN_KEY: pytest.StashKey[bool] = pytest.StashKey()
#: The outcomes gathered from reports (on the process that decides: not on xdist workers).
BOOK_KEY: pytest.StashKey[OutcomeBook] = pytest.StashKey()


def gate_run(config: pytest.Config) -> GateRun | None:
    """The session's gate run, or None when the session is not one (or it failed to start)."""
    return config.stash.get(RUN_KEY, None)
