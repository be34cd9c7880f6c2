"""Size limits on every file the plugin reads, set once per run (ini settings).

Reviewed inputs (specs, deploygate.yaml, approvers) are small documents; evidence (reports,
scans, captured metrics, logs, state.json, records) can be large but not unbounded. A file
over its limit is an error naming the file and the limit, never a pass.

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

#: Gate specs, deploygate.yaml, the approvers file.
MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
#: Evidence, state.json, sign-off and waiver logs, gate records.
MAX_EVIDENCE_BYTES = 64 * 1024 * 1024


def configure(document_bytes: int | None, evidence_bytes: int | None) -> None:
    """Apply the ini settings (None keeps the default)."""
    global MAX_DOCUMENT_BYTES, MAX_EVIDENCE_BYTES
    if document_bytes:
        MAX_DOCUMENT_BYTES = document_bytes
    if evidence_bytes:
        MAX_EVIDENCE_BYTES = evidence_bytes
