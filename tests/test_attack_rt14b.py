"""Red-team session 14b: the Prometheus evidence kinds against a real Prometheus, fed by real
HTTP exporters on 127.0.0.1, each counting its requests in a way real services do.

Each test is an attack that made ``pytest --gate=12`` PASS a release whose service was not
healthy; it must not pass.
"""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import Prometheus, Service


class Exporter(Service):
    """A service whose /metrics is written by ``lines(elapsed seconds, scrape number)``."""

    def __init__(self, lines: Callable[[float, int], list[str]]) -> None:
        super().__init__()
        self.lines = lines
        self.started = time.monotonic()
        self.scrapes = 0

    def exposition(self) -> str:
        self.scrapes += 1
        return "\n".join(self.lines(time.monotonic() - self.started, self.scrapes)) + "\n"


def counter(*series: tuple[str, float]) -> Callable[[float, int], list[str]]:
    """``http_requests_total`` series (labels, requests per second) advancing with time."""
    def lines(elapsed: float, _scrape: int) -> list[str]:
        return ["# TYPE http_requests_total counter"] + [
            f"http_requests_total{{{labels}}} {rate * elapsed:.3f}" for labels, rate in series]
    return lines


#: The scrape at which the one-crash service shows its failures (set by its test: a module
#: fixture may have started minutes before, longer than the rate window).
CRASH_AT = {"scrape": -1}


def one_crash(elapsed: float, scrape: int) -> list[str]:
    """Served 200s; then failed 1000 requests at once, which one scrape saw before the
    process restarted without them (its counters begin again, and no 5xx series yet)."""
    lines = ["# TYPE http_requests_total counter",
             f'http_requests_total{{code="200"}} {100 * elapsed:.3f}']
    if scrape == CRASH_AT["scrape"]:
        lines.append('http_requests_total{code="500"} 1000')
    return lines


#: The scrape from which the born-failing service shows its 5xx series (set by its test).
BORN_AT = {"scrape": -1}


def born_failing(elapsed: float, scrape: int) -> list[str]:
    """Served 200s; then failed 1000 requests in a burst before one scrape, the first to
    show its 5xx series, which then stays flat (the failing path was switched off)."""
    lines = ["# TYPE http_requests_total counter",
             f'http_requests_total{{code="200"}} {100 * elapsed:.3f}']
    if 0 <= BORN_AT["scrape"] <= scrape:
        lines.append('http_requests_total{code="500"} 1000')
    return lines


#: The scrape at which the restarted-once service's counter begins again (set by its test).
RESET_AT = {"scrape": -1}


def restarted_once(_elapsed: float, scrape: int) -> list[str]:
    """A healthy service restarted once: its counter begins again at RESET_AT."""
    since = scrape - RESET_AT["scrape"] if 0 <= RESET_AT["scrape"] <= scrape else scrape
    return ["# TYPE http_requests_total counter",
            f'http_requests_total{{code="200"}} {100 * (since + 1)}']


def crash_loop(_elapsed: float, scrape: int) -> list[str]:
    """A process that crashes on a failing request before it counts it, and is restarted:
    its counters begin again every few scrapes, and no 5xx series ever appears."""
    return ["# TYPE http_requests_total counter",
            f'http_requests_total{{code="200"}} {100 * (scrape % 4 + 1)}']


def stamped(elapsed: float, _scrape: int) -> list[str]:
    """A healthy instance exporting with timestamps (as a federating Prometheus does)."""
    ms = int(time.time() * 1000)
    return ["# TYPE http_requests_total counter",
            f'http_requests_total{{code="200"}} {1000 * elapsed:.3f} {ms}']


Services = dict[str, list[Exporter]]


def start(workdir: Path, scrape_configs: list[dict[str, object]]) -> Prometheus:
    """A real Prometheus (tests/servers.py) with these scrape configs instead of its one job."""
    server = Prometheus(workdir, [])
    config = json.loads((workdir / "prometheus.yml").read_text())
    config["scrape_configs"] = scrape_configs
    (workdir / "prometheus.yml").write_text(json.dumps(config))
    return server.start()


def job(name: str, *services: Service, **extra: object) -> dict[str, object]:
    return {"job_name": name, **extra,
            "static_configs": [{"targets": [f"127.0.0.1:{s.port}" for s in services]}]}


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Prometheus, Services]]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    services: Services = {
        # Successes counted by code=, failures by another middleware's status=.
        "status-label": [Exporter(counter(('code="200"', 80.0), ('status="500"', 20.0)))],
        # A failure's code written with a space (or as words): neither 5xx nor a success.
        "odd-code": [Exporter(counter(('code="200"', 80.0), ('code="503 "', 20.0)))],
        "one-crash": [Exporter(one_crash)],
        "crash-loop": [Exporter(crash_loop)],
        "born-failing": [Exporter(born_failing)],
        "restarted-once": [Exporter(restarted_once)],
        # A rollout: the old instance (healthy, busy) goes away, the new one fails half.
        "rollout": [Exporter(counter(('code="200"', 1000.0))),
                    Exporter(counter(('code="200"', 5.0), ('code="503"', 5.0)))],
        "stamped": [Exporter(stamped),
                    Exporter(counter(('code="200"', 5.0), ('code="503"', 5.0)))],
        "healthy": [Exporter(counter(('code="200"', 90.0), ('code="404"', 10.0)))],
    }
    for group in services.values():
        for service in group:
            service.__enter__()
    server = start(tmp_path_factory.mktemp("prometheus"),
                   [job(name, *group) for name, group in services.items()])
    try:
        server.wait_for(lambda: all(server.value(f'count(up{{job="{name}"}} == 1)')
                                    == len(group) for name, group in services.items()),
                        "scraping every target")
        yield server, services
    finally:
        server.stop()
        for group in services.values():
            for service in group:
                service.__exit__()


def error_ratio_gate(project: GateProject, server: Prometheus, name: str,
                     window: str = "2m") -> dict[str, Any]:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{server.url}', job: {name}, "
                          f"rate_window: {window}, timeout: 30}}\n")
    custom_gate(project, "- {id: errors, text: Errors, check: {kind: prometheus, "
                         "query: error_ratio, max: 0.05}}")
    result = project.run("--gate=12")
    found = project.record().case("errors")
    assert result.ret != 0, found
    return found


@pytest.mark.parametrize(("name", "said"), [
    ("status-label", 'without a code label: the error ratio would count them as neither'),
    ("odd-code", 'code="503 "'),
])
def test_requests_counted_under_no_http_status_are_no_error_ratio(
        project: GateProject, scraped: tuple[Prometheus, Services], name: str, said: str) -> None:
    server, _services = scraped
    server.wait_for(lambda: (server.value(
        f'sum(rate(http_requests_total{{job="{name}"}}[2m]))') or 0) > 0, "a rate")
    found = error_ratio_gate(project, server, name)
    assert found["type"] == "evidence-missing", found
    assert said in found["message"], found
    assert "prometheus.queries.error_ratio in deploygate.yaml" in found["message"], found


def test_a_5xx_series_seen_once_is_not_no_errors(project: GateProject,
                                                  scraped: tuple[Prometheus, Services]) -> None:
    server, services = scraped
    (crashed,) = services["one-crash"]
    CRASH_AT["scrape"] = crashed.scrapes + 1
    server.wait_for(lambda: server.value('http_requests_total{job="one-crash",code="500"}')
                    is not None, "the failures scraped")
    server.wait_for(lambda: crashed.scrapes > CRASH_AT["scrape"] + 2, "the scrapes after")
    found = error_ratio_gate(project, server, "one-crash")
    assert found["type"] == "evidence-missing", found


@pytest.mark.parametrize("name", ["rollout", "stamped"])
def test_requests_of_an_instance_gone_do_not_dilute_the_ones_serving(
        project: GateProject, scraped: tuple[Prometheus, Services], name: str) -> None:
    server, services = scraped
    old, _new = services[name]
    port = old.port
    server.wait_for(lambda: (server.value(
        f'count_over_time(http_requests_total{{job="{name}",instance="127.0.0.1:{port}"}}[2m])'
    ) or 0) >= 5, "some samples of the old instance")
    old.__exit__()  # the old instance is gone; the new one fails half its requests
    server.wait_for(lambda: server.value(f'up{{job="{name}",instance="127.0.0.1:{port}"}}')
                    == 0, "the old instance down")
    if name == "stamped":  # its last sample is no longer one of the last scrape intervals
        server.wait_for(lambda: (server.value(
            f'time() - timestamp(http_requests_total{{job="{name}",'
            f'instance="127.0.0.1:{port}"}})') or 0) > 20, "the old samples some seconds old")
    found = error_ratio_gate(project, server, name)
    # Inconclusive while the old instance's requests are in the rate window; not met after.
    assert found["type"] in ("evidence-missing", "not-met"), found
    print("MESSAGE", found["message"])


def test_a_healthy_service_still_measures_0(project: GateProject,
                                            scraped: tuple[Prometheus, Services]) -> None:
    server, _services = scraped
    server.wait_for(lambda: (server.value(
        'count_over_time(http_requests_total{job="healthy",code="200"}[2m])') or 0) > 3,
        "a few samples")
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{server.url}', job: healthy, "
                          "rate_window: 2m, timeout: 30}\n")
    custom_gate(project, "- {id: errors, text: Errors, check: {kind: prometheus, "
                         "query: error_ratio, max: 0.05}}")
    result = project.run("--gate=12")
    found = project.record().case("errors")
    assert result.ret == 0, found
    assert "measured 0" in found["text"], found


def test_a_federated_up_of_a_dead_service_is_not_up(
        project: GateProject, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The gate reads a global Prometheus federating the service's own: federated samples
    carry their timestamps, so when the service and its Prometheus die nothing marks them
    stale and ``up`` answers 1 for five minutes."""
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    service = Exporter(counter(('code="200"', 10.0))).__enter__()
    local: Prometheus | None = None
    try:
        local = start(tmp_path_factory.mktemp("local"), [job("acme-api", service)])
        local.wait_for(lambda: local.value('up{job="acme-api"}') == 1, "scraping")
        federating = start(tmp_path_factory.mktemp("global"), [{
            "job_name": "federate", "honor_labels": True, "metrics_path": "/federate",
            "params": {"match[]": ['{job="acme-api"}']},
            "static_configs": [{"targets": [f"127.0.0.1:{local.port}"]}]}])
    except BaseException:
        if local is not None:
            local.stop()
        service.__exit__()
        raise
    try:
        federating.wait_for(lambda: (federating.value(
            'count_over_time(up{job="acme-api"}[5m])') or 0) >= 5, "federating")
        local.stop()  # the service's Prometheus is gone (its node died), and so is the service
        service.__exit__()
        federating.wait_for(lambda: (federating.value(
            'time() - timestamp(up{job="acme-api"})') or 0) > 20, "the last samples older")
        project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
        write_config(project, f"prometheus: {{url: '{federating.url}', job: acme-api, "
                              "timeout: 30}\n")
        custom_gate(project, "- {id: up, text: Up, check: {kind: prometheus, query: up, "
                             "min: 1}}")
        result = project.run("--gate=12")
        found = project.record().case("up")
        assert result.ret != 0, found
        assert found["type"] == "evidence-missing", found
        assert "whose last sample is older than four of its scrape intervals" in \
            found["message"], found
    finally:
        federating.stop()
        local.stop()
        service.server.server_close()


def test_an_alertmanager_that_is_the_prometheus_itself_is_no_alertmanager(
        project: GateProject, tmp_path: Path) -> None:
    """Prometheus lists a static Alertmanager target without probing it: its own address
    (a copy-paste of the wrong port) is listed active, and every alert would be POSTed to
    Prometheus's own web server, which answers 404."""
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    server = Prometheus(tmp_path / "p", [])
    config = json.loads((tmp_path / "p" / "prometheus.yml").read_text())
    config["alerting"] = {"alertmanagers": [
        {"static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}]}]}
    (tmp_path / "p" / "prometheus.yml").write_text(json.dumps(config))
    server.start()
    try:
        server.wait_for(lambda: server.rule_health().get("HighErrorRatio") == "ok"
                        and len(server.alertmanagers()["active"]) == 1, "evaluating")
        project.set_state({"phases": {}})
        write_config(project, f"prometheus: {{url: '{server.url}', timeout: 5}}\n")
        custom_gate(project, "- {id: alerts, text: Alerts, check: {kind: prometheus_rules}}")
        result = project.run("--gate=12")
        found = project.record().case("alerts")
        assert result.ret != 0, found
        assert found["type"] == "evidence-missing", found
        assert "the Prometheus itself" in found["message"], found
    finally:
        server.stop()


def test_a_crash_looping_service_is_no_error_ratio_of_0(
        project: GateProject, scraped: tuple[Prometheus, Services]) -> None:
    server, _services = scraped
    server.wait_for(lambda: (server.value(
        'resets(http_requests_total{job="crash-loop"}[2m])') or 0) > 0, "a restart seen")
    found = error_ratio_gate(project, server, "crash-loop")
    assert found["type"] == "evidence-missing", found
    assert "reset during the rate window" in found["message"], found


def test_a_5xx_series_born_with_failures_counted_is_not_no_errors(
        project: GateProject, scraped: tuple[Prometheus, Services]) -> None:
    """rate() reads only what a series adds after its first sample: 1000 failures counted by
    the scrape that first shows the 5xx series, which then stays flat, measured 0."""
    server, services = scraped
    (service,) = services["born-failing"]
    BORN_AT["scrape"] = service.scrapes + 1
    server.wait_for(lambda: (server.value(
        'count_over_time(http_requests_total{job="born-failing",code="500"}[2m])') or 0) >= 3,
        "the 5xx series scraped three times")
    found = error_ratio_gate(project, server, "born-failing")
    assert found["type"] == "evidence-missing", found
    assert "a 5xx series that began during the rate window" in found["message"], found


def test_compare_holds_the_earlier_value_to_the_same_guards(
        project: GateProject, scraped: tuple[Prometheus, Services]) -> None:
    """``compare`` reads the error ratio ``offset`` earlier as the baseline: a value read then
    from a counter that restarted is no baseline, as it would be none now."""
    server, services = scraped
    (service,) = services["restarted-once"]
    series = 'http_requests_total{job="restarted-once"}'
    server.wait_for(lambda: (server.value(f"count_over_time({series}[10s])") or 0) >= 5,
                    "a few samples")
    RESET_AT["scrape"] = service.scrapes + 1
    server.wait_for(lambda: (server.value(f"resets({series}[3s])") or 0) > 0, "the restart")
    seen = time.time()  # the restart was scraped in the 3.5 s before this
    # Now is 12 s later: its 10 s window holds no restart, the window 12 s before it does.
    now = math.ceil(seen) + 12
    server.wait_for(lambda: time.time() > now + 2, "the later samples", timeout=30)
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{server.url}', job: restarted-once, "
                          "rate_window: 10s, timeout: 30}\n")
    custom_gate(project, "- {id: spike, text: Spike, check: {kind: prometheus, "
                         "query: error_ratio, max: 1, compare: {offset: 12s, max_factor: 2}}}")
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = project.run("--gate=12", f"--gate-now={stamp}")
    found = project.record().case("spike")
    assert result.ret != 0, found
    assert found["type"] == "evidence-missing", found
    assert "12s earlier: query error_ratio: http_requests_total counters that reset" in (
        found["message"]), found
