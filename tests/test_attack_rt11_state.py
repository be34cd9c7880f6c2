"""Red team (session 11): a state.json number too long for Python's int() is one line.

json raises int()'s own ValueError (not a JSONDecodeError) for an integer of more than 4,300
digits: `deploygate validate` and `verdict` read state.json for the gate library's layout and
printed a traceback."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, GateProject


@pytest.mark.parametrize("command", [["validate"], ["show", "12"]])
def test_a_state_number_too_long_to_read_is_no_traceback(tmp_path: Path,
                                                          command: list[str]) -> None:
    root = tmp_path / "project"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    (root / ".isdlc" / "state.json").write_text('{"phases": {},\n "n": ' + "9" * 5000 + "}\n")
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", *command], cwd=root,
                          capture_output=True, text=True, timeout=120)
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "Exceeds the limit" not in output, output[-3000:]
    assert done.returncode in (0, 1), output[-3000:]


def test_the_refusal_names_the_line_of_the_number(tmp_path: Path) -> None:
    from pytest_deploygate.core.errors import StateError
    from pytest_deploygate.isdlc.state import load_state

    path = tmp_path / "state.json"
    path.write_text('{"phases": {},\n\n "n": -' + "9" * 5000 + "}\n")
    with pytest.raises(StateError) as refused:
        load_state(path)
    assert str(refused.value) == (f"{path}:3: state file is not valid JSON: a number of more "
                                  "than 4300 digits; give a number a float can hold")


@pytest.mark.parametrize("where", ["key", "current"])
def test_a_phase_number_of_other_digits_is_no_number(example: GateProject, where: str) -> None:
    """A phase key of "²" or "١": digits to str.isdigit(), but no phase number (int() refuses
    the one and reads the other): state.json is read, and no check crashes on it."""
    state = example.state()
    state["phases"] = {"²-x": {"status": "completed"}, "١٢-production": {}, **state["phases"]}
    if where == "current":
        state["current_phase"] = "²-x"
    example.set_state(state)
    result = example.run("--gate=12" if where == "key" else "--gate=current")
    text = result.stdout.str() + result.stderr.str()
    assert "ValueError" not in text and "invalid literal" not in text, text
    if where == "key":
        assert example.record().decision == "PASS"
    else:
        assert "'²-x'" in text and "needs a phase" in text, text
