"""A gate's items run over a heap set aside from the cyclic garbage collector (``gc.freeze``),
handed back when the run is cleaned up: the collector no longer walks a big spec and its items
again and again, and nothing is hidden from pytest's last collection."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import INNER_ARGS, GateProject

PROBE = """
import gc


def test_probe():
    with open("freeze-count", "w") as seen:
        seen.write(str(gc.get_freeze_count()))
"""


def _seen(project: GateProject) -> int:
    return int((project.root / "freeze-count").read_text())


def test_items_run_over_a_frozen_heap_which_is_handed_back(example: GateProject) -> None:
    example.pytester.makepyfile(test_probe=PROBE)
    assert gc.get_freeze_count() == 0
    assert example.run("--gate=12").ret == 0  # (in this process)
    assert _seen(example) > 0
    assert gc.get_freeze_count() == 0


def test_a_collect_only_run_hands_the_heap_back(example: GateProject) -> None:
    assert example.run("--gate=12", "--collect-only").ret == 0
    assert gc.get_freeze_count() == 0


def test_without_a_gate_nothing_is_frozen(example: GateProject) -> None:
    example.pytester.makepyfile(test_probe=PROBE)
    assert example.run().ret == 0
    assert _seen(example) == 0


def test_a_cycle_frozen_with_the_heap_is_still_found_at_the_end(example: GateProject) -> None:
    # Made at collection, before the freeze, and dropped while the items run: pytest's last
    # collection must still find it and report its unraisable exception.
    example.pytester.makepyfile(test_drop="""
        class Loud:
            def __del__(self):
                raise RuntimeError("unraisable from a frozen cycle")


        held = [Loud()]
        held[0].me = held[0]


        def test_drop():
            held.clear()
        """)
    result = example.pytester.runpytest_subprocess(*INNER_ARGS, "--gate=12", timeout=120)
    assert result.ret == 0
    assert "unraisable from a frozen cycle" in result.stdout.str() + result.stderr.str()


def test_someone_elses_freeze_is_left_to_them(example: GateProject) -> None:
    example.pytester.makeconftest("""
        import gc


        def pytest_configure(config):
            gc.freeze()
        """)
    example.pytester.makepyfile(test_probe=PROBE)
    try:
        assert example.run("--gate=12").ret == 0
        assert gc.get_freeze_count() > 0  # not unfrozen by the gate: not its freeze
    finally:
        gc.unfreeze()


@pytest.fixture(autouse=True)
def _nothing_left_frozen() -> Iterator[None]:
    yield
    assert gc.get_freeze_count() == 0


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
