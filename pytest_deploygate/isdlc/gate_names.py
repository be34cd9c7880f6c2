"""How a sign-off, a waiver or a ``gate`` marker names its gate, and which gate that is.

A line of ``attestations.jsonl`` or ``waivers.jsonl`` (and a ``@pytest.mark.gate(...)``)
names a gate by number (``12``, ``"GATE-12"``) or by phase key (``"13-production"``).

- 13-phase layout: a number names the gate of that number, exactly as it always has; a key
  names the gate of that phase.
- Today's layout: a key (or one of its aliases) names that phase only. Two phases share
  the numbers 02 and 12 and three share 15, so a number names a gate only where exactly one
  phase has it; an ambiguous number names no gate at all, so a sign-off for ``12-test-deploy``
  can never count for ``12-remote-build``.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from pytest_deploygate.isdlc.layout import Layout, key_number

_NUMBER = re.compile(r"(?:GATE-)?0*([0-9]{1,3})", re.IGNORECASE)


def named_number(named: int | str) -> int | None:
    """The number a gate name gives (``12``, ``"12"``, ``"GATE-12"``), or None for a key."""
    if isinstance(named, bool):
        return None
    if isinstance(named, int):
        return named
    match = _NUMBER.fullmatch(named.strip())
    return int(match.group(1)) if match else None


def phases_numbered(number: int, layout: Layout, extra: Iterable[str] = ()) -> list[str]:
    """The phase keys of the layout (and ``extra`` keys) that carry ``number``, in order."""
    keys = {k for k in (*layout.keys, *extra) if key_number(k) == number}
    return sorted(keys, key=layout.order)


def names_gate(named: int | str, layout: Layout, *, number: int, gate_id: str,
               phase: str) -> bool:
    """True when ``named`` (a log line's or marker's gate) is this gate.

    ``number``, ``gate_id`` and ``phase`` are the gate's spec number, id and phase key.
    """
    wanted = named_number(named)
    if not layout.current:
        if wanted is not None:  # exactly as before: the number, or the id GATE-NN itself
            return named in (number, gate_id)
        return isinstance(named, str) and named.lower() == phase
    own = layout.canonical(phase)
    if wanted is None:
        return isinstance(named, str) and layout.canonical(named.lower()) == own
    return phases_numbered(wanted, layout, (own,)) == [own]


def ambiguity(named: int | str, layout: Layout, extra: Iterable[str] = ()) -> list[str]:
    """The phase keys an ambiguous number could mean (empty when it is not ambiguous)."""
    wanted = named_number(named)
    if wanted is None or not layout.current:
        return []
    keys = phases_numbered(wanted, layout, extra)
    return keys if len(keys) > 1 else []


def log_name(phase: str, number: int, layout: Layout) -> int | str:
    """What ``deploygate attest``/``waive`` write as the gate: the canonical phase key on
    today's layout, the number on the 13-phase layout (as before)."""
    return layout.canonical(phase) if layout.current else number


def names_selected(named: object, layout: Layout | None, *, number: int, slug: str,
                   key: str | None) -> bool:
    """True when a ``@pytest.mark.gate(named)`` names this selected gate (its spec file's
    number, slug and, on today's layout, phase key). On the 13-phase layout a number names
    the gate of that number (as before) and a slug names its gate; on today's layout see
    :func:`names_gate` (an ambiguous number names none: :func:`ambiguity` says why)."""
    if isinstance(named, bool) or not isinstance(named, (int, str)):
        return False
    wanted = named_number(named)
    if layout is None or not layout.current or key is None:
        return number == wanted if wanted is not None else str(named).lower() == slug
    if wanted is None:
        return layout.canonical(str(named).lower()) == key
    return phases_numbered(wanted, layout, (key,)) == [key]
