"""Alerting rules reach somebody only through an Alertmanager: ``prometheus_rules`` requires
one in ``activeAlertmanagers`` of ``/api/v1/alertmanagers``.

Real Prometheus servers (Debian's package, tests/servers.py) configured with no Alertmanager,
with one dropped by relabelling, with one that is up (a tiny HTTP server on 127.0.0.1) and one
that nothing listens on; and a real HTTP server on loopback answering a broken API.

What a real Prometheus (2.42) reports, found here: a static Alertmanager target is listed in
``activeAlertmanagers`` whether or not anything answers there (it does not probe; it learns of a
failure only when it sends an alert), and the list is empty for the first seconds after start.
So "active" is what counts, dropped never does, and reachability is for an ``http`` criterion.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import Alertmanager, Prometheus, ScriptedApi, free_port

ALERTS = "- {id: alerts, text: Alerts working, check: {kind: prometheus_rules}}"
WHAT_TO_DO = "configure alerting: alertmanagers: in the Prometheus server's prometheus.yml"


def _judge(project: GateProject, url: str) -> dict:
    project.set_state({"phases": {}})
    write_config(project, f"prometheus: {{url: '{url}', timeout: 5}}\n")
    custom_gate(project, ALERTS)
    result = project.run("--gate=12")
    assert "Traceback" not in result.stdout.str()
    return project.record().case("alerts")


def _started(workdir: Path, alertmanagers: list[dict[str, object]] | None) -> Prometheus:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    server = Prometheus(workdir, [], alertmanagers=alertmanagers).start()
    try:
        server.wait_for(lambda: server.rule_health().get("HighErrorRatio") == "ok",
                        "evaluating")
    except BaseException:
        server.stop()
        raise
    return server


@pytest.fixture(scope="module")
def receiver() -> Iterator[Alertmanager]:
    with closing(Alertmanager()) as running:
        yield running


def test_up_and_down_alertmanagers_are_both_reported_active(
        project: GateProject, receiver: Alertmanager, tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}"  # (nothing listens there)
    server = _started(tmp_path / "p", [{"static_configs": [{"targets": [receiver.target,
                                                                        nowhere]}]}])
    try:
        server.wait_for(lambda: len(server.alertmanagers()["active"]) == 2, "discovering")
        # Prometheus's own report: no difference between the one up and the one down.
        assert sorted(server.alertmanagers()["active"]) == sorted(
            [f"{receiver.url}/api/v2/alerts", f"http://{nowhere}/api/v2/alerts"])
        case = _judge(project, server.url)
        assert case["outcome"] == "passed", case
        assert "alerts go to " in case["text"] and f"http://{nowhere}/api/v2/alerts" in (
            case["text"])
    finally:
        server.stop()


def test_no_alertmanager_configured_is_evidence_missing(project: GateProject,
                                                        tmp_path: Path) -> None:
    server = _started(tmp_path / "p", None)
    try:
        assert server.alertmanagers() == {"active": [], "dropped": []}
        case = _judge(project, server.url)
        assert case["type"] == "evidence-missing", case
        assert "no active Alertmanager: alerts that fire reach nobody" in case["message"]
        assert WHAT_TO_DO in case["message"]
    finally:
        server.stop()


def test_only_dropped_alertmanagers_are_evidence_missing(
        project: GateProject, receiver: Alertmanager, tmp_path: Path) -> None:
    # Reachable, yet relabelling drops it: Prometheus sends it nothing.
    server = _started(tmp_path / "p", [{
        "static_configs": [{"targets": [receiver.target]}],
        "relabel_configs": [{"action": "drop", "source_labels": ["__address__"],
                             "regex": ".*"}]}])
    try:
        server.wait_for(lambda: bool(server.alertmanagers()["dropped"]), "discovering")
        assert server.alertmanagers()["active"] == []
        case = _judge(project, server.url)
        assert case["type"] == "evidence-missing", case
        assert (f"no active Alertmanager (1 dropped by relabelling: {receiver.url}"
                "/api/v2/alerts)") in case["message"]
        assert WHAT_TO_DO in case["message"]
    finally:
        server.stop()


RULES_OK = json.dumps({"status": "success", "data": {"groups": [{"name": "g", "rules": [
    {"name": "HighErrorRatio", "type": "alerting", "health": "ok"}]}]}}).encode()


def _alertmanagers(active: object, dropped: object = ()) -> bytes:
    return json.dumps({"status": "success", "data": {
        "activeAlertmanagers": active, "droppedAlertmanagers": list(dropped)}}, default=list
    ).encode()


@pytest.fixture(scope="module")
def api() -> Iterator[ScriptedApi]:
    with closing(ScriptedApi()) as server:
        answers = {
            "good": (200, _alertmanagers([{"url": "http://am:9093/api/v2/alerts"}])),
            "error": (503, b'{"status":"error","errorType":"unavailable",'
                           b'"error":"rule manager not ready"}'),
            "badjson": (200, b'{"status":"success","data":{"activeAlertmanagers":[{"url":'),
            "notalist": (200, _alertmanagers({"url": "http://am:9093/api/v2/alerts"})),
            "nourl": (200, _alertmanagers([{"address": "am:9093"}])),
            "emptyurl": (200, _alertmanagers([{"url": ""}])),
            "noactive": (200, b'{"status":"success","data":{"droppedAlertmanagers":[]}}'),
            "nodata": (200, b'{"status":"success","data":[]}'),
            "warned": (200, b'{"status":"success","warnings":["store unavailable"],"data":'
                            b'{"activeAlertmanagers":[{"url":"http://am:9093/api/v2/alerts"}],'
                            b'"droppedAlertmanagers":[]}}'),
        }
        for mode, answer in answers.items():
            server.answers[f"/{mode}/api/v1/rules"] = (200, RULES_OK)
            server.answers[f"/{mode}/api/v1/alertmanagers"] = answer
        server.answers["/frontend/api/v1/rules"] = (200, RULES_OK)  # (and 404 for the rest)
        yield server


def test_scripted_good_answer_passes(project: GateProject, api: ScriptedApi) -> None:
    case = _judge(project, f"{api.url}/good")
    assert case["outcome"] == "passed", case
    assert "alerts go to http://am:9093/api/v2/alerts" in case["text"]


@pytest.mark.parametrize(("mode", "said"), [
    ("error", "query failed: rule manager not ready"),
    ("badjson", "not a Prometheus API answer"),
    ("notalist", "activeAlertmanagers is {\"url\": "),
    ("nourl", "activeAlertmanagers[0] is {\"address\": \"am:9093\"}, not an Alertmanager"),
    ("emptyurl", "activeAlertmanagers[0] is {\"url\": \"\"}, not an Alertmanager"),
    ("noactive", "activeAlertmanagers is null, not a list"),
    ("nodata", "alertmanagers answer has no data object"),
    ("warned", "the answer carries warnings"),
    ("frontend", "HTTP 404, not a Prometheus API answer; this server does not serve the "
                 "Alertmanagers API: point prometheus.url at the Prometheus (or ruler) that "
                 "sends the alerts"),
])
def test_unusable_alertmanagers_answer_is_evidence_missing(
        project: GateProject, api: ScriptedApi, mode: str, said: str) -> None:
    case = _judge(project, f"{api.url}/{mode}")
    assert case["type"] == "evidence-missing", case
    assert "cannot tell where alerts go" in case["message"]
    assert said in case["message"], case["message"]
    assert f"{api.url}/{mode}/api/v1/alertmanagers" in case["message"]
