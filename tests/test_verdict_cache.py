"""`deploygate verdict` reads the spec and deploygate.yaml afresh every time: a change is seen
at once, a refusal is made every time, nothing is left in the private cache (an entry there
was forged by the red team: see cli/verdict.py). Every run here is the real command on
a real release (a git repository of the bundled example, its record from a real gate run at a
fixed clock)."""

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
    """What verdict left in this test's private cache folder (nothing, since it remembers
    nothing: see cli/verdict.py)."""
    folder = machine_tmp / f"pytest-deploygate-{os.getuid()}" / "verdict-inputs"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def test_a_spec_changed_after_a_verdict_is_loaded_again(
        project: Path, machine_tmp: Path) -> None:
    assert verdict(project, machine_tmp).code == 0
    # A spec folder of the machine's (--specs), outside the checkout: one in the project
    # whose spec file no commit holds makes the release dirty (rt13a), whatever its bytes.
    spec = machine_tmp.parent / "specs" / "12-production.yaml"
    spec.parent.mkdir()
    builtin = (REPO / "gate_specs" / "12-production.yaml").read_text()
    spec.write_text(builtin)  # the same bytes as the project's own spec: the same verdict
    specs = ("--specs", str(spec.parent))
    assert verdict(project, machine_tmp, *specs).code == 0
    spec.write_text(builtin + "# edited\n")
    changed = verdict(project, machine_tmp, *specs)
    assert changed.code == 4 and "it was made by a spec with sha256" in changed.stderr
    # An invalid spec is refused with its line, every time (a refusal is never remembered).
    spec.write_text(builtin.replace("check: {kind: prometheus_rules, min_rules: 1}",
                                    "check: {kind: prometheus_rules, min_rulez: 1}"))
    for _ in range(2):
        invalid = verdict(project, machine_tmp, *specs)
        assert invalid.code == 4
        assert "12-production.yaml:159: " in invalid.stderr and "min_rulez" in invalid.stderr
        assert "no spec to verify it against" in invalid.stderr


def test_a_deploygate_yaml_broken_after_a_verdict_is_refused_with_its_line(
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
    assert again.code == 0 and entries(machine_tmp) == []  # nothing is remembered


