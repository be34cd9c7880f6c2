"""rt14c attacks 8 and 9: a ``--gate`` command stopped by a usage error of its options, and a
run that cannot remove an earlier record, must never leave the last PASS silently for a deploy
job (a failing test report since is evidence, not a new release).

pytester end to end (in a fresh interpreter where PYTEST_ADDOPTS is the job's environment) and
the ``deploygate verdict`` command as the deploy job runs it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_signoff_identity import cli

from conftest import GateProject, parse_record

RECORD = "gate-records/GATE-12.xml"


def _passing_record(project: GateProject) -> None:
    """The baseline: gate 12 passes, its record binds to the release, then the security
    sign-off is withdrawn (a run now would not pass; the release is the same)."""
    assert project.run("--gate=12").ret == 0
    assert cli(project.root, "verdict", RECORD).returncode == 0
    (project.root / "gate-records" / "GATE-12-pre.xml").write_text(
        (project.root / RECORD).read_text())  # (a record of another stage, as a pre run's)
    project.drop_attestation("security-sign-off")
    project.git("commit", "-qam", "the security sign-off is withdrawn")


def _no_pass_left(project: GateProject) -> None:
    """No record of gate 12 (of any stage) says PASS."""
    for name in ("GATE-12.xml", "GATE-12-pre.xml", "GATE-12.md", "GATE-12.html"):
        path = project.root / "gate-records" / name
        assert not path.exists() or parse_record(path).decision != "PASS", name


@pytest.mark.parametrize("addopts", [
    "--gate-now=yesterday",
    "--gate-prometheus=ftp://prom",
    "--gate-record-dir=",
    "--gate-watch=x",
    "--markers --gate-watch=x --gate-stage=post",
    "--version --gate-now=x",
    "-o deploygate_max_spec_size=bogus",
    "--gate-stage=bogus",
    "--gate-stag=post",
    "--no-such-option",
])
def test_a_usage_error_of_the_options_leaves_no_pass(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, addopts: str) -> None:
    """The settings could not be read, and the clearing read them again: it raised again and
    nothing was removed. The record folders are now worked out from the record options
    alone, and every stage's records go (the stage came from the same options)."""
    _passing_record(repo)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    result = repo.run_subprocess("-p", "no:cacheprovider", "--gate=12")
    assert result.ret != 0 or "--version" in addopts or "--markers" in addopts
    _no_pass_left(repo)


def test_a_usage_error_clears_the_record_folder_the_options_name(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--gate-record-dir (the job's own folder) is read without the rest of the options."""
    records = tmp_path / "records"
    assert repo.run("--gate=12", f"--gate-record-dir={records}").ret == 0
    assert parse_record(records / "GATE-12.xml").decision == "PASS"
    monkeypatch.setenv("PYTEST_ADDOPTS", "--gate-now=yesterday")
    result = repo.run_subprocess("-p", "no:cacheprovider", "--gate=12",
                                 f"--gate-record-dir={records}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert not (records / "GATE-12.xml").exists()


# -- a record that cannot be removed -----------------------------------------------------------

@contextlib.contextmanager
def _unchangeable(path: Path) -> Iterator[None]:
    """Make ``path`` unchangeable for the run: ``chattr +i`` as root (root ignores modes),
    ``chmod a-w`` of a folder otherwise."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None or subprocess.run([chattr, "+i", str(path)],
                                            capture_output=True).returncode != 0:
            pytest.skip("chattr +i is not available here")
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
        return
    if path.is_file():
        pytest.skip("a file in a writable folder stays removable without root")
    mode = path.stat().st_mode
    path.chmod(mode & ~0o222)
    try:
        yield
    finally:
        path.chmod(mode)


def test_a_record_folder_the_run_cannot_change_fails_the_run(repo: GateProject) -> None:
    """Removal was best effort: the run said only that it could not write its own record
    (exit 1, which ``|| true`` swallows). It now stops before deciding, naming the record."""
    _passing_record(repo)
    folder = repo.root / "gate-records"
    with _unchangeable(folder):
        result = repo.run_subprocess("-p", "no:cacheprovider", "--gate=12")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    text = result.stdout.str() + result.stderr.str()
    assert f"cannot remove the earlier gate record {folder}/GATE-12" in text
    assert "a deploy job must not trust it" in text
    assert "Traceback" not in text


def test_a_usage_error_that_cannot_remove_a_record_says_so(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same for a command that stops on a usage error, or exits 0 (--version)."""
    _passing_record(repo)
    folder = repo.root / "gate-records"
    for addopts in ("--gate-now=yesterday", "--version", "--no-such-option"):
        monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
        with _unchangeable(folder):
            result = repo.run_subprocess("-p", "no:cacheprovider", "--gate=12")
        assert result.ret != 0, addopts
        assert "cannot remove the earlier gate record" in result.stderr.str(), addopts


def test_no_new_pass_is_written_next_to_a_record_that_stayed(repo: GateProject) -> None:
    """One earlier file that cannot go (its attestation) in a folder the run can write: the
    run removes what it can and stops, writing no new record beside the stale one."""
    assert repo.run("--gate=12").ret == 0
    folder = repo.root / "gate-records"
    stale = folder / "GATE-12.intoto.json"
    stale.write_text("{}")
    with _unchangeable(stale):
        result = repo.run_subprocess("-p", "no:cacheprovider", "--gate=12")
        left = sorted(path.name for path in folder.iterdir())
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert f"cannot remove the earlier gate record {stale}" in result.stdout.str()
    assert left == ["GATE-12.intoto.json"], left
