"""Red team: a gate judged on fewer criteria than its spec asks must never say PASS.

Each test drives the public surface (pytest with --gate, in the project's own test files and
on the command line; no conftest.py) and fails on the code before its fix.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GateProject, parse_record

MARKED = '''
import pytest

@pytest.mark.gate(12, {marker})
def test_answers_for_it():
    """{text}"""
'''


@pytest.mark.parametrize(("marker", "deselect", "taken"), [
    # A test under a spec criterion's id answered for it: the failing criterion deselected,
    # the gate said PASS.
    ('section="approval-requirements", id="security-sign-off"',
     "GATE-12::approval-requirements::security-sign-off", "security-sign-off"),
    # The record's own decision testcase: a passing one, read first, beside the real one.
    ('id="gate-decision"', "GATE-12::nothing", "gate-decision"),
])
def test_a_test_under_a_criterion_id_is_refused(example: GateProject, marker: str,
                                                deselect: str, taken: str) -> None:
    example.drop_attestation("security-sign-off")
    example.pytester.makepyfile(test_release=MARKED.format(marker=marker, text="Signed off"))
    result = example.run("--gate=12", f"--deselect={deselect}")
    assert result.ret != 0
    record = example.record()
    assert record.decision != "PASS"
    assert [c["outcome"] for c in record.cases if "][gate-decision]" in c["name"]] != ["passed"]
    assert len([c for c in record.cases if f"][{taken}]" in c["name"]]) == 1
    result.stdout.fnmatch_lines([f"*GATE-12 already has a criterion '{taken}'*"])


def test_a_post_stage_cannot_answer_its_binding_with_a_test(repo: GateProject) -> None:
    # Without a pre record the post stage's binding fails; a test under its id passed it,
    # and the post record said PASS for a release whose pre stage never ran.
    repo.pytester.makepyfile(test_release=MARKED.format(
        marker='id="pre-stage-record"', text="A PASS pre record of this release exists"))
    result = repo.run("--gate=12", "--gate-stage=post",
                      "--deselect=GATE-12::stage-binding::pre-stage-record")
    assert result.ret != 0
    assert repo.record("GATE-12-post").decision != "PASS"
    result.stdout.fnmatch_lines(["*GATE-12 already has a criterion 'pre-stage-record'*"])


@pytest.mark.parametrize("tests", [
    # Two tests under one id: the one deselected took the other's pass.
    '''
import pytest

@pytest.mark.gate(12, id="restore-drill")
def test_drill_passes():
    pass

@pytest.mark.gate(12, id="restore-drill")
def test_drill_fails():
    raise AssertionError("restore took 3 hours")
''',
    # A parametrized test with one id for every case.
    '''
import pytest

@pytest.mark.gate(12, id="restore-drill")
@pytest.mark.parametrize("region", ["eu", "us"])
def test_drill(region):
    assert region == "eu", "restore took 3 hours"
''',
])
def test_two_tests_under_one_id_are_refused(example: GateProject, tests: str) -> None:
    example.pytester.makepyfile(test_release=tests)
    result = example.run("--gate=12", "-k", "not fails and not us")
    assert result.ret != 0
    assert example.record().decision != "PASS"
    result.stdout.fnmatch_lines(["*GATE-12 already has a criterion 'restore-drill' "
                                 "(test_release.py::*'s)*"])


def test_tests_under_ids_of_their_own_still_join(example: GateProject) -> None:
    example.pytester.makepyfile(test_release='''
import pytest

@pytest.mark.gate(12, id="restore-drill")
def test_drill():
    pass

@pytest.mark.gate(12)
@pytest.mark.parametrize("region", ["eu", "us"])
def test_region(region):
    pass
''')
    result = example.run("--gate=12")
    assert result.ret == 0, result.stdout.str()
    record = example.record()
    assert record.decision == "PASS"
    for item_id in ("restore-drill", "test_release.py::test_region[eu]",
                    "test_release.py::test_region[us]"):
        [case] = [c for c in record.cases if f"][{item_id}] " in c["name"]]
        assert case["outcome"] == "passed"


def two_project_monorepo(example: GateProject) -> None:
    """svc-00 passes gate 12; svc-01 fails its pre stage ("all previous gates passed");
    both share the example's files, so they share one release (commit, tree, version)."""
    base = example.state()
    for pid in ("svc-00", "svc-01"):
        state = json.loads(json.dumps(base))
        state["project"]["name"] = pid
        if pid == "svc-01":
            earlier = next(key for key in state["phases"] if key.startswith("05"))
            state["phases"][earlier]["gate_passed"] = False
        path = example.root / ".isdlc" / "projects" / pid / "state.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(state))
    example.state_path.unlink()
    example.git_init()


def test_a_post_stage_binds_only_to_its_own_projects_pre_record(
        example: GateProject, tmp_path_factory: pytest.TempPathFactory) -> None:
    # svc-01's post stage took svc-00's PASS pre record and said PASS although svc-01's own
    # pre stage failed.
    two_project_monorepo(example)
    records = tmp_path_factory.mktemp("records")  # outside the release's tree
    run = ("--gate=12", f"--gate-record-dir={records}")
    assert example.run(*run, "--gate-project=svc-00", "--gate-stage=pre").ret == 0
    assert example.run(*run, "--gate-project=svc-01", "--gate-stage=pre").ret == 1
    result = example.run(*run, "--gate-project=svc-01", "--gate-stage=post",
                         f"--gate-pre-record={records / 'svc-00' / 'GATE-12-pre.xml'}")
    assert result.ret == 1
    post = parse_record(records / "svc-01" / "GATE-12-post.xml")
    assert post.decision == "FAIL"
    assert "it is a record of project 'svc-00', not 'svc-01'" in \
        post.case("pre-stage-record")["message"]
    # svc-00's own post stage still binds to it.
    assert example.run(*run, "--gate-project=svc-00", "--gate-stage=post").ret == 0


def test_verdict_refuses_another_projects_record(
        example: GateProject, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Unsigned, verdict read --project not at all: svc-00's PASS record, put where svc-01's
    # goes (or named with --project svc-01), was exit 0 for svc-01's deploy.
    two_project_monorepo(example)
    records = tmp_path_factory.mktemp("records")
    assert example.run("--gate=12", f"--gate-record-dir={records}", "--gate-project=svc-00",
                       "--gate-stage=pre").ret == 0
    own = records / "svc-00" / "GATE-12-pre.xml"
    copied = records / "svc-01" / "GATE-12-pre.xml"
    copied.parent.mkdir()
    shutil.copy(own, copied)

    def verdict(record: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest_deploygate", "--root",
                               str(example.root), "verdict", str(record), *args],
                              cwd=example.root, capture_output=True, text=True)

    assert verdict(own).returncode == 0  # the control: its own project's directory
    assert verdict(own, "--project", "svc-00").returncode == 0
    for record, args in ((copied, ()), (own, ("--project", "svc-01"))):
        result = verdict(record, *args)
        assert result.returncode == 4, result.stderr
        assert "it is a record of project 'svc-00', not 'svc-01'" in result.stderr
    outside = tmp_path_factory.mktemp("elsewhere") / "GATE-12-pre.xml"
    shutil.copy(own, outside)
    result = verdict(outside)
    assert result.returncode == 4
    assert "pass --project svc-00 if it is the one to deploy" in result.stderr


CHECKLIST = """# Gate-11 Checklist: Local Testing

## Required Checks

- [ ] Local environment documented
{stray}
- [ ] Smoke tests pass locally
"""


@pytest.mark.parametrize(("stray", "line"), [
    # Each reads as a criterion in the markdown a reviewer approves, and was imported as none.
    ("  [ ] Security scan clean", 6),  # a second line of the item above
    ("\nSee below.\n2. [ ] Security scan clean", 8),  # an ordered item cannot break a paragraph
    ("\n[ ] Security scan clean\n", 7),  # a paragraph
    ("\n| Check | Done |\n|---|---|\n| Security scan clean | [ ] |\n", 9),  # a table of checks
    ("\n<details>\n- [ ] Security scan clean\n</details>\n", 8),  # HTML, shown as it is
])
def test_a_checkbox_the_importer_cannot_place_is_refused(example: GateProject, stray: str,
                                                         line: int) -> None:
    checklists = example.root / ".isdlc" / "checklists"
    checklists.mkdir()
    checklist = checklists / "11-local-testing-gate.md"
    checklist.write_text(CHECKLIST.format(stray=stray))
    result = example.run_subprocess("--gate=11")
    assert result.ret != 0
    assert example.record("GATE-11").decision == "INCOMPLETE"
    assert f"11-local-testing-gate.md:{line}: a checkbox that is no list item of its own" in \
        result.stdout.str() + result.stderr.str()
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "import", str(checklist),
                           "-o", str(example.root / "out")], capture_output=True, text=True)
    assert done.returncode == 2
    assert f"11-local-testing-gate.md:{line}: a checkbox that is no list item" in done.stderr


def test_checkboxes_as_list_items_still_import(example: GateProject) -> None:
    checklist = example.root / "11-local-testing-gate.md"
    checklist.write_text(CHECKLIST.format(stray="- [x] Security scan clean\n  - [ ] Nested")
                         + "\n| Criteria | Status |\n|---|---|\n"
                         "| Checks passed | [ ] Pass / [ ] Fail |\n\n"
                         "**Gate Status**: [ ] PASS / [ ] FAIL\n\n```\n- [ ] an example\n```\n")
    done = subprocess.run([sys.executable, "-m", "pytest_deploygate", "import", str(checklist),
                           "-o", str(example.root / "out")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    spec = (example.root / "out" / "11-local-testing.yaml").read_text()
    for text in ("Local environment documented", "Security scan clean", "Nested",
                 "Smoke tests pass locally"):
        assert text in spec
    assert "an example" not in spec
