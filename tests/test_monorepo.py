"""Monorepos (one state per project), same-run gate prerequisites, and pytest-xdist parity."""

from __future__ import annotations

import json

import pytest

from conftest import GateProject, parse_record

PROJECTS = 50


def make_monorepo(project: GateProject, count: int = PROJECTS) -> list[str]:
    """The example's files at the root, and COUNT projects' states; every fifth has its
    staging skipped."""
    base = project.state()
    ids = []
    for index in range(count):
        pid = f"svc-{index:02d}"
        state = json.loads(json.dumps(base))
        state["project"]["name"] = pid
        if index % 5 == 4:
            state["phases"]["11-test-deploy"]["status"] = "skipped"
        path = project.root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
        ids.append(pid)
    project.state_path.unlink()
    return ids


def test_fifty_projects_one_record_and_decision_each(example: GateProject) -> None:
    ids = make_monorepo(example)
    result = example.run("--gate=12", "--gate-project=all", "-q")
    assert result.ret == 0, result.stdout.str()[-3000:]
    for index, pid in enumerate(ids):
        record = parse_record(example.root / "gate-records" / pid / "GATE-12.xml")
        assert record.properties["deploygate.project_id"] == pid
        assert record.properties["deploygate.project"] == pid
        expected = "SKIPPED" if index % 5 == 4 else "PASS"
        assert record.decision == expected, pid
        if expected == "SKIPPED":
            assert "phases.11-test-deploy.status is 'skipped'" in record.cases[0]["message"]
    out = result.stdout.str()
    assert "GATE-12@svc-00" in out and "40 PASS, 10 SKIPPED" in out


def test_node_ids_name_the_project(example: GateProject) -> None:
    make_monorepo(example, 2)
    result = example.run("--gate=12", "--gate-project=svc-01", "--collect-only", "-q")
    assert "GATE-12@svc-01::approval-requirements::security-sign-off" in result.stdout.str()
    assert "svc-00" not in result.stdout.str()


def test_unknown_project(example: GateProject) -> None:
    make_monorepo(example, 2)
    result = example.run_subprocess("--gate=12", "--gate-project=billing")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*--gate-project: no project billing in *; projects: "
                                 "svc-00, svc-01*"])


@pytest.mark.parametrize("workers", ["2"])
def test_parallel_monorepo_records_equal_serial(example: GateProject, workers: str) -> None:
    pytest.importorskip("xdist")
    ids = make_monorepo(example, 12)
    example.drop_attestation("runbooks-ready")
    args = ("--gate=12", "--gate-project=all", "--gate-now=2026-02-10T00:00:00Z", "-q")
    assert example.run_subprocess(*args).ret == 1
    serial = {pid: parse_record(example.root / "gate-records" / pid / "GATE-12.xml")
              for pid in ids}
    assert example.run_subprocess(*args, "-n", workers).ret == 1
    for pid in ids:
        parallel = parse_record(example.root / "gate-records" / pid / "GATE-12.xml")
        assert sorted((c["name"], c["outcome"], c["type"], c["message"])
                      for c in parallel.cases) == sorted(
            (c["name"], c["outcome"], c["type"], c["message"]) for c in serial[pid].cases)
        assert parallel.decision == serial[pid].decision


def test_same_run_outcome_of_an_earlier_gate_decides(example: GateProject) -> None:
    # state.json says gate 11 passed, but this run evaluates gate 11 and it fails (none of its
    # sign-offs exist): gate 12's prerequisite follows this run, not state.json.
    result = example.run("--gate=11,12", "-rs")
    assert result.ret == 1
    record = example.record("GATE-12")
    assert record.decision == "SKIPPED"
    assert "GATE-11 not passed in this run: its decision is FAIL" in record.cases[0]["message"]
    assert example.record("GATE-11").decision == "FAIL"
    # Alone, gate 12 reads state.json and passes.
    assert example.run("--gate=12").ret == 0
