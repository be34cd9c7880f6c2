"""A run pytest ends abnormally decides nothing, even when every criterion was judged.

The interruption may come after the gate's items, in a test no criterion joins: the record
must not say PASS for a run that never finished (a CI dashboard reads it as the gate's).
"""

from __future__ import annotations

import pytest

from conftest import GateProject

LAST_USER_TEST = "test_zz_last.py"  # (collected after the gate's items)
PASSING = "def test_x():\n    pass\n"


@pytest.mark.parametrize(("body", "exit_code", "reason"), [
    ("def test_stop():\n    raise KeyboardInterrupt\n", 2,
     "the pytest run was interrupted before it finished (exit 2)"),
    ("import pytest\n\ndef test_stop():\n    pytest.exit('stop here')\n", 2,
     "the pytest run was interrupted before it finished (exit 2)"),
])
def test_an_interrupted_run_is_incomplete(example: GateProject, body: str, exit_code: int,
                                          reason: str) -> None:
    example.pytester.makepyfile(**{LAST_USER_TEST.removesuffix(".py"): body})
    result = example.run_subprocess("--gate=12")
    assert result.ret == exit_code, result.stdout.str()
    record = example.record()
    outcomes = record.outcomes()
    unjudged = {i: o for i, o in outcomes.items()
                if o not in ("passed", "skipped") and i != "gate-decision"}
    assert outcomes and not unjudged, unjudged
    assert record.decision == "INCOMPLETE"
    assert reason in (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert reason in result.stdout.str()


def test_an_internal_error_after_the_gate_is_incomplete(example: GateProject) -> None:
    example.pytester.makepyfile(**{LAST_USER_TEST.removesuffix(".py"): PASSING})
    example.pytester.makeconftest(
        "def pytest_runtest_logfinish(nodeid, location):\n"
        f"    if nodeid.startswith('{LAST_USER_TEST}'):\n"
        "        raise RuntimeError('a plugin broke')\n")
    result = example.run_subprocess("--gate=12")
    assert result.ret == 3, result.stdout.str()
    assert example.record().decision == "INCOMPLETE"
    # (pytest prints no summary after its internal error: the record says why)
    assert "pytest stopped with an internal error (exit 3)" in \
        (example.root / "gate-records" / "GATE-12.xml").read_text()


def test_a_finished_run_with_the_same_tests_passes(example: GateProject) -> None:
    """The control: the same project and a user test that ends normally."""
    example.pytester.makepyfile(**{LAST_USER_TEST.removesuffix(".py"): PASSING})
    result = example.run_subprocess("--gate=12")
    assert result.ret == 0, result.stdout.str()
    assert example.record().decision == "PASS"
