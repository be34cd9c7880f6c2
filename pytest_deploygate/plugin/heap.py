"""A gate's long-lived objects set aside from the cyclic garbage collector while its items run.

A big gate's spec, its items and pytest's own state stay alive for the whole run, and every
full collection walked all of them again (at 5,000 criteria the collector took a large share
of the run, against a third of that for as many of the pytest docs' YAML items).
``gc.freeze()`` moves every object alive when the items start into a permanent generation
that collections skip. Objects made while the items run, and everything freed by reference
counting, are handled as usual. The heap is handed back (``gc.unfreeze()``) when pytest cleans
up the run, before its own last collection, which looks for unraisable exceptions: nothing
frozen is hidden from it.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import gc

import pytest


def set_aside_while_running(config: pytest.Config) -> None:
    """Freeze the heap until ``config`` is cleaned up (unless something else froze it: that
    freeze is its owner's to undo, and an unfreeze here would undo it)."""
    if gc.get_freeze_count():
        return
    gc.freeze()
    # (Cleanups run last registered first: this one before pytest's final collection.)
    config.add_cleanup(gc.unfreeze)
