"""Instants with explicit timezones, and the one evaluation clock of a gate run."""

from __future__ import annotations

from datetime import UTC, datetime


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
        return parsed.replace(tzinfo=UTC)
    if parsed.tzinfo is None:
        raise ValueError(f"{text!r} has no timezone; add Z or an offset like +02:00")
    return parsed


def format_instant(moment: datetime) -> str:
    """UTC, seconds precision, ``Z`` suffix."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def now_utc() -> datetime:
    """The wall clock, used only when ``--gate-now`` is not given."""
    return datetime.now(UTC)
