"""Bad input: unreadable state and malformed specs give one clear line, a non-zero exit, and
never a traceback or a green gate."""

from __future__ import annotations

import pytest

from conftest import GateProject, parse_record

GOOD_SPEC_HEAD = """\
spec_version: 1
gate: 12
id: GATE-12
title: Custom production gate
phase: 12-production
thresholds: {p99_ms: 2000}
decision:
  - {id: approvals, title: Approvals obtained}
"""


def assert_clean_failure(result: pytest.RunResult) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret not in (0, 1), output
    assert "Traceback" not in output
    assert "File \"" not in output  # no frames of plugin code
    return output


@pytest.mark.parametrize(("content", "expected"), [
    ('{"phases": {', "state file is not valid JSON: Expecting property name"),
    ("", "state file is empty"),
    ("[1, 2]", "must hold a JSON object, found an array"),
    ('"text"', "must hold a JSON object, found a string"),
    ("\ufeff{\"current_phase\": [", "not valid JSON"),
])
def test_unreadable_state_is_an_error_naming_the_file(example: GateProject, content: str,
                                                      expected: str) -> None:
    example.state_path.write_text(content, encoding="utf-8")
    result = example.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    assert f"{example.state_path}" in output
    assert expected in output
    # The record says the gate evaluated nothing; it never looks green.
    record = example.record()
    assert record.decision == "INCOMPLETE"
    assert record.cases[-1]["outcome"] == "failure"


def test_truncated_state_names_line_and_column(example: GateProject) -> None:
    text = example.state_path.read_text()
    example.state_path.write_text(text[: len(text) // 2])
    result = example.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    result.stdout.fnmatch_lines([f"*deploygate: {example.state_path}:*:*: state file is not "
                                 "valid JSON*"])
    assert output.count("state file is not valid JSON") <= 3


def test_missing_state_is_an_error(project: GateProject) -> None:
    result = project.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    assert ".isdlc/state.json: state file not found" in output
    assert "--gate-state=PATH" in output


def test_state_that_is_a_directory(example: GateProject) -> None:
    result = example.run_subprocess("--gate=12", "--gate-state=.isdlc")
    output = assert_clean_failure(result)
    assert "is a directory" in output


def test_state_with_wrong_types_fails_closed(example: GateProject) -> None:
    example.edit_state("phases.12-production.constitutional_validation", "compliant")
    example.edit_state("cloud_configuration.deployment", True)
    result = example.run("--gate=12")
    assert result.ret == 0  # prerequisites unmet: a wrong type is never met
    record = example.record()
    assert record.decision == "SKIPPED"
    assert "cloud_configuration.deployment is a boolean, not an object" in (
        record.cases[0]["message"])


def test_constitution_record_of_wrong_type(example: GateProject) -> None:
    example.edit_state("phases.12-production.constitutional_validation", ["compliant"])
    assert example.run("--gate=12").ret == 1
    case = example.record().case("final-status-compliant")
    assert case["type"] == "evidence-missing"
    assert "is not an object" in case["message"]


def write_user_spec(project: GateProject, body: str) -> None:
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir(exist_ok=True)
    (spec_dir / "12-production.yaml").write_text(GOOD_SPEC_HEAD + body)


@pytest.mark.parametrize(("body", "expected"), [
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    decision: approvals
    criteria:
      - {id: a, text: A, check: {kind: state, path: x, equals: 1}}
      - {id: b, text: B, check: {kind: stat, path: x}}
""", ":16: sections[0].criteria[1].check: unknown kind 'stat' (known kinds: "),
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    decision: approvals
    criteria:
      - {id: a, text: A}
      - {id: a, text: Again}
""", ":16: sections[0].criteria[1].id: duplicate criterion id 'a' (first used on line 15)"),
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    decision: approvalz
    criteria:
      - {id: a, text: A}
""", ":13: sections[0].decision: unknown decision row 'approvalz' (rows: approvals)"),
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    criteria:
      - {id: a, text: "p99 > {p95_ms}ms"}
      - {id: b, text: B, check: {kind: state, path: x, max: {threshold: p95_ms}}}
""", "unknown threshold 'p95_ms'"),
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: during
    criteria:
      - {id: a, text: A}
""", ":12: sections[0].stage: 'during' is not one of ['pre', 'post']"),
    ("""\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    criteria:
      - {id: a, text: A, check: {kind: state, paht: x}}
""", "sections[0].criteria[0].check: state: Additional properties are not allowed ('paht'"),
    ("""\
artifacts:
  - {id: notes, name: Notes, path: ../../etc/passwd}
sections: []
""", "artifacts[0].path: \"../../etc/passwd\" does not fit"),
    ("sections: [\n  - {id: a\n", "not valid YAML"),
    ("sections: []\nsections: []\n", "sections: key appears twice"),
])
def test_bad_spec_is_a_collection_error_with_file_line_and_path(
        example: GateProject, body: str, expected: str) -> None:
    write_user_spec(example, body)
    result = example.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    assert expected in output, output
    assert "gate_specs/12-production.yaml:" in output
    assert "ERROR collecting GATE-12" in output or "ERROR GATE-12" in output


def test_bad_spec_of_another_gate_does_not_stop_this_one(example: GateProject) -> None:
    spec_dir = example.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "07-code-review.yaml").write_text("this: [is not a spec")
    assert example.run("--gate=12").ret == 0


def test_user_spec_overrides_builtin(example: GateProject) -> None:
    write_user_spec(example, """\
sections:
  - id: approvals
    title: Approvals
    stage: pre
    decision: approvals
    criteria:
      - {id: provider-is-aws, text: Runs on AWS,
         check: {kind: state, path: cloud_configuration.provider, equals: aws}}
""")
    result = example.run("--gate=12")
    assert result.ret == 0
    record = example.record()
    assert [c["name"] for c in record.cases] == [
        "[GATE-12][provider-is-aws] Runs on AWS", "[GATE-12][gate-decision] Gate decision"]
    assert record.properties["deploygate.spec_source"].endswith("gate_specs/12-production.yaml")


def test_bad_project_config_is_a_clear_error(example: GateProject) -> None:
    (example.root / "deploygate.yaml").write_text("conditions:\n  status_page_used: maybe\n")
    result = example.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    assert "deploygate.yaml:2: conditions.status_page_used: 'maybe' is not of type 'boolean'" in (
        output)


def test_yaml_tags_are_never_evaluated(example: GateProject) -> None:
    write_user_spec(example, "sections: !!python/object/apply:os.system ['touch pwned']\n")
    result = example.run_subprocess("--gate=12")
    assert_clean_failure(result)
    assert not (example.root / "pwned").exists()


def test_decision_record_for_broken_spec(example: GateProject) -> None:
    write_user_spec(example, "sections: 3\n")
    example.run_subprocess("--gate=12")
    record = parse_record(example.root / "gate-records" / "GATE-12.xml")
    assert record.decision == "INCOMPLETE"
    assert "sections: 3 is not of type 'array'" in record.cases[-1]["message"]


def test_evidence_override_with_unknown_kind_names_the_config_line(example: GateProject
                                                                   ) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text().replace(
        "  version-tagged: {kind: attestation, roles: [release-manager]}",
        "  version-tagged: {kind: atestation, roles: [release-manager]}"))
    result = example.run_subprocess("--gate=12")
    output = assert_clean_failure(result)
    line = next(i for i, text in enumerate(config.read_text().splitlines(), 1)
                if "atestation" in text)
    assert f"deploygate.yaml:{line}: evidence.version-tagged: unknown kind 'atestation'" in (
        output)


def test_evidence_override_for_no_criterion_is_a_warning(example: GateProject) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text() + "  versoin-tagged: {kind: changelog}\n")
    result = example.run("--gate=12")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["warning: *deploygate.yaml: evidence: no criterion "
                                 "versoin-tagged in the selected gates; those overrides do "
                                 "nothing"])
