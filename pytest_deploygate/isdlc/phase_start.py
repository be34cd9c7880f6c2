"""When a phase started, as the framework records it: the bound of which sign-offs count
(the last release's do not) and of who authored the release.

The 13-phase layout writes ``phases.<key>.started``; today's framework writes
``phases.<key>.timing.started_at`` (its orchestrator, REQ-0022) or ``phases.<key>.started_at``
(its phase loop). Reading only the first would let every earlier release's sign-off count on
today's layout, so each is read, and the latest recorded start wins: a later start only ever
counts fewer sign-offs.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pytest_deploygate.core.timeutil import parse_instant

if TYPE_CHECKING:
    from pytest_deploygate.isdlc.layout import Layout
    from pytest_deploygate.isdlc.state import StateDoc

#: Where a phase's start is recorded, relative to ``phases.<key>``.
START_FIELDS = ("started", "timing.started_at", "started_at")


def phase_start(state: StateDoc, phase: str, layout: Layout | None = None) -> datetime | None:
    """The latest start recorded for ``phase`` (under its key or, with ``layout``, any alias
    of it: a workflow that lists ``14-production`` has the framework write that key); None
    when none is recorded (null or absent). Raises ValueError naming the path when a recorded
    start cannot be read."""
    keys = [phase]
    phases = state.get("phases")
    if layout is not None and isinstance(phases, dict):
        own = layout.canonical(phase)
        keys += [k for k in phases if isinstance(k, str) and k != phase
                 and layout.canonical(k) == own]
    found: list[datetime] = []
    for key in keys:
        for field in START_FIELDS:
            path = f"phases.{key}.{field}"
            raw = state.get(path)
            if raw is None:
                continue
            try:
                if not isinstance(raw, str):
                    raise ValueError(f"not a date-time but {type(raw).__name__}")
                found.append(parse_instant(raw))
            except ValueError as exc:
                raise ValueError(f"{path} is unreadable ({exc})") from None
    return max(found, default=None)
