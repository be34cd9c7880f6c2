"""Size limits on every file the plugin reads, chosen per run (ini settings).

Reviewed inputs (specs, deploygate.yaml, approvers) are small documents; evidence (reports,
scans, captured metrics, logs, state.json, records) can be large but not unbounded. A file
over its limit is an error naming the file and the limit, never a pass.

The limits are a value the run holds and hands to its readers, never module state: a second
run in the same process (pytester, an IDE) gets its own ini settings, not the last run's.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from pytest_deploygate.core.value_class import value_class

#: Gate specs, deploygate.yaml, the approvers file.
DEFAULT_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Evidence, state.json, sign-off and waiver logs, gate records.
DEFAULT_EVIDENCE_BYTES = 64 * 1024 * 1024


@value_class(frozen=True)
class Limits:
    """The byte limits of one run."""

    document_bytes: int = DEFAULT_DOCUMENT_BYTES
    evidence_bytes: int = DEFAULT_EVIDENCE_BYTES

    @classmethod
    def of(cls, document_bytes: int | None, evidence_bytes: int | None) -> Limits:
        """The ini settings applied over the defaults (None keeps a default)."""
        return cls(document_bytes or DEFAULT_DOCUMENT_BYTES,
                   evidence_bytes or DEFAULT_EVIDENCE_BYTES)


#: What a reader uses when no run hands it limits (the ``deploygate`` commands).
DEFAULT_LIMITS = Limits()


def ini_size(name: str, raw: object) -> int | None:
    """An ini size setting as a number of bytes (None when unset); :class:`ValueError` says
    what is wrong with it (the run and the ``deploygate`` commands word it alike)."""
    if not raw:
        return None
    text = str(raw).strip()
    # int() also reads "٣" (an Arabic-Indic 3: a 3-byte limit) and "1_000": ASCII digits only.
    if not (text.isascii() and text.removeprefix("-").isdigit()):
        raise ValueError(f"ini {name} = {raw!r}: expected a number of bytes (digits 0-9)")
    value = int(text)
    if value <= 0:
        raise ValueError(f"ini {name} = {raw!r}: must be positive")
    return value
