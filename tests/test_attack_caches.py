"""Red-team attacks on the caches a gate run trusts (issue 15's speed-ups and what they keep
between runs): a cache the repository or another user can write must never decide a gate."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import pytest

from pytest_deploygate.core.documents import read_yaml_document
from pytest_deploygate.spec.loader import _valid_mark

from conftest import NOW, GateProject, custom_gate, install_checklists, today_state

#: pytest's own cache stays on: it lives inside the checkout, which a pull request can fill.
WITH_CACHE = ("-p", "no:hypothesispytest", "-p", "no:benchmark")

#: A spec of one criterion that any state.json meets: what an attacker wants the gate to run.
LENIENT = ("spec_version: 1\ngate: 13\nid: 13-production\ntitle: Production\n"
           "phase: 13-production\ndecision: [{id: ok, title: OK}]\nsections:\n- id: s\n"
           "  title: S\n  stage: pre\n  criteria:\n"
           "  - {id: up, text: Up, check: {kind: state, path: phases}}\n")


@pytest.fixture
def checklist_project(project: GateProject, template_state: dict[str, Any]) -> GateProject:
    """Today's layout at 13-production, gated by the project's own (reviewed) checklist."""
    project.set_state(today_state(template_state, "13-production"))
    install_checklists(project)
    return project


def decision(project: GateProject) -> str:
    return project.record("13-production").properties["deploygate.decision"]


def test_an_imported_checklist_planted_in_the_checkout_is_not_the_gate(
        checklist_project: GateProject) -> None:
    # What the reviewed checklist decides: this project has no evidence, so not PASS.
    checklist_project.pytester.runpytest(*WITH_CACHE, "--gate=13-production", NOW)
    honest = decision(checklist_project)
    assert honest != "PASS"
    # A pull request commits files under .pytest_cache (the import's name is a hash of the
    # public checklist and importer, so it can be computed offline): here, every cached file.
    planted = [path for path in checklist_project.root.joinpath(".pytest_cache").rglob("*")
               if path.is_file() and path.suffix == ".yaml"]
    for path in planted:
        path.write_text(LENIENT)
    result = checklist_project.pytester.runpytest(*WITH_CACHE, "--gate=13-production", NOW)
    assert "from project checklist" in result.stdout.str()
    assert decision(checklist_project) == honest


def test_a_planted_import_in_a_shared_temp_folder_is_not_the_gate(
        checklist_project: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    # The hardened invocation turns pytest's cache off, so imports went to the predictable
    # <tmp>/pytest-deploygate-<uid>: another user can create it first and fill it.
    tmp = checklist_project.root / "machine-tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    checklist_project.run("--gate=13-production", NOW)
    honest = decision(checklist_project)
    assert honest != "PASS"
    shared = tmp / f"pytest-deploygate-{os.getuid()}"
    planted = sorted(shared.glob("*.yaml"))
    assert planted, "the run remembered its import in the per-user folder"
    shared.chmod(0o777)  # a folder others may write (as one created by another user)
    for path in planted:
        path.write_text(LENIENT)
    result = checklist_project.run("--gate=13-production", NOW)
    assert "from project checklist" in result.stdout.str()
    assert decision(checklist_project) == honest


def test_a_schema_mark_planted_in_the_checkout_does_not_skip_the_schema(
        example: GateProject) -> None:
    custom_gate(example)
    spec = example.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text() + "bogus_key: 1\n")  # a schema error the builder ignores
    # The mark a pull request would commit where pytest's cache (then the marks) lived.
    in_checkout = example.root / ".pytest_cache" / "d" / "deploygate"
    planted = _valid_mark(read_yaml_document(spec), in_checkout)
    assert planted is not None
    planted.touch()
    example.pytester.runpytest(*WITH_CACHE, "--gate=12").stdout.fnmatch_lines(
        ["*unknown key 'bogus_key'*"])


def test_a_spec_rewritten_with_its_old_mtime_is_read_again_in_the_same_process(
        example: GateProject) -> None:
    # pytester inline runs, an IDE: the process remembers parsed specs. A spec changed in
    # place (git checkout, an editor, os.utime) can keep its modification time.
    custom_gate(example)
    spec = example.root / "gate_specs" / "12-production.yaml"
    example.run("--gate=12", NOW)
    assert example.record().properties["deploygate.decision"] == "PASS"
    before = spec.stat()
    custom_gate(example, "- {id: placeholder, text: Placeholder, check: {kind: state, path: "
                         "phases}}\n- {id: deployed, text: Deployed, check: {kind: state, "
                         "path: nowhere.to.be.found}}")
    os.utime(spec, ns=(before.st_atime_ns, before.st_mtime_ns))
    example.run("--gate=12", NOW)
    assert example.record().properties["deploygate.decision"] != "PASS"


def test_a_raised_size_limit_does_not_outlive_its_run(example: GateProject) -> None:
    # Run 1 raises the document limit for a big deploygate.yaml; run 2, in the same process
    # and without the setting, must apply the default again (and not reuse run 1's reading).
    config = example.root / "deploygate.yaml"
    config.write_text(config.read_text() + "#" + "x" * (2 * 1024 * 1024) + "\n")
    example.run("--gate=12", NOW, "-o", "deploygate_max_spec_size=16777216").assert_outcomes(
        passed=66, skipped=2)
    refused = example.run("--gate=12", NOW)
    assert "over the 2097152 byte limit" in refused.stdout.str() + refused.stderr.str()


def test_a_temp_folder_inside_a_checkout_is_never_trusted(
        checklist_project: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    # CI often sets TMPDIR inside the build's checkout: a commit can then hold
    # tmp/pytest-deploygate-<uid>/ with a "cached" import, created by git as this user's own.
    machine_tmp = checklist_project.root.parent / "machine-tmp"
    machine_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(machine_tmp))
    checklist_project.run("--gate=13-production", NOW)
    honest = decision(checklist_project)
    assert honest != "PASS"
    folder = f"pytest-deploygate-{os.getuid()}"
    committed = checklist_project.root / "tmp" / folder
    committed.mkdir(parents=True, mode=0o755)
    for made in (machine_tmp / folder).glob("*.yaml"):  # the names a commit would use
        (committed / made.name).write_text(LENIENT)
    checklist_project.git_init()
    monkeypatch.setattr(tempfile, "tempdir", str(committed.parent))
    checklist_project.run("--gate=13-production", NOW)
    assert decision(checklist_project) == honest


def test_a_mark_made_by_validators_since_fixed_does_not_skip_the_schema(
        example: GateProject, monkeypatch: pytest.MonkeyPatch) -> None:
    # A spec the validators of an earlier build accepted wrongly (a fail-open since fixed)
    # left its mark. The fixed code must judge the spec again, even when the package version
    # did not change (an editable install, two checkouts sharing this user's cache).
    from pytest_deploygate.core import schema_check
    from pytest_deploygate.core.private_cache import private_cache_dir

    custom_gate(example)
    spec = example.root / "gate_specs" / "12-production.yaml"
    spec.write_text(spec.read_text() + "bogus_key: 1\n")  # a schema error the builder ignores
    real_code = schema_check.validator_code_digest()
    with monkeypatch.context() as patched:
        patched.setattr(schema_check, "validator_code_digest", lambda: "the code before a fix")
        stale = _valid_mark(read_yaml_document(spec), private_cache_dir())
    current = _valid_mark(read_yaml_document(spec), private_cache_dir())
    assert stale is not None and current is not None and current != stale
    assert schema_check.validator_code_digest() == real_code
    try:
        stale.touch()
        example.run("--gate=12").stdout.fnmatch_lines(["*unknown key 'bogus_key'*"])
        # A mark made by this very code is still honoured (the marks work at all).
        current.touch()
        assert "unknown key 'bogus_key'" not in example.run("--gate=12").stdout.str()
    finally:
        current.unlink(missing_ok=True)
        stale.unlink(missing_ok=True)
