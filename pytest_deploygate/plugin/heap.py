"""A gate's long-lived objects set aside from the cyclic garbage collector during the run.

A big gate's spec, its items and pytest's own state stay alive for the whole run, and every
full collection walked all of them again (at 5,000 criteria the collector took a large share
of the run, against a third of that for as many of the pytest docs' YAML items).
``gc.freeze()`` moves every object alive at that moment into a permanent generation that
collections skip: once the run is prepared (the spec, state and plan loaded) and again when
the items start. Objects made later, and everything freed by reference counting, are handled
as usual. The heap is handed back (``gc.unfreeze()``) at the start of ``pytest_unconfigure``,
before pytest's own last collections, which look for unraisable exceptions: they see the
whole heap, as in a run without the plugin.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import gc

import pytest

_FROZEN = pytest.StashKey[bool]()


def set_aside(config: pytest.Config) -> None:
    """Freeze the heap as it is now until :func:`hand_back` (called again, the freeze takes in
    what was made since). Not when something else froze it first: that freeze is its owner's
    to undo, and an unfreeze here would undo it."""
    if not config.stash.get(_FROZEN, False):
        if gc.get_freeze_count():
            return
        config.stash[_FROZEN] = True
        # (A run that never reaches pytest_unconfigure still hands it back at its clean-up.)
        config.add_cleanup(lambda: hand_back(config))
    gc.freeze()


def hand_back(config: pytest.Config) -> None:
    """Undo :func:`set_aside`'s freeze, once."""
    if config.stash.get(_FROZEN, False):
        config.stash[_FROZEN] = False
        gc.unfreeze()
