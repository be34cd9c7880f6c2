"""Built-in gates of today's layout: in step with the framework's checklists, and useful on
the phases a build workflow goes through (06-implementation, 16-quality-loop, 08-code-review):
tools answer what tools can, sign-offs the rest."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, REPO, TODAY_CHECKLISTS, GateProject, need, today_state

BUILD = ["05-test-strategy", "06-implementation", "16-quality-loop", "08-code-review"]
REPORTS = """\
reports:
  junit: [reports/junit/*.xml]
  coverage: [reports/coverage.xml]
  lint: [reports/lint.sarif]
  typecheck: [reports/typecheck.sarif]
  secrets: [reports/secrets.sarif]
  sarif: [reports/dependencies.sarif]
"""
JUNIT = ('<testsuite name="unit" tests="2" failures="0" errors="0"><testcase classname="t" '
         'name="a"/><testcase classname="t" name="b"/></testsuite>\n')


def sarif(*levels: str) -> str:
    results = [{"ruleId": f"R{i}", "level": level, "message": {"text": f"finding {i}"}}
               for i, level in enumerate(levels)]
    return json.dumps({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "tool", "rules": []}}, "results": results}]})


def tool_evidence(project: GateProject, line_rate: str = "0.91") -> None:
    reports = project.root / "reports"
    (reports / "junit").mkdir(parents=True, exist_ok=True)
    (reports / "junit" / "unit.xml").write_text(JUNIT)
    # (Counts that bear the rate out: a report of no measured line is no evidence.)
    try:
        covered = f' lines-valid="1000" lines-covered="{round(float(line_rate) * 1000)}"'
    except ValueError:
        covered = ""
    (reports / "coverage.xml").write_text(
        f'<?xml version="1.0"?>\n<coverage line-rate="{line_rate}"{covered} version="7.4">'
        '</coverage>\n')
    for name in ("lint", "typecheck", "secrets", "dependencies"):
        (reports / f"{name}.sarif").write_text(sarif("note"))
    (project.root / "deploygate.yaml").write_text(REPORTS)


def phase_state(template: dict[str, Any], phase: str) -> dict[str, Any]:
    state = today_state(template, phase, phases=BUILD)
    state["complexity_assessment"]["level"] = 2
    state["phases"][phase] = {
        "status": "in_progress",
        "iteration_requirements": {"test_iteration": {
            "completed": True, "status": "success", "current_iteration": 2,
            "max_iterations": 10, "identical_failure_count": 0,
            "history": [{"result": "FAILED"}, {"result": "PASSED"}]}},
        "constitutional_validation": {
            "completed": True, "status": "compliant", "iterations_used": 1,
            "history": [{"iteration": 1, "violations": []}], "violations_found": [],
            "articles_checked": ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X",
                                 "XI", "XII"]},
    }
    return state


def test_builtins_are_in_step_with_the_checklists() -> None:
    need(TODAY_CHECKLISTS.is_dir(), f"{TODAY_CHECKLISTS} is absent")
    # 13-production is curated (the evidence of the built-in GATE-12), the rest imported.
    checklists = [str(c) for c in sorted(TODAY_CHECKLISTS.glob("*-gate.md"))
                  if not c.name.startswith("14-production")]
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "import", "--layout",
                           "21-phase", "--check", "-o", str(REPO / "gate_specs" / "21-phase"),
                           *checklists], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "16 checklist(s) compared, 0 difference(s)" in done.stdout


def test_quality_loop_passes_on_tool_evidence(project: GateProject,
                                              template_state: dict) -> None:
    project.set_state(phase_state(template_state, "16-quality-loop"))
    tool_evidence(project)
    result = project.run("--gate=current", NOW)
    record = project.record("16-quality-loop")
    assert record.decision == "PASS", record.properties.get("deploygate.reason")
    assert result.ret == 0
    assert record.properties["deploygate.spec_source"] == "builtin:21-phase/16-quality-loop.yaml"
    # Coverage under the bound, a lint error: the gate says which.
    tool_evidence(project, line_rate="0.70")
    (project.root / "reports" / "lint.sarif").write_text(sarif("error"))
    project.run("--gate=current", NOW)
    record = project.record("16-quality-loop")
    assert record.decision == "FAIL"
    outcomes = record.outcomes()
    assert outcomes["coverage-meets-target"] == "failure"
    assert "reports/coverage.xml covers 70.0%" in record.case("coverage-meets-target")["message"]
    assert outcomes["lint-passing"] == "failure"
    assert outcomes["type-check-passing"] == "passed"


@pytest.mark.parametrize("phase,tool_items", [
    ("06-implementation", ["code-passes-linting-zero-errors", "no-hardcoded-secrets-or-credentials",
                           "unit-test-coverage-80", "all-unit-tests-passing",
                           "no-high-critical-vulnerabilities-in-dependencies"]),
    ("08-code-review", ["no-security-vulnerabilities-introduced", "no-hardcoded-credentials",
                        "code-coverage-meets-target", "no-new-critical-code-smells",
                        "coding-standards-followed"]),
])
def test_build_phases_answer_with_tools(project: GateProject, template_state: dict,
                                        phase: str, tool_items: list[str]) -> None:
    project.set_state(phase_state(template_state, phase))
    tool_evidence(project)
    project.run("--gate=current", NOW)
    record = project.record(phase)
    assert record.properties["deploygate.gate"] == phase
    assert not record.properties["deploygate.title"].startswith("Independent Validation")
    outcomes = record.outcomes()
    for item in tool_items:
        assert outcomes[item] == "passed", (item, record.case(item)["message"])
    # What tools cannot answer waits for a sign-off: never a silent pass.
    assert record.decision == "FAIL"
    signoffs = [c for c in record.cases if "approvers" in (c["message"] or "")
                and "[gate-decision]" not in c["name"]]
    assert signoffs and all(c["outcome"] == "error" for c in signoffs), [
        (c["name"], c["outcome"]) for c in signoffs if c["outcome"] != "error"]


def test_coverage_reports_that_prove_nothing_are_missing_evidence(
        project: GateProject, template_state: dict) -> None:
    project.set_state(phase_state(template_state, "16-quality-loop"))
    for bad in ("NaN", "1.7", "-0.1", "most"):
        tool_evidence(project, line_rate=bad)
        project.run("--gate=current", NOW)
        case = project.record("16-quality-loop").case("coverage-meets-target")
        assert case["outcome"] == "error", bad
    (project.root / "reports" / "coverage.xml").write_text(json.dumps(
        {"totals": {"percent_covered": 93.5, "num_statements": 200, "covered_lines": 187}}))
    project.run("--gate=current", NOW)
    assert project.record("16-quality-loop").outcomes()["coverage-meets-target"] == "passed"


def test_builtin_specs_ship_in_the_package() -> None:
    from pytest_deploygate.spec.library import builtin_spec_dir

    shipped = builtin_spec_dir("21-phase")
    assert shipped.is_dir()
    names = sorted(p.stem for p in shipped.glob("*.yaml"))
    assert len(names) == 21 and names[0] == "00-quick-scan" and names[-1] == "16-quality-loop"
    assert not any(p.suffix == ".md" for p in (Path(shipped)).iterdir())
