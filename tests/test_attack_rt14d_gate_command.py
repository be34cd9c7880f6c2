"""rt14d A1, A3, A5: a ``--gate`` command that stops early never leaves the last PASS behind
with exit 0, nor silently where the plugin's code runs. A ``--gate`` command is known by its
tokens (``--gate``/``--gate=`` anywhere, after a ``--`` too), never by a parsed namespace:
a ``--`` in PYTEST_ADDOPTS made pytest's early parse read the job's ``--gate=12`` as a file
name, and ``--help`` stops the full parse before it.

pytester end to end, in a fresh interpreter where PYTEST_ADDOPTS is the job's environment.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_attack_rt14c_records import _no_pass_left, _passing_record

from conftest import GateProject, parse_record

STOPPED = "deploygate: the --gate command decided nothing"


def _assert_no_pass_and_not_silent(project: GateProject, result: pytest.RunResult) -> None:
    """No record of gate 12 says PASS; a command that exits 0 removed them (the help page
    of a --gate command), one that exits non-zero did so too."""
    _no_pass_left(project)
    assert "Traceback (most recent call last)" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize("addopts", [
    "--help --",              # A1: --help stops the parse; the re-parse read --gate=12 as a file
    "--markers -h --",
    "-h --",
    "--bogus --",             # A5: the early hook saw no gate; the full parse stopped on --bogus
    "--gate-watch=x --",
    "-qh --",                 # a help pytest's parse stops on again
    "--gate= --help",
])
def test_a_double_dash_in_the_environment_leaves_no_pass(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, addopts: str) -> None:
    _passing_record(repo)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    result = repo.run_subprocess("--gate=12")
    _assert_no_pass_and_not_silent(repo, result)


def test_a_help_page_clears_the_record_folder_the_job_names(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """--help stops pytest's parse where it stands: the options before it (the environment's
    ``--gate=12``) were read as the run's, without the job's --gate-record-dir, and the
    default folder was cleared while the job's kept its PASS, exit 0."""
    records = tmp_path / "records"
    assert repo.run("--gate=12", f"--gate-record-dir={records}").ret == 0
    assert parse_record(records / "GATE-12.xml").decision == "PASS"
    for addopts in ("--gate=12 --help", "--help --", "--gate=12 --help --"):
        monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
        result = repo.run_subprocess("--gate=12", f"--gate-record-dir={records}")
        assert not (records / "GATE-12.xml").exists(), (addopts, result.ret)


def test_options_that_cannot_be_read_under_help_fail_the_command(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """The re-parse of a help command's options returned silently when it failed: now the
    records of every stage go and the command exits non-zero, saying so."""
    _passing_record(repo)
    monkeypatch.setenv("PYTEST_ADDOPTS", "-qh")
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert STOPPED in result.stderr.str()
    assert "its options could not be read" in result.stderr.str()
    _no_pass_left(repo)


def test_a_gate_option_in_an_argument_file_counts(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """argparse expands ``@file`` arguments (pytest sets ``fromfile_prefix_chars``): a job
    that keeps its options in a file runs a --gate command too."""
    _passing_record(repo)
    (repo.root / "gate-args.txt").write_text("--gate=12\n")
    monkeypatch.setenv("PYTEST_ADDOPTS", "--help --")
    result = repo.run_subprocess("@gate-args.txt")
    _assert_no_pass_and_not_silent(repo, result)


@pytest.mark.parametrize("addopts", ["-orequired_plugins=nonexistent",
                                     "-o required_plugins=pytest-deploygate>=999"])
def test_a_stop_after_the_plugin_loaded_leaves_no_pass(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, addopts: str) -> None:
    """A3: pytest checks required_plugins after it loaded the plugins and before any hook of
    the plugin's that saw the options: exit 4 with the last PASS kept. The plugin now clears
    when pytest closes the config of a --gate command that never reached its main hook."""
    _passing_record(repo)
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "Missing required plugins" in result.stderr.str()
    assert STOPPED in result.stderr.str()
    _no_pass_left(repo)


def test_a_conftest_that_fails_to_import_leaves_no_pass(repo: GateProject) -> None:
    """The same stop inside pytest's parse: the initial conftest cannot be imported."""
    _passing_record(repo)
    (repo.root / "conftest.py").write_text("raise RuntimeError('broken conftest')\n")
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert STOPPED in result.stderr.str()
    _no_pass_left(repo)


def test_a_post_stage_keeps_the_pre_record_it_needs(repo: GateProject) -> None:
    """An honest run is untouched: the end-of-config check removes nothing of a command that
    ran (a post stage finds its pre record; the pre record it ran on stays)."""
    assert repo.run_subprocess("--gate=12", "--gate-stage=pre").ret == 0
    pre = repo.root / "gate-records" / "GATE-12-pre.xml"
    assert parse_record(pre).decision == "PASS"
    result = repo.run_subprocess("--gate=12", "--gate-stage=post")
    assert pre.exists()
    assert (repo.root / "gate-records" / "GATE-12-post.xml").exists(), result.stdout.str()
    assert STOPPED not in result.stderr.str()


def test_a_post_stage_with_an_option_of_a_conftest_keeps_its_pre_record(
        repo: GateProject) -> None:
    """The plugin parsed the options itself before pytest loaded the initial conftest.py:
    an option that conftest adds was unknown to it, and it removed every stage's records,
    the pre record of an honest post stage run included (EVIDENCE MISSING). The records of a
    stopped command now go only when pytest's own parse stopped it."""
    (repo.root / "conftest.py").write_text(
        "def pytest_addoption(parser):\n"
        "    parser.addoption('--integration', action='store_true')\n")
    repo.git("add", "conftest.py")
    repo.git("commit", "-qm", "an option of the project's tests")
    assert repo.run_subprocess("--gate=12", "--gate-stage=pre", "--integration").ret == 0
    result = repo.run_subprocess("--gate=12", "--gate-stage=post", "--integration")
    assert (repo.root / "gate-records" / "GATE-12-pre.xml").exists()
    assert result.ret == 0, result.stdout.str()
    assert parse_record(repo.root / "gate-records" / "GATE-12-post.xml").decision == "PASS"


def test_a_command_without_gate_touches_no_record(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    """A project's ordinary test run (no --gate token) with a usage error keeps the records:
    they are not its own."""
    assert repo.run("--gate=12").ret == 0
    monkeypatch.setenv("PYTEST_ADDOPTS", "--help --")
    repo.run_subprocess("tests")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-orequired_plugins=nonexistent")
    assert repo.run_subprocess("tests").ret == pytest.ExitCode.USAGE_ERROR
    assert parse_record(repo.root / "gate-records" / "GATE-12.xml").decision == "PASS"


@pytest.mark.parametrize("addopts", ["--help --gate-record-dir={elsewhere}",
                                     "--gate-record-dir={elsewhere} --help",
                                     "--gate-now=yesterday --gate-record-dir={elsewhere}"])
def test_a_record_folder_the_environment_names_does_not_spare_the_default_one(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
        addopts: str) -> None:
    """rt15b A05: ``PYTEST_ADDOPTS="--help --gate-record-dir=ELSEWHERE"`` exited 0 having
    cleared ELSEWHERE alone, and the last PASS in gate-records/ stayed for the deploy job. A
    stopped --gate command clears every folder it could have meant."""
    _passing_record(repo)
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts.format(elsewhere=elsewhere))
    result = repo.run_subprocess("--gate=12")
    _assert_no_pass_and_not_silent(repo, result)
