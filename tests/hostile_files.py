"""What an attacker commits in place of a file the gate reads (a link to /dev/zero, a named
pipe), a gate run that times out instead of hanging, and a spec whose one artifact is a
folder: shared by the tests of file reading and their red team's attacks."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import INNER_ARGS, GateProject

TIMEOUT = 120


def gate(project: GateProject, *args: str) -> pytest.RunResult:
    """``pytest --gate=12`` in a process of its own, failed after TIMEOUT seconds."""
    return project.pytester.runpytest_subprocess(*INNER_ARGS, "--gate=12", *args,
                                                 timeout=TIMEOUT)


def endless(path: Path) -> None:
    """``path`` as a link to /dev/zero (0 bytes by stat, a read without end)."""
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/zero")


def pipe(path: Path) -> None:
    """``path`` as a named pipe (opening it waits for a writer)."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)


MAKERS = {"symlink to /dev/zero": endless, "named pipe": pipe}


def directory_artifact_spec(project: GateProject) -> None:
    """Gate 12 as one ``test-results/`` folder artifact and one state criterion."""
    (project.root / "gate_specs").mkdir(exist_ok=True)
    (project.root / "gate_specs" / "12-production.yaml").write_text(
        "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Directory artifact\n"
        "phase: 12-production\ndecision: [{id: all, title: All}]\n"
        "artifacts: [{id: results, name: Test results, path: test-results/}]\n"
        "sections:\n  - {id: s, title: S, stage: pre, decision: all, criteria: "
        "[{id: phases, text: Phases, check: {kind: state, path: phases}}]}\n")
