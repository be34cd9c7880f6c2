"""Size limits on every file the plugin reads, set once per run (ini settings).

Reviewed inputs (specs, deploygate.yaml, approvers) are small documents; evidence (reports,
scans, captured metrics, logs, state.json, records) can be large but not unbounded. A file
over its limit is an error naming the file and the limit, never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

DEFAULT_DOCUMENT_BYTES = 2 * 1024 * 1024
DEFAULT_EVIDENCE_BYTES = 64 * 1024 * 1024
#: Gate specs, deploygate.yaml, the approvers file.
MAX_DOCUMENT_BYTES = DEFAULT_DOCUMENT_BYTES
#: Evidence, state.json, sign-off and waiver logs, gate records.
MAX_EVIDENCE_BYTES = DEFAULT_EVIDENCE_BYTES


def configure(document_bytes: int | None, evidence_bytes: int | None) -> None:
    """Apply the ini settings of a run; None is the default, never the last run's setting (a
    second run in the same process, pytester or an IDE, must not inherit a raised limit)."""
    global MAX_DOCUMENT_BYTES, MAX_EVIDENCE_BYTES
    MAX_DOCUMENT_BYTES = document_bytes or DEFAULT_DOCUMENT_BYTES
    MAX_EVIDENCE_BYTES = evidence_bytes or DEFAULT_EVIDENCE_BYTES
