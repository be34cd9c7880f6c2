"""The built-in check kinds, each through a real gate run on a copy of the example project."""

from __future__ import annotations

import json
import os

import pytest

from conftest import GateProject

SIGNED = {"gate": 12, "signer": "sam.okafor@acme.example", "role": "security-officer"}


def outcome(project: GateProject, item_id: str, *args: str) -> dict:
    project.run("--gate=12", *args)
    return project.record().case(item_id)


# -- attestation -------------------------------------------------------------------------------

@pytest.mark.parametrize(("entry", "reason"), [
    ({**SIGNED, "signer": "mallory@evil.example"}, "signer is not in .deploygate/approvers.yaml"),
    ({**SIGNED, "signer": "chen.wei@acme.example"}, "does not hold role 'security-officer'"),
    ({**SIGNED, "role": "sre", "signer": "chen.wei@acme.example"},
     "signed as 'sre', this criterion needs security-officer"),
    ({**SIGNED, "expires": "2026-02-05T00:00:00Z"}, "expired at 2026-02-05T00:00:00Z"),
    ({**SIGNED, "at": "2026-01-15T10:00:00Z"},
     "signed at 2026-01-15T10:00:00Z, before phase 12-production started (2026-02-03T09:00:00Z)"),
    ({**SIGNED, "at": "2026-03-01T10:00:00Z"},
     "signed at 2026-03-01T10:00:00Z, after the evaluation time"),
])
def test_sign_offs_that_do_not_count(example: GateProject, entry: dict, reason: str) -> None:
    example.drop_attestation("security-sign-off")
    example.attest(criterion="security-sign-off", **{"at": "2026-02-03T12:00:00Z", **entry})
    number = len((example.root / ".deploygate" / "attestations.jsonl").read_text().splitlines())
    case = outcome(example, "security-sign-off", "--gate-now=2026-02-10T00:00:00Z")
    assert case["type"] == "evidence-missing"
    assert f"line {number} ({entry['signer']}): {reason}" in case["message"]


def test_counting_sign_off_is_recorded_as_evidence(example: GateProject) -> None:
    case = outcome(example, "security-sign-off", "--gate-now=2026-02-10T00:00:00Z")
    assert case["outcome"] == "passed"
    assert "signed off by sam.okafor@acme.example (security-officer)" in case["text"]
    assert "attestation .deploygate/attestations.jsonl:1 signer=sam.okafor@acme.example" in (
        case["text"])
    assert "evidence=https://tickets.acme.example/REL-1402#security-sign-off" in case["text"]


def test_sign_off_expiring_later_counts_until_then(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.attest(criterion="security-sign-off", at="2026-02-03T12:00:00Z",
                   expires="2026-02-06T00:00:00+01:00", **SIGNED)
    assert outcome(example, "security-sign-off",
                   "--gate-now=2026-02-05T22:59:00Z")["outcome"] == "passed"
    assert outcome(example, "security-sign-off",
                   "--gate-now=2026-02-05T23:00:00Z")["outcome"] == "error"


@pytest.mark.parametrize(("line", "problem"), [
    ("not json", "not a JSON object"),
    (json.dumps({"gate": 12, "criterion": "security-sign-off"}), "'signer' is a required"),
    (json.dumps({**SIGNED, "criterion": "security-sign-off", "at": "2026-02-03T12:00:00"}),
     "has no timezone"),
    (json.dumps({**SIGNED, "criterion": "security-sign-off", "at": "yesterday"}),
     "not an ISO 8601 date-time"),
])
def test_bad_log_lines_are_named_and_never_count(example: GateProject, line: str,
                                                 problem: str) -> None:
    example.drop_attestation("security-sign-off")
    log = example.root / ".deploygate" / "attestations.jsonl"
    log.write_text(log.read_text() + line + "\n")
    number = len(log.read_text().splitlines())
    result = example.run("--gate=12")
    assert result.ret == 1
    case = example.record().case("security-sign-off")
    assert case["type"] == "evidence-missing"
    assert f".deploygate/attestations.jsonl:{number}: " in case["message"]
    assert problem in case["message"]
    # The rest of the log still counts.
    assert example.record().case("stakeholder-approval")["outcome"] == "passed"


def test_duplicated_line_is_reported_once(example: GateProject) -> None:
    log = example.root / ".deploygate" / "attestations.jsonl"
    first = log.read_text().splitlines()[0]
    log.write_text(log.read_text() + first + "\n")
    example.drop_attestation("stakeholder-approval")
    example.run("--gate=12")
    message = example.record().case("stakeholder-approval")["message"]
    assert "duplicate of line 1; ignored" in message


def test_missing_approvers_file(example: GateProject) -> None:
    (example.root / ".deploygate" / "approvers.yaml").unlink()
    case = outcome(example, "security-sign-off")
    assert case["type"] == "evidence-missing"
    assert "no approvers file at .deploygate/approvers.yaml" in case["message"]


def test_malformed_approvers_file(example: GateProject) -> None:
    (example.root / ".deploygate" / "approvers.yaml").write_text(
        "approvers:\n  - email: not-an-email\n    roles: [sre]\n")
    case = outcome(example, "security-sign-off")
    assert ".deploygate/approvers.yaml:2: approvers[0].email" in case["message"]


def test_rollback_trigger_present_wins_over_a_later_absent(example: GateProject) -> None:
    # Issue 10: a later-dated "absent" must not mask a "present" for the same release.
    base = {"gate": 12, "criterion": "data-integrity-issue", "signer": "tom.berg@acme.example",
            "role": "dba"}
    example.attest(**base, at="2026-02-05T10:00:00Z", present=True, note="rows lost")
    example.attest(**base, at="2026-02-05T12:00:00Z", note="restored and verified")
    case = outcome(example, "data-integrity-issue", "--gate-now=2026-02-06T00:00:00Z")
    assert case["type"] == "rollback-triggered" and "rows lost" in case["message"]
    assert outcome(example, "data-integrity-issue",
                   "--gate-now=2026-02-05T11:00:00Z")["type"] == "rollback-triggered"


def test_present_on_an_ordinary_criterion_does_not_count(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.attest(criterion="security-sign-off", at="2026-02-03T12:00:00Z", present=True,
                   **SIGNED)
    case = outcome(example, "security-sign-off")
    assert "'present' applies to rollback triggers only" in case["message"]


def test_attestation_log_outside_the_root_is_refused(example: GateProject, tmp_path) -> None:
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text((example.root / ".deploygate" / "attestations.jsonl").read_text())
    log = example.root / ".deploygate" / "attestations.jsonl"
    log.unlink()
    log.symlink_to(outside)
    case = outcome(example, "security-sign-off")
    assert case["type"] == "evidence-missing"
    assert "outside the project root" in case["message"]


# -- artifact ----------------------------------------------------------------------------------

def artifact_path(project: GateProject, name: str) -> os.PathLike:
    return project.root / "docs" / "deployment" / "production" / name


def test_artifact_found_in_a_later_directory(example: GateProject) -> None:
    notes = artifact_path(example, "release-notes.md")
    target = example.root / ".isdlc" / "phases" / "12-production" / "artifacts"
    target.mkdir(parents=True)
    notes.rename(target / "release-notes.md")
    case = outcome(example, "release-notes")
    assert case["outcome"] == "passed"
    assert "file .isdlc/phases/12-production/artifacts/release-notes.md sha256=" in case["text"]
    assert "modified=" in case["text"]


def test_empty_artifact_fails(example: GateProject) -> None:
    artifact_path(example, "release-notes.md").write_text("  \n")
    case = outcome(example, "release-notes")
    assert case["type"] == "not-met"
    assert "docs/deployment/production/release-notes.md is empty" in case["message"]


def test_artifact_that_is_a_directory_fails(example: GateProject) -> None:
    path = artifact_path(example, "release-notes.md")
    path.unlink()
    path.mkdir()
    case = outcome(example, "release-notes")
    assert "release-notes.md is a directory" in case["message"]


def test_artifact_symlinked_out_of_the_root_fails(example: GateProject, tmp_path) -> None:
    outside = tmp_path / "notes.md"
    outside.write_text("# notes\n")
    path = artifact_path(example, "release-notes.md")
    path.unlink()
    path.symlink_to(outside)
    case = outcome(example, "release-notes")
    assert case["type"] == "not-met"
    assert "outside the project root" in case["message"]


def test_artifact_that_is_a_fifo_fails_without_blocking(example: GateProject) -> None:
    path = artifact_path(example, "release-notes.md")
    path.unlink()
    os.mkfifo(path)
    case = outcome(example, "release-notes")
    assert case["type"] == "not-met"
    assert "release-notes.md is not a regular file" in case["message"]


# -- constitution ------------------------------------------------------------------------------

CV = "phases.12-production.constitutional_validation"


@pytest.mark.parametrize(("track", "level", "config_tier", "used", "met", "said"), [
    ("quick", 4, None, 4, False, "tier quick (workflow.track is 'quick') allows 3"),
    ("auto", 2, None, 5, True, "tier standard (complexity_assessment.level is 2) allows 5"),
    ("auto", 4, None, 7, True, "tier enterprise (complexity_assessment.level is 4) allows 7"),
    ("auto", None, "standard", 6, False, "tier standard (tier from"),
    ("auto", None, None, 4, False, "tier unknown (workflow.track 'auto', "
                                   "complexity_assessment.level None), strictest limit"),
])
def test_iteration_limit_by_tier(example: GateProject, track: str, level: int | None,
                                 config_tier: str | None, used: int, met: bool,
                                 said: str) -> None:
    example.edit_state("workflow.track", track)
    example.edit_state("complexity_assessment.level", level)
    example.edit_state(f"{CV}.iterations_used", used)
    example.edit_state(f"{CV}.max_iterations", 10)
    config = example.root / "deploygate.yaml"
    text = config.read_text().replace("tier: enterprise\n", "")
    config.write_text(text + (f"tier: {config_tier}\n" if config_tier else ""))
    case = outcome(example, "iterations-within-limit")
    assert (case["outcome"] == "passed") is met
    assert said in (case["text"] if met else case["message"])


def test_lower_state_maximum_holds_too(example: GateProject) -> None:
    example.edit_state(f"{CV}.max_iterations", 1)
    case = outcome(example, "iterations-within-limit")
    assert case["type"] == "not-met"
    assert "max_iterations is lower: 1" in case["message"]


def test_escalated_status(example: GateProject) -> None:
    example.edit_state(f"{CV}.status", "escalated")
    example.edit_state(f"{CV}.unresolved_violations", [{"article": "X", "violation": "gap"}])
    example.run("--gate=12")
    record = example.record()
    assert record.case("final-status-compliant")["type"] == "not-met"
    documented = record.case("escalation-documented")
    assert documented["type"] == "not-met"
    assert "without a recommendation: X" in documented["message"]


def test_escalation_criterion_is_na_when_compliant(example: GateProject) -> None:
    case = outcome(example, "escalation-documented")
    assert case["outcome"] == "skipped"
    assert case["message"].startswith("N/A: ")


def test_articles_and_history(example: GateProject) -> None:
    example.edit_state(f"{CV}.articles_checked", ["IX", "XI"])
    example.edit_state(f"{CV}.iterations_used", 3)
    example.run("--gate=12")
    record = example.record()
    assert "articles not validated: X" in record.case("articles-validated")["message"]
    assert "iterations_used is 3 but history has 2 entries" in (
        record.case("iteration-count-logged")["message"])


def test_unaddressed_violation(example: GateProject) -> None:
    data = example.state()
    history = data["phases"]["12-production"]["constitutional_validation"]["history"]
    del history[0]["violations"][0]["fix_applied"]
    example.set_state(data)
    case = outcome(example, "violations-addressed")
    assert "history[0]: XI has no fix_applied" in case["message"]


def test_missing_constitutional_record(example: GateProject) -> None:
    data = example.state()
    del data["phases"]["12-production"]["constitutional_validation"]
    example.set_state(data)
    case = outcome(example, "constitutional-validation-performed")
    assert case["type"] == "evidence-missing"
    assert "constitutional_validation is not in state.json" in case["message"]


# -- gate_passed and state ----------------------------------------------------------------------

def test_conditional_pass_is_not_a_pass(example: GateProject) -> None:
    example.edit_state("phases.05-implementation.gate_status", "conditional_pass")
    case = outcome(example, "all-previous-gates-passed")
    assert case["type"] == "not-met"
    assert "GATE-05 only conditionally passed" in case["message"]


def test_missing_earlier_phase_is_missing_evidence(example: GateProject) -> None:
    data = example.state()
    del data["phases"]["03-design"]
    data["workflow"]["phases_required"] = None
    example.set_state(data)
    case = outcome(example, "all-previous-gates-passed")
    assert case["type"] == "evidence-missing"
    assert "GATE-03: no phase 03-* in state.json phases" in case["message"]


def test_phases_not_required_by_the_workflow_are_not_asked_for(example: GateProject) -> None:
    data = example.state()
    data["phases"]["04-test-strategy"]["gate_passed"] = None
    data["workflow"]["phases_required"].remove("04-test-strategy")
    example.set_state(data)
    case = outcome(example, "all-previous-gates-passed")
    assert case["outcome"] == "passed"
    assert "GATE-04 not required by workflow.phases_required" in case["text"]


def test_a_skipped_phase_counts_only_where_allowed(example: GateProject) -> None:
    from conftest import custom_gate

    custom_gate(example, criteria="""
- {id: design-skipped-ok, text: Design, check: {kind: gate_passed, gate: 3, allow_skipped: true}}
- {id: design-skipped, text: Design, check: {kind: gate_passed, gate: 3}}
- {id: design-odd, text: Design, check: {kind: gate_passed, gate: 4}}
""")
    data = example.state()
    data["phases"]["03-design"]["status"] = "skipped"
    data["phases"]["04-test-strategy"] = "done"
    example.set_state(data)
    example.run("--gate=12")
    record = example.record()
    assert record.case("design-skipped-ok")["outcome"] == "passed"
    assert "GATE-03 skipped (allowed)" in record.case("design-skipped-ok")["text"]
    assert record.case("design-skipped")["type"] == "not-met"
    assert "phases.03-design.status is 'skipped'" in record.case("design-skipped")["message"]
    assert record.case("design-odd")["type"] == "evidence-missing"
    assert "GATE-04: phases.04-test-strategy is not an object in state.json" in (
        record.case("design-odd")["message"])


def test_true_is_not_one(example: GateProject) -> None:
    example.edit_state("cloud_configuration.deployment.production_enabled", 1)
    example.run("--gate=12")
    assert example.record().decision == "SKIPPED"
    assert "production_enabled is 1; expected true" in example.record().cases[0]["message"]


def test_bad_gate_now(example: GateProject) -> None:
    result = example.run_subprocess("--gate=12", "--gate-now=2026-02-10T10:00:00")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--gate-now: *has no timezone*"])
