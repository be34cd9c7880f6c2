"""pytest-xdist: the same outcomes, decision and record as a serial run."""

from __future__ import annotations

import pytest

from conftest import GateProject

pytest.importorskip("xdist", reason="the test extra installs pytest-xdist")

USER_TESTS = '''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill(gate_state):
    """Restore drill done"""
    assert gate_state["phases.12-production.status"] == "in_progress"

@pytest.mark.gate(12, section="monitoring-verification", id="dashboards-have-panels")
def test_dashboards():
    assert False, "no panels"
'''


def comparable(record) -> list[tuple]:
    return sorted((c["name"], c["classname"], c["outcome"], c["type"], c["message"])
                  for c in record.cases)


@pytest.mark.parametrize("broken", [False, True])
def test_parallel_record_equals_serial(example: GateProject, broken: bool) -> None:
    example.pytester.makepyfile(test_release=USER_TESTS)
    if broken:
        example.drop_attestation("security-sign-off")
    serial = example.run_subprocess("--gate=12", "--gate-now=2026-02-10T00:00:00Z")
    serial_record = example.record()
    parallel = example.run_subprocess("--gate=12", "--gate-now=2026-02-10T00:00:00Z",
                                      "-n", "2")
    parallel_record = example.record()
    assert serial.ret == parallel.ret == 1
    assert comparable(serial_record) == comparable(parallel_record)
    drop = ("deploygate.evaluated_at",)
    assert {k: v for k, v in serial_record.properties.items() if k not in drop} == {
        k: v for k, v in parallel_record.properties.items() if k not in drop}
    assert "no panels" in parallel_record.case("dashboards-have-panels")["message"]
    assert parallel_record.properties["deploygate.expected_criteria"] == "70"
