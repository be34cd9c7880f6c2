"""Red team: malformed `pytest --gate` option values and ini settings, and the `deploygate`
commands' reading of the same settings. Each is one usage line, never a traceback, and never
quietly something else (an empty --gate-root is not pytest's rootdir; a spec folder that is
not there is not the built-in gates; "٣" is not 3)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GateProject

NOW = "--gate-now=2026-02-10T00:00:00Z"


def usage_error(result: pytest.RunResult, *words: str) -> None:
    """pytest's usage error (exit 4) with one ERROR line holding ``words``; no traceback."""
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output and "INTERNALERROR" not in output, output
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    for word in words:
        assert word in errors[0], errors[0]
    assert not (result.stdout.str().count("PASS"))


@pytest.mark.parametrize("instant", [
    "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-12-31T23:59:59Z",
    "1969-12-31T23:59:59Z", "0001-01-01"])
def test_an_instant_at_the_end_of_the_calendar_is_refused(example: GateProject,
                                                          instant: str) -> None:
    """An OverflowError traceback while formatting the clock, or later while moving it."""
    usage_error(example.run("--gate=12", f"--gate-now={instant}"), "--gate-now",
                f"{instant!r} is not between 1970 and 9000", "give a real date")


@pytest.mark.parametrize("expires", ["9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00"])
def test_a_sign_off_expiry_out_of_the_calendar_is_a_problem(example: GateProject,
                                                            expires: str) -> None:
    """`deploygate validate` found nothing wrong with an expiry no UTC instant can hold."""
    log = example.root / ".deploygate" / "attestations.jsonl"
    lines = log.read_text().splitlines()
    entry = json.loads(lines[0])
    entry["expires"] = expires
    log.write_text("\n".join([*lines, json.dumps(entry)]) + "\n")
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "validate"], capture_output=True, text=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"attestations.jsonl:{len(lines) + 1}: expires: {expires!r} is not between 1970 " \
        "and 9000: give a real date" in done.stderr, done.stderr


@pytest.mark.parametrize("option", ["--gate-root", "--gate-state", "--gate-record-dir",
                                    "--gate-now", "--gate-pre-record", "--gate-version",
                                    "--gate-prometheus", "--gate-watch"])
def test_an_empty_option_value_is_not_the_default(example: GateProject, option: str) -> None:
    """`--gate-root=$PROJECT` with the variable unset gated pytest's rootdir instead."""
    clock = [] if option == "--gate-now" else [NOW]
    usage_error(example.run("--gate=12", f"{option}=", *clock), f"{option} is empty",
                "leave the option out")


@pytest.mark.parametrize("value", ["error_rate=٣", "error_rate=1_0", "error_rate=٠.٥",
                                   "error_rate=0x10", "error_rate= "])
def test_a_threshold_is_plain_decimal(example: GateProject, value: str) -> None:
    usage_error(example.run("--gate=12", f"--gate-threshold={value}", NOW),
                "expected NAME=NUMBER")


def test_a_plain_threshold_still_counts(example: GateProject) -> None:
    result = example.run("--gate=12", "--gate-threshold=error_rate=1.5e-2", NOW)
    assert "error_rate=0.015" in (example.root / "gate-records" / "GATE-12.xml").read_text()
    assert result.ret in (0, 1)


@pytest.mark.parametrize(("setting", "says"), [
    ("deploygate_specs = ~nosuchuser/specs", "'~nosuchuser' names no home directory"),
    ("deploygate_specs = release-cheks", "is not a folder; create it or fix the setting"),
    ("deploygate_specs = CONFIG", "is not a folder"),
    ("deploygate_record_dir = ~nosuchuser/records", "names no home directory"),
    ("deploygate_max_spec_size = ٣", "expected a number of bytes"),
    ("deploygate_max_evidence_size = 1_000", "expected a number of bytes"),
])
def test_an_ini_setting_of_junk_is_refused_by_pytest_and_the_commands(
        example: GateProject, setting: str, says: str) -> None:
    """The same words from `pytest --gate` and `deploygate show` (both read the setting).
    Before: INTERNALERROR (~user), the built-in gates in silence (a folder not there), a 3-byte
    limit from an Arabic-Indic digit."""
    setting = setting.replace("CONFIG", "deploygate.yaml")
    (example.root / "pytest.ini").write_text(f"[pytest]\n{setting}\n")
    usage_error(example.run("--gate=12", NOW), says)
    if "record_dir" in setting:
        return  # the commands write no record
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "show", "12"], capture_output=True, text=True)
    assert done.returncode == 2, done.stdout
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and "pytest.ini" in lines[0] and says in lines[0], done.stderr


def test_a_nul_in_the_spec_folder_setting_is_one_line(example: GateProject) -> None:
    (example.root / "pyproject.toml").unlink()
    (example.root / "pytest.toml").write_text('[pytest]\ndeploygate_specs = "a\\u0000b"\n')
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "validate"], capture_output=True, text=True)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == [
        f"deploygate: {example.root / 'pytest.toml'}: deploygate_specs = 'a\\x00b': holds a "
        "NUL character; give a path"]


def test_specs_naming_no_folder_is_refused(example: GateProject) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "--specs", str(example.root / "nope"), "validate"],
                          capture_output=True, text=True)
    assert done.returncode == 2, done.stdout
    assert "--specs" in done.stderr and "not a folder" in done.stderr


def test_a_record_folder_that_is_a_file_says_what_to_do(example: GateProject) -> None:
    (example.root / "records").write_text("a file\n")
    result = example.run("--gate=12", "--gate-record-dir=records", NOW)
    assert result.ret != 0
    result.stdout.fnmatch_lines(["*cannot write gate record *GATE-12: *; make *records a "
                                 "folder this run can write, or pass --gate-record-dir"])


def test_paths_and_numbers_that_are_fine_still_work(example: GateProject,
                                                    tmp_path: Path) -> None:
    """(Held) the default folder name may be missing: the built-in gates then."""
    (example.root / "pytest.ini").write_text(
        "[pytest]\ndeploygate_specs = gate_specs\ndeploygate_max_spec_size = 4194304\n")
    result = example.run("--gate=12", NOW, f"--gate-record-dir={tmp_path / 'r'}")
    assert result.ret == 0, result.stdout.str()
