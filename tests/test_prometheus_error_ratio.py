"""The default ``error_ratio`` query against a real Prometheus, on services that count their
requests the way client libraries do: a status's series appears at its first request.

A service that never answered 5xx has no 5xx series. Its error ratio is 0, not "no data"
(which failed every healthy service's gate); but requests counted under another label
(``status=``) are still no measurement, never a ratio of 0.
"""

from __future__ import annotations

import re
import shutil
import time
from collections.abc import Iterator

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import Prometheus, Service


class LazyService(Service):
    """Counts requests by one label; a status's series exists once it was answered."""

    def __init__(self, label: str, statuses: dict[str, float]) -> None:
        super().__init__()
        self.label = label
        self.statuses = statuses  # status -> requests per second
        self.started = time.monotonic()

    def exposition(self) -> str:
        elapsed = time.monotonic() - self.started
        lines = ["# TYPE http_requests_total counter"]
        lines += [f'http_requests_total{{{self.label}="{status}"}} {rate * elapsed:.3f}'
                  for status, rate in self.statuses.items()]
        return "\n".join(lines) + "\n"


@pytest.fixture(scope="module", params=["healthy", "failing", "other label"])
def scraped(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Prometheus]]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    case = request.param
    service = {"healthy": LazyService("code", {"200": 90.0, "404": 10.0}),
               "failing": LazyService("code", {"200": 80.0, "503": 20.0}),
               "other label": LazyService("status", {"200": 90.0, "500": 10.0})}[case]
    with service:
        server = Prometheus(tmp_path_factory.mktemp("prometheus"), [f"127.0.0.1:{service.port}"])
        server.start()
        try:
            server.wait_for(lambda: server.value(
                'sum(rate(http_requests_total{job="acme-api"}[5s]))') is not None, "scraping")
            yield case, server
        finally:
            server.stop()


def test_the_default_error_ratio(project: GateProject,
                                 scraped: tuple[str, Prometheus]) -> None:
    case, server = scraped
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{server.url}', job: acme-api, "
                          "rate_window: 5s, timeout: 30}\n")
    custom_gate(project, "- {id: errors, text: Errors, check: {kind: prometheus, "
                         "query: error_ratio, max: 0.05}}")
    result = project.run("--gate=12")
    found = project.record().case("errors")
    if case == "healthy":  # 404s are no errors, and there is no 5xx series at all
        assert result.ret == 0, result.stdout.str()
        assert "measured 0" in found["text"], found
    elif case == "failing":  # 20 of 100 a second (Prometheus extrapolates: 0.199994, say)
        assert found["type"] == "not-met", found
        measured = re.search(r"measured ([0-9.]+)", found["message"])
        assert measured and abs(float(measured.group(1)) - 0.2) < 0.02, found
    else:
        assert found["type"] == "evidence-missing", found
        assert "no data" in found["message"], found
