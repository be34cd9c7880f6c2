"""File and git evidence: JUnit reports, SARIF scans, captured metrics, changelog, git tags,
commands; real files and real git repositories in temp dirs."""

from __future__ import annotations

import json
import os
import time

import pytest

from conftest import GateProject, custom_gate, write_config

JUNIT_PASS = """<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>
<testcase classname="a" name="t2"><skipped/></testcase><testcase classname="a" name="t3"/>
</testsuite>"""
JUNIT_FAIL = """<testsuites><testsuite name="s" tests="3" failures="0">
<testcase classname="api" name="test_ok"/>
<testcase classname="api" name="test_refund">
  <failure message="refund was 0.00">x</failure></testcase>
<testcase classname="api" name="test_boom"><error message="ConnectionError"/></testcase>
</testsuite></testsuites>"""


@pytest.fixture
def files(project: GateProject) -> GateProject:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n"
                          "  sarif: [scans/*.sarif]\n")
    custom_gate(project, """
- {id: tests, text: All tests passing, check: {kind: junit, report: junit}}
- {id: fresh-tests, text: Tests after the commit, check: {kind: junit, report: junit,
   not_before: commit}}
- {id: scan, text: Security scan clean, check: {kind: sarif, report: sarif}}
- {id: changelog, text: CHANGELOG updated, check: {kind: changelog}}
- {id: tag, text: Version tagged, check: {kind: git_tag}}
""")
    return project


def write(project: GateProject, relative: str, text: str) -> None:
    path = project.root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def case(project: GateProject, item_id: str, *args: str) -> dict:
    project.run("--gate=12", *args)
    return project.record().case(item_id)


# -- junit ---------------------------------------------------------------------------------------

def test_junit_passing(files: GateProject) -> None:
    write(files, "reports/unit.xml", JUNIT_PASS)
    result = case(files, "tests")
    assert result["outcome"] == "passed"
    assert "3 tests, none failed (1 skipped) in reports/unit.xml" in result["text"]
    assert "file reports/unit.xml sha256=" in result["text"]


def test_junit_failing_lists_tests_and_files(files: GateProject) -> None:
    write(files, "reports/unit.xml", JUNIT_PASS)
    write(files, "reports/api.xml", JUNIT_FAIL)
    result = case(files, "tests")
    assert result["type"] == "not-met"
    assert ("2 of 6 tests failed or errored: api.test_refund (refund was 0.00); api.test_boom "
            "(ConnectionError) (read reports/api.xml, reports/unit.xml)") in result["message"]


@pytest.mark.parametrize(("content", "problem"), [
    ("<testsuite><testcase", "not well-formed XML"),
    ("", "not well-formed XML"),
    ("<html><body>502</body></html>", "not a JUnit report (root element <html>)"),
    ('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
     "<testsuite>&x;</testsuite>", "refused unsafe XML"),
])
def test_junit_malformed_is_missing_evidence(files: GateProject, content: str,
                                             problem: str) -> None:
    write(files, "reports/unit.xml", content)
    result = case(files, "tests")
    assert result["type"] == "evidence-missing"
    assert problem in result["message"]


def test_junit_without_tests(files: GateProject) -> None:
    write(files, "reports/unit.xml", "<testsuite name='empty' tests='0'/>")
    result = case(files, "tests")
    assert result["type"] == "not-met"
    assert "0 tests ran (at least 1 required" in result["message"]


def test_junit_no_files(files: GateProject) -> None:
    result = case(files, "tests")
    assert result["type"] == "evidence-missing"
    assert "no file matches reports/*.xml" in result["message"]


def test_report_set_not_configured(files: GateProject) -> None:
    write_config(files, "version: 1.4.0\n")
    result = case(files, "tests")
    assert "add 'reports: {junit: [\"path/*.xml\"]}' to" in result["message"]


def test_junit_older_than_the_commit(files: GateProject) -> None:
    write(files, "reports/unit.xml", JUNIT_PASS)
    old = time.time() - 3 * 86400
    os.utime(files.root / "reports" / "unit.xml", (old, old))
    (files.root / ".gitignore").write_text("reports/\n")  # (CI output, as it should be)
    files.git_init()
    result = case(files, "fresh-tests")
    assert result["type"] == "not-met"
    assert "stale evidence: reports/unit.xml (modified" in result["message"]
    assert "is older than the release commit" in result["message"]
    assert case(files, "tests")["outcome"] == "passed"


def test_report_glob_cannot_leave_the_root(files: GateProject) -> None:
    write_config(files, "reports:\n  junit: [../*.xml]\n")
    result = case(files, "tests")
    assert "paths must stay inside the project root" in result["message"]


# -- sarif ---------------------------------------------------------------------------------------

def sarif(*results: dict, rules: list | None = None) -> str:
    return json.dumps({"version": "2.1.0", "runs": [
        {"tool": {"driver": {"name": "scanner", "rules": rules or []}}, "results": list(results)}
    ]})


def finding(rule: str, level: str | None = None, score: str | None = None, line: int = 3
            ) -> dict:
    result: dict = {"ruleId": rule, "message": {"text": "x"}, "locations": [
        {"physicalLocation": {"artifactLocation": {"uri": "app/db.py"},
                              "region": {"startLine": line}}}]}
    if level:
        result["level"] = level
    if score:
        result["properties"] = {"security-severity": score}
    return result


@pytest.mark.parametrize(("results", "met", "said"), [
    ([finding("R1", "note"), finding("R2", "warning")], True,
     "no result at or above high (2 below)"),
    ([finding("SQLI", "error", line=42)], False, "SQLI [high] at app/db.py:42"),
    ([finding("R3", "note", score="9.8")], False, "R3 [critical]"),
    ([finding("R4", "error", score="5.0")], True, "no result at or above high"),
    ([{**finding("R5", "error"), "suppressions": [{"kind": "inSource"}]}], True, ""),
])
def test_sarif_severity(files: GateProject, results: list, met: bool, said: str) -> None:
    write(files, "scans/deps.sarif", sarif(*results))
    result = case(files, "scan")
    assert (result["outcome"] == "passed") is met
    assert said in (result["text"] if met else result["message"])


def test_sarif_rule_default_level_and_score(files: GateProject) -> None:
    rules = [{"id": "R6", "defaultConfiguration": {"level": "error"}},
             {"id": "R7", "properties": {"security-severity": "7.5"}}]
    write(files, "scans/a.sarif", sarif({"ruleId": "R6", "message": {"text": "x"}},
                                        {"ruleId": "R7", "level": "note",
                                         "message": {"text": "y"}}, rules=rules))
    result = case(files, "scan")
    assert "2 result(s) at or above high: R6 [high] at no location; R7 [high]" in (
        result["message"])


@pytest.mark.parametrize(("content", "problem"), [
    ("{", "not valid JSON"),
    ('{"version": "2.0.0", "runs": []}', "not a SARIF 2.1.0 log"),
    ('{"version": "2.1.0", "runs": [{"results": [1]}]}', "holds a non-object"),
])
def test_sarif_malformed(files: GateProject, content: str, problem: str) -> None:
    write(files, "scans/a.sarif", content)
    result = case(files, "scan")
    assert result["type"] == "evidence-missing"
    assert problem in result["message"]


# -- changelog and git tag -----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "met", "said"), [
    ("# Changelog\n\n## [1.4.0] - 2026-02-04\n### Added\n- x\n", True, "CHANGELOG.md:3"),
    ("## 1.4.0\n\nFixed the thing.\n## 1.3.0\n- old\n", True, "entry for 1.4.0"),
    ("## v1.4.0 (2026-02-04)\n- x\n", True, "entry for 1.4.0"),
    ("## [1.4.0]\n\n## [1.3.0]\n- old\n", False, "the 1.4.0 entry is empty"),
    ("## [1.4.01]\n- x\n## [11.4.0]\n- y\n", False, "has no entry for 1.4.0"),
    # A comment hides what it holds, over as many lines as it spans (it renders as nothing).
    ("## [1.4.0]\n<!--\nTODO: what changed\n-->\n## [1.3.0]\n- old\n", False,
     "CHANGELOG.md:1: the 1.4.0 entry is empty"),
    ("## [1.4.0]\n### Fixed\n<!-- one\n  two -->  \n", False, "the 1.4.0 entry is empty"),
    ("## [1.4.0]\n<!-- unclosed: the rest of the file is the comment\n- x\n", False,
     "the 1.4.0 entry is empty"),
    ("<!--\n## [1.4.0]\n- shipped\n-->\n## [1.3.0]\n- old\n", False,
     "has no entry for 1.4.0"),
    ("## [1.4.0]\n<!-- note -->Fixed the thing.\n", True, "CHANGELOG.md:1"),
])
def test_changelog(files: GateProject, text: str, met: bool, said: str) -> None:
    write(files, "CHANGELOG.md", text)
    result = case(files, "changelog")
    assert (result["outcome"] == "passed") is met
    assert said in (result["text"] if met else result["message"])


def test_changelog_version_from_the_command_line(files: GateProject) -> None:
    write(files, "CHANGELOG.md", "## [2.0.0]\n- x\n")
    assert case(files, "changelog", "--gate-version=2.0.0")["outcome"] == "passed"


def test_tag_at_the_commit(files: GateProject) -> None:
    commit = files.git_init()
    files.git("tag", "v1.4.0")
    result = case(files, "tag")
    assert result["outcome"] == "passed"
    assert f"git refs/tags/v1.4.0 commit={commit}" in result["text"]


def test_plain_tag_is_accepted(files: GateProject) -> None:
    files.git_init()
    files.git("tag", "1.4.0")
    assert case(files, "tag")["outcome"] == "passed"


def test_tag_elsewhere(files: GateProject) -> None:
    files.git_init()
    files.git("tag", "v1.4.0")
    write(files, "later.txt", "x")
    files.git("add", "-A")
    files.git("commit", "-q", "-m", "later")
    result = case(files, "tag")
    assert result["type"] == "not-met"
    assert "tag v1.4.0 (commit" in result["message"]
    assert "is on another release" in result["message"]
    assert "differs from the gated release's" in result["message"]
    assert "in later.txt" in result["message"]


def test_untagged(files: GateProject) -> None:
    files.git_init()
    result = case(files, "tag")
    assert result["type"] == "not-met"
    assert "no tag v1.4.0 or 1.4.0 in the repository" in result["message"]


def test_shallow_clone_says_to_fetch(files: GateProject, tmp_path) -> None:
    files.git_init()
    write(files, "later.txt", "x")
    files.git("add", "-A")
    files.git("commit", "-q", "-m", "later")
    files.git("tag", "v1.4.0", "HEAD~1")
    clone = tmp_path / "shallow"
    import subprocess

    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-tags",
                    f"file://{files.root}", str(clone)], check=True)
    result = files.run("--gate=12", f"--gate-root={clone}", f"--gate-state={files.state_path}",
                       f"--gate-record-dir={files.root / 'gate-records'}")
    assert result.ret == 1
    message = files.record().case("tag")["message"]
    assert "shallow clone" in message
    assert "git fetch --tags --unshallow" in message


def test_unknown_version(files: GateProject) -> None:
    write_config(files, "reports: {}\n")
    files.git_init()
    result = case(files, "tag")
    assert result["type"] == "evidence-missing"
    assert "release version unknown: pass --gate-version" in result["message"]


def test_release_notes_must_name_the_version(example: GateProject) -> None:
    notes = example.root / "docs" / "deployment" / "production" / "release-notes.md"
    notes.write_text(notes.read_text().replace("1.4.0", "1.4"))
    example.run("--gate=12")
    record = example.record()
    assert "does not name version 1.4.0" in record.case("release-notes")["message"]
    assert record.case("release-notes-published")["type"] == "not-met"


# -- metrics_file --------------------------------------------------------------------------------

EXPOSITION = """# TYPE http_requests_total counter
http_requests_total{code="200"} 930
http_requests_total{code="503"} 70
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.1"} 500
http_request_duration_seconds_bucket{le="0.5"} 900
http_request_duration_seconds_bucket{le="1"} 980
http_request_duration_seconds_bucket{le="2.5"} 995
http_request_duration_seconds_bucket{le="+Inf"} 1000
http_request_duration_seconds_sum 300
http_request_duration_seconds_count 1000
"""


@pytest.mark.parametrize(("metric", "bound", "met", "said"), [
    ("error_ratio", "max: 0.05", False, "error_ratio = 0.07 in metrics.prom, breaching <= 0.05"),
    ("error_ratio", "max: 0.1", True, "error_ratio = 0.07"),
    # rank 990 of 1000 falls in (1, 2.5]: 1 + 1.5 * (990 - 980) / 15 = 2 s
    ("p99_ms", "max: 2500", True, "p99_ms = 2000 in metrics.prom"),
    ("p99_ms", "max: 1999", False, "p99_ms = 2000"),
    ("series", "min: 1", True, "series = 9"),
])
def test_metrics_file(files: GateProject, metric: str, bound: str, met: bool,
                      said: str) -> None:
    write(files, "metrics.prom", EXPOSITION)
    write_config(files, "metrics_file: metrics.prom\n")
    custom_gate(files, f"- {{id: m, text: M, check: {{kind: metrics_file, metric: {metric}, "
                       f"{bound}}}}}")
    result = case(files, "m")
    assert (result["outcome"] == "passed") is met
    assert said in (result["text"] if met else result["message"])


@pytest.mark.parametrize(("content", "problem"), [
    ("not metrics at all {{{", "not a Prometheus text exposition"),
    ("", "no samples"),
    ("# TYPE x counter\nx_total 3\n", "no http_requests_total samples"),
])
def test_metrics_file_malformed(files: GateProject, content: str, problem: str) -> None:
    write(files, "metrics.prom", content)
    write_config(files, "metrics_file: metrics.prom\n")
    custom_gate(files, "- {id: m, text: M, check: {kind: metrics_file, metric: error_ratio, "
                       "max: 0.05}}")
    result = case(files, "m")
    assert result["type"] == "evidence-missing"
    assert problem in result["message"]


def test_metrics_file_sample_age(files: GateProject) -> None:
    write(files, "metrics.prom", EXPOSITION)
    write_config(files, "metrics_file: metrics.prom\n")
    custom_gate(files, "- {id: m, text: M, check: {kind: metrics_file, metric: sample_age_s, "
                       "max: 3600}}")
    assert case(files, "m")["outcome"] == "passed"
    result = case(files, "m", "--gate-now=2099-01-01T00:00:00Z")
    assert result["type"] == "not-met"


# -- command -------------------------------------------------------------------------------------

def test_command_is_off_unless_allowed(files: GateProject) -> None:
    custom_gate(files, "- {id: c, text: C, check: {kind: command, run: [touch, ran]}}")
    result = case(files, "c")
    assert result["type"] == "evidence-missing"
    assert "pass --gate-allow-commands" in result["message"]
    assert not (files.root / "ran").exists()
    assert case(files, "c", "--gate-allow-commands")["outcome"] == "passed"
    assert (files.root / "ran").exists()


def test_command_failure_and_timeout(files: GateProject) -> None:
    custom_gate(files, """
- {id: fails, text: F, check: {kind: command, run: "echo broken >&2; exit 3", shell: true}}
- {id: slow, text: S, check: {kind: command, run: [sleep, "5"], timeout: 0.3}}
""")
    files.run("--gate=12", "--gate-allow-commands")
    record = files.record()
    assert "exited 3: broken" in record.case("fails")["message"]
    assert "did not finish within 0.3s" in record.case("slow")["message"]
