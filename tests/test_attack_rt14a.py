# ruff: noqa: F811  (the fixture comes from test_signoff_identity)
"""rt14a: attacks on the release binding's batched release trees (6549e9c) and on the removal
of a gate run's earlier records (56b97d1): a sign-off given on other release content, and a
run that stops before it decides, must never leave a PASS for the release being deployed.

Real git repositories, pytester end to end, the deploygate CLI as a deploy job runs it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from test_signoff_identity import (  # noqa: F401  (signed: the fixture, a real signed repo)
    DEV,
    LOG,
    SAM,
    append,
    cli,
    commit,
    sam_signs,
    signed,
)

from conftest import GateProject, custom_gate, parse_record

RECORD = "gate-records/GATE-12.xml"


def _passing_record(project: GateProject) -> None:
    """The baseline: gate 12 passes, its record binds to the release."""
    assert project.run("--gate=12").ret == 0
    assert cli(project.root, "verdict", RECORD).returncode == 0


def _no_pass_left(project: GateProject, record: str = RECORD) -> None:
    """No record of the gate says PASS: none at all, or a new one of another decision."""
    path = project.root / record
    if path.exists():
        assert cli(project.root, "verdict", record).returncode != 0
        assert parse_record(path).decision != "PASS"
        return
    for suffix in (".md", ".html", ".intoto.json"):
        assert not path.with_name(path.name.removesuffix(".xml") + suffix).exists()


# -- release trees: names git prints with a carriage return ----------------------------------

@pytest.mark.parametrize("signers", [1, 2])
def test_a_rename_between_carriage_return_and_line_feed_is_other_release_content(
        signed: GateProject, signers: int) -> None:
    """git ls-tree read as text turned every "\\r" of a name into "\\n": a file renamed from
    ``a\\nb`` to ``a\\rb`` (or a file added where another was) kept the release tree, so the
    sign-offs given on the other content bound this release (one sign-off commit through
    ls-tree, several through the cat-file batch, which does not translate: they disagreed)."""
    root = signed.root
    (root / "deploy\nhooks.sh").write_text("#!/bin/sh\necho reviewed\n")
    commit(root, DEV, "a deploy hook")
    for number in range(signers):
        append(root, LOG, sam_signs(note=f"reviewed the hook {number}"))
        commit(root, SAM, f"security sign-off {number}")
    assert signed.run("--gate=12").ret in (0, 1)
    assert signed.record().case("security-sign-off")["outcome"] == "passed"
    (root / "deploy\nhooks.sh").rename(root / "deploy\rhooks.sh")
    commit(root, DEV, "rename the hook")
    signed.run("--gate=12")
    found = signed.record().case("security-sign-off")
    assert found["outcome"] != "passed"
    assert "made on other release content" in found["message"]


# -- a run that stops before it decides --------------------------------------------------------

def test_gate_current_with_a_broken_state_leaves_no_pass(repo: GateProject) -> None:
    _passing_record(repo)
    repo.state_path.write_text("{ broken")
    result = repo.run("--gate=current")
    assert result.ret != 0
    _no_pass_left(repo)


def test_gate_current_with_no_current_phase_leaves_no_pass(repo: GateProject) -> None:
    _passing_record(repo)
    state = repo.state()
    state.pop("current_phase", None)
    state.get("active_workflow", {}).pop("current_phase", None)
    repo.set_state(state)
    result = repo.run("--gate=current")
    assert result.ret != 0
    _no_pass_left(repo)


def test_state_in_the_other_layout_leaves_no_pass(repo: GateProject) -> None:
    """state.json (bookkeeping) decides the layout: today's layout has no unambiguous phase
    12 to select, and the usage error kept gate 12's last PASS."""
    _passing_record(repo)
    state = repo.state()
    state["framework_version"] = "0.1.0"
    state["active_workflow"] = {"type": "feature", "current_phase": "16-upgrade-execute",
                                "phases": ["16-upgrade-execute"]}
    repo.set_state(state)
    result = repo.run("--gate=12")
    if result.ret in (0, 1):
        pytest.skip("the state did not change the layout")
    _no_pass_left(repo)


def test_a_monorepo_project_removed_from_the_projects_leaves_no_pass(
        repo: GateProject) -> None:
    root = repo.root
    state = repo.state()
    for pid in ("billing", "search"):
        path = root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
    repo.state_path.unlink()
    assert repo.run("--gate=12", "--gate-project=all").ret == 0
    record = "gate-records/billing/GATE-12.xml"
    assert cli(root, "verdict", record).returncode == 0
    shutil.rmtree(root / ".isdlc" / "projects" / "billing")
    result = repo.run("--gate=12", "--gate-project=billing")
    assert result.ret != 0
    _no_pass_left(repo, record)
    # (Another project's record is not this run's.)
    assert (root / "gate-records" / "search" / "GATE-12.xml").exists()
    # --gate-project=all with no project left at all: every project's folder.
    shutil.rmtree(root / ".isdlc" / "projects")
    assert repo.run("--gate=12", "--gate-project=all").ret != 0
    _no_pass_left(repo, "gate-records/search/GATE-12.xml")


def test_a_threshold_the_spec_does_not_define_leaves_no_pass(repo: GateProject) -> None:
    _passing_record(repo)
    result = repo.run("--gate=12", "--gate-threshold=no_such_threshold=1")
    assert result.ret != 0
    _no_pass_left(repo)


#: A plugin kind that notes, when it is evaluated, whether gate 12's earlier records are
#: still there (a CI timeout killing the run at that moment would leave them).
WITNESS = '''
from pathlib import Path
from pytest_deploygate import CheckKind, CheckResult, params_schema

def _look(params, ctx):
    records = sorted(p.name for p in (ctx.project.root / "gate-records").glob("GATE-12*"))
    (ctx.project.root / "seen.txt").write_text(" ".join(records))
    return CheckResult.met("looked")

def pytest_deploygate_check_kinds(config):
    return [CheckKind("witness", "notes the records", params_schema({}), _look)]
'''


def test_a_prerequisite_is_evaluated_after_the_earlier_records_are_gone(
        repo: GateProject) -> None:
    _passing_record(repo)
    spec = repo.root / "gate_specs" / "12-production.yaml"
    spec.parent.mkdir()
    text = (Path(__file__).parent.parent / "gate_specs" / "12-production.yaml").read_text()
    repo.pytester.makepyfile(witness=WITNESS)
    repo.pytester.syspathinsert()
    spec.write_text(text.replace("\nprerequisites:\n",
                                 "\nprerequisites:\n  - {id: witness, text: Witness, "
                                 "check: {kind: witness}}\n", 1))
    repo.run("--gate=12", "-p", "witness")
    assert (repo.root / "seen.txt").read_text() == ""


def test_a_check_kinds_hook_that_raises_leaves_no_pass(repo: GateProject) -> None:
    _passing_record(repo)
    repo.pytester.makepyfile(broken_kinds="def pytest_deploygate_check_kinds(config):\n"
                                          "    raise KeyError('kinds')\n")
    repo.pytester.syspathinsert()
    assert repo.run("--gate=12", "-p", "broken_kinds").ret != 0
    _no_pass_left(repo)


@pytest.mark.parametrize("addopts", ["--co", "--collect-only -q", "--markers", "--help", "-h",
                                     "--version", "--version --version", "--fixtures"])
def test_a_gate_command_that_only_lists_or_explains_leaves_no_pass(
        repo: GateProject, monkeypatch: pytest.MonkeyPatch, addopts: str) -> None:
    """PYTEST_ADDOPTS is the job's environment: --collect-only, --help, --markers, --version
    turned ``pytest --gate=12`` into a command that exits 0 without deciding, and the last
    run's PASS stayed for a deploy job (a sign-off withdrawn since: no new release)."""
    _passing_record(repo)
    (repo.root / "gate-records" / "GATE-12.intoto.json").write_text("{}")
    repo.drop_attestation("security-sign-off")
    repo.git("commit", "-qam", "the security sign-off is withdrawn")
    monkeypatch.setenv("PYTEST_ADDOPTS", addopts)
    repo.pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gate=12")
    _no_pass_left(repo)
    assert not (repo.root / "gate-records" / "GATE-12.intoto.json").exists()  # (unsigned)


def test_a_gate_with_an_id_of_its_own_leaves_no_pass_either(project: GateProject) -> None:
    """A spec whose id is no phase key (``12-deploy``) names its records after it: the
    records of a run stopped before it knew its gates are found by what they hold."""
    custom_gate(project)
    spec = project.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text().replace("id: GATE-12", "id: 12-deploy"))
    project.set_state({"current_phase": "12-production", "phases": {}})
    lookalike = project.root / "gate-records" / "01-create-users.xml"
    lookalike.parent.mkdir()
    lookalike.write_text("<databaseChangeLog/>\\n")
    assert project.run("--gate=current").ret == 0
    record = project.root / "gate-records" / "12-deploy.xml"
    assert parse_record(record).decision == "PASS"
    project.state_path.write_text("{ broken")
    assert project.run("--gate=current").ret != 0
    assert not record.exists() and not record.with_suffix(".md").exists()
    assert lookalike.exists()


def test_a_link_to_an_untracked_file_named_like_a_tracked_one_is_refused(
        repo: GateProject) -> None:
    """The links check read ``git ls-tree`` as text too: a tracked ``settings\\r.py`` listed
    as ``settings\\n.py``, so a link to the untracked ``settings\\n.py`` (any content, never
    committed) resolved to "tracked release content", and verdict bound the PASS."""
    src = repo.root / "src"
    src.mkdir(exist_ok=True)
    (src / "settings\r.py").write_text("DEBUG = False\n")
    (src / "config.py").symlink_to("settings\n.py")
    repo.git("add", "-A")
    repo.git("commit", "-qm", "settings behind a link")
    (src / "settings\n.py").write_text("DEBUG = True\nALLOWED_HOSTS = ['*']\n")
    repo.run("--gate=12")
    assert "symbolic link" in repo.record().properties.get("deploygate.release_problem", "")
    assert cli(repo.root, "verdict", RECORD).returncode != 0
