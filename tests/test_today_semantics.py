"""Imported checklists of today's framework follow the framework's data: iteration limits from
iteration_requirements, the work item's artifact folder, per-phase artifact folders, workflow
scopes, prerequisites by phase key."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from conftest import NOW, GateProject, install_checklists, today_state


@pytest.fixture
def today(project: GateProject) -> GateProject:
    install_checklists(project)
    return project


def outcome(project: GateProject, key: str, item: str) -> tuple[str, str]:
    case = project.record(key).case(item)
    return case["outcome"], case["message"] or ""


def test_test_iteration_limit_is_read_from_iteration_requirements(
        today: GateProject, template_state: dict[str, Any], framework: Path) -> None:
    state = today_state(template_state, "06-implementation")
    state["complexity_assessment"]["level"] = 3  # standard tier: the checklist says 10
    state["phases"]["06-implementation"] = {
        "iteration_requirements": {"test_iteration": {
            "completed": True, "status": "success", "current_iteration": 31,
            "max_iterations": 40, "history": [{}] * 31, "identical_failure_count": 0}},
        # A constitutional record well within its own limit: it must not answer for tests.
        "constitutional_validation": {"completed": True, "status": "compliant",
                                      "iterations_used": 1, "history": [{}]},
    }
    today.set_state(state)
    today.run("--gate=06-implementation", NOW)
    status, message = outcome(today, "06-implementation",
                              "iterations-within-limit-quick-5-standard-10-enterprise-15")
    assert status == "failure"
    assert "31 test iterations used, over the limit of 10" in message
    assert "tier standard" in message
    assert outcome(today, "06-implementation", "iteration-count-logged-in-state-json-iterations"
                   )[0] == "passed"
    # The framework's own configuration lowers it further (its installer copies it there).
    config = today.root / ".isdlc" / "config"
    config.mkdir(parents=True)
    requirements = json.loads((framework / "src" / "isdlc" / "config" /
                               "iteration-requirements.json").read_text())
    requirements["phase_requirements"]["06-implementation"]["test_iteration"][
        "max_iterations"] = 8
    (config / "iteration-requirements.json").write_text(json.dumps(requirements))
    state["phases"]["06-implementation"]["iteration_requirements"]["test_iteration"].update(
        current_iteration=9, history=[{}] * 9)
    today.set_state(state)
    today.run("--gate=06-implementation", NOW)
    status, message = outcome(today, "06-implementation",
                              "iterations-within-limit-quick-5-standard-10-enterprise-15")
    assert status == "failure" and "over the limit of 8" in message
    assert "iteration-requirements.json phase_requirements.06-implementation" in message


def test_artifacts_are_found_in_the_work_items_folder(today: GateProject,
                                                      template_state: dict[str, Any]) -> None:
    state = today_state(template_state, "02-tracing", workflow="fix",
                        folder="BUG-0007-login-crash")
    today.set_state(state)
    folder = today.root / "docs" / "requirements" / "BUG-0007-login-crash"
    folder.mkdir(parents=True)
    (folder / "trace-analysis.md").write_text("# Trace\nroot cause\n")
    # A stray file of the same name elsewhere answers nothing.
    (today.root / "diagnosis.json").write_text("{}")
    today.run("--gate=02-tracing", NOW)
    assert outcome(today, "02-tracing", "trace-analysis")[0] == "passed"
    status, message = outcome(today, "02-tracing", "diagnosis")
    assert status == "failure"
    assert "docs/requirements/BUG-0007-login-crash/diagnosis.json" in message
    state["active_workflow"] = None  # no work item: the folder is unknown, never guessed
    today.set_state(state)
    today.run("--gate=02-tracing", NOW)
    status, message = outcome(today, "02-tracing", "trace-analysis")
    assert status == "error" and "active_workflow.artifact_folder" in message


def test_artifact_folders_per_phase(today: GateProject, template_state: dict[str, Any]) -> None:
    today.set_state(today_state(template_state, "05-test-strategy"))
    work_item = today.root / "docs" / "requirements" / "REQ-0001-demo"
    work_item.mkdir(parents=True)
    (work_item / "test-strategy.md").write_text("# Strategy\n")
    testing = today.root / "docs" / "testing"
    testing.mkdir(parents=True)
    (testing / "traceability-matrix.csv").write_text("req,test\nREQ-1,T-1\n")
    deployment = today.root / "docs" / "deployment"
    deployment.mkdir(parents=True)
    (deployment / "test-cases").mkdir()
    (deployment / "test-cases" / "a.md").write_text("case\n")
    today.run("--gate=05-test-strategy", NOW)
    assert outcome(today, "05-test-strategy", "test-strategy")[0] == "passed"
    assert outcome(today, "05-test-strategy", "traceability-matrix")[0] == "passed"
    status, message = outcome(today, "05-test-strategy", "test-cases")
    assert status == "failure" and "docs/deployment" not in message


@pytest.mark.parametrize("workflow,bug,feature", [
    ("fix", "error", "skipped"), ("build", "skipped", "error")])
def test_scope_criteria_are_na_in_other_scopes(today: GateProject, template_state: dict,
                                               workflow: str, bug: str, feature: str) -> None:
    today.set_state(today_state(template_state, "01-requirements", workflow=workflow))
    today.run("--gate=01-requirements", NOW)
    record = today.record("01-requirements")
    bug_case = record.case("bug-report-includes-expected-vs-actual-behavior")
    feature_case = record.case("all-functional-requirements-documented")
    # In scope: evaluated (a sign-off is missing here); out of scope: N/A, saying why.
    assert (bug_case["outcome"], feature_case["outcome"]) == (bug, feature)
    skipped = bug_case if bug == "skipped" else feature_case
    assert skipped["type"] == "not-applicable"
    assert "the workflow scope is" in skipped["message"]
    artifact = record.case("bug-report")
    assert artifact["outcome"] == ("failure" if workflow == "fix" else "skipped")


def test_unknown_scope_fails_closed(today: GateProject, template_state: dict) -> None:
    state = copy.deepcopy(template_state)  # the installer's state: no workflow yet
    state["current_phase"] = "01-requirements"
    today.set_state(state)
    today.run("--gate=01-requirements", NOW)
    record = today.record("01-requirements")
    for item in ("bug-report-includes-expected-vs-actual-behavior",
                 "all-functional-requirements-documented"):
        case = record.case(item)
        assert case["outcome"] == "error", item
        assert "the workflow scope is unknown" in case["message"]
    assert record.decision != "PASS"


def test_production_prerequisites_name_phases_by_key(today: GateProject,
                                                     template_state: dict) -> None:
    workflow = ["11-local-testing", "12-test-deploy", "13-production"]
    state = today_state(template_state, "13-production", phases=workflow)
    state["active_workflow"]["phase_status"]["12-test-deploy"] = "in_progress"
    state["cloud_configuration"].update(provider="aws")
    state["cloud_configuration"]["deployment"]["production_enabled"] = True
    today.set_state(state)
    today.run("--gate=13-production", NOW)
    record = today.record("13-production")
    assert record.decision == "SKIPPED"
    staging = record.case("gate-11-passed")
    assert "12-test-deploy not passed" in staging["message"]
    assert "11-local-testing" not in staging["message"]
    assert record.case("gate-10-passed")["outcome"] == "skipped"  # skipped with the gate
    state["active_workflow"]["phase_status"]["12-test-deploy"] = "completed"
    today.set_state(state)
    today.run("--gate=13-production", NOW)
    record = today.record("13-production")
    assert record.decision != "SKIPPED"
    previous = record.case("all-previous-gates-passed")
    assert previous["outcome"] == "passed", previous
    assert "13-production" not in (previous["text"] + (previous["message"] or ""))


def test_staging_of_the_older_layout_is_its_test_deploy_phase(example: GateProject) -> None:
    # The same key-based prerequisite, on a project of the 13-phase layout.
    spec_dir = example.root / "gate_specs"
    spec_dir.mkdir()
    text = (Path(__file__).parent.parent / "gate_specs" / "12-production.yaml").read_text()
    text = text.replace("check: {kind: gate_passed, gate: 11", "check: {kind: gate_passed, "
                        "phases: [12-test-deploy]")
    assert "phases: [12-test-deploy]" in text
    (spec_dir / "12-production.yaml").write_text(text)
    example.run("--gate=12")
    record = example.record("GATE-12")
    assert record.decision == "PASS", record.properties.get("deploygate.reason")
    state = example.state()
    state["phases"]["11-test-deploy"]["gate_passed"] = False
    example.set_state(state)
    example.run("--gate=12")
    assert "11-test-deploy" in example.record("GATE-12").properties["deploygate.reason"]
    shutil.rmtree(spec_dir)
