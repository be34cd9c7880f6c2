"""``junit``: JUnit XML test reports, by glob: at least one test, no failures or errors.

Parameters: ``paths`` or ``report`` (a named set in deploygate.yaml, default ``junit``),
``min_tests`` (default 1), ``allow_skipped`` (default true), ``not_before``, ``max_age_days``.
Testcases are counted from the elements, not from the suites' summary attributes, which a
hand-edited report could get wrong; the summaries are cross-checked: a suite that declares
more tests, failures or errors than its testcases show (``errors="3"`` and no testcase), or
a summary that is not a non-negative whole number, is evidence missing (``skipped`` and
``disabled`` too: a summary of skipped tests over testcases that show none did not run them).
A testcase whose ``status`` or ``result`` says it did not run (googletest's DISABLED_ tests,
``status="notrun" result="suppressed"``, Ginkgo's ``pending``) is skipped; one whose status or
result is no word for a pass (CTest's ``status="fail"``, Ginkgo's ``timedout`` or
``panicked``, any word the reader does not know) failed, with or without the element. Zero
tests is never a pass. Parsed
with defusedxml (no entity expansion).

(PYTEST_DONT_REWRITE: no test assertions here, so pytest need not rewrite it.)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pytest_deploygate.checks.context import EvalContext
from pytest_deploygate.checks.declared import builtin_kind
from pytest_deploygate.checks.evidence_files import EvidenceFile, gather
from pytest_deploygate.checks.stated_times import junit_time
from pytest_deploygate.core.results import CheckResult

_SHOWN = 5


def evaluate(params: Mapping[str, Any], ctx: EvalContext) -> CheckResult:
    """Count tests and failures over every report."""
    found = gather(params, ctx, default_report="junit", stated=junit_time)
    if isinstance(found, CheckResult):
        return found
    total = skipped = 0
    failing: list[str] = []
    for report in found.files:
        counted = _count(report)
        if isinstance(counted, str):
            return CheckResult.missing(counted, *found.evidence)
        total += counted[0]
        skipped += counted[1]
        failing += counted[2]
    evidence = found.evidence
    files = found.listing()
    if failing:
        shown = "; ".join(failing[:_SHOWN]) + (f"; +{len(failing) - _SHOWN} more"
                                               if len(failing) > _SHOWN else "")
        return CheckResult.not_met(f"{len(failing)} of {total} tests failed or errored: {shown} "
                                   f"(read {files})", *evidence)
    minimum = int(params.get("min_tests", 1))
    if total - skipped < minimum:
        return CheckResult.not_met(f"{total - skipped} tests ran (at least {minimum} required; "
                                   f"{skipped} skipped) in {files}", *evidence)
    if skipped and params.get("allow_skipped") is False:
        return CheckResult.not_met(f"{skipped} tests skipped in {files}", *evidence)
    return CheckResult.met(f"{total} tests, none failed ({skipped} skipped) in {files}",
                           *evidence)


def _count(report: EvidenceFile) -> tuple[int, int, list[str]] | str:
    import defusedxml.ElementTree as SafeET
    from defusedxml import DefusedXmlException

    try:
        root = SafeET.fromstring(report.data)
    except DefusedXmlException as exc:
        return f"{report.relative}: refused unsafe XML ({type(exc).__name__})"
    except SafeET.ParseError as exc:
        return f"{report.relative}: not well-formed XML: {exc}"
    if root.tag not in ("testsuites", "testsuite"):
        return f"{report.relative}: not a JUnit report (root element <{root.tag}>)"
    inconsistent = _cross_check(root)
    if inconsistent:
        return f"{report.relative}: {inconsistent}"
    total = skipped = 0
    failing = []
    for case in root.iter("testcase"):
        total += 1
        if _not_run(case):
            skipped += 1
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        name = f"{case.get('classname', '')}.{case.get('name', '?')}".lstrip(".")
        if problem is not None:
            message = (problem.get("message") or "").splitlines()[0:1]
            failing.append(f"{name}" + (f" ({message[0][:120]})" if message else ""))
        elif _failed_by_status(case):
            failing.append(f"{name} (status={case.get('status')!r} result="
                           f"{case.get('result')!r})")
    failing += _outside_testcases(root)
    return total, skipped, failing


def _outside_testcases(root: Any) -> list[str]:
    """A <failure> or <error> that is no testcase's own: a suite whose setup or teardown
    failed (some runners report it on the suite). It fails the report like a testcase's."""
    owned = {id(child) for case in root.iter("testcase") for child in case}
    found = []
    for suite in [root, *root.iter("testsuite")]:
        for child in suite:
            if child.tag in ("failure", "error") and id(child) not in owned:
                message = (child.get("message") or "").splitlines()[0:1]
                found.append(f"suite {suite.get('name') or '?'} <{child.tag}>" +
                             (f" ({message[0][:120]})" if message else ""))
    return found


#: Summary attributes a suite may declare, checked against its testcases (``disabled``:
#: googletest's and the Jenkins schema's tests that were not run, counted with the skipped).
_DECLARED = ("tests", "failures", "errors", "skipped", "disabled")

#: A testcase's ``status`` or ``result`` saying it did not run, without a <skipped> element:
#: googletest lists DISABLED_ tests as status="notrun" result="suppressed"; CTest writes
#: status="notrun" or "disabled"; Ginkgo "pending"; behave "untested".
_NOT_RUN = frozenset({"notrun", "not run", "disabled", "skipped", "skip", "suppressed",
                      "ignored", "pending", "untested", "todo"})
#: ... or saying it ran and passed (googletest's "run" and "completed", CTest's and Catch2's
#: "run", Ginkgo's and behave's "passed"). Any other word is a test that did not pass, with
#: or without a <failure> element: CTest's "fail", Ginkgo's "timedout", "panicked",
#: "interrupted" and "aborted" (their elements lost in a conversion) were read as passes
#: when the reader listed the words of failure instead.
_PASSED = frozenset({"run", "ran", "completed", "complete", "passed", "pass", "success",
                     "successful", "succeeded", "ok", "executed"})


def _said(case: Any) -> set[str]:
    return {str(case.get(name)).strip().lower() for name in ("status", "result")
            if (case.get(name) or "").strip()}


def _not_run(case: Any) -> bool:
    """A skipped test: a <skipped> element, or a status or result saying it did not run."""
    return case.find("skipped") is not None or bool(_said(case) & _NOT_RUN)


def _failed_by_status(case: Any) -> bool:
    return bool(_said(case) - _PASSED - _NOT_RUN)


def _cross_check(root: Any) -> str | None:
    """Why the suites' summary attributes and their testcases cannot both be true, if so.

    Testcases are what is counted; but a summary that declares more tests, failures or
    errors than the testcases show means part of the report is missing (``errors="3"`` with
    no testcase is a failed run whose details were lost, never a pass).
    """
    suites = [root] if root.tag == "testsuite" else []
    suites += [suite for suite in root.iter("testsuite") if suite is not root]
    for suite in [root, *suites] if root.tag == "testsuites" else suites:
        counted = _counted(suite)
        name = suite.get("name") or ("(all suites)" if suite.tag == "testsuites" else "?")
        for attribute in _DECLARED:
            raw = suite.get(attribute)
            if raw is None:
                continue
            try:
                declared = int(raw.strip())
            except ValueError:
                return f"<{suite.tag} name={name!r}> {attribute}={raw!r} is not a whole number"
            if declared < 0:
                return f"<{suite.tag} name={name!r}> {attribute}={raw!r} is negative"
            if declared > counted[attribute]:
                return (f"<{suite.tag} name={name!r}> declares {attribute}={declared} but has "
                        f"{counted[attribute]} such testcase(s): the report is incomplete")
    return None


def _counted(suite: Any) -> dict[str, int]:
    cases = suite.iter("testcase") if suite.tag == "testsuites" else [
        case for inner in suite.iter("testsuite") for case in inner.findall("testcase")]
    counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for case in cases:
        counted["tests"] += 1
        if case.find("failure") is not None or _failed_by_status(case):
            counted["failures"] += 1
        elif case.find("error") is not None:
            counted["errors"] += 1
        if _not_run(case):
            counted["skipped"] += 1
    counted["disabled"] = counted["skipped"]
    return counted


KIND = builtin_kind("junit", evaluate)
