"""Stages: pre before the deploy, post after it, bound to a passing pre record."""

from __future__ import annotations

import pytest

from conftest import GateProject

PRE_SECTIONS = {"prerequisites", "approval-requirements", "readiness-verification",
                "operational-readiness", "backup-and-recovery", "communication"}


def test_pre_stage_records_only_pre_items(example: GateProject) -> None:
    example.git_init()
    result = example.run("--gate=12", "--gate-stage=pre")
    assert result.ret == 0, result.stdout.str()
    record = example.record("GATE-12-pre")
    assert record.properties["deploygate.stage"] == "pre"
    sections = {c["classname"].split(".", 1)[1] for c in record.cases[:-1]}
    assert sections == PRE_SECTIONS | {"artifacts"}
    assert [c["name"] for c in record.cases if c["classname"] == "GATE-12.artifacts"] == [
        "[GATE-12][pre-deployment-checklist] Pre-deployment Checklist present"]
    assert record.properties["deploygate.expected_criteria"] == str(len(record.cases) - 1)
    assert len(record.cases) - 1 == 4 + 1 + 22
    assert record.properties["deploygate.row.deployment-successful"] == "NOT IN STAGE"
    assert record.decision == "PASS"
    assert not (example.root / "gate-records" / "GATE-12.xml").exists()


def test_post_without_pre_record_fails_naming_it(example: GateProject) -> None:
    example.git_init()
    result = example.run("--gate=12", "--gate-stage=post")
    assert result.ret == 1
    record = example.record("GATE-12-post")
    assert record.decision == "FAIL"
    case = record.case("pre-stage-record")
    assert case["type"] == "evidence-missing"
    assert "no pre-stage record" in case["message"]
    assert "GATE-12-pre.xml" in case["message"]
    assert "run --gate-stage=pre first" in case["message"]
    sections = {c["classname"].split(".", 1)[1] for c in record.cases[:-1]}
    assert not sections & (PRE_SECTIONS - {"prerequisites"})


def test_post_after_passing_pre_passes(example: GateProject) -> None:
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre").ret == 0
    result = example.run("--gate=12", "--gate-stage=post")
    assert result.ret == 0, result.stdout.str()
    record = example.record("GATE-12-post")
    assert record.decision == "PASS"
    assert record.case("pre-stage-record")["outcome"] == "passed"
    assert len(record.cases) - 1 == 3 + 32 + 6 + 1


def test_post_bound_to_commit_and_version(example: GateProject) -> None:
    example.git_init()
    assert example.run("--gate=12", "--gate-stage=pre").ret == 0
    (example.root / "CHANGES.txt").write_text("a later change\n")
    example.git("add", "-A")
    example.git("commit", "-q", "-m", "later")
    result = example.run("--gate=12", "--gate-stage=post")
    assert result.ret == 1
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "does not bind" in message
    assert "it is for commit" in message

    assert example.run("--gate=12", "--gate-stage=pre").ret == 0
    assert example.run("--gate=12", "--gate-stage=post", "--gate-version=1.4.1").ret == 1
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "it is for version '1.4.0', this is '1.4.1'" in message


def test_post_refuses_failing_pre_record(example: GateProject) -> None:
    example.git_init()
    example.drop_attestation("security-sign-off")
    assert example.run("--gate=12", "--gate-stage=pre").ret == 1
    result = example.run("--gate=12", "--gate-stage=post",
                         "--gate-pre-record=gate-records/GATE-12-pre.xml")
    assert result.ret == 1
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "its decision is 'FAIL', not PASS" in message


def test_post_refuses_a_whole_gate_record_as_pre(example: GateProject) -> None:
    example.git_init()
    assert example.run("--gate=12").ret == 0
    example.run("--gate=12", "--gate-stage=post", "--gate-pre-record=gate-records/GATE-12.xml")
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "its stage is 'all', not 'pre'" in message


def test_post_refuses_malicious_pre_record(example: GateProject) -> None:
    example.git_init()
    bomb = ('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><testsuites>&b;</testsuites>')
    (example.root / "pre.xml").write_text(bomb)
    result = example.run("--gate=12", "--gate-stage=post", "--gate-pre-record=pre.xml")
    assert result.ret == 1
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert "refused unsafe XML" in message


def test_post_needs_a_git_checkout(example: GateProject) -> None:
    # pytester's temp dirs are outside any repository: without a commit there is no binding.
    assert example.run("--gate=12").ret == 0
    result = example.run("--gate=12", "--gate-stage=post")
    message = example.record("GATE-12-post").case("pre-stage-record")["message"]
    assert result.ret == 1
    assert "is not in a git repository" in message


def test_a_stage_run_the_environment_chose_removes_the_stage_all_record(
        example: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """``PYTEST_ADDOPTS=--gate-stage=pre`` turned a job's stage-all run into a pre run: it
    passed and left the last stage-all PASS of the same release, and a verdict of it exited
    0 although the gate, judged now, would not pass. Such a run removes that record; stages
    the command line names keep every stage's record (a pipeline's pre and post jobs)."""
    example.git_init()
    records = example.root / "gate-records"

    def present() -> set[str]:
        return {path.name for path in records.glob("GATE-12*.xml")}

    assert example.run("--gate=12").ret == 0
    assert example.run("--gate=12", "--gate-stage=pre").ret == 0
    assert example.run("--gate=12", "--gate-stage=post").ret == 0
    assert present() == {"GATE-12.xml", "GATE-12-pre.xml", "GATE-12-post.xml"}
    for stage in ("pre", "post"):
        assert example.run("--gate=12").ret == 0
        monkeypatch.setenv("PYTEST_ADDOPTS", f"--gate-stage={stage}")
        assert example.run("--gate=12").ret == 0
        monkeypatch.delenv("PYTEST_ADDOPTS")
        assert "GATE-12.xml" not in present(), stage
        assert not list(records.glob("GATE-12.*")), "its page and markdown too"
