"""The built wheel, installed in a fresh virtual environment, runs gate 12 on the example."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLE, REPO


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("hatchling", reason="the test extra installs hatchling")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(out), str(REPO)], check=True, capture_output=True)
    (built,) = out.glob("pytest_deploygate-*.whl")
    return built


def test_wheel_ships_specs_schemas_and_entry_point(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "pytest_deploygate/gate_specs/12-production.yaml" in names
    for schema in ("gate-spec", "project-config", "attestation", "approvers"):
        assert f"pytest_deploygate/schemas/{schema}.schema.json" in names
    entry_points = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "[pytest11]\ndeploygate = pytest_deploygate.plugin" in text
    metadata = zipfile.ZipFile(wheel).read(
        next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Classifier: Framework :: Pytest" in metadata


def test_installed_wheel_runs_the_gate(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # System site-packages provide pytest, pyyaml and jsonschema without a download; the
    # wheel installed into the venv shadows the repository's editable install.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                    str(wheel)], check=True, capture_output=True)
    where = subprocess.run(
        [str(python), "-c", "import pytest_deploygate.spec_library as s; "
                            "print(s.builtin_spec_dir())"],
        check=True, capture_output=True, text=True, cwd=tmp_path).stdout.strip()
    assert where.startswith(str(venv)), where
    project = tmp_path / "acme-api"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("gate-records"))
    result = subprocess.run([str(python), "-m", "pytest", "--gate=12", "-p", "no:cacheprovider",
                             "-p", "no:hypothesispytest"],
                            cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "GATE-12 Production Deployment (stage all): PASS" in result.stdout
    assert "66 passed, 2 skipped" in result.stdout
