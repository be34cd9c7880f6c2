"""Values of different series are never taken for one: ``compare`` needs one series, the same
at both times; a series that stops answering during a window is evidence lost; one label set
twice in an answer is ambiguous. Each is evidence missing, naming the query and the labels.

A real Prometheus (Debian's package, tests/servers.py) scraping a real exporter on loopback
(its ``http_requests_total`` has a ``code="200"`` and a ``code="500"`` series), and PromQL
whose series depend only on the evaluation time, so a replayed clock (``--gate-now``) picks
exactly which series answer when.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import Prometheus, ScriptedApi, Service

NOW = "2026-02-05T10:00:00Z"
T = datetime.fromisoformat(NOW.replace("Z", "+00:00")).timestamp()


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    with Service() as service:
        server = Prometheus(tmp_path_factory.mktemp("prometheus"),
                            [f"127.0.0.1:{service.port}"]).start()
        try:
            # Both series of the counter scraped, and already two seconds ago.
            server.wait_for(lambda: server.value(
                'count(http_requests_total{job="acme-api"} offset 2s)') == 2, "scraping")
            yield server
        finally:
            server.stop()


def _case(project: GateProject, url: str, check: dict, *args: str) -> dict:
    project.set_state({"phases": {"12-production": {"status": "in_progress"}}})
    write_config(project, f"prometheus: {{url: '{url}', timeout: 20}}\n")
    custom_gate(project, triggers=f"- {{id: t, text: T, check: {json.dumps(check)}}}")
    result = project.run("--gate=12", *args)
    assert "Traceback" not in result.stdout.str()
    record = project.record()
    assert record.decision != "PASS"
    return record.case("t")


def test_compare_over_several_series_is_ambiguous(project: GateProject,
                                                 prometheus: Prometheus) -> None:
    # The max now (code 200) against the max earlier would compare one series with itself
    # only by luck; which series is which is not the query's to guess.
    query = 'http_requests_total{job="acme-api"}'
    case = _case(project, prometheus.url, {"kind": "prometheus", "query": query,
                                           "max": 1e12,
                                           "compare": {"offset": "1s", "max_factor": 10}})
    assert case["type"] == "evidence-missing", case
    message = case["message"]
    assert f"ambiguous evidence: query {query} answers 2 series now" in message
    assert 'code="200"' in message and 'code="500"' in message
    assert "compare needs exactly one" in message


def _labelled(value: float, label: str, name: str) -> str:
    return f'label_replace(vector({value}), "{label}", "{name}", "__name__", ".*")'


def test_compare_of_different_series_now_and_earlier_is_ambiguous(
        project: GateProject, prometheus: Prometheus) -> None:
    # One series at each time, but not the same one: build="new" now, build="old" a minute
    # earlier. 2 against 1 is within x3, yet nothing was compared with its own past.
    query = (f"{_labelled(2, 'build', 'new')} and on() (vector(time()) > {T - 10}) or "
             f"{_labelled(1, 'build', 'old')} and on() (vector(time()) <= {T - 10})")
    case = _case(project, prometheus.url, {"kind": "prometheus", "query": query, "max": 100,
                                           "compare": {"offset": "1m", "max_factor": 3}},
                 f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing", case
    assert 'answers the series {build="new"} now but {build="old"} 1m earlier' in (
        case["message"])


def test_compare_of_one_series_still_judges(project: GateProject,
                                            prometheus: Prometheus) -> None:
    query = (f'label_replace(vector(5) * (vector(time()) > bool {T - 10}) + 1, "build", '
             '"same", "__name__", ".*")')
    case = _case(project, prometheus.url, {"kind": "prometheus", "query": query, "max": 100,
                                           "compare": {"offset": "1m", "max_factor": 3}},
                 f"--gate-now={NOW}")
    # 6 now against 1 a minute earlier: more than x3, a spike.
    assert case["type"] == "rollback-triggered", case
    assert "6 (was 1 1m earlier)" in case["message"]


def test_a_series_gone_during_the_window_is_evidence_lost(project: GateProject,
                                                          prometheus: Prometheus) -> None:
    # instance="a" answers for the first two measurements only; the rest, b, holds the bound.
    query = (f"{_labelled(0.5, 'instance', 'a')} and on() (vector(time()) < {T + 0.15}) or "
             f"{_labelled(0, 'instance', 'b')}")
    case = _case(project, prometheus.url, {
        "kind": "prometheus", "query": query, "max": 1,
        "window": {"count": 4, "interval": "100ms"}}, f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing", case
    message = case["message"]
    assert "2 inconclusive" in message
    assert '1 series measured earlier in the window no longer answers ({instance="a"})' in (
        message)
    assert f"query {query}" in message


def test_a_series_appearing_during_the_window_is_held_to_the_bound(
        project: GateProject, prometheus: Prometheus) -> None:
    # New series (an instance scaled up) are measured like the rest: here one breaches.
    query = (f"{_labelled(5, 'instance', 'new')} and on() (vector(time()) > {T + 0.15}) or "
             f"{_labelled(0, 'instance', 'old')}")
    case = _case(project, prometheus.url, {
        "kind": "prometheus", "query": query, "max": 1,
        "window": {"count": 4, "interval": "100ms", "failure_limit": 1}}, f"--gate-now={NOW}")
    assert case["type"] == "rollback-triggered", case
    assert "2 of 4 measurements breached" in case["message"]


def _vector(*series: dict) -> bytes:
    return json.dumps({"status": "success", "data": {"resultType": "vector", "result": [
        {"metric": labels, "value": [T, "0.01"]} for labels in series]}}).encode()


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedApi]:
    with closing(ScriptedApi()) as server:
        server.answers.update({
            "twice": (200, _vector({"job": "api"}, {"job": "api"})),
            "reordered": (200, _vector({"job": "api", "code": "5"}, {"code": "5", "job": "api"})),
            "numeric": (200, _vector({"job": 7})),
        })
        yield server


@pytest.mark.parametrize(("mode", "said"), [
    ("twice", 'result[1] repeats the series {job="api"} (ambiguous answer)'),
    ("reordered", 'result[1] repeats the series {code="5",job="api"}'),
    ("numeric", 'result[0].metric is {"job": 7}, not a label object'),
])
def test_unusable_series_in_an_answer_are_evidence_missing(project: GateProject,
                                                           api: ScriptedApi, mode: str,
                                                           said: str) -> None:
    case = _case(project, f"{api.url}/{mode}", {"kind": "prometheus", "query": "x",
                                                "max": 1}, f"--gate-now={NOW}")
    assert case["type"] == "evidence-missing", case
    assert said in case["message"]
