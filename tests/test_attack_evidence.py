"""Red team of the evidence readers' meaning (not their robustness): evidence a real tool
writes, or a release's author commits, that a reader took as showing a criterion holds when
it does not. The author controls the evidence files and deploygate.yaml; never conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import GateProject, custom_gate


def _judged(project: GateProject, criterion: str, *args: str) -> dict[str, str]:
    """Run gate 12 in-process and return the record's testcase of ``criterion``."""
    project.run("--gate=12", *args)
    return project.record().case(criterion)


# -- coverage: nothing measured is not 100 % covered -------------------------------------------

def _coverage_gate(project: GateProject, name: str, text: str) -> None:
    project.set_state({"phases": {}})
    (project.root / name).write_text(text)
    custom_gate(project, "- {id: cov, text: Coverage, check: {kind: coverage, "
                         f"paths: [{name}], min: 80}}}}")


_COBERTURA = ('<?xml version="1.0" ?>\n<coverage version="7.4.0" timestamp="1700000000000" '
              'lines-valid="{valid}" lines-covered="{covered}" line-rate="{rate}" '
              'branches-covered="0" branches-valid="0" branch-rate="0" complexity="0">'
              '<sources><source>/src</source></sources><packages>{packages}</packages>'
              '</coverage>\n')


@pytest.mark.parametrize("name, text", [
    # coverage.py measured no file (``--cov`` of a package that was never imported, a wrong
    # ``source``): its JSON says 100 % of 0 statements, its XML line-rate="1" of 0 lines.
    ("coverage.json", json.dumps({"meta": {"version": "7.4.0"}, "files": {}, "totals": {
        "covered_lines": 0, "num_statements": 0, "percent_covered": 100.0,
        "percent_covered_display": "100", "missing_lines": 0, "excluded_lines": 0}})),
    ("coverage.xml", _COBERTURA.format(valid=0, covered=0, rate=1, packages="")),
    # A total that the report's own counts contradict (10 of 100 lines is not 95 %).
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 10, "num_statements": 100, "percent_covered": 95.0}})),
    ("coverage.xml", _COBERTURA.format(valid=100, covered=10, rate="0.95", packages="")),
    # A percentage that is not a number of the report (a string, a boolean).
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 95, "num_statements": 100, "percent_covered": "95"}})),
    # A Cobertura report without counts and without a single measured line.
    ("coverage.xml", '<coverage line-rate="1"><packages/></coverage>'),
], ids=["json-no-statements", "xml-no-lines", "json-total-contradicted",
        "xml-rate-contradicted", "json-percent-a-string", "xml-no-counts-no-lines"])
def test_coverage_that_measured_nothing_or_contradicts_itself_is_not_met(
        project: GateProject, name: str, text: str) -> None:
    _coverage_gate(project, name, text)
    case = _judged(project, "cov")
    assert case["outcome"] == "error", case
    assert name in case["message"], case


@pytest.mark.parametrize("name, text", [
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 87, "num_statements": 100, "percent_covered": 87.0}})),
    # Branch coverage on: the total counts lines and branches together, as coverage.py does.
    ("coverage.json", json.dumps({"files": {}, "totals": {
        "covered_lines": 90, "num_statements": 100, "num_branches": 20, "covered_branches": 12,
        "percent_covered": 85.0}})),
    ("coverage.xml", _COBERTURA.format(valid=7, covered=6, rate="0.8571", packages="")),
    ('coverage.xml', '<coverage line-rate="0.8"><packages><package><classes><class name="a">'
                     '<lines>' + '<line number="1" hits="1"/>' * 4 + '<line number="5" hits="0"/>'
                     '</lines></class></classes></package></packages></coverage>'),
], ids=["json", "json-branches", "xml-rounded-rate", "xml-lines-only"])
def test_coverage_whose_counts_agree_is_judged_on_its_total(
        project: GateProject, name: str, text: str) -> None:
    # (Held by the fix: real reports, rounded as coverage.py rounds line-rate, still pass.)
    _coverage_gate(project, name, text)
    case = _judged(project, "cov")
    assert case["outcome"] == "passed", case


# -- freshness of committed evidence: a checkout is not when a file was written ----------------

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')
_CAPTURE = ('# TYPE http_requests_total counter\n'
            'http_requests_total{code="200"} 1000\nhttp_requests_total{code="500"} 1\n')


def _commit_all(project: GateProject, when: str) -> None:
    """Commit every file at ``when`` (author and committer), then check the files out again
    as a CI runner's fresh clone does: every tracked file is modified *now*."""
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", "release 1.4.0"]):
        subprocess.run(command, cwd=project.root, check=True, env=env, capture_output=True)
    for path in project.root.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(project.root).parts:
            path.unlink()
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=project.root, check=True,
                   env=env, capture_output=True)


def _fresh_gate(project: GateProject, check: str) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n")
    (project.root / "reports").mkdir()
    (project.root / "reports" / "unit.xml").write_text(_JUNIT_PASS)
    (project.root / "reports" / "production.prom").write_text(_CAPTURE)
    custom_gate(project, f"- {{id: fresh, text: Fresh evidence, check: {check}}}")


@pytest.mark.parametrize("check, args", [
    # The report was committed with the release: it is no run of the released code, though
    # its checkout made it "newer than the release commit".
    ("{kind: junit, report: junit, not_before: commit}", ()),
    # Committed two months before the evaluation; checked out today.
    ("{kind: junit, report: junit, max_age_days: 7}", ("--gate-now=2026-03-01T00:00:00Z",)),
    ("{kind: metrics_file, paths: [reports/production.prom], metric: error_ratio, max: 0.05}",
     ("--gate-now=2026-03-01T00:00:00Z",)),
], ids=["not-before-commit", "max-age-days", "metrics-capture-default-age"])
def test_committed_evidence_is_as_old_as_its_commit_not_its_checkout(
        project: GateProject, check: str, args: tuple[str, ...]) -> None:
    _fresh_gate(project, check)
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    case = _judged(project, "fresh", *args)
    assert case["outcome"] in ("failure", "error"), case
    assert "reports/" in case["message"], case


def test_a_committed_report_rewritten_by_ci_after_the_commit_is_fresh(
        project: GateProject) -> None:
    # (Held by the fix: the path is tracked, but CI wrote new content over it after the
    # commit: its modification time tells.)
    _fresh_gate(project, "{kind: junit, report: junit, not_before: commit}")
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    (project.root / "reports" / "unit.xml").write_text(_JUNIT_PASS.replace("t2", "t3"))
    case = _judged(project, "fresh")
    assert case["outcome"] == "passed", case


def _artifact_gate(project: GateProject, artifact: str) -> None:
    """Gate 12 of one artifact (a YAML flow mapping) and one state criterion."""
    project.set_state({"phases": {}})
    (project.root / "gate_specs").mkdir()
    (project.root / "gate_specs" / "12-production.yaml").write_text(
        "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Artifacts\nphase: 12-production\n"
        f"decision: [{{id: all, title: All}}]\nartifacts: [{artifact}]\nsections:\n"
        "  - {id: s, title: S, stage: pre, decision: all, criteria: "
        "[{id: phases, text: Phases, check: {kind: state, path: phases}}]}\n")


def test_a_committed_artifact_is_as_old_as_its_commit(project: GateProject) -> None:
    # The runbook was last changed two months before the evaluation; a fresh clone writes
    # it today, and "at most 30 days old" was met.
    _artifact_gate(project, "{id: runbook, name: Runbook, path: RUNBOOK.md, max_age_days: 30}")
    (project.root / "RUNBOOK.md").write_text("# Runbook\n\nRestart the service.\n")
    _commit_all(project, "2026-01-01T12:00:00+00:00")
    case = _judged(project, "runbook", "--gate-now=2026-03-01T00:00:00Z")
    assert case["outcome"] == "failure", case
    assert "RUNBOOK.md is 58.5 days old, as committed in" in case["message"], case


# -- the version named: 1.4.0 is not 1.4.0-rc1, 1.4.0.1 or 1.4.0+build -------------------------

def _changelog_gate(project: GateProject, text: str) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("version: 1.4.0\n")
    (project.root / "CHANGELOG.md").write_text(text)
    custom_gate(project, "- {id: changelog, text: CHANGELOG updated, check: {kind: changelog}}")


@pytest.mark.parametrize("text", [
    # Only the release candidate has an entry: the heading "starts with" 1.4.0.
    "# Changelog\n\n## [1.4.0-rc1] - 2026-01-20\n### Added\n- refunds\n\n## [1.3.0]\n- x\n",
    "# Changelog\n\n## 1.4.0-rc.2\n- refunds\n",
    "# Changelog\n\n## v1.4.0.1 (2026-02-01)\n- hotfix\n",
    # Keep a Changelog's empty template: sub-headings, not one line about the release.
    "# Changelog\n\n## [1.4.0] - 2026-02-04\n### Added\n### Fixed\n\n## [1.3.0]\n- x\n",
    "# Changelog\n\n## [1.4.0] - 2026-02-04\n<!-- write the entry here -->\n\n## [1.3.0]\n- x\n",
    # (Red team evid9.) An entry markdown does not show: the next entry drafted in a comment,
    # a contributing note's example in fenced or indented code, a comment as the only body.
    "# Changelog\n\n<!--\n## [1.4.0] - unreleased\n- refunds (draft)\n-->\n\n## [1.3.0]\n- x\n",
    "# Changelog\n\nAdd an entry like this:\n\n```markdown\n## 1.4.0\n- what changed\n```\n\n"
    "## [1.3.0]\n- x\n",
    "# Changelog\n\n~~~\n## 1.4.0\n- what changed\n~~~\n\n## [1.3.0]\n- x\n",
    "# Changelog\n\nExample:\n\n    ## 1.4.0\n    - what changed\n\n## [1.3.0]\n- x\n",
    "# Changelog\n\n## [1.4.0] - 2026-02-04\n<!--\nwrite the entry here\n-->\n\n## [1.3.0]\n- x\n",
    # (Red team evid9.) Pre-releases PEP 440 and Debian spell without a dash.
    "# Changelog\n\n## 1.4.0rc1\n- refunds\n",
    "# Changelog\n\n## [1.4.0~rc1]\n- refunds\n",
], ids=["rc-bracketed", "rc-plain", "four-part", "only-subheadings", "only-a-comment",
        "comment", "backtick-fence", "tilde-fence", "indented-code", "multi-line-comment-body",
        "pep440-rc", "debian-tilde"])
def test_a_changelog_without_an_entry_of_this_very_release_is_not_met(
        project: GateProject, text: str) -> None:
    _changelog_gate(project, text)
    case = _judged(project, "changelog")
    assert case["outcome"] == "failure", case


@pytest.mark.parametrize("text", [
    "# Changelog\n\n## [1.4.0] - 2026-02-04\n### Added\n- refunds\n",
    "# Changelog\n\n## 1.4.0 (2026-02-04)\n- refunds\n",
    "# Changelog\n\n## v1.4.0: refunds\n- refunds\n",
    "# Changelog\n\n## [1.4.0]\n\nRefunds.\n\n## [1.4.0-rc1]\n- x\n",
    "# Changelog\n\n## [1.4.0] - 2026-02-04\n\n```python\nrefund(order)\n```\n",
    "# Changelog\n\n<!-- template -->\n## 1.4.0\n- refunds <!-- see #12 -->\n",
], ids=["keep-a-changelog", "parenthesised-date", "colon", "rc-below", "code-in-entry",
        "inline-comments"])
def test_a_changelog_entry_of_the_release_is_met(project: GateProject, text: str) -> None:
    # (Held by the fix: the headings the docs promise still count.)
    _changelog_gate(project, text)
    case = _judged(project, "changelog")
    assert case["outcome"] == "passed", case


def _notes(project: GateProject, text: str) -> dict[str, str]:
    _artifact_gate(project, "{id: notes, name: Release notes, path: RELEASE_NOTES.md, "
                            "names_version: true}")
    (project.root / "deploygate.yaml").write_text("version: 1.4.0\n")
    (project.root / "RELEASE_NOTES.md").write_text(text)
    return _judged(project, "notes")


@pytest.mark.parametrize("text", [
    "# acme-api 1.4.0-rc1 release notes\n\nRefunds.\n",
    "# acme-api v1.4.0-beta.2\n\nRefunds.\n",
    "# acme-api 1.4.0.1 release notes\n\nA hotfix.\n",
    "# acme-api 1.4.0+build.7\n\nRefunds.\n",
    # (Red team evid9.) PEP 440's and Debian's pre-releases, an underscore suffix, the next
    # release's GitHub compare link (1.4.0 only as its base), another version's build.
    "# acme-api 1.4.0rc1 release notes\n\nRefunds.\n",
    "# acme-api 1.4.0b2\n\nRefunds.\n",
    "acme-api (1.4.0~rc1) unstable; urgency=medium\n\n  * Refunds.\n",
    "# acme-api 1.4.0_beta\n\nRefunds.\n",
    "## What's Changed\n* Refunds\n\n**Full Changelog**: "
    "https://github.com/acme/api/compare/v1.4.0...v1.4.1\n",
    "# acme-api 0.9.0+1.4.0\n\nRefunds.\n",
], ids=["rc", "beta", "four-part", "build-metadata", "pep440-rc", "pep440-beta",
        "debian-tilde", "underscore", "compare-base", "build-metadata-of-another"])
def test_release_notes_of_another_release_do_not_name_the_version(
        project: GateProject, text: str) -> None:
    case = _notes(project, text)
    assert case["outcome"] == "failure", case
    assert "does not name version 1.4.0" in case["message"], case


@pytest.mark.parametrize("text", [
    "# acme-api 1.4.0 release notes\n",
    "Released v1.4.0.\n",
    "Version: 1.4.0 (2026-02-04)\n",
    "1.4.0-2026-02-04 is not a version but a date follows; 1.4.0, released.\n",
    "**Full Changelog**: https://github.com/acme/api/compare/v1.3.0...v1.4.0\n",
    "Version 1.4.0: refunds (see 1.4.0's notes)\n",
], ids=["heading", "end-of-sentence", "parenthesised", "later-mention", "compare-target",
        "possessive"])
def test_release_notes_naming_the_version_are_met(project: GateProject, text: str) -> None:
    # (Held by the fix.)
    case = _notes(project, text)
    assert case["outcome"] == "passed", case


# -- junit: tests that did not run -----------------------------------------------------------

def _junit_gate(project: GateProject, text: str) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("reports:\n  junit: [reports/*.xml]\n")
    (project.root / "reports").mkdir()
    (project.root / "reports" / "unit.xml").write_text(text)
    custom_gate(project, "- {id: tests, text: All tests passing, check: {kind: junit}}")


@pytest.mark.parametrize("text", [
    # googletest: DISABLED_ tests are listed with status="notrun" result="suppressed" and no
    # <skipped> element; none of them ran.
    '<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="2" failures="0" disabled="2" '
    'errors="0" name="AllTests"><testsuite name="Refunds" tests="2" failures="0" disabled="2" '
    'skipped="0" errors="0"><testcase name="DISABLED_Full" status="notrun" result="suppressed" '
    'classname="Refunds"/><testcase name="DISABLED_Partial" status="notrun" '
    'result="suppressed" classname="Refunds"/></testsuite></testsuites>\n',
    # CTest: a test that failed is status="fail" (its <failure> lost in a conversion).
    '<testsuite name="ctest" tests="1"><testcase name="refunds" classname="refunds" '
    'status="fail"/></testsuite>\n',
    # A summary saying every test was skipped, over testcases that lost their <skipped>.
    '<testsuite name="s" tests="2" skipped="2"><testcase classname="a" name="t1"/>'
    '<testcase classname="a" name="t2"/></testsuite>\n',
], ids=["gtest-disabled", "ctest-status-fail", "summary-all-skipped"])
def test_junit_tests_that_did_not_run_or_failed_by_status_are_not_met(
        project: GateProject, text: str) -> None:
    _junit_gate(project, text)
    case = _judged(project, "tests")
    assert case["outcome"] in ("failure", "error"), case
    assert "reports/unit.xml" in case["message"], case


def test_junit_status_run_is_a_test_that_ran(project: GateProject) -> None:
    # (Held by the fix: googletest's tests that ran say status="run" result="completed".)
    _junit_gate(project, '<testsuites tests="1" failures="0" disabled="0" errors="0">'
                         '<testsuite name="R" tests="1" failures="0" disabled="0" skipped="0" '
                         'errors="0"><testcase name="Full" status="run" result="completed" '
                         'classname="R"/></testsuite></testsuites>\n')
    case = _judged(project, "tests")
    assert case["outcome"] == "passed", case


# -- sarif: a level the run configured -------------------------------------------------------

@pytest.mark.parametrize("rules, descriptor, reference", [
    ([{"id": "SQLI", "defaultConfiguration": {"level": "note"}}], {"index": 0},
     {"ruleIndex": 0}),
    # (No rules listed: the override names the rule by id, as the result does.)
    ([], {"id": "SQLI"}, {}),
], ids=["by-index", "by-id"])
def test_a_sarif_rule_raised_to_error_by_the_runs_configuration_counts_as_error(
        project: GateProject, rules: list, descriptor: dict, reference: dict) -> None:
    # SARIF 2.1.0 3.27.10: a result without a level takes the level of the invocation's
    # ruleConfigurationOverrides for its rule before the rule's defaultConfiguration. The
    # scan raised the rule to "error"; read as the rule's default "note" (or as "warning")
    # it was below high.
    scan = {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner", "rules": rules}},
        "invocations": [{"executionSuccessful": True, "ruleConfigurationOverrides": [
            {"descriptor": descriptor, "configuration": {"level": "error"}}]}],
        "results": [{"ruleId": "SQLI", **reference, "message": {"text": "injection"}}]}]}
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("reports:\n  sarif: [scans/*.sarif]\n")
    (project.root / "scans").mkdir()
    (project.root / "scans" / "app.sarif").write_text(json.dumps(scan))
    custom_gate(project, "- {id: scan, text: Security scan clean, check: {kind: sarif}}")
    case = _judged(project, "scan")
    assert case["outcome"] == "failure", case
    assert "SQLI [high]" in case["message"], case


# -- a report's own run time -----------------------------------------------------------------

_OLD_RUN = {
    "junit": ("reports/unit.xml",
              '<testsuite name="s" tests="1" timestamp="2026-01-05T10:00:00">'
              '<testcase classname="a" name="t"/></testsuite>\n'),
    "sarif": ("reports/app.sarif", json.dumps({"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "scanner"}}, "results": [],
        "invocations": [{"executionSuccessful": True,
                         "startTimeUtc": "2026-01-05T10:00:00Z"}]}]})),
    "coverage": ("reports/coverage.xml",
                 '<coverage line-rate="0.9" lines-valid="10" lines-covered="9" '
                 'timestamp="1767607200000"><packages/></coverage>\n'),  # 2026-01-05T10:00Z
}


@pytest.mark.parametrize("kind", ["junit", "sarif", "coverage"])
@pytest.mark.parametrize("rule", ["max_age_days: 7", "not_before: commit"])
def test_a_report_that_says_it_ran_long_ago_is_stale_whatever_its_file_time(
        project: GateProject, kind: str, rule: str) -> None:
    # A report downloaded from an earlier pipeline (or restored from a cache) is written
    # today, but says it ran on 5 January: before the release commit of 1 February, and
    # eight weeks before the evaluation.
    path, text = _OLD_RUN[kind]
    case = judged_report(project, kind, path, text, rule)
    assert case["outcome"] == "failure", case
    assert "2026-01-05" in case["message"], case


def judged_report(project: GateProject, kind: str, path: str, text: str, rule: str
                  ) -> dict[str, str]:
    """A report written (untracked) after a release committed on 1 February, judged by a
    ``kind`` check with the freshness ``rule`` on 1 March."""
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text("version: 1.4.0\n")
    (project.root / ".gitignore").write_text("reports/\n")
    _commit_all(project, "2026-02-01T12:00:00+00:00")
    (project.root / "reports").mkdir()
    (project.root / path).write_text(text)
    extra = ", min: 80" if kind == "coverage" else ""
    custom_gate(project, f"- {{id: fresh, text: Fresh, check: {{kind: {kind}, "
                         f"paths: [{path}], {rule}{extra}}}}}")
    return _judged(project, "fresh", "--gate-now=2026-03-01T00:00:00Z")
