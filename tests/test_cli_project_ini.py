"""The ``deploygate`` commands read the gate's ini settings where ``pytest --gate`` reads them.

A project whose own specs live in ``deploygate_specs`` (pytest.ini, pyproject.toml, tox.ini,
setup.cfg, pytest.toml) gets a record ``deploygate verdict`` accepts without ``--specs``; the
size limits of the ini apply to the commands too; a configuration file the commands cannot
read is one line naming it. Every run is the real command line on a real release (a git
repository of the bundled example, its record from a real gate run at a fixed clock).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLE, INNER_ARGS, REPO

NOW = "--gate-now=2026-02-10T00:00:00Z"
RECORD = "gate-records/GATE-12.xml"
OWN_TITLE = "Our own production gate"
#: pytest reads pytest.toml and pyproject.toml's [tool.pytest] table from version 9 on.
PYTEST_9 = pytest.version_tuple >= (9,)
NO_PYTEST_TABLE = '[project]\nname = "acme-api"\nversion = "1.4.0"\n'

#: Each way to name the spec folder, as the files that say it (pyproject.toml is rewritten
#: without its pytest table where a later file in pytest's order must be the one it reads).
FORMS = {
    "pytest.ini": {"pytest.ini": "[pytest]\ndeploygate_specs = release-checks\n"},
    "pyproject ini_options": {"pyproject.toml": NO_PYTEST_TABLE + (
        "[tool.pytest.ini_options]\ndeploygate_specs = \"release-checks\"\n")},
    "tox.ini": {"pyproject.toml": NO_PYTEST_TABLE,
                "tox.ini": "[tox]\nenvlist = py311\n\n[pytest]\n# our own gate\n"
                           "deploygate_specs =\n    release-checks\n"},
    "setup.cfg": {"pyproject.toml": NO_PYTEST_TABLE,
                  "setup.cfg": "[metadata]\nname = acme-api\n\n[tool:pytest]\n"
                               "deploygate_specs = release-checks\n"},
    "pytest.toml": {"pytest.toml": "[pytest]\ndeploygate_specs = \"release-checks\"\n"},
    "pyproject tool.pytest": {"pyproject.toml": NO_PYTEST_TABLE + (
        "[tool.pytest]\ndeploygate_specs = \"release-checks\"\n")},
}
NEEDS_PYTEST_9 = {"pytest.toml", "pyproject tool.pytest"}


def commit_all(root: Path, message: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@acme.example",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@acme.example"}
    for command in (["git", "add", "-A"], ["git", "commit", "-q", "-m", message]):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)


def own_spec_release(root: Path, files: dict[str, str]) -> Path:
    """The example with its own gate 12 spec in release-checks/, named by ``files``, as a git
    repository of release 1.4.0."""
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    spec = (REPO / "gate_specs" / "12-production.yaml").read_text()
    own = root / "release-checks"
    own.mkdir()
    (own / "12-production.yaml").write_text(
        spec.replace("\ntitle: ", f"\ntitle: {OWN_TITLE} # ", 1))
    for name, text in files.items():
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    commit_all(root, "release 1.4.0")
    return root


def gate_run(root: Path, *options: str) -> None:
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW,
                          *options],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    assert OWN_TITLE in (root / RECORD).read_text()  # the run used the project's own spec


def deploygate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest_deploygate", *args], cwd=root,
                          capture_output=True, text=True)


@pytest.mark.parametrize("form", list(FORMS))
def test_verdict_checks_the_record_against_the_spec_folder_of_the_ini(tmp_path: Path,
                                                                      form: str) -> None:
    if form in NEEDS_PYTEST_9 and not PYTEST_9:
        pytest.skip(f"pytest {pytest.__version__} does not read {form}")
    root = own_spec_release(tmp_path / "acme-api", FORMS[form])
    gate_run(root)

    accepted = deploygate(root, "verdict", RECORD, "--allow-replay")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert OWN_TITLE in accepted.stdout
    shown = deploygate(root, "show", "12")
    assert shown.returncode == 0 and OWN_TITLE in shown.stdout, shown.stderr

    # Without the setting, the commands see the built-in spec: the record is not its record.
    for name in FORMS[form]:
        (root / name).unlink()
    commit_all(root, "drop the gate settings")
    refused = deploygate(root, "verdict", RECORD, "--allow-replay")
    assert refused.returncode == 4, refused.stdout + refused.stderr
    assert "it was made by a spec with sha256" in refused.stderr


def test_specs_on_the_command_line_win_over_the_ini(tmp_path: Path) -> None:
    root = own_spec_release(tmp_path / "acme-api", FORMS["pytest.ini"])
    builtin = deploygate(root, "--specs", "gate_specs", "show", "12")
    assert builtin.returncode == 0, builtin.stderr
    assert OWN_TITLE not in builtin.stdout and "[built-in]" in builtin.stdout


def test_an_ini_above_the_repository_is_read_only_when_named(tmp_path: Path) -> None:
    # pytest reads it (a project without configuration of its own), outside the repository:
    # no release content, so the gate refuses it unless the command line names it (-c), and
    # the commands refuse it unless theirs names it (--config-file). Before, they read its
    # size limits (and ignored its folders) unasked.
    root = own_spec_release(tmp_path / "repo" / "services" / "acme-api",
                            {"pyproject.toml": NO_PYTEST_TABLE})
    above = tmp_path / "repo" / "pytest.ini"
    above.write_text(f"[pytest]\ndeploygate_specs = {root / 'release-checks'}\n")
    found = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW,
                            f"--gate-root={root}"], cwd=root, capture_output=True, text=True)
    assert found.returncode == 4, found.stdout[-2000:]
    assert f"{above}, outside the repository" in found.stderr
    assert not (root / RECORD).exists()
    # the run used the specs of the ini above, named on its command line
    gate_run(root, f"--gate-root={root}", "-c", str(above), f"--rootdir={root}")
    for command in (("verdict", RECORD, "--allow-replay"), ("show", "12"), ("validate",)):
        refused = deploygate(root, *command)
        # verdict's 2 is ROLLBACK, on which deploy jobs roll production back: its refusal is 4
        assert refused.returncode == (4 if command[0] == "verdict" else 2), \
            refused.stdout + refused.stderr
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and f"{above} is outside the repository {root}" in lines[0] \
            and "--config-file FILE" in lines[0], refused.stderr
    # Named, it is the command line's, as it was the run's: its folders count.
    named = deploygate(root, "--config-file", str(above), "verdict", RECORD, "--allow-replay")
    assert named.returncode == 0 and OWN_TITLE in named.stdout, named.stderr
    # The project's own file, even without the setting, is the one pytest reads.
    (root / "pytest.ini").write_text("[pytest]\ndeploygate_specs = release-checks\n")
    commit_all(root, "the project's own pytest.ini")
    accepted = deploygate(root, "show", "12")
    assert accepted.returncode == 0 and OWN_TITLE in accepted.stdout, accepted.stderr


def test_outside_git_an_ini_above_the_project_is_read_as_before(tmp_path: Path) -> None:
    """No repository, no release to bind (as for pytest --gate): nothing is refused."""
    root = tmp_path / "plain" / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    (root / "pyproject.toml").write_text(NO_PYTEST_TABLE)
    (root.parent / "pytest.ini").write_text("[pytest]\ndeploygate_max_spec_size = 1000\n")
    refused = deploygate(root, "show", "12")
    assert refused.returncode == 2 and "1000" in refused.stderr, refused.stderr  # (its limit)
    assert "outside the repository" not in refused.stderr


def test_an_ini_linked_out_of_the_repository_is_refused_even_when_named(tmp_path: Path
                                                                         ) -> None:
    root = own_spec_release(tmp_path / "acme-api", {})
    (tmp_path / "org.ini").write_text("[pytest]\ndeploygate_max_spec_size = 16777216\n")
    (root / "pytest.ini").symlink_to("../org.ini")
    commit_all(root, "pytest.ini: the organisation's")
    for named in ((), ("--config-file", "pytest.ini")):
        refused = deploygate(root, *named, "show", "12")
        assert refused.returncode == 2, refused.stdout
        lines = refused.stderr.strip().splitlines()
        assert len(lines) == 1 and "through" in lines[0] and "a link in it" in lines[0], \
            refused.stderr


def test_the_ini_spec_size_limit_applies_to_the_commands(tmp_path: Path) -> None:
    root = own_spec_release(tmp_path / "acme-api", {
        "pytest.ini": "[pytest]\ndeploygate_specs = release-checks\n"
                      "deploygate_max_spec_size = 1000\n"})
    refused = deploygate(root, "show", "12")
    assert refused.returncode == 2, refused.stdout
    assert "12-production.yaml" in refused.stderr and "1000" in refused.stderr


@pytest.mark.parametrize(("name", "text", "says"), [
    ("setup.cfg", "[tool:pytest]\ndeploygate_max_spec_size = lots\n",
     "deploygate_max_spec_size = 'lots': expected a number of bytes"),
    ("pytest.ini", "[pytest]\ndeploygate_max_evidence_size = -5\n", "must be positive"),
    ("pyproject.toml", "[tool.pytest.ini_options]\ndeploygate_specs = [unclosed\n",
     "not valid TOML"),
    ("tox.ini", "[pytest]\n  deploygate_specs = x\n", "tox.ini"),
])
def test_an_unreadable_gate_setting_is_one_line_naming_the_file(tmp_path: Path, name: str,
                                                                text: str, says: str) -> None:
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    (root / "pyproject.toml").write_text(NO_PYTEST_TABLE)
    (root / name).write_text(text)
    refused = deploygate(root, "show", "12")
    assert refused.returncode == 2, refused.stdout
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and says in lines[0], refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_spec_folder_name_the_system_cannot_look_at_is_one_line(tmp_path: Path) -> None:
    # A name too long for the file system was OSError tracebacks of every command and an
    # INTERNALERROR of pytest --gate.
    root = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    (root / "pytest.ini").write_text(f"[pytest]\ndeploygate_specs = {'a' * 5000}\n")
    refused = deploygate(root, "show", "12")
    assert refused.returncode == 2, refused.stdout
    assert len(refused.stderr.strip().splitlines()) == 1 and "cannot be looked at" in \
        refused.stderr and "Traceback" not in refused.stderr, refused.stderr[-500:]
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12"],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 4 and "INTERNALERROR" not in run.stdout + run.stderr
    assert "cannot be looked at" in run.stdout + run.stderr
