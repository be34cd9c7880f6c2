"""Run shape (issue 10, class D): the expected set survives pytest-xdist and deselection, an
earlier gate finishes before a later gate judges it, and a replay (--gate-now) neither writes
back nor signs, and says it is a replay."""

from __future__ import annotations

import subprocess
from datetime import datetime

import pytest
from test_writeback import GATE as WRITEBACK_GATE

from conftest import GateProject

NOW = "--gate-now=2026-02-10T00:00:00Z"

USER_TESTS = '''
import pytest

@pytest.mark.gate(12, section="backup-and-recovery", id="restore-drill")
def test_restore_drill(gate_state):
    """Restore drill done"""
    assert gate_state["phases.12-production.status"] == "in_progress"

@pytest.mark.gate(12, id="python-check")
def test_python_check():
    pass
'''


# -- the expected set under pytest-xdist -------------------------------------------------------

@pytest.mark.parametrize("deselect", [("-k", "not restore"),
                                      ("--deselect", "test_release.py::test_restore_drill")])
def test_a_deselected_user_criterion_is_incomplete_in_parallel_too(
        example: GateProject, deselect: tuple[str, str]) -> None:
    pytest.importorskip("xdist", reason="the test extra installs pytest-xdist")
    example.git_init()
    example.pytester.makepyfile(test_release=USER_TESTS)
    decisions = {}
    for mode in ((), ("-n", "2")):
        result = example.run_subprocess("--gate=12", NOW, *deselect, *mode)
        assert result.ret == 1, result.stdout.str()[-3000:]
        record = example.record()
        decisions[mode] = record.decision
        assert record.case("restore-drill")["type"] == "not-run"
        assert record.case("python-check")["outcome"] == "passed"
        assert record.properties["deploygate.expected_criteria"] == "70"
    assert decisions == {(): "INCOMPLETE", ("-n", "2"): "INCOMPLETE"}


def test_in_parallel_with_nothing_deselected_the_gate_passes(example: GateProject) -> None:
    pytest.importorskip("xdist", reason="the test extra installs pytest-xdist")
    example.git_init()
    example.pytester.makepyfile(test_release=USER_TESTS)
    result = example.run_subprocess("--gate=12", NOW, "-n", "2")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert example.record().decision == "PASS"


# -- an earlier gate finishes before a later gate judges it ------------------------------------

def small_gate(number: int, phase: str, prerequisites: str = "") -> str:
    """The one-criterion gate of tests/test_writeback.py, with a phase and prerequisites."""
    spec = WRITEBACK_GATE.format(n=number).replace(f"{number}-part", phase)
    return spec.replace("sections:", prerequisites + "sections:") if prerequisites else spec


GATE_11 = small_gate(11, "11-test-deploy")
GATE_12 = small_gate(12, "12-production", "prerequisites:\n  - {id: gate-11-passed, "
                     "text: GATE-11 Passed, check: {kind: gate_passed, gate: 11}}\n")


@pytest.mark.parametrize(("passes", "gate_11", "gate_12"), [
    (True, "PASS", "PASS"), (False, "FAIL", "SKIPPED")])
def test_a_user_criterion_of_an_earlier_gate_runs_before_the_later_gate(
        example: GateProject, passes: bool, gate_11: str, gate_12: str) -> None:
    specs = example.root / "gate_specs"
    specs.mkdir()
    (specs / "11-test-deploy.yaml").write_text(GATE_11)
    (specs / "12-production.yaml").write_text(GATE_12)
    # Named to sort and collect before anything else, as a user's tests often do.
    example.pytester.makepyfile(test_aa_staging=f'''
import pytest

@pytest.mark.gate(11, id="staging-smoke")
def test_staging_smoke():
    assert {passes}, "staging smoke failed"
''')
    result = example.run("--gate=11,12", NOW)
    assert example.record("GATE-11").decision == gate_11
    record = example.record("GATE-12")
    assert record.decision == gate_12, result.stdout.str()
    if gate_12 == "SKIPPED":
        assert "GATE-11 not passed in this run: its decision is FAIL" in \
            record.cases[0]["message"]


# -- a replay is a replay --------------------------------------------------------------------------

@pytest.mark.parametrize("effect", ["--gate-update-state", "--gate-validation-record",
                                    "DEPLOYGATE_SIGNING_KEY"])
def test_a_replay_neither_writes_back_nor_signs(example: GateProject, effect: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    before = example.state_path.read_bytes()
    args = [effect] if effect.startswith("--") else []
    if not args:
        monkeypatch.setenv(effect, "/keys/release")
    result = example.run("--gate=12", NOW, *args)
    assert result.ret == 4
    assert "--gate-now replays the past: it cannot be used with" in result.stderr.str()
    assert effect in result.stderr.str()
    assert example.state_path.read_bytes() == before
    assert not (example.root / "gate-records").exists()
    assert not (example.root / "docs" / ".validations").exists()


def test_a_replayed_record_says_so(example: GateProject, monkeypatch: pytest.MonkeyPatch,
                                   fixed_clock: datetime) -> None:
    monkeypatch.delenv("DEPLOYGATE_SIGNING_KEY", raising=False)
    assert example.run("--gate=12", NOW).ret == 0
    record = example.record()
    assert record.properties["deploygate.replay"] == "true"
    # Evaluated now (a fixed clock inside the process, not --gate-now): no replay mark.
    assert example.run("--gate=12").ret == 0
    assert "deploygate.replay" not in example.record().properties
    assert example.record().properties["deploygate.evaluated_at"] == "2026-02-10T00:00:00Z"


def test_signing_env_without_replay_is_not_refused(example: GateProject,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   fixed_clock: datetime) -> None:
    key = example.root.parent / "release-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    monkeypatch.setenv("DEPLOYGATE_SIGNING_KEY", str(key))
    example.git_init()
    result = example.run("--gate=12")
    assert "replays the past" not in result.stderr.str()
    assert result.ret == 0
    assert (example.root / "gate-records" / "GATE-12.intoto.json").is_file()
