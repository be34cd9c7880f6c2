"""Red-team regressions: attacks that once broke the gate, each through the public surface."""

from __future__ import annotations

import json

import pytest
from test_evidence_files import EXPOSITION, write
from test_hostile_evidence import NOW, NOW_MS, api, assert_no_secrets, files, outcome  # noqa: F401

from conftest import GateProject, custom_gate, write_config
from servers import ScriptedApi

# -- C: a password holding "/", "?" or "#" unencoded ends the host early --------------------------

@pytest.mark.parametrize("url", [
    "http://alice:S3cretPW/x@127.0.0.1:1/h?access_token=T0kenValue9",
    "http://alice:S3cretPW#x@127.0.0.1:1/h",
    "http://alice:S3cretPW?x@127.0.0.1:1/h",
    "http://alice:S3/cretPW@127.0.0.1:1/h",
])
def test_unencoded_password_characters_never_show_the_password(files: GateProject,  # noqa: F811
                                                               url: str) -> None:
    custom_gate(files, f'- {{id: c, text: C, check: {{kind: http, url: "{url}", retries: 0, '
                       'timeout: 2}}')
    result = files.run("--gate=12", "-rA")
    case = files.record().case("c")
    assert case["outcome"] in ("failure", "error"), case
    assert "percent-encode" in case["message"]
    assert_no_secrets(files, result, ("S3cretPW", "S3/cretPW", "T0kenValue9", "alice"))


# -- C: a header value http.client refuses is quoted in its error ---------------------------------

@pytest.mark.parametrize("token", ["T0kenValue9\n", "T0kenValue9\r\nX: y", "T0kenValue9\u00e9"])
def test_unsendable_bearer_token_is_not_quoted(files: GateProject, api: ScriptedApi,  # noqa: F811
                                               monkeypatch: pytest.MonkeyPatch,
                                               token: str) -> None:
    api.answers["q"] = (200, json.dumps({"status": "success", "data": {
        "resultType": "vector", "result": []}}).encode())
    monkeypatch.setenv("PROM_TOKEN", token)
    write_config(files, f"prometheus: {{url: '{api.url}/q', bearer_token_env: PROM_TOKEN}}\n")
    custom_gate(files, "- {id: c, text: C, check: {kind: prometheus, query: up, min: 1}}")
    result = files.run("--gate=12", f"--gate-now={NOW}", "-rA")
    case = files.record().case("c")
    assert case["type"] == "evidence-missing", case
    assert "'Authorization' has a value that cannot be sent" in case["message"]
    assert_no_secrets(files, result, ("T0kenValue9",))


# -- B: SARIF results that name their rule by index, extension or hierarchical id ----------------

_CRITICAL_RULE = {"id": "SQLI", "properties": {"security-severity": "9.8"}}


def _sarif(result: dict, driver_rules: list | None = None, extensions: list | None = None
           ) -> str:
    tool: dict = {"driver": {"name": "scanner", "rules": driver_rules or []}}
    if extensions is not None:
        tool["extensions"] = extensions
    return json.dumps({"version": "2.1.0", "runs": [{"tool": tool, "results": [result]}]})


@pytest.mark.parametrize("scan", [
    _sarif({"ruleIndex": 0, "message": {"text": "x"}}, [_CRITICAL_RULE]),
    _sarif({"ruleId": "SQLI", "rule": {"index": 0, "toolComponent": {"index": 0}},
            "message": {"text": "x"}}, extensions=[{"name": "pack", "rules": [_CRITICAL_RULE]}]),
    _sarif({"ruleId": "SQLI/union", "message": {"text": "x"}}, [_CRITICAL_RULE]),
    _sarif({"ruleId": "OTHER", "ruleIndex": 1, "message": {"text": "x"}},
           [{"id": "OTHER"}, _CRITICAL_RULE]),
])
def test_sarif_rule_reached_by_reference_keeps_its_severity(files: GateProject,  # noqa: F811
                                                            scan: str) -> None:
    write(files, "scans/a.sarif", scan)
    case = outcome(files, "{kind: sarif, report: sarif, severity: critical}")
    assert case["type"] == "not-met", case
    assert "[critical]" in case["message"]


@pytest.mark.parametrize(("result", "said"), [
    ({"ruleIndex": 3, "message": {"text": "x"}}, "ruleIndex 3 points at no rule"),
    ({"rule": {"index": 0, "toolComponent": {"index": 5}}}, "names no extension"),
    ({"ruleId": "X", "level": ["error"]}, 'level ["error"] is not a SARIF level'),
])
def test_sarif_unresolvable_rule_or_odd_types_are_evidence_missing(
        files: GateProject, result: dict, said: str) -> None:  # noqa: F811
    write(files, "scans/a.sarif", _sarif(result, [{"id": "X"}]))
    case = outcome(files, "{kind: sarif, report: sarif}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]
    assert "failed: TypeError" not in case["message"]


# -- B: JUnit failures reported on the suite, not on a testcase ----------------------------------

@pytest.mark.parametrize("report", [
    '<testsuite name="s"><error message="setUpClass failed"/><testcase name="a"/></testsuite>',
    '<testsuites><testsuite name="s"><testcase name="a"/><failure message="teardown"/>'
    '</testsuite></testsuites>',
    '<testsuites><error message="collection"/><testsuite name="s"><testcase name="a"/>'
    '</testsuite></testsuites>',
])
def test_junit_suite_level_failure_is_not_a_pass(files: GateProject,  # noqa: F811
                                                 report: str) -> None:
    write(files, "reports/unit.xml", report)
    case = outcome(files, "{kind: junit, report: junit}")
    assert case["type"] == "not-met", case
    assert "suite " in case["message"]


# -- B: a clean capture committed beside the real one -------------------------------------------

_CLEAN = 'http_requests_total{code="200"} 1000\n'


@pytest.mark.parametrize("names", [("a-real.prom", "z-clean.prom"),
                                   ("z-real.prom", "a-clean.prom")])
def test_every_matching_capture_counts(files: GateProject, names: tuple[str, str]) -> None:  # noqa: F811
    real, clean = names
    write(files, f"captures/{real}", EXPOSITION)  # 7% errors
    write(files, f"captures/{clean}", _CLEAN)
    write_config(files, "metrics_file: captures/*.prom\n")
    case = outcome(files, "{kind: metrics_file, metric: error_ratio, max: 0.05}")
    assert case["type"] == "not-met", case
    assert f"error_ratio = 0.07 in captures/{real}" in case["message"]


def test_one_unreadable_capture_among_good_ones_is_missing(files: GateProject) -> None:  # noqa: F811
    write(files, "captures/a.prom", _CLEAN)
    write(files, "captures/b.prom", "not metrics {{{")
    write(files, "captures/c.prom", _CLEAN.replace("1000", "999"))
    write_config(files, "metrics_file: captures/*.prom\n")
    case = outcome(files, "{kind: metrics_file, metric: error_ratio, max: 0.05}")
    assert case["type"] == "evidence-missing", case
    assert "captures/b.prom" in case["message"]


# -- B: a Prometheus answer that says it is partial ---------------------------------------------

def _answer(value: str, **extra: object) -> bytes:
    return json.dumps({"status": "success", **extra, "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": [NOW_MS / 1000, value]}]}}).encode()


@pytest.mark.parametrize(("extra", "passed"), [
    ({"warnings": ["partial response: store 10.0.0.7:10901 unavailable"]}, False),
    ({"warnings": "PromQL warning: something"}, False),
    ({"warnings": []}, True),
    ({}, True),
])
def test_prometheus_warnings_make_the_answer_inconclusive(
        files: GateProject, api: ScriptedApi, extra: dict, passed: bool) -> None:  # noqa: F811
    mode = f"warn{len(str(extra))}"
    api.answers[mode] = (200, _answer("0.01", **extra))
    write_config(files, f"prometheus: {{url: '{api.url}/{mode}', timeout: 2}}\n")
    # An expression, not the named error_ratio: this API answers every query alike, so it
    # would answer error_ratio's checks of its series (promql.GUARDS) with a series too.
    custom_gate(files, "- {id: c, text: C, check: {kind: prometheus, query: 'sum(up)', "
                       "max: 0.05}}")
    files.run("--gate=12", f"--gate-now={NOW}")
    case = files.record().case("c")
    if passed:
        assert case["outcome"] == "passed", case
    else:
        assert case["type"] == "evidence-missing", case
        assert "the answer carries warnings" in case["message"]


# -- C: a failing command echoes its own secrets in its output -----------------------------------

def test_command_output_does_not_repeat_its_secrets(files: GateProject) -> None:  # noqa: F811
    custom_gate(files, """
- {id: argv, text: A, check: {kind: command, run: [sh, -c, 'echo "bad option: $1 $2"; echo "$API_TOKEN"; exit 2', x, --password, S3cretPW]}}
- {id: shell, text: S, check: {kind: command, shell: true, run: "API_TOKEN=T0kenValue9 sh -c 'echo token=$API_TOKEN >&2; exit 3' --token=S3cretPW"}}
""")  # noqa: E501
    result = files.run("--gate=12", "--gate-allow-commands", "-rA")
    record = files.record()
    assert "exited 2: bad *** --password ***" in record.case("argv")["message"]
    assert "token=***" in record.case("shell")["message"]
    assert_no_secrets(files, result)


# -- C: userinfo with a space or a quote inside free text (a third party's error message) -------

@pytest.mark.parametrize("quoted", [
    "cannot fetch http://bob:S3cretPW x@upstream/api",
    'cannot fetch "http://bob:S3cretPW"x@upstream/api"',
])
def test_odd_userinfo_in_error_text_is_hidden(files: GateProject, api: ScriptedApi,  # noqa: F811
                                              quoted: str) -> None:
    mode = f"odd{len(quoted)}"
    api.answers[mode] = (422, json.dumps({"status": "error", "error": quoted}).encode())
    write_config(files, f"prometheus: {{url: '{api.url}/{mode}', timeout: 2}}\n")
    custom_gate(files, "- {id: c, text: C, check: {kind: prometheus, query: up, min: 1}}")
    result = files.run("--gate=12", f"--gate-now={NOW}")
    case = files.record().case("c")
    assert "query failed: cannot fetch " in case["message"]
    assert "***@upstream/api" in case["message"]
    assert_no_secrets(files, result, ("S3cretPW",))
