"""``coverage``: line coverage from coverage reports, by glob: at least ``min`` percent.

Reads Cobertura XML (``coverage xml`` of coverage.py, Istanbul's and most tools' ``cobertura``
reporter: the root ``<coverage line-rate="0.87">``) and coverage.py's JSON report
(``totals.percent_covered``). Every report must reach the bound. Parameters: ``paths`` or
``report`` (default ``coverage``), ``min`` (a percentage or a threshold), ``not_before``,
``max_age_days``. A rate outside 0..1 (or 0..100), NaN or a report without a total is
evidence missing, never a pass. XML is parsed with defusedxml (no entity expansion).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.checks.evidence_files import EvidenceFile, gather
from pytest_deploygate.core.results import CheckResult


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """The lowest coverage over every report against the bound."""
    found = gather(params, ctx, default_report="coverage")
    if isinstance(found, CheckResult):
        return found
    bound = ctx.number(params["min"])
    shown = ctx.describe_number(params["min"])
    below = []
    measured = []
    for report in found.files:
        percent = _percent(report)
        if isinstance(percent, str):
            return CheckResult.missing(f"{report.relative}: {percent}", *found.evidence)
        measured.append(f"{report.relative} {percent:.1f}%")
        if percent < bound:
            below.append(f"{report.relative} covers {percent:.1f}%")
    if below:
        return CheckResult.not_met(f"coverage below {shown}%: {', '.join(below)}",
                                   *found.evidence)
    return CheckResult.met(f"coverage at least {shown}%: {', '.join(measured)}",
                           *found.evidence)


def _percent(report: EvidenceFile) -> float | str:
    """The report's total line coverage in percent, or why it has none."""
    text = report.data.lstrip()
    if text.startswith(b"{"):
        try:
            totals = json.loads(report.data).get("totals")
            value = float(totals["percent_covered"])
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return "not a coverage.py JSON report (no totals.percent_covered)"
        return value if math.isfinite(value) and 0 <= value <= 100 else \
            f"impossible coverage {value!r}"
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(report.data)
    except (DefusedXmlException, SafeET.ParseError) as exc:
        return f"not a readable coverage report: {type(exc).__name__}"
    if root.tag != "coverage" or root.get("line-rate") is None:
        return "not a Cobertura coverage report (no <coverage line-rate=...>)"
    try:
        rate = float(root.get("line-rate", ""))
    except ValueError:
        return f"line-rate {root.get('line-rate')!r} is not a number"
    if not math.isfinite(rate) or not 0 <= rate <= 1:
        return f"impossible line-rate {root.get('line-rate')!r}"
    return rate * 100


KIND = builtin_kind("coverage", evaluate)
