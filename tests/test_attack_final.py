"""Red team of the file-reading, record-streaming and escaping change (64a6d89..3556028).

The attacker commits what they like to the gated repository (file names included) and edits
deploygate.yaml and specs; every run has a timeout.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hostile_files import directory_artifact_spec, gate

from pytest_deploygate.evidence.release import manifest_version

from conftest import GateProject, custom_gate


def test_a_directory_artifact_file_named_in_no_utf8_is_judged_not_a_crash(
        example: GateProject) -> None:
    # git commits any bytes as a name; a name that is no UTF-8 made the folder's digest raise
    # UnicodeEncodeError inside the built-in kind ("check kind 'artifact' failed: ...").
    results = example.root / "test-results"
    results.mkdir()
    name = os.fsdecode(b"report-\xff.xml")
    (results / name).write_bytes(b"<ok/>")
    directory_artifact_spec(example)
    gate(example)
    case = example.record().case("results")
    # (The folder holds a regular file of the project: met, as with any other name.)
    assert case["outcome"] == "passed", case


# -- the release version from the manifests ----------------------------------------------------

_NOTES_SPEC = (
    "spec_version: 1\ngate: 12\nid: GATE-12\ntitle: Release notes\nphase: 12-production\n"
    "decision: [{id: all, title: All}]\n"
    "artifacts: [{id: notes, name: Release notes, path: RELEASE_NOTES.md, names_version: true}]\n"
    "sections:\n  - {id: s, title: S, stage: pre, decision: all, criteria: "
    "[{id: phases, text: Phases, check: {kind: state, path: phases}}]}\n")


def _notes_project(project: GateProject, pyproject: bytes) -> None:
    # The release is 2.0.0 (pyproject.toml); the notes and package.json still say 1.0.0.
    project.set_state({"phases": {}})
    (project.root / "gate_specs").mkdir()
    (project.root / "gate_specs" / "12-production.yaml").write_text(_NOTES_SPEC)
    (project.root / "RELEASE_NOTES.md").write_text("# 1.0.0\n\nFirst release.\n")
    (project.root / "package.json").write_text('{"name": "ui", "version": "1.0.0"}\n')
    (project.root / "pyproject.toml").write_bytes(pyproject)


_PADDED = (b'[project]\nname = "api"\nversion = "2.0.0"\n'
           + b"# padding\n" * 300_000)  # (3 MB: over the document limit)


@pytest.mark.parametrize("pyproject", [
    _PADDED,
    b'project = "api"\n',  # no table
], ids=["over-the-limit", "not-a-table"])
def test_an_unreadable_pyproject_never_hands_the_version_to_package_json(
        project: GateProject, pyproject: bytes) -> None:
    # pyproject.toml names the release; an attacker pads it past the document limit (or
    # breaks it) so that the version came from package.json, an older release the notes name:
    # "release notes name the version" was met and the gate passed.
    _notes_project(project, pyproject)
    result = gate(project)
    case = project.record().case("notes")
    assert case["outcome"] != "passed", case
    assert "pyproject.toml" in case["message"], case
    assert result.ret != 0


def test_a_pyproject_without_a_version_still_defers_to_package_json(
        project: GateProject) -> None:
    # (Held by the fix: a pyproject.toml of tool settings names no version; package.json does.)
    _notes_project(project, b'[tool.ruff]\nline-length = 99\n')
    gate(project)
    assert project.record().case("notes")["outcome"] == "passed"


def test_a_pyproject_whose_project_is_no_table_is_one_line_not_a_traceback(
        project: GateProject) -> None:
    _notes_project(project, b'project = "api"\n')
    result = gate(project)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    assert result.ret != 0


@pytest.mark.parametrize("pyproject", [
    _PADDED,
    b'[project]\nname = "api"\nversion = "2.0.0"\ndescription = "caf\xe9"\n',  # latin-1
    b'[project]\nname = "api"\nversion = "2.0.0"\n[project]\n',  # not TOML
    b'project = "api"\n',
    b'[project]\nversion = 2\n',
], ids=["over-the-limit", "not-utf8", "not-toml", "not-a-table", "not-text"])
def test_verdict_and_gate_take_no_version_from_package_json_past_a_broken_pyproject(
        tmp_path: Path, pyproject: bytes) -> None:
    # (pytest itself refuses a pyproject.toml that is not UTF-8 TOML, but `deploygate verdict`
    # reads the release version the same way and never runs pytest.)
    (tmp_path / "package.json").write_text('{"version": "1.0.0"}')
    (tmp_path / "pyproject.toml").write_bytes(pyproject)
    assert manifest_version(tmp_path) is None
    (tmp_path / "pyproject.toml").unlink()
    os.mkfifo(tmp_path / "pyproject.toml")
    assert manifest_version(tmp_path) is None


# -- deploygate hook install --force: the folder itself ----------------------------------------


@pytest.mark.parametrize("linked", [".isdlc/hooks/deploygate", ".isdlc/hooks", ".isdlc"])
def test_hook_install_never_writes_through_a_committed_folder_link_out_of_the_project(
        tmp_path: Path, linked: str) -> None:
    # The files were replaced rather than written into, but the folder they go in is in the
    # repository too: a committed link to a folder elsewhere (an autostart folder) received
    # an executable hook.sh.
    root = tmp_path / "project"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = root / linked
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(elsewhere, target_is_directory=True)
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(root),
                           "hook", "install", "--force"],
                          capture_output=True, text=True, timeout=30)
    assert list(elsewhere.rglob("*")) == [], done.stdout + done.stderr
    assert done.returncode != 0
    assert "Traceback" not in done.stderr and "outside" in done.stderr, done.stderr


@pytest.mark.parametrize("given", [False, True], ids=["default-folder", "dash-o"])
def test_import_never_writes_through_a_committed_spec_folder_link_out_of_the_project(
        tmp_path: Path, shared_checklists: list[Path], given: bool) -> None:
    checklist = next(p for p in shared_checklists if p.name == "12-production-gate.md")
    root = tmp_path / "project"
    root.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (root / "gate_specs").symlink_to(elsewhere, target_is_directory=True)
    output = ["-o", str(root / "gate_specs")] if given else []
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root", str(root),
                           "import", str(checklist), *output],
                          capture_output=True, text=True, timeout=120, cwd=root)
    assert list(elsewhere.iterdir()) == [], done.stdout + done.stderr
    assert done.returncode != 0 and "outside the project root" in done.stderr, done.stderr


@pytest.mark.parametrize("name,text", [
    ("package.json", "[" * 200_000 + "]" * 200_000),
    ("pyproject.toml", "a = " + "[" * 200_000 + "]" * 200_000),
], ids=["package.json", "pyproject.toml"])
def test_a_manifest_nested_deeper_than_the_parser_recurses_names_no_version(
        tmp_path: Path, name: str, text: str) -> None:
    # json.loads and tomllib raise RecursionError, which neither the gate nor `deploygate
    # verdict` caught: a bare traceback instead of "version unknown".
    (tmp_path / name).write_text(text)
    assert manifest_version(tmp_path) is None


def test_verdict_over_a_deeply_nested_package_json_is_no_traceback(example: GateProject
                                                                     ) -> None:
    config = example.root / "deploygate.yaml"
    config.write_text("".join(line for line in config.read_text().splitlines(keepends=True)
                              if not line.startswith("version:")))
    (example.root / "pyproject.toml").unlink(missing_ok=True)
    (example.root / "package.json").write_text("[" * 200_000 + "]" * 200_000)
    result = gate(example)
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                           str(example.root), "verdict", "--commit", "0" * 40,
                           str(example.root / "gate-records" / "GATE-12.xml")],
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and done.returncode != 0, done.stderr


def test_a_coverage_report_nested_deeper_than_json_recurses_is_named_not_a_kind_crash(
        project: GateProject) -> None:
    # (Fail-closed before too, but as "check kind 'coverage' failed: RecursionError: ...".)
    project.set_state({"phases": {}})
    (project.root / "coverage.json").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}")
    custom_gate(project, "- {id: cov, text: Coverage, check: {kind: coverage, "
                         "paths: [coverage.json], min: 80}}")
    gate(project)
    case = project.record().case("cov")
    assert case["outcome"] != "passed", case
    assert "check kind" not in case["message"] and "coverage.json" in case["message"], case
