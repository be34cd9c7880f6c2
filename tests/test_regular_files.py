"""Files the gate judges are read as regular files of at most their byte limit.

A symlink committed to the repository can point at /dev/zero (stat says 0 bytes, the read
never ends) and a named pipe blocks whoever opens it: before, a stat-then-read of
deploygate.yaml, a spec or state.json hung the gate until CI killed it. Now each is one line
naming the file, and never a pass. (Each run has a timeout, so a regression fails, not hangs.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pytest_deploygate.core.regular_files import UnusableFile, read_regular_file

from conftest import INNER_ARGS, GateProject

TIMEOUT = 120


def _gate(project: GateProject) -> pytest.RunResult:
    return project.pytester.runpytest_subprocess(*INNER_ARGS, "--gate=12", timeout=TIMEOUT)


def _endless(path: Path) -> None:
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


def _pipe(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


MAKERS = {"symlink to /dev/zero": _endless, "named pipe": _pipe}


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
@pytest.mark.parametrize("relative", ["deploygate.yaml", ".isdlc/state.json",
                                      ".deploygate/approvers.yaml",
                                      ".deploygate/attestations.jsonl"])
def test_an_input_that_is_no_regular_file_fails_the_gate_at_once(
        example: GateProject, relative: str, make: object) -> None:
    assert callable(make)
    make(example.root / relative)
    result = _gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret != 0, output
    assert "Traceback" not in output
    assert relative in output, output
    # (A deploygate.yaml that cannot be read stops the run before any record is written.)
    if (example.root / "gate-records" / "GATE-12.xml").exists():
        assert example.record().decision != "PASS"


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_deploygate_yaml_that_is_no_regular_file_is_refused_in_one_line(
        example: GateProject, make: object) -> None:
    assert callable(make)
    make(example.root / "deploygate.yaml")
    result = _gate(example)
    result.stdout.fnmatch_lines(["*deploygate.yaml:1: not a regular file (a device, a pipe or "
                                 "a socket): make it a regular file*"])


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_spec_that_is_no_regular_file_is_refused(example: GateProject, make: object) -> None:
    # Not ignored in favour of the built-in spec of the same number.
    assert callable(make)
    specs = example.root / "gate_specs"
    specs.mkdir()
    make(specs / "12-production.yaml")
    result = _gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret not in (0, 1), output
    assert "12-production.yaml:1: not a regular file" in output, output


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_verdict_refuses_a_record_that_is_no_regular_file(tmp_path: Path, make: object) -> None:
    assert callable(make)
    record = tmp_path / "GATE-12.xml"
    make(record)
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(tmp_path),
                           "verdict", str(record)], capture_output=True, text=True,
                          timeout=TIMEOUT)
    assert done.returncode == 4, done.stdout + done.stderr
    assert f"{record}: not a regular file" in done.stderr


def test_the_limit_is_exact(tmp_path: Path) -> None:
    file = tmp_path / "evidence"
    file.write_bytes(b"x" * 10)
    assert read_regular_file(file, 10) == b"x" * 10
    with pytest.raises(UnusableFile, match="file is 10 bytes, over the 9 byte limit") as refused:
        read_regular_file(file, 9)
    assert refused.value.over_limit
    with pytest.raises(IsADirectoryError):
        read_regular_file(tmp_path, 10)
    with pytest.raises(FileNotFoundError):
        read_regular_file(tmp_path / "absent", 10)


@pytest.mark.parametrize("make", MAKERS.values(), ids=MAKERS.keys())
def test_a_project_checklist_that_is_no_regular_file_is_refused(example: GateProject,
                                                                 make: object) -> None:
    assert callable(make)
    checklists = example.root / ".isdlc" / "checklists"
    checklists.mkdir()
    make(checklists / "12-production-gate.md")
    result = _gate(example)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret not in (0, 1), output
    assert "Traceback" not in output
    assert "12-production-gate.md:1: not a regular file" in output, output


def test_a_file_named_like_a_spec_with_a_final_newline_is_no_spec(example: GateProject) -> None:
    # ("$" matches before a final newline: "12-production.yaml\n" was taken for gate 12's spec.)
    specs = example.root / "gate_specs"
    specs.mkdir()
    (specs / "12-production.yaml\n").write_text("spec_version: 1\n")
    result = _gate(example)
    result.stdout.fnmatch_lines(["*GATE-12 from built-in 12-production.yaml*"])
