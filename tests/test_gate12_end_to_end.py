"""Gate 12 end to end through the pytest command line: items, outcomes, decision, exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import GateProject


def test_shared_phase12_state_without_artifacts_fails_with_68_items(
        project: GateProject, shared: Path, junit_schema) -> None:
    state = shared / "isdlc" / "state" / "phase12-in-progress.json"
    result = project.run("--gate=12", f"--gate-state={state}")
    assert result.ret == 1
    record = project.record()
    assert len(record.cases) == 69
    assert record.cases[-1]["name"] == "[GATE-12][gate-decision] Gate decision"
    assert record.decision == "FAIL"
    assert record.properties["deploygate.expected_criteria"] == "68"
    for artifact in ("pre-deployment-checklist", "deployment-log-production",
                     "post-deployment-verification", "release-notes"):
        case = record.case(artifact)
        assert case["outcome"] == "failure"
        assert "tried: docs/deployment/production/" in case["message"]
        assert f".isdlc/phases/12-production/artifacts/{artifact}.md" in case["message"]
    junit_schema.validate(str(record.path))
    result.stdout.fnmatch_lines(["*deploygate: gate decision*", "GATE-12 *: FAIL"])


def test_example_project_passes(example: GateProject) -> None:
    result = example.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    record = example.record()
    assert record.decision == "PASS"
    assert len(record.cases) == 69
    # Two criteria are N/A here: the status page (conditions.status_page_used is false) and
    # the escalation criterion (the constitutional status is compliant).
    skipped = [c for c in record.cases if c["outcome"] == "skipped"]
    assert {c["type"] for c in skipped} == {"not-applicable"}
    assert len(skipped) == 2
    assert record.cases[-1]["outcome"] == "passed"
    markdown = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "**Gate Status**: PASS" in markdown
    assert "Advance to Phase 13: Production Operations & Monitoring" in markdown
    assert "site-reliability-engineer" in markdown


@pytest.mark.parametrize(("path", "value", "named"), [
    ("cloud_configuration.provider", "undecided", "cloud_configuration.provider is \"undecided\""),
    ("phases.11-test-deploy.status", "skipped",
     "GATE-11 not passed: phases.11-test-deploy.status is 'skipped'; "
     "staging may not be skipped for production"),
])
def test_unmet_prerequisite_skips_every_item(example: GateProject, path: str, value: str,
                                             named: str) -> None:
    example.edit_state(path, value)
    result = example.run("--gate=12", "-rs")
    assert result.ret == 0
    record = example.record()
    assert len(record.cases) == 69
    assert all(c["outcome"] == "skipped" for c in record.cases)
    assert all(named in c["message"] for c in record.cases)
    assert record.decision == "SKIPPED"
    assert record.cases[0]["type"] == "prerequisite-unmet"
    result.stdout.fnmatch_lines([f"SKIPPED [[]68[]] *{named}*"])
    result.assert_outcomes(skipped=68)


def test_every_unmet_prerequisite_is_named(example: GateProject) -> None:
    example.edit_state("cloud_configuration.provider", "none")
    example.edit_state("cloud_configuration.deployment.production_enabled", False)
    example.run("--gate=12")
    message = example.record().case("security-sign-off")["message"]
    assert "cloud_configuration.provider is \"none\"" in message
    assert "production_enabled is false" in message


def test_fresh_install_state_is_skipped(project: GateProject, shared: Path) -> None:
    state = shared / "isdlc" / "state" / "initial-state.json"
    result = project.run("--gate=12", f"--gate-state={state}")
    assert result.ret == 0
    record = project.record()
    assert record.decision == "SKIPPED"
    assert "GATE-10 not passed" in record.cases[0]["message"]
    assert "undecided" in record.cases[0]["message"]


def test_missing_evidence_is_an_error_not_a_failure(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    result = example.run("--gate=12")
    assert result.ret == 1
    case = example.record().case("security-sign-off")
    assert case["outcome"] == "error"
    assert case["type"] == "evidence-missing"
    assert "no counting sign-off for 'security-sign-off'" in case["message"]
    assert example.record().decision == "FAIL"
    result.stdout.fnmatch_lines(["*EVIDENCE MISSING: [[]GATE-12[]][[]security-sign-off[]]*"])


def test_fired_trigger_decides_rollback(example: GateProject) -> None:
    example.attest(gate=12, criterion="data-integrity-issue", signer="tom.berg@acme.example",
                   role="dba", at="2026-02-05T10:00:00Z", present=True,
                   note="orders table lost 12 rows")
    result = example.run("--gate=12")
    assert result.ret == 1
    record = example.record()
    assert record.decision == "ROLLBACK"
    case = record.case("data-integrity-issue")
    assert case["type"] == "rollback-triggered"
    assert "orders table lost 12 rows" in case["message"]
    assert record.properties["deploygate.row.no-rollback-triggered"] == "ROLLBACK"
    result.stdout.fnmatch_lines(["*ROLLBACK TRIGGERED*data-integrity-issue*"])


def test_trigger_without_evidence_is_fail_not_rollback(example: GateProject) -> None:
    example.drop_attestation("critical-functionality-broken")
    example.run("--gate=12")
    record = example.record()
    assert record.decision == "FAIL"
    assert record.case("critical-functionality-broken")["type"] == "evidence-missing"


@pytest.mark.parametrize("args", [
    ("-k", "security or stakeholder"),
    ("--deselect", "GATE-12::hypercare-period"),
    ("-x",),
])
def test_partial_runs_are_incomplete(example: GateProject, args: tuple[str, ...]) -> None:
    if args == ("-x",):
        example.drop_attestation("security-sign-off")
    result = example.run("--gate=12", *args)
    assert result.ret != 0
    record = example.record()
    assert record.decision == "INCOMPLETE"
    assert len(record.cases) == 69
    not_run = [c for c in record.cases if c["type"] == "not-run"]
    assert not_run
    assert "got no outcome" in record.properties["deploygate.reason"]


def test_node_ids_are_stable_handles(example: GateProject) -> None:
    result = example.run("--gate=12", "--collect-only", "-q")
    result.stdout.fnmatch_lines([
        "GATE-12::prerequisites::gate-10-passed",
        "GATE-12::approval-requirements::security-sign-off",
        "GATE-12::constitutional-compliance::escalation-documented",
        "GATE-12::rollback-criteria::data-integrity-issue",
    ])
    assert "68 tests collected" in result.stdout.str()
    # Collecting evaluates nothing, so it must not replace a record.
    assert not (example.root / "gate-records").exists()
    assert result.ret == 0


def test_unset_condition_is_an_error_naming_the_setting(example: GateProject) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text().replace("  status_page_used: false", ""))
    example.run("--gate=12")
    case = example.record().case("status-page-prepared")
    assert case["type"] == "evidence-missing"
    assert "conditions: {status_page_used: true}" in case["message"]
    assert "deploygate.yaml" in case["message"]


def test_condition_true_makes_the_criterion_apply(example: GateProject) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text().replace("status_page_used: false",
                                                 "status_page_used: true"))
    example.run("--gate=12")
    assert example.record().case("status-page-prepared")["type"] == "evidence-missing"


def test_gate_selection_forms(example: GateProject) -> None:
    for form in ("GATE-12", "12-production", "current"):
        result = example.run(f"--gate={form}", "-q")
        assert result.ret == 0, (form, result.stdout.str())
        assert example.record().decision == "PASS"


def test_unknown_gate_is_a_usage_error(example: GateProject) -> None:
    result = example.run_subprocess("--gate=99")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: deploygate: --gate: no spec for gate 99*available:*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_current_without_current_phase(example: GateProject) -> None:
    example.edit_state("current_phase", None)
    result = example.run_subprocess("--gate=current")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*current_phase is None*--gate=N*"])


def test_pytest_junitxml_is_left_to_the_user(example: GateProject) -> None:
    result = example.run("--gate=12", "--junitxml=mine.xml")
    assert result.ret == 0
    mine = (example.root / "mine.xml").read_text()
    assert "deploygate.decision" not in mine
    assert "GATE-12" in mine  # the items are ordinary test items in the user's own report
    assert (example.root / "gate-records" / "GATE-12.xml").exists()


def test_record_dir_option_and_no_temp_files_left(example: GateProject) -> None:
    example.run("--gate=12", "--gate-record-dir=out/records")
    files = sorted(p.name for p in (example.root / "out" / "records").iterdir())
    assert files == ["GATE-12.html", "GATE-12.md", "GATE-12.xml"]


def test_threshold_override_is_used_and_shown_in_the_message(example: GateProject) -> None:
    example.run("--gate=12", "--gate-threshold", "p99_ms=1500")
    case = example.record().case("p99-above-threshold")
    assert case["name"].endswith("p99 > {p99_ms}ms")  # the name stays (history by name)
    assert "p99_ms=1500" in case["text"]
    markdown = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "Response time p99 > 1500ms" in markdown  # people read the rendered text
    result = example.run_subprocess("--gate=12", "--gate-threshold", "nope=1")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*unknown threshold(s) nope*error_rate, *p99_ms*"])


def test_state_as_json_input_keeps_unknown_keys(example: GateProject) -> None:
    data = example.state()
    data["some_future_key"] = {"anything": [1, 2]}
    data["phases"]["12-production"]["extra"] = True
    example.set_state(data)
    assert example.run("--gate=12").ret == 0
    assert json.loads(example.state_path.read_text())["some_future_key"]
