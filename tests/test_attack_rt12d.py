"""Red team rt12d: the check kinds that read reports and measurements, fooled by evidence
that should not meet their criterion. The release's author controls every file of the
repository (deploygate.yaml, reports, state.json) and its commits; never conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import GateProject, custom_gate

_JUNIT_PASS = ('<testsuite name="s" tests="2"><testcase classname="a" name="t1"/>'
               '<testcase classname="a" name="t2"/></testsuite>\n')


def _judged(project: GateProject, criterion: str, *args: str) -> dict[str, str]:
    project.run("--gate=12", *args)
    return project.record().case(criterion)


def _commit(project: GateProject, when: str, message: str, *paths: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
           "GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com",
           "GIT_AUTHOR_DATE": when, "GIT_COMMITTER_DATE": when}
    if not (project.root / ".git").exists():
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=project.root, check=True,
                       env=env, capture_output=True)
    for command in (["git", "add", "-f", "--", *(paths or ["."])],
                    ["git", "commit", "-q", "-m", message]):
        subprocess.run(command, cwd=project.root, check=True, env=env, capture_output=True)


def _fresh_clone(project: GateProject) -> None:
    """Check every tracked file out again, as a CI runner's clone does (modified now)."""
    for path in project.root.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(project.root).parts:
            path.unlink()
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=project.root, check=True,
                   capture_output=True)


def test_a_report_committed_under_bookkeeping_after_the_release_is_no_run_of_it(
        project: GateProject) -> None:
    # The release commit, then a "bookkeeping" commit (it does not move the release) that
    # adds a hand-written passing JUnit report under .isdlc/: tracked, not release content,
    # and committed after the release commit, so it looked produced after it.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nreports:\n  junit: [.isdlc/reports/*.xml]\n")
    custom_gate(project, "- {id: fresh, text: Fresh tests, check: {kind: junit, "
                         "report: junit, not_before: commit}}")
    _commit(project, "2026-01-01T12:00:00+00:00", "release 1.4.0")
    (project.root / ".isdlc" / "reports").mkdir()
    (project.root / ".isdlc" / "reports" / "unit.xml").write_text(_JUNIT_PASS)
    _commit(project, "2026-01-02T12:00:00+00:00", "reports", ".isdlc/reports")
    _fresh_clone(project)
    case = _judged(project, "fresh")
    assert case["outcome"] in ("failure", "error"), case


NOW = "2026-02-05T10:00:00Z"
NOW_S = 1770285600


def test_a_series_below_the_minimum_is_not_hidden_by_one_within_both_bounds(
        project: GateProject) -> None:
    # "every target up": min 1 and max 1. Prometheus answers one series per target; one is
    # down. Only the highest value was held to both bounds, so the down target passed.
    from servers import ScriptedApi

    api = ScriptedApi()
    try:
        api.answers["p"] = (200, json.dumps({"status": "success", "data": {
            "resultType": "vector", "result": [
                {"metric": {"instance": "a:80"}, "value": [NOW_S, "1"]},
                {"metric": {"instance": "b:80"}, "value": [NOW_S, "0"]}]}}).encode())
        project.set_state({"phases": {}})
        (project.root / "deploygate.yaml").write_text(
            f"version: 1.4.0\nprometheus: {{url: '{api.url}/p', timeout: 2}}\n")
        custom_gate(project, "- {id: up, text: All targets up, check: {kind: prometheus, "
                             "query: 'up', min: 1, max: 1}}")
        case = _judged(project, "up", f"--gate-now={NOW}")
    finally:
        api.close()
    assert case["outcome"] in ("failure", "error"), case
    assert "0" in case["message"], case


def _prometheus_gate(project: GateProject, url: str, check: str) -> None:
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        f"version: 1.4.0\nprometheus: {{url: '{url}', timeout: 2}}\n")
    custom_gate(project, f"- {{id: m, text: Metric, check: {check}}}")


def test_a_window_of_which_no_measurement_could_be_taken_is_no_pass(
        project: GateProject) -> None:
    # A window that tolerates inconclusive samples (a flaky Prometheus) as many as it takes:
    # with the query matching nothing at every sample, nothing was measured at all.
    from servers import ScriptedApi

    api = ScriptedApi()
    try:
        api.answers["p"] = (200, b'{"status":"success","data":{"resultType":"vector",'
                                 b'"result":[]}}')
        _prometheus_gate(project, f"{api.url}/p", "{kind: prometheus, query: error_ratio, "
                         "max: 0.05, window: {count: 2, interval: 0, inconclusive_limit: 2}}")
        case = _judged(project, "m", f"--gate-now={NOW}")
    finally:
        api.close()
    assert case["outcome"] == "error", case
    assert "no data" in case["message"], case


@pytest.mark.parametrize("patterns", [
    "[reports/trivy.sarif, reports/semgrep.sarif]",
    "['reports/trivy*.sarif', 'reports/semgrep*.sarif']",
], ids=["paths", "globs"])
def test_a_scan_the_report_set_names_that_wrote_nothing_is_missing(
        project: GateProject, patterns: str) -> None:
    # Two scanners, one report set. The second scanner crashed before writing its log: the
    # first one's clean scan stood for both.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        f"version: 1.4.0\nreports:\n  sarif: {patterns}\n")
    (project.root / "reports").mkdir()
    (project.root / "reports" / "trivy.sarif").write_text(json.dumps({
        "version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Trivy"}}, "results": []}]}))
    custom_gate(project, "- {id: scan, text: Scan clean, check: {kind: sarif}}")
    case = _judged(project, "scan")
    assert case["outcome"] == "error", case
    assert "semgrep" in case["message"], case


def test_a_health_trigger_probing_fewer_times_than_it_needs_to_fire_still_fires(
        project: GateProject) -> None:
    # "3 failures in a row" probed twice could never fire: an endpoint down at every probe
    # was no rollback.
    from servers import ScriptedApi

    api = ScriptedApi()
    try:
        api.answers["down"] = (503, b"down")
        project.set_state({"phases": {}})
        custom_gate(project, triggers=f"""
- id: failing
  text: Health checks failing repeatedly
  check: {{kind: http, url: '{api.url}/down', consecutive_failures: 3, probes: 2,
           interval: 0}}
""")
        project.run("--gate=12")
    finally:
        api.close()
    record = project.record()
    assert record.decision == "ROLLBACK", record.decision
    assert record.case("failing")["type"] == "rollback-triggered"


def test_a_window_breaching_at_every_measurement_is_breached_whatever_its_failure_limit(
        project: GateProject) -> None:
    from servers import ScriptedApi

    api = ScriptedApi()
    try:
        api.answers["p"] = (200, json.dumps({"status": "success", "data": {
            "resultType": "vector", "result": [
                {"metric": {}, "value": [NOW_S, "0.5"]}]}}).encode())
        _prometheus_gate(project, f"{api.url}/p", "{kind: prometheus, query: error_ratio, "
                         "max: 0.05, window: {count: 2, interval: 0, failure_limit: 2}}")
        case = _judged(project, "m", f"--gate-now={NOW}")
    finally:
        api.close()
    assert case["outcome"] == "failure", case


_CAPTURE = ('# TYPE http_requests_total counter\n'
            'http_requests_total{code="200"} 1000\nhttp_requests_total{code="500"} 1\n')


def test_a_metrics_capture_committed_with_the_release_is_no_capture_of_its_deploy(
        project: GateProject) -> None:
    # A clean capture committed with the release an hour before the gate: within the
    # capture's default day, but written before this release was ever deployed.
    project.set_state({"phases": {}})
    (project.root / "deploygate.yaml").write_text(
        "version: 1.4.0\nmetrics_file: reports/production.prom\n")
    (project.root / "reports").mkdir()
    (project.root / "reports" / "production.prom").write_text(_CAPTURE)
    custom_gate(project, "- {id: errors, text: Error ratio, check: {kind: metrics_file, "
                         "metric: error_ratio, max: 0.05}}")
    _commit(project, "2026-03-01T11:00:00+00:00", "release 1.4.0")
    _fresh_clone(project)
    case = _judged(project, "errors", "--gate-now=2026-03-01T12:00:00Z")
    assert case["outcome"] in ("failure", "error"), case
    assert "reports/production.prom" in case["message"], case
