"""What defines the gate is release content, or named by the CI job's command line.

A spec folder outside the release repository that a file of the repository names (its ini's
``deploygate_specs = "../specs"`` or an absolute path, ``-o`` in its addopts) was no release
content: weakened after the sign-offs, the old release said PASS, and verdict (reading the
same folder) bound it. So was a spec folder reached through a link of the repository that
leads out of it, and a pytest configuration file pytest found above the repository. And the
configuration file pytest was told to read (``-c ci/gate.ini``) was no release content of a
monorepo project unless it had one of pytest's own names in a folder above the project.

Real repositories (a developer, a security officer and a QA lead who commit their own
sign-offs, an attacker who commits under her own name), judged by ``pytest --gate=12`` and
``deploygate`` in subprocesses, as tests/test_monorepo_release_content.py builds them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from test_monorepo_release_content import (
    ANA,
    APPROVERS,
    CONFIG,
    DEV,
    EVE,
    JUNIT,
    QA,
    SAM,
    SPEC,
    commit,
    git,
    monorepo,
    prop,
)

from conftest import INNER_ARGS

__all__ = ["monorepo"]  # (the fixture, imported to be used here)


def _sign(root: Path, criterion: str, signer: str, role: str, note: str = "") -> None:
    entry = {"gate": 12, "criterion": criterion, "signer": signer, "role": role,
             "at": "2026-01-05T10:00:00Z", **({"note": note} if note else {})}
    with (root / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    commit(root, signer, f"sign-off: {criterion}")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """One project at the top of its repository, with sign-offs of the security officer
    only; the organisation's spec folder (with the QA criterion) outside it, in ``specs/``
    beside the checkout."""
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "12-production.yaml").write_text(SPEC % QA)
    return _release(tmp_path / "acme", ".")


def _release(top: Path, folder: str) -> Path:
    """A repository at ``top`` whose project lies in ``folder`` (``.``: at the top); the
    security officer has signed."""
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    root = top / folder
    root.mkdir(exist_ok=True)
    (root / ".gitignore").write_text("reports/\ngate-records/\n")
    (root / ".isdlc").mkdir()
    (root / ".isdlc" / "state.json").write_text(json.dumps({"project": {"name": "acme"},
                                                            "phases": {}}))
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("NAME = 'acme'\n")
    (root / "deploygate.yaml").write_text(CONFIG.format(version="1.0.0"))
    (root / ".deploygate").mkdir()
    (root / ".deploygate" / "approvers.yaml").write_text(APPROVERS)
    (root / ".deploygate" / "attestations.jsonl").write_text("")
    (root / "reports").mkdir()
    (root / "reports" / "unit.xml").write_text(JUNIT)
    (top / "pytest.ini").write_text("[pytest]\n")
    commit(top, DEV, "acme")
    _sign(root, "security-sign-off", SAM, "security-officer")
    return root


def _gate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12", *args],
                          cwd=root, capture_output=True, text=True, check=False)


def _deploygate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-P", "-m", "pytest_deploygate", *args], cwd=root,
                          capture_output=True, text=True, check=False)


def _refused(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert done.returncode == code, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines()
             if "outside the repository" in line or "out of the repository" in line]
    assert len(lines) == 1, done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert "Traceback" not in done.stderr


def _weaken(specs: Path) -> None:
    (specs / "12-production.yaml").write_text(SPEC % "")  # (the QA criterion removed)


# -- 1. a spec folder outside the repository, named by a file of the repository -------------------

@pytest.mark.parametrize(("name", "text"), [
    ("pytest.ini", "[pytest]\ndeploygate_specs = ../specs\n"),
    ("pyproject.toml", '[tool.pytest.ini_options]\ndeploygate_specs = "{specs}"\n'),
    ("pytest.ini", "[pytest]\naddopts = -o deploygate_specs=../specs\n"),
])
def test_a_spec_folder_outside_the_repository_named_by_its_ini_is_refused(
        project: Path, name: str, text: str) -> None:
    specs = project.parent / "specs"
    (project / "pytest.ini").unlink()
    (project / name).write_text(text.format(specs=specs))
    commit(project, EVE, "the organisation's specs")
    _sign(project, "security-sign-off", SAM, "security-officer", note="on this release")
    # The release FAILs (QA has not signed). The spec edited after the sign-offs: before,
    # the same release said PASS.
    _weaken(specs)
    done = _gate(project)
    if "addopts" in text and done.returncode != 4:
        # (pytest 9.0 leaves an ``-o`` of the ini's own addopts out of ``getini``: then the
        # outside folder is never read, and the gate is the bundled spec's, not "Production
        # gate" of ../specs.)
        assert "Production Deployment" in done.stdout, done.stdout[-2000:]
        assert "Production gate" not in done.stdout, done.stdout[-2000:]
        return
    _refused(done, 4, name, "deploygate_specs", "is outside the repository",
             "-o deploygate_specs=DIR")
    assert not (project / "gate-records" / "GATE-12.xml").exists()
    if "addopts" not in text:  # (deploygate reads the setting, not pytest's addopts)
        _refused(_deploygate(project, "show", "12"), 2, name, "deploygate_specs",
                 "--specs DIR")


def test_a_spec_folder_outside_the_repository_named_by_the_environment_is_refused(
        project: Path) -> None:
    specs = project.parent / "specs"
    done = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "--gate=12"],
                          cwd=project, capture_output=True, text=True, check=False,
                          env={**__import__("os").environ,
                               "PYTEST_ADDOPTS": f"-o deploygate_specs={specs}"})
    _refused(done, 4, "PYTEST_ADDOPTS", "is outside the repository")


def test_a_spec_folder_outside_the_repository_named_on_the_command_line_is_judged(
        project: Path) -> None:
    specs = project.parent / "specs"
    failed = _gate(project, "-o", f"deploygate_specs={specs}")
    assert failed.returncode == 1, failed.stdout[-3000:]  # (QA has not signed)
    _sign(project, "qa-sign-off", ANA, "qa-lead")
    passed = _gate(project, "-o", f"deploygate_specs={specs}")
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-2000:]
    assert prop_of(project, "dirty") == "false"
    checked = _deploygate(project, "--specs", str(specs), "verdict", "gate-records/GATE-12.xml")
    assert checked.returncode == 0, checked.stderr


def prop_of(root: Path, name: str) -> str:
    text = (root / "gate-records" / "GATE-12.xml").read_text()
    return text.split(f'name="deploygate.{name}" value="', 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("committed", [True, False])
def test_a_link_of_the_repository_leading_the_spec_folder_out_of_it_is_refused(
        project: Path, committed: bool) -> None:
    (project / "gate_specs").symlink_to("../specs")
    if committed:
        commit(project, EVE, "gate_specs: the organisation's")
        _sign(project, "security-sign-off", SAM, "security-officer", note="on this release")
    _weaken(project.parent / "specs")
    _refused(_gate(project), 4, "gate_specs", "through", "a link in it")
    # Named on the command line, through the link: the link still chooses where it leads.
    _refused(_gate(project, "-o", "deploygate_specs=gate_specs"), 4, "a link in it",
             "name the folder itself")
    _refused(_deploygate(project, "show", "12"), 2, "a link in it")


def test_a_monorepo_spec_folder_outside_the_repository_named_by_the_root_ini_is_refused(
        monorepo: Path) -> None:
    specs = monorepo.parent / "org-specs"
    specs.mkdir()
    (specs / "12-production.yaml").write_text(SPEC % QA)
    (monorepo / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\ndeploygate_specs = "../org-specs"\n')
    commit(monorepo, EVE, "the organisation's specs")
    _weaken(specs)
    for project in ("svc-a", "svc-b"):
        _refused(_gate(monorepo, f"--gate-project={project}"), 4, "pyproject.toml",
                 "deploygate_specs", "is outside the repository")
    _refused(_deploygate(monorepo, "verdict", "gate-records/svc-b/GATE-12.xml"), 4,
             "pyproject.toml")


def test_a_monorepo_spec_folder_outside_the_repository_named_on_the_command_line_binds(
        monorepo: Path) -> None:
    specs = monorepo.parent / "org-specs"
    specs.mkdir()
    (specs / "12-production.yaml").write_text(SPEC % QA)
    done = _gate(monorepo, "--gate-project=svc-b", "-o", f"deploygate_specs={specs}")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert prop(monorepo, "svc-b", "dirty") == "false"
    checked = _deploygate(monorepo, "--specs", str(specs), "verdict",
                          "gate-records/svc-b/GATE-12.xml")
    assert checked.returncode == 0, checked.stderr
    assert _gate(monorepo, "--gate-project=svc-a", "-o",
                 f"deploygate_specs={specs}").returncode == 1  # (QA has not signed svc-a)


# -- 2. pytest's configuration file, wherever pytest found it ------------------------------------

def test_a_configuration_file_above_the_repository_is_refused(project: Path) -> None:
    (project / "pytest.ini").unlink()
    commit(project, DEV, "no pytest configuration of our own")
    (project.parent / "pytest.ini").write_text("[pytest]\ndeploygate_max_spec_size = 10\n")
    _refused(_gate(project, "--gate-root=."), 4, str(project.parent / "pytest.ini"),
             "pytest found it in a folder above it", "-c FILE")
    # Named on the command line, it is the CI job's own.
    named = _gate(project, "-c", str(project.parent / "pytest.ini"), f"--rootdir={project}",
                  "-o", "deploygate_max_spec_size=1000000",
                  "-o", f"deploygate_specs={project.parent / 'specs'}")
    assert named.returncode == 1, named.stdout[-3000:] + named.stderr[-2000:]


def test_a_configuration_file_above_a_project_in_its_repository_is_release_content(
        tmp_path: Path) -> None:
    # The project in svc/ of its repository; pytest finds the repository's pytest.ini above
    # it, which configures its gate (here: deploygate_max_spec_size; as well the record
    # directory, addopts).
    root = _release(tmp_path / "repo", "svc")
    (root / "gate_specs").mkdir()
    (root / "gate_specs" / "12-production.yaml").write_text(SPEC % "")
    (tmp_path / "repo" / "pytest.ini").write_text("[pytest]\ndeploygate_specs = svc/gate_specs\n")
    commit(root, DEV, "svc: its gate")
    _sign(root, "security-sign-off", SAM, "security-officer", note="on this release")
    passed = _gate(root, f"--gate-root={root}")
    assert passed.returncode == 0, passed.stdout[-3000:] + passed.stderr[-2000:]
    released = prop_of(root, "commit"), prop_of(root, "tree")
    checked = _deploygate(root, "verdict", "gate-records/GATE-12.xml")
    assert checked.returncode == 0, checked.stderr  # (the same file bound: the same release)
    (tmp_path / "repo" / "pytest.ini").write_text(
        "[pytest]\ndeploygate_specs = svc/gate_specs\ndeploygate_max_spec_size = 4096\n")
    commit(root, EVE, "pytest: a smaller spec size limit")
    again = _gate(root, f"--gate-root={root}")
    # Before: the file above the project was no release content; the same release PASSed.
    assert again.returncode == 1, again.stdout[-3000:]
    assert (prop_of(root, "commit"), prop_of(root, "tree")) != released
    assert _deploygate(root, "verdict", "gate-records/GATE-12.xml").returncode == 1


def test_a_configuration_file_linked_out_of_the_repository_is_refused(project: Path) -> None:
    (project.parent / "org.ini").write_text("[pytest]\n")
    (project / "pytest.ini").unlink()
    (project / "pytest.ini").symlink_to("../org.ini")
    commit(project, EVE, "pytest.ini: the organisation's")
    _refused(_gate(project), 4, "pytest.ini", "a link in it")


def test_a_configuration_file_named_with_c_is_release_content_of_a_monorepo_project(
        monorepo: Path) -> None:
    (monorepo / "legacy_specs").mkdir()
    (monorepo / "legacy_specs" / "12-production.yaml").write_text(SPEC % "")
    (monorepo / "ci").mkdir()
    (monorepo / "ci" / "gate.ini").write_text("[pytest]\n")
    commit(monorepo, DEV, "ci: the gate's configuration; the staging gate's specs")
    git(monorepo, "commit", "-q", "--allow-empty", "-m", "(a later commit)")
    _sign_again(monorepo)
    args = ("--gate-project=svc-a", "-c", "ci/gate.ini", "--rootdir=.")
    assert _gate(monorepo, *args).returncode == 1  # QA has not signed svc-a
    released = prop(monorepo, "svc-a", "commit"), prop(monorepo, "svc-a", "tree")
    (monorepo / "ci" / "gate.ini").write_text("[pytest]\ndeploygate_specs = legacy_specs\n")
    commit(monorepo, EVE, "ci: the staging gate's specs")
    done = _gate(monorepo, *args)
    # Before: the ini was no release content, the release stayed the one svc-a's sign-off
    # was given on (legacy_specs committed before it), and the laxer gate said PASS.
    assert done.returncode == 1, done.stdout[-3000:]
    assert (prop(monorepo, "svc-a", "commit"), prop(monorepo, "svc-a", "tree")) != released
    assert prop(monorepo, "svc-a", "commit") == git(monorepo, "rev-parse", "HEAD").strip()


def test_an_honest_monorepo_release_gated_with_c_binds_with_the_same_file(
        monorepo: Path) -> None:
    (monorepo / "ci").mkdir()
    (monorepo / "ci" / "gate.ini").write_text("[pytest]\n")
    commit(monorepo, DEV, "ci: the gate's configuration")
    _sign_b_again(monorepo)
    done = _gate(monorepo, "--gate-project=svc-b", "-c", "ci/gate.ini", "--rootdir=.")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    record = "gate-records/svc-b/GATE-12.xml"
    checked = _deploygate(monorepo, "--config-file", "ci/gate.ini", "verdict", record)
    assert checked.returncode == 0, checked.stderr
    # Without it, deploygate binds the release pytest would read without -c: another one.
    assert _deploygate(monorepo, "verdict", record).returncode == 4


def _sign_again(root: Path) -> None:
    """svc-a's security sign-off, given after the last content commit."""
    line = json.dumps({"gate": 12, "criterion": "security-sign-off", "signer": SAM,
                       "role": "security-officer", "at": "2026-01-05T10:00:00Z",
                       "note": "again"})
    with (root / "svc-a" / ".deploygate" / "attestations.jsonl").open("a") as handle:
        handle.write(line + "\n")
    commit(root, SAM, "svc-a: security-sign-off")


def test_an_honest_monorepo_with_its_configuration_at_the_root_passes_and_binds(
        monorepo: Path) -> None:
    (monorepo / "pytest.ini").write_text("[pytest]\ndeploygate_specs = gate_specs\n")
    commit(monorepo, DEV, "pytest: configuration")
    _sign_b_again(monorepo)
    done = _gate(monorepo, "--gate-project=svc-b")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    checked = _deploygate(monorepo, "verdict", "gate-records/svc-b/GATE-12.xml")
    assert checked.returncode == 0, checked.stderr


def _sign_b_again(root: Path) -> None:
    for criterion, signer, role in (("security-sign-off", SAM, "security-officer"),
                                    ("qa-sign-off", ANA, "qa-lead")):
        line = json.dumps({"gate": 12, "criterion": criterion, "signer": signer, "role": role,
                           "at": "2026-01-05T10:00:00Z", "note": "again"})
        with (root / "svc-b" / ".deploygate" / "attestations.jsonl").open("a") as handle:
            handle.write(line + "\n")
        commit(root, signer, f"svc-b: {criterion}")
