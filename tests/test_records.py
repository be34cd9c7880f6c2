"""The gate records: JUnit structure and schema validity for every decision, the markdown
record, and the properties that bind a record to what it judged."""

from __future__ import annotations

import hashlib

import pytest

from conftest import REPO, GateProject


def decide(example: GateProject, decision: str) -> None:
    if decision == "FAIL":
        example.drop_attestation("security-sign-off")
    elif decision == "ROLLBACK":
        example.attest(gate=12, criterion="data-integrity-issue", present=True,
                       signer="tom.berg@acme.example", role="dba",
                       at="2026-02-05T10:00:00Z", note="orders lost during the migration")
    elif decision == "SKIPPED":
        example.edit_state("cloud_configuration.provider", "undecided")


# decision, extra arguments of the run, outcome of the decision testcase
DECISIONS = [
    ("PASS", (), "passed"),
    ("FAIL", (), "failure"),
    ("ROLLBACK", (), "failure"),
    ("SKIPPED", (), "skipped"),
    ("INCOMPLETE", ("-k", "approval"), "failure"),
]


@pytest.mark.parametrize(("decision", "args", "last"), DECISIONS)
def test_every_decision_gives_its_record(example: GateProject, decision: str,
                                         args: tuple[str, ...], last: str) -> None:
    decide(example, decision)
    example.run("--gate=12", "--gate-now=2026-02-10T00:00:00Z", *args)
    record = example.record()
    assert record.decision == decision
    assert record.cases[-1]["outcome"] == last
    assert record.cases[-1]["name"] == "[GATE-12][gate-decision] Gate decision"
    if decision != "PASS":
        assert record.cases[-1]["message"].startswith(decision)


# Schema validity on its own: the schema is the one input here that only ../shared provides, so
# without it these skip (fail in CI) and every assertion above still runs.
@pytest.mark.parametrize(("decision", "args", "name"), [
    *((decision, args, "GATE-12") for decision, args, _ in DECISIONS),
    ("PASS", ("--gate-stage=pre",), "GATE-12-pre"),
])
def test_every_record_is_valid_jenkins_junit(example: GateProject, junit_schema, decision: str,
                                             args: tuple[str, ...], name: str) -> None:
    decide(example, decision)
    example.git_init()  # a pre record binds the commit
    example.run("--gate=12", "--gate-now=2026-02-10T00:00:00Z", *args)
    record = example.record(name)
    assert record.decision == decision
    junit_schema.validate(str(record.path))


def test_record_properties(example: GateProject) -> None:
    commit = example.git_init()
    example.run("--gate=12", "--gate-now=2026-02-10T08:00:00+01:00")
    props = example.record().properties
    spec = REPO / "gate_specs" / "12-production.yaml"
    assert props["deploygate.gate"] == "GATE-12"
    assert props["deploygate.title"] == "Production Deployment"
    assert props["deploygate.stage"] == "all"
    assert props["deploygate.commit"] == commit
    assert props["deploygate.version"] == "1.4.0"
    assert props["deploygate.evaluated_at"] == "2026-02-10T07:00:00Z"
    assert props["deploygate.expected_criteria"] == "68"
    assert props["deploygate.spec_sha256"] == hashlib.sha256(spec.read_bytes()).hexdigest()
    assert props["deploygate.state_sha256"] == hashlib.sha256(
        example.state_path.read_bytes()).hexdigest()
    rows = {k.removeprefix("deploygate.row."): v for k, v in props.items()
            if k.startswith("deploygate.row.")}
    assert list(rows) == ["pre-deployment-checks", "approvals-obtained", "deployment-successful",
                          "post-deployment-verified", "monitoring-verified",
                          "release-documented", "no-rollback-triggered", "other"]


def test_testcases_carry_reason_in_message_and_text(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.run("--gate=12")
    xml = (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert "<properties>" in xml
    assert xml.count("<properties>") == 1  # suite only, never per testcase
    case = example.record().case("security-sign-off")
    assert case["classname"] == "GATE-12.approval-requirements"
    assert case["message"] in case["text"]


def test_control_characters_in_evidence_stay_valid_xml(example: GateProject,
                                                       junit_schema) -> None:
    example.drop_attestation("security-sign-off")
    example.attest(gate=12, criterion="security-sign-off", signer="bell\x07@acme.example",
                   role="security-officer", at="2026-02-03T12:00:00Z")
    example.run("--gate=12")
    junit_schema.validate(str(example.record().path))


def test_markdown_record(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.run("--gate=12")
    text = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "| Approvals obtained | FAIL | security-sign-off |" in text
    assert "| Other criteria | PASS |  |" in text
    assert "**Gate Status**: FAIL" in text
    assert "**Reviewer**:" in text and "**Date**:" in text
    assert "## Next Phase" not in text
    assert "- [ ] **security-sign-off** Security sign-off obtained — EVIDENCE MISSING:" in text
    assert "  - evidence: file docs/deployment/production/release-notes.md sha256=" in text


def test_rerun_replaces_the_record(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.run("--gate=12")
    assert example.record().decision == "FAIL"
    example.attest(gate=12, criterion="security-sign-off", signer="sam.okafor@acme.example",
                   role="security-officer", at="2026-02-03T12:00:00Z")
    example.run("--gate=12")
    assert example.record().decision == "PASS"
    leftovers = [p.name for p in (example.root / "gate-records").iterdir()
                 if p.name.startswith(".")]
    assert leftovers == []


def test_unwritable_record_dir_fails_the_run(example: GateProject) -> None:
    (example.root / "gate-records").write_text("a file where the directory should be")
    result = example.run("--gate=12")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["deploygate: error: cannot write gate record *GATE-12*"])


def test_lf_after_a_failure_is_incomplete(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    assert example.pytester.runpytest("-p", "no:hypothesispytest", "--gate=12").ret == 1
    result = example.pytester.runpytest("-p", "no:hypothesispytest", "--gate=12", "--lf")
    assert result.ret == 1
    assert example.record().decision == "INCOMPLETE"


def test_mark_expression_deselecting_everything_is_incomplete(example: GateProject) -> None:
    result = example.run("--gate=12", "-m", "slow")
    assert result.ret != 0
    assert example.record().decision == "INCOMPLETE"
