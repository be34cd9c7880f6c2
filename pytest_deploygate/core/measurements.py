"""What a metric check measured, kept as numbers so records can chart it against its bound.

A check kind that compares a number with ``min``/``max`` attaches a :class:`Measurement` to its
result: the values (one, or a window's samples with their times), the bounds, and when a
trigger fired. It travels in the report's plain dict (pytest-xdist) and ends in the HTML
record's charts.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import math
from typing import Any

from pytest_deploygate.core.value_class import value_class

#: Samples kept per measurement: a long watch is thinned, keeping the first, breaches and last.
MAX_POINTS = 600


@value_class(frozen=True)
class Point:
    """One measurement: seconds after the first one, the value (None: inconclusive)."""

    at: float
    value: float | None
    breached: bool = False


@value_class(frozen=True)
class Measurement:
    """Values of one metric against its bounds."""

    label: str
    points: tuple[Point, ...]
    low: float | None = None
    high: float | None = None
    #: Seconds after the first measurement at which the window fired, if it did.
    fired_at: float | None = None
    #: A watch or window ran (values over time), rather than a single reading.
    windowed: bool = False

    def __post_init__(self) -> None:
        # The label is charted in the HTML record: a URL in it is shown redacted.
        from pytest_deploygate.core.redaction import redact_text

        object.__setattr__(self, "label", redact_text(self.label))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly form."""
        return {"label": self.label, "low": self.low, "high": self.high,
                "fired_at": self.fired_at, "windowed": self.windowed,
                "points": [[p.at, p.value, p.breached] for p in self.points]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Measurement | None:
        """The inverse of :meth:`to_dict`; None for anything malformed (never an error)."""
        if not isinstance(data, dict):
            return None
        try:
            points = tuple(Point(float(at), _number(value), bool(breached))
                           for at, value, breached in data.get("points", []))
            return cls(str(data.get("label", "")), points, _number(data.get("low")),
                       _number(data.get("high")), _number(data.get("fired_at")),
                       bool(data.get("windowed", False)))
        except (TypeError, ValueError):
            return None


def single(label: str, value: float, low: float | None, high: float | None) -> Measurement:
    """One reading against its bounds."""
    breached = (high is not None and value > high) or (low is not None and value < low)
    return Measurement(label, (Point(0.0, _number(value), breached),), low, high)


def thin(points: list[Point]) -> tuple[Point, ...]:
    """At most :data:`MAX_POINTS`, keeping every breach, the first and the last."""
    if len(points) <= MAX_POINTS:
        return tuple(points)
    step = math.ceil(len(points) / MAX_POINTS)
    kept = [p for i, p in enumerate(points)
            if i % step == 0 or p.breached or i == len(points) - 1]
    return tuple(kept)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
