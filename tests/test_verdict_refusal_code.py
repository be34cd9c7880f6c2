"""``deploygate verdict`` never refuses with 2, ROLLBACK's exit code.

Deploy jobs roll production back when the verdict exits 2 (docs/ci-recipes.md and the
recipes in docs/ci/). A misspelt option, an empty variable on the command line or a
configuration the verdict will not read is a broken deploy job, not a rollback decision: it
exits 4 (not a trustworthy verdict), with its one line. The other commands keep 2 for a
refusal. Run as the deploy job runs it: ``python -I -m pytest_deploygate``, a real process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

RECORD = "gate-records/GATE-12.xml"


def deploygate(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-I", "-m", "pytest_deploygate", *args], cwd=cwd,
                          capture_output=True, text=True)


@pytest.mark.parametrize(("args", "says"), [
    (("verdict", "--no-such-option", RECORD), "unrecognized arguments: --no-such-option"),
    (("verdict",), "the following arguments are required: record"),
    (("verdict", "--max-age", "0", RECORD), "is not a duration"),
    (("verdict", "--stage", "during", RECORD), "invalid choice: 'during'"),
    (("--root", "", "verdict", RECORD), "empty: name a folder"),
    (("--no-such-option", "verdict", RECORD), "unrecognized arguments: --no-such-option"),
    (("--root", "missing-folder", "verdict", RECORD), "--root missing-folder: not a directory"),
])
def test_a_broken_verdict_command_exits_4_not_rollback(tmp_path: Path, args: tuple[str, ...],
                                                        says: str) -> None:
    refused = deploygate(tmp_path, *args)
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert says in refused.stderr


@pytest.mark.parametrize("args", [("show", "--no-such-option"), ("--root", "", "show", "12"),
                                  ("attest",)])
def test_the_other_commands_still_refuse_with_2(tmp_path: Path, args: tuple[str, ...]) -> None:
    refused = deploygate(tmp_path, *args)
    assert refused.returncode == 2, refused.stdout + refused.stderr


@pytest.mark.parametrize("args", [("verdict", "--help"), ("--version",)])
def test_help_and_version_still_exit_0(tmp_path: Path, args: tuple[str, ...]) -> None:
    asked = deploygate(tmp_path, *args)
    assert asked.returncode == 0, asked.stderr
