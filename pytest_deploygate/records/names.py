"""How a gate record names its testcases: what writing a record and verifying one share.

(Here, not in :mod:`.junit`: ``deploygate verdict`` reads records and need not load what
writes them.)

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

DECISION_ID = "gate-decision"
#: The record property that marks a replay (``--gate-now``): never a record to deploy on.
REPLAY_PROPERTY = "deploygate.replay"
#: The record property naming thresholds overridden on the command line (``--gate-threshold``):
#: a PASS under them is not a PASS of the reviewed gate.
THRESHOLD_OVERRIDES_PROPERTY = "deploygate.threshold_overrides"
#: The record property naming evidence sources the command line chose where the reviewed
#: deploygate.yaml did not (``--gate-prometheus``, ``--gate-health-url``): a PASS measured
#: there is not a PASS of the reviewed gate.
SOURCE_OVERRIDES_PROPERTY = "deploygate.source_overrides"


def threshold_overrides(thresholds: dict[str, float]) -> str:
    """``error_rate=0.02,p99_ms=1500``: the command line's overrides, as a record shows them."""
    return ",".join(f"{name}={value:g}" for name, value in sorted(thresholds.items()))


#: ``shown`` and ``redact_text``, once :func:`testcase_name` has imported them.
_CLEANERS: list[Callable[[str], str]] = []


def testcase_name(gate_id: str, item_id: str, text: str) -> str:
    """``[GATE-12][security-sign-off] Security sign-off obtained``.

    ``text`` is the checklist text as written (``p99 > {p99_ms}ms``), not the rendered one:
    a name must not change when a threshold does.
    """
    if not _CLEANERS:
        # Imported on first use (deploygate verdict need not load them), then kept: each
        # record names every criterion (5,000 import statements at 5,000 criteria).
        from pytest_deploygate.core.printable import shown
        from pytest_deploygate.core.redaction import redact_text

        _CLEANERS[:] = (shown, redact_text)
    show, redact = _CLEANERS
    # The text as written may hold a URL: a record shows it redacted, like every other text.
    # A user's test names its criterion in Python (a docstring, a marker's id), which may hold
    # what a checklist cannot: a control character, a lone surrogate. XML 1.0 carries none of
    # them (the record would not parse), so they are shown as escapes, as evidence is.
    return show(f"[{gate_id}][{item_id}] {redact(text)}")
