"""Issue 10, classes B and C, through `pytest --gate`: evidence readers refuse impossible
values (each is evidence missing, never 0, never a pass), and no secret of a URL, header or
command line reaches a record or the terminal. Real files, real loopback servers, a real
Prometheus."""

from __future__ import annotations

import base64
import json
import os
import shutil
from collections.abc import Iterator

import pytest
from test_evidence_files import EXPOSITION, write

from conftest import GateProject, custom_gate, need, write_config
from servers import AuthProxy, Prometheus, ScriptedApi, Service

NOW = "2026-02-05T10:00:00Z"
NOW_MS = 1770285600000  # NOW in milliseconds since the epoch


@pytest.fixture
def files(project: GateProject) -> GateProject:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, "version: 1.4.0\nreports:\n  junit: [reports/*.xml]\n"
                          "  sarif: [scans/*.sarif]\nmetrics_file: metrics.prom\n")
    return project


def outcome(project: GateProject, check: str, *args: str) -> dict:
    custom_gate(project, f"- {{id: c, text: C, check: {check}}}")
    result = project.run("--gate=12", *args)
    assert "Traceback" not in result.stdout.str()
    record = project.record()
    assert record.decision != "PASS"
    return record.case("c")


def passes(project: GateProject, check: str, *args: str) -> dict:
    custom_gate(project, f"- {{id: c, text: C, check: {check}}}")
    result = project.run("--gate=12", *args)
    assert result.ret == 0, result.stdout.str()
    return project.record().case("c")


# -- B: Prometheus text captures -----------------------------------------------------------------

HEALTHY = EXPOSITION
ERROR_RATIO = "{kind: metrics_file, metric: error_ratio, max: 0.1}"
P99 = "{kind: metrics_file, metric: p99_ms, max: 5000}"


@pytest.mark.parametrize(("check", "exposition", "said"), [
    (ERROR_RATIO, HEALTHY.replace("} 70", "} NaN"), "is nan: a counter is a finite"),
    (ERROR_RATIO, HEALTHY.replace("} 70", "} +Inf"), "is inf: a counter is a finite"),
    # A negative series cancelling the real errors would make the ratio 0.
    (ERROR_RATIO, HEALTHY + 'http_requests_total{code="504"} -70\n', "is -70"),
    (ERROR_RATIO, HEALTHY.replace('code="', 'status="'), "have no 'code' label (labels: status)"),
    (ERROR_RATIO, HEALTHY + 'http_requests_total{code="200"} 1\n', "appears twice"),
    (ERROR_RATIO, HEALTHY.replace("930", "0").replace("} 70", "} 0"), "counts no requests"),
    (P99, HEALTHY.replace("} 995", "} 10"), "not cumulative"),
    (P99, HEALTHY.replace('le="1"', 'le="NaN"'), "le=NaN"),
    # Sample timestamps from 2020, although the file itself is fresh.
    (ERROR_RATIO, HEALTHY.replace("} 70", "} 70 1577836800000"),
     "stale capture: a sample is timestamped 2020-01-01"),
    (ERROR_RATIO, HEALTHY.replace("} 70", "} 70 4102444800000"), "after the evaluation time"),
])
def test_impossible_captures_are_evidence_missing(files: GateProject, check: str,
                                                  exposition: str, said: str) -> None:
    write(files, "metrics.prom", exposition)
    case = outcome(files, check, f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]


def _age(project: GateProject, relative: str, days: float) -> None:
    path = project.root / relative
    stamp = 1770285600 - days * 86400  # NOW minus days
    os.utime(path, (stamp, stamp))


def test_capture_age_default_and_override(files: GateProject) -> None:
    write(files, "metrics.prom", HEALTHY.replace("} 70", f"}} 70 {NOW_MS - 3_600_000}"))
    _age(files, "metrics.prom", 0.5)
    assert passes(files, ERROR_RATIO, f"--gate-now={NOW}")["outcome"] == "passed"
    _age(files, "metrics.prom", 3)
    case = outcome(files, ERROR_RATIO, f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing"
    assert "stale capture: the file was modified" in case["message"]
    assert "over the maximum age of 1 days" in case["message"]
    longer = "{kind: metrics_file, metric: error_ratio, max: 0.1, max_age_days: 7}"
    assert passes(files, longer, f"--gate-now={NOW}")["outcome"] == "passed"


def test_sample_age_reads_sample_timestamps(files: GateProject) -> None:
    write(files, "metrics.prom", HEALTHY.replace("} 70", f"}} 70 {NOW_MS - 7_200_000}"))
    _age(files, "metrics.prom", 0)
    case = outcome(files, "{kind: metrics_file, metric: sample_age_s, max: 3600}",
                   f"--gate-now={NOW}")
    assert case["type"] == "not-met"
    assert "sample_age_s = 7200" in case["message"]


# -- B: Prometheus HTTP API answers --------------------------------------------------------------

def _vector(value: object) -> bytes:
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": {}, "value": value}]}}).encode()


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedApi]:
    server = ScriptedApi()
    now = NOW_MS / 1000
    server.answers.update({
        "good": (200, _vector([now, "0.01"])),
        "string": (200, json.dumps({"status": "success", "data": {
            "resultType": "vector", "result": [{"metric": {}, "value": "90"}]}}).encode()),
        "short": (200, _vector([now])),
        "number": (200, _vector([now, 0.01])),
        "words": (200, _vector([now, "ninety"])),
        "stale": (200, _vector([1577836800, "0.01"])),
        "nokind": (200, json.dumps({"status": "success", "data": {"result": []}}).encode()),
        "dict": (200, json.dumps({"status": "success", "data": {
            "resultType": "vector", "result": {"value": [now, "1"]}}}).encode()),
        "novalue": (200, json.dumps({"status": "success", "data": {
            "resultType": "vector", "result": [{"metric": {}}]}}).encode()),
        "datalist": (200, json.dumps({"status": "success", "data": [1, 2]}).encode()),
        "scalar": (200, json.dumps({"status": "success", "data": {
            "resultType": "scalar", "result": [now, "-Inf"]}}).encode()),
    })
    yield server
    server.close()


@pytest.mark.parametrize(("mode", "said"), [
    ("string", 'result[0].value is "90", not a [time, "value"] pair'),
    ("short", "not a [time,"),
    ("number", "has value 0.01, not a number in a string"),
    ("words", 'has value "ninety", not a number'),
    ("stale", "is not the evaluation time"),
    ("nokind", "expected an instant vector, got None"),
    ("dict", "not a list of series"),
    ("novalue", "result[0] has no value"),
    ("datalist", "answer has no data object"),
    ("scalar", "value is -Inf"),
])
def test_prometheus_wrong_shapes_are_evidence_missing(files: GateProject, api: ScriptedApi,
                                                      mode: str, said: str) -> None:
    write_config(files, f"prometheus: {{url: '{api.url}/{mode}', timeout: 2}}\n")
    case = outcome(files, "{kind: prometheus, query: error_ratio, max: 0.05}",
                   f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]
    assert "IndexError" not in case["message"] and "KeyError" not in case["message"]


def test_prometheus_good_shape_passes(files: GateProject, api: ScriptedApi) -> None:
    write_config(files, f"prometheus: {{url: '{api.url}/good', timeout: 2}}\n")
    # An expression, not the named error_ratio: this API answers every query alike, so it
    # would answer error_ratio's checks of its series (promql.GUARDS) with a series too.
    case = passes(files, "{kind: prometheus, query: 'sum(up)', max: 0.05}",
                  f"--gate-now={NOW}")
    assert "measured 0.01" in case["text"]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Prometheus]]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    with Service() as service:
        server = Prometheus(tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{service.port}"])
        server.start()
        try:
            server.wait_for(lambda: server.value(
                'sum(rate(http_requests_total{job="acme-api"}[5s]))') is not None, "scraping")
            yield service, server
        finally:
            server.stop()


def test_real_prometheus_unmatched_label_is_evidence_missing(
        files: GateProject, prometheus: tuple[Service, Prometheus]) -> None:
    service, server = prometheus
    service.error_ratio = 0.4
    # Until the 5s rate shows the new ratio, the right query would still measure the old one.
    server.wait_for(lambda: (server.value(
        'sum(rate(http_requests_total{job="acme-api",code=~"5.."}[5s])) / '
        'sum(rate(http_requests_total{job="acme-api"}[5s]))') or 0) > 0.3, "error ratio 0.4")
    write_config(files, f"prometheus: {{url: '{server.url}', job: acme-api, rate_window: 5s}}\n")
    # status= instead of code=: the numerator matches no series, which is no measurement.
    wrong = ('sum(rate(http_requests_total{job="acme-api",status=~"5.."}[5s])) / '
             'sum(rate(http_requests_total{job="acme-api"}[5s]))')
    case = outcome(files, json.dumps({"kind": "prometheus", "query": wrong, "max": 0.05}))
    assert case["type"] == "evidence-missing"
    assert "no data" in case["message"]
    right = outcome(files, "{kind: prometheus, query: error_ratio, max: 0.05}")
    assert right["type"] == "not-met"


# -- B: SARIF ------------------------------------------------------------------------------------

def _scan(results: list | None = None, **run: object) -> str:
    body: dict = {"tool": {"driver": {"name": "scanner"}}, **run}
    if results is not None:
        body["results"] = results
    return json.dumps({"version": "2.1.0", "runs": [body]})


HIGH = {"ruleId": "SQLI", "level": "error", "message": {"text": "x"}}


@pytest.mark.parametrize(("status", "counted"), [
    ("rejected", True), ("underReview", True), ("accepted", False), (None, False)])
def test_sarif_suppression_status(files: GateProject, status: str | None,
                                  counted: bool) -> None:
    suppression = {"kind": "external"} | ({"status": status} if status else {})
    write(files, "scans/a.sarif", _scan([{**HIGH, "suppressions": [suppression]}]))
    check = "{kind: sarif, report: sarif}"
    if counted:
        case = outcome(files, check)
        assert case["type"] == "not-met"
        assert "SQLI [high]" in case["message"]
    else:
        assert passes(files, check)["outcome"] == "passed"


def test_sarif_one_open_suppression_among_accepted_ones_counts(files: GateProject) -> None:
    write(files, "scans/a.sarif", _scan([{**HIGH, "suppressions": [
        {"kind": "inSource"}, {"kind": "external", "status": "rejected"}]}]))
    assert outcome(files, "{kind: sarif, report: sarif}")["type"] == "not-met"


@pytest.mark.parametrize(("scan", "said"), [
    (_scan([{**HIGH, "level": "note", "properties": {"security-severity": "NaN"}}]),
     'security-severity "NaN" is not a score'),
    (_scan([{**HIGH, "properties": {"security-severity": "high"}}]),
     'security-severity "high" is not a number'),
    (_scan([{**HIGH, "properties": {"security-severity": "11"}}]), "not a score from 0 to 10"),
    (_scan([{**HIGH, "level": "critical"}]), 'level "critical" is not a SARIF level'),
    (json.dumps({"version": "2.1.0", "runs": []}), "runs is empty: no scan ran"),
    (_scan(None), "has no results array"),
    (_scan([], invocations=[{"executionSuccessful": False}]),
     "invocations[0].executionSuccessful is false: no scan"),
    (_scan(None, invocations=[{"executionSuccessful": False}]), "executionSuccessful is false"),
    (_scan([{**HIGH, "suppressions": {"kind": "inSource"}}]), "suppressions is not an array"),
])
def test_sarif_impossible_or_absent_scan_is_evidence_missing(files: GateProject, scan: str,
                                                             said: str) -> None:
    write(files, "scans/a.sarif", scan)
    case = outcome(files, "{kind: sarif, report: sarif}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]


def test_sarif_clean_successful_scan_passes(files: GateProject) -> None:
    write(files, "scans/a.sarif", _scan([{**HIGH, "level": "note"}],
                                        invocations=[{"executionSuccessful": True}]))
    assert "no result at or above high (1 below)" in passes(
        files, "{kind: sarif, report: sarif}")["text"]


# -- B: JUnit ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("report", "said"), [
    ('<testsuite name="s" tests="3" errors="3"/>', "declares tests=3 but has 0"),
    ('<testsuites><testsuite name="s" errors="3"><testcase name="a"/></testsuite></testsuites>',
     "declares errors=3 but has 0"),
    ('<testsuites failures="2"><testsuite name="s"><testcase name="a"/></testsuite>'
     '</testsuites>', "declares failures=2"),
    ('<testsuite name="s" tests="-1"><testcase name="a"/></testsuite>', "is negative"),
    ('<testsuite name="s" errors="many"><testcase name="a"/></testsuite>', "not a whole number"),
])
def test_junit_summary_contradicting_testcases_is_evidence_missing(
        files: GateProject, report: str, said: str) -> None:
    write(files, "reports/unit.xml", report)
    case = outcome(files, "{kind: junit, report: junit}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]


@pytest.mark.parametrize("report", [
    '<testsuite name="s" tests="0"/>',
    '<testsuite name="s" tests="1" skipped="1"><testcase name="a"><skipped/></testcase>'
    '</testsuite>',
])
def test_junit_zero_tests_is_not_a_pass(files: GateProject, report: str) -> None:
    write(files, "reports/unit.xml", report)
    assert outcome(files, "{kind: junit, report: junit}")["type"] == "not-met"


def test_junit_consistent_report_passes(files: GateProject) -> None:
    write(files, "reports/unit.xml", '<testsuite name="s" tests="2" errors="0" failures="0">'
                                     '<testcase name="a"/><testcase name="b"/></testsuite>')
    assert passes(files, "{kind: junit, report: junit}")["outcome"] == "passed"


# -- B: thresholds and state numbers -------------------------------------------------------------

def _clean_error(result: pytest.RunResult) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    assert result.ret != 0
    return output


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", "1.0e+400"])
def test_non_finite_threshold_in_config_names_file_and_line(files: GateProject,
                                                            value: str) -> None:
    write_config(files, f"version: 1.4.0\nthresholds:\n  error_rate: {value}\n")
    custom_gate(files, "- {id: c, text: C, check: {kind: state, path: phases, "
                       "max: {threshold: error_rate}}}")
    output = _clean_error(files.run_subprocess("--gate=12"))
    assert "deploygate.yaml:3: thresholds.error_rate: " in output
    assert "is not a finite number" in output


def test_non_finite_spec_threshold_and_literal_bound(files: GateProject) -> None:
    custom_gate(files, "- {id: c, text: C, check: {kind: state, path: x, max: .nan}}")
    spec = files.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text().replace("p99_ms: 2000", "p99_ms: .inf"))
    output = _clean_error(files.run_subprocess("--gate=12"))
    assert "12-production.yaml:6: thresholds.p99_ms: inf is not a finite number" in output
    assert "criteria[0].check.max: nan is not a finite number" in output
    assert files.record().decision != "PASS"


@pytest.mark.parametrize("value", ["nan", "inf", "-Infinity", "NaN"])
def test_non_finite_gate_threshold_option_is_a_usage_error(files: GateProject,
                                                           value: str) -> None:
    custom_gate(files, "- {id: c, text: C, check: {kind: state, path: phases, "
                       "max: {threshold: error_rate}}}")
    result = files.run_subprocess("--gate=12", f"--gate-threshold=error_rate={value}")
    output = _clean_error(result)
    assert result.ret == 4
    assert f"--gate-threshold 'error_rate={value}': {value} is not a finite number" in output


@pytest.mark.parametrize(("value", "check"), [
    ("Infinity", "{kind: state, path: coverage, min: 80}"),
    ("NaN", "{kind: state, path: coverage, truthy: true}"),
    ("-Infinity", "{kind: state, path: coverage, max: 5}"),
])
def test_non_finite_state_numbers_are_evidence_missing(files: GateProject, value: str,
                                                       check: str) -> None:
    files.state_path.write_text('{"phases": {}, "coverage": ' + value + '}')
    case = outcome(files, check)
    assert case["type"] == "evidence-missing"
    assert "not a finite number" in case["message"]


# -- C: secrets in records -----------------------------------------------------------------------

SECRETS = ("S3cretPW", "T0kenValue9", "alice:")


def assert_no_secrets(project: GateProject, result: pytest.RunResult,
                      secrets: tuple[str, ...] = SECRETS, *, records: bool = True) -> None:
    """No secret in the terminal, nor in the records (which a config error never writes)."""
    shown = [result.stdout.str(), result.stderr.str()]
    for name in ("GATE-12.xml", "GATE-12.md", "GATE-12.html") if records else ():
        path = project.root / "gate-records" / name
        assert path.exists(), name
        shown.append(path.read_text())
    for text in shown:
        for secret in secrets:
            assert secret not in text, (secret, text[-3000:])


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    with Service() as running:
        yield running


def test_health_url_credentials_are_sent_and_never_shown(files: GateProject,
                                                         service: Service) -> None:
    basic = "Basic " + base64.b64encode(b"alice:S3cretPW").decode()
    proxy = AuthProxy(service.url, basic)
    try:
        host = proxy.url.removeprefix("http://")
        good = f"http://alice:S3cretPW@{host}/health?access_token=T0kenValue9&v=2"
        bad = f"http://alice:S3cretPW@{host}/down?access_token=T0kenValue9"
        custom_gate(files, f"""
- {{id: up, text: "Up at {good}", check: {{kind: http, url: "{good}", retries: 0}}}}
- {{id: down, text: Down, check: {{kind: http, url: "{bad}", retries: 0}}}}
""")
        result = files.run("--gate=12", "-rA")
        assert basic in proxy.seen
        record = files.record()
        assert record.case("up")["outcome"] == "passed"
        assert f"http://***@{host}/health?access_token=***&v=***" in record.case("up")["text"]
        assert record.case("down")["type"] == "not-met"
        assert_no_secrets(files, result)
    finally:
        proxy.close()


def test_unreachable_urls_with_secrets_in_errors(files: GateProject) -> None:
    custom_gate(files, """
- {id: refused, text: R, check: {kind: http, url: "http://alice:S3cretPW@127.0.0.1:1/h?access_token=T0kenValue9", retries: 0, timeout: 2}}
- {id: badpath, text: P, check: {kind: http, url: "http://alice:S3cretPW@127.0.0.1:1/h?access_token=T0kenValue9 x", retries: 0, timeout: 2}}
- {id: garbage, text: G, check: {kind: http, url: "http://[alice:S3cretPW@x/?q=T0kenValue9", retries: 0, timeout: 2}}
""")  # noqa: E501
    result = files.run("--gate=12", "-rA")
    record = files.record()
    for item in ("refused", "badpath", "garbage"):
        assert record.case(item)["outcome"] in ("failure", "error"), record.case(item)
    assert_no_secrets(files, result)


def test_prometheus_url_and_error_text_are_redacted(files: GateProject,
                                                    api: ScriptedApi) -> None:
    api.answers["leak"] = (422, json.dumps({
        "status": "error", "errorType": "bad_data",
        "error": "cannot fetch http://bob:S3cretPW@upstream/api?access_token=T0kenValue9",
    }).encode())
    host = api.url.removeprefix("http://")
    custom_gate(files, "- {id: c, text: C, check: {kind: prometheus, query: up, min: 1}}")
    result = files.run("--gate=12", f"--gate-now={NOW}",
                       f"--gate-prometheus=http://alice:S3cretPW@{host}/leak?token=T0kenValue9")
    case = files.record().case("c")
    assert case["type"] == "evidence-missing"
    assert f"http://***@{host}/leak/api/v1/query?token=***" in case["message"]
    assert "query failed: cannot fetch http://***@upstream/api?access_token=***" in (
        case["message"])
    path, headers = api.seen[-1]
    assert "token=T0kenValue9" in path and "query=min" in path  # the base query is still sent
    assert headers.get("Authorization", "").startswith("Basic ")
    assert_no_secrets(files, result)


def test_command_line_secrets_are_redacted(files: GateProject) -> None:
    custom_gate(files, """
- {id: c, text: C, check: {kind: command, run: [env, "API_TOKEN=T0kenValue9", sh, -c, "exit 3", --password, S3cretPW]}}
- {id: s, text: S, check: {kind: command, shell: true, run: "API_KEY=T0kenValue9 ./deploy --token=S3cretPW https://alice:S3cretPW@h/x"}}
""")  # noqa: E501
    result = files.run("--gate=12", "--gate-allow-commands", "-rA")
    record = files.record()
    message = record.case("c")["message"]
    assert "env API_TOKEN=*** sh -c *** --password ***" in message
    assert "API_KEY=*** ./deploy --token=*** https://***@h/x" in record.case("s")["message"]
    assert_no_secrets(files, result)


@pytest.mark.parametrize("args", [
    ("--gate-prometheus=ftp://alice:S3cretPW@host/?access_token=T0kenValue9",),
    ("--gate-health-url=gopher://alice:S3cretPW@host/?access_token=T0kenValue9",),
])
def test_usage_errors_show_urls_redacted(files: GateProject, args: tuple[str, ...]) -> None:
    result = files.run_subprocess("--gate=12", *args)
    output = _clean_error(result)
    assert result.ret == 4
    assert "://***@host/?access_token=***" in output
    for secret in SECRETS:
        assert secret not in output


def test_config_errors_show_urls_redacted(files: GateProject) -> None:
    write_config(files, "health_urls: ['ftp://alice:S3cretPW@host/x?access_token=T0kenValue9']\n")
    custom_gate(files, "- {id: c, text: C, check: {kind: http, urls_from: health_urls}}")
    result = files.run_subprocess("--gate=12")
    output = _clean_error(result)
    assert "deploygate.yaml:1: health_urls[0]" in output
    assert not (files.root / "gate-records").exists()  # a broken config writes no record
    assert_no_secrets(files, result, records=False)
