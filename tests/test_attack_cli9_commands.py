"""Red team: the `deploygate` commands' own arguments: files that are no files, empty folder
options, plugin modules that are paths or that fail. One line each, never a traceback, and
never the exit code of a decision."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE


def deploygate(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    variables = {**os.environ, **env}
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120, env=variables)


@pytest.mark.parametrize(("make", "says"), [
    ("folder", "a folder, not a file; name the files in it"),
    ("named pipe", "not a regular file (a device, a pipe or a socket)"),
    ("link to /dev/zero", "not a regular file (a device, a pipe or a socket)"),
    ("dangling link", "a link to nowhere.yaml, which is not there"),
    ("missing", "not found"),
])
def test_validate_says_what_a_path_is_instead_of_not_found(tmp_path: Path, make: str,
                                                           says: str) -> None:
    path = tmp_path / "12-production.yaml"
    if make == "folder":
        path.mkdir()
    elif make == "named pipe":
        os.mkfifo(path)
    elif make == "link to /dev/zero":
        path.symlink_to("/dev/zero")
    elif make == "dangling link":
        path.symlink_to("nowhere.yaml")
    done = deploygate(tmp_path, "validate", path.name)
    assert done.returncode == 1, done.stdout + done.stderr
    assert done.stderr.splitlines() == [f"deploygate: {path}: {says}" + (
        "; name a file" if "regular" in says else "")]


@pytest.mark.parametrize("option", ["--root", "--specs"])
def test_an_empty_folder_option_is_refused(tmp_path: Path, option: str) -> None:
    """`--root "$PROJECT"` with the variable unset judged the current folder."""
    done = deploygate(tmp_path, option, "", "show", "12")
    assert done.returncode == 2
    assert f"argument {option}: empty: name a folder" in done.stderr.splitlines()[-1]


PLUGIN_MODULES = {
    "raises": "raise RuntimeError('no license server')\n",
    "exits": "import sys\nsys.exit(0)\n",
    "kinds fail": "def pytest_deploygate_check_kinds(config):\n    raise KeyError('kinds')\n",
    "kinds exit": "import sys\ndef pytest_deploygate_check_kinds(config):\n    sys.exit(0)\n",
}


@pytest.mark.parametrize("name", ["", "../acme", ".acme", *PLUGIN_MODULES])
def test_a_plugin_that_is_no_module_or_fails_is_one_line(tmp_path: Path, name: str) -> None:
    """A path, an empty name, a module that raises were tracebacks; a module whose import
    exits 0 made the command exit 0 without doing its work."""
    if name in PLUGIN_MODULES:
        module = "plug_" + name.replace(" ", "_")
        (tmp_path / f"{module}.py").write_text(PLUGIN_MODULES[name])
    else:
        module = name
    done = deploygate(EXAMPLE, "--plugin", module, "show", "12", PYTHONPATH=str(tmp_path))
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith((f"deploygate: --plugin {module}:",
                                f"deploygate: --plugin {module!r}:")), done.stderr
