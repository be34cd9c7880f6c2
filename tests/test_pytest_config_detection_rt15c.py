"""rt15c A04: whether a file holds pytest's configuration is decided as pytest decides it.

A regex of the table header decided whether a pyproject.toml, tox.ini or setup.cfg held pytest
configuration. ``[tool."pytest".ini_options]`` is the same table to TOML and to pytest, and did
not match: the edited pyproject.toml (``deploygate_record_dir = "ELSEWHERE"``) was "no pytest
configuration", never compared with the commit, and Tuesday's FAIL went elsewhere while
Monday's PASS stayed in gate-records/. So did dotted keys, inline tables and escaped keys; and
such a file above the repository was not refused. The other way round, an empty
``[tool.pytest]``, which pytest passes over, made ``deploygate`` read a file pytest does not.

The gate runs are real (``pytest --gate=12`` in a fresh interpreter, on the example as a git
repository); which file pytest itself takes is read from its own header (``configfile:``), and
compared with the file the ``deploygate`` command line reads.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_attack_rt14c_records import _no_pass_left, _passing_record
from test_definition_outside_repository import DEV, _deploygate, _gate, _refused, commit, project

from conftest import INNER_ARGS, GateProject

__all__ = ["project"]  # (the fixture, imported to be used here)

PYTEST_9 = pytest.version_tuple >= (9,)
PROJECT_TABLE = '[project]\nname = "acme-api"\nversion = "1.4.0"\n'

#: Each spelling of pyproject.toml's pytest table, setting ``deploygate_record_dir`` to {d};
#: placed before the [project] table (where dotted keys and inline tables are top-level).
STEERING = {
    "quoted key": '[tool."pytest".ini_options]\ndeploygate_record_dir = "{d}"\n',
    "literal key": "[tool.'pytest'.ini_options]\ndeploygate_record_dir = \"{d}\"\n",
    "escaped key": '[tool."\\u0070ytest".ini_options]\ndeploygate_record_dir = "{d}"\n',
    "spaced header": '[ tool . pytest . ini_options ]\ndeploygate_record_dir = "{d}"\n',
    "dotted keys": 'tool.pytest.ini_options.deploygate_record_dir = "{d}"\n',
    "dotted keys under [tool]": '[tool]\npytest.ini_options.deploygate_record_dir = "{d}"\n',
    "inline table":
        'tool = {{ pytest = {{ ini_options = {{ deploygate_record_dir = "{d}" }} }} }}\n',
    "[tool.pytest]": '[tool.pytest]\ndeploygate_record_dir = "{d}"\n',
}
NEEDS_PYTEST_9 = {"[tool.pytest]"}


def _skip_unread(form: str) -> None:
    if form in NEEDS_PYTEST_9 and not PYTEST_9:
        pytest.skip(f"pytest {pytest.__version__} does not read {form}")


@pytest.mark.parametrize("form", list(STEERING))
def test_an_edited_pyproject_in_any_spelling_does_not_steer_the_gate(
        repo: GateProject, tmp_path: Path, form: str) -> None:
    _skip_unread(form)
    _passing_record(repo)
    elsewhere = tmp_path / "elsewhere"
    pyproject = repo.root / "pyproject.toml"
    pyproject.write_text(STEERING[form].format(d=elsewhere) + "\n" + PROJECT_TABLE)
    result = repo.run_subprocess("--gate=12")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.stdout.str()[-2000:]
    errors = result.stderr.str()
    assert f"{pyproject}, but its content differs from the committed one" in errors
    assert "Traceback" not in errors
    assert not elsewhere.exists()
    _no_pass_left(repo)


@pytest.mark.parametrize("form", list(STEERING))
def test_a_pyproject_above_the_repository_in_any_spelling_is_refused(
        project: Path, form: str) -> None:
    _skip_unread(form)
    (project / "pytest.ini").unlink()
    commit(project, DEV, "no pytest configuration of our own")
    above = project.parent / "pyproject.toml"
    above.write_text(STEERING[form].format(d=project.parent / "elsewhere") + "\n"
                     + PROJECT_TABLE)
    _refused(_gate(project, "--gate-root=."), 4, str(above),
             "pytest found it in a folder above it", "-c FILE")
    _refused(_deploygate(project, "show", "12"), 2, str(above), "--config-file FILE")


#: (file, text, whether pytest 9 takes it as its configuration): the spellings a regex of the
#: header got wrong either way, and the ones it got right, which must stay right.
FORMS = {
    "quoted key": ("pyproject.toml", '[tool."pytest".ini_options]\n', True),
    "escaped key": ("pyproject.toml", '[tool."\\u0070ytest".ini_options]\n', True),
    "dotted keys": ("pyproject.toml", 'tool.pytest.ini_options.python_files = "x_*.py"\n', True),
    "inline table": ("pyproject.toml", "tool = { pytest = { ini_options = {} } }\n", True),
    "empty ini_options": ("pyproject.toml", "[tool.pytest.ini_options]\n", True),
    "empty [tool.pytest]": ("pyproject.toml", "[tool.pytest]\n", False),
    "[tool.pytest] setting": ("pyproject.toml", '[tool.pytest]\npython_files = ["x_*.py"]\n', True),
    "another tool's table": ("pyproject.toml", '[tool."pytest.ini_options"]\nx = 1\n', False),
    "pytest as a dependency": ("pyproject.toml",
                               PROJECT_TABLE + 'dependencies = ["pytest>=8"]\n', False),
    "CRLF lines": ("pyproject.toml",
                   "[tool.pytest.ini_options]\r\npython_files = 'x_*.py'\r\n", True),
    "tox [pytest]": ("tox.ini", "[tox]\nenvlist = py311\n\n[pytest]\n", True),
    "tox [pytest] with a comment": ("tox.ini", "[pytest] ; ours\npython_files = x_*.py\n", True),
    "tox [ pytest ]": ("tox.ini", "[ pytest ]\npython_files = x_*.py\n", False),
    "tox [PYTEST]": ("tox.ini", "[PYTEST]\npython_files = x_*.py\n", False),
    "tox [pytest] as a value": ("tox.ini", "[tox]\nnote =\n  [pytest]\n", False),
    "setup.cfg [tool:pytest]": ("setup.cfg", "[metadata]\nname = x\n[tool:pytest]\n", True),
    "setup.cfg [tool:pytest ]": ("setup.cfg", "[tool:pytest ]\npython_files = x_*.py\n", False),
}


def _pytest_config_file(folder: Path) -> Path | None:
    """The configuration file pytest itself takes when run in ``folder`` (its header)."""
    environment = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}  # (no -q)
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--co"], cwd=folder,
                         capture_output=True, text=True, check=False, env=environment)
    lines = run.stdout.splitlines()
    rootdir = next(line.split(": ", 1)[1] for line in lines if line.startswith("rootdir: "))
    named = [line.split(": ", 1)[1] for line in lines if line.startswith("configfile: ")]
    return Path(rootdir, named[0]) if named else None


@pytest.mark.parametrize("form", list(FORMS))
def test_deploygate_reads_the_configuration_file_pytest_reads(tmp_path: Path,
                                                              form: str) -> None:
    """A project in svc/ of its repository; the repository's pytest.ini (a spec size limit
    too small for any spec) governs it unless svc/'s file is pytest's configuration."""
    name, text, holds = FORMS[form]
    if form == "[tool.pytest] setting" and not PYTEST_9:
        pytest.skip("pytest 8 reads only [tool.pytest.ini_options]; deploygate reads by "
                    "pytest 9's rules (docs/configuration.md)")
    top = tmp_path / "repo"
    (top / "svc").mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=top, check=True)
    (top / "pytest.ini").write_text("[pytest]\ndeploygate_max_spec_size = 10\n")
    own = top / "svc" / name
    own.write_bytes(text.encode())
    assert _pytest_config_file(top / "svc") == (own if holds else top / "pytest.ini")
    shown = _deploygate(top / "svc", "show", "12")
    if holds:
        assert shown.returncode == 0, shown.stderr
    else:  # (the repository's file: its limit refuses the built-in spec)
        assert shown.returncode == 2 and "over the 10 byte limit" in shown.stderr, shown.stderr


@pytest.mark.parametrize(("name", "text", "says"), [
    ("pyproject.toml", '[tool."pytest".ini_options]\naddopts = -q\n', "not valid TOML"),
    ("pyproject.toml", '[tool.pytest]\naddopts = ["-q"]\n[tool.pytest.ini_options]\nx = "1"\n',
     "both [tool.pytest] settings and [tool.pytest.ini_options]"),
    ("pyproject.toml", "tool = 'pytest'\n", "tool is a str, not a table"),
    ("setup.cfg", "[pytest]\naddopts = -q\n", "a [pytest] section"),
    ("tox.ini", "[pytest]x\n", "tox.ini:1: unexpected value continuation"),
])
def test_a_configuration_file_pytest_stops_on_is_one_line(tmp_path: Path, name: str,
                                                          text: str, says: str) -> None:
    """pytest refuses to start on it; so does every command, naming the file and what is
    wrong, never a traceback nor a silent "no configuration" (which read the file above)."""
    if "both" in says and not PYTEST_9:
        pytest.skip(f"pytest {pytest.__version__} reads only [tool.pytest.ini_options]")
    (tmp_path / name).write_text(text)
    assert subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--co"], cwd=tmp_path,
                          capture_output=True, check=False).returncode not in (0, 5)
    refused = _deploygate(tmp_path, "show", "12")
    assert refused.returncode == 2, refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and says in lines[0], refused.stderr
