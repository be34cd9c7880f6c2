"""Today's iSDLC framework (21-phase layout): a gate is its phase key.

Projects here are what today's framework makes: state.json from its own installer template
(generateState, run under Node) with an active workflow as its workflow-init writes it, and the
framework's 17 checklists in .isdlc/checklists/ as its installer copies them.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from test_importer import independent_count

from conftest import (
    NOW,
    TODAY_CHECKLISTS,
    GateProject,
    install_checklists,
    parse_record,
    today_state,
)

CURRENT_KEYS = (
    "00-quick-scan", "01-requirements", "02-impact-analysis", "02-tracing",
    "03-architecture", "04-design", "05-test-strategy", "06-implementation", "07-testing",
    "08-code-review", "09-validation", "10-cicd", "11-local-testing", "12-remote-build",
    "12-test-deploy", "13-production", "14-operations", "15-upgrade-plan",
    "15-upgrade-execute", "15-upgrade", "16-quality-loop",
)
# Checklist file -> phase key, as the framework's alias table says (and 16-upgrade: upgrade).
CHECKLIST_OF = {
    "12-test-deploy": "13-test-deploy-gate.md", "13-production": "14-production-gate.md",
    "14-operations": "15-operations-gate.md", "15-upgrade": "16-upgrade-gate.md",
}
WITHOUT_CHECKLIST = ("12-remote-build", "15-upgrade-plan", "15-upgrade-execute",
                     "16-quality-loop")


def checklist_for(key: str) -> Path:
    return TODAY_CHECKLISTS / CHECKLIST_OF.get(key, f"{key}-gate.md")


@pytest.fixture
def today(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    """A project of today's framework at 06-implementation of a build workflow."""
    project.set_state(today_state(template_state, "06-implementation", phases=[
        "05-test-strategy", "06-implementation", "16-quality-loop", "08-code-review"]))
    install_checklists(project)
    return project


def phase_title(checklist: Path) -> str:
    """The checklist's own "**Phase**:" line, read without the importer."""
    match = re.search(r"^\*\*Phase\*\*:\s*(.+)$", checklist.read_text(), re.M)
    assert match
    return match.group(1).strip()


@pytest.mark.parametrize("key", CURRENT_KEYS)
def test_current_runs_the_gate_of_every_phase(today: GateProject, template_state: dict,
                                              key: str) -> None:
    today.set_state(today_state(template_state, key))
    result = today.run("--gate=current", NOW)
    assert f"deploygate: {key} from " in result.stdout.str()
    record = parse_record(today.root / "gate-records" / f"{key}.xml")
    assert record.properties["deploygate.gate"] == key
    assert record.cases[0]["name"].startswith(f"[{key}][")
    source = record.properties["deploygate.spec_source"]
    if key in WITHOUT_CHECKLIST:
        assert source == f"builtin:21-phase/{key}.yaml"
    else:
        checklist = checklist_for(key)
        assert source.endswith(f"/.isdlc/checklists/{checklist.name}")
        assert record.properties["deploygate.title"] == phase_title(checklist)
    # Only this phase's record: no other gate ran.
    assert [p.name for p in (today.root / "gate-records").glob("*.xml")] == [f"{key}.xml"]


def test_item_count_of_each_imported_checklist(today: GateProject) -> None:
    result = today.run("--gate=all", "--collect-only", "-q")
    collected = [line for line in result.stdout.lines if "::" in line]
    assert len(set(collected)) == len(collected)
    for key in CURRENT_KEYS:
        mine = [line for line in collected if line.startswith(f"{key}::")]
        if key in WITHOUT_CHECKLIST:
            assert mine, key  # a built-in gate: no checklist to count against
            continue
        checkboxes, artifacts, prerequisites, _ = independent_count(
            checklist_for(key).read_text())
        assert len(mine) == checkboxes + artifacts + prerequisites, key


def test_production_is_13_production_by_key_alias_and_number(today: GateProject) -> None:
    for asked in ("13-production", "14-production", "13", "GATE-13"):
        result = today.run(f"--gate={asked}", "--collect-only", "-q")
        assert "13-production::approval-requirements::all-previous-gates-passed" in (
            result.stdout.str()), asked
    today.run("--gate=13-production", NOW)
    record = today.record("13-production")
    assert record.properties["deploygate.title"] == "Production Deployment"
    assert record.properties["deploygate.spec_source"].endswith("14-production-gate.md")
    assert record.properties["deploygate.expected_criteria"] == "68"


@pytest.mark.parametrize("asked,keys", [
    ("2", "02-impact-analysis, 02-tracing"), ("12", "12-remote-build, 12-test-deploy"),
    ("GATE-15", "15-upgrade-plan, 15-upgrade-execute, 15-upgrade")])
def test_ambiguous_number_is_a_usage_error_writing_no_record(today: GateProject, asked: str,
                                                              keys: str) -> None:
    result = today.run_subprocess(f"--gate={asked}", NOW)
    assert result.ret == 4
    result.stderr.fnmatch_lines([f"*{asked!r} is ambiguous in the 21-phase layout: {keys};*"])
    assert not (today.root / "gate-records").exists()


def test_unknown_gate_lists_the_keys_and_writes_no_record(today: GateProject) -> None:
    result = today.run_subprocess("--gate=12-production", NOW)
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*no gate for '12-production'*phase keys with a gate: "
                                 "00-quick-scan, 01-requirements, *16-quality-loop*"])
    assert not (today.root / "gate-records").exists()


def test_the_two_02_gates_have_their_own_records_and_node_ids(today: GateProject) -> None:
    result = today.run("--gate=02-impact-analysis,02-tracing", "--collect-only", "-q")
    ids = [line for line in result.stdout.lines if "::" in line]
    assert any(i.startswith("02-impact-analysis::") for i in ids)
    assert any(i.startswith("02-tracing::") for i in ids)
    today.run("--gate=02-impact-analysis,02-tracing", NOW)
    assert today.record("02-impact-analysis").properties["deploygate.title"].startswith(
        "Impact Analysis")
    assert today.record("02-tracing").properties["deploygate.title"].startswith("Bug Tracing")


def test_current_reads_the_active_workflow_first(today: GateProject,
                                                 template_state: dict) -> None:
    state = today_state(template_state, "16-quality-loop")
    assert state["current_phase"] == "01-requirements"  # the installer's top-level field
    today.set_state(state)
    today.run("--gate=current", "--collect-only", "-q").stdout.fnmatch_lines(
        ["16-quality-loop::*"])
    state["active_workflow"] = None  # no workflow: the top-level field decides
    today.set_state(state)
    today.run("--gate=current", "--collect-only", "-q").stdout.fnmatch_lines(
        ["01-requirements::*"])
    state["active_workflow"] = {"current_phase": "14-production", "phases": []}  # an alias
    today.set_state(state)
    today.run("--gate=current", "--collect-only", "-q").stdout.fnmatch_lines(
        ["13-production::*"])


def test_user_spec_over_checklist_over_builtin(today: GateProject) -> None:
    checklists = today.root / ".isdlc" / "checklists"
    result = today.run("--gate=13-production", "--collect-only")
    assert "deploygate: 13-production from project checklist .isdlc/checklists/" \
           "14-production-gate.md" in result.stdout.str()
    (checklists / "14-production-gate.md").unlink()
    result = today.run("--gate=13-production", "--collect-only")
    assert "deploygate: 13-production from built-in 13-production.yaml" in result.stdout.str()
    spec_dir = today.root / "gate_specs"
    spec_dir.mkdir()
    (spec_dir / "13-production.yaml").write_text(
        "spec_version: 1\ngate: 13\nid: 13-production\ntitle: Our production gate\n"
        "phase: 13-production\ndecision: [{id: ok, title: OK}]\nsections:\n- id: s\n"
        "  title: S\n  stage: pre\n  criteria:\n"
        "  - {id: up, text: Up, check: {kind: state, path: phases}}\n")
    shutil.copy(TODAY_CHECKLISTS / "14-production-gate.md", checklists)
    result = today.run("--gate=13-production", NOW)
    assert "deploygate: 13-production from user spec" in result.stdout.str()
    assert today.record("13-production").properties["deploygate.title"] == "Our production gate"


def test_header_names_the_layout(today: GateProject) -> None:
    today.run("--gate=current", "--collect-only").stdout.fnmatch_lines([
        "deploygate: iSDLC 21-phase layout (state.json has active_workflow)"])


def test_older_layout_keeps_gate_numbers(example: GateProject) -> None:
    result = example.run("--gate=12", "--collect-only")
    result.stdout.fnmatch_lines(["deploygate: iSDLC 13-phase layout (state.json names phase *)",
                                 "deploygate: GATE-12 from built-in 12-production.yaml",
                                 "*<GateCollector GATE-12>*"])


def test_layout_from_checklists_when_state_is_silent(project: GateProject) -> None:
    project.set_state({"phases": {}, "current_phase": "13-production"})
    install_checklists(project)
    project.run("--gate=current", "--collect-only").stdout.fnmatch_lines([
        "deploygate: iSDLC 21-phase layout (state.json names phase 13-production)",
        "*<GateCollector 13-production>*"])
    project.set_state({"phases": {}})
    project.run("--gate=13", "--collect-only").stdout.fnmatch_lines([
        "deploygate: iSDLC 21-phase layout (project checklist 00-quick-scan-gate.md)",
        "*<GateCollector 13-production>*"])
