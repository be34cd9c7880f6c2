"""rt15b A04, A06: what the gate judges and where its records go are the CI job's to choose.

A04: ``PYTEST_ADDOPTS="OLD --gate-record-dir=$W/gate-records"`` (the environment, which the
job's user sets) made the job's ``pytest --gate=12`` judge another checkout (an older commit of
the same release, before a sign-off was withdrawn) and write its PASS where the deploy job
reads it. A06: an untracked pytest.ini in the work tree won over the committed pyproject.toml
and its addopts steered the run (``--co --gate-record-dir=ELSEWHERE``: exit 0, the last PASS
stayed). pytester end to end, in a fresh interpreter where PYTEST_ADDOPTS is the environment.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_attack_rt14c_records import _no_pass_left, _passing_record

from conftest import GateProject, parse_record


def _older_checkout(repo: GateProject, where: Path) -> Path:
    """A clone of the repository at the commit before the sign-off was withdrawn (the same
    release), with the work tree's evidence."""
    old = where / "old"
    subprocess.run(["git", "clone", "-q", str(repo.root), str(old)], check=True)
    subprocess.run(["git", "-C", str(old), "checkout", "-q", "HEAD~1"], check=True)
    shutil.copytree(repo.root / "reports", old / "reports")
    return old


@pytest.mark.parametrize("addopts", ["{old} --gate-record-dir={records}", "{old}",
                                     "--rootdir={old} {old}", "-c {old}/pyproject.toml",
                                     "--gate-root={old}",
                                     "--gate-record-dir={records}"])
def test_the_environment_cannot_choose_the_folder_judged_or_the_record_folder(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        addopts: str) -> None:
    _passing_record(repo)
    old = _older_checkout(repo, tmp_path)
    records = repo.root / "gate-records"
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts.format(old=old, records=records))
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    errors = result.stderr.str()
    assert "PYTEST_ADDOPTS (the environment, not the command line) names" in errors
    assert "Traceback" not in errors
    _no_pass_left(repo)


def test_the_same_folders_named_on_the_command_line_are_accepted(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An environment that repeats what the job's command line names chose nothing."""
    records = tmp_path / "records"
    monkeypatch.setenv("PYTEST_ADDOPTS", f"--gate-record-dir={records} {repo.root}")
    result = repo.run_subprocess("--gate=12", f"--gate-record-dir={records}", str(repo.root))
    assert result.ret == 0, result.stderr.str()
    assert parse_record(records / "GATE-12.xml").decision == "PASS"


def _steering_ini(repo: GateProject, tmp_path: Path) -> Path:
    ini = repo.root / "pytest.ini"
    ini.write_text(f"[pytest]\naddopts = --co --gate-record-dir={tmp_path / 'elsewhere'}\n")
    return ini


def test_an_untracked_pytest_ini_does_not_steer_the_gate(
        repo: GateProject, tmp_path: Path) -> None:
    _passing_record(repo)
    ini = _steering_ini(repo, tmp_path)
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"pytest reads its configuration from {ini}, but it is not committed" in \
        result.stderr.str()
    assert "commit it, or name a file on the command line (-c FILE)" in result.stderr.str()
    _no_pass_left(repo)


def test_a_locally_edited_pyproject_does_not_steer_the_gate(
        repo: GateProject, tmp_path: Path) -> None:
    _passing_record(repo)
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'addopts = "--co --gate-record-dir='
                         f'{tmp_path / "elsewhere"}"\n')
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{pyproject}, but its content differs from the committed one" in \
        result.stderr.str()
    _no_pass_left(repo)


def test_a_committed_or_named_configuration_file_steers_the_gate(repo: GateProject) -> None:
    """Release content (committed), or the job's own file (-c on its command line)."""
    ini = repo.root / "pytest.ini"
    ini.write_text("[pytest]\naddopts = -rs\n")
    assert repo.run_subprocess("--gate=12", "-c", str(ini)).ret == 0
    repo.git("add", "pytest.ini")
    repo.git("commit", "-qm", "pytest.ini")
    assert repo.run_subprocess("--gate=12").ret == 0


def test_outside_git_a_configuration_file_is_read_as_before(example: GateProject) -> None:
    """A plain copy of the example is no release (its record says so): nothing to commit."""
    (example.root / "pytest.ini").write_text("[pytest]\naddopts = -rs\n")
    assert example.run_subprocess("--gate=12").ret == 0


@pytest.mark.parametrize("addopts", ["-o deploygate_record_dir={elsewhere}",
                                     "--co -o deploygate_record_dir={elsewhere}",
                                     "--gate-project=nope"])
def test_the_environment_cannot_move_the_records_by_setting_or_project(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        addopts: str) -> None:
    """rt15c: ``-o deploygate_record_dir=ELSEWHERE`` in PYTEST_ADDOPTS wrote the new FAIL
    elsewhere (or, with ``--co``, cleared elsewhere) and ``--gate-project=nope`` cleared only
    gate-records/nope/: the last PASS in gate-records/ stayed for the deploy job."""
    _passing_record(repo)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts.format(elsewhere=tmp_path / "elsewhere"))
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    assert "PYTEST_ADDOPTS (the environment, not the command line)" in result.stderr.str()
    _no_pass_left(repo)


def test_a_test_path_that_str_strip_calls_blank_is_still_seen(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """rt18b A04: ``PYTEST_ADDOPTS=$'\\x1f'`` was taken for empty (``str.strip()`` drops
    \\x1f, shlex does not split on it), while pytest took it as a test path: an untracked
    clone of the older checkout named so became the gate's root."""
    _passing_record(repo)
    old = _older_checkout(repo, tmp_path)
    shutil.move(str(old), str(repo.root / "\x1f"))
    monkeypatch.setenv("PYTEST_ADDOPTS", "\x1f")
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    assert "PYTEST_ADDOPTS (the environment, not the command line) names" in \
        result.stderr.str(), result.stderr.str()
    _no_pass_left(repo)
