"""Network evidence against real servers on 127.0.0.1: a real Prometheus (Debian's package)
scraping a service the test controls, and HTTP endpoints that are healthy, down, hanging,
redirecting or failing in a row."""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import Alertmanager, AuthProxy, Prometheus, Service, TlsService

TRIGGERS = """
- id: error-rate
  text: "Error rate > {error_rate:.0%}"
  check: {kind: prometheus, query: error_ratio, max: {threshold: error_rate}}
"""


@pytest.fixture(scope="module")
def service() -> Iterator[Service]:
    with Service() as running:
        yield running


@pytest.fixture(scope="module")
def alertmanager() -> Iterator[Alertmanager]:
    receiver = Alertmanager()
    yield receiver
    receiver.close()


@pytest.fixture(scope="module")
def prometheus(service: Service, alertmanager: Alertmanager,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    server = Prometheus(tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{service.port}"],
                        alertmanagers=[{"static_configs": [{"targets": [alertmanager.target]}]}]
                        ).start()
    try:
        server.wait_for(lambda: server.value('min(up{job="acme-api"})') == 1, "scraping")
        # (A rule not yet evaluated proves nothing: prometheus_rules does not count it.)
        server.wait_for(lambda: set(server.rule_health().values()) == {"ok"}, "evaluating")
        # (Nor do alerts that reach nobody: the Alertmanager is discovered a few seconds in.)
        server.wait_for(lambda: bool(server.alertmanagers()["active"]), "sending to alertmanager")
        yield server
    finally:
        server.stop()


def set_ratio(service: Service, prometheus: Prometheus, ratio: float) -> None:
    """Change the service's error ratio and wait until Prometheus's 5s rate shows it."""
    service.error_ratio = ratio
    expr = ('sum(rate(http_requests_total{job="acme-api",code=~"5.."}[5s])) / '
            'sum(rate(http_requests_total{job="acme-api"}[5s]))')

    def settled() -> bool:
        value = prometheus.value(expr)
        return value is not None and abs(value - ratio) < 0.005

    prometheus.wait_for(settled, f"showing error ratio {ratio}")


@pytest.fixture
def metrics_project(project: GateProject, prometheus: Prometheus) -> GateProject:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{prometheus.url}', job: acme-api, "
                          "rate_window: 5s, timeout: 3}\n")
    return project


def test_error_ratio_below_threshold_passes(metrics_project: GateProject, service: Service,
                                            prometheus: Prometheus) -> None:
    set_ratio(service, prometheus, 0.02)
    custom_gate(metrics_project, triggers=TRIGGERS)
    result = metrics_project.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    case = metrics_project.record().case("error-rate")
    assert case["outcome"] == "passed"
    assert "measured 0.0" in case["text"]
    assert "within <= error_rate=0.05" in case["text"]
    assert (f"prometheus {prometheus.url}/api/v1/query query="
            '(sum(rate(http_requests_total{job="acme-api",code=~"5.."}[5s])) or 0 * ') \
        in case["text"]


def test_error_ratio_above_threshold_rolls_back(metrics_project: GateProject, service: Service,
                                                prometheus: Prometheus) -> None:
    set_ratio(service, prometheus, 0.07)
    custom_gate(metrics_project, triggers=TRIGGERS)
    result = metrics_project.run("--gate=12")
    assert result.ret == 1
    record = metrics_project.record()
    assert record.decision == "ROLLBACK"
    case = record.case("error-rate")
    assert case["type"] == "rollback-triggered"
    measured = float(re.search(r"measured ([0-9.]+)", case["message"]).group(1))
    assert 0.06 < measured < 0.08
    assert "breaching <= error_rate=0.05" in case["message"]
    result.stdout.fnmatch_lines(["*ROLLBACK TRIGGERED: [[]GATE-12[]][[]error-rate[]]*",
                                 "*measured 0.0*, breaching*"])
    set_ratio(service, prometheus, 0.0)


WINDOW_TRIGGER = """
- id: ticks
  text: Ticks breach
  check:
    kind: prometheus
    # A real query whose value depends only on the evaluation time: at 0.1 s intervals, ten
    # consecutive measurements see the tenths 0..9, and exactly two of them (8, 9) breach.
    query: (floor(vector(time() * 10)) % 10) >= bool 8
    max: 0.5
    window: {{count: 10, interval: 100ms, failure_limit: {limit}}}
"""


@pytest.mark.parametrize(("limit", "now", "fired"), [
    (3, "2026-02-05T10:00:00.05Z", False),
    # Starting at tenth 8: the first two measurements breach and the window stops there.
    (1, "2026-02-05T10:00:00.85Z", True),
])
def test_window_with_two_breaches(metrics_project: GateProject, prometheus: Prometheus,
                                  limit: int, now: str, fired: bool) -> None:
    # Each measurement evaluates its planned instant (now + i * 100ms), however late a loaded
    # machine takes it, so the tenths seen do not depend on timing; a generous timeout, so a
    # slow answer is not an inconclusive one.
    write_config(metrics_project, f"prometheus: {{url: '{prometheus.url}', job: acme-api, "
                                  "rate_window: 5s, timeout: 30}\n")
    custom_gate(metrics_project, triggers=WINDOW_TRIGGER.format(limit=limit))
    result = metrics_project.run("--gate=12", f"--gate-now={now}")
    record = metrics_project.record()
    case = record.case("ticks")
    if fired:
        assert record.decision == "ROLLBACK"
        assert "2 of" in case["message"] and "(failure limit 1)" in case["message"]
        assert "(stopped early after 2 of 10)" in case["message"]
    else:
        assert result.ret == 0, result.stdout.str()
        assert "2 of 10 measurements breached (failure limit 3)" in case["text"]


def test_prometheus_stopped_is_inconclusive(project: GateProject, service: Service,
                                            tmp_path: Path) -> None:
    need(shutil.which("prometheus") is not None, "the prometheus binary is not installed")
    server = Prometheus(tmp_path / "p", [f"127.0.0.1:{service.port}"]).start()
    server.stop()
    project.set_state({"phases": {}})
    write_config(project, f"prometheus: {{url: '{server.url}', timeout: 2}}\n")
    custom_gate(project, triggers=TRIGGERS)
    result = project.run("--gate=12")
    assert result.ret == 1
    record = project.record()
    assert record.decision == "FAIL"
    case = record.case("error-rate")
    assert case["type"] == "evidence-missing"
    assert "inconclusive" in case["message"] and "refused" in case["message"].lower()


@pytest.mark.parametrize(("query", "problem"), [
    ("vector(0) / vector(0)", "value is NaN"),
    ("absent(up)", "no data (empty result)"),
    ("up[1m]", "expected an instant vector, got 'matrix'"),
    ("sum(rate(nope[", "query failed"),
])
def test_inconclusive_answers_never_pass(metrics_project: GateProject, query: str,
                                         problem: str) -> None:
    custom_gate(metrics_project, triggers=f"""
- id: odd
  text: Odd answer
  check: {{kind: prometheus, query: '{query}', max: 1}}
""")
    metrics_project.run("--gate=12")
    record = metrics_project.record()
    assert record.decision == "FAIL"
    case = record.case("odd")
    assert case["type"] == "evidence-missing"
    assert problem in case["message"]


def test_bearer_token_is_sent_and_never_recorded(project: GateProject,
                                                 prometheus: Prometheus,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cret-token-4f1c9d"
    proxy = AuthProxy(prometheus.url, f"Bearer {secret}")
    try:
        monkeypatch.setenv("PROM_TOKEN", secret)
        project.set_state({"phases": {}})
        write_config(project, f"prometheus: {{url: '{proxy.url}', job: acme-api, "
                              "rate_window: 5s, bearer_token_env: PROM_TOKEN}\n")
        custom_gate(project, """
- {id: up, text: Metrics collected, check: {kind: prometheus, query: up, min: 1}}
""")
        result = project.run("--gate=12", "-v")
        assert result.ret == 0, result.stdout.str()
        assert f"Bearer {secret}" in proxy.seen
        monkeypatch.setenv("PROM_TOKEN", "wrong")
        result = project.run("--gate=12", "-v")
        assert result.ret == 1
        assert "HTTP 401" in project.record().case("up")["message"]
        everything = result.stdout.str() + result.stderr.str() + "".join(
            p.read_text() for p in (project.root / "gate-records").iterdir())
        assert secret not in everything
        monkeypatch.delenv("PROM_TOKEN")
        project.run("--gate=12")
        assert "environment variable PROM_TOKEN (bearer token) is not set" in (
            project.record().case("up")["message"])
    finally:
        proxy.close()


def test_alerting_rules_and_up(metrics_project: GateProject,
                               alertmanager: Alertmanager) -> None:
    custom_gate(metrics_project, """
- {id: alerts, text: Alerts working, check: {kind: prometheus_rules}}
- {id: up, text: Metrics collected, check: {kind: prometheus, query: up, min: 1}}
""")
    assert metrics_project.run("--gate=12").ret == 0
    record = metrics_project.record()
    text = record.case("alerts")["text"]
    assert "1 alerting rule(s) loaded, none in error: HighErrorRatio" in text
    assert f"alerts go to {alertmanager.url}/api/v2/alerts" in text


def test_no_prometheus_configured(project: GateProject) -> None:
    project.set_state({"phases": {}})
    custom_gate(project, triggers=TRIGGERS)
    project.run("--gate=12")
    message = project.record().case("error-rate")["message"]
    assert "no Prometheus configured: set prometheus.url in deploygate.yaml or pass " \
           "--gate-prometheus=URL" in message


def test_prometheus_url_from_the_command_line(metrics_project: GateProject,
                                              prometheus: Prometheus) -> None:
    write_config(metrics_project, "prometheus: {job: acme-api}\n")
    custom_gate(metrics_project, "- {id: up, text: Up, check: {kind: prometheus, query: up, "
                                 "min: 1}}")
    assert metrics_project.run("--gate=12", f"--gate-prometheus={prometheus.url}").ret == 0


# -- http ----------------------------------------------------------------------------------------

@pytest.fixture
def http_project(project: GateProject) -> GateProject:
    project.set_state({"phases": {}})
    return project


@pytest.mark.parametrize(("path", "extra", "met", "said"), [
    ("/healthz", "", True, "HTTP 200"),
    ("/down", ", retries: 1, backoff: 10ms", False, "HTTP 503 after 2 attempt(s)"),
    ("/hang", ", timeout: 300ms, retries: 0", False, "no answer within 0.3s after 1 attempt"),
    ("/redirect", ", retries: 0", False,
     "HTTP 302, redirected to http://example.invalid/login (not followed)"),
    ("/fail-first/2", ", retries: 2, backoff: 10ms", True, "HTTP 200"),
])
def test_health_endpoint(http_project: GateProject, service: Service, path: str, extra: str,
                         met: bool, said: str) -> None:
    url = f"{service.url}{path}"
    service.requests.pop(path, None)
    custom_gate(http_project, f"- {{id: health, text: Health, check: {{kind: http, "
                              f"url: '{url}'{extra}}}}}")
    http_project.run("--gate=12")
    case = http_project.record().case("health")
    assert (case["outcome"] == "passed") is met, case
    assert said in (case["text"] if met else case["message"])


def test_refused_connection(http_project: GateProject) -> None:
    from servers import free_port

    custom_gate(http_project, f"- {{id: health, text: Health, check: {{kind: http, url: "
                              f"'http://127.0.0.1:{free_port()}/', retries: 0}}}}")
    http_project.run("--gate=12")
    assert "refused" in http_project.record().case("health")["message"].lower()


def test_failing_three_times_in_a_row_fires(http_project: GateProject,
                                            service: Service) -> None:
    service.requests.pop("/fail-first/3", None)
    service.requests.pop("/fail-first/2", None)
    custom_gate(http_project, triggers=f"""
- id: flapping
  text: Health checks failing repeatedly (recovers after two)
  check: {{kind: http, url: '{service.url}/fail-first/2', consecutive_failures: 3,
           probes: 5, interval: 50ms}}
- id: failing
  text: Health checks failing repeatedly
  check: {{kind: http, url: '{service.url}/fail-first/3', consecutive_failures: 3,
           probes: 6, interval: 50ms}}
""")
    http_project.run("--gate=12")
    record = http_project.record()
    assert record.decision == "ROLLBACK"
    assert record.case("flapping")["outcome"] == "passed"
    failing = record.case("failing")
    assert failing["type"] == "rollback-triggered"
    assert "failing 3 times in a row" in failing["message"]
    assert "3 of 3 probes failed (HTTP 503)" in failing["message"]


def test_health_urls_from_config_and_command_line(http_project: GateProject,
                                                  service: Service) -> None:
    write_config(http_project, f"health_urls: ['{service.url}/a']\n")
    custom_gate(http_project, "- {id: health, text: Health, check: {kind: http, "
                              "urls_from: health_urls}}")
    http_project.run("--gate=12", f"--gate-health-url={service.url}/down")
    message = http_project.record().case("health")["message"]
    assert f"{service.url}/down: HTTP 503" in message
    assert service.requests.get("/a")


def test_distinct_urls_are_requested_once_and_concurrently(http_project: GateProject,
                                                           service: Service) -> None:
    urls = [f"{service.url}/delay/{300 + i}" for i in range(12)]
    for url in urls:
        service.requests.pop(url.removeprefix(service.url), None)
    listing = ", ".join(f"'{u}'" for u in urls)
    custom_gate(http_project, f"""
- {{id: first, text: First, check: {{kind: http, urls: [{listing}]}}}}
- {{id: again, text: Same URLs again, check: {{kind: http, urls: [{listing}]}}}}
""")
    result = http_project.run("--gate=12", "--durations=0")
    assert result.ret == 0
    assert all(service.requests[u.removeprefix(service.url)] == 1 for u in urls)
    # Twelve 0.3 s endpoints, twice over: serially that would be over 7 s.
    assert "passed in" in result.stdout.str()
    seconds = float(result.stdout.lines[-1].split(" in ")[1].split("s")[0])
    assert seconds < 3.5, result.stdout.str()


def test_plain_http_only(http_project: GateProject) -> None:
    result = http_project.run_subprocess("--gate=12", "--gate-health-url=file:///etc/passwd")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*only http:// and https:// URLs are allowed*"])


def test_tls_is_verified_by_default(http_project: GateProject, tmp_path: Path) -> None:
    need(shutil.which("openssl") is not None, "openssl is not installed")
    server = TlsService(tmp_path)
    try:
        custom_gate(http_project, f"- {{id: tls, text: TLS, check: {{kind: http, "
                                  f"url: '{server.url}/', retries: 0}}}}")
        http_project.run("--gate=12")
        assert "CERTIFICATE_VERIFY_FAILED" in http_project.record().case("tls")["message"]
    finally:
        server.close()


# Two measurements 0.1 s apart starting at tenth 0 never breach; extended by a watch, the
# window reaches tenths 8 and 9 and fires.
SHORT_TICKS = WINDOW_TRIGGER.format(limit=1).replace("count: 10", "count: 2")


def test_watch_extends_the_window_and_reports_progress(metrics_project: GateProject) -> None:
    metrics_project.git_init()
    custom_gate(metrics_project, triggers=SHORT_TICKS)
    (metrics_project.root / "gate-records").mkdir()
    result = metrics_project.run("--gate=12", "--gate-stage=post", "--gate-watch=2s",
                                 "--gate-now=2026-02-05T10:00:00.05Z")
    record = metrics_project.record("GATE-12-post")
    assert record.decision == "ROLLBACK"
    # Without the watch the window is 2 measurements (tenths 0 and 1) and cannot fire; the
    # watch extends it to 20 and it fires at the second breach (tenths 8 and 9).
    assert "2 of 10 measurements breached (failure limit 1)" in record.case("ticks")["message"]
    assert "(stopped early after 10 of 20)" in record.case("ticks")["message"]
    result.stdout.fnmatch_lines(["deploygate: [[]GATE-12[]][[]ticks[]] 1/20: 0",
                                 "deploygate: [[]GATE-12[]][[]ticks[]] 10/20: 1"])


def test_watch_needs_the_post_stage(metrics_project: GateProject) -> None:
    result = metrics_project.run_subprocess("--gate=12", "--gate-stage=pre", "--gate-watch=1m")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--gate-watch watches rollback triggers after the deploy*"])


def test_first_fired_trigger_ends_the_other_watches(metrics_project: GateProject) -> None:
    metrics_project.git_init()
    custom_gate(metrics_project, triggers=SHORT_TICKS + """
- id: calm
  text: Never breaches
  check:
    kind: prometheus
    query: vector(0)
    max: 0.5
    window: {count: 2, interval: 100ms, failure_limit: 1}
""")
    started = time.monotonic()
    metrics_project.run("--gate=12", "--gate-stage=post", "--gate-watch=30s",
                        "--gate-now=2026-02-05T10:00:00.05Z")
    elapsed = time.monotonic() - started
    record = metrics_project.record("GATE-12-post")
    assert record.decision == "ROLLBACK"
    assert elapsed < 15, "the calm trigger's 30 s watch should have ended with the first fire"
    calm = record.case("calm")
    assert calm["type"] == "evidence-missing"
    assert "watch ended early because another rollback trigger fired" in calm["message"]
