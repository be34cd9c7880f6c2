"""The checklist importer on every real checklist, direct collection, gate identity, and
property-based tests on generated and mutated checklists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import REPO, GateProject

CHECKLISTS = sorted((REPO.parent / "shared" / "isdlc" / "checklists").glob("*-gate.md"))
CHECKBOX = re.compile(r"^\s*[-*+] \[[ xX]\] ")


def independent_count(text: str) -> tuple[int, int, int, list[str]]:
    """Checkbox list items, artifact rows, prerequisite rows and Gate Decision rows, counted
    by plain line scanning (a second opinion on the parser)."""
    lines = text.splitlines()
    in_fence = False
    checkboxes = 0
    tables: dict[str, list[str]] = {"artifact": [], "prerequisite": [], "criteria": []}
    current = None
    for line in lines:
        if line.startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            continue
        if CHECKBOX.match(line):
            checkboxes += 1
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            head = cells[0].lower().rstrip("s")
            if head in tables:
                current = head
            elif set(line.strip()) <= set("|-: "):
                continue
            elif current:
                tables[current].append(cells[0].replace("**", ""))
        elif line.strip():
            current = None  # any text ends a table; blank lines do not (orphan rows count)
    return (checkboxes, len(tables["artifact"]), len(tables["prerequisite"]),
            tables["criteria"])


def run_import(tmp_path: Path, *files: Path, extra: tuple[str, ...] = ()
               ) -> subprocess.CompletedProcess:
    return subprocess.run(["deploygate", "import", *map(str, files), "-o", str(tmp_path),
                           *extra], capture_output=True, text=True)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory, shared_checklists: list[Path]) -> Path:
    out = tmp_path_factory.mktemp("imported")
    done = run_import(out, *shared_checklists)
    assert done.returncode == 0, done.stderr
    return out


# Without ../shared one placeholder case stands for them all, so that the `imported` fixture
# skips it with a reason (and fails it in CI) instead of an empty parameter set passing quietly.
@pytest.mark.parametrize("checklist", CHECKLISTS or [pytest.param(None, id="no-checklists")],
                         ids=lambda p: p.name)
def test_each_checklist_imports_completely(imported: Path, checklist: Path) -> None:
    from pytest_deploygate.checks import build_registry, builtin_kinds
    from pytest_deploygate.spec.loader import load_spec

    slug = checklist.name.removesuffix("-gate.md")
    spec_path = imported / f"{slug}.yaml"
    spec = load_spec(spec_path, build_registry([builtin_kinds()]))  # schema and rules
    checkboxes, artifact_rows, prerequisite_rows, decision_rows = independent_count(
        checklist.read_text())
    assert len(spec.items) == checkboxes + artifact_rows + prerequisite_rows
    assert [r.title for r in spec.decision_rows] == decision_rows
    ids = [i.id for i in spec.items]
    assert len(ids) == len(set(ids))
    raw = yaml.safe_load(spec_path.read_text())
    lines = checklist.read_text().splitlines()
    for section in raw["sections"]:
        for criterion in section["criteria"]:
            assert CHECKBOX.match(lines[criterion["source_line"] - 1])


def test_gate_12_import_matches_the_checklist(imported: Path) -> None:
    raw = yaml.safe_load((imported / "12-production.yaml").read_text())
    assert [p["check"]["kind"] for p in raw["prerequisites"]] == [
        "gate_passed", "gate_passed", "state", "state"]
    assert raw["prerequisites"][2]["check"]["in"] == ["aws", "gcp", "azure"]
    assert len(raw["rollback"]["triggers"]) == 6
    assert raw["rollback"]["decision"] == "no-rollback-triggered"
    assert raw["thresholds"]["error_rate_pct"] == 5
    assert raw["thresholds"]["response_time_p99_ms"] is None
    rows = {s["id"]: s.get("decision") for s in raw["sections"]}
    assert rows["approval-requirements"] == "approvals-obtained"
    assert rows["readiness-verification"] == "pre-deployment-checks-passed"
    assert rows["deployment-execution"] == "deployment-successful"
    assert rows["stakeholder-communication"] is None and rows["hypercare-period"] is None
    assert {s["stage"] for s in raw["sections"][:5]} == {"pre"}
    constitution = raw["sections"][-1]
    assert constitution["waivable"] is False and constitution["stage"] == "post"
    assert [c["check"]["criterion"] for c in constitution["criteria"]] == [
        "performed", "articles", "iterations_logged", "violations_addressed",
        "status_compliant", "within_limit", "escalation_documented"]
    change = raw["sections"][0]["criteria"][4]
    assert change["when"] == {"kind": "condition", "name": "change_management_approval_required"}


def test_irregular_checklists(imported: Path) -> None:
    code_review = yaml.safe_load((imported / "07-code-review.yaml").read_text())
    subsections = [s["id"] for s in code_review["sections"]]
    assert "code-quality-checklist-logic-and-correctness" in subsections  # H4 under H3
    assert code_review["artifacts"][0]["check"] == {"kind": "attestation"}  # no path cell
    testing = yaml.safe_load((imported / "06-testing.yaml").read_text())
    assert any("rule-1-mutation" in s["id"] for s in testing["sections"])
    assert testing["thresholds"]["mutation_score_pct"] == 80
    local = yaml.safe_load((imported / "10-local-testing.yaml").read_text())
    assert local["decision"][-1]["title"] == "Local verification signoff complete"
    browsers = next(s for s in local["sections"] if s["id"] == "cross-browser-testing")
    assert browsers["when"] == {"kind": "condition", "name": "cross_browser_testing_applicable"}
    bugs = next(a for a in local["artifacts"] if a["id"] == "bug-reports")
    assert bugs["required"] is False and bugs["path"] == "bugs/"
    design = yaml.safe_load((imported / "03-design.yaml").read_text())
    assert design["artifacts"][0]["path"] == ["interface-spec.yaml", "openapi.yaml"]
    cicd = yaml.safe_load((imported / "09-cicd.yaml").read_text())
    iac = next(a for a in cicd["artifacts"] if a["id"] == "infrastructure-as-code")
    assert iac["required"]["path"] == "cloud_configuration.provider"
    operations = yaml.safe_load((imported / "13-operations.yaml").read_text())
    assert any(s["id"] == "team-readiness" for s in operations["sections"])
    numbers = [s.get("number") for s in operations["sections"] if s.get("number")]
    assert numbers == sorted(numbers) and numbers[-1] == 11


def test_import_is_a_pure_function_of_the_file(imported: Path, tmp_path: Path) -> None:
    again = run_import(tmp_path, *CHECKLISTS)
    assert again.returncode == 0
    for spec in imported.glob("*.yaml"):
        assert (tmp_path / spec.name).read_bytes() == spec.read_bytes()


def test_check_reports_no_drift_for_curated_builtins(shared_checklists: list[Path]) -> None:
    curated = [c for c in shared_checklists if not c.name.startswith("12-")]
    done = run_import(REPO / "gate_specs", *curated, extra=("--check",))
    assert done.returncode == 0, done.stderr
    assert "0 difference(s)" in done.stdout


def test_check_reports_drift(tmp_path: Path, shared_checklists: list[Path]) -> None:
    source = tmp_path / "05-implementation-gate.md"
    text = next(c for c in shared_checklists if c.name.startswith("05-")).read_text()
    source.write_text(text.replace("- [ ] All unit tests passing\n",
                                   "- [ ] All unit tests passing on CI\n"))
    done = run_import(REPO / "gate_specs", source, extra=("--check",))
    assert done.returncode == 1
    assert "05-implementation-gate.md:38: 'all-unit-tests-passing-on-ci'" in done.stderr
    assert "'all-unit-tests-passing' is not in the checklist" in done.stderr


def test_bad_checklist_is_one_clear_line(tmp_path: Path) -> None:
    bad = tmp_path / "notes.md"
    bad.write_text("# notes\n")
    done = run_import(tmp_path, bad)
    assert done.returncode == 2
    assert "notes.md:1: file name must look like NN-name-gate.md" in done.stderr
    empty = tmp_path / "04-empty-gate.md"
    empty.write_text("# Phase 4\n\nNothing here.\n")
    done = run_import(tmp_path, empty)
    assert done.returncode == 2 and "04-empty-gate.md:1: no checkbox criteria" in done.stderr


# -- direct collection and gate identity --------------------------------------------------------

def test_project_checklist_is_collected_directly(example: GateProject,
                                                 shared_checklists: list[Path]) -> None:
    checklists = example.root / ".isdlc" / "checklists"
    checklists.mkdir()
    local = next(c for c in shared_checklists if c.name.startswith("10-")).read_text()
    # A newer framework layout: gate 11 is local testing.
    (checklists / "11-local-testing-gate.md").write_text(local.replace("Phase 10", "Phase 11"))
    result = example.run("--gate=11", "--collect-only", "-q")
    assert "GATE-11::local-environment::local-environment-setup-documented" in (
        result.stdout.str())
    example.run("--gate=11")
    record = example.record("GATE-11")
    assert record.properties["deploygate.spec_source"].startswith("checklist:")
    assert record.properties["deploygate.expected_criteria"] == "55"
    shown = subprocess.run(["deploygate", "show", "11"], cwd=example.root, capture_output=True,
                           text=True)
    assert "11-local-testing-gate" in shown.stdout


def test_number_shared_by_two_gates_is_ambiguous(example: GateProject) -> None:
    specs = example.root / "gate_specs"
    specs.mkdir()
    for slug in ("02-architecture", "02-tracing"):
        shutil.copy(REPO / "gate_specs" / "02-architecture.yaml", specs / f"{slug}.yaml")
        text = (specs / f"{slug}.yaml").read_text().replace("slug: 02-architecture",
                                                            f"slug: {slug}")
        (specs / f"{slug}.yaml").write_text(text)
    result = example.run_subprocess("--gate=2")
    assert result.ret == 4
    result.stderr.fnmatch_lines(["*gate 2 is ambiguous: 02-architecture (user:*), 02-tracing "
                                 "(user:*); select one by its slug*"])
    result = example.run("--gate=02-tracing", "--collect-only", "-q")
    assert result.ret == 0


def test_gate_10_branches_on_the_cloud_provider(project: GateProject) -> None:
    state = {"cloud_configuration": {"provider": "none"}, "phases": {
        "10-local-testing": {"status": "in_progress", "constitutional_validation": {}}}}
    project.set_state(state)
    spec_dir = project.root / "gate_specs"
    spec_dir.mkdir()
    text = (REPO / "gate_specs" / "10-local-testing.yaml").read_text()
    body = text[text.index("decision:"):]
    (spec_dir / "10-local-testing.yaml").write_text(
        text[:text.index("decision:")].split("thresholds:")[0]
        + "decision: [{id: ok, title: OK}]\nsections:\n- id: s\n  title: S\n  stage: pre\n"
          "  criteria:\n  - {id: up, text: Up, check: {kind: state, path: phases}}\n")
    assert body  # the built-in gate 10 carries its branches ahead of its decision rows
    project.run("--gate=10")
    record = project.record("GATE-10")
    assert record.properties["deploygate.next"].startswith("Workflow complete: local-only")
    state["cloud_configuration"]["provider"] = "gcp"
    project.set_state(state)
    project.run("--gate=10")
    assert project.record("GATE-10").properties["deploygate.next"] == (
        "Advance to Phase 11: Test Environment Deployment (deployment-engineer-staging)")
