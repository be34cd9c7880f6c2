"""The built wheel, installed in a fresh virtual environment, runs gate 12 on the example."""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
import sys
import zipfile
from email.parser import Parser
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import sys_tags
from packaging.utils import canonicalize_name

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


def test_wheel_ships_the_typed_marker(wheel: Path) -> None:
    """PEP 561: without py.typed a user's type checker ignores the package's annotations."""
    assert "pytest_deploygate/py.typed" in zipfile.ZipFile(wheel).namelist()


def runtime_closure(wheel: Path) -> list[metadata.Distribution]:
    """The installed distributions the wheel needs at run time: its Requires-Dist (no extras),
    followed transitively through this environment's metadata."""
    with zipfile.ZipFile(wheel) as archive:
        meta = archive.read(next(n for n in archive.namelist()
                                 if n.endswith(".dist-info/METADATA"))).decode()
    todo = list(Parser().parsestr(meta).get_all("Requires-Dist") or [])
    found: dict[str, metadata.Distribution] = {}
    while todo:
        requirement = Requirement(todo.pop())
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(requirement.name)
        if key in found:
            continue
        found[key] = dist = metadata.distribution(requirement.name)
        todo.extend(dist.requires or [])
    return list(found.values())


def repack(dist: metadata.Distribution, out: Path) -> Path:
    """Pack an installed distribution back into a wheel, so that a fresh venv gets the very
    versions this environment tested with, offline (pip's cache needs the index to be reached)."""
    wheel_info = Parser().parsestr(dist.read_text("WHEEL") or "")
    ours = {str(tag) for tag in sys_tags()}
    tag = next(t for t in wheel_info.get_all("Tag") or [] if t in ours)
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    info = f"{name}-{dist.version}.dist-info"
    target = out / f"{name}-{dist.version}-{tag}.whl"
    record = []
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in dist.files or []:
            # Scripts (../bin) are regenerated from entry_points.txt; install-time files and
            # bytecode belong to this environment, not to the distribution.
            if (str(file).startswith("..") or "__pycache__" in file.parts
                    or file.name in ("RECORD", "INSTALLER", "REQUESTED", "direct_url.json")):
                continue
            data = Path(str(dist.locate_file(file))).read_bytes()
            parts = file.parts
            arcname = "/".join((info, *parts[1:]) if parts[0].endswith(".dist-info") else parts)
            archive.writestr(arcname, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{arcname},sha256={digest.decode()},{len(data)}")
        archive.writestr(f"{info}/RECORD", "\n".join([*record, f"{info}/RECORD,,"]) + "\n")
    return target


@pytest.fixture(scope="module")
def wheelhouse(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel under test and, repacked from this environment, every dependency it has."""
    house = tmp_path_factory.mktemp("wheelhouse")
    shutil.copy(wheel, house)
    for dist in runtime_closure(wheel):
        repack(dist, house)
    return house


def test_installed_wheel_runs_the_gate(wheel: Path, wheelhouse: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # A venv of its own, without system site-packages: the wheel must bring its dependencies
    # (a missing one shows here as criteria with "evidence missing", not as an import error).
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    # --isolated: no pip configuration or PIP_* variables of this machine; --no-index: offline.
    installed = subprocess.run(
        [str(python), "-m", "pip", "--isolated", "install", "-q", "--no-index",
         "--find-links", str(wheelhouse), f"pytest-deploygate @ {wheel.as_uri()}"],
        capture_output=True, text=True)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    where = subprocess.run(
        [str(python), "-c", "import pytest_deploygate.spec.library as s; "
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
