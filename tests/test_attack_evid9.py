# ruff: noqa: F811  (the fixture comes from test_signoff_identity)
"""Red team of last session's evidence fixes (committed evidence, stated run times, version
names, record bookkeeping, report spellings): evidence a real tool writes, or a release's
author commits, that made a criterion pass when it should not."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from test_attack_evidence import (
    _JUNIT_PASS,
    _artifact_gate,
    _commit_all,
    _judged,
    judged_report,
)
from test_signoff_identity import DEV, git, signed  # noqa: F401  (signed: the fixture)
from test_signoff_release_binding import CRITERION

from conftest import GateProject, custom_gate, parse_record

# -- committed evidence seen through a link ----------------------------------------------------

@pytest.mark.parametrize("link", ["folder", "file"])
def test_a_committed_report_read_through_a_link_is_committed_release_content(
        project: GateProject, link: str) -> None:
    # The old report is committed in old-run/. reports/ is a committed link to that folder,
    # or reports/unit.xml a link to the file made after the checkout. git tracks the file
    # under old-run/ only, so the report read as reports/unit.xml looked untracked, and its
    # checkout time "after the release commit".
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("version: 1.4.0\n")
    (project.root / "old-run").mkdir()
    (project.root / "old-run" / "unit.xml").write_text(_JUNIT_PASS)
    if link == "folder":
        os.symlink("old-run", project.root / "reports")
    custom_gate(project, "- {id: fresh, text: Fresh, check: {kind: junit, "
                         "paths: [reports/*.xml], not_before: commit}}")
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    if link == "file":
        (project.root / "reports").mkdir()
        os.symlink("../old-run/unit.xml", project.root / "reports" / "unit.xml")
    case = _judged(project, "fresh")
    assert case["outcome"] in ("failure", "error"), case
    assert "reports/unit.xml is committed release content" in case["message"], case


# -- a report's own run time: one that cannot be read is no age --------------------------------

_FRESH_SUITE = ('<testsuite name="today" tests="1" timestamp="2026-02-28T10:00:00Z">'
                '<testcase classname="a" name="t"/></testsuite>')
_STATED = {
    # The second suite ran on 5 January, in a spelling the reader could not parse: only the
    # fresh suite's time was taken.
    "junit-rfc2822": ("reports/unit.xml", "junit",
                      f'<testsuites>{_FRESH_SUITE}<testsuite name="old" tests="1" '
                      'timestamp="Mon, 05 Jan 2026 10:00:00 GMT"><testcase classname="b" '
                      'name="t"/></testsuite></testsuites>\n'),
    # The old run's time is on the <testsuites> element, which was not read at all.
    "junit-on-testsuites": ("reports/unit.xml", "junit",
                            '<testsuites timestamp="2026-01-05T10:00:00Z"><testsuite name="s" '
                            'tests="1"><testcase classname="a" name="t"/></testsuite>'
                            '</testsuites>\n'),
    # SARIF: a start time that is not a date-time string (an epoch number).
    "sarif-number": ("reports/app.sarif", "sarif", json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner"}}, "results": [],
        "invocations": [{"executionSuccessful": True, "startTimeUtc": 1767607200,
                         "endTimeUtc": "2026-02-28T10:00:00Z"}]}]})),
    # coverage.py's JSON meta.timestamp in another spelling.
    "coverage-json": ("reports/coverage.json", "coverage", json.dumps({
        "meta": {"version": "7.4.0", "timestamp": "05/01/2026 10:00:00"},
        "files": {}, "totals": {"covered_lines": 9, "num_statements": 10,
                                "percent_covered": 90.0}})),
}


@pytest.mark.parametrize("rule", ["max_age_days: 7", "not_before: commit"])
@pytest.mark.parametrize("name", list(_STATED))
def test_a_report_whose_stated_run_time_cannot_be_read_has_no_known_age(
        project: GateProject, name: str, rule: str) -> None:
    path, kind, text = _STATED[name]
    case = judged_report(project, kind, path, text, rule)
    assert case["outcome"] in ("failure", "error"), case
    assert path in case["message"], case


@pytest.mark.parametrize("stamp", [
    "2026-02-28T10:00:00.123456+01:00",  # pytest
    "2026-02-28T10:00:00.123",  # googletest (local time)
    "2026-02-28T10:00:00Z",  # go-junit-report
    "2026-02-28T10:00:00",  # jest-junit, CTest, Gradle
    "2026-02-28 10:00:00",
    "",  # (no time stated: the file's own time tells)
], ids=["pytest", "googletest", "go", "naive", "space", "empty"])
def test_the_run_times_real_tools_write_are_read(project: GateProject, stamp: str) -> None:
    # (Held by the fix: only an unreadable stated time is evidence missing.)
    project.set_state({"phases": {}})
    (project.root / "reports").mkdir()
    (project.root / "reports" / "unit.xml").write_text(
        f'<testsuite name="s" tests="1" timestamp="{stamp}"><testcase classname="a" '
        'name="t"/></testsuite>\n')
    custom_gate(project, "- {id: fresh, text: Fresh, check: {kind: junit, "
                         "paths: [reports/unit.xml], max_age_days: 7}}")
    case = _judged(project, "fresh", "--gate-now=2026-03-01T00:00:00Z")
    assert case["outcome"] == "passed", case


# -- sarif: a scan that says a file was not scanned ------------------------------------------

def _scan(project: GateProject, invocation: dict) -> dict[str, str]:
    scan = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ESLint", "rules": []}}, "results": [],
        "invocations": [invocation]}]}
    project.set_state({"phases": {}})
    (project.root / "scans").mkdir()
    (project.root / "scans" / "app.sarif").write_text(json.dumps(scan))
    custom_gate(project, "- {id: scan, text: Security scan clean, check: {kind: sarif, "
                         "paths: [scans/*.sarif]}}")
    return _judged(project, "scan")


_PARSE_ERROR = {"level": "error", "message": {"text": "Parsing error: Unexpected token ;"},
                "locations": [{"physicalLocation": {"artifactLocation": {
                    "uri": "src/refunds.js"}, "region": {"startLine": 3}}}],
                "descriptor": {"id": "ESL0999"}}


@pytest.mark.parametrize("notifications", [
    # @microsoft/eslint-formatter-sarif: a file ESLint could not parse (no rule ran on it) is
    # a configuration notification of level error, and executionSuccessful stays true.
    "toolConfigurationNotifications",
    # A scanner that could not analyse a file says so in its execution notifications.
    "toolExecutionNotifications",
])
def test_a_sarif_scan_with_an_error_notification_did_not_scan_everything(
        project: GateProject, notifications: str) -> None:
    case = _scan(project, {notifications: [_PARSE_ERROR], "executionSuccessful": True})
    assert case["outcome"] == "error", case
    assert "scans/app.sarif" in case["message"] and notifications in case["message"], case


def test_a_sarif_scan_with_warning_notifications_is_judged_on_its_results(
        project: GateProject) -> None:
    # (Held by the fix: a notification of level warning, or of no level (warning by default),
    # is no failed scan.)
    case = _scan(project, {"toolExecutionNotifications": [
        {**_PARSE_ERROR, "level": "warning"}, {"message": {"text": "slow file"}}],
        "executionSuccessful": True})
    assert case["outcome"] == "passed", case


# -- the record directory: only the gate's own record names are bookkeeping ------------------

@pytest.mark.parametrize("folder, name", [
    # Liquibase numbers its changelogs; a docs folder numbers its chapters.
    ("db/changelog", "01-create-users.xml"),
    ("docs", "02-architecture-notes.md"),
    ("site", "10-pricing.html"),
    ("db/changelog", "001-seed.xml"),
])
def test_release_content_named_like_a_record_in_the_record_dir_is_a_change(
        signed: GateProject, folder: str, name: str) -> None:
    # The ini setting (the author's pyproject.toml) names a folder of release content as the
    # record directory: a file there whose name only looks like a record (a number, a dash)
    # was bookkeeping, so changing it was no change and the sign-offs of the release before
    # it still counted.
    (signed.root / folder).mkdir(parents=True, exist_ok=True)
    (signed.root / folder / name).write_text("<databaseChangeLog/>\n")
    git(signed.root, "add", folder)
    git(signed.root, "commit", "-q", "-m", "a change after the approvals", email=DEV)
    signed.run("--gate=12", "-o", f"deploygate_record_dir={folder}")
    record = parse_record(signed.root / folder / "GATE-12.xml")
    assert record.case(CRITERION)["type"] == "evidence-missing", record.case(CRITERION)
    assert record.decision != "PASS"


# -- junit: every status a runner writes, not only the ones listed ----------------------------

def _junit_cases(project: GateProject, cases: str) -> dict[str, str]:
    project.set_state({"phases": {}})
    (project.root / "reports").mkdir()
    (project.root / "reports" / "unit.xml").write_text(
        f'<testsuites><testsuite name="refunds">{cases}</testsuite></testsuites>\n')
    custom_gate(project, "- {id: tests, text: All tests passing, check: {kind: junit, "
                         "paths: [reports/unit.xml]}}")
    return _judged(project, "tests")


_RAN = '<testcase classname="refunds" name="ok" status="passed"/>'


@pytest.mark.parametrize("status", [
    # Ginkgo's JUnit report: a spec that timed out, panicked, was interrupted or aborted
    # (their <failure> lost in a conversion, as CTest's in the case the readers know).
    "timedout", "panicked", "interrupted", "aborted",
    # Other runners' words for a test that did not pass.
    "crashed", "inconclusive",
])
def test_a_junit_status_that_is_no_pass_is_not_met(project: GateProject, status: str) -> None:
    case = _junit_cases(project, _RAN + f'<testcase classname="refunds" name="full" '
                                        f'status="{status}"/>')
    assert case["outcome"] in ("failure", "error"), case
    assert "refunds.full" in case["message"], case


@pytest.mark.parametrize("status", ["pending", "untested"])  # Ginkgo, behave
def test_junit_tests_whose_status_says_they_never_ran_did_not_run(
        project: GateProject, status: str) -> None:
    case = _junit_cases(project, f'<testcase classname="refunds" name="full" status="{status}"/>')
    assert case["outcome"] == "failure", case
    assert "0 tests ran" in case["message"], case


@pytest.mark.parametrize("attributes", [
    'status="run" result="completed"',  # googletest
    'status="run"',  # CTest, Catch2
    'status="passed"',  # Ginkgo, behave
    'status="PASS"', 'result="Success"', "",
])
def test_junit_statuses_of_a_test_that_passed_are_met(project: GateProject, attributes: str
                                                      ) -> None:
    # (Held by the fix.)
    case = _junit_cases(project, f'<testcase classname="refunds" name="full" {attributes}/>')
    assert case["outcome"] == "passed", case


# -- committed evidence in a shallow clone: the cut-off commit did not write every file -------

def test_an_artifact_in_a_shallow_clone_is_not_as_new_as_the_cut_off_commit(
        project: GateProject, tmp_path_factory: pytest.TempPathFactory) -> None:
    # actions/checkout fetches one commit by default. In that clone the only commit "adds"
    # every file, so a runbook untouched since January looked as new as the release commit.
    _artifact_gate(project, "{id: runbook, name: Runbook, path: RUNBOOK.md, max_age_days: 30}")
    (project.root / "RUNBOOK.md").write_text("# Runbook\n\nRestart the service.\n")
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    (project.root / "CHANGES.md").write_text("refunds\n")
    _git_at(project.root, "2026-02-25T12:00:00Z", "add", "-A")
    _git_at(project.root, "2026-02-25T12:00:00Z", "commit", "-q", "-m", "refunds")
    clone = tmp_path_factory.mktemp("shallow") / "checkout"
    subprocess.run(["git", "clone", "-q", "--depth=1", f"file://{project.root}", str(clone)],
                   check=True, capture_output=True)
    result = project.pytester.runpytest("--gate=12", f"--gate-root={clone}",
                                        f"--gate-record-dir={clone / 'gate-records'}",
                                        "--gate-now=2026-03-01T00:00:00Z")
    case = parse_record(clone / "gate-records" / "GATE-12.xml").case("runbook")
    assert case["outcome"] in ("failure", "error"), (case, result.stdout.str()[-2000:])
    assert "shallow" in case["message"], case


# -- committed evidence in a submodule: committed, though not in this repository's index --------

def _git_at(where: object, when: str, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    subprocess.run(["git", "-c", "protocol.file.allow=always", *args], cwd=where, check=True,
                   env=env, capture_output=True)


@pytest.mark.parametrize("check", [
    "artifact", "{kind: junit, paths: [docs/reports/*.xml], max_age_days: 7}",
    "{kind: junit, paths: [docs/reports/*.xml], not_before: commit}"])
def test_evidence_committed_in_a_submodule_is_as_old_as_its_commit(
        project: GateProject, tmp_path_factory: pytest.TempPathFactory, check: str) -> None:
    # The runbook (and an old test report) live in a docs submodule, last changed in
    # January. The superproject's git lists no file inside a submodule, so they looked
    # untracked, as new as their checkout.
    docs = tmp_path_factory.mktemp("docs-repo")
    (docs / "RUNBOOK.md").write_text("# Runbook\n\nRestart the service.\n")
    (docs / "reports").mkdir()
    (docs / "reports" / "unit.xml").write_text(_JUNIT_PASS)
    _git_at(docs, "2026-01-01T12:00:00Z", "init", "-q", "-b", "main")
    _git_at(docs, "2026-01-01T12:00:00Z", "add", "-A")
    _git_at(docs, "2026-01-01T12:00:00Z", "commit", "-q", "-m", "runbook")
    if check == "artifact":
        _artifact_gate(project, "{id: fresh, name: Runbook, path: docs/RUNBOOK.md, "
                                "max_age_days: 30}")
    else:
        project.set_state({"phases": {}})
        custom_gate(project, f"- {{id: fresh, text: Fresh, check: {check}}}")
    _git_at(project.root, "2026-02-25T12:00:00Z", "init", "-q", "-b", "main")
    _git_at(project.root, "2026-02-25T12:00:00Z", "submodule", "add", "-q", str(docs), "docs")
    _git_at(project.root, "2026-02-25T12:00:00Z", "add", "-A")
    _git_at(project.root, "2026-02-25T12:00:00Z", "commit", "-q", "-m", "release 1.4.0")
    case = _judged(project, "fresh", "--gate-now=2026-03-01T00:00:00Z")
    assert case["outcome"] in ("failure", "error"), case
    assert "docs/" in case["message"], case


# -- coverage: gcovr states its run time in seconds, Cobertura and coverage.py in ms ----------

@pytest.mark.parametrize(("stamp", "fresh"), [
    ("1772272800", True),  # gcovr, seconds: 2026-02-28T10:00Z
    ("1772272800000", True),  # Cobertura and coverage.py, milliseconds: the same instant
    ("1767607200", False),  # gcovr, seconds: 2026-01-05T10:00Z
    ("1767607200000", False),  # milliseconds: the same old run
], ids=["gcovr-fresh", "cobertura-fresh", "gcovr-old", "cobertura-old"])
def test_a_cobertura_run_time_is_read_in_the_unit_its_tool_writes(
        project: GateProject, stamp: str, fresh: bool) -> None:
    # gcovr's seconds were read as milliseconds: a report written a day ago said it ran in
    # January 1970, and every gcovr report was stale under a freshness rule.
    text = (f'<coverage line-rate="0.9" lines-valid="10" lines-covered="9" '
            f'timestamp="{stamp}"><packages/></coverage>\n')
    case = judged_report(project, "coverage", "reports/coverage.xml", text, "max_age_days: 7")
    if fresh:
        assert case["outcome"] == "passed", case
    else:
        assert case["outcome"] == "failure", case
        assert "2026-01-05" in case["message"], case
