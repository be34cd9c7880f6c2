"""An alerting rule Prometheus has never evaluated proves nothing about alerting.

The rules API says ``health: unknown`` until a rule's group is first evaluated (a group with a
long interval, a server just restarted, a rule file just reloaded): such a rule is no
evidence that alerting works, so ``prometheus_rules`` does not count it as healthy and never
passes on it, naming the rule. A real Prometheus (Debian's package, tests/servers.py) with one
group evaluated every second and one whose first evaluation is years away.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import GateProject, custom_gate, need, write_config
from servers import RULES, Alertmanager, Prometheus

NEVER_EVALUATED = """
  - name: quarterly
    interval: 10y
    rules:
      - alert: BackupTooOld
        expr: vector(time()) > 0
"""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Prometheus]:
    need(shutil.which("prometheus") is not None,
         "the prometheus binary is not installed (apt-get install prometheus)")
    workdir: Path = tmp_path_factory.mktemp("prometheus-rules")
    # An Alertmanager, so that the rule never evaluated is the one thing wrong.
    receiver = Alertmanager()
    server = Prometheus(workdir, [], alertmanagers=[
        {"static_configs": [{"targets": [receiver.target]}]}])
    (workdir / "rules.yml").write_text(RULES + NEVER_EVALUATED)
    server.start()
    try:
        server.wait_for(lambda: server.rule_health().get("HighErrorRatio") == "ok",
                        "evaluating")
        server.wait_for(lambda: bool(server.alertmanagers()["active"]),
                        "sending to alertmanager")
        yield server
    finally:
        server.stop()
        receiver.close()


@pytest.fixture
def rules_project(project: GateProject, prometheus: Prometheus) -> GateProject:
    project.set_state({"phases": {}})
    write_config(project, f"prometheus: {{url: '{prometheus.url}', timeout: 3}}\n")
    return project


def test_a_rule_never_evaluated_is_not_healthy(rules_project: GateProject,
                                               prometheus: Prometheus) -> None:
    assert prometheus.rule_health() == {"HighErrorRatio": "ok", "BackupTooOld": "unknown"}
    custom_gate(rules_project, "- {id: alerts, text: Alerts working, "
                               "check: {kind: prometheus_rules}}")
    assert rules_project.run("--gate=12").ret == 1
    record = rules_project.record()
    assert record.decision == "FAIL"
    case = record.case("alerts")
    assert case["outcome"] != "passed", case
    assert "BackupTooOld" in case["message"]
    assert "never evaluated" in case["message"]


def test_enough_evaluated_rules_do_not_excuse_an_unevaluated_one(
        rules_project: GateProject) -> None:
    # One healthy rule meets min_rules: 1, yet the other may be the one that matters.
    custom_gate(rules_project, "- {id: alerts, text: Alerts working, "
                               "check: {kind: prometheus_rules, min_rules: 1}}")
    rules_project.run("--gate=12")
    case = rules_project.record().case("alerts")
    assert case["outcome"] != "passed", case
    assert "BackupTooOld" in case["message"]
