"""`deploygate verdict` remembers the spec it loaded (issue 15), and trusts nothing remembered
that it would not have derived itself now: an entry is named by the SHA-256 of the package
code, the spec and deploygate.yaml, lives in a folder only this user can write, and is made
only of a load that succeeded. Every run here is the real command on a real release (a git
repository of the bundled example, its record from a real gate run at a fixed clock)."""

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
#: Prints every module the command loaded by its end (``-X importtime`` misses what
#: ``importlib.import_module`` loads).
MODULES_AT_EXIT = """
import atexit, runpy, sys
atexit.register(lambda: print("MODULES", *sorted(sys.modules), file=sys.stderr))
sys.argv[0] = "deploygate"
runpy.run_module("pytest_deploygate", run_name="__main__")
"""
#: What loading and validating a spec takes: none of it is needed for a remembered one.
LOADING = {"yaml", "jsonschema", "pytest_deploygate.spec.loader",
           "pytest_deploygate.core.compiled_schemas", "pytest_deploygate.checks.junit_reports"}


class Verdict:
    def __init__(self, done: subprocess.CompletedProcess[str]) -> None:
        self.code = done.returncode
        self.stdout = done.stdout
        lines = done.stderr.splitlines()
        self.modules = set(next(line for line in lines if line.startswith("MODULES ")).split())
        self.stderr = "\n".join(line for line in lines if not line.startswith("MODULES "))


@pytest.fixture(scope="module")
def released(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example as a git repository of release 1.4.0 and its PASS record."""
    root = tmp_path_factory.mktemp("released") / "acme-api"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("gate-records"))
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@acme.example",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@acme.example"}
    for command in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                    ["git", "commit", "-q", "-m", "release 1.4.0"]):
        subprocess.run(command, cwd=root, check=True, env=env, capture_output=True)
    run = subprocess.run([sys.executable, "-m", "pytest", *INNER_ARGS, "-q", "--gate=12", NOW],
                         cwd=root, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    return root


@pytest.fixture
def project(released: Path, tmp_path: Path) -> Path:
    """A copy of the release of its own (the tests change it)."""
    root = tmp_path / "acme-api"
    shutil.copytree(released, root, symlinks=True)
    return root


@pytest.fixture
def machine_tmp(tmp_path: Path) -> Path:
    """This test's temp folder (so its private cache is its own), outside the checkout."""
    folder = tmp_path / "machine-tmp"
    folder.mkdir()
    return folder


def verdict(root: Path, machine_tmp: Path, *options: str) -> Verdict:
    """``deploygate [OPTIONS] verdict RECORD`` with this test's temp folder."""
    env = {**os.environ, "TMPDIR": str(machine_tmp)}
    return Verdict(subprocess.run([sys.executable, "-c", MODULES_AT_EXIT, *options, "verdict",
                                   RECORD, "--allow-replay"], cwd=root, env=env,
                                  capture_output=True, text=True))


def entries(machine_tmp: Path) -> list[Path]:
    return sorted((machine_tmp / f"pytest-deploygate-{os.getuid()}" / "verdict-inputs").iterdir())


def test_a_second_verdict_reads_its_spec_from_the_cache_and_decides_the_same(
        project: Path, machine_tmp: Path) -> None:
    first = verdict(project, machine_tmp)
    assert first.code == 0, first.stderr
    assert LOADING - {"jsonschema"} <= first.modules  # the spec was loaded and checked
    second = verdict(project, machine_tmp)
    assert (second.code, second.stdout) == (0, first.stdout)
    assert not LOADING & second.modules, LOADING & second.modules


def test_a_spec_changed_after_a_remembered_verdict_is_loaded_again(
        project: Path, machine_tmp: Path) -> None:
    assert verdict(project, machine_tmp).code == 0
    spec = project / "gate_specs" / "12-production.yaml"
    spec.parent.mkdir()
    builtin = (REPO / "gate_specs" / "12-production.yaml").read_text()
    spec.write_text(builtin)  # the same bytes as the project's own spec: the same verdict
    assert verdict(project, machine_tmp).code == 0
    spec.write_text(builtin + "# edited\n")
    changed = verdict(project, machine_tmp)
    assert changed.code == 4 and "it was made by a spec with sha256" in changed.stderr
    # An invalid spec is refused with its line, every time (a refusal is never remembered).
    spec.write_text(builtin.replace("check: {kind: prometheus_rules, min_rules: 1}",
                                    "check: {kind: prometheus_rules, min_rulez: 1}"))
    for _ in range(2):
        invalid = verdict(project, machine_tmp)
        assert invalid.code == 4
        assert "12-production.yaml:159: " in invalid.stderr and "min_rulez" in invalid.stderr
        assert "no spec to verify it against" in invalid.stderr


def test_a_deploygate_yaml_broken_after_a_remembered_verdict_is_refused_with_its_line(
        project: Path, machine_tmp: Path) -> None:
    assert verdict(project, machine_tmp).code == 0
    config = project / "deploygate.yaml"
    good = config.read_text()
    lines = len(good.splitlines())
    override = "alerting-configured: {kind: attestation, roles: [sre]}"
    assert override in good
    broken = {good + "bogus_key: 1\n": f"deploygate.yaml:{lines + 1}: bogus_key: unknown key",
              good + "waivers: {enabled: yes-please}\n": f"deploygate.yaml:{lines + 1}: ",
              good.replace(override, override.replace("roles", "rolez")):
                  "evidence.alerting-configured: attestation: Additional properties"}
    for text, message in broken.items():
        config.write_text(text)
        for _ in range(2):
            refused = verdict(project, machine_tmp)
            assert refused.code == 4, refused.stderr
            assert message in refused.stderr, refused.stderr
    config.write_text(good)
    again = verdict(project, machine_tmp)
    assert again.code == 0 and not LOADING & again.modules  # the first entry still holds


def test_a_cache_someone_else_could_write_is_not_read(project: Path, machine_tmp: Path) -> None:
    assert verdict(project, machine_tmp).code == 0
    found = entries(machine_tmp)
    assert found
    # What a forger would leave: a gate whose spec has no criteria at all.
    for entry in found:
        entry.write_text(entry.read_text().replace('"items": [', '"items": [], "x": ['))
    folder = found[0].parent
    folder.chmod(0o777)
    ignored = verdict(project, machine_tmp)
    assert ignored.code == 0 and "pytest_deploygate.spec.loader" in ignored.modules
    folder.chmod(0o700)
    for entry in found:
        entry.chmod(0o666)  # the file, not only its folder, must be this user's alone
    ignored = verdict(project, machine_tmp)
    assert ignored.code == 0 and "pytest_deploygate.spec.loader" in ignored.modules


def test_an_entry_that_is_not_what_verdict_writes_is_recomputed(
        project: Path, machine_tmp: Path) -> None:
    assert verdict(project, machine_tmp).code == 0
    for entry in entries(machine_tmp):
        entry.write_text('{"spec": "not a spec", "version": 1}')
    again = verdict(project, machine_tmp)
    assert again.code == 0 and "pytest_deploygate.spec.loader" in again.modules


def test_a_verdict_with_plugin_kinds_is_never_remembered(project: Path, machine_tmp: Path
                                                         ) -> None:
    (project / "extra_kinds.py").write_text(
        "def pytest_deploygate_check_kinds(config):\n    return []\n")
    for _ in range(2):
        done = verdict(project, machine_tmp, "--plugin", "extra_kinds")
        assert done.code == 0, done.stderr
        assert "pytest_deploygate.spec.loader" in done.modules


def test_the_code_digest_changes_with_any_byte_of_the_package(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from pytest_deploygate.core import code_digest

    package = tmp_path / "package"
    (package / "sub").mkdir(parents=True)
    (package / "a.py").write_text("A = 1\n")
    (package / "sub" / "b.json").write_text("{}\n")
    monkeypatch.setattr(code_digest, "_PACKAGE", str(package))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "machine-tmp"))
    (tmp_path / "machine-tmp").mkdir()

    def digest() -> str:
        code_digest.package_code_digest.cache_clear()
        return code_digest.package_code_digest()

    first = digest()
    assert digest() == first  # remembered under the files' metadata: the same answer
    before = (package / "a.py").stat()
    (package / "a.py").write_text("A = 2\n")  # same size, and the old modification time
    os.utime(package / "a.py", ns=(before.st_atime_ns, before.st_mtime_ns))
    changed = digest()
    assert changed != first
    (package / "sub" / "c.py").write_text("")
    assert digest() not in (first, changed)


@pytest.mark.parametrize("path", sorted((REPO / "gate_specs").rglob("*.yaml")),
                         ids=lambda path: str(path.relative_to(REPO / "gate_specs")))
def test_every_built_in_spec_comes_back_from_the_cache_exactly(path: Path) -> None:
    import json

    from pytest_deploygate.checks import build_registry, builtin_kinds
    from pytest_deploygate.evidence.config import load_config
    from pytest_deploygate.spec.loader import apply_overrides, load_spec
    from pytest_deploygate.spec.stored import from_data, to_data

    kinds = build_registry([builtin_kinds()])
    spec = load_spec(path, kinds)
    items = apply_overrides(spec, load_config(EXAMPLE), kinds) if spec.gate == 12 \
        else spec.items
    data = to_data(spec, items)
    assert data is not None
    assert from_data(json.loads(json.dumps(data))) == (spec, items)


def test_what_json_cannot_give_back_is_not_stored() -> None:
    from pytest_deploygate.checks import build_registry, builtin_kinds
    from pytest_deploygate.core.value_class import replace
    from pytest_deploygate.spec.loader import load_spec
    from pytest_deploygate.spec.model import Check
    from pytest_deploygate.spec.stored import to_data

    spec = load_spec(REPO / "gate_specs" / "12-production.yaml",
                     build_registry([builtin_kinds()]))
    for params in ({"kind": "x", 1: "int key"}, {"kind": "x", "v": (1, 2)},
                   {"kind": "x", "v": float("nan")}, {"kind": "x", "v": {b"bytes"}}):
        odd = replace(spec.items[0], check=Check("x", params))
        assert to_data(spec, (odd, *spec.items[1:])) is None


def test_a_deploygate_yaml_changed_during_a_verdict_is_not_remembered_for_its_new_bytes(
        project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # One run loads deploygate.yaml for its settings, the file changes, then the same run
    # derives the items: those came from the old bytes and must not be stored as the new's.
    import tempfile

    from pytest_deploygate.cli.verdict_inputs import gate_inputs, project_settings
    from pytest_deploygate.cli.workspace import Workspace

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "machine-tmp"))
    (tmp_path / "machine-tmp").mkdir()
    config = project / "deploygate.yaml"
    override = "alerting-configured: {kind: attestation, roles: [sre]}"
    assert override in config.read_text()

    def workspace() -> Workspace:
        return Workspace(project, project / "gate_specs", [])

    racing = workspace()
    project_settings(racing)
    config.write_text(config.read_text().replace(override, override.replace("sre", "qa-lead")))
    _, stale_items = gate_inputs(racing, "12")
    fresh = workspace()
    _, items = gate_inputs(fresh, "12")
    expected = fresh.items(fresh.load_gate(fresh.gate_path("12")))
    assert items == expected != stale_items
    assert dict(next(i for i in items if i.id == "alerting-configured").check.params)[
        "roles"] == ["qa-lead"]
