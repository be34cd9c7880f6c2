"""Instants with explicit timezones, and the one evaluation clock of a gate run.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

#: The instants a gate can mean: none before git's epoch, none near datetime's last year.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def parse_instant(text: str) -> datetime:
    """Parse ISO 8601 with a timezone (``Z`` allowed); a date alone means 00:00 UTC.

    Raises ValueError naming the problem; a time without a timezone is refused, because an
    expiry or sign-off that means different instants on different CI runners is a trap.
    """
    if not isinstance(text, str):
        raise ValueError(f"{text!r} is not a date-time string")
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date-time") from None
    if len(value) == 10:  # YYYY-MM-DD
        parsed = parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone; add Z or an offset like +02:00")
    try:  # year 1 at +01:00 is before datetime's first instant, 9999 at -01:00 after its last
        in_utc = parsed.astimezone(UTC)
    except OverflowError:
        in_utc = None
    if in_utc is None or not _EARLIEST <= in_utc < _LATEST:
        # Every instant is compared, formatted and moved by windows and expiries; one at the
        # end of the calendar made those crash (a traceback, not a line) instead of judging.
        raise ValueError(f"{text!r} is not between {_EARLIEST.year} and {_LATEST.year}: give "
                         "a real date")
    return parsed


@functools.lru_cache(maxsize=4096)
def format_instant(moment: datetime) -> str:
    """UTC, seconds precision, ``Z`` suffix (memoised: records repeat the same instants)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    """The wall clock, used only when ``--gate-now`` is not given."""
    return datetime.now(UTC)


_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str | float | int) -> float:
    """``200ms``, ``5s``, ``10m``, ``1h``, ``2d`` or a number of seconds -> seconds."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        return float(text)
    import re

    match = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*", str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30s, 5m or 1h")
    return float(match.group(1)) * _UNITS[match.group(2)]
