"""The ``deploygate`` command runs without the cyclic garbage collector (a short process whose
objects die with it); a gate run, and ``main()`` called in a longer-lived process, leave the
collector as they find it."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

from conftest import GateProject

PROBE = """
import gc


def test_probe():
    with open("collector", "w") as seen:
        seen.write(f"{gc.isenabled()} {gc.get_freeze_count()}")
"""


def test_a_gate_run_leaves_the_collector_to_pytest(example: GateProject) -> None:
    # (A frozen heap hid a user's own test objects from gc.collect() and an unraisable
    # exception until after the record said PASS.)
    example.pytester.makepyfile(test_probe=PROBE)
    assert example.run("--gate=12").ret == 0
    assert (example.root / "collector").read_text() == "True 0"


def test_the_command_runs_without_the_cyclic_collector(tmp_path: Path) -> None:
    # A process of its own, which lives well under a second: the collector's passes over
    # the modules it imports were 4 % of a verdict. main() itself, called in a longer-lived
    # process (these tests do), leaves the collector alone.
    from importlib.metadata import entry_points

    (script,) = [e for e in entry_points(group="console_scripts") if e.name == "deploygate"]
    assert script.value == "pytest_deploygate.cli.main:console_main"
    probe = ("import gc\nfrom pytest_deploygate.cli import main as cli\n"
             "seen = []\ncli.main = lambda argv=None: seen.append(gc.isenabled()) or 0\n"
             "assert cli.console_main() == 0 and seen == [False], seen\n")
    subprocess.run([sys.executable, "-c", probe], check=True, timeout=60)
    from pytest_deploygate.cli.main import main

    assert main(["--root", str(tmp_path), "show", "12"]) == 0
    assert gc.isenabled()
