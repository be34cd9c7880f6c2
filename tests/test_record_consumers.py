"""The records as CI dashboards read them: GitLab's JUnit parser and
mikepenz/action-junit-report, reimplemented here the way their source reads a file, so the
tests see what a release manager sees there. Also: stable names, file modes, the markdown
record's layout and the GitHub job summary."""

from __future__ import annotations

import os
import re
import stat
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest
from test_records import decide

from conftest import GateProject

NOW = "--gate-now=2026-02-10T00:00:00Z"
FIRST = 90  # what the narrowest consumers show of a line


@dataclass
class Shown:
    """One testcase as a consumer presents it."""

    name: str
    status: str
    text: str  # what the consumer shows for it (GitLab: system_output; mikepenz: message)
    path: str | None = None
    line: int | None = None


def gitlab(path: Path) -> list[Shown]:
    """As lib/gitlab/ci/parsers/test/junit.rb does: suite properties dropped; a failure's,
    error's or skip's element text (attributes are dropped when there is text) is the
    output, with system-out appended for failures and errors; a passing case shows nothing
    but its name; cases sorted by status (error, failed, success, skipped)."""
    shown = []
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for case in suite.findall("testcase"):
            out = case.find("system-out")
            system_out = f"System Out:\n\n{out.text}" if out is not None else None
            status, output = "success", None
            for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
                element = case.find(tag)
                if element is not None:
                    status = name
                    output = (element.text or "").strip() or str(dict(element.attrib))
                    if tag != "skipped" and system_out:
                        output = f"{output}\n\n{system_out}"
                    break
            shown.append(Shown(case.get("name", ""), status, output or ""))
    order = ["error", "failed", "success", "skipped"]
    return sorted(shown, key=lambda s: order.index(s.status))


def mikepenz(path: Path) -> list[Shown]:
    """As src/testParser.ts does: message = the failure's (or error's) message attribute,
    else the first two lines of its text, else the testcase name (so a skip shows only its
    name); the annotation's file comes from the testcase, failure or testsuite ``file``, else
    from the classname's last dotted part, its line from ``line`` or a ``<file>:<n>`` in the
    text, else 1."""
    shown = []
    for suite in ET.parse(path).getroot().iter("testsuite"):
        for case in suite.findall("testcase"):
            failure = case.find("failure")
            error = case.find("error")
            bad = failure if failure is not None else error
            trace = (bad.text or "").strip() if bad is not None else ""
            message = ((bad.get("message") if bad is not None else None)
                       or "\n".join(trace.split("\n")[:2]) or case.get("name", "")).strip()
            file = case.get("file") or (bad.get("file") if bad is not None else None) \
                or suite.get("file")
            line = case.get("line") or (bad.get("line") if bad is not None else None)
            if file and not line:
                found = re.findall(rf" [^ ]*{re.escape(file)}.*?:(\d+)", trace)
                line = found[-1] if found else "1"
            status = "skipped" if case.find("skipped") is not None else (
                "failure" if bad is not None else "success")
            shown.append(Shown(case.get("name", ""), status, message, file,
                               int(line) if line else None))
    return shown


def by_id(cases: list[Shown], item_id: str) -> Shown:
    return next(c for c in cases if f"][{item_id}]" in c.name)


@pytest.mark.parametrize(("decision", "args", "culprit", "word"), [
    ("FAIL", (), "security-sign-off", "EVIDENCE MISSING"),
    ("ROLLBACK", (), "data-integrity-issue", "ROLLBACK TRIGGERED"),
    ("INCOMPLETE", ("-k", "approval"), None, None),
    ("SKIPPED", (), "cloud_configuration.provider", "SKIPPED"),
])
def test_the_decision_and_its_cause_lead_what_dashboards_show(
        example: GateProject, decision: str, args: tuple[str, ...], culprit: str | None,
        word: str | None) -> None:
    decide(example, decision)
    example.run("--gate=12", NOW, *args)
    path = example.root / "gate-records" / "GATE-12.xml"
    lab = gitlab(path)
    mine = by_id(lab, "gate-decision")
    assert mine.text[:FIRST].startswith(f"{decision}: "), mine.text[:FIRST]
    if culprit:
        assert culprit in mine.text[:FIRST]
    else:
        assert re.match(r"INCOMPLETE: 6\d of 68 criteria got no outcome; not run: gate-10-passed",
                        mine.text[:FIRST]), mine.text[:FIRST]
    if decision != "SKIPPED":
        # mikepenz shows a skip as its name only; a SKIPPED decision does not fail the run,
        # and reaches GitHub through the job summary instead (tested below).
        penz = by_id(mikepenz(path), "gate-decision")
        assert penz.status == "failure"
        assert penz.text[:FIRST].startswith(f"{decision}: ")
        assert (culprit or "of 68 criteria got no outcome") in penz.text[:FIRST]
    if word and decision != "SKIPPED":
        case = by_id(lab, culprit)
        assert case.text.startswith(f"{word}: ")
        assert case.text[len(word) + 2:FIRST].strip(), "the reason follows the word"
        assert by_id(mikepenz(path), culprit).text.startswith(f"{word}: ")


def test_skipped_by_an_unpassed_gate_names_it(example: GateProject) -> None:
    example.edit_state("phases.11-test-deploy.gate_passed", False)
    example.run("--gate=12", NOW)
    shown = by_id(gitlab(example.root / "gate-records" / "GATE-12.xml"), "gate-decision")
    assert shown.status == "skipped"
    assert shown.text.startswith("SKIPPED: GATE-11 not passed"), shown.text[:FIRST]
    criterion = by_id(gitlab(example.root / "gate-records" / "GATE-12.xml"), "security-sign-off")
    assert criterion.text.startswith("SKIPPED: prerequisite unmet: GATE-11 not passed")


def test_every_message_leads_with_its_outcome_once(example: GateProject) -> None:
    example.drop_attestation("security-sign-off")
    example.run("--gate=12", NOW)
    path = example.root / "gate-records" / "GATE-12.xml"
    words = ("MET: ", "NOT MET: ", "EVIDENCE MISSING: ", "ROLLBACK TRIGGERED: ", "N/A: ",
             "SKIPPED: ", "WAIVED: ", "FAIL: ")
    root = ET.parse(path).getroot()
    for case in root.iter("testcase"):
        for child in case:
            text = child.get("message") or (child.text or "")
            assert text.startswith(words), (case.get("name"), text[:FIRST])
            assert "N/A: N/A" not in text
    na = by_id(gitlab(path), "status-page-prepared")
    assert na.text.startswith("N/A: conditions.status_page_used is false")
    markdown = (example.root / "gate-records" / "GATE-12.md").read_text()
    assert "N/A: N/A" not in markdown
    assert "— N/A: conditions.status_page_used is false" in markdown


def test_names_do_not_change_with_thresholds(example: GateProject) -> None:
    example.run("--gate=12", NOW)
    before = [c["name"] for c in example.record().cases]
    example.run("--gate=12", NOW, "--gate-threshold", "p99_ms=1500",
                "--gate-threshold", "error_rate=0.02")
    record = example.record()
    assert [c["name"] for c in record.cases] == before
    assert "[GATE-12][p99-above-threshold] Response time p99 > {p99_ms}ms" in before
    assert "[GATE-12][error-rate-above-threshold] Error rate > {error_rate:.0%}" in before
    assert "p99_ms=1500" in record.case("p99-above-threshold")["text"]  # the value: message


def test_file_attributes_point_only_at_real_files(example: GateProject) -> None:
    # Built-in spec: not a file of the project, so nothing names a path.
    example.drop_attestation("security-sign-off")
    example.run("--gate=12", NOW)
    xml = (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert ' file="' not in xml and ' line="' not in xml
    # A project spec: the suite names it, and each criterion's line is in its text.
    spec_dir = example.root / "gate_specs"
    spec_dir.mkdir()
    from conftest import REPO

    (spec_dir / "12-production.yaml").write_text(
        (REPO / "gate_specs" / "12-production.yaml").read_text())
    example.run("--gate=12", NOW)
    path = example.root / "gate-records" / "GATE-12.xml"
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None and suite.get("file") == "gate_specs/12-production.yaml"
    shown = by_id(mikepenz(path), "security-sign-off")
    assert shown.path == "gate_specs/12-production.yaml"
    lines = (spec_dir / "12-production.yaml").read_text().splitlines()
    assert shown.line is not None and "security-sign-off" in lines[shown.line - 1]
    assert (example.root / shown.path).is_file()


@pytest.mark.parametrize("umask", [0o022, 0o027, 0o077])
def test_record_modes_honour_the_umask(example: GateProject, umask: int) -> None:
    old = os.umask(umask)
    try:
        example.run("--gate=12", NOW)
    finally:
        os.umask(old)
    for name in ("GATE-12.xml", "GATE-12.md", "GATE-12.html"):
        mode = stat.S_IMODE((example.root / "gate-records" / name).stat().st_mode)
        assert mode == 0o666 & ~umask, (name, oct(mode))


def test_markdown_reviewer_and_date_are_separate_paragraphs(example: GateProject) -> None:
    example.run("--gate=12", NOW)
    lines = (example.root / "gate-records" / "GATE-12.md").read_text().splitlines()
    reviewer = next(i for i, line in enumerate(lines) if line.startswith("**Reviewer**"))
    assert lines[reviewer + 1] == ""
    assert lines[reviewer + 2].startswith("**Date**: 2026-02-10T00:00:00Z")


def test_github_step_summary_gets_the_decision_and_failing_criteria(
        example: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    example.drop_attestation("security-sign-off")
    example.run("--gate=12", NOW)
    text = summary.read_text()
    assert text.startswith("earlier step\n")  # appended, never replaced
    assert "### GATE-12 Production Deployment: FAIL" in text
    assert "> FAIL: security-sign-off EVIDENCE MISSING: " in text
    assert "| Approvals obtained | FAIL | security-sign-off |" in text
    assert "- **security-sign-off** Security sign-off obtained — EVIDENCE MISSING: " in text
    assert "`gate-records/GATE-12.html`" in text


def test_a_skipped_gate_reaches_the_github_summary(
        example: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    example.edit_state("phases.11-test-deploy.gate_passed", False)
    example.run("--gate=12", NOW)
    text = summary.read_text()
    assert "### GATE-12 Production Deployment: SKIPPED" in text
    assert "> SKIPPED: GATE-11 not passed" in text
