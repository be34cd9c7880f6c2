"""``coverage``: line coverage from coverage reports, by glob: at least ``min`` percent.

Reads Cobertura XML (``coverage xml`` of coverage.py, Istanbul's and most tools' ``cobertura``
reporter: the root ``<coverage line-rate="0.87">``) and coverage.py's JSON report
(``totals.percent_covered``). Every report must reach the bound. Parameters: ``paths`` or
``report`` (default ``coverage``), ``min`` (a percentage or a threshold), ``not_before``,
``max_age_days``. A rate outside 0..1 (or 0..100), NaN or a report without a total is
evidence missing, never a pass; so is a report that measured nothing (coverage.py says 100 %
of 0 statements) or whose total its own counts contradict (``lines-valid``/``lines-covered``,
``num_statements``/``covered_lines``). XML is parsed with defusedxml (no entity expansion).

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
from pytest_deploygate.checks.stated_times import coverage_time
from pytest_deploygate.core.results import CheckResult


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """The lowest coverage over every report against the bound."""
    found = gather(params, ctx, default_report="coverage", stated=coverage_time)
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
        return _json_percent(report.data)
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
    contradiction = _cobertura_counts(root, rate)
    return contradiction if contradiction else rate * 100


#: How far a stated total may be from the one its counts give: coverage.py writes line-rate
#: with 4 significant digits.
_ROUNDING = 0.001


def _json_percent(data: bytes) -> float | str:
    """coverage.py's JSON total, held to its own counts.

    coverage.py says 100 % when it measured no statement at all (a ``--cov`` of a package
    never imported, a wrong ``source``): that measured nothing, so it is no evidence.
    """
    try:
        totals = json.loads(data).get("totals")
        value = totals["percent_covered"]
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return "not a coverage.py JSON report (no totals.percent_covered)"
    counts = {name: totals.get(name, 0) for name in (
        "percent_covered", "covered_lines", "num_statements", "covered_branches",
        "num_branches")}
    if "num_statements" not in totals or any(
            isinstance(count, bool) or not isinstance(count, int | float)
            for count in counts.values()):
        return ("totals.percent_covered, num_statements, covered_lines (and the branch "
                "counts) must be numbers: not a coverage.py JSON report")
    if not math.isfinite(value) or not 0 <= value <= 100:
        return f"impossible coverage {value!r}"
    measured = counts["num_statements"] + counts["num_branches"]
    if measured <= 0:
        return "it measured no statement (num_statements is 0): no code was measured"
    covered = counts["covered_lines"] + counts["covered_branches"]
    if not 0 <= covered <= measured or abs(100 * covered / measured - value) > 100 * _ROUNDING:
        return (f"totals.percent_covered {value!r} contradicts its counts ({covered} of "
                f"{measured} statements and branches covered)")
    return float(value)


def _cobertura_counts(root: Any, rate: float) -> str | None:
    """Why a Cobertura report's line-rate is not borne out by its lines, if so.

    Many tools write ``line-rate="1"`` when they measured no line at all (coverage.py does):
    a report of no line is no evidence. Without ``lines-valid`` the ``<line>`` elements of
    its classes are counted.
    """
    raw_valid, raw_covered = root.get("lines-valid"), root.get("lines-covered")
    lines = [line for cls in root.iter("class") for holder in cls.findall("lines")
             for line in holder.findall("line")]
    try:
        valid = int(raw_valid) if raw_valid is not None else len(lines)
        covered = int(raw_covered) if raw_covered is not None else (
            None if raw_valid is not None else sum(1 for line in lines
                                                   if _hits(line.get("hits")) > 0))
    except ValueError:
        return (f"lines-valid {raw_valid!r} / lines-covered {raw_covered!r} are not whole "
                "numbers")
    if valid <= 0:
        return "it measured no line (lines-valid is 0, no <line> measured): no code was measured"
    if covered is not None and (not 0 <= covered <= valid or
                                abs(covered / valid - rate) > _ROUNDING):
        return f"line-rate {root.get('line-rate')!r} contradicts {covered} of {valid} lines covered"
    return None


def _hits(raw: str | None) -> int:
    try:
        return int(raw or "0")
    except ValueError:
        return 0


KIND = builtin_kind("coverage", evaluate)
